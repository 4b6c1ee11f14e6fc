//! The notes app in headless Chromium: sign-in through the IdP pages, notes → todos, a revoked
//! connection, and logout. Screenshots of each main page go to `target/screenshots/`.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};

use crate::browser::Browser;
use crate::harness::*;

async fn click(b: &Client, css: &str) {
    b.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).click().await.unwrap();
}

async fn text_of(b: &Client, css: &str) -> String {
    b.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).text().await.unwrap()
}

/// Waits until the current URL contains `part`.
async fn wait_for_url(b: &Client, part: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let url = b.current_url().await.unwrap().to_string();
        if url.contains(part) {
            return url;
        }
        assert!(Instant::now() < deadline, "never reached {part}; at {url}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// From the landing page through the IdP's two login pages to `/notes`.
pub async fn sign_in(lab: &TestLab, browser: &Browser, email: &str, shots: bool) {
    let b = &browser.client;
    b.goto(lab.notes()).await.unwrap();
    assert!(browser.text().await.contains("Your thoughts, organized."));
    if shots {
        browser.screenshot("notes-landing").await;
    }
    click(b, "a.button[href='/auth/login']").await;
    b.wait().for_element(Locator::Id("email")).await.unwrap();
    assert!(browser.text().await.contains("to continue to Lab Notes"));
    if shots {
        browser.screenshot("idp-login-email").await;
    }
    b.find(Locator::Id("email")).await.unwrap().send_keys(email).await.unwrap();
    click(b, "button[type=submit]").await;
    b.wait().for_element(Locator::Id("code")).await.unwrap();
    // A wrong code first: the page says what it expects.
    b.find(Locator::Id("code")).await.unwrap().send_keys("12ab").await.unwrap();
    b.execute("document.querySelector('form').submit()", vec![]).await.unwrap();
    b.wait().for_element(Locator::Css("p.error")).await.unwrap();
    assert!(browser.text().await.contains("The code is 6 digits"));
    if shots {
        browser.screenshot("idp-login-code-error").await;
    }
    b.find(Locator::Id("code")).await.unwrap().send_keys("246810").await.unwrap();
    click(b, "button[type=submit]").await;
    wait_for_url(b, "/notes").await;
    b.wait().for_element(Locator::Id("user-email")).await.unwrap();
}

async fn todo_titles(b: &Client) -> Vec<String> {
    let mut titles = Vec::new();
    for el in b.find_all(Locator::Css("#todos .todo-title")).await.unwrap() {
        titles.push(el.text().await.unwrap());
    }
    titles
}

#[tokio::test]
async fn sign_in_write_a_note_and_send_it_to_todos() {
    let lab = TestLab::start().await;
    let browser = Browser::start().await;
    let b = &browser.client;

    // 1. A new user signs in through the IdP pages and lands on their notes with the seed todos.
    sign_in(&lab, &browser, "dana@acme.example", true).await;
    assert_eq!(text_of(b, "#user-email").await, "dana@acme.example");
    let todos = todo_titles(b).await;
    assert_eq!(todos.len(), 4, "{todos:?}");
    assert!(todos.contains(&"Exchange an ID token for an ID-JAG".to_owned()));
    browser.screenshot("notes-empty").await;

    // 2. A note, sent to todos, shown in the pane, still there after a reload, then completed.
    click(b, "#new-note").await;
    b.wait().for_element(Locator::Id("title")).await.unwrap();
    b.find(Locator::Id("title")).await.unwrap().send_keys("Book the XAA workshop room").await.unwrap();
    b.find(Locator::Id("body")).await.unwrap().send_keys("Room for 20, projector, <b>coffee</b> & tea.").await.unwrap();
    click(b, "#save").await;
    wait_for_url(b, "flash=created").await;
    assert!(browser.text().await.contains("Note created."));
    click(b, "#send-to-todos").await;
    wait_for_url(b, "flash=sent").await;
    assert!(todo_titles(b).await.contains(&"Book the XAA workshop room".to_owned()));
    let body = b.find(Locator::Id("body")).await.unwrap().prop("value").await.unwrap().unwrap_or_default();
    assert_eq!(body, "Room for 20, projector, <b>coffee</b> & tea.", "the note is intact and inert");
    browser.screenshot("notes-sent-to-todos").await;

    b.refresh().await.unwrap();
    b.wait().for_element(Locator::Id("todos")).await.unwrap();
    assert!(todo_titles(b).await.contains(&"Book the XAA workshop room".to_owned()), "still there after a reload");
    click(b, "button[aria-label='Complete: Book the XAA workshop room']").await;
    b.wait().for_element(Locator::Css("button[aria-label='Reopen: Book the XAA workshop room']")).await.unwrap();
    browser.screenshot("notes-todo-completed").await;
    browser.close().await;
}

#[tokio::test]
async fn a_revoked_connection_is_explained_and_notes_keep_working() {
    let lab = TestLab::start().await;
    let browser = Browser::start().await;
    let b = &browser.client;
    sign_in(&lab, &browser, "erin@acme.example", false).await;
    assert_eq!(todo_titles(b).await.len(), 4);

    // 3. IT revokes the notes app's connection at the IdP; the next exchange is refused.
    let keep = lab.lab.connections().into_iter().filter(|c| c.client_id != NOTES_CLIENT).collect();
    lab.lab.set_connections(keep).await.unwrap();
    click(b, "#fresh-token").await;
    b.wait().for_element(Locator::Id("todo-problem")).await.unwrap();
    assert_eq!(text_of(b, "#problem-error").await, "invalid_target");
    let problem = text_of(b, "#todo-problem").await;
    assert!(problem.contains("IT has not connected this app to the todo app"), "{problem}");
    assert!(problem.contains("Token exchange at the IdP"), "{problem}");
    assert!(text_of(b, "#problem-description").await.contains("has not connected client 'lab-notes'"));
    browser.screenshot("notes-connection-revoked").await;

    // Notes still work.
    click(b, "#new-note").await;
    b.wait().for_element(Locator::Id("title")).await.unwrap();
    b.find(Locator::Id("title")).await.unwrap().send_keys("Still writing").await.unwrap();
    click(b, "#save").await;
    wait_for_url(b, "flash=created").await;
    assert!(text_of(b, "aside.list").await.contains("Still writing"));
    browser.close().await;
}

#[tokio::test]
async fn log_out_requires_signing_in_again() {
    let lab = TestLab::start().await;
    let browser = Browser::start().await;
    sign_in(&lab, &browser, "frank@acme.example", false).await;
    log_out(&lab, &browser).await;
    browser.close().await;
}

/// From a signed-in `/notes` page: log out, then `/notes` asks the IdP for a login again.
pub async fn log_out(lab: &TestLab, browser: &Browser) {
    let b = &browser.client;
    // 4. Log out: locally and at the IdP, back to the landing page; /notes then needs a login.
    click(b, "form[action='/auth/logout'] button").await;
    let landing = format!("{}/", lab.notes());
    let deadline = Instant::now() + Duration::from_secs(15);
    while b.current_url().await.unwrap().as_str() != landing {
        assert!(Instant::now() < deadline, "never came back to {landing}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    b.wait().for_element(Locator::Css("main h1")).await.unwrap();
    assert!(browser.text().await.contains("Your thoughts, organized."));
    b.goto(&format!("{}/notes", lab.notes())).await.unwrap();
    b.wait().for_element(Locator::Id("email")).await.unwrap();
    assert!(b.current_url().await.unwrap().as_str().starts_with(lab.idp()), "the IdP asks for a login again");
}
