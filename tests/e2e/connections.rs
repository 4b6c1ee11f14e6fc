//! Room-grade listeners: one client address holding a listener's connections cannot shut the
//! others out of it, and connections close when the help says they do (idle ones after
//! `--idle-timeout`, a started request head after the header timeout).

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::hardening::{closed_within, port_of};
use crate::harness::*;

/// The address that holds connections (Linux loopback answers all of 127/8).
const HOLDER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

/// `n` idle connections from `from` to `port` on 127.0.0.1, in order, each connected before the next.
async fn hold(from: Ipv4Addr, port: u16, n: usize) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::from((from, 0))).unwrap();
        held.push(socket.connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await; // let the server accept them all
    held
}

/// How many of `held` the server has not closed.
async fn still_open(held: &mut [TcpStream]) -> usize {
    let mut open = 0;
    for conn in held {
        if !closed_within(conn, Duration::from_millis(50)).await {
            open += 1;
        }
    }
    open
}

/// The RFC 8693 token exchange of `id_token` over a client with no pooled connection, so the
/// IdP has to accept a new one; returns the ID-JAG.
async fn exchange_on_a_new_connection(lab: &TestLab, id_token: &str) -> String {
    let resp = client(None)
        .post(format!("{}/token", lab.idp()))
        .form(&lab.exchange_params(id_token))
        .send()
        .await
        .expect("the IdP takes a new connection from 127.0.0.1");
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["issued_token_type"], "urn:ietf:params:oauth:token-type:id-jag");
    body["access_token"].as_str().unwrap().to_owned()
}

/// Issue 21 item 1: 127.0.0.2 opens as many idle connections as the IdP takes; it keeps only its
/// share (half), and 127.0.0.1 signs in and exchanges a token on new connections meanwhile.
#[tokio::test]
async fn one_address_holding_the_idp_cap_does_not_stop_another_exchanging_a_token() {
    let lab = TestLab::start_configured(|c| {
        c.connections.per_listener = 16;
        // Long enough that nothing the holder opened closes by itself during the test.
        c.connections.idle_timeout = Duration::from_secs(60);
        c.connections.header_read_timeout = Duration::from_secs(60);
    })
    .await;
    let mut held = hold(HOLDER, port_of(lab.idp()), 16).await;

    let started = Instant::now();
    let login = lab.login("alice@acme.example").await;
    let id_jag = exchange_on_a_new_connection(&lab, &login.id_token).await;
    assert_eq!(decode(&id_jag).0["typ"], "oauth-id-jag+jwt");
    eprintln!("sign-in and token exchange beside 16 held connections: {:?}", started.elapsed());

    assert_eq!(still_open(&mut held).await, 8, "127.0.0.2 keeps half of the 16 slots");
}

/// With the share raised to the whole listener (a room behind one NAT address), 127.0.0.2 holds
/// all 16 idle connections; 127.0.0.1's new connections take the places of the quietest of them.
#[tokio::test]
async fn a_full_listener_closes_the_holders_idle_connections_to_let_another_address_in() {
    let lab = TestLab::start_configured(|c| {
        c.connections.per_listener = 16;
        c.connections.per_address = Some(16);
        c.connections.idle_timeout = Duration::from_secs(60);
        c.connections.header_read_timeout = Duration::from_secs(60);
    })
    .await;
    let mut held = hold(HOLDER, port_of(lab.idp()), 16).await;
    let before = still_open(&mut held).await;
    assert!(before >= 15, "127.0.0.2 holds the listener: {before} of 16 open");

    let started = Instant::now();
    let login = lab.login("alice@acme.example").await;
    exchange_on_a_new_connection(&lab, &login.id_token).await;
    eprintln!("sign-in and token exchange beside 16 held connections: {:?}", started.elapsed());

    let after = still_open(&mut held).await;
    assert!(after < before, "the newcomers took idle connections' places: {after} of 16 open");
    assert!(before - after <= 4, "only as many as the newcomers needed: {before} then {after} open");
}

/// How long after `since` the server closed `conn` (`None`: still open after `within`).
async fn closed_after(conn: &mut TcpStream, since: Instant, within: Duration) -> Option<Duration> {
    closed_within(conn, within).await.then(|| since.elapsed())
}

/// Issue 21 item 5, with the idle timeout at 2 s and the header timeout at 0.8 s: a connection
/// never used and one kept alive after a response both close after the idle timeout, not the
/// header timeout; one that has sent part of a request head closes after the header timeout.
#[tokio::test]
async fn idle_connections_close_after_the_idle_timeout_and_a_started_head_after_the_header_timeout() {
    let idle = Duration::from_millis(2000);
    let header = Duration::from_millis(800);
    let lab = TestLab::start_configured(|c| {
        c.connections.idle_timeout = idle;
        c.connections.header_read_timeout = header;
    })
    .await;
    let port = port_of(lab.idp());

    let mut kept_alive = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    kept_alive.write_all(b"GET /jwks HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    while !String::from_utf8_lossy(&got).contains("\"keys\"") {
        let n = kept_alive.read(&mut buf).await.unwrap();
        assert!(n > 0, "the response arrives");
        got.extend_from_slice(&buf[..n]);
    }
    let kept_alive_since = Instant::now();
    let never_used_since = Instant::now();
    let mut never_used = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let half_sent_since = Instant::now();
    let mut half_sent = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    half_sent.write_all(b"GET /jwks HTTP/1.1\r\nHost: localhost\r\n").await.unwrap();

    let within = Duration::from_secs(5);
    let (kept_alive, never_used, half_sent) = tokio::join!(
        closed_after(&mut kept_alive, kept_alive_since, within),
        closed_after(&mut never_used, never_used_since, within),
        closed_after(&mut half_sent, half_sent_since, within),
    );
    let (kept_alive, never_used, half_sent) =
        (kept_alive.expect("kept alive: closed"), never_used.expect("never used: closed"), half_sent.expect("closed"));
    eprintln!("closed after: kept alive {kept_alive:?}, never used {never_used:?}, half-sent head {half_sent:?}");
    for (what, after) in [("kept alive", kept_alive), ("never used", never_used)] {
        assert!(after >= idle - Duration::from_millis(50), "{what}: closed after {after:?}, before the idle timeout");
        assert!(
            after < idle + Duration::from_millis(1000),
            "{what}: closed after {after:?}, long past the idle timeout"
        );
    }
    assert!(half_sent >= header - Duration::from_millis(50), "half-sent head closed after {half_sent:?}");
    assert!(half_sent < header + Duration::from_millis(700), "half-sent head closed after {half_sent:?}");
}
