//! Secrets never reach a log in full: [`mask`] keeps the first and last few characters.

use std::fmt;

/// Shows at most the first 6 and last 4 characters of a secret and its length,
/// e.g. `eyJhbG…x9Qw (812 chars)`. Short secrets are hidden entirely.
pub fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() <= 16 {
        return format!("[{} chars hidden]", chars.len());
    }
    let head: String = chars[..6].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail} ({} chars)", chars.len())
}

/// A string that prints as `[redacted]` in `Debug` and `Display`.
#[derive(Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The secret itself. Security: never log the result.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// Compares with a presented value in time independent of where they differ.
    pub fn matches(&self, presented: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), presented.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A fresh random value of `bytes` bytes, base64url without padding: codes, `jti`s, session ids.
pub fn random_token(bytes: usize) -> String {
    use base64::Engine;
    let mut buf = vec![0u8; bytes];
    rand::fill(&mut buf[..]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// SHA-256 of `value`, base64url: how servers store codes and tokens they issued.
pub fn sha256_b64(value: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(value.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_keeps_only_the_ends() {
        let token = "eyJhbGciOiJSUzI1NiJ9.payload.signature-abcd";
        assert_eq!(mask(token), format!("eyJhbG…abcd ({} chars)", token.len()));
        assert_eq!(mask("short-secret"), "[12 chars hidden]");
    }

    #[test]
    fn secret_is_redacted_and_compares() {
        let s = Secret::new("hunter2-hunter2");
        assert_eq!(format!("{s:?} {s}"), "[redacted] [redacted]");
        assert!(s.matches("hunter2-hunter2"));
        assert!(!s.matches("hunter2-hunter3"));
        assert!(!s.matches("hunter2"));
    }
}
