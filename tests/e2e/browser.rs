//! Real-browser tests: headless Chromium through ChromeDriver (Debian's `chromium-headless-shell`
//! and `chromium-driver`, installed by `./scripts/test.sh`). Screenshots go to `target/screenshots/`.
//!
//! The browser is Chromium's headless shell: the same Blink and V8 as `chromium --headless=new`,
//! without the desktop browser's layers around them. On a 2-core machine the whole e2e binary took
//! 92–101 s with it against 122–132 s with `chromium --headless=new` (same build, same machine),
//! and every browser test passes on both (without the shell, the tests use `chromium --headless=new`). ChromeDriver
//! opens no first page in the shell unless it is told the browser it starts is one (`browserName`).
//!
//! Starting Chromium costs about a second of CPU, so a test that ends with [`Browser::close`]
//! hands its browser back to a pool and the next test starts from a blank page with no cookies.
//! A test that fails (or never calls `close`) kills its browser instead: a browser in an unknown
//! state is never reused.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::harness::*;

/// A headless Chromium session; back to the pool on [`Browser::close`], killed on drop otherwise.
pub struct Browser {
    pub client: Client,
    chromium: Option<Chromium>,
}

/// One ChromeDriver (in its own process group, with the Chromium it started) and its session.
struct Chromium {
    client: Client,
    driver: Child,
    port: u16,
    accepts_lab_ca: bool,
}

/// Chromium's headless shell, from Debian's `chromium-headless-shell`.
const HEADLESS_SHELL: &str = "/usr/bin/chromium-headless-shell";

/// Browsers a finished test handed back, ready for the next one.
static IDLE: Mutex<Vec<Chromium>> = Mutex::new(Vec::new());

/// The runtime WebDriver sessions live on: each test has its own runtime, which ends with the
/// test, and a pooled session must outlive the test that started it.
static SESSIONS: LazyLock<tokio::runtime::Runtime> =
    LazyLock::new(|| tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap());

impl Browser {
    pub async fn start() -> Self {
        Self::acquire(false).await
    }

    /// For a lab started with `--tls`: Chromium accepts the lab CA's certificates (as a browser
    /// that trusts the CA would) and negotiates HTTP/2 through ALPN.
    pub async fn start_tls() -> Self {
        Self::acquire(true).await
    }

    /// The protocol the current page was loaded with (`h2`, `http/1.1`).
    pub async fn protocol(&self) -> String {
        let js = "return performance.getEntriesByType('navigation')[0].nextHopProtocol";
        self.client.execute(js, vec![]).await.unwrap().as_str().unwrap_or_default().to_owned()
    }

    async fn acquire(accepts_lab_ca: bool) -> Self {
        loop {
            let idle = {
                let mut idle = IDLE.lock().unwrap();
                let found = idle.iter().position(|c| c.accepts_lab_ca == accepts_lab_ca);
                found.map(|i| idle.swap_remove(i))
            };
            let Some(mut chromium) = idle else { break };
            // A browser that cannot be reset (it crashed, say) is killed, and the next one tried.
            if chromium.reset().await.is_ok() {
                return Self { client: chromium.client.clone(), chromium: Some(chromium) };
            }
            chromium.kill();
        }
        let chromium = Chromium::launch(accepts_lab_ca).await;
        Self { client: chromium.client.clone(), chromium: Some(chromium) }
    }

    /// Lays pages out in a viewport `width` CSS pixels wide (a phone: 390), until the test ends.
    /// Not as a "mobile" device, which would zoom a too-wide page out to fit and hide the overflow.
    pub async fn viewport(&self, width: u32, height: u32) {
        let metrics = json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false });
        let chromium = self.chromium.as_ref().expect("a started browser");
        chromium.devtools("Emulation.setDeviceMetricsOverride", metrics).await.unwrap();
    }

    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    pub async fn text(&self) -> String {
        self.client.find(Locator::Css("body")).await.unwrap().text().await.unwrap()
    }

    /// The test is done with the browser: it goes back to the pool, for the next test to reset.
    pub async fn close(mut self) {
        if let Some(chromium) = self.chromium.take() {
            IDLE.lock().unwrap().push(chromium);
        }
    }
}

