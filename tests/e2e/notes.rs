//! The lab's notes app over plain HTTP (no browser): sign-in cookies, notes per user, escaping,
//! size and CSRF checks that keep the typed text, "send to todos", the cached access token, and
//! what the page shows when the connection is revoked, the todo API is down or the ID token has
//! expired; logout at both ends.

use reqwest::{Response, StatusCode};

use crate::harness::*;

const ALICE: &str = "alice@acme.example";
const BOB: &str = "bob@acme.example";
const SEED_TODOS: [&str; 4] = [
    "Read the ID-JAG draft, section 4",
    "Exchange an ID token for an ID-JAG",
    "Trade the ID-JAG for an access token",
    "Call the todo API with the access token",
];

/// POSTs a form to the notes app in `browser`.
async fn post(lab: &TestLab, browser: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> Response {
    browser.post(format!("{}{path}", lab.notes())).form(form).send().await.unwrap()
}

/// `GET {notes}{path}`, which must answer 200; returns the HTML.
async fn page(lab: &TestLab, browser: &reqwest::Client, path: &str) -> String {
    let (status, html) = lab.notes_page(browser, path).await;
    assert_eq!(status, StatusCode::OK, "GET {path}: {html}");
    html
}

/// `GET {notes}{path}`, which must redirect; returns the `Location`.
async fn redirected(lab: &TestLab, browser: &reqwest::Client, url: &str) -> String {
    let url = if url.starts_with('/') { format!("{}{url}", lab.notes()) } else { url.to_owned() };
    let resp = browser.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "GET {url}");
    location(&resp)
}

/// Asserts a 303 and returns its `Location`.
fn see_other(resp: &Response) -> String {
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{:?}", resp.headers());
    location(resp)
}

/// Creates a note; returns its id.
async fn create_note(lab: &TestLab, browser: &reqwest::Client, csrf: &str, title: &str, body: &str) -> i64 {
    let resp = post(lab, browser, "/notes", &[("csrf", csrf), ("title", title), ("body", body)]).await;
    let loc = see_other(&resp);
    let id = query_param(&loc, "id").and_then(|i| i.parse().ok()).unwrap_or_else(|| panic!("note id in {loc}"));
    assert_eq!(loc, format!("/notes?id={id}&flash=created"));
    id
}

/// Undoes askama's escaping. askama 0.16 writes `&#34; &#38; &#39; &#60; &#62;`; the named forms
/// of older versions are accepted too. Every `&` in askama's output starts one of these.
fn unescape(s: &str) -> String {
    const ASKAMA: [(&str, char); 5] = [("&#34;", '"'), ("&#38;", '&'), ("&#39;", '\''), ("&#60;", '<'), ("&#62;", '>')];
    const NAMED: [(&str, char); 5] = [("&quot;", '"'), ("&amp;", '&'), ("&#x27;", '\''), ("&lt;", '<'), ("&gt;", '>')];
    let (mut out, mut rest) = (String::with_capacity(s.len()), s);
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let (entity, c) = ASKAMA
            .iter()
            .chain(&NAMED)
            .find(|(e, _)| rest.starts_with(e))
            .unwrap_or_else(|| panic!("unescaped & in the page at {:?}", &rest[..rest.len().min(12)]));
        out.push(*c);
        rest = &rest[entity.len()..];
    }
    out + rest
}

/// The raw text between `open` (the end of an opening tag) and the next `close`.
fn between_raw<'a>(html: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = html.find(open)? + open.len();
    Some(&html[start..start + html[start..].find(close)?])
}

/// The same, unescaped.
fn between(html: &str, open: &str, close: &str) -> Option<String> {
    between_raw(html, open, close).map(unescape)
}

/// The editor's textarea, unescaped; `None` when the page has no editor.
fn textarea(html: &str) -> Option<String> {
    between(html, "<textarea id=\"body\" name=\"body\" placeholder=\"Write something…\">", "</textarea>")
}

/// The editor's title field, unescaped.
fn title_field(html: &str) -> Option<String> {
    between(html, "name=\"title\" type=\"text\" placeholder=\"Title\" value=\"", "\"")
}

