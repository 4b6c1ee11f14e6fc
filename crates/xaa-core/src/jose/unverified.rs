//! The unverified view of a compact JWS. **Nothing read here may be trusted**: it exists only to
//! pick the validation rules (`alg`, `typ`) and the key (`iss`, `kid`) before the signature is checked.

use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::memo::Recent;

/// The JOSE header members a validator looks at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoseHeader {
    /// `alg` (RFC 7515 §4.1.1).
    pub alg: String,
    /// `typ` (RFC 7515 §4.1.9), if present.
    pub typ: Option<String>,
    /// `kid` (RFC 7515 §4.1.4), if present.
    pub kid: Option<String>,
    /// `crit` (RFC 7515 §4.1.11), if present.
    pub crit: Option<Vec<String>>,
}

/// The part of a compact JWS a [`JwtFormatError`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwsPart {
    /// The protected header (first part).
    Header,
    /// The payload (second part).
    Payload,
    /// The signature (third part).
    Signature,
}

impl std::fmt::Display for JwsPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Header => "the header",
            Self::Payload => "the payload",
            Self::Signature => "the signature",
        })
    }
}

/// Why a string is not a compact JWS this lab reads; each text completes
/// "… is not a valid JWT: ".
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwtFormatError {
    /// Five dot-separated parts: a JWE, which no validator of the lab decrypts.
    #[error("it is a JWE (5 parts); encrypted assertions are not supported")]
    Encrypted,
    /// Neither 3 nor 5 dot-separated parts.
    #[error("a compact JWS has 3 dot-separated parts, this has {parts}")]
    PartCount {
        /// How many parts there were.
        parts: usize,
    },
    /// A part is not unpadded base64url (RFC 7515 §2).
    #[error("{part} is not base64url")]
    NotBase64Url {
        /// The part that is not.
        part: JwsPart,
    },
    /// The header or payload decodes to bytes that are not JSON.
    #[error("{part} is not JSON")]
    NotJson {
        /// The header or the payload.
        part: JwsPart,
    },
    /// The header or payload is JSON but not an object.
    #[error("{part} is not a JSON object")]
    NotObject {
        /// The header or the payload.
        part: JwsPart,
    },
    /// The header has no string `alg` (RFC 7515 §4.1.1).
    #[error("the header has no \"alg\"")]
    MissingAlg,
}

/// A compact JWS split into its parts, header and claims decoded but **not verified**.
#[derive(Debug)]
pub struct UnverifiedJwt<'a> {
    raw: &'a str,
    /// What decoding `raw` gave (shared with a key set's memo when it read `raw` before).
    decoded: Arc<Decoded>,
}

/// The decoded parts of a compact JWS: a pure function of its text, so the same text may share
/// them ([`ReadTokens`]).
#[derive(Debug)]
pub(crate) struct Decoded {
    header: JoseHeader,
    claims: Map<String, Value>,
    /// The third part, decoded (once: parsing checks it is base64url).
    signature: Vec<u8>,
}

impl<'a> UnverifiedJwt<'a> {
    /// Splits and decodes `raw`; fails with the reason if it is not a compact JWS with a JSON
    /// object header (with `alg`) and a JSON object payload.
    pub fn parse(raw: &'a str) -> Result<Self, JwtFormatError> {
        Ok(Self { raw, decoded: Arc::new(Decoded::parse(raw)?) })
    }

    /// The decoded header.
    pub fn header(&self) -> &JoseHeader {
        &self.decoded.header
    }

    /// The decoded claims. Security: unverified until the signature check passed.
    pub fn unverified_claims(&self) -> &Map<String, Value> {
        &self.decoded.claims
    }

    /// `iss`, read only to choose which issuer's keys verify the token.
    pub fn unverified_issuer(&self) -> Option<&str> {
        self.decoded.claims.get("iss").and_then(Value::as_str)
    }

    /// `header.payload` (the JWS signing input) and the decoded signature.
    pub(crate) fn signing_input_and_signature(&self) -> (&'a str, &[u8]) {
        let cut = self.raw.rfind('.').unwrap_or(0);
        (&self.raw[..cut], &self.decoded.signature)
    }
}