impl Drop for Browser {
    /// Without [`Browser::close`] (a failed assertion, say) the browser is killed, never reused.
    fn drop(&mut self) {
        if let Some(mut chromium) = self.chromium.take() {
            chromium.kill();
        }
    }
}

impl Chromium {
    async fn launch(accepts_lab_ca: bool) -> Self {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        // A process group of its own (a shell, ChromeDriver and the Chromium it starts), which
        // kills itself when its stdin closes: when the test binary exits, pooled browsers and all.
        let driver = Command::new("sh")
            .args(["-c", "chromedriver --port=$0 >/dev/null 2>&1 & cat >/dev/null; kill -9 0"])
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("sh starts chromedriver (./scripts/test.sh installs chromium-driver)");
        let profile = std::env::temp_dir().join(format!("xaa-e2e-chrome-{}-{port}", std::process::id()));
        // The headless shell when installed; else the desktop browser in its headless mode.
        let shell = std::path::Path::new(HEADLESS_SHELL).exists();
        let (browser, binary) =
            if shell { ("chrome-headless-shell", HEADLESS_SHELL) } else { ("chrome", "/usr/bin/chromium") };
        let flags = [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
            "--window-size=1280,900",
        ];
        let args: Vec<String> = (!shell)
            .then_some("--headless=new")
            .into_iter()
            .chain(flags)
            .map(str::to_owned)
            .chain([format!("--user-data-dir={}", profile.display())])
            .collect();
        let caps = json!({
            "browserName": browser,
            "acceptInsecureCerts": accepts_lab_ca,
            "goog:chromeOptions": { "binary": binary, "args": args }
        });
        let connect = async move {
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let attempt = ClientBuilder::native()
                    .capabilities(caps.as_object().unwrap().clone())
                    .connect(&format!("http://127.0.0.1:{port}"))
                    .await;
                match attempt {
                    Ok(client) => break client,
                    Err(e) if Instant::now() < deadline => {
                        let _ = e;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Err(e) => panic!(
                        "cannot start Chromium through ChromeDriver (./scripts/test.sh installs chromium-headless-shell and chromium-driver): {e}"
                    ),
                }
            }
        };
        let client = SESSIONS.spawn(connect).await.unwrap();
        Self { client, driver, port, accepts_lab_ca }
    }

    /// As a fresh browser: one window of 1280 × 900 showing a blank page, no cookies, no cache
    /// (cookies ignore ports, so one test's sign-in would otherwise carry into the next).
    async fn reset(&self) -> Result<(), String> {
        let c = &self.client;
        let windows = c.windows().await.map_err(|e| e.to_string())?;
        for extra in windows.iter().skip(1) {
            c.switch_to_window(extra.clone()).await.map_err(|e| e.to_string())?;
            c.close_window().await.map_err(|e| e.to_string())?;
        }
        if let Some(first) = windows.into_iter().next() {
            c.switch_to_window(first).await.map_err(|e| e.to_string())?;
        }
        c.goto("about:blank").await.map_err(|e| e.to_string())?;
        for cmd in ["Network.clearBrowserCookies", "Network.clearBrowserCache", "Emulation.clearDeviceMetricsOverride"]
        {
            self.devtools(cmd, json!({})).await?;
        }
        c.set_window_size(1280, 900).await.map_err(|e| e.to_string())
    }

    /// A Chrome DevTools Protocol command, through ChromeDriver.
    async fn devtools(&self, cmd: &str, params: serde_json::Value) -> Result<(), String> {
        let session = self.client.session_id().await.map_err(|e| e.to_string())?.ok_or("no session")?;
        let url = format!("http://127.0.0.1:{}/session/{session}/goog/cdp/execute", self.port);
        let body = json!({ "cmd": cmd, "params": params });
        let resp = reqwest::Client::new().post(url).json(&body).send().await.map_err(|e| e.to_string())?;
        if resp.status().is_success() { Ok(()) } else { Err(format!("{cmd}: {}", resp.status())) }
    }

