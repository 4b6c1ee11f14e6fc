//! `--public-host`: a lab a room reaches by another name. Linux routes all of 127.0.0.0/8 to the
//! loopback interface, so `127.0.0.2` stands in for the machine's LAN address.

use std::net::{IpAddr, Ipv4Addr};
use std::process::Command;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::admin::{admin_json, register, text};
use crate::binary::{Running, lab_binary, temp_dir};
use crate::harness::*;

const ROOM: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

fn room(c: &mut xaa_lab::LabConfig) {
    c.bind = ROOM;
    c.public_hosts = vec!["127.0.0.2".into()];
}

async fn json_at(lab: &TestLab, url: &str) -> Value {
    let resp = lab.http.get(url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{url}");
    resp.json().await.unwrap()
}

/// Every issuer, resource identifier and metadata URL, the tokens, the `.env` and the ready file
/// name the public host; the whole flow (and Lab Notes, which calls the public URLs) works.
#[tokio::test]
async fn every_url_and_token_names_the_public_host() {
    let lab = TestLab::start_configured(room).await;
    let base = |service: &str| format!("http://127.0.0.2:{}", lab.lab.listening_on(service).unwrap().port());
    assert_eq!(lab.lab.listening_on("idp").unwrap().ip(), ROOM);
    let (idp, authz, api) = (base("idp"), base("resource-as"), base("todo-api"));
    assert_eq!((lab.idp(), lab.authz(), lab.api()), (idp.as_str(), authz.as_str(), api.as_str()));
    assert_eq!(lab.notes(), base("notes"));

    let discovery = json_at(&lab, &format!("{idp}/.well-known/openid-configuration")).await;
    assert_eq!(discovery["issuer"], idp.as_str());
    assert_eq!(discovery["jwks_uri"], format!("{idp}/jwks"));
    assert_eq!(discovery["token_endpoint"], format!("{idp}/token"));
    let as_meta = json_at(&lab, &format!("{authz}/.well-known/oauth-authorization-server")).await;
    assert_eq!(as_meta["issuer"], authz.as_str());
    assert_eq!(as_meta["jwks_uri"], format!("{authz}/jwks"));
    let prm = json_at(&lab, &format!("{api}/.well-known/oauth-protected-resource")).await;
    assert_eq!(prm["resource"], api.as_str());
    assert_eq!(prm["authorization_servers"][0], authz.as_str());

    let login = lab.login(ALICE_EMAIL).await;
    assert_eq!(decode(&login.id_token).1["iss"], idp.as_str());
    let jag = lab.id_jag(&login.id_token).await;
    let (_, claims) = decode(&jag);
    assert_eq!((claims["iss"].as_str(), claims["aud"].as_str()), (Some(idp.as_str()), Some(authz.as_str())));
    assert_eq!(claims["resource"], api.as_str());
    let token = lab.access_token(&jag).await;
    assert_eq!(decode(&token).1["aud"], api.as_str());
    assert_eq!(lab.todo_json("/api/todos", &token).await["success"], true);

    let ready = lab.lab.ready_json();
    for (key, url) in [("idp", &idp), ("authorization_server", &authz), ("todo_api", &api)] {
        assert_eq!(ready[key], url.as_str());
    }
    assert_eq!(ready["env"]["IDP_URL"], idp.as_str());
    assert_eq!(ready["env"]["AUTH_SERVER_URL"], authz.as_str());
    assert_eq!(ready["env"]["TODO_RESOURCE_SERVER"], api.as_str());
    let dotenv = lab.lab.env().to_dotenv();
    assert!(dotenv.contains(&format!("IDP_URL={idp}")) && !dotenv.contains("localhost:4"), "{dotenv}");

    // Lab Notes signs in and runs both exchanges through the public URLs.
    let browser = lab.notes_login(ALICE_EMAIL).await;
    let (status, page) = lab.notes_page(&browser, "/notes").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    // The console listens on loopback only, so it keeps its localhost URL.
    assert!(lab.console().starts_with("http://localhost:"), "{}", lab.console());
}

const ALICE_EMAIL: &str = "alice@acme.example";

/// In TLS mode the leaf covers the public host: a client that verifies host names trusts it.
#[tokio::test]
async fn the_tls_leaf_covers_the_public_host() {
    let lab = TestLab(xaa_lab::testing::TestLab::builder().tls(true).configure(room).start().await.unwrap());
    assert!(lab.idp().starts_with("https://127.0.0.2:"), "{}", lab.idp());
    let discovery = json_at(&lab, &format!("{}/.well-known/openid-configuration", lab.idp())).await;
    assert_eq!(discovery["issuer"], lab.idp());
    let pem = lab.lab.ca_cert().unwrap().parent().unwrap().join("localhost.pem");
    let leaf = openssl::x509::X509::from_pem(&std::fs::read(pem).unwrap()).unwrap();
    let text = String::from_utf8(leaf.to_text().unwrap()).unwrap();
    assert!(text.contains("IP Address:127.0.0.2") && text.contains("DNS:localhost"), "{text}");
    assert_eq!(lab.todo_json("/api/todos", &lab.full_chain(ALICE_EMAIL).await).await["success"], true);
}

/// A registered app keeps its connection when the lab comes back under another public host.
#[tokio::test]
async fn registrations_follow_a_change_of_public_host() {
    let dir = temp_dir("public-host-restart");
    let storage = xaa_lab::Storage::Dir(dir.clone());
    let lab = TestLab::start_configured(|c| c.storage = storage.clone()).await;
    let reg = register(&lab, "Room App").await;
    let id = text(&reg, "client_id").to_owned();
    lab.0.lab.shutdown(std::time::Duration::from_secs(1)).await;

    let again = TestLab::start_configured(|c| {
        c.storage = storage.clone();
        room(c);
    })
    .await;
    assert!(again.authz().starts_with("http://127.0.0.2:"));
    let (status, card) = admin_json(&again, Method::GET, &format!("/api/admin/clients/{id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{card}");
    assert_eq!(card["authorization_server"], again.authz(), "the connection follows the new host");
    let policy = again.lab.connections();
    let mine = policy.iter().find(|c| c.client_id == id).expect("the registered app's connection");
    assert_eq!((mine.authorization_server.as_str(), mine.resource.as_str()), (again.authz(), again.api()));
    let fixture = policy.iter().find(|c| c.client_id == CLIENT).expect("the fixture client's connection");
    assert_eq!(fixture.authorization_server, again.authz());
    let login = again.login_as(&id, text(&reg, "client_secret"), REDIRECT, ALICE_EMAIL).await;
    let params = with(&again.exchange_params(&login.id_token), "client_id", Some(&id));
    let params = with(&params, "client_secret", Some(text(&reg, "client_secret")));
    assert_eq!(again.idp_token(&params).await.status(), StatusCode::OK, "the registered app exchanges");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The binary: the ready file and banner name the public host, `lab env` too, and binding every
/// address without a public host warns what will not work.
#[tokio::test]
async fn the_binary_uses_the_public_host_and_warns_without_one() {
    let dir = temp_dir("public-host-bin");
    let lab = Running::start(&["--bind", "127.0.0.2", "--public-host", "127.0.0.2"], &dir);
    let idp = lab.ready["idp"].as_str().unwrap().to_owned();
    assert!(idp.starts_with("http://127.0.0.2:"), "{idp}");
    assert_eq!(lab.ready["env"]["IDP_URL"], idp.as_str());
    let meta: Value =
        reqwest::get(format!("{idp}/.well-known/openid-configuration")).await.unwrap().json().await.unwrap();
    assert_eq!(meta["issuer"], idp.as_str());
    let notes = lab.ready["notes"].as_str().unwrap().to_owned();
    let (ok, stdout, stderr) = lab.interrupt();
    assert!(ok);
    assert!(stdout.contains(&format!("Participants open: {notes}")), "{stdout}");
    assert!(!stderr.contains("warning:"), "{stderr}");

    let env = Command::new(lab_binary()).args(["env", "--public-host", "lab.example"]).output().unwrap();
    let env = String::from_utf8(env.stdout).unwrap();
    assert!(env.contains("IDP_URL=http://lab.example:4401"), "{env}");

    let open_dir = temp_dir("public-host-bin-open");
    let open = Running::start(&["--bind", "0.0.0.0"], &open_dir);
    let (_, _, stderr) = open.interrupt();
    assert!(stderr.contains("lab: warning: --bind 0.0.0.0 without --public-host"), "{stderr}");
    assert!(stderr.contains("still says localhost") && stderr.contains("Add --public-host NAME"), "{stderr}");

    let other_dir = temp_dir("public-host-bin-other");
    let mismatched = Running::start(&["--public-host", "10.1.2.3"], &other_dir);
    let (_, _, stderr) = mismatched.interrupt();
    assert!(stderr.contains("is not an address the lab listens on (--bind 127.0.0.1)"), "{stderr}");
    for d in [dir, open_dir, other_dir] {
        let _ = std::fs::remove_dir_all(d);
    }
}