impl Decoded {
    fn parse(raw: &str) -> Result<Self, JwtFormatError> {
        let parts: Vec<&str> = raw.split('.').collect();
        match parts.len() {
            3 => {}
            5 => return Err(JwtFormatError::Encrypted),
            parts => return Err(JwtFormatError::PartCount { parts }),
        }
        let header = decode_object(parts[0], JwsPart::Header)?;
        let claims = decode_object(parts[1], JwsPart::Payload)?;
        let signature =
            URL_SAFE_NO_PAD.decode(parts[2]).map_err(|_| JwtFormatError::NotBase64Url { part: JwsPart::Signature })?;
        let alg = header.get("alg").and_then(Value::as_str).ok_or(JwtFormatError::MissingAlg)?.to_owned();
        let text = |name: &str| header.get(name).and_then(Value::as_str).map(str::to_owned);
        let crit = header.get("crit").map(|c| {
            c.as_array()
                .map(|a| a.iter().map(|v| v.as_str().unwrap_or("?").to_owned()).collect())
                .unwrap_or_else(|| vec!["(not an array)".to_owned()])
        });
        Ok(Self { header: JoseHeader { alg, typ: text("typ"), kid: text("kid"), crit }, claims, signature })
    }
}

/// How many compact JWSs a key set remembers having decoded (a token the size of the lab's
/// access tokens takes about 2.5 KB with its decoded parts).
const READ_TOKENS: usize = 1024;
/// The longest text it remembers, in bytes (the lab's access tokens have about 900): a longer one
/// is decoded each time, so well-formed junk cannot make the memo hold megabytes.
const MAX_READ_TOKEN: usize = 4096;

/// The compact JWSs a key set read lately, decoded: the same text again (the access token of
/// every call to the todo API) is not decoded again. Only text that decoded is kept; a token read
/// from the memo goes through every check as a fresh one does, since its decoded parts are the
/// same.
#[derive(Debug)]
pub(crate) struct ReadTokens(Mutex<Recent<Box<str>, Arc<Decoded>>>);

impl Default for ReadTokens {
    fn default() -> Self {
        Self(Mutex::new(Recent::new(READ_TOKENS)))
    }
}

impl ReadTokens {
    /// [`UnverifiedJwt::parse`], sharing what an earlier read of the same text decoded.
    pub(crate) fn parse<'a>(&self, raw: &'a str) -> Result<UnverifiedJwt<'a>, JwtFormatError> {
        if let Some(decoded) = self.0.lock().ok().and_then(|m| m.get(raw)) {
            return Ok(UnverifiedJwt { raw, decoded });
        }
        let jwt = UnverifiedJwt::parse(raw)?;
        if raw.len() <= MAX_READ_TOKEN
            && let Ok(mut m) = self.0.lock()
        {
            m.keep(raw.into(), Arc::clone(&jwt.decoded));
        }
        Ok(jwt)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.0.lock().map_or(0, |m| m.len())
    }
}

fn decode_object(text: &str, part: JwsPart) -> Result<Map<String, Value>, JwtFormatError> {
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| JwtFormatError::NotBase64Url { part })?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(JwtFormatError::NotObject { part }),
        Err(_) => Err(JwtFormatError::NotJson { part }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_keys::{JwtBuilder, TestKey};

    #[test]
    fn the_same_text_shares_its_decoded_parts_and_junk_or_long_text_is_not_kept() {
        let read = ReadTokens::default();
        let raw =
            JwtBuilder::new("at+jwt", serde_json::json!({ "iss": "https://as.example" })).signed_by(TestKey::B).build();
        let (first, again) = (read.parse(&raw).unwrap(), read.parse(&raw).unwrap());
        assert!(Arc::ptr_eq(&first.decoded, &again.decoded), "decoded once");
        assert_eq!(again.unverified_issuer(), Some("https://as.example"));
        assert_eq!(again.signing_input_and_signature(), first.signing_input_and_signature());
        // Another token with the same payload but another signature is another text.
        let other = format!("{}.AAAA", &raw[..raw.rfind('.').unwrap()]);
        let other = read.parse(&other).unwrap();
        assert_eq!(other.signing_input_and_signature().1, [0, 0, 0]);
        assert_eq!(read.len(), 2);
        assert_eq!(read.parse("a.b.c.d.e").unwrap_err(), JwtFormatError::Encrypted);
        assert_eq!(read.parse("a.b.c.d.e").unwrap_err(), JwtFormatError::Encrypted, "refused again, never remembered");
        assert_eq!(read.len(), 2);
        // Nor a text longer than MAX_READ_TOKEN, however well-formed.
        let long = JwtBuilder::new("at+jwt", serde_json::json!({ "pad": "x".repeat(MAX_READ_TOKEN) }))
            .signed_by(TestKey::B)
            .build();
        assert_eq!(read.parse(&long).unwrap().unverified_claims()["pad"].as_str().map(str::len), Some(MAX_READ_TOKEN));
        assert_eq!(read.len(), 2);
    }
}
