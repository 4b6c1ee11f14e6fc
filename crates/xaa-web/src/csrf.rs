//! One CSRF scheme for every form of every web UI of the lab.
//!
//! A form's token is bound to a cookie its component names: the form's `csrf` field must be
//! [`Csrf::token`] of that cookie's value, a SHA-256 (domain-separated by the cookie's name), so
//! the page shows a token without ever showing the cookie. What the cookie is, the component says:
//!
//! - [`Csrf::own_cookie`]: a random value in a cookie of its own, set by the first page that shows
//!   a form (the console, the IdP's pages). A page of another port of the same host could set
//!   that cookie too (cookies on localhost ignore ports): the [`crate::same_origin`] guard in
//!   front of every form is what stops such a page, and each component names its own cookie;
//! - [`Csrf::session_cookie`]: the component's session cookie (Lab Notes), so a form is good only
//!   for the session it was shown in, and no page of another origin can mint a matching pair.
//!
//! Pages take [`CsrfToken`] (the token for their forms; as a response part it sets the cookie it
//! minted); form handlers take [`CsrfForm<B>`], the body extractor `B` once its token matched, or
//! `Result<CsrfForm<B>, CsrfRejection<B>>` to answer a refused form with a page of their own
//! (a stale form comes back as [`CsrfRejection::Forged`] with what was typed, so nothing is lost).
//! The token is never logged.

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::rejection::{BytesRejection, FormRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, IntoResponseParts, Response, ResponseParts};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use xaa_core::secret::{Secret, random_token, sha256_b64};

/// The name of the form field that carries the token.
pub const FIELD: &str = "csrf";

/// What a component binds its form tokens to: the cookie, and whether its pages set it.
#[derive(Clone, Copy, Debug)]
pub struct Csrf {
    cookie: &'static str,
    /// The attributes of a cookie of its own; `None`: the session cookie, set at sign-in.
    own: Option<(SameSite, bool)>,
}

impl Csrf {
    /// Tokens bound to the random value of a cookie of the component's own, `name` (HttpOnly,
    /// path `/`, `same_site`, `Secure` when `secure`), which a page sets when the browser has none.
    pub const fn own_cookie(name: &'static str, same_site: SameSite, secure: bool) -> Self {
        Self { cookie: name, own: Some((same_site, secure)) }
    }

    /// Tokens bound to the component's session cookie `name` (set at sign-in, never here): a
    /// browser without a session has no token, and a form is good only in its session.
    pub const fn session_cookie(name: &'static str) -> Self {
        Self { cookie: name, own: None }
    }

    /// The token for forms shown to a browser whose binding cookie holds `value`.
    pub fn token(&self, value: &str) -> String {
        sha256_b64(&format!("xaa-csrf\0{}\0{value}", self.cookie))
    }

    /// The value of the binding cookie the request carries, if any (an empty one counts as none).
    fn cookie_value(&self, headers: &HeaderMap) -> Option<String> {
        let jar = CookieJar::from_headers(headers);
        jar.get(self.cookie).map(|c| c.value().to_owned()).filter(|v| !v.is_empty())
    }

    /// Whether `presented` is the token of the browser that sent `headers`.
    fn verify(&self, headers: &HeaderMap, presented: Option<&str>) -> bool {
        match (self.cookie_value(headers), presented) {
            (Some(value), Some(presented)) => Secret::new(self.token(&value)).matches(presented),
            _ => false,
        }
    }
}

/// A component's state names its [`Csrf`] binding (implemented by the IdP, Lab Notes and the console).
pub trait CsrfConfig {
    /// What this component's form tokens are bound to.
    fn csrf(&self) -> Csrf;
}

impl<T: CsrfConfig + ?Sized> CsrfConfig for Arc<T> {
    fn csrf(&self) -> Csrf {
        (**self).csrf()
    }
}

/// The token a page puts in its forms. As a response part, it sets the cookie it was bound to
/// when it minted one (a browser's first page); otherwise it adds nothing.
#[derive(Clone)]
pub struct CsrfToken {
    value: String,
    minted: Option<Cookie<'static>>,
}