/// The todos in the pane: (id, title, done).
fn todos(html: &str) -> Vec<(i64, String, bool)> {
    let Some(list) = between_raw(html, "<ul class=\"todos\" id=\"todos\">", "</ul>") else { return Vec::new() };
    list.split("<li class=\"")
        .skip(1)
        .map(|li| {
            let id = li.split("action=\"/todos/").nth(1).and_then(|s| s.split('/').next()).unwrap().parse().unwrap();
            let title = between(li, "<span class=\"todo-title\">", "</span>").unwrap();
            (id, title, li.starts_with("done\""))
        })
        .collect()
}

fn todo_titles(html: &str) -> Vec<String> {
    todos(html).into_iter().map(|(_, title, _)| title).collect()
}

/// The `Set-Cookie` for `name`: its value and its attributes, lowercased.
fn set_cookie(resp: &Response, name: &str) -> Option<(String, Vec<String>)> {
    resp.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find_map(|c| {
        let mut parts = c.split(';').map(str::trim);
        let value = parts.next()?.strip_prefix(&format!("{name}="))?.to_owned();
        Some((value, parts.map(str::to_ascii_lowercase).collect()))
    })
}

fn assert_private_cookie(name: &str, attrs: &[String]) {
    for want in ["httponly", "samesite=lax", "path=/"] {
        assert!(attrs.iter().any(|a| a == want), "{name}: {want} in {attrs:?}");
    }
    assert!(!attrs.iter().any(|a| a == "secure"), "{name}: no Secure over plain HTTP");
}

/// The problem pane's description, unescaped.
fn problem_description(html: &str) -> String {
    assert!(html.contains("id=\"todo-problem\""), "the problem pane is shown: {html}");
    between(html, "<dd id=\"problem-description\">", "</dd>").unwrap()
}

#[tokio::test]
async fn sign_in_uses_login_then_session_cookie() {
    let lab = TestLab::start().await;
    let browser = lab.browser();
    assert_eq!(redirected(&lab, &browser, "/notes").await, "/auth/login?return_to=%2Fnotes");
    let login = redirected(&lab, &browser, "/notes?id=7").await;
    assert_eq!(login, "/auth/login?return_to=%2Fnotes%3Fid%3D7");

    let start = browser.get(format!("{}{login}", lab.notes())).send().await.unwrap();
    let authorize = see_other(&start);
    assert!(authorize.starts_with(&format!("{}/authorize?", lab.idp())), "{authorize}");
    let param = |name: &str| query_param(&authorize, name).unwrap_or_else(|| panic!("{name} in {authorize}"));
    let redirect_uri = format!("{}/auth/callback", lab.notes());
    let want = [("client_id", NOTES_CLIENT), ("redirect_uri", &redirect_uri), ("response_type", "code")];
    for (name, value) in want.into_iter().chain([("code_challenge_method", "S256")]) {
        assert_eq!(param(name), value, "{name}");
    }
    assert_eq!(param("code_challenge").len(), 43);
    assert!(param("scope").split(' ').any(|s| s == "openid"));
    let (state, nonce) = (param("state"), param("nonce"));
    assert!(state.len() >= 16 && nonce.len() >= 16, "state {state:?}, nonce {nonce:?}");
    let (login_cookie, attrs) = set_cookie(&start, "xaa_notes_login").expect("login cookie");
    assert_eq!(login_cookie, state, "the login cookie binds the state to this browser");
    assert_private_cookie("xaa_notes_login", &attrs);
    assert!(set_cookie(&start, "xaa_notes_session").is_none());

    let callback = lab.login_redirect(&browser, &authorize, ALICE).await;
    assert_eq!(query_param(&callback, "state").as_deref(), Some(state.as_str()));
    let done = browser.get(&callback).send().await.unwrap();
    assert_eq!(see_other(&done), "/notes?id=7", "back where the user started");
    let (session, attrs) = set_cookie(&done, "xaa_notes_session").expect("session cookie");
    assert!(session.len() >= 32);
    assert_private_cookie("xaa_notes_session", &attrs);
    let (cleared, attrs) = set_cookie(&done, "xaa_notes_login").expect("the login cookie is removed");
    assert!(cleared.is_empty() && attrs.iter().any(|a| a == "max-age=0"), "{cleared:?} {attrs:?}");
    assert!(page(&lab, &browser, "/notes").await.contains(ALICE));

    // The callback works once.
    let again = browser.get(&callback).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(set_cookie(&again, "xaa_notes_session").is_none());
}

