//! The `lab` binary itself: `--ready-file`, the banner, `lab env`, graceful Ctrl+C, and logs that
//! never show secrets. `./scripts/test.sh` builds the binary before the tests run.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::*;

/// `target/<profile>/lab`, next to the test binary's `deps/` directory.
pub fn lab_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|d| d.parent()).unwrap();
    let bin = dir.join("lab");
    assert!(bin.exists(), "{} is missing: run `cargo build --bin lab` first (./scripts/test.sh does)", bin.display());
    bin
}

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xaa-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub struct Running {
    child: Child,
    pub ready: Value,
}

impl Running {
    pub fn start(args: &[&str], dir: &std::path::Path) -> Self {
        let ready_file = dir.join("ready.json");
        let child = Command::new(lab_binary())
            .args(["--ephemeral-ports", "--in-memory", "--ready-file"])
            .arg(&ready_file)
            .args(args)
            .current_dir(dir)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !ready_file.exists() {
            assert!(Instant::now() < deadline, "lab did not write its ready file");
            std::thread::sleep(Duration::from_millis(20));
        }
        let ready = serde_json::from_slice(&std::fs::read(&ready_file).unwrap()).unwrap();
        Self { child, ready }
    }

    /// Sends SIGINT (Ctrl+C) and returns (exit success, stdout, stderr).
    pub fn interrupt(self) -> (bool, String, String) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
        let out = self.child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

#[tokio::test]
async fn ready_file_banner_and_graceful_stop() {
    let dir = temp_dir("ready");
    let lab = Running::start(&[], &dir);
    let r = &lab.ready.clone();
    let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["idp", "authorization_server", "todo_api", "notes", "console", "ca_cert", "env", "admin_token", "join_code"]
    );
    let join_code = r["join_code"].as_str().unwrap().to_owned();
    assert!(
        join_code.len() >= 8 && join_code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
        "{join_code}"
    );
    let admin_token = r["admin_token"].as_str().unwrap().to_owned();
    assert!(admin_token.len() >= 32, "the admin token is long enough to guess never");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(dir.join("ready.json")).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "the ready file holds the admin token: owner only");
    let env_keys: Vec<&str> = r["env"].as_object().unwrap().keys().map(String::as_str).collect();
    let expected = [
        "IDP_URL",
        "AUTH_SERVER_URL",
        "TODO_RESOURCE_SERVER",
        "REDIRECT_URI",
        "CLIENT_ID",
        "CLIENT_SECRET",
        "RESOURCE_CLIENT_ID",
        "RESOURCE_CLIENT_SECRET",
        "SESSION_SECRET",
    ];
    assert_eq!(env_keys, expected);
    assert_eq!(r["env"]["IDP_URL"], r["idp"]);
    assert_eq!(r["env"]["AUTH_SERVER_URL"], r["authorization_server"]);
    assert_eq!(r["env"]["TODO_RESOURCE_SERVER"], r["todo_api"]);
    assert_eq!(r["env"]["CLIENT_ID"], CLIENT);
    assert_eq!(r["env"]["RESOURCE_CLIENT_ID"], RESOURCE_CLIENT);
    assert_eq!(r["env"]["REDIRECT_URI"], REDIRECT);
    assert_eq!(r["ca_cert"], Value::Null);
    assert!(r["notes"].as_str().unwrap().starts_with("http://localhost:"));

    let http = reqwest::Client::new();
    let idp = r["idp"].as_str().unwrap();
    let meta: Value =
        http.get(format!("{idp}/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    assert_eq!(meta["issuer"], idp);
    let console = http.get(r["console"].as_str().unwrap()).send().await.unwrap().text().await.unwrap();
    assert!(console.contains("RESOURCE_CLIENT_SECRET=my-requestor-at-todo0-secret-not-for-production"));

    let (ok, stdout, _) = lab.interrupt();
    assert!(ok, "Ctrl+C exits with status 0");
    assert!(stdout.contains("XAA Lab is running"));
    assert!(stdout.contains(&format!("IdP (issuer)                    {idp}")));
    assert!(stdout.contains("any 6-digit code"));
    assert!(stdout.contains("CLIENT_ID=my-requestor"));
    assert!(stdout.contains(&format!("/admin?token={admin_token}")), "the banner links the admin pages");
    assert!(stdout.contains(&format!("/join with the join code:  {join_code}")), "the banner prints the join code");
}

#[tokio::test]
async fn the_join_code_flag_sets_the_code() {
    let dir = temp_dir("join");
    let lab = Running::start(&["--join-code", "room-7", "--max-joins", "5"], &dir);
    assert_eq!(lab.ready["join_code"], "room-7");
    let (ok, stdout, _) = lab.interrupt();
    assert!(ok);
    assert!(stdout.contains("/join with the join code:  room-7"), "{stdout}");
}

#[tokio::test]
async fn tls_mode_writes_the_ca_and_serves_https() {
    let dir = temp_dir("tls");
    let lab = Running::start(&["--tls"], &dir);
    let r = &lab.ready.clone();
    let idp = r["idp"].as_str().unwrap();
    assert!(idp.starts_with("https://localhost:"));
    let ca = std::fs::read(r["ca_cert"].as_str().unwrap()).unwrap();
    let http =
        reqwest::Client::builder().add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap()).build().unwrap();
    let meta: Value =
        http.get(format!("{idp}/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    assert_eq!(meta["token_endpoint"], format!("{idp}/token"));
    let untrusting = reqwest::Client::new();
    assert!(untrusting.get(idp).send().await.is_err(), "a client without the lab CA refuses the certificate");
    let (ok, stdout, _) = lab.interrupt();
    assert!(ok);
    assert!(stdout.contains("NODE_EXTRA_CA_CERTS="));
}

#[tokio::test]
async fn logs_never_show_client_secrets_or_tokens() {
    let dir = temp_dir("logs");
    let lab = Running::start(&[], &dir);
    let idp = lab.ready["idp"].as_str().unwrap().to_owned();
    let fake_token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtc3ViamVjdC10b2tlbiJ9.c2lnbmF0dXJlLXNlY3JldA";
    let resp = reqwest::Client::new()
        .post(format!("{idp}/token"))
        .form(
            &TokenExchangeRequest {
                subject_token: fake_token.to_owned(),
                subject_token_type: SubjectTokenType::IdToken,
                audience: vec![],
                resource: vec![],
                scope: None,
            }
            .to_form_posting(CLIENT, SECRET),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let (_, _, stderr) = lab.interrupt();
    assert!(stderr.contains("IdP token request refused"), "the refusal is logged: {stderr}");
    assert!(!stderr.contains(SECRET), "client secret leaked into the log");
    assert!(!stderr.contains(fake_token), "subject token leaked into the log");
}

#[test]
fn lab_env_prints_the_tutorial_variables() {
    let out = Command::new(lab_binary()).arg("env").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text,
        "IDP_URL=http://localhost:4401\n\
         AUTH_SERVER_URL=http://localhost:4402\n\
         TODO_RESOURCE_SERVER=http://localhost:4403\n\
         REDIRECT_URI=http://localhost:3000/auth/callback\n\
         CLIENT_ID=my-requestor\n\
         CLIENT_SECRET=my-requestor-secret-not-for-production\n\
         RESOURCE_CLIENT_ID=my-requestor-at-todo0\n\
         RESOURCE_CLIENT_SECRET=my-requestor-at-todo0-secret-not-for-production\n\
         SESSION_SECRET=xaa-lab-session-secret-change-me-outside-the-lab\n"
    );
    let tls = Command::new(lab_binary()).args(["env", "--tls"]).output().unwrap();
    let text = String::from_utf8(tls.stdout).unwrap();
    assert!(text.starts_with("IDP_URL=https://localhost:4401\nAUTH_SERVER_URL=https://localhost:4402\n"), "{text}");
    assert!(String::from_utf8(tls.stderr).unwrap().contains("NODE_EXTRA_CA_CERTS="));
}

#[test]
fn keys_new_prints_a_pem_that_loads() {
    let out = Command::new(lab_binary()).args(["keys", "new", "--kid", "idp-test"]).output().unwrap();
    assert!(out.status.success());
    let pem = String::from_utf8(out.stdout).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    let key = xaa_core::jose::SigningKey::from_pem("idp-test", &pem).unwrap();
    assert_eq!(key.public_jwk()["kid"], "idp-test");
}

/// Signs alice in to the notes app of a running `lab` binary and shows her notes; returns stderr.
async fn notes_session_log(extra: &[&str], name: &str) -> String {
    let dir = temp_dir(name);
    let lab = Running::start(extra, &dir);
    let (notes, idp) = (lab.ready["notes"].as_str().unwrap().to_owned(), lab.ready["idp"].as_str().unwrap().to_owned());
    let browser = client(None);
    let start = browser.get(format!("{notes}/auth/login")).send().await.unwrap();
    let callback = login_via_pages(&idp, &browser, &location(&start), "alice@acme.example").await;
    assert_eq!(browser.get(&callback).send().await.unwrap().status(), 303);
    let page = browser.get(format!("{notes}/notes")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("todo-title"), "the notes page lists todos");
    lab.interrupt().2
}

#[tokio::test]
async fn the_oauth_http_log_masks_secrets_unless_revealed() {
    let log = notes_session_log(&[], "oauth-log").await;
    for expected in [
        "→ POST localhost:",
        "grant_type=urn:ietf:params:oauth:grant-type:token-exchange",
        "requested_token_type=urn:ietf:params:oauth:token-type:id-jag",
        "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer",
        "subject_token=eyJ",
        "assertion=eyJ",
        "/api/todos",
        "← 200 OK",
    ] {
        assert!(log.contains(expected), "{expected:?} missing from the OAuth HTTP log:\n{log}");
    }
    assert!(log.contains("chars)"), "masked values show their length");
    assert!(!log.contains("lab-notes-secret-not-for-production"), "IdP client secret leaked");
    assert!(!log.contains("lab-notes-at-todo0-secret-not-for-production"), "resource client secret leaked");

    let revealed = notes_session_log(&["--reveal-secrets"], "oauth-log-reveal").await;
    assert!(revealed.contains("client_secret=lab-notes-at-todo0-secret-not-for-production"), "{revealed}");
}

#[tokio::test]
async fn fixtures_and_keys_can_be_overridden() {
    let dir = temp_dir("overrides");
    let fixtures = dir.join("fixtures");
    let keys = dir.join("keys");
    std::fs::create_dir_all(&fixtures).unwrap();
    std::fs::create_dir_all(&keys).unwrap();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    for f in ["clients.json", "policy.json", "todos.json"] {
        std::fs::copy(repo.join(f), fixtures.join(f)).unwrap();
    }
    std::fs::write(fixtures.join("users.json"), r#"[{"email": "zoe@override.example", "name": "Zoe Override"}]"#)
        .unwrap();
    for kid in ["idp-2099-01", "resource-as-2099-01"] {
        let out = Command::new(lab_binary()).args(["keys", "new", "--kid", kid]).output().unwrap();
        std::fs::write(keys.join(format!("{kid}.pem")), out.stdout).unwrap();
    }
    let lab = Running::start(&["--fixtures", fixtures.to_str().unwrap(), "--keys", keys.to_str().unwrap()], &dir);
    let http = reqwest::Client::new();
    let console = http.get(lab.ready["console"].as_str().unwrap()).send().await.unwrap().text().await.unwrap();
    assert!(console.contains("zoe@override.example") && !console.contains("alice@acme.example"));
    let jwks: Value =
        http.get(format!("{}/jwks", lab.ready["idp"].as_str().unwrap())).send().await.unwrap().json().await.unwrap();
    assert_eq!(jwks["keys"][0]["kid"], "idp-2099-01");
    let (ok, _, _) = lab.interrupt();
    assert!(ok);
}

#[test]
fn a_broken_fixture_is_named_in_the_error() {
    let dir = temp_dir("broken");
    std::fs::write(dir.join("clients.json"), "[ not json").unwrap();
    let out =
        Command::new(lab_binary()).args(["--ephemeral-ports", "--in-memory", "--fixtures"]).arg(&dir).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("clients.json"), "{stderr}");
}

/// `lab token KIND ARGS --ready-file F`: the minted endpoint JSON.
fn minted(ready_file: &std::path::Path, kind: &str, args: &[&str]) -> Value {
    let out = Command::new(lab_binary())
        .args(["token", kind])
        .args(args)
        .arg("--ready-file")
        .arg(ready_file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn minted_tokens_work_against_the_running_lab_and_overrides_are_refused() {
    let dir = temp_dir("mint");
    let lab = Running::start(&[], &dir);
    let ready = dir.join("ready.json");
    let (idp, authz, api) = (
        lab.ready["idp"].as_str().unwrap().to_owned(),
        lab.ready["authorization_server"].as_str().unwrap().to_owned(),
        lab.ready["todo_api"].as_str().unwrap().to_owned(),
    );
    let http = reqwest::Client::new();
    let post = |url: String, form: Vec<(&'static str, String)>| {
        let http = http.clone();
        async move { http.post(url).form(&form).send().await.unwrap() }
    };

    // An ID token for the bring-your-own client: the IdP exchanges it.
    let id = minted(&ready, "id-token", &["--email", "zed@acme.example"]);
    let id_token = id["id_token"].as_str().unwrap().to_owned();
    let exchange = |subject: String| {
        let request = TokenExchangeRequest {
            subject_token: subject,
            subject_token_type: SubjectTokenType::IdToken,
            audience: vec![Issuer::new(authz.as_str())],
            resource: vec![ResourceUri::new(api.as_str())],
            scope: None,
        };
        request.to_form_posting(CLIENT, SECRET)
    };
    assert_eq!(post(format!("{idp}/token"), exchange(id_token)).await.status(), 200);

    // An ID-JAG: the authorization server grants an access token; the access token: the API answers.
    let bearer = |assertion: String| JwtBearerRequest::new(assertion).to_form_posting(RESOURCE_CLIENT, RESOURCE_SECRET);
    let jag = minted(&ready, "id-jag", &[]);
    assert_eq!(jag["token_type"], "N_A");
    assert_eq!(
        post(format!("{authz}/token"), bearer(jag["access_token"].as_str().unwrap().to_owned())).await.status(),
        200
    );
    let at = minted(&ready, "access-token", &["--scope", "todos.read"]);
    let list =
        http.get(format!("{api}/api/todos")).bearer_auth(at["access_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(list.status(), 200);

    // Overrides for negative tests get the exact refusals.
    let expired = minted(&ready, "id-jag", &["--expired"]);
    let d = assert_oauth_error(
        post(format!("{authz}/token"), bearer(expired["access_token"].as_str().unwrap().to_owned())).await,
        400,
        "invalid_grant",
    )
    .await;
    assert!(d.contains("expired"), "{d}");
    let wrong_typ = minted(&ready, "id-jag", &["--typ", "JWT"]);
    let d = assert_oauth_error(
        post(format!("{authz}/token"), bearer(wrong_typ["access_token"].as_str().unwrap().to_owned())).await,
        400,
        "invalid_grant",
    )
    .await;
    assert!(d.contains("typ"), "{d}");
    let other_aud = minted(&ready, "access-token", &["--aud", "https://elsewhere.example"]);
    let refused = http
        .get(format!("{api}/api/todos"))
        .bearer_auth(other_aud["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert!(refused.headers()["www-authenticate"].to_str().unwrap().contains("error=\"invalid_token\""));
    assert!(lab.interrupt().0);
}

#[test]
fn deterministic_minting_is_byte_identical() {
    let mint = |args: &[&str]| {
        let out = Command::new(lab_binary()).args(["token", "id-jag"]).args(args).output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(mint(&["--deterministic", "9"]), mint(&["--deterministic", "9"]));
    assert_ne!(mint(&["--deterministic", "9"]), mint(&["--deterministic", "10"]));
    assert_ne!(mint(&[]), mint(&[]), "without it, every jti is fresh");
    let jag: Value = serde_json::from_str(&mint(&["--deterministic"])).unwrap();
    let (_, claims) = decode(jag["access_token"].as_str().unwrap());
    assert_eq!(claims["iat"], xaa_lab::DETERMINISTIC_EPOCH);
}
