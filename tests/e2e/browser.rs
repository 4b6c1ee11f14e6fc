//! Real-browser tests: headless Chromium through ChromeDriver (Debian's `chromium` and
//! `chromium-driver`, installed by `./scripts/test.sh`). Screenshots go to `target/screenshots/`.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::harness::*;

/// A headless Chromium session with its own ChromeDriver and profile; both go away on drop.
pub struct Browser {
    pub client: Client,
    driver: Child,
}

impl Browser {
    pub async fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is installed (./scripts/test.sh installs chromium-driver)");
        let profile = std::env::temp_dir().join(format!("xaa-e2e-chrome-{}-{port}", std::process::id()));
        let caps = json!({
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--disable-quic", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            let attempt = ClientBuilder::native()
                .capabilities(caps.as_object().unwrap().clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await;
            match attempt {
                Ok(c) => break c,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot start Chromium through ChromeDriver: {e}"),
            }
        };
        Self { client, driver }
    }

    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    pub async fn text(&self) -> String {
        self.client.find(Locator::Css("body")).await.unwrap().text().await.unwrap()
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn screenshot_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(|d| d.parent()).and_then(|d| d.parent()).unwrap().join("screenshots")
}

#[tokio::test]
async fn unregistered_redirect_shows_an_error_page_in_chromium() {
    let lab = TestLab::start().await;
    let browser = Browser::start().await;
    let url = lab.authorize_url(CLIENT, "https://attacker.example/cb", &[]);
    browser.client.goto(&url).await.unwrap();
    let text = browser.text().await;
    assert!(text.contains("Redirect URI not registered"), "{text}");
    assert!(text.contains("http://localhost:3000/auth/callback"));
    assert!(browser.client.current_url().await.unwrap().as_str().starts_with(lab.idp()), "never redirected");
    browser.screenshot("idp-error-redirect-uri").await;
    browser.close().await;
}

#[tokio::test]
async fn console_home_in_chromium() {
    let lab = TestLab::start().await;
    let browser = Browser::start().await;
    browser.client.goto(&lab.lab.urls.console).await.unwrap();
    assert_eq!(browser.client.title().await.unwrap(), "XAA Lab console");
    let text = browser.text().await;
    for expected in ["The four steps", "Token exchange", "Bring your own requestor", "alice@acme.example"] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
    let dotenv = browser.client.find(Locator::Id("dotenv")).await.unwrap().text().await.unwrap();
    assert!(dotenv.contains(&format!("IDP_URL={}", lab.idp())));
    assert!(dotenv.contains("RESOURCE_CLIENT_ID=my-requestor-at-todo0"));
    // The IdP link leads to real discovery metadata.
    let link = browser.client.find(Locator::LinkText(lab.idp())).await.unwrap();
    link.click().await.unwrap();
    assert!(browser.text().await.contains("identity_chaining_requested_token_types_supported"));
    browser.client.back().await.unwrap();
    browser.screenshot("console-home").await;
    browser.close().await;
}
