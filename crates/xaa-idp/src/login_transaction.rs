//! The login transaction of an unauthenticated `GET /authorize`, kept in the browser until the
//! user submits the login page's email form: an HMAC-signed, HttpOnly, SameSite=Lax cookie of its
//! own (`xaa_idp_authorize`), not a database row.
//!
//! Why a cookie: every unauthenticated `GET /authorize` used to store a pending login (about
//! 2.8 KB) for 15 minutes, so anyone could fill the disk at the rate they could send requests
//! (5,000 requests: 5,000 rows, 14 MB). The login page *is* the answer to `GET /authorize`, so
//! "keep nothing for a request that never reaches the form" means: keep nothing until the form is
//! submitted. The request's parameters travel in the cookie, signed with a key only this IdP
//! holds (made at start, so a restart ends logins in progress, as a 15-minute login may); the
//! email form's `POST /login/email` checks the signature, that the form names the same login, and
//! its age ([`LOGIN_TTL`]), and only then writes the pending login (with the email) to the
//! database, where the code and consent steps find it as before. A per-address cap on stored rows
//! was the alternative; it needs the client address in the handler and still stores every request.
//!
//! The cookie holds what the IdP already echoes to the browser (state, nonce, scope, the PKCE
//! challenge), so signing, not encryption, is what it needs. The redirect URI is kept as its
//! position in the client's registration (it must be a registered one), which keeps the cookie
//! small: a request whose transaction would not fit in one cookie (browsers keep 4096 bytes of name
//! and value) is refused with `invalid_request` instead of being kept in the database.

use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::authorization_request::LOGIN_TTL;
use crate::state::IdpState;
use crate::store::{AuthRequest, Login};

/// The cookie holding the signed transaction (names are unique across the lab's components).
pub const AUTHORIZE_COOKIE: &str = "xaa_idp_authorize";

/// The longest cookie value kept: 4096 bytes for name and value in browsers (RFC 6265 §6.1's
/// minimum), less the name, `=` and room for the attributes some browsers count too.
pub(crate) const MAX_COOKIE_VALUE_BYTES: usize = 3900;

/// What the cookie carries (short member names: it travels with every request to the IdP).
#[derive(Serialize, Deserialize)]
struct Transaction {
    /// The login id (the login page's form names it too).
    i: String,
    /// When `GET /authorize` was answered.
    t: i64,
    c: String,
    /// The redirect URI's position in the client's registered `redirect_uris`.
    r: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    s: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    n: Option<String>,
    p: String,
    o: String,
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    k: bool,
}

/// The signed cookie value for the login `login_id` of `request`, started at `now`; `Err` with
/// its length when it would not fit in a cookie.
pub(crate) fn seal(st: &IdpState, login_id: &str, request: &AuthRequest, now: i64) -> Result<String, usize> {
    let position = st
        .client(&request.client_id)
        .and_then(|c| c.redirect_uris.iter().position(|u| u == &request.redirect_uri))
        .unwrap_or(usize::MAX);
    let t = Transaction {
        i: login_id.to_owned(),
        t: now,
        c: request.client_id.to_string(),
        r: position,
        s: request.state.clone(),
        n: request.nonce.clone(),
        p: request.code_challenge.clone(),
        o: request.scope.clone(),
        k: request.consent_prompt,
    };
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&t).unwrap_or_default());
    let value = format!("{payload}.{}", URL_SAFE_NO_PAD.encode(mac(st, payload.as_bytes())));
    if value.len() > MAX_COOKIE_VALUE_BYTES { Err(value.len()) } else { Ok(value) }
}

/// The cookie carrying `value`.
pub(crate) fn cookie(st: &IdpState, value: String) -> Cookie<'static> {
    xaa_web::cookie::http_only(AUTHORIZE_COOKIE, value, SameSite::Lax, st.config.secure_cookies)
}

/// The removal of the cookie (once the login is stored).
pub(crate) fn removal() -> Cookie<'static> {
    Cookie::build(AUTHORIZE_COOKIE).path("/").build()
}

/// The login this browser's transaction cookie holds, if its signature is the IdP's, it names
/// `login_id`, it is younger than [`LOGIN_TTL`], and its client still has that redirect URI.
pub(crate) fn open(st: &IdpState, jar: &CookieJar, login_id: &str) -> Option<Login> {
    let value = jar.get(AUTHORIZE_COOKIE)?.value();
    let (payload, tag) = value.split_once('.')?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    let expected = mac(st, payload.as_bytes());
    if expected.is_empty() || tag.len() != expected.len() || !openssl::memcmp::eq(&tag, &expected) {
        return None;
    }
    let t: Transaction = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    if t.i != login_id || st.clock.now() > t.t + LOGIN_TTL {
        return None;
    }
    let client = st.client(&t.c)?;
    let redirect_uri = client.redirect_uris.get(t.r)?.clone();
    let request = AuthRequest {
        client_id: client.client_id,
        redirect_uri,
        state: t.s,
        nonce: t.n,
        code_challenge: t.p,
        scope: t.o,
        consent_prompt: t.k,
    };
    Some(Login { request, email: None, created_at: t.t })
}

/// HMAC-SHA256 of `payload` under the IdP's login key.
fn mac(st: &IdpState, payload: &[u8]) -> Vec<u8> {
    let sign = || -> Result<Vec<u8>, openssl::error::ErrorStack> {
        let key = openssl::pkey::PKey::hmac(&st.login_key)?;
        let mut signer = openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &key)?;
        signer.update(payload)?;
        signer.sign_to_vec()
    };
    // OpenSSL's HMAC fails only without memory; an empty tag then matches no cookie (the login
    // page says the sign-in expired) rather than a panic.
    sign().unwrap_or_default()
}