#[tokio::test]
async fn notes_page_shows_the_user_and_seed_todos() {
    let lab = TestLab::start().await;
    let alice = lab.notes_login(ALICE).await;
    let html = page(&lab, &alice, "/notes").await;
    assert!(html.contains(&format!("<strong id=\"user-email\">{ALICE}</strong>")), "{html}");
    assert!(html.contains("Alice Adams"));
    assert_eq!(todo_titles(&html), SEED_TODOS);
    let done: Vec<bool> = todos(&html).iter().map(|t| t.2).collect();
    assert_eq!(done, [true, false, false, false]);
    assert!(html.contains("scope <code>todos.read todos.write</code>"));
    assert!(html.contains("No notes yet."));
    assert!(!html.contains("id=\"todo-problem\""));
}

#[tokio::test]
async fn notes_are_created_edited_deleted_and_private() {
    let lab = TestLab::start().await;
    let alice = lab.notes_login(ALICE).await;
    let csrf = hidden(&page(&lab, &alice, "/notes").await, "csrf");
    let id = create_note(&lab, &alice, &csrf, "  Launch plan  ", "Alice's secret plan").await;
    let html = page(&lab, &alice, &format!("/notes?id={id}&flash=created")).await;
    assert!(html.contains("Note created."));
    assert_eq!(title_field(&html).as_deref(), Some("Launch plan"), "the title is trimmed");
    assert_eq!(textarea(&html).as_deref(), Some("Alice's secret plan"));
    assert!(html.contains(&format!("href=\"/notes?id={id}\" class=\"active\"")));

    let edit = [("csrf", csrf.as_str()), ("title", "Launch plan v2"), ("body", "Ship on Friday")];
    let resp = post(&lab, &alice, &format!("/notes/{id}"), &edit).await;
    assert_eq!(see_other(&resp), format!("/notes?id={id}&flash=saved"));
    let html = page(&lab, &alice, &location(&resp)).await;
    assert!(html.contains("Saved."));
    assert_eq!(
        (title_field(&html).unwrap(), textarea(&html).unwrap()),
        ("Launch plan v2".into(), "Ship on Friday".into())
    );

    // Bob cannot see, save over or delete Alice's note.
    let bob = lab.notes_login(BOB).await;
    let html = page(&lab, &bob, &format!("/notes?id={id}")).await;
    assert!(html.contains(BOB) && !html.contains("Ship on Friday") && !html.contains("Launch plan"));
    assert!(!html.contains("id=\"note-form\"") && textarea(&html).is_none(), "no editor for someone else's note");
    let bob_csrf = hidden(&html, "csrf");
    let form = [("csrf", bob_csrf.as_str()), ("title", "pwned"), ("body", "pwned")];
    assert_eq!(post(&lab, &bob, &format!("/notes/{id}"), &form).await.status(), StatusCode::NOT_FOUND);
    let refused = post(&lab, &bob, &format!("/notes/{id}/delete"), &[("csrf", &bob_csrf)]).await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND, "deleting someone else's note is not reported as done");
    let html = page(&lab, &alice, &format!("/notes?id={id}")).await;
    assert_eq!(textarea(&html).as_deref(), Some("Ship on Friday"), "Alice's note is untouched");

    let resp = post(&lab, &alice, &format!("/notes/{id}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!(see_other(&resp), "/notes?flash=deleted");
    let html = page(&lab, &alice, &location(&resp)).await;
    assert!(html.contains("Note deleted.") && html.contains("No notes yet."));
    assert!(textarea(&page(&lab, &alice, &format!("/notes?id={id}")).await).is_none());
}

#[tokio::test]
async fn a_large_note_with_markup_round_trips_byte_for_byte() {
    let lab = TestLab::start().await;
    let alice = lab.notes_login(ALICE).await;
    let csrf = hidden(&page(&lab, &alice, "/notes").await, "csrf");
    let title = "Plan <b>\"A\"</b> & 'B' <script>alert(1)</script>";
    let mut body = String::from("First line: <script>alert(1)</script> &amp; \"quoted\" 'single'\r\n");
    for i in 0..1000 {
        body.push_str(&format!(
            "{i}: </textarea><script>alert(1)</script> &amp; &#38; &lt;b&gt; \"dq\" 'sq' naïve café — 日本語 🚀\t<!-- x -->\n"
        ));
    }
    assert!((100 * 1024..256 * 1024).contains(&body.len()));
    let id = create_note(&lab, &alice, &csrf, title, &body).await;
    let html = page(&lab, &alice, &format!("/notes?id={id}")).await;
    assert_eq!(textarea(&html).as_deref(), Some(body.as_str()), "the note comes back byte for byte");
    assert_eq!(title_field(&html).as_deref(), Some(title));
    assert!(!html.contains("<script>alert(1)</script>"), "markup from the note is never live");
    assert!(!html.contains("<b>\"A\"</b>"));
    assert_eq!(html.matches("</textarea>").count(), 1, "the note cannot close the textarea");
}

#[tokio::test]
async fn oversize_note_and_stale_csrf_keep_the_typed_text() {
    let lab = TestLab::start().await;
    let alice = lab.notes_login(ALICE).await;
    let csrf = hidden(&page(&lab, &alice, "/notes").await, "csrf");

    let huge = format!("My long draft <i>keep me</i>\n{}", "x".repeat(256 * 1024));
    let resp = post(&lab, &alice, "/notes", &[("csrf", &csrf), ("title", "Too big"), ("body", &huge)]).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let html = resp.text().await.unwrap();
    assert_eq!(textarea(&html).as_deref(), Some(huge.as_str()), "nothing typed is lost");
    assert_eq!(title_field(&html).as_deref(), Some("Too big"));
    assert!(html.contains("class=\"error\"") && html.contains("larger than 256 KB"), "{}", &html[..2000]);
    assert!(page(&lab, &alice, "/notes").await.contains("No notes yet."), "nothing was stored");

    let id = create_note(&lab, &alice, &csrf, "Kept", "the stored text").await;
    let typed = "typed while the page was stale <b>&</b>";
    let stale = [("csrf", "not-the-session-csrf"), ("title", "New title"), ("body", typed)];
    let resp = post(&lab, &alice, &format!("/notes/{id}"), &stale).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let html = resp.text().await.unwrap();
    assert_eq!(textarea(&html).as_deref(), Some(typed));
    assert_eq!(title_field(&html).as_deref(), Some("New title"));
    assert!(html.contains("This page was open too long to save safely"), "{html}");
    assert_eq!(hidden(&html, "csrf"), csrf, "the re-rendered form carries the valid token");
    let html = page(&lab, &alice, &format!("/notes?id={id}")).await;
    assert_eq!((title_field(&html).unwrap(), textarea(&html).unwrap()), ("Kept".into(), "the stored text".into()));

    // Nor does a stale form create, send or delete anything.
    for action in ["todo", "delete"] {
        assert_eq!(
            post(&lab, &alice, &format!("/notes/{id}/{action}"), &stale).await.status(),
            StatusCode::BAD_REQUEST
        );
    }
    let html = page(&lab, &alice, &format!("/notes?id={id}")).await;
    assert_eq!(textarea(&html).as_deref(), Some("the stored text"));
    assert_eq!(todo_titles(&html), SEED_TODOS);
}

#[tokio::test]
async fn send_to_todos_saves_first_then_toggles() {
    let lab = TestLab::start().await;
    let alice = lab.notes_login(ALICE).await;
    let csrf = hidden(&page(&lab, &alice, "/notes").await, "csrf");
    let id = create_note(&lab, &alice, &csrf, "Draft", "first draft").await;

    let form = [("csrf", csrf.as_str()), ("title", "Book the <venue> & caterer"), ("body", "edited, then sent")];
    let resp = post(&lab, &alice, &format!("/notes/{id}/todo"), &form).await;
    assert_eq!(see_other(&resp), format!("/notes?id={id}&flash=sent"));
    let html = page(&lab, &alice, &location(&resp)).await;
    assert!(html.contains("Sent to your todos."));
    assert_eq!(textarea(&html).as_deref(), Some("edited, then sent"), "the note was saved first");
    let list = todos(&html);
    assert_eq!(list.len(), 5);
    let (todo, title, done) = list.last().unwrap().clone();
    assert_eq!((title.as_str(), done), ("Book the <venue> & caterer", false));

    let note = id.to_string();
    for completed in ["true", "false"] {
        let form = [("csrf", csrf.as_str()), ("note", note.as_str()), ("completed", completed)];
        let resp = post(&lab, &alice, &format!("/todos/{todo}/toggle"), &form).await;
        assert_eq!(see_other(&resp), format!("/notes?id={id}"));
        let html = page(&lab, &alice, &location(&resp)).await;
        let now_done = todos(&html).into_iter().find(|t| t.0 == todo).unwrap().2;
        assert_eq!(now_done, completed == "true");
    }
    let form = [("csrf", "stale"), ("note", note.as_str()), ("completed", "true")];
    assert_eq!(post(&lab, &alice, &format!("/todos/{todo}/toggle"), &form).await.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn cached_token_outlives_a_revoked_connection_until_refresh() {
    let lab = TestLab::start().await;
    let alice = lab.notes_login(ALICE).await;
    let html = page(&lab, &alice, "/notes").await;
    assert_eq!(todo_titles(&html), SEED_TODOS);
    let csrf = hidden(&html, "csrf");

    let all = lab.lab.connections();
    lab.lab.set_connections(all.iter().filter(|c| c.client_id != NOTES_CLIENT).cloned().collect()).await.unwrap();
    assert_eq!(todo_titles(&page(&lab, &alice, "/notes").await), SEED_TODOS, "the cached access token still works");

    let resp = post(&lab, &alice, "/todos/refresh", &[("csrf", &csrf), ("note", "")]).await;
    assert_eq!(see_other(&resp), "/notes");
    let html = page(&lab, &alice, "/notes").await;
    assert!(todos(&html).is_empty());
    assert!(html.contains("<code id=\"problem-error\">invalid_target</code>"), "{html}");
    assert!(html.contains("IT has not connected this app to the todo app"));
    // The pane shows the IdP's own error_description for the same exchange.
    let callback = format!("{}/auth/callback", lab.notes());
    let login = lab.login_as(NOTES_CLIENT, NOTES_SECRET, &callback, ALICE).await;
    let params = with(&lab.exchange_params(&login.id_token), "client_id", Some(NOTES_CLIENT));
    let params = with(&params, "client_secret", Some(NOTES_SECRET));
    let described = assert_oauth_error(lab.idp_token(&params).await, 400, "invalid_target").await;
    assert_eq!(problem_description(&html), described);

    // Notes keep working.
    let id = create_note(&lab, &alice, &csrf, "Still here", "notes do not need the todo app").await;
    let html = page(&lab, &alice, &format!("/notes?id={id}")).await;
    assert_eq!(textarea(&html).as_deref(), Some("notes do not need the todo app"));
    assert!(html.contains("id=\"todo-problem\""));

    lab.lab.set_connections(all).await.unwrap();
    assert_eq!(todo_titles(&page(&lab, &alice, "/notes").await), SEED_TODOS, "granted again, todos are back");
}

#[tokio::test]
async fn todo_api_down_is_explained_and_notes_still_listed() {
    let lab = TestLab::start().await;
    let alice = lab.notes_login(ALICE).await;
    let csrf = hidden(&page(&lab, &alice, "/notes").await, "csrf");
    let id = create_note(&lab, &alice, &csrf, "Offline note", "written before the outage").await;
    assert!(lab.lab.stop_component("todo-api"));
    let resp = post(&lab, &alice, "/todos/refresh", &[("csrf", &csrf), ("note", &id.to_string())]).await;
    assert_eq!(location(&resp), format!("/notes?id={id}"));

    let html = page(&lab, &alice, "/notes").await;
    assert!(!problem_description(&html).is_empty());
    assert!(html.contains("The server did not answer. Is the lab still running? Your notes are safe."), "{html}");
    assert!(html.contains("<dt>Step</dt><dd>Call to the todo API</dd>"));
    assert!(html.contains(&format!("href=\"/notes?id={id}\"")) && html.contains("Offline note"), "notes still listed");
    assert!(todos(&html).is_empty());
    let html = page(&lab, &alice, &format!("/notes?id={id}")).await;
    assert_eq!(textarea(&html).as_deref(), Some("written before the outage"));
}

#[tokio::test]
async fn expired_id_token_sends_the_user_back_through_the_idp() {
    let lab = TestLab::start().await;
    let alice = lab.notes_login(ALICE).await;
    assert_eq!(todo_titles(&page(&lab, &alice, "/notes").await), SEED_TODOS);

    // Past the ID token (600 s) but within the cached access token: todos still show.
    lab.clock.advance(700);
    assert_eq!(todo_titles(&page(&lab, &alice, "/notes").await), SEED_TODOS);

    // Past the access token too: no new ID-JAG without a new ID token, so sign in again.
    lab.clock.advance(7200 + 61 - 700);
    let login = redirected(&lab, &alice, "/notes").await;
    assert_eq!(login, "/auth/login?return_to=%2Fnotes");
    let authorize = redirected(&lab, &alice, &login).await;
    assert!(authorize.starts_with(&format!("{}/authorize?", lab.idp())));
    let callback = redirected(&lab, &alice, &authorize).await;
    assert!(callback.starts_with(&format!("{}/auth/callback?code=", lab.notes())), "SSO: no login page, {callback}");
    assert_eq!(redirected(&lab, &alice, &callback).await, "/notes");
    let html = page(&lab, &alice, "/notes").await;
    assert_eq!(todo_titles(&html), SEED_TODOS, "a fresh session reaches the todos again");
    assert!(!html.contains("id=\"todo-problem\""));
}

#[tokio::test]
async fn logout_ends_the_session_here_and_at_the_idp() {
    let lab = TestLab::start().await;
    let alice = lab.notes_login(ALICE).await;
    let csrf = hidden(&page(&lab, &alice, "/notes").await, "csrf");

    let resp = post(&lab, &alice, "/auth/logout", &[("csrf", "wrong")]).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.text().await.unwrap().contains("Log out failed"));
    assert_eq!(post(&lab, &alice, "/auth/logout", &[]).await.status(), StatusCode::BAD_REQUEST);
    page(&lab, &alice, "/notes").await;

    let resp = post(&lab, &alice, "/auth/logout", &[("csrf", &csrf)]).await;
    let end = see_other(&resp);
    let (cleared, _) = set_cookie(&resp, "xaa_notes_session").expect("the session cookie is removed");
    assert!(cleared.is_empty());
    assert!(end.starts_with(&format!("{}/session/end?", lab.idp())), "{end}");
    let hint = query_param(&end, "id_token_hint").expect("id_token_hint");
    assert_eq!(decode(&hint).1["aud"], NOTES_CLIENT);
    assert_eq!(query_param(&end, "client_id").as_deref(), Some(NOTES_CLIENT));
    let home = format!("{}/", lab.notes());
    assert_eq!(query_param(&end, "post_logout_redirect_uri").as_deref(), Some(home.as_str()));

    assert_eq!(redirected(&lab, &alice, &end).await, home);
    assert_eq!(redirected(&lab, &alice, "/notes").await, "/auth/login?return_to=%2Fnotes");
    // The IdP session ended too: signing in again shows the login page.
    let authorize = redirected(&lab, &alice, "/auth/login").await;
    assert_eq!(alice.get(&authorize).send().await.unwrap().status(), StatusCode::OK);
    // The old CSRF token is worthless now.
    let resp = post(&lab, &alice, "/auth/logout", &[("csrf", &csrf)]).await;
    assert_eq!(see_other(&resp), "/");
}

#[tokio::test]
async fn callback_refuses_a_foreign_state_or_a_missing_login_cookie() {
    let lab = TestLab::start().await;
    let browser = lab.browser();
    let authorize = redirected(&lab, &browser, "/auth/login").await;
    let callback = lab.login_redirect(&browser, &authorize, ALICE).await;
    let code = query_param(&callback, "code").unwrap();
    let forged = format!("{}/auth/callback?code={code}&state=not-issued-here&iss={}", lab.notes(), lab.idp());

    let refused = |resp: Response| async move {
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert!(set_cookie(&resp, "xaa_notes_session").is_none(), "no session cookie");
        let html = resp.text().await.unwrap();
        assert!(html.contains("Sign-in expired") && html.contains("class=\"error\""), "{html}");
    };
    // A state this app never issued, in the browser that started the sign-in.
    refused(browser.get(&forged).send().await.unwrap()).await;
    // The genuine callback in a browser without the login cookie (another browser, or an attacker's).
    let other = lab.browser();
    refused(other.get(&callback).send().await.unwrap()).await;
    assert_eq!(redirected(&lab, &other, "/notes").await, "/auth/login?return_to=%2Fnotes");

    // The refusals consumed nothing: the browser that started the sign-in completes it.
    let done = browser.get(&callback).send().await.unwrap();
    assert_eq!(see_other(&done), "/notes");
    assert!(set_cookie(&done, "xaa_notes_session").is_some());
    assert!(page(&lab, &browser, "/notes").await.contains(ALICE));
}

#[tokio::test]
async fn sign_in_returns_only_to_local_paths() {
    let lab = TestLab::start().await;
    let home = format!("{}/notes", lab.notes());
    for evil in ["https://evil.example/", "//evil.example/", "/\\evil.example", "/\t/evil.example", "/\n/evil.example"]
    {
        let browser = lab.browser();
        let q = form_urlencoded::Serializer::new(String::new()).append_pair("return_to", evil).finish();
        let authorize = redirected(&lab, &browser, &format!("/auth/login?{q}")).await;
        let done = browser.get(lab.login_redirect(&browser, &authorize, ALICE).await).send().await.unwrap();
        assert_eq!(done.status(), StatusCode::SEE_OTHER, "return_to {evil:?}");
        // Resolved as a browser does (WHATWG URL parsing drops tabs and newlines).
        let loc = String::from_utf8_lossy(done.headers()["location"].as_bytes()).into_owned();
        let followed = reqwest::Url::parse(&home).unwrap().join(&loc).unwrap();
        assert_eq!(followed.as_str(), home, "return_to {evil:?} leads to {loc:?}");
    }
}

/// Cookies on localhost ignore ports: a page on another port could send the notes app's and the
/// IdP's cookies with a forged form. Both refuse a form whose Origin is not their own.
#[tokio::test]
async fn forms_posted_by_pages_of_other_origins_are_refused() {
    let lab = TestLab::start().await;
    let alice = lab.notes_login("alice@acme.example").await;
    let csrf = hidden(&page(&lab, &alice, "/notes").await, "csrf");
    let form = [("csrf", csrf.as_str()), ("title", "forged"), ("body", "from another port")];
    let resp = alice
        .post(format!("{}/notes", lab.notes()))
        .header("origin", "http://localhost:3000")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(resp.text().await.unwrap().contains("sent by a page of another site or port"));
    assert!(!page(&lab, &alice, "/notes").await.contains("forged"), "no note was created");
    // From its own page it works.
    let resp = alice.post(format!("{}/notes", lab.notes())).header("origin", lab.notes()).form(&form).send().await;
    assert_eq!(resp.unwrap().status(), StatusCode::SEE_OTHER);

    // The IdP's login form likewise.
    let browser = lab.browser();
    let login_page = browser.get(lab.authorize_url(CLIENT, REDIRECT, &[])).send().await.unwrap().text().await.unwrap();
    let (login, csrf) = (hidden(&login_page, "login"), hidden(&login_page, "csrf"));
    let resp = browser
        .post(format!("{}/login/email", lab.idp()))
        .header("origin", "http://localhost:3000")
        .form(&[("login", login.as_str()), ("csrf", csrf.as_str()), ("email", "mallory@acme.example")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
}

/// A break-it switch as the reference requestor shows it: the todo API's deliberate 503.
#[tokio::test]
async fn the_todos_pane_explains_a_todo_api_outage() {
    let lab = TestLab::start().await;
    let alice = lab.notes_login("alice@acme.example").await;
    let on = lab.admin(reqwest::Method::PUT, "/api/admin/switches/todo-api-unavailable").send().await.unwrap();
    assert_eq!(on.status(), StatusCode::OK);
    let html = unescape(&page(&lab, &alice, "/notes").await);
    assert!(html.contains("The todo API is down for now"), "{html}");
    assert!(html.contains("temporarily_unavailable") && html.contains("503"), "{html}");
    let off = lab.admin(reqwest::Method::DELETE, "/api/admin/switches/todo-api-unavailable").send().await.unwrap();
    assert_eq!(off.status(), StatusCode::OK);
    assert!(unescape(&page(&lab, &alice, "/notes").await).contains("Read the ID-JAG draft"), "the todos are back");
}

/// The kept trace events recorded after event `after` that are `step` (`jwt-bearer`, `todo API`).
fn traced_since(lab: &TestLab, after: u64, step: &str) -> usize {
    let events = lab.lab.trace_events(&xaa_lab::observe::trace::TraceFilter::default());
    events.iter().filter(|e| e.id > after && e.step == step).count()
}

/// The id of the last event the trace kept.
fn last_event(lab: &TestLab) -> u64 {
    lab.lab.trace_events(&xaa_lab::observe::trace::TraceFilter::default()).last().map_or(0, |e| e.id)
}

/// The reference requestor checks the `resource` member of both token responses (post-04
/// candidate C1): a token for a resource it did not ask for is discarded, no call is made with
/// it, and the todos pane says why.
#[tokio::test]
async fn a_token_for_a_resource_not_asked_for_is_discarded_unused() {
    let lab = TestLab::start().await;
    let alice = lab.notes_login(ALICE).await;
    let wrong = xaa_lab::faults::WRONG_RESOURCE;
    let found = format!(
        "The response names resource \"{wrong}\", which was not asked for (asked for: {}); the token must not be used. Lab Notes discarded the token and made no call with it.",
        lab.api()
    );
    for (switch, step, never) in [
        ("exchange-wrong-resource", "Token exchange at the IdP", "jwt-bearer"),
        ("grant-wrong-resource", "JWT bearer grant at the todo app's authorization server", "todo API"),
    ] {
        let on = lab.admin(reqwest::Method::PUT, &format!("/api/admin/switches/{switch}")).send().await.unwrap();
        assert_eq!(on.status(), StatusCode::OK);
        let before = last_event(&lab);
        let html = page(&lab, &alice, "/notes").await;
        assert_eq!(problem_description(&html), found, "{switch}");
        assert!(html.contains(&format!("<dt>Step</dt><dd>{}</dd>", step.replace('\'', "&#39;"))), "{switch}: {html}");
        assert!(html.contains("<dt>HTTP status</dt><dd>200</dd>") && html.contains("<dt>What Lab Notes found</dt>"));
        assert!(html.contains("so the app threw the token away without using it"), "{html}");
        assert!(todos(&html).is_empty(), "{switch}: no todos");
        assert_eq!(traced_since(&lab, before, never), 0, "{switch}: no {never} call with the discarded token");
        assert!(traced_since(&lab, before, "token exchange") > 0, "{switch}: the exchange did run");
        let off = lab.admin(reqwest::Method::DELETE, &format!("/api/admin/switches/{switch}")).send().await.unwrap();
        assert_eq!(off.status(), StatusCode::OK);
    }
    // Nothing discarded was cached: with both switches off the todos are back.
    assert_eq!(todo_titles(&page(&lab, &alice, "/notes").await), SEED_TODOS);
}
