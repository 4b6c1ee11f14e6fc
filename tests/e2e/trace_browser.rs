//! The live trace in headless Chromium at a laptop's and a phone's width (issue 19): the sequence
//! diagram's arrows start and end on their lanes' centres, other requests are folded away, and
//! neither page scrolls sideways.

use std::time::{Duration, Instant};

use fantoccini::Locator;

use crate::browser::Browser;
use crate::harness::*;

#[tokio::test]
async fn diagram_arrows_meet_their_lanes_and_other_requests_are_folded_in_chromium() {
    let lab = TestLab::start().await;
    let notes = lab.notes_login("grace@acme.example").await;
    assert_eq!(lab.notes_page(&notes, "/notes").await.0, 200);
    reqwest::get(format!("{}/jwks", lab.idp())).await.unwrap();
    let trace: serde_json::Value = reqwest::get(format!("{}/trace.json?user=grace%40acme.example", lab.console()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let flow = trace["flows"][0]["id"].as_u64().expect("grace's flow");
    let browser = Browser::start().await;
    let b = &browser.client;
    let arrows = "const centres = Array.from(document.querySelectorAll('.seq-head .lane')).map(l => { \
          const r = l.getBoundingClientRect(); return r.left + r.width / 2; }); \
        return { scroll: document.documentElement.scrollWidth, inner: innerWidth, lanes: centres.length, \
          arrows: Array.from(document.querySelectorAll('.seq-row .seq-arrow')).map(a => { const r = a.getBoundingClientRect(); \
            const [f, t] = [Number(a.dataset.from), Number(a.dataset.to)]; \
            return [r.left, r.right, centres[Math.min(f, t)], centres[Math.max(f, t)]]; }) }";
    let folded = "const others = document.querySelector('#flow-' + arguments[0] + ' details.others'); \
        const calls = document.querySelector('#flow-' + arguments[0] + ' .calls'); \
        return { scroll: document.documentElement.scrollWidth, inner: innerWidth, open: others.open, \
          hidden: others.hidden, count: Number(others.querySelector('.others-n').textContent), \
          folded: others.querySelectorAll('details.event').length, first: calls.compareDocumentPosition(others) & 4, \
          visible: others.querySelector('.other-rows').checkVisibility(), \
          calls: calls.querySelectorAll('details.event').length }";
    for (width, height) in [(1280, 900), (390, 844)] {
        browser.viewport(width, height).await;
        b.goto(&format!("{}/trace/flows/{flow}", lab.console())).await.unwrap();
        b.wait().for_element(Locator::Css(".seq-row .seq-arrow")).await.unwrap();
        let m = b.execute(arrows, vec![]).await.unwrap();
        assert!(m["scroll"].as_f64() <= m["inner"].as_f64(), "{width} px: the flow page scrolls sideways: {m}");
        assert_eq!(m["lanes"], 4, "{width} px: lab-notes, IdP, Resource AS, Todo API: {m}");
        let arrows = m["arrows"].as_array().unwrap();
        assert!(arrows.len() >= 4, "{width} px: {m}");
        for a in arrows {
            let [left, right, from, to] = [0, 1, 2, 3].map(|i| a[i].as_f64().unwrap());
            assert!(
                (left - from).abs() <= 1.0 && (right - to).abs() <= 1.0,
                "{width} px: arrow {a} off its lanes' centres"
            );
        }
        browser.screenshot(&format!("console-flow-diagram-{width}")).await;

        b.goto(&format!("{}/trace", lab.console())).await.unwrap();
        // Flow 0 holds the requests that name no client: the key fetch, the sign-in forms, pages.
        b.wait().for_element(Locator::Css("#flow-0 .calls")).await.unwrap();
        let m = b.execute(folded, vec![0.into()]).await.unwrap();
        assert!(m["scroll"].as_f64() <= m["inner"].as_f64(), "{width} px: the trace scrolls sideways: {m}");
        assert_eq!((&m["open"], &m["hidden"]), (&false.into(), &false.into()), "{width} px: folded, closed: {m}");
        assert!(m["count"].as_u64() >= Some(2) && m["count"] == m["folded"], "{width} px: the sign-in forms: {m}");
        assert_eq!(m["visible"], false, "{width} px: the folded rows are not shown: {m}");
        assert_eq!(m["first"], 4, "{width} px: the protocol calls come first: {m}");
        assert!(m["calls"].as_u64() >= Some(1), "{width} px: the key fetch: {m}");
        browser.screenshot(&format!("console-live-trace-folded-{width}")).await;
    }
    browser.close().await;
}

/// Rows arriving live go where the full page puts them: a protocol call among the calls, any
/// other request into the folded list, whose count follows; a reload shows the same.
#[tokio::test]
async fn live_rows_go_to_their_list_and_the_folded_count_follows_in_chromium() {
    let lab = TestLab::start().await;
    let browser = Browser::start().await;
    let b = &browser.client;
    b.goto(&format!("{}/trace", lab.console())).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while b.find(Locator::Id("live")).await.unwrap().text().await.unwrap() != "● live" {
        assert!(Instant::now() < deadline, "the live trace never connected");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let state = "const f = document.getElementById('flow-0'); if (!f) return null; \
        const others = f.querySelector('details.others'); \
        return { calls: Array.from(f.querySelectorAll('.calls details.event strong')).map(s => s.textContent), \
          folded: f.querySelectorAll('.other-rows details.event').length, hidden: others.hidden, open: others.open, \
          count: Number(others.querySelector('.others-n').textContent), \
          earlier: f.querySelector('.earlier').hidden }";
    let before = b.execute(state, vec![]).await.unwrap();
    let folded_before = before["folded"].as_u64().unwrap_or(0);
    for path in ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server", "/jwks"] {
        reqwest::get(format!("{}{path}", lab.idp())).await.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let live = loop {
        let m = b.execute(state, vec![]).await.unwrap();
        if m["folded"].as_u64() == Some(folded_before + 2) && m["calls"].as_array().is_some_and(|c| !c.is_empty()) {
            break m;
        }
        assert!(Instant::now() < deadline, "the rows never arrived: {m}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(live["count"], live["folded"], "the count follows the folded rows: {live}");
    assert_eq!(
        (&live["hidden"], &live["open"], &live["earlier"]),
        (&false.into(), &false.into(), &true.into()),
        "{live}"
    );
    assert!(live["calls"].as_array().unwrap().iter().all(|c| c == "keys"), "only the key fetch in front: {live}");
    b.refresh().await.unwrap();
    let reloaded = b.execute(state, vec![]).await.unwrap();
    assert_eq!(
        (&reloaded["count"], &reloaded["calls"]),
        (&live["count"], &live["calls"]),
        "the page agrees: {reloaded}"
    );
    browser.close().await;
}
