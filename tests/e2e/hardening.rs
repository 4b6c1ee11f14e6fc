//! The lab under ordinary and hostile load: form posts over HTTP/2 (browsers over `--tls`), a
//! bounded live trace, and bounded connections.

use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::*;

/// Which HTTP a test request is sent with.
#[derive(Clone, Copy, Debug)]
enum Http {
    One,
    Two,
}

/// A form POST over real HTTP/1.1 or HTTP/2 (prior knowledge; over TLS when the URL is https),
/// with an `Origin` header. HTTP/2 names the host only in `:authority`, as browsers send it.
async fn post_form(lab: &TestLab, http: Http, url: &str, origin: &str, form: &str) -> (u16, String) {
    let parsed = reqwest::Url::parse(url).unwrap();
    let (host, port) = (parsed.host_str().unwrap().to_owned(), parsed.port_or_known_default().unwrap());
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let request = hyper::Request::post(url)
        .header("origin", origin)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(form.to_owned())))
        .unwrap();
    if parsed.scheme() == "https" {
        let ca = native_tls::Certificate::from_pem(lab.lab.ca_cert_pem().unwrap()).unwrap();
        let connector = native_tls::TlsConnector::builder().add_root_certificate(ca).build().unwrap();
        let tls = tokio_native_tls::TlsConnector::from(connector).connect(&host, tcp).await.unwrap();
        send(http, hyper_util::rt::TokioIo::new(tls), request, &host, port).await
    } else {
        send(http, hyper_util::rt::TokioIo::new(tcp), request, &host, port).await
    }
}

async fn send<IO>(http: Http, io: IO, request: hyper::Request<Full<Bytes>>, host: &str, port: u16) -> (u16, String)
where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let resp = match http {
        Http::Two => {
            let (mut sender, conn) =
                hyper::client::conn::http2::handshake(hyper_util::rt::TokioExecutor::new(), io).await.unwrap();
            tokio::spawn(conn);
            let resp = sender.send_request(request).await.unwrap();
            assert_eq!(resp.version(), hyper::Version::HTTP_2);
            resp
        }
        Http::One => {
            let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
            tokio::spawn(conn);
            let (mut parts, body) = request.into_parts();
            // HTTP/1.1 sends the request target in origin form with a Host header.
            parts.uri = parts.uri.path_and_query().unwrap().as_str().parse().unwrap();
            parts.headers.insert("host", format!("{host}:{port}").parse().unwrap());
            sender.send_request(hyper::Request::from_parts(parts, body)).await.unwrap()
        }
    };
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn origin_of(url: &str) -> String {
    let u = reqwest::Url::parse(url).unwrap();
    format!("{}://{}:{}", u.scheme(), u.host_str().unwrap(), u.port().unwrap())
}

/// Every kind of form the lab serves (IdP login, Lab Notes, console), posted from the same
/// origin and from another one, over HTTP/1.1 and HTTP/2.
async fn forms_judge_the_origin_alike_over_both_protocols(lab: &TestLab) {
    let forms = [
        (format!("{}/login/email", lab.idp()), "email=alice%40acme.example"),
        (format!("{}/session/end", lab.idp()), ""),
        (format!("{}/auth/logout", lab.notes()), ""),
        (format!("{}/inspect", lab.console()), "token=x"),
    ];
    for http in [Http::One, Http::Two] {
        for (url, form) in &forms {
            let (status, body) = post_form(lab, http, url, &origin_of(url), form).await;
            assert!(
                status != 403 && !body.contains("Request refused"),
                "{http:?} {url} from its own origin was refused: {status} {body}"
            );
            let (status, body) = post_form(lab, http, url, "http://localhost:1", form).await;
            assert_eq!(status, 403, "{http:?} {url} from another origin: {body}");
            assert!(body.contains("This form was sent by a page of another site or port"), "{body}");
        }
    }
}

#[tokio::test]
async fn forms_over_http2_pass_the_origin_check_in_plain_http() {
    let lab = TestLab::start().await;
    forms_judge_the_origin_alike_over_both_protocols(&lab).await;
}