    fn kill(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The `name=value` parameters of a request as the explorer shows it (`#request-{n}`): the body
/// lines after the blank line, the first bare and the others after `&`; masked values left out.
pub fn shown_parameters(request: &str) -> Vec<(String, String)> {
    let body = request.split_once("\n\n").map_or("", |(_, b)| b);
    body.lines()
        .filter_map(|l| l.trim_start_matches('&').split_once('='))
        .filter(|(_, v)| !v.contains("chars)"))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Asserts that step `n`'s curl code (`page`: the explorer's HTML, unescaped) sends every
/// parameter its request showed, with the same value.
pub fn assert_code_repeats_request(request: &str, curl: &str) {
    let params = shown_parameters(request);
    assert!(!params.is_empty(), "no parameters in {request}");
    for (name, value) in params {
        // The code names the client by variable, so a developer runs it as their own app.
        if name == "client_id" {
            assert!(
                curl.contains("\"client_id=$CLIENT_ID\"") || curl.contains("\"client_id=$RESOURCE_CLIENT_ID\""),
                "{curl}"
            );
            continue;
        }
        assert!(
            curl.contains(&format!("{name}={value}")),
            "the code does not send {name}={value}:\n{curl}\nrequest:\n{request}"
        );
    }
}

/// The text of step `n`'s request and of its first code snippet (curl), even when folded away.
pub async fn request_and_curl(b: &Client, n: usize) -> (String, String) {
    let js = format!(
        "return [document.querySelector('#request-{n}').textContent, (document.querySelector('#step-{n} pre.snippet') || {{}}).textContent || '']"
    );
    let both = b.execute(&js, vec![]).await.unwrap();
    (both[0].as_str().unwrap().to_owned(), both[1].as_str().unwrap().to_owned())
}

fn screenshot_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(|d| d.parent()).and_then(|d| d.parent()).unwrap().join("screenshots")
}

#[tokio::test]
async fn unregistered_redirect_shows_an_error_page_in_chromium() {
    let lab = TestLab::start().await;
    let browser = Browser::start().await;
    let url = lab.authorize_url(CLIENT, "https://attacker.example/cb", &[]);
    browser.client.goto(&url).await.unwrap();
    let text = browser.text().await;
    assert!(text.contains("Redirect URI not registered"), "{text}");
    assert!(text.contains("http://localhost:3000/auth/callback"));
    assert!(browser.client.current_url().await.unwrap().as_str().starts_with(lab.idp()), "never redirected");
    browser.screenshot("idp-error-redirect-uri").await;
    browser.close().await;
}

#[tokio::test]
async fn console_home_in_chromium() {
    let lab = TestLab::start().await;
    let browser = Browser::start().await;
    browser.client.goto(&lab.lab.urls().console).await.unwrap();
    assert_eq!(browser.client.title().await.unwrap(), "XAA Lab console");
    // What a newcomer reads first: why XAA exists, ID-JAG spelled out, then one obvious action.
    let why = browser.client.find(Locator::Css("main p")).await.unwrap().text().await.unwrap();
    assert!(why.starts_with("Classic OAuth asks each user to consent, app by app, and IT never sees"), "{why}");
    let first_link = browser.client.find(Locator::Css("main a")).await.unwrap();
    assert_eq!(first_link.attr("href").await.unwrap().as_deref(), Some("/explorer"));
    let text = browser.text().await;
    assert!(text.contains("Identity Assertion JWT Authorization Grant") && text.contains("IT's policy"), "{text}");
    for expected in ["The four steps", "Token exchange", "Bring your own requestor", "alice@acme.example"] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
    let dotenv = browser.client.find(Locator::Id("dotenv")).await.unwrap().text().await.unwrap();
    assert!(dotenv.contains(&format!("IDP_URL={}", lab.idp())));
    assert!(dotenv.contains("RESOURCE_CLIENT_ID=my-requestor-at-todo0"));
    // The IdP link leads to real discovery metadata.
    let link = browser.client.find(Locator::LinkText(lab.idp())).await.unwrap();
    link.click().await.unwrap();
    assert!(browser.text().await.contains("identity_chaining_requested_token_types_supported"));
    browser.client.back().await.unwrap();
    browser.screenshot("console-home").await;
    browser.close().await;
}

#[tokio::test]
async fn the_live_trace_receives_a_notes_flow_in_chromium() {
    let lab = TestLab::start().await;
    let browser = Browser::start().await;
    let b = &browser.client;
    b.goto(&format!("{}/trace", lab.lab.urls().console)).await.unwrap();
    assert_eq!(b.title().await.unwrap(), "Live trace · XAA Lab");
    // Wait until the page's event stream is connected, then drive a flow from outside the page.
    let deadline = Instant::now() + Duration::from_secs(10);
    while b.find(Locator::Id("live")).await.unwrap().text().await.unwrap() != "● live" {
        assert!(Instant::now() < deadline, "the live trace never connected");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let notes = lab.notes_login("grace@acme.example").await;
    assert_eq!(lab.notes_page(&notes, "/notes").await.0, 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = browser.text().await;
        if text.contains("jwt-bearer") && text.contains("grace@acme.example") && text.contains("todo API") {
            break;
        }
        assert!(Instant::now() < deadline, "the flow never appeared live: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The flow is named by its requestor and user, as the full page names it, whatever the last
    // live row's client (the resource-AS client id of jwt-bearer and API calls).
    let heading = b.find(Locator::Css("section.trace-flow h3")).await.unwrap().text().await.unwrap();
    assert!(heading.contains("lab-notes ·") && heading.contains("grace@acme.example"), "{heading}");
    // Open the jwt-bearer request: the checks the authorization server ran are listed. (Live
    // refreshes may still be arriving, so open it until it stays open.)
    let open = "document.querySelectorAll('details.event').forEach(function (d) { if (d.textContent.includes('jwt-bearer')) d.open = true; })";
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        b.execute(open, vec![]).await.unwrap();
        let text = browser.text().await;
        if text.contains("What the server checked") && text.contains("✓ signature") {
            break;
        }
        assert!(Instant::now() < deadline, "the checks never showed: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser.screenshot("console-live-trace").await;
    // The flow's own page draws it as a sequence diagram.
    b.find(Locator::LinkText("sequence diagram")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Css(".diagram")).await.unwrap();
    let diagram = b.find(Locator::Css(".diagram")).await.unwrap().text().await.unwrap();
    for lane in ["lab-notes", "IdP", "Resource AS", "Todo API"] {
        assert!(diagram.contains(lane), "{lane} in {diagram}");
    }
    assert!(diagram.contains("(jwt-bearer)") && diagram.contains("← 200"), "{diagram}");
    browser.screenshot("console-flow-diagram").await;
    browser.close().await;
}

#[tokio::test]
async fn a_tampered_id_jag_fails_the_signature_check_in_the_inspector() {
    let lab = TestLab::start().await;
    let browser = Browser::start().await;
    the_inspector_refuses_a_tampered_id_jag(&lab, &browser).await;
    browser.close().await;
}

pub async fn the_inspector_refuses_a_tampered_id_jag(lab: &TestLab, browser: &Browser) {
    let login = lab.login("alice@acme.example").await;
    let jag = lab.id_jag(&login.id_token).await;
    let (_, claims) = decode(&jag);
    let mut claims = claims.as_object().unwrap().clone();
    claims.insert("scope".into(), "todos.admin".into());
    let forged = sign(&untrusted_key("idp-2026-01"), "oauth-id-jag+jwt", &claims);
    let tampered = format!("{}.{}", &forged[..forged.rfind('.').unwrap()], &jag[jag.rfind('.').unwrap() + 1..]);

    let b = &browser.client;
    b.goto(&format!("{}/inspect", lab.lab.urls().console)).await.unwrap();
    b.find(Locator::Id("token")).await.unwrap().send_keys(&tampered).await.unwrap();
    b.find(Locator::Id("inspect")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Id("verdict")).await.unwrap();
    let refusal = b.find(Locator::Id("refusal")).await.unwrap().text().await.unwrap();
    assert!(refusal.contains("signature does not verify"), "{refusal}");
    let checks = b.find(Locator::Id("checks")).await.unwrap().text().await.unwrap();
    assert!(checks.contains("✗ signature"), "{checks}");
    assert!(browser.text().await.contains("ID-JAG (Identity Assertion JWT Authorization Grant)"));
    browser.screenshot("console-inspector-tampered").await;
}

/// Step 1 of the flow explorer in Chromium: `email` signs in on the IdP's real login pages.
pub async fn explorer_sign_in(lab: &TestLab, browser: &Browser, email: &str) {
    let b = &browser.client;
    b.goto(&format!("{}/explorer", lab.lab.urls().console)).await.unwrap();
    explorer_sign_in_here(lab, browser, email).await;
}

/// Step 1 of the flow explorer in Chromium from the explorer page already open (its other fields
/// set): `email` signs in on the IdP's real login pages.
pub async fn explorer_sign_in_here(lab: &TestLab, browser: &Browser, email: &str) {
    let b = &browser.client;
    assert_eq!(b.title().await.unwrap(), "Flow explorer · XAA Lab");
    b.find(Locator::Id("email")).await.unwrap().send_keys(email).await.unwrap();
    b.find(Locator::Id("run-1")).await.unwrap().click().await.unwrap();
    // The IdP's real login pages, with the email pre-filled from the explorer. (The explorer has
    // an `email` field too: wait for the IdP's page before looking for it.)
    let deadline = Instant::now() + Duration::from_secs(15);
    while !b.current_url().await.unwrap().as_str().starts_with(lab.idp()) {
        assert!(Instant::now() < deadline, "the explorer never sent the browser to the IdP");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    b.wait().for_element(Locator::Id("email")).await.unwrap();
    assert!(browser.text().await.contains("to continue to XAA Lab flow explorer"));
    b.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Id("code")).await.unwrap();
    b.find(Locator::Id("code")).await.unwrap().send_keys("112233").await.unwrap();
    b.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Id("status-1")).await.unwrap();
    assert_eq!(b.find(Locator::Id("status-1")).await.unwrap().text().await.unwrap(), "200 OK");
}

/// Runs explorer step `n` in Chromium; returns its status badge.
pub async fn explorer_step(b: &Client, n: usize) -> String {
    // The step's badge may already be on the page from an earlier run: mark this page, and read the
    // badge only on the page the form's post brings back.
    b.execute("document.documentElement.dataset.before = 'run'", vec![]).await.unwrap();
    b.find(Locator::Id(&format!("run-{n}"))).await.unwrap().click().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let marked = b.execute("return document.documentElement.dataset.before === 'run'", vec![]).await;
        if marked.is_ok_and(|v| v == serde_json::Value::Bool(false)) {
            break;
        }
        assert!(Instant::now() < deadline, "step {n}: the explorer's page never came back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    b.wait().for_element(Locator::Id(&format!("status-{n}"))).await.unwrap();
    b.find(Locator::Id(&format!("status-{n}"))).await.unwrap().text().await.unwrap()
}

#[tokio::test]
async fn the_flow_explorer_in_chromium() {
    let lab = TestLab::start().await;
    let browser = Browser::start().await;
    the_explorer_runs_the_four_steps(&lab, &browser).await;
    a_refusal_resting_on_a_lab_decision_is_labelled(&lab, &browser).await;
    browser.close().await;
}

/// The texts of the elements `css` finds inside `li`.
async fn texts_in(li: &fantoccini::elements::Element, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in li.find_all(Locator::Css(css)).await.unwrap() {
        out.push(e.text().await.unwrap());
    }
    out
}

/// After the four steps: a check resting on a lab decision carries its label and why, a MUST
/// check none. IT narrows the explorer's connection to `todos.read`, so step 2 (asking for
/// `todos.write` too) is refused by check `policy`, which rests on lab decision A14.
async fn a_refusal_resting_on_a_lab_decision_is_labelled(lab: &TestLab, browser: &Browser) {
    use xaa_core::spec;
    let b = &browser.client;
    // Step 3 passed: `kid` rests on lab decision A13, `signature` on RFC 7523 (a MUST). Step 4 ran
    // after it, so step 3 is folded: open its checks as a learner would.
    b.find(Locator::Css("#step-3 details:has(#checks-3) > summary")).await.unwrap().click().await.unwrap();
    for li in b.find_all(Locator::Css("#checks-3 li")).await.unwrap() {
        let text = li.text().await.unwrap();
        let tags = texts_in(&li, ".decision-tag").await;
        if text.starts_with("✓ kid") {
            assert_eq!(tags, ["lab decision A13"], "{text}");
        } else if text.starts_with("✓ signature") || text.starts_with("✓ typ") {
            assert!(tags.is_empty(), "a MUST check shows no label: {text}");
        }
    }
    let narrowed = json!({ "client_id": "lab-explorer", "scopes": ["todos.read"] });
    let resp = lab.admin(reqwest::Method::PUT, "/api/admin/connections").json(&narrowed).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(explorer_step(b, 2).await.starts_with("400"));
    // The refusal leads the step, above the request: the error_description (wrapped, never wider
    // than its box) and the check that failed, with what it rests on.
    let refusal = b.find(Locator::Id("refusal-2")).await.unwrap();
    let description = b.find(Locator::Id("error-description-2")).await.unwrap().text().await.unwrap();
    assert!(description.starts_with("error_description: scope 'todos.write' is not allowed"), "{description}");
    let geometry = b
        .execute(
            "const r = document.getElementById('refusal-2'), q = document.getElementById('request-2'),\n\
             d = document.getElementById('error-description-2');\n\
             return [r.getBoundingClientRect().top < q.getBoundingClientRect().top, d.scrollWidth <= d.clientWidth,\n\
             r.getBoundingClientRect().right <= document.documentElement.clientWidth]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(geometry, json!([true, true, true]), "above the request, wrapped, inside the page");
    let refused = refusal.find(Locator::Css("li.fail")).await.unwrap();
    let text = refused.text().await.unwrap();
    assert!(text.starts_with("✗ policy: scope \"todos.write\" is not allowed"), "{text}");
    assert_eq!(texts_in(&refused, ".decision-tag").await, ["lab decision A14"], "{text}");
    assert_eq!(texts_in(&refused, ".decision-why").await, [spec::LAB_A14.why], "{text}");
    assert!(text.contains("(draft-ietf-oauth-identity-assertion-authz-grant-04 §4.3.3, RFC 6749 §5.2)"), "{text}");
    // What passed is folded under its tally; opened, it carries no label on a MUST.
    let tally = b.find(Locator::Id("tally-2")).await.unwrap().text().await.unwrap();
    assert!(tally.starts_with("1 failed (above), ") && tally.ends_with(" passed"), "{tally}");
    assert!(!b.find(Locator::Id("checks-2")).await.unwrap().is_displayed().await.unwrap(), "folded");
    b.find(Locator::Css("#step-2 details:has(#checks-2) > summary")).await.unwrap().click().await.unwrap();
    let passed = b.find_all(Locator::Css("#checks-2 li.pass")).await.unwrap();
    assert!(!passed.is_empty());
    for li in passed {
        let text = li.text().await.unwrap();
        assert!(!text.is_empty(), "shown once opened");
        assert!(texts_in(&li, ".decision-tag").await.is_empty(), "a MUST check shows no label: {text}");
    }
    b.execute("document.getElementById('refusal-2').scrollIntoView({ block: 'center' })", vec![]).await.unwrap();
    browser.screenshot("console-flow-explorer-lab-decision").await;
}

pub async fn the_explorer_runs_the_four_steps(lab: &TestLab, browser: &Browser) {
    let b = &browser.client;
    explorer_sign_in(lab, browser, "heidi@acme.example").await;
    assert!(b.find(Locator::Id("claims-1-id_token")).await.is_ok(), "step 1 decodes the ID token");
    assert_eq!(explorer_step(b, 2).await, "200 OK");
    let request = b.find(Locator::Id("request-2")).await.unwrap().text().await.unwrap();
    assert!(request.contains("subject_token_type=urn:ietf:params:oauth:token-type:id_token"), "{request}");
    assert!(request.contains("chars)"), "the ID token is masked: {request}");
    let claims = b.find(Locator::Id("claims-2-access_token")).await.unwrap().text().await.unwrap();
    assert!(claims.contains("The resource AS's issuer identifier"), "{claims}");
    // The ID token step 2 sent is step 1's: not decoded a second time.
    assert!(b.find(Locator::Id("claims-2-subject_token")).await.is_err());
    let shown_before = b.find(Locator::Id("shown-before-2")).await.unwrap().text().await.unwrap();
    assert_eq!(shown_before, "subject_token: the ID token of step 1, decoded there");
    assert_eq!(explorer_step(b, 3).await, "200 OK");
    let checks = b.find(Locator::Id("checks-3")).await.unwrap().text().await.unwrap();
    assert!(checks.contains("✓ typ") && checks.contains("✓ jti"), "{checks}");
    let tally = b.find(Locator::Id("tally-3")).await.unwrap().text().await.unwrap();
    assert!(tally.starts_with("all ") && tally.ends_with(" passed"), "{tally}");
    assert_eq!(explorer_step(b, 4).await, "200 OK");
    let response = b.find(Locator::Id("response-4")).await.unwrap().text().await.unwrap();
    assert!(response.contains("\"success\": true"), "{response}");
    // The last step is open, the ones before it folded to their badges and summaries.
    for (id, open) in [("request-1", false), ("request-2", false), ("checks-3", false), ("request-4", true)] {
        assert_eq!(b.find(Locator::Id(id)).await.unwrap().is_displayed().await.unwrap(), open, "{id}");
    }
    browser.screenshot("console-flow-explorer").await;
}

/// The explorer's own check of a token response, failed: the authorization server's response names
/// a resource the explorer did not ask for, so the access token is discarded and step 4 is off.
#[tokio::test]
async fn the_explorer_shows_its_failed_resource_check_in_chromium() {
    let lab = TestLab::start().await;
    lab.break_it(xaa_lab::faults::Fault::GrantWrongResource, &[]);
    let browser = Browser::start().await;
    let b = &browser.client;
    explorer_sign_in(&lab, &browser, "ivan@acme.example").await;
    assert_eq!(explorer_step(b, 2).await, "200 OK");
    let own = b.find(Locator::Id("client-checks-2")).await.unwrap().text().await.unwrap();
    assert!(own.starts_with("✓ resource: the response's resource ("), "{own}");
    assert_eq!(explorer_step(b, 3).await, "200 OK, token discarded: resource not asked for");
    // The failed check leads the step; the explorer's list of checks is folded under its tally.
    let own = b.find(Locator::Id("failed-3")).await.unwrap().text().await.unwrap();
    assert!(own.starts_with("✗ resource: the response names resource \"https://api.not-asked-for.example\""), "{own}");
    assert_eq!(b.find(Locator::Id("client-tally-3")).await.unwrap().text().await.unwrap(), "1 failed (above)");
    assert!(browser.text().await.contains("What the explorer checked (as every requestor must)"));
    let run4 = b.find(Locator::Id("run-4")).await.unwrap();
    assert_eq!(run4.attr("disabled").await.unwrap().as_deref(), Some("true"), "no access token to call the API with");
    b.execute("document.getElementById('refusal-3').scrollIntoView({ block: 'center' })", vec![]).await.unwrap();
    browser.screenshot("console-flow-explorer-resource-check").await;
    browser.close().await;
}
