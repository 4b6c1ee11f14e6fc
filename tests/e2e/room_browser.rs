//! Issue 11's classroom, end to end in headless Chromium: a lab shared on a public host (127.0.0.2
//! stands in for the machine's LAN address: Linux routes all of 127.0.0.0/8 to loopback), two
//! participants in their own browsers joining with the join code and running the flow with their
//! own app, and the teacher's room page showing both rows change without a reload.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use reqwest::Method;
use serde_json::{Value, json};

use crate::browser::Browser;
use crate::harness::*;

const ROOM: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
const JOIN_CODE: &str = "room-7";

/// One participant's app, as the join page hands it out.
struct App {
    client_id: String,
    secret: String,
    resource_client_id: String,
    resource_secret: String,
}

async fn text_of(b: &Client, id: &str) -> String {
    b.wait().for_element(Locator::Id(id)).await.unwrap().text().await.unwrap()
}

/// Joins at the console's `/join` with the join code; the credentials the page shows.
async fn join(lab: &TestLab, browser: &Browser, name: &str) -> App {
    let b = &browser.client;
    b.goto(&format!("{}/join", lab.console())).await.unwrap();
    b.find(Locator::Id("join_code")).await.unwrap().send_keys(JOIN_CODE).await.unwrap();
    b.find(Locator::Id("name")).await.unwrap().send_keys(name).await.unwrap();
    b.find(Locator::Id("register")).await.unwrap().click().await.unwrap();
    let client_id = text_of(b, "client-id").await;
    let dotenv = text_of(b, "dotenv").await;
    let env = |k: &str| dotenv.lines().find_map(|l| l.strip_prefix(&format!("{k}="))).unwrap_or_default().to_owned();
    assert_eq!(env("IDP_URL"), lab.idp(), "the .env names the room's IdP");
    assert!(lab.idp().starts_with("http://127.0.0.2:"), "{}", lab.idp());
    App {
        client_id,
        secret: env("CLIENT_SECRET"),
        resource_client_id: env("RESOURCE_CLIENT_ID"),
        resource_secret: env("RESOURCE_CLIENT_SECRET"),
    }
}

/// The participant signs in with their app in their own browser (the IdP's real pages), and their
/// app's back end runs the code grant, the token exchange, jwt-bearer and a todo API call.
async fn run_the_flow(lab: &TestLab, browser: &Browser, app: &App, email: &str) {
    let b = &browser.client;
    b.goto(&lab.authorize_url(&app.client_id, REDIRECT, &[])).await.unwrap();
    b.wait().for_element(Locator::Id("email")).await.unwrap().send_keys(email).await.unwrap();
    b.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Id("code")).await.unwrap().send_keys("123456").await.unwrap();
    b.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    // The IdP sends the browser to the app's callback (nothing listens there in this test).
    let deadline = Instant::now() + Duration::from_secs(15);
    let code = loop {
        let url = b.current_url().await.unwrap().to_string();
        if let Some(code) = query_param(&url, "code") {
            break code;
        }
        assert!(Instant::now() < deadline, "no code reached the app; at {url}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let grant = code_grant(&code, REDIRECT, &app.client_id, &app.secret);
    let tokens: Value =
        lab.http.post(format!("{}/token", lab.idp())).form(&grant).send().await.unwrap().json().await.unwrap();
    let id_token = tokens["id_token"].as_str().expect("an ID token");
    let exchange = with(
        &with(&lab.exchange_params(id_token), "client_id", Some(&app.client_id)),
        "client_secret",
        Some(&app.secret),
    );
    let te: Value = lab.idp_token(&exchange).await.json().await.unwrap();
    let bearer = with(
        &with(&lab.bearer_params(te["access_token"].as_str().unwrap()), "client_id", Some(&app.resource_client_id)),
        "client_secret",
        Some(&app.resource_secret),
    );
    let at: Value = lab.as_token(&bearer).await.json().await.unwrap();
    let todos = lab.todo_json("/api/todos", at["access_token"].as_str().unwrap()).await;
    assert_eq!(todos["success"], true);
}

/// The text of the room's row cell `cell` for `client_id`, read in one script call (the stream
/// replaces rows as it delivers them).
async fn cell(b: &Client, client_id: &str, cell: &str) -> String {
    let js = format!(
        "var c = document.querySelector(\"tr[data-client='{client_id}'] td.{cell}\"); return c ? c.textContent : ''"
    );
    b.execute(&js, vec![]).await.unwrap().as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn two_participants_join_a_shared_lab_and_the_teacher_watches_them_live() {
    let lab = TestLab::start_configured(|c| {
        c.bind = ROOM;
        c.console_bind = ROOM;
        c.public_hosts = vec!["127.0.0.2".into()];
        c.join_code = Some(JOIN_CODE.into());
    })
    .await;
    assert!(lab.console().starts_with("http://127.0.0.2:"), "the room reaches the console: {}", lab.console());

    // The teacher opens the room page, signed in with the admin token.
    let teacher = Browser::start().await;
    let t = &teacher.client;
    t.goto(&format!("{}/admin?token={}", lab.console(), lab.lab.admin_token())).await.unwrap();
    t.goto(&format!("{}/admin/room", lab.console())).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while t.find(Locator::Id("live")).await.unwrap().text().await.unwrap() != "● live" {
        assert!(Instant::now() < deadline, "the room's stream never opened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    t.execute("window.notReloaded = true", vec![]).await.unwrap();

    // Two participants, each in their own browser, join and run the flow as different users.
    let (ada_browser, bob_browser) = (Browser::start().await, Browser::start().await);
    let ada = join(&lab, &ada_browser, "Ada's notes").await;
    let bob = join(&lab, &bob_browser, "Bob's tasks").await;
    assert_ne!(ada.client_id, bob.client_id);
    run_the_flow(&lab, &ada_browser, &ada, "ada@acme.example").await;
    run_the_flow(&lab, &bob_browser, &bob, "bob@acme.example").await;

    // The teacher's page shows both rows reach the todo API, with PKCE green, without a reload.
    let deadline = Instant::now() + Duration::from_secs(15);
    for app in [&ada, &bob] {
        loop {
            let last = cell(t, &app.client_id, "last").await;
            if last.contains("todo API") {
                break;
            }
            assert!(Instant::now() < deadline, "{}'s row never reached the todo API: {last:?}", app.client_id);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let js =
            format!("return document.querySelector(\"tr[data-client='{}'] td.habit\").dataset.status", app.client_id);
        assert_eq!(t.execute(&js, vec![]).await.unwrap(), json!("passed"), "PKCE green for {}", app.client_id);
    }
    assert_eq!(t.execute("return window.notReloaded === true", vec![]).await.unwrap(), json!(true));
    teacher.screenshot("room-two-participants").await;

    // IT still governs the participants' apps: revoking Bob's connection refuses his next exchange.
    let revoke =
        lab.admin(Method::DELETE, &format!("/api/admin/connections?client_id={}", bob.client_id)).send().await.unwrap();
    assert!(revoke.status().is_success(), "{}", revoke.status());
    for b in [ada_browser, bob_browser, teacher] {
        b.close().await;
    }
}