impl CsrfToken {
    /// The token of the browser that sent `headers`; with a cookie of its own and none yet, a new
    /// one. Without a session cookie ([`Csrf::session_cookie`]) the token is empty: no form
    /// shown with it is accepted.
    pub fn of(csrf: Csrf, headers: &HeaderMap) -> Self {
        if let Some(value) = csrf.cookie_value(headers) {
            return Self { value: csrf.token(&value), minted: None };
        }
        let Some((same_site, secure)) = csrf.own else { return Self { value: String::new(), minted: None } };
        let value = random_token(24);
        let cookie = crate::cookie::http_only(csrf.cookie, value.clone(), same_site, secure);
        Self { value: csrf.token(&value), minted: Some(cookie) }
    }

    /// The token, for the page's hidden `csrf` fields.
    pub fn value(&self) -> &str {
        &self.value
    }
}

/// Never prints the token.
impl fmt::Debug for CsrfToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsrfToken").field("value", &"[redacted]").field("minted", &self.minted.is_some()).finish()
    }
}

impl<S: CsrfConfig + Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::of(state.csrf(), &parts.headers))
    }
}

impl IntoResponseParts for CsrfToken {
    type Error = Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        if let Some(cookie) = self.minted
            && let Ok(value) = HeaderValue::from_str(&cookie.encoded().to_string())
        {
            res.headers_mut().append(header::SET_COOKIE, value);
        }
        Ok(res)
    }
}

/// A form read by the body extractor `B` (e.g. `axum::Form<T>`, `Bytes`) whose `csrf` field is
/// this browser's token (exactly one such field).
#[derive(Debug)]
pub struct CsrfForm<B>(pub B);

/// Why a form was refused.
#[derive(Debug)]
pub enum CsrfRejection<B, R = FormRejection> {
    /// The body is not what `B` reads (`B`'s own rejection).
    Unreadable(R),
    /// The form was read, but its token is not this browser's: a page open since before the
    /// browser's cookie changed (a sign-out, another session), or a page of another site.
    Forged(B),
}

impl<B, R> CsrfRejection<B, R> {
    /// The form as sent, when it could be read: for a page that shows what was typed again.
    pub fn into_form(self) -> Option<B> {
        match self {
            Self::Forged(form) => Some(form),
            Self::Unreadable(_) => None,
        }
    }
}

/// `B`'s own answer to an unreadable body; `400` and a plain page for a token that does not match
/// (components answer with their own pages).
impl<B, R: IntoResponse> IntoResponse for CsrfRejection<B, R> {
    fn into_response(self) -> Response {
        match self {
            Self::Unreadable(r) => r.into_response(),
            Self::Forged(_) => {
                let page = "<!doctype html><meta charset=\"utf-8\"><title>This page has expired</title>\
                    <h1>This page has expired</h1><p>The form was not accepted: it was shown before your \
                    browser's session changed, or by another site. Reload the page and try again.</p>";
                (StatusCode::BAD_REQUEST, Html(page)).into_response()
            }
        }
    }
}

impl<S, B> FromRequest<S> for CsrfForm<B>
where
    S: CsrfConfig + Send + Sync,
    B: FromRequest<S>,
    B::Rejection: From<BytesRejection>,
{
    type Rejection = CsrfRejection<B, B::Rejection>;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // The body is read once (within the router's body limit) and handed to `B` as it came.
        let (parts, body) = req.into_parts();
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(|e| CsrfRejection::Unreadable(e.into()))?;
        let presented = single_field(&bytes);
        let headers = parts.headers.clone();
        let path = parts.uri.path().to_owned();
        let form = B::from_request(Request::from_parts(parts, Body::from(bytes)), state)
            .await
            .map_err(CsrfRejection::Unreadable)?;
        if state.csrf().verify(&headers, presented.as_deref()) {
            return Ok(Self(form));
        }
        tracing::info!(path = %path, "refused a form whose CSRF token is not this browser's (a stale page or another site)");
        Err(CsrfRejection::Forged(form))
    }
}

/// The value of the body's one `csrf` field (`None` when absent or repeated).
fn single_field(body: &[u8]) -> Option<String> {
    let mut values = form_urlencoded::parse(body).filter(|(k, _)| k == FIELD).map(|(_, v)| v.into_owned());
    let first = values.next()?;
    values.next().is_none().then_some(first)
}

#[cfg(test)]
#[path = "csrf_tests.rs"]
mod tests;
