//! Size limits on the authorization request's parameters (RFC 6749 §4.1.1, OIDC Core §3.1.2.1):
//! the ones the IdP keeps (in the pending login, then in the code) or shows (`login_hint`). The
//! specs set no limits, so without these one unauthenticated `GET /authorize` could store as much
//! as the URL holds. The limits follow deployed IdPs, so a request they take is taken here too.
//!
//! `redirect_uri` and `code_challenge` need no limit of their own: the first must equal a
//! registered redirect URI (whose length registration bounds), the second
//! must be exactly 43 characters (RFC 7636 §4.2).

use xaa_core::oauth::FormParams;

use crate::pages::PageError;

/// A login must be finished within this many seconds of the authorization request (the pending
/// login, and the records kept of it, go after that).
pub(crate) const LOGIN_TTL: i64 = 15 * 60;

/// `state`: at most 1024 bytes, Connect2id's default for responses in the query. The OpenID
/// conformance suite asks an OP to handle 384; RPs send 32 to 64 random characters.
pub(crate) const MAX_STATE_BYTES: usize = 1024;
/// `nonce`: at most 512 bytes (it is copied into the ID token). Connect2id allows 128 and the
/// conformance suite expects 43 to 64; the room above leaves RPs that hash their session into it working.
pub(crate) const MAX_NONCE_BYTES: usize = 512;
/// `scope`: at most 1024 bytes (this IdP defines a handful of scopes).
pub(crate) const MAX_SCOPE_BYTES: usize = 1024;
/// `login_hint`: at most 254 bytes, the longest email address (RFC 5321 §4.5.3.1.3), which is all
/// the login page's email step accepts.
pub(crate) const MAX_LOGIN_HINT_BYTES: usize = 254;

/// Refuses an oversized `state` with the IdP's error page, not an error redirect.
///
/// RFC 6749 §4.1.2.1 sends errors back to a valid client's redirect URI, with `state` echoed
/// exactly. An oversized `state` cannot be echoed: a 60 KB `Location` header breaks browsers and
/// proxies, and reflects the sender's bytes into the client's callback. Dropping it instead would
/// leave the client unable to tie the error to its request (it would report a CSRF failure). So,
/// as with an unusable redirect URI, the user is told here. Other oversized parameters
/// ([`oversized`]) are answered with an `invalid_request` redirect, `state` echoed.
pub(crate) fn check_state(state: Option<&str>) -> Result<(), PageError> {
    match state.map(str::len) {
        Some(len) if len > MAX_STATE_BYTES => Err(PageError::bad_request(
            "Invalid sign-in request",
            format!("The application sent a state of {len} bytes; this IdP accepts at most {MAX_STATE_BYTES}."),
            Some("The application should keep state short (a random value) and its context in its own session."),
        )),
        _ => Ok(()),
    }
}

/// The first of `nonce`, `scope` and `login_hint` over its limit, as the `error_description` of
/// an `invalid_request` error redirect (RFC 6749 §4.1.2.1).
pub(crate) fn oversized(params: &FormParams) -> Option<String> {
    [("nonce", MAX_NONCE_BYTES), ("scope", MAX_SCOPE_BYTES), ("login_hint", MAX_LOGIN_HINT_BYTES)].into_iter().find_map(
        |(name, max)| {
            let len = params.values(name).map(str::len).max()?;
            (len > max).then(|| format!("{name} has {len} bytes; this IdP accepts at most {max}"))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, String)]) -> FormParams {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.extend_pairs(pairs);
        FormParams::parse(q.finish().as_bytes())
    }

    #[test]
    fn each_limit_is_inclusive() {
        for (name, max) in
            [("nonce", MAX_NONCE_BYTES), ("scope", MAX_SCOPE_BYTES), ("login_hint", MAX_LOGIN_HINT_BYTES)]
        {
            assert_eq!(oversized(&params(&[(name, "x".repeat(max))])), None, "{name}");
            assert_eq!(
                oversized(&params(&[(name, "x".repeat(max + 1))])),
                Some(format!("{name} has {} bytes; this IdP accepts at most {max}", max + 1))
            );
        }
        // Bytes, not characters: 256 two-byte characters are 512 bytes.
        assert_eq!(oversized(&params(&[("nonce", "é".repeat(256))])), None);
        assert!(oversized(&params(&[("nonce", "é".repeat(257))])).is_some());
        assert!(check_state(Some(&"s".repeat(MAX_STATE_BYTES))).is_ok());
        assert!(check_state(None).is_ok());
        let PageError(status, page) = check_state(Some(&"s".repeat(MAX_STATE_BYTES + 1))).err().unwrap();
        assert_eq!(status, axum::http::StatusCode::BAD_REQUEST);
        assert_eq!(page.message, "The application sent a state of 1025 bytes; this IdP accepts at most 1024.");
    }
}
