//! The flow explorer with a refresh token as step 2's subject token (draft §4.3.3): step 1 asks
//! for `offline_access`, step 2 presents the refresh token with its exact `subject_token_type`, the
//! ID-JAG it yields runs steps 3 and 4, and the IdP's refusal of an expired refresh token is shown
//! with its exact body. Time moves on the lab clock; nothing sleeps.

use fantoccini::Locator;
use reqwest::StatusCode;
use xaa_core::urn;
use xaa_lab::observe::trace::{Direction, TraceFilter};

use crate::browser::{Browser, explorer_step};
use crate::harness::*;

const ALICE: &str = "alice@acme.example";

/// `html` with the escapes askama writes for quotes undone.
fn unescaped(html: &str) -> String {
    html.replace("&#34;", "\"").replace("&#39;", "'").replace("&quot;", "\"").replace("&#38;", "&")
}

async fn explorer_page(lab: &TestLab, browser: &reqwest::Client) -> String {
    let url = format!("{}/explorer", lab.console());
    unescaped(&browser.get(url).send().await.unwrap().text().await.unwrap())
}

/// Step 1 with the "also get a refresh token" box ticked when `offline`; returns the CSRF token.
async fn sign_in(lab: &TestLab, browser: &reqwest::Client, offline: bool) -> String {
    let csrf = hidden(&explorer_page(lab, browser).await, "csrf");
    let mut form = vec![("csrf", csrf.as_str()), ("email", ALICE)];
    if offline {
        form.push(("offline", "on"));
    }
    let start = browser.post(format!("{}/explorer/start", lab.console())).form(&form).send().await.unwrap();
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let authorize = location(&start);
    let scope = if offline { "scope=openid+email+profile+offline_access&" } else { "scope=openid+email+profile&" };
    assert!(authorize.contains(scope), "{authorize}");
    let callback = login_via_pages(lab.idp(), browser, &authorize, ALICE).await;
    assert_eq!(browser.get(&callback).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    csrf
}

/// Runs step `n` (2 with `subject` as the subject-token choice); returns the page.
async fn run(lab: &TestLab, browser: &reqwest::Client, csrf: &str, n: usize, subject: &str) -> String {
    let form = [("csrf", csrf), ("subject", subject), ("endpoint", "GET /api/todos")];
    let resp = browser.post(format!("{}/explorer/step/{n}", lab.console())).form(&form).send().await.unwrap();
    assert_eq!(location(&resp), format!("/explorer#step-{n}"));
    explorer_page(lab, browser).await
}

/// The text of the `<pre … id="{id}">` on the page.
fn pre(page: &str, id: &str) -> String {
    let start = page.find(&format!(" id=\"{id}\">")).unwrap_or_else(|| panic!("no {id}: {page}"));
    page[start..].split_once('>').unwrap().1.split("</pre>").next().unwrap().to_owned()
}

#[tokio::test]
async fn the_explorer_exchanges_its_refresh_token_after_the_id_token_expired() {
    let lab = TestLab::start().await;
    let browser = lab.browser();
    let csrf = sign_in(&lab, &browser, true).await;
    let page = explorer_page(&lab, &browser).await;
    assert!(page.contains("id=\"status-1\">200 OK"), "{page}");
    // Step 1's response shows the refresh token, masked like the other tokens.
    let response = pre(&page, "response-1");
    assert!(response.contains("\"refresh_token\": \"") && response.contains("chars)"), "{response}");
    assert!(response.contains("\"scope\": \"openid email profile offline_access\""), "{response}");
    // Step 2 offers the choice and says why it matters.
    assert!(page.contains("<option value=\"refresh_token\" >Refresh token</option>"), "{page}");
    assert!(page.contains("id=\"why-refresh\""));

    // The ID token has expired: as a subject token it is refused, the refresh token is not.
    lab.clock.advance(xaa_lab::idp::Lifetimes::default().id_token + xaa_core::JWT_LEEWAY + 1);
    let page = explorer_page(&lab, &browser).await;
    let expired = page.split("id=\"expired-id-token\">").nth(1).expect("step 2 says the ID token expired");
    assert!(expired.contains("Sign in again for a new one, or choose the refresh token as the subject token."));
    let page = run(&lab, &browser, &csrf, 2, "id_token").await;
    assert!(page.contains("id=\"status-2\">400 invalid_grant"), "{}", pre(&page, "response-2"));
    assert!(page.contains("id=\"run-3\" disabled"));

    let page = run(&lab, &browser, &csrf, 2, "refresh_token").await;
    let request = pre(&page, "request-2");
    assert!(page.contains("id=\"status-2\">200 OK"), "{request}\n{}", pre(&page, "response-2"));
    assert!(request.contains(&format!("\n&subject_token_type={}", urn::TOKEN_TYPE_REFRESH_TOKEN)), "{request}");
    assert!(request.contains("\n&subject_token=") && request.contains("chars)"), "masked: {request}");
    assert!(page.contains("<option value=\"refresh_token\" selected>Refresh token</option>"), "the choice is kept");
    // The IdP received exactly that: the explorer's exchange, with the refresh token's type.
    let events = lab.lab.trace_events(&TraceFilter::default());
    let exchange = events
        .iter()
        .rev()
        .find(|e| e.step == "token exchange" && e.direction == Direction::Received)
        .expect("the exchange in the trace");
    let param = |k: &str| exchange.request.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(param("subject_token_type").as_deref(), Some(urn::TOKEN_TYPE_REFRESH_TOKEN));
    assert_eq!(param("client_id").as_deref(), Some("lab-explorer"));
    assert_eq!(exchange.status, Some(200));
    // The ID-JAG is alice's, for the todo API's authorization server.
    let claims = pre(&page, "response-2");
    assert!(claims.contains(&format!("\"issued_token_type\": \"{}\"", urn::TOKEN_TYPE_ID_JAG)), "{claims}");
    let table = page.split("id=\"claims-2-access_token\"").nth(1).expect("the ID-JAG decoded");
    let table = table.split("</table>").next().unwrap();
    assert!(table.contains(&format!("<td>sub</td><td><code>\"{ALICE}\"</code>")), "{table}");
    assert!(table.contains(&format!("<td>aud</td><td><code>\"{}\"</code>", lab.authz())), "{table}");
    // The code repeats that request: the refresh token (as a variable) and every other parameter.
    let step_2 = page.split("id=\"step-2\"").nth(1).unwrap();
    let curl = step_2.split("<pre class=\"snippet\">").nth(1).and_then(|c| c.split("</pre>").next()).unwrap();
    assert!(curl.contains("--data-urlencode \"subject_token=$REFRESH_TOKEN\""), "{curl}");
    crate::browser::assert_code_repeats_request(&request, curl);
    assert!(page.contains("'subject_token': refresh_token,"), "the Python code");

    // Steps 3 and 4 run with that ID-JAG.
    let page = run(&lab, &browser, &csrf, 3, "").await;
    assert!(page.contains("id=\"status-3\">200 OK"), "{}", pre(&page, "response-3"));
    let page = run(&lab, &browser, &csrf, 4, "").await;
    assert!(page.contains("id=\"status-4\">200 OK"), "{}", pre(&page, "response-4"));
    assert!(!page.contains("lab-explorer-secret-not-for-production"), "no secret on the page");
}

#[tokio::test]
async fn the_explorer_shows_the_idps_refusal_of_an_expired_refresh_token() {
    let lab = TestLab::start().await;
    let browser = lab.browser();
    let csrf = sign_in(&lab, &browser, true).await;
    lab.clock.advance(xaa_lab::idp::Lifetimes::default().refresh_token);
    let page = run(&lab, &browser, &csrf, 2, "refresh_token").await;
    assert!(page.contains("id=\"status-2\">400 invalid_grant"), "{page}");
    let response = pre(&page, "response-2");
    assert!(response.starts_with("HTTP/1.1 400 Bad Request"), "{response}");
    assert!(response.contains("\"error\": \"invalid_grant\""), "{response}");
    assert!(
        response.contains("\"error_description\": \"the refresh token has expired (RFC 6749 Section 6)\""),
        "{response}"
    );
    assert!(pre(&page, "request-2").contains(urn::TOKEN_TYPE_REFRESH_TOKEN));
    assert!(page.contains("✗ <strong>refresh_token</strong>"), "the failed check: {page}");
    assert!(page.contains("id=\"run-3\" disabled"), "no ID-JAG, so step 3 cannot run");
}

#[tokio::test]
async fn without_offline_access_there_is_no_refresh_token_to_choose() {
    let lab = TestLab::start().await;
    let browser = lab.browser();
    let csrf = sign_in(&lab, &browser, false).await;
    let page = explorer_page(&lab, &browser).await;
    assert!(!page.contains("\"refresh_token\""), "no refresh token: {}", pre(&page, "response-1"));
    assert!(!page.contains("id=\"subject\"") && !page.contains("id=\"why-refresh\""));
    // A forged choice of the refresh token sends nothing and says why, as a page.
    let sent = lab.lab.trace_events(&TraceFilter::default()).len();
    let page = run(&lab, &browser, &csrf, 2, "refresh_token").await;
    assert!(page.contains("id=\"status-2\">no refresh token"), "{page}");
    assert!(pre(&page, "response-2").contains("Step 1 got no refresh token"));
    assert_eq!(lab.lab.trace_events(&TraceFilter::default()).len(), sent, "nothing was sent");
    // The ID token still works.
    let page = run(&lab, &browser, &csrf, 2, "id_token").await;
    assert!(pre(&page, "request-2").contains(&format!("subject_token_type={}", urn::TOKEN_TYPE_ID_TOKEN)));
    assert!(page.contains("id=\"status-2\">200 OK"));
}

/// In Chromium: the box ticked, steps 1 to 4 with the refresh token as the subject token.
#[tokio::test]
async fn the_explorer_uses_a_refresh_token_in_chromium() {
    let lab = TestLab::start().await;
    let browser = Browser::start().await;
    let b = &browser.client;
    b.goto(&format!("{}/explorer", lab.console())).await.unwrap();
    b.find(Locator::Id("offline")).await.unwrap().click().await.unwrap();
    crate::browser::explorer_sign_in_here(&lab, &browser, "heidi@acme.example").await;
    let response = b.find(Locator::Id("response-1")).await.unwrap().text().await.unwrap();
    assert!(response.contains("\"refresh_token\": \""), "{response}");
    let why = b.find(Locator::Id("why-refresh")).await.unwrap().text().await.unwrap();
    assert!(why.contains("after the ID token expired"), "{why}");
    b.find(Locator::Css("#subject option[value=refresh_token]")).await.unwrap().click().await.unwrap();
    assert_eq!(explorer_step(b, 2).await, "200 OK");
    let request = b.find(Locator::Id("request-2")).await.unwrap().text().await.unwrap();
    assert!(request.contains(&format!("subject_token_type={}", urn::TOKEN_TYPE_REFRESH_TOKEN)), "{request}");
    let chosen = b.find(Locator::Css("#subject option:checked")).await.unwrap().text().await.unwrap();
    assert_eq!(chosen, "Refresh token");
    assert_eq!(explorer_step(b, 3).await, "200 OK");
    assert_eq!(explorer_step(b, 4).await, "200 OK");
    b.execute("document.getElementById('step-2').scrollIntoView({ block: 'start' })", vec![]).await.unwrap();
    browser.screenshot("console-flow-explorer-refresh-token").await;
    browser.close().await;
}
