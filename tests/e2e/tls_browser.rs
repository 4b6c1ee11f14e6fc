//! The pages a person uses, in headless Chromium against a lab started with `--tls`: Chromium
//! then speaks HTTP/2, which names the host only in `:authority`, so every form post must still
//! pass the same-origin check (the IdP's login, Lab Notes, the console's explorer, inspector and
//! admin forms).

use crate::admin_browser::register_through_the_admin_pages;
use crate::browser::{Browser, the_explorer_runs_the_four_steps, the_inspector_refuses_a_tampered_id_jag};
use crate::harness::*;
use crate::notes_browser::{log_out, sign_in};

#[tokio::test]
async fn every_form_works_in_chromium_over_tls_and_http2() {
    let lab = TestLab::start_tls().await;
    assert!(lab.idp().starts_with("https://"));
    let browser = Browser::start_tls().await;

    // Lab Notes: sign in through the IdP's two form pages, then log out (IdP and notes forms).
    sign_in(&lab, &browser, "frank@acme.example", false).await;
    assert_eq!(browser.protocol().await, "h2", "Chromium negotiated HTTP/2 with the lab");
    log_out(&lab, &browser).await;

    // The console: the explorer's four steps (its forms and the IdP's), the inspector, the admin pages.
    the_explorer_runs_the_four_steps(&lab, &browser).await;
    assert_eq!(browser.protocol().await, "h2");
    the_inspector_refuses_a_tampered_id_jag(&lab, &browser).await;
    let (client_id, _) = register_through_the_admin_pages(&lab, &browser).await;
    assert!(client_id.starts_with("workshop-notes-"), "{client_id}");
    assert_eq!(browser.protocol().await, "h2");
    browser.close().await;
}
