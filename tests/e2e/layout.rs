//! Every console page fits a phone (390 px: no horizontal scrolling; a table may scroll inside its
//! own box) and a laptop (1280 px: the navigation's labels never wrap), and names itself in its
//! own `h1` (the brand is not a heading), in headless Chromium.

use fantoccini::Locator;
use serde_json::json;

use crate::browser::Browser;
use crate::harness::*;

/// The console pages a person opens, the admin's after signing in through the banner's link.
async fn pages(lab: &TestLab) -> Vec<String> {
    // A flow in the trace, for its page.
    let notes = lab.notes_login("grace@acme.example").await;
    lab.notes_page(&notes, "/notes").await;
    let flows: serde_json::Value =
        reqwest::get(format!("{}/trace.json", lab.console())).await.unwrap().json().await.unwrap();
    let flow_id =
        flows["events"].as_array().and_then(|e| e.iter().find_map(|ev| ev["flow"].as_u64().filter(|f| *f > 0)));
    let mut paths: Vec<String> = [
        "/",
        "/explorer",
        "/trace",
        "/inspect",
        "/exercises",
        "/exercises/id-jag-expired",
        "/resources",
        "/join",
        "/admin",
        "/admin/register",
        "/admin/room",
        "/admin/audit",
        "/no-such-page",
    ]
    .iter()
    .map(|p| (*p).to_owned())
    .collect();
    if let Some(id) = flow_id {
        paths.push(format!("/trace/flows/{id}"));
    }
    paths
}

#[tokio::test]
async fn every_console_page_fits_a_phone_and_a_laptop_in_chromium() {
    let lab = TestLab::start().await;
    let browser = Browser::start().await;
    let b = &browser.client;
    let console = lab.console().to_owned();
    b.goto(&format!("{console}/admin?token={}", lab.lab.admin_token())).await.unwrap();
    b.wait().for_element(Locator::Id("connections")).await.unwrap();
    let measure = "return { scroll: document.documentElement.scrollWidth, inner: window.innerWidth, \
        over: Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > innerWidth + 1 \
          && !e.closest('.scroll')).slice(-3).map(e => e.tagName + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '')), \
        h1: Array.from(document.querySelectorAll('h1')).map(h => h.textContent.trim()), \
        wrapped: Array.from(document.querySelectorAll('nav.tabs a')).filter(a => { const r = document.createRange(); \
        r.selectNodeContents(a); return r.getClientRects().length > 1; }).map(a => a.textContent) }";
    let mut problems = Vec::new();
    for (width, height) in [(1280, 900), (390, 844)] {
        browser.viewport(width, height).await;
        for path in pages(&lab).await {
            b.goto(&format!("{console}{path}")).await.unwrap();
            let m = b.execute(measure, vec![]).await.unwrap();
            let (scroll, inner) = (m["scroll"].as_u64().unwrap(), m["inner"].as_u64().unwrap());
            if scroll > inner {
                problems.push(format!("{width} px {path}: the page is {scroll} px wide ({} stick out)", m["over"]));
            }
            let h1 = m["h1"].as_array().unwrap();
            if h1.len() != 1 || h1[0] == json!("XAA Lab") {
                problems.push(format!("{width} px {path}: h1 {h1:?}, not one of its own"));
            }
            if width == 1280 && !m["wrapped"].as_array().unwrap().is_empty() {
                problems.push(format!("{width} px {path}: nav labels wrap: {}", m["wrapped"]));
            }
        }
        b.goto(&format!("{console}/")).await.unwrap();
        browser.screenshot(&format!("console-home-{width}")).await;
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    browser.close().await;
}

/// Every input, select and textarea a person fills in on the console has a name a screen reader
/// reads: a label (wrapping it or `for` it) or an `aria-label`, never a placeholder alone.
#[tokio::test]
async fn every_console_field_has_a_label() {
    let lab = TestLab::start().await;
    let http = lab.browser();
    let signed_in = format!("{}/admin?token={}", lab.console(), lab.lab.admin_token());
    assert_eq!(http.get(&signed_in).send().await.unwrap().status(), 303);
    for path in ["/admin", "/admin/audit", "/admin/register", "/explorer", "/trace", "/inspect", "/resources", "/join"]
    {
        let html = http.get(format!("{}{path}", lab.console())).send().await.unwrap().text().await.unwrap();
        for field in fields(&html) {
            if field.contains("type=\"hidden\"") || field.contains("type=\"submit\"") {
                continue;
            }
            let id = field.split("id=\"").nth(1).and_then(|r| r.split('"').next());
            let labelled = field.contains("aria-label=")
                || id.is_some_and(|id| html.contains(&format!("for=\"{id}\"")))
                || wrapped_in_label(&html, &field);
            assert!(labelled, "{path}: {field} has no label");
        }
    }
}

/// The opening tags of the page's inputs, selects and textareas.
fn fields(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for tag in ["<input", "<select", "<textarea"] {
        for (at, _) in html.match_indices(tag) {
            let end = html[at..].find('>').map_or(html.len(), |e| at + e + 1);
            out.push(html[at..end].to_owned());
        }
    }
    out
}

/// Whether `field` sits inside a `<label>…</label>`.
fn wrapped_in_label(html: &str, field: &str) -> bool {
    let at = html.find(field).unwrap_or(0);
    let before = &html[..at];
    match (before.rfind("<label"), before.rfind("</label>")) {
        (Some(open), Some(close)) => open > close,
        (Some(_), None) => true,
        _ => false,
    }
}
