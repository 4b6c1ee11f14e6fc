//! The unverified view of a compact JWS. **Nothing read here may be trusted**: it exists only to
//! pick the validation rules (`alg`, `typ`) and the key (`iss`, `kid`) before the signature is checked.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

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

/// A compact JWS split into its parts, header and claims decoded but **not verified**.
#[derive(Debug)]
pub struct UnverifiedJwt<'a> {
    raw: &'a str,
    header: JoseHeader,
    claims: Map<String, Value>,
}

impl<'a> UnverifiedJwt<'a> {
    /// Splits and decodes `raw`; fails with a human explanation if it is not a compact JWS
    /// with a JSON object header (with `alg`) and a JSON object payload.
    pub fn parse(raw: &'a str) -> Result<Self, String> {
        let parts: Vec<&str> = raw.split('.').collect();
        match parts.len() {
            3 => {}
            5 => {
                return Err("it is a JWE (5 parts); encrypted assertions are not supported".into());
            }
            n => {
                return Err(format!("a compact JWS has 3 dot-separated parts, this has {n}"));
            }
        }
        let header = decode_object(parts[0]).map_err(|e| format!("the header {e}"))?;
        let claims = decode_object(parts[1]).map_err(|e| format!("the payload {e}"))?;
        URL_SAFE_NO_PAD.decode(parts[2]).map_err(|_| "the signature is not base64url".to_owned())?;
        let alg = header.get("alg").and_then(Value::as_str).ok_or("the header has no \"alg\"")?.to_owned();
        let text = |name: &str| header.get(name).and_then(Value::as_str).map(str::to_owned);
        let crit = header.get("crit").map(|c| {
            c.as_array()
                .map(|a| a.iter().map(|v| v.as_str().unwrap_or("?").to_owned()).collect())
                .unwrap_or_else(|| vec!["(not an array)".to_owned()])
        });
        Ok(Self { raw, header: JoseHeader { alg, typ: text("typ"), kid: text("kid"), crit }, claims })
    }

    /// The decoded header.
    pub fn header(&self) -> &JoseHeader {
        &self.header
    }

    /// The decoded claims. Security: unverified until the signature check passed.
    pub fn unverified_claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// `iss`, read only to choose which issuer's keys verify the token.
    pub fn unverified_issuer(&self) -> Option<&str> {
        self.claims.get("iss").and_then(Value::as_str)
    }

    /// `header.payload` (the JWS signing input) and the decoded signature.
    pub(crate) fn signing_input_and_signature(&self) -> (&'a str, Vec<u8>) {
        let cut = self.raw.rfind('.').unwrap_or(0);
        let signature = URL_SAFE_NO_PAD.decode(&self.raw[cut + 1..]).unwrap_or_default();
        (&self.raw[..cut], signature)
    }
}

fn decode_object(part: &str) -> Result<Map<String, Value>, String> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| "is not base64url".to_owned())?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("is not a JSON object".into()),
        Err(_) => Err("is not JSON".into()),
    }
}
