//! Secrets never reach a log in full: [`mask`] keeps the first and last few characters.

use std::fmt;

/// Parameter and JSON member names whose values are secrets.
pub const SECRET_NAMES: &[&str] = &[
    "client_secret",
    "subject_token",
    "actor_token",
    "assertion",
    "code",
    "code_verifier",
    "id_token_hint",
    "access_token",
    "id_token",
    "refresh_token",
    "token",
    "authorization",
];

/// Whether a parameter or JSON member called `name` carries a secret (see [`SECRET_NAMES`]).
pub fn is_secret(name: &str) -> bool {
    SECRET_NAMES.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// Shows at most the first 6 and last 4 characters of a secret and its length,
/// e.g. `eyJhbG…x9Qw (812 chars)`. Short secrets are hidden entirely.
pub fn mask(secret: &str) -> String {
    // The trace masks the token of every request: slices of it, no copy of the whole.
    let n = secret.chars().count();
    if n <= 16 {
        return format!("[{n} chars hidden]");
    }
    let head = secret.char_indices().nth(6).map_or(secret.len(), |(at, _)| at);
    let tail = secret.char_indices().nth_back(3).map_or(0, |(at, _)| at);
    format!("{}…{} ({n} chars)", &secret[..head], &secret[tail..])
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

/// A client secret as a server keeps it: the value itself for the clients the lab is configured
/// with (Lab Notes, my-requestor, lab-explorer: their secrets are in the lab's `.env` anyway), and
/// only its SHA-256 for clients registered at run time (console, admin API, RFC 7591), whose
/// secret is shown once, at registration.
///
/// A plain, unsalted SHA-256 is the right hash here: these secrets are 24 random bytes (192 bits)
/// the server made, not passwords, so there is no dictionary to try and a slow or salted hash
/// would add nothing. The presented secret's hash is compared in constant time.
#[derive(Clone, PartialEq, Eq)]
pub enum ClientSecret {
    /// The secret itself (configured clients).
    Plain(Secret),
    /// Only its SHA-256, base64url ([`sha256_b64`]): what the database keeps of registered clients.
    Sha256(String),
}

impl ClientSecret {
    /// The hashed form of `secret` (what is stored of a registered client).
    pub fn hash_of(secret: &Secret) -> Self {
        Self::Sha256(sha256_b64(secret.expose()))
    }

    /// Whether `presented` is this secret, in time independent of where they differ.
    pub fn matches(&self, presented: &str) -> bool {
        match self {
            Self::Plain(secret) => secret.matches(presented),
            Self::Sha256(hash) => Secret::new(hash.as_str()).matches(&sha256_b64(presented)),
        }
    }

    /// The secret itself, when the server keeps it (configured clients only).
    pub fn plain(&self) -> Option<&Secret> {
        match self {
            Self::Plain(secret) => Some(secret),
            Self::Sha256(_) => None,
        }
    }

    /// The SHA-256 (base64url) of the secret, whichever way it is kept.
    pub fn sha256(&self) -> String {
        match self {
            Self::Plain(secret) => sha256_b64(secret.expose()),
            Self::Sha256(hash) => hash.clone(),
        }
    }
}

impl From<Secret> for ClientSecret {
    fn from(secret: Secret) -> Self {
        Self::Plain(secret)
    }
}

/// A configured client's secret, as its configuration writes it (a string).
impl<'de> serde::Deserialize<'de> for ClientSecret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Secret::deserialize(d).map(Self::Plain)
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Where the lab's random values (codes, `jti`s, session ids) come from: the operating system,
/// or a seed, so that two runs with the same seed and clock produce byte-identical tokens.
pub trait Entropy: Send + Sync + fmt::Debug {
    /// A value of `bytes` bytes, base64url without padding.
    fn token(&self, bytes: usize) -> String;
}

/// An entropy source shared by the components of one lab.
pub type SharedEntropy = std::sync::Arc<dyn Entropy>;

/// The operating system's randomness.
#[derive(Debug, Default)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn token(&self, bytes: usize) -> String {
        random_token(bytes)
    }
}

/// Deterministic values: SHA-256 of the seed and a counter (deterministic mode).
#[derive(Debug)]
pub struct SeededEntropy {
    seed: u64,
    counter: std::sync::atomic::AtomicU64,
}

impl SeededEntropy {
    /// Values derived from `seed`, in call order.
    pub fn new(seed: u64) -> Self {
        Self { seed, counter: std::sync::atomic::AtomicU64::new(0) }
    }
}

impl Entropy for SeededEntropy {
    fn token(&self, bytes: usize) -> String {
        use base64::Engine;
        use sha2::Digest;
        let n = self.counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let mut out = Vec::with_capacity(bytes + 32);
        let mut block = 0u64;
        while out.len() < bytes {
            let mut h = sha2::Sha256::new();
            h.update(self.seed.to_le_bytes());
            h.update(n.to_le_bytes());
            h.update(block.to_le_bytes());
            out.extend_from_slice(&h.finalize());
            block += 1;
        }
        out.truncate(bytes);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out)
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
        assert_eq!(mask(&"é".repeat(16)), "[16 chars hidden]", "characters, not bytes");
        assert_eq!(mask(&format!("àbcdéf{}wxyž", "ü".repeat(7))), "àbcdéf…wxyž (17 chars)");
    }

    #[test]
    fn seeded_entropy_repeats_across_runs() {
        let (a, b) = (SeededEntropy::new(7), SeededEntropy::new(7));
        let first: Vec<String> = (0..3).map(|_| a.token(16)).collect();
        let second: Vec<String> = (0..3).map(|_| b.token(16)).collect();
        assert_eq!(first, second);
        assert_ne!(first[0], first[1]);
        assert_eq!(a.token(40).len(), 54, "40 bytes in base64url");
        assert_ne!(SeededEntropy::new(8).token(16), first[0]);
    }

    #[test]
    fn a_hashed_client_secret_matches_only_its_secret() {
        let secret = Secret::new("registered-secret-24-bytes-xyz");
        let stored = ClientSecret::hash_of(&secret);
        assert_eq!(stored, ClientSecret::Sha256(sha256_b64("registered-secret-24-bytes-xyz")));
        assert!(stored.matches("registered-secret-24-bytes-xyz"));
        assert!(!stored.matches("registered-secret-24-bytes-xyZ"));
        assert!(!stored.matches(&sha256_b64("registered-secret-24-bytes-xyz")), "the hash is no password");
        assert!(stored.plain().is_none());
        let plain = ClientSecret::from(secret.clone());
        assert!(plain.matches("registered-secret-24-bytes-xyz") && !plain.matches("other"));
        assert_eq!((plain.plain(), plain.sha256()), (Some(&secret), stored.sha256()));
        assert_eq!(format!("{stored:?} {plain:?}"), "[redacted] [redacted]");
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
