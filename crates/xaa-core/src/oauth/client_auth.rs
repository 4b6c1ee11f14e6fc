//! Client credentials as presented at a token endpoint (RFC 6749 §2.3.1): HTTP Basic
//! (`client_secret_basic`) or body parameters (`client_secret_post`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{FormParams, OAuthError};

/// How the client presented its secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuthMethod {
    /// `client_secret_basic`.
    Basic,
    /// `client_secret_post`.
    Post,
}

impl ClientAuthMethod {
    /// The RFC 8414 metadata name of the method.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientAuthMethod::Basic => "client_secret_basic",
            ClientAuthMethod::Post => "client_secret_post",
        }
    }
}

/// The client id and secret a request carries. The secret is not yet checked.
#[derive(Clone, PartialEq, Eq)]
pub struct PresentedClient {
    /// The client id.
    pub client_id: String,
    /// The presented secret. Security: never log it.
    pub secret: String,
    /// How it was presented.
    pub method: ClientAuthMethod,
}

impl std::fmt::Debug for PresentedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresentedClient")
            .field("client_id", &self.client_id)
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

impl PresentedClient {
    /// Reads the credentials from the `Authorization` header and the form. Errors are
    /// `invalid_client` (401, with a Basic challenge when Basic was attempted) or
    /// `invalid_request` when two methods are mixed (RFC 6749 §2.3).
    pub fn from_request(authorization: Option<&str>, params: &FormParams) -> Result<Self, OAuthError> {
        let body_id = params.single("client_id")?;
        let body_secret = params.single("client_secret")?;
        if let Some(header) = authorization {
            let challenge = |description: &str| {
                let mut e = OAuthError::invalid_client(description);
                e.basic_challenge = true;
                e
            };
            let Some(encoded) = header.strip_prefix("Basic ").or_else(|| header.strip_prefix("basic ")) else {
                return Err(challenge("the Authorization header must use the Basic scheme (client_secret_basic)"));
            };
            let decoded = STANDARD
                .decode(encoded.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| challenge("the Basic credentials are not valid base64"))?;
            let (id, secret) = decoded
                .split_once(':')
                .ok_or_else(|| challenge("the Basic credentials must be client_id:client_secret"))?;
            let id = url_decode(id);
            if body_secret.is_some() {
                return Err(OAuthError::invalid_request(format!(
                    "the client used both client_secret_basic and client_secret_post; use exactly one ({})",
                    crate::spec::RFC6749_2_3
                )));
            }
            if body_id.is_some_and(|b| b != id) {
                return Err(OAuthError::invalid_request(
                    "client_id in the body differs from the one in the Authorization header",
                ));
            }
            return Ok(Self { client_id: id, secret: url_decode(secret), method: ClientAuthMethod::Basic });
        }
        match (body_id, body_secret) {
            (Some(id), Some(secret)) => {
                Ok(Self { client_id: id.to_owned(), secret: secret.to_owned(), method: ClientAuthMethod::Post })
            }
            (Some(_), None) => Err(OAuthError::invalid_client(
                "client authentication failed: client_secret is missing (send it with client_secret_post or client_secret_basic)",
            )),
            _ => Err(OAuthError::invalid_client(format!(
                "client authentication failed: no client credentials (use client_secret_basic or client_secret_post, {})",
                crate::spec::RFC6749_2_3_1
            ))),
        }
    }
}

impl PresentedClient {
    /// Authenticates against the registered secret of this client id, which `registered` compares
    /// with the presented one (`None`: no such client). Failure is `invalid_client` (401), with a
    /// Basic challenge when Basic was used.
    pub fn authenticate(&self, registered: Option<impl FnOnce(&str) -> bool>) -> Result<(), OAuthError> {
        let description = match registered.map(|matches| matches(&self.secret)) {
            None => format!("client authentication failed: unknown client \"{}\"", self.client_id),
            Some(true) => return Ok(()),
            Some(false) => format!(
                "client authentication failed: wrong client_secret for client \"{}\" ({})",
                self.client_id,
                self.method.as_str()
            ),
        };
        let mut e = OAuthError::invalid_client(description);
        e.basic_challenge = self.method == ClientAuthMethod::Basic;
        Err(e)
    }
}

/// Basic credentials are form-urlencoded before base64 (RFC 6749 §2.3.1).
fn url_decode(s: &str) -> String {
    form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_and_post_are_read_and_mixing_is_refused() {
        let header = format!("Basic {}", STANDARD.encode("my%20app:s%3Acret"));
        let c = PresentedClient::from_request(Some(&header), &FormParams::parse(b"")).unwrap();
        assert_eq!((c.client_id.as_str(), c.secret.as_str()), ("my app", "s:cret"));
        assert_eq!(c.method, ClientAuthMethod::Basic);

        let c = PresentedClient::from_request(None, &FormParams::parse(b"client_id=a&client_secret=b")).unwrap();
        assert_eq!(c.method, ClientAuthMethod::Post);

        let mixed = PresentedClient::from_request(Some(&header), &FormParams::parse(b"client_secret=b"));
        assert_eq!(mixed.unwrap_err().code.as_str(), "invalid_request");

        let none = PresentedClient::from_request(None, &FormParams::parse(b"")).unwrap_err();
        assert_eq!((none.status, none.basic_challenge), (401, false));
        let bad = PresentedClient::from_request(Some("Bearer x"), &FormParams::parse(b"")).unwrap_err();
        assert_eq!((bad.status, bad.basic_challenge), (401, true));
    }
}
