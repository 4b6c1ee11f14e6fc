//! The "OAuth HTTP" terminal log of the tutorial's requestor, for every outbound call:
//!
//! ```text
//! → POST localhost:4401/token
//!     grant_type=urn:ietf:params:oauth:grant-type:token-exchange
//!     subject_token=eyJ0eX…Qw9c (873 chars)
//! ← 200 OK
//! ```
//!
//! Client secrets, codes, verifiers and tokens show only their ends unless `reveal_secrets` is on.

use std::sync::Arc;

use xaa_core::secret::{is_secret, mask};

use crate::state::NotesState;

/// One outbound call the app made, as whoever watches its calls sees it (the lab's live trace).
/// Values are as sent: the watcher masks the secrets it keeps.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SentCall {
    /// The HTTP method.
    pub method: String,
    /// `host[:port]/path`.
    pub target: String,
    /// The query parameters, then the `authorization` header when there was one.
    pub params: Vec<(String, String)>,
    /// The request body's `Content-Type` (empty when none).
    pub content_type: String,
    /// The request body.
    pub body: Vec<u8>,
    /// The response status, when a response came.
    pub status: Option<u16>,
    /// How long the call took, in milliseconds.
    pub duration_ms: f64,
    /// When the call was sent (the lab clock's Unix seconds).
    pub at: i64,
}

/// Whoever watches the app's outbound calls: the lab's live trace, or a test.
pub trait CallLog: Send + Sync + std::fmt::Debug {
    /// Notes one call once its answer (or failure) is in.
    fn sent(&self, call: SentCall);
}

/// The app's HTTP client with the OAuth HTTP log (owns its parts, so its futures are `'static`).
#[derive(Clone, Debug)]
pub(crate) struct OAuthHttp {
    client: reqwest::Client,
    reveal: bool,
    calls: Option<Arc<dyn CallLog>>,
    clock: xaa_core::clock::SharedClock,
}

impl OAuthHttp {
    /// The notes app's client.
    pub(crate) fn of(st: &NotesState) -> Result<Self, OAuthHttpError> {
        Ok(Self {
            client: st.http.get().map_err(OAuthHttpError::Client)?.clone(),
            reveal: st.config.reveal_secrets,
            calls: st.calls.clone(),
            clock: st.clock.clone(),
        })
    }

    /// The underlying client, to build requests.
    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends `req`, logging the request and the response status.
    pub(crate) async fn send(&self, req: reqwest::Request) -> Result<reqwest::Response, OAuthHttpError> {
        tracing::info!(target: "oauth_http", "{}", describe_request(&req, self.reveal));
        let call = self.calls.as_ref().map(|_| sent_call(&req, self.clock.now()));
        let started = std::time::Instant::now();
        let result = self.client.execute(req).await;
        if let (Some(calls), Some(mut call)) = (&self.calls, call) {
            call.status = result.as_ref().ok().map(|r| r.status().as_u16());
            call.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
            calls.sent(call);
        }
        match result {
            Ok(resp) => {
                let status = resp.status();
                tracing::info!(target: "oauth_http", "← {} {}", status.as_u16(), status.canonical_reason().unwrap_or(""));
                Ok(resp)
            }
            Err(e) => {
                tracing::warn!(target: "oauth_http", "← failed: {e}");
                Err(OAuthHttpError::from(e))
            }
        }
    }
}

/// The record of an outbound request, before its answer.
fn sent_call(req: &reqwest::Request, at: i64) -> SentCall {
    let url = req.url();
    let mut params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    if let Some(auth) = req.headers().get(reqwest::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        params.push(("authorization".into(), auth.to_owned()));
    }
    let content_type = req.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    SentCall {
        method: req.method().to_string(),
        target: format!(
            "{}{}{}",
            url.host_str().unwrap_or(""),
            url.port().map(|p| format!(":{p}")).unwrap_or_default(),
            url.path()
        ),
        params,
        content_type: content_type.to_owned(),
        body: req.body().and_then(|b| b.as_bytes()).map(<[u8]>::to_vec).unwrap_or_default(),
        at,
        ..Default::default()
    }
}

/// `→ METHOD host/path`, then the masked `Authorization` header and form parameters.
fn describe_request(req: &reqwest::Request, reveal: bool) -> String {
    let url = req.url();
    let mut text = format!(
        "→ {} {}{}{}",
        req.method(),
        url.host_str().unwrap_or(""),
        url.port().map(|p| format!(":{p}")).unwrap_or_default(),
        url.path()
    );
    if let Some(auth) = req.headers().get(reqwest::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (scheme, value) = auth.split_once(' ').unwrap_or((auth, ""));
        let shown = if reveal { value.to_owned() } else { mask(value) };
        text.push_str(&format!("\n    authorization: {scheme} {shown}"));
    }
    if let Some(body) = req.body().and_then(|b| b.as_bytes()) {
        let is_form = req
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/x-www-form-urlencoded"));
        if is_form {
            for (k, v) in form_urlencoded::parse(body) {
                let shown = if !reveal && is_secret(&k) { mask(&v) } else { v.into_owned() };
                text.push_str(&format!("\n    {k}={shown}"));
            }
        } else {
            text.push_str(&format!("\n    [{} bytes of {}]", body.len(), content_type(req)));
        }
    }
    text
}

fn content_type(req: &reqwest::Request) -> String {
    req.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("unknown type").to_owned()
}

/// Why an outbound call of the notes app got no answer, in words a person understands (the
/// pages show these texts).
#[derive(Debug, thiserror::Error)]
pub(crate) enum OAuthHttpError {
    /// The app's HTTP client could not be built.
    #[error("{0}")]
    Client(#[source] xaa_core::http_client::HttpClientError),
    /// The server could not be connected to.
    #[error("connection refused: the server is not running or not reachable")]
    Connect(#[source] reqwest::Error),
    /// The server did not answer within the client's timeout.
    #[error("the server did not answer in time")]
    Timeout(#[source] reqwest::Error),
    /// Any other failure of the request.
    #[error("{0}")]
    Request(#[source] reqwest::Error),
}

impl From<reqwest::Error> for OAuthHttpError {
    fn from(e: reqwest::Error) -> Self {
        if e.is_connect() {
            Self::Connect(e)
        } else if e.is_timeout() {
            Self::Timeout(e)
        } else {
            Self::Request(e)
        }
    }
}

impl<'c> openidconnect::AsyncHttpClient<'c> for OAuthHttp {
    type Error = OidcHttpError;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<openidconnect::HttpResponse, OidcHttpError>> + Send + 'c>,
    >;

    fn call(&'c self, request: openidconnect::HttpRequest) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let req = reqwest::Request::try_from(request).map_err(OidcHttpError::Request)?;
            let resp = this.send(req).await.map_err(OidcHttpError::Send)?;
            let (status, headers) = (resp.status(), resp.headers().clone());
            let body = resp.bytes().await.map_err(OidcHttpError::Body)?;
            let mut out = http::Response::new(body.to_vec());
            *out.status_mut() = status;
            *out.headers_mut() = headers;
            Ok(out)
        })
    }
}

/// A transport failure seen by `openidconnect`. Its text already says what failed, so the sign-in
/// messages end with it (see `oidc::chain`).
#[derive(Debug, thiserror::Error)]
pub(crate) enum OidcHttpError {
    /// `openidconnect`'s request could not be turned into a reqwest request.
    #[error("{0}")]
    Request(#[source] reqwest::Error),
    /// The request got no answer.
    #[error("{0}")]
    Send(#[source] OAuthHttpError),
    /// The answer's body broke off.
    #[error("{0}")]
    Body(#[source] reqwest::Error),
}
