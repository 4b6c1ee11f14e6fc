//! Step 1's authorization request (OIDC Core §3.1.2.1 with PKCE S256, RFC 7636): the URL the
//! browser is sent to, and the `state`, `nonce` and code verifier the callback checks. Both the
//! flow explorer and the resource-app explorer sign in this way.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use xaa_core::secret::random_token;

/// What the callback needs back: `state`, `nonce` and the PKCE code verifier.
pub(super) type Pending = (String, String, String);

/// The `/authorize` URL at `idp` for `client_id`, asking for `scope` with `login_hint` = `email`
/// and `prompt=login` (the explorer always shows the IdP's login pages), with fresh secrets.
pub(super) fn authorization_request(
    idp: &str,
    client_id: &str,
    redirect_uri: &str,
    scope: &str,
    email: &str,
) -> (String, Pending) {
    let (state, nonce, verifier) = (random_token(16), random_token(16), random_token(32));
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", scope)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("login_hint", email)
        .append_pair("prompt", "login")
        .finish();
    (format!("{idp}/authorize?{query}"), (state, nonce, verifier))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_carries_the_s256_challenge_of_the_verifier_kept_for_the_callback() {
        let (url, (state, nonce, verifier)) =
            authorization_request("http://idp", "c", "http://console/cb", "openid email", "a@b.example");
        let (base, query) = url.split_once('?').unwrap();
        assert_eq!(base, "http://idp/authorize");
        let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("code_challenge"), Some(URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())).as_str()));
        assert_eq!((get("state"), get("nonce")), (Some(state.as_str()), Some(nonce.as_str())));
        assert_eq!(
            (get("scope"), get("login_hint"), get("prompt")),
            (Some("openid email"), Some("a@b.example"), Some("login"))
        );
        assert_eq!((get("client_id"), get("redirect_uri")), (Some("c"), Some("http://console/cb")));
    }
}