#[tokio::test]
async fn forms_over_http2_pass_the_origin_check_over_tls() {
    let lab = TestLab::start_tls().await;
    forms_judge_the_origin_alike_over_both_protocols(&lab).await;
}

async fn trace_events(lab: &TestLab) -> Vec<Value> {
    let body: Value = lab.http.get(format!("{}/trace.json", lab.console())).send().await.unwrap().json().await.unwrap();
    body["events"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_body_refused_for_its_size_is_not_kept_in_the_trace() {
    let lab = TestLab::start().await;
    let huge = format!("grant_type=client_credentials&title={}", "x".repeat(1_500_000));
    let resp = lab
        .http
        .post(format!("{}/token", lab.idp()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let events = trace_events(&lab).await;
    let refused = events.iter().find(|e| e["status"] == 413).expect("the refusal is traced");
    assert_eq!(refused["request"], serde_json::json!([["body", "not kept: refused for its size"]]));
}

#[tokio::test]
async fn hostile_requests_leave_the_trace_within_its_budget() {
    let budget = 32 * 1024;
    let lab = TestLab::start_configured(|c| c.trace_budget = budget).await;
    // Many small fields, long names and values, under the token endpoint's 64 KiB: worth tens of
    // MB to a trace that kept everything, as the components' larger limits allow.
    let body = format!("{}&{}={}", "a=1&".repeat(10_000), "k".repeat(5000), "v".repeat(15_000));
    for _ in 0..12 {
        let resp = lab
            .http
            .post(format!("{}/token", lab.idp()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_client_error(), "{}", resp.status());
    }
    let text = lab.http.get(format!("{}/trace.json", lab.console())).send().await.unwrap().text().await.unwrap();
    assert!(text.len() < budget, "the trace export is {} bytes", text.len());
    assert!(lab.lab.trace_kept_bytes() <= budget, "{} bytes kept", lab.lab.trace_kept_bytes());
    let events: Value = serde_json::from_str(&text).unwrap();
    let last = events["events"].as_array().unwrap().last().unwrap().clone();
    let request = last["request"].as_array().unwrap();
    assert_eq!(request.len(), 41, "40 parameters and a count of the rest");
    assert_eq!(request[40], serde_json::json!(["…", "9961 more parameters not kept"]));
}

#[tokio::test]
async fn the_trace_page_pages_through_flows_and_streams_rendered_rows() {
    let lab = TestLab::start().await;
    for i in 0..25 {
        let url =
            lab.authorize_url(NOTES_CLIENT, &format!("{}/auth/callback", lab.notes()), &[("state", &format!("s{i}"))]);
        let client_id = format!("app-{i}");
        let url = url.replace(&format!("client_id={NOTES_CLIENT}"), &format!("client_id={client_id}"));
        lab.http.get(url).send().await.unwrap();
    }
    let console = lab.console();
    let page = lab.http.get(format!("{console}/trace")).send().await.unwrap().text().await.unwrap();
    assert_eq!(page.matches("class=\"trace-flow\"").count(), 20, "the newest 20 flows");
    assert!(page.contains("<code>app-24</code>") && !page.contains("<code>app-0</code>"));
    let older = page.split("id=\"older\" href=\"").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&");
    let page2 = lab.http.get(format!("{console}{older}")).send().await.unwrap().text().await.unwrap();
    assert!(page2.contains("<code>app-0</code>") && !page2.contains("<code>app-24</code>"), "older flows");
    assert!(page2.contains("older flows (not live)"));

    let mut stream = lab.http.get(format!("{console}/trace/events?view=html")).send().await.unwrap();
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    lab.http.get(format!("{}/jwks", lab.idp())).send().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut text = String::new();
    while !text.contains("event: rows") {
        let chunk = tokio::time::timeout_at(deadline.into(), stream.chunk()).await.expect("rows arrive").unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
    }
    let data = text.split("data: ").nth(1).unwrap().lines().next().unwrap();
    let batch: Value = serde_json::from_str(data).unwrap();
    let row = &batch["rows"][0];
    assert_eq!(row["flow"], 0);
    assert!(row["html"].as_str().unwrap().contains("GET localhost:"), "{row}");
    assert!(row["head"].as_str().unwrap().contains("id=\"flow-0\""), "{row}");
}

/// A raw TCP connection that has been closed by the server (EOF or reset) within `within`.
pub async fn closed_within(conn: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline.into(), conn.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

pub fn port_of(url: &str) -> u16 {
    reqwest::Url::parse(url).unwrap().port().unwrap()
}

#[tokio::test]
async fn held_connections_cannot_starve_the_other_components() {
    let lab = TestLab::start_configured(|c| {
        c.connections.per_listener = 8;
        c.connections.per_address = Some(8);
        c.connections.idle_timeout = Duration::from_millis(600);
        c.connections.header_read_timeout = Duration::from_millis(600);
    })
    .await;
    let idp = port_of(lab.idp());
    // Eight connections half-way through a request head take the IdP's slots, none idle.
    let mut held = Vec::new();
    for _ in 0..8 {
        let mut c = TcpStream::connect(("127.0.0.1", idp)).await.unwrap();
        c.write_all(b"GET /jwks HTTP/1.1\r\nHost: localhost\r\nX-Slow: ").await.unwrap();
        held.push(c);
    }
    tokio::time::sleep(Duration::from_millis(50)).await; // let the server accept them
    let mut ninth = TcpStream::connect(("127.0.0.1", idp)).await.unwrap();
    assert!(closed_within(&mut ninth, Duration::from_millis(300)).await, "a ninth connection is closed at once");
    // The other components still answer while the IdP is full.
    let todo = lab.http.get(format!("{}/.well-known/oauth-protected-resource", lab.api())).send().await.unwrap();
    assert_eq!(todo.status(), StatusCode::OK);
    let console = lab.http.get(lab.console()).send().await.unwrap();
    assert_eq!(console.status(), StatusCode::OK);
    // Half-sent heads are closed after the header timeout, and the IdP answers again.
    for (i, c) in held.iter_mut().enumerate() {
        assert!(closed_within(c, Duration::from_secs(5)).await, "held connection {i} was never closed");
    }
    let jwks = lab.http.get(format!("{}/jwks", lab.idp())).send().await.unwrap();
    assert_eq!(jwks.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_connection_in_use_is_not_cut_by_the_idle_timeout() {
    let lab = TestLab::start_configured(|c| {
        c.connections.idle_timeout = Duration::from_millis(400);
        c.connections.header_read_timeout = Duration::from_millis(400);
    })
    .await;
    // One keep-alive connection sending a request every 100 ms for well past the idle timeout.
    let mut conn = TcpStream::connect(("127.0.0.1", port_of(lab.idp()))).await.unwrap();
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(1500) {
        conn.write_all(b"GET /jwks HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 8192];
        while !String::from_utf8_lossy(&got).contains("\"keys\"") {
            let n = conn.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed while in use after {:?}", started.elapsed());
            got.extend_from_slice(&buf[..n]);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every server labels every answer `X-Content-Type-Options: nosniff`: pages, JSON, the trace's
/// plain-text Mermaid export, redirects (a trailing-slash typo, the notes app's sign-in) and 404s.
#[tokio::test]
async fn every_server_sends_nosniff_on_every_answer() {
    let lab = TestLab::start().await;
    let browser = lab.notes_login("alice@acme.example").await;
    assert_eq!(lab.notes_page(&browser, "/notes").await.0, StatusCode::OK);
    let url = format!("{}/trace.json", lab.console());
    let events: Value = lab.http.get(url).send().await.unwrap().json().await.unwrap();
    let flow = events["events"].as_array().unwrap().iter().find_map(|e| e["flow"].as_u64()).expect("a traced flow");
    let token = lab.full_chain("alice@acme.example").await;
    let (idp, authz, api, console, notes) = (lab.idp(), lab.authz(), lab.api(), lab.console(), lab.notes());
    let answers = [
        (format!("{idp}/.well-known/openid-configuration"), 200),
        (format!("{idp}/authorize"), 400),
        (format!("{idp}/jwks/"), 308),
        (format!("{idp}/no-such-page"), 404),
        (format!("{authz}/.well-known/oauth-authorization-server"), 200),
        (format!("{authz}/no-such-page"), 404),
        (format!("{api}/api/todos"), 401),
        (format!("{api}/no-such-page"), 404),
        (format!("{console}/"), 200),
        (format!("{console}/trace/flows/{flow}/mermaid"), 200),
        (format!("{console}/trace/"), 308),
        (format!("{console}/no-such-page"), 404),
        (format!("{notes}/"), 200),
        (format!("{notes}/auth/login"), 303),
        (format!("{notes}/no-such-page"), 404),
    ];
    for (url, status) in answers {
        let resp = lab.http.get(&url).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), status, "{url}");
        assert_eq!(resp.headers().get("x-content-type-options").map(|v| v.to_str().unwrap()), Some("nosniff"), "{url}");
    }
    let resp = lab.todo(reqwest::Method::GET, "/api/todos", &token).send().await.unwrap();
    assert_eq!((resp.status().as_u16(), resp.headers()["x-content-type-options"].to_str().unwrap()), (200, "nosniff"));
}

/// A fresh data dir is the owner's only: the directory 0700, and every file in it (the SQLite
/// databases with their `-wal` and `-shm`, the lock) 0600, after sign-ins and a registration
/// wrote to them. A data dir made wider beforehand is narrowed at the next start.
#[tokio::test]
async fn a_fresh_data_dir_is_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("xaa-e2e-data-modes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let storage = xaa_lab::Storage::Dir(dir.clone());
    let lab = TestLab::start_configured(|c| c.storage = storage.clone()).await;
    let browser = lab.notes_login("alice@acme.example").await;
    assert_eq!(lab.notes_page(&browser, "/notes").await.0, StatusCode::OK);
    let body = serde_json::json!({ "name": "Modes", "redirect_uris": ["http://localhost:3000/cb"] });
    let resp = lab.admin(reqwest::Method::POST, "/api/admin/clients").json(&body).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let registered: Value = resp.json().await.unwrap();
    let secret = registered["client_secret"].as_str().unwrap().to_owned();
    let open: Value = serde_json::json!({ "client_name": "Open", "redirect_uris": ["http://localhost:3000/cb"] });
    let resp = lab.http.post(format!("{}/register", lab.idp())).json(&open).send().await.unwrap();
    let open_secret = resp.json::<Value>().await.unwrap()["client_secret"].as_str().unwrap().to_owned();
    let modes = |dir: &std::path::Path| {
        let mut out = vec![(".".to_owned(), std::fs::metadata(dir).unwrap().permissions().mode() & 0o777)];
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            out.push((e.file_name().into_string().unwrap(), e.metadata().unwrap().permissions().mode() & 0o777));
        }
        out.sort();
        out
    };
    let seen = modes(&dir);
    for name in
        ["idp.sqlite", "idp.sqlite-wal", "idp.sqlite-shm", "notes.sqlite-wal", "resource.sqlite-wal", "lab.lock"]
    {
        assert!(seen.iter().any(|(n, _)| n == name), "{name} in {seen:?}");
    }
    for (name, mode) in &seen {
        let want = if name == "." { 0o700 } else { 0o600 };
        assert_eq!(*mode, want, "{name} is {mode:o} in {seen:?}");
    }
    // The IdP keeps registered clients' secrets as hashes only (item 7): no file holds them.
    for name in ["idp.sqlite", "idp.sqlite-wal"] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        for s in [&secret, &open_secret] {
            assert!(!bytes.windows(s.len()).any(|w| w == s.as_bytes()), "{name} holds a client secret");
        }
    }
    lab.0.lab.shutdown(Duration::from_secs(1)).await;

    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let again = TestLab::start_configured(|c| c.storage = storage.clone()).await;
    assert_eq!(modes(&dir)[0], (".".to_owned(), 0o700), "narrowed at the start");
    again.0.lab.shutdown(Duration::from_secs(1)).await;
    let _ = std::fs::remove_dir_all(&dir);
}
