//! DPoP (RFC 9449): the validation of a proof a client sends in the `DPoP` header, the RFC 7638
//! JWK thumbprint (`jkt`) that binds a token to the proof's key, the `ath` hash of an access
//! token, and a signer that makes proofs (for clients and tests).
//!
//! The protocol part only, no HTTP: a server hands [`single_proof`] the values of its `DPoP`
//! header fields, then [`validate_proof`] the proof with what it expects of it
//! ([`ProofExpectations`]: the request's method and URI, the access token presented with it, the
//! nonce it gave out). Each refusal is a [`DpopError`]: its `Display` text is the
//! `error_description` sent back, [`DpopError::error_code`] the `error`, and [`DpopError::check`]
//! and [`DpopError::spec`] name the failed check and the section behind it, as a check log
//! records them ([`validate_proof_logged`]).
//!
//! What stays with the caller: comparing [`ValidProof::jkt`] with the `cnf.jkt` of the token the
//! proof comes with (RFC 9449 §4.3 item 12, §6.1) and giving out nonces (§8, §9). The store of
//! used `jti`s (§11.1) is the `replay` callback, or a bounded in-memory [`ReplayStore`] that
//! validates through [`ReplayStore::validate`].

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Mutex, PoisonError};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jws::JwsSigner;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::jose::{JoseError, JwsPart, JwtFormatError, UnverifiedJwt};
use crate::spec::Citation;
use crate::urn::TYP_DPOP;
use crate::validation::{CheckLog, Rejection};

/// What the refusals cite (rows of [`crate::spec`]).
mod spec {
    use crate::spec::*;

    /// Exactly one `DPoP` header field.
    pub(super) const ONE_PROOF: Citation = Citation::of(&[RFC9449_4_3_ITEM_1]);
    /// A single, well-formed JWT.
    pub(super) const FORMAT: Citation = Citation::of(&[RFC9449_4_3_ITEM_2]);
    /// Unknown critical header parameters.
    pub(super) const CRIT: Citation = Citation::of(&[RFC7515_4_1_11]);
    /// Every required claim is present.
    pub(super) const CLAIMS: Citation = Citation::of(&[RFC9449_4_2, RFC9449_4_3_ITEM_3]);
    /// `typ`.
    pub(super) const TYP: Citation = Citation::of(&[RFC9449_4_3_ITEM_4]);
    /// `alg`.
    pub(super) const ALG: Citation = Citation::of(&[RFC9449_4_3_ITEM_5]);
    /// The `jwk` header and the signature it verifies.
    pub(super) const JWK: Citation = Citation::of(&[RFC9449_4_2, RFC9449_4_3_ITEM_6]);
    /// The signature.
    pub(super) const SIGNATURE: Citation = Citation::of(&[RFC9449_4_3_ITEM_6]);
    /// No private key in `jwk`.
    pub(super) const PRIVATE_JWK: Citation = Citation::of(&[RFC9449_4_3_ITEM_7]);
    /// The members a JWK thumbprint is computed over.
    pub(super) const THUMBPRINT: Citation = Citation::of(&[RFC7638_3_2]);
    /// `htm`.
    pub(super) const HTM: Citation = Citation::of(&[RFC9449_4_3_ITEM_8]);
    /// `htu`.
    pub(super) const HTU: Citation = Citation::of(&[RFC9449_4_3_ITEM_9]);
    /// `nonce`.
    pub(super) const NONCE: Citation = Citation::of(&[RFC9449_4_3_ITEM_10, RFC9449_8]);
    /// The acceptable window of `iat`.
    pub(super) const IAT: Citation = Citation::of(&[RFC9449_4_3_ITEM_11, RFC9449_11_1]);
    /// `ath`.
    pub(super) const ATH: Citation = Citation::of(&[RFC9449_4_3_ITEM_12, RFC9449_4_2]);
    /// A proof is used once.
    pub(super) const REPLAY: Citation = Citation::of(&[RFC9449_11_1]);
    /// A DPoP-bound access token comes with a proof.
    pub(super) const PROOF: Citation = Citation::of(&[RFC9449_7_1]);
}

/// The `error` code of a refused proof (RFC 9449 §5, §7.1).
pub const INVALID_DPOP_PROOF: &str = "invalid_dpop_proof";
/// The `error` code that asks the client to retry with the nonce of the `DPoP-Nonce` header
/// (RFC 9449 §8, §9).
pub const USE_DPOP_NONCE: &str = "use_dpop_nonce";

/// The `alg`s a proof may be signed with, for `dpop_signing_alg_values_supported` (RFC 9449
/// §5.1): asymmetric only, never `none` or HS*.
pub const DPOP_ALGS: &[&str] = &["ES256", "PS256", "RS256", "EdDSA"];

/// How long after its `iat` a proof is accepted, in seconds, unless the server chooses otherwise.
pub const DEFAULT_MAX_AGE: i64 = 300;

/// How many proof `jti`s a [`ReplayStore`] keeps at most, unless the server chooses otherwise:
/// 100 000 proofs within one window (about 330 a second over [`DEFAULT_MAX_AGE`] plus leeway),
/// 32 bytes and an expiry each.
pub const DEFAULT_REPLAY_CAPACITY: usize = 100_000;

/// The JWK members that belong to a private or symmetric key (RFC 7518 §6.2.2, §6.3.2, §6.4;
/// RFC 8037 §2): a proof's `jwk` must carry none of them.
const PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The claims of a proof (RFC 9449 §4.2), as refusals name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProofClaim {
    /// `jti`: the proof's unique identifier.
    Jti,
    /// `htm`: the HTTP method of the request.
    Htm,
    /// `htu`: the URI of the request, without query and fragment.
    Htu,
    /// `iat`: when the proof was created.
    Iat,
    /// `ath`: the hash of the access token presented with the proof.
    Ath,
    /// `nonce`: the nonce the server provided.
    Nonce,
}

impl ProofClaim {
    /// The claim's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Jti => "jti",
            Self::Htm => "htm",
            Self::Htu => "htu",
            Self::Iat => "iat",
            Self::Ath => "ath",
            Self::Nonce => "nonce",
        }
    }

    /// Why every proof carries it, as a refusal of its absence explains.
    fn why(self) -> &'static str {
        match self {
            Self::Jti => "every proof carries a unique identifier, so that it is used only once",
            Self::Htm => "every proof names the HTTP method of the request it is made for",
            Self::Htu => "every proof names the URI of the request it is made for",
            Self::Iat => "every proof carries the time it was created",
            Self::Ath => "a proof sent with an access token carries the token's hash",
            Self::Nonce => "this server requires the nonce it provided",
        }
    }

    /// The check a refusal of this claim fails.
    fn check(self) -> &'static str {
        match self {
            Self::Jti => "dpop-jti",
            Self::Htm => "dpop-htm",
            Self::Htu => "dpop-htu",
            Self::Iat => "dpop-iat",
            Self::Ath => "dpop-ath",
            Self::Nonce => "dpop-nonce",
        }
    }
}

impl std::fmt::Display for ProofClaim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `"a", "b"`: the members a refusal lists.
fn quoted(members: &[&str]) -> String {
    members.iter().map(|m| format!("\"{m}\"")).collect::<Vec<_>>().join(", ")
}

/// Why a DPoP proof was refused, or a JWK has no thumbprint: the first failed check, with the
/// values it compared. The `Display` text is the `error_description` sent back;
/// [`check`](Self::check) names the check, [`spec`](Self::spec) the section that requires it and
/// [`error_code`](Self::error_code) the `error` to send.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DpopError {
    /// The request carries more than one proof (several `DPoP` fields, or one with a list).
    #[error("the request carries {count} DPoP proofs; a request carries exactly one")]
    MultipleProofs {
        /// How many there were.
        count: usize,
    },
    /// The proof is not a compact JWS.
    #[error("the DPoP proof is not a valid JWT: {source}")]
    Format {
        /// What is wrong with its serialization.
        #[source]
        source: JwtFormatError,
    },
    /// The header has a `crit` parameter: no extension is understood here.
    #[error("the DPoP proof has critical header parameters [{list}] that are not understood", list = quoted_owned(crit))]
    CriticalHeader {
        /// The parameters it names.
        crit: Vec<String>,
    },
    /// The header has no `typ`.
    #[error("the DPoP proof has no typ header; it must be \"{TYP_DPOP}\"")]
    MissingTyp,
    /// The header `typ` is not `dpop+jwt`.
    #[error("the DPoP proof's typ is \"{typ}\", not \"{TYP_DPOP}\"")]
    Typ {
        /// The `typ` it has.
        typ: String,
    },
    /// The header `alg` is not one of [`DPOP_ALGS`].
    #[error(
        "the DPoP proof is signed with alg \"{alg}\"; only {allowed} are accepted (asymmetric signatures, never none or HS*)",
        allowed = DPOP_ALGS.join(", ")
    )]
    Alg {
        /// The `alg` it names.
        alg: String,
    },
    /// The header has no `jwk`.
    #[error("the DPoP proof has no jwk header: a proof carries the public key that verifies its signature")]
    MissingJwk,
    /// The header `jwk` is not a JSON object.
    #[error("the DPoP proof's jwk header is not a JSON object (a JWK)")]
    JwkNotAnObject,
    /// The header `jwk` holds private (or symmetric) key members.
    #[error("the DPoP proof's jwk header holds private key members ({list}); it must be a public key", list = quoted(members))]
    PrivateJwk {
        /// The private members it holds.
        members: Vec<&'static str>,
    },
    /// The header `jwk` is not the kind of key the `alg` signs with.
    #[error("the DPoP proof is signed with {alg}, which needs {needed}, but its jwk is {found}")]
    JwkType {
        /// The proof's `alg`.
        alg: &'static str,
        /// The key it needs.
        needed: &'static str,
        /// The key it has.
        found: String,
    },
    /// A JWK whose `kty` has no thumbprint here (RFC 7638 §3.2 defines EC, RSA and OKP here).
    #[error("the JWK's kty is {kty}; a thumbprint is computed for EC, RSA and OKP keys only", kty = kty.as_deref().map_or_else(|| "missing".to_owned(), |k| format!("\"{k}\"")))]
    UnsupportedKty {
        /// The `kty`, if it is a string.
        kty: Option<String>,
    },
    /// A JWK without one of the members its thumbprint is computed over.
    #[error("the {kty} JWK has no string member \"{member}\", which its thumbprint is computed over")]
    MissingJwkMember {
        /// The key type.
        kty: &'static str,
        /// The missing member.
        member: &'static str,
    },
    /// The header `jwk` does not make a verification key for the `alg`.
    #[error("the DPoP proof's jwk header is not a usable {alg} public key: {source}")]
    UnusableJwk {
        /// The proof's `alg`.
        alg: &'static str,
        /// Why `josekit` refused it.
        #[source]
        source: josekit::JoseError,
    },
    /// The signature does not verify with the header `jwk`.
    #[error("the DPoP proof's signature does not verify with the public key in its jwk header")]
    Signature {
        /// The verifier's failure.
        #[source]
        source: josekit::JoseError,
    },
    /// A claim every proof carries is absent.
    #[error("the DPoP proof has no {claim} claim: {why}", why = claim.why())]
    MissingClaim {
        /// The absent claim.
        claim: ProofClaim,
    },
    /// A claim is not of its type.
    #[error("the DPoP proof's {claim} claim is not {expected}")]
    ClaimType {
        /// The claim.
        claim: ProofClaim,
        /// What it must be.
        expected: &'static str,
    },
    /// `htm` is not the request's method.
    #[error("the DPoP proof's htm is \"{found}\", not \"{expected}\"")]
    Htm {
        /// The proof's `htm`.
        found: String,
        /// The request's method.
        expected: String,
    },
    /// `htu` is not an absolute `http` or `https` URI.
    #[error("the DPoP proof's htu \"{found}\" is not an absolute http or https URI")]
    HtuNotAUri {
        /// The proof's `htu`.
        found: String,
    },
    /// `htu` is not the request's URI.
    #[error(
        "the DPoP proof's htu is \"{found}\", not \"{expected}\" (compared without query and fragment, \
         scheme and host case-insensitively, default ports omitted)"
    )]
    Htu {
        /// The proof's `htu`, as sent.
        found: String,
        /// The request's URI, normalised, without query and fragment.
        expected: String,
    },
    /// The server's own request URI is not an absolute `http` or `https` URI: a server mistake.
    #[error("this server's request URI \"{uri}\" is not an absolute http or https URI, so no htu can match it")]
    RequestUri {
        /// The URI the server passed in [`ProofExpectations::htu`].
        uri: String,
    },
    /// `iat` is older than the acceptable window.
    #[error(
        "the DPoP proof was created {age} s ago (iat {iat}, now {now}); this server accepts proofs for {max_age} s"
    )]
    TooOld {
        /// The proof's `iat`.
        iat: i64,
        /// The server's time.
        now: i64,
        /// `now - iat`.
        age: i64,
        /// The window, [`ProofExpectations::max_age`].
        max_age: i64,
    },
    /// `iat` is further in the future than the clock-skew leeway.
    #[error(
        "the DPoP proof was created {ahead} s in the future (iat {iat}, now {now}); at most {leeway} s of clock skew is accepted"
    )]
    InFuture {
        /// The proof's `iat`.
        iat: i64,
        /// The server's time.
        now: i64,
        /// `iat - now`.
        ahead: i64,
        /// [`ProofExpectations::leeway`].
        leeway: i64,
    },
    /// The proof comes with an access token but has no `ath`.
    #[error("the DPoP proof has no ath claim, but it comes with an access token: {why}", why = ProofClaim::Ath.why())]
    MissingAth,
    /// `ath` is not the hash of the access token presented with the proof.
    #[error("the DPoP proof's ath is \"{found}\", not \"{expected}\", the hash of the access token it comes with")]
    Ath {
        /// The proof's `ath`.
        found: String,
        /// [`ath`] of the presented token.
        expected: String,
    },
    /// The server requires a nonce and the proof has none.
    #[error("the DPoP proof has no nonce claim: {why} (\"{expected}\")", why = ProofClaim::Nonce.why())]
    MissingNonce {
        /// The nonce the server provided.
        expected: String,
    },
    /// The proof's `nonce` is not the one the server provided.
    #[error("the DPoP proof's nonce is \"{found}\", not \"{expected}\", the nonce this server provided")]
    Nonce {
        /// The proof's `nonce`.
        found: String,
        /// The nonce the server provided.
        expected: String,
    },
    /// The proof's `jti` was seen before.
    #[error("the DPoP proof's jti \"{jti}\" was already used: a proof is accepted only once")]
    Replay {
        /// The replayed `jti`.
        jti: String,
    },
    /// A DPoP-bound access token came without a proof (no `DPoP` header field).
    #[error(
        "the request carries no DPoP proof: a DPoP-bound access token is sent with a DPoP header holding a proof of the key it is bound to"
    )]
    MissingProof,
    /// The [`ReplayStore`] holds as many `jti`s still within their window as it may: a new proof
    /// cannot be remembered, so it is refused rather than an older one forgotten early.
    #[error(
        "this server remembers the jti of at most {capacity} recent DPoP proofs to refuse replays, and every one of them is still within its window; retry in a few seconds"
    )]
    ReplayStoreFull {
        /// [`ReplayStore::new`]'s capacity.
        capacity: usize,
    },
}

/// `"a", "b"` of owned strings.
fn quoted_owned(members: &[String]) -> String {
    quoted(&members.iter().map(String::as_str).collect::<Vec<_>>())
}

impl DpopError {
    /// The failed check's short stable name (`dpop-typ`, `dpop-htu`...), as a check log records it.
    pub fn check(&self) -> &'static str {
        match self {
            Self::MultipleProofs { .. } | Self::Format { .. } | Self::CriticalHeader { .. } => "dpop-format",
            Self::MissingTyp | Self::Typ { .. } => "dpop-typ",
            Self::Alg { .. } => "dpop-alg",
            Self::MissingJwk
            | Self::JwkNotAnObject
            | Self::PrivateJwk { .. }
            | Self::JwkType { .. }
            | Self::UnsupportedKty { .. }
            | Self::MissingJwkMember { .. }
            | Self::UnusableJwk { .. } => "dpop-jwk",
            Self::Signature { .. } => "dpop-signature",
            Self::MissingClaim { claim } | Self::ClaimType { claim, .. } => claim.check(),
            Self::Htm { .. } => "dpop-htm",
            Self::HtuNotAUri { .. } | Self::Htu { .. } | Self::RequestUri { .. } => "dpop-htu",
            Self::TooOld { .. } | Self::InFuture { .. } => "dpop-iat",
            Self::MissingAth | Self::Ath { .. } => "dpop-ath",
            Self::MissingNonce { .. } | Self::Nonce { .. } => "dpop-nonce",
            Self::Replay { .. } | Self::ReplayStoreFull { .. } => "dpop-jti",
            Self::MissingProof => "dpop-proof",
        }
    }

    /// The section that requires the failed check, e.g. `RFC 9449 §4.3 item 8`.
    pub fn spec(&self) -> Citation {
        match self {
            Self::MultipleProofs { .. } => spec::ONE_PROOF,
            Self::Format { .. } => spec::FORMAT,
            Self::CriticalHeader { .. } => spec::CRIT,
            Self::MissingTyp | Self::Typ { .. } => spec::TYP,
            Self::Alg { .. } => spec::ALG,
            Self::MissingJwk | Self::JwkNotAnObject | Self::JwkType { .. } | Self::UnusableJwk { .. } => spec::JWK,
            Self::PrivateJwk { .. } => spec::PRIVATE_JWK,
            Self::UnsupportedKty { .. } | Self::MissingJwkMember { .. } => spec::THUMBPRINT,
            Self::Signature { .. } => spec::SIGNATURE,
            Self::MissingClaim { .. } | Self::ClaimType { .. } => spec::CLAIMS,
            Self::Htm { .. } => spec::HTM,
            Self::HtuNotAUri { .. } | Self::Htu { .. } | Self::RequestUri { .. } => spec::HTU,
            Self::TooOld { .. } | Self::InFuture { .. } => spec::IAT,
            Self::MissingAth | Self::Ath { .. } => spec::ATH,
            Self::MissingNonce { .. } | Self::Nonce { .. } => spec::NONCE,
            Self::Replay { .. } | Self::ReplayStoreFull { .. } => spec::REPLAY,
            Self::MissingProof => spec::PROOF,
        }
    }

    /// The OAuth `error` to send: [`INVALID_DPOP_PROOF`] (RFC 9449 §5, §7.1), except
    /// [`USE_DPOP_NONCE`] when the nonce is missing or wrong (§8, §9: send the nonce in a
    /// `DPoP-Nonce` header with it) and `server_error` when the server failed: its own request
    /// URI is unusable ([`DpopError::RequestUri`]) or its replay store is full
    /// ([`DpopError::ReplayStoreFull`]).
    pub fn error_code(&self) -> &'static str {
        match self {
            Self::MissingNonce { .. } | Self::Nonce { .. } => USE_DPOP_NONCE,
            Self::RequestUri { .. } | Self::ReplayStoreFull { .. } => "server_error",
            _ => INVALID_DPOP_PROOF,
        }
    }

    /// The refusal as the validators' [`Rejection`], for a [`CheckLog`]: its text is this one
    /// followed by ` ({spec})`.
    pub fn rejection(&self) -> Rejection {
        Rejection::Other { check: self.check(), description: self.to_string(), spec: self.spec() }
    }
}

/// The RFC 7638 SHA-256 thumbprint of a JWK, base64url without padding: the `jkt` a token's
/// `cnf` names (RFC 9449 §6.1). It is computed over the key's required members only, in
/// lexicographic order (EC: `crv`, `kty`, `x`, `y`; RSA: `e`, `kty`, `n`; OKP: `crv`, `kty`,
/// `x`), so `kid`, `alg` or `use` never change it.
pub fn jwk_thumbprint(jwk: &Map<String, Value>) -> Result<String, DpopError> {
    let kty = jwk.get("kty").and_then(Value::as_str);
    let (kty, members): (&'static str, &[&'static str]) = match kty {
        Some("EC") => ("EC", &["crv", "kty", "x", "y"]),
        Some("RSA") => ("RSA", &["e", "kty", "n"]),
        Some("OKP") => ("OKP", &["crv", "kty", "x"]),
        other => return Err(DpopError::UnsupportedKty { kty: other.map(str::to_owned) }),
    };
    let mut canonical = String::from("{");
    for (i, &member) in members.iter().enumerate() {
        let Some(value) = jwk.get(member).and_then(Value::as_str) else {
            return Err(DpopError::MissingJwkMember { kty, member });
        };
        if i > 0 {
            canonical.push(',');
        }
        // `Value`'s `Display` is its compact JSON: the member name and value as JSON strings.
        canonical.push_str(&format!("{}:{}", Value::from(member), Value::from(value)));
    }
    canonical.push('}');
    Ok(URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())))
}

/// The `ath` of an access token: base64url (no padding) of the SHA-256 of its ASCII bytes
/// (RFC 9449 §4.2).
pub fn ath(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(access_token.as_bytes()))
}

/// What a server expects of the proof of one request.
#[derive(Clone, Copy, Debug)]
pub struct ProofExpectations<'a> {
    /// The request's HTTP method, e.g. `POST` (compared exactly with `htm`).
    pub htm: &'a str,
    /// The request's absolute URI as the client addressed it (the server's public origin and the
    /// path); its query and fragment are ignored.
    pub htu: &'a str,
    /// How many seconds after its `iat` a proof is accepted.
    pub max_age: i64,
    /// How many seconds in the future an `iat` may be (clock skew).
    pub leeway: i64,
    /// The access token presented with the proof (`Authorization: DPoP ...`), whose hash `ath`
    /// must be; `None` at a token endpoint.
    pub access_token: Option<&'a str>,
    /// The nonce the server provided (`DPoP-Nonce`), which `nonce` must be; `None` if it asks
    /// for none.
    pub nonce: Option<&'a str>,
}

impl<'a> ProofExpectations<'a> {
    /// A proof of the request `htm htu`, accepted [`DEFAULT_MAX_AGE`] seconds after its `iat` and
    /// [`JWT_LEEWAY`](crate::JWT_LEEWAY) seconds before it, with no access token and no nonce.
    pub fn new(htm: &'a str, htu: &'a str) -> Self {
        Self { htm, htu, max_age: DEFAULT_MAX_AGE, leeway: crate::JWT_LEEWAY, access_token: None, nonce: None }
    }

    /// The same, for a proof that comes with `access_token` (at a protected resource).
    pub fn with_access_token(self, access_token: &'a str) -> Self {
        Self { access_token: Some(access_token), ..self }
    }

    /// The same, for a server that provided `nonce`.
    pub fn with_nonce(self, nonce: &'a str) -> Self {
        Self { nonce: Some(nonce), ..self }
    }
}

/// A proof that passed every check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidProof {
    /// The RFC 7638 thumbprint of the proof's key: the `cnf.jkt` of a token bound to it.
    pub jkt: String,
    /// The proof's `jti`.
    pub jti: String,
    /// The proof's `iat`.
    pub iat: i64,
}

/// The one proof of a request, from the values of its `DPoP` header fields: `None` without one,
/// [`DpopError::MultipleProofs`] with several (RFC 9449 §4.3 item 1).
pub fn single_proof<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<Option<&'a str>, DpopError> {
    let mut values = values.into_iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    match values.count() {
        0 => Ok(Some(first)),
        more => Err(DpopError::MultipleProofs { count: more + 1 }),
    }
}

/// Validates a DPoP proof (RFC 9449 §4.3) at time `now`, in this order: one compact JWS
/// (`dpop-format`), `typ` (`dpop-typ`), `alg` (`dpop-alg`), a public `jwk` (`dpop-jwk`), the
/// signature with it (`dpop-signature`), the required claims, `htm`, `htu`, `iat`, `ath` and
/// `nonce`, and last the `jti`: `replay(jti, iat)` must return `true` for a `jti` not seen
/// before (and remember it for at least `max_age + leeway` seconds after `iat`), `false` for a
/// replay. Only a proof that passed every other check reaches `replay`.
pub fn validate_proof(
    proof: &str,
    expect: &ProofExpectations<'_>,
    now: i64,
    replay: &mut dyn FnMut(&str, i64) -> bool,
) -> Result<ValidProof, DpopError> {
    validate_proof_logged(proof, expect, now, replay, &mut CheckLog::new())
}

/// [`validate_proof`], recording each check in `log` (the passed ones, then the failed one).
pub fn validate_proof_logged(
    proof: &str,
    expect: &ProofExpectations<'_>,
    now: i64,
    replay: &mut dyn FnMut(&str, i64) -> bool,
    log: &mut CheckLog,
) -> Result<ValidProof, DpopError> {
    validate(proof, expect, now, replay, log).inspect_err(|e| {
        log.reject(e.rejection());
    })
}

/// The `jti`s of the proofs a server accepted (RFC 9449 §11.1), each kept until its proof could no
/// longer be accepted (`iat + max_age + leeway`), so that a replay within that window is refused.
/// In memory and bounded: at most `capacity` entries of a fixed size (the SHA-256 of the `jti`,
/// whatever its length, and an expiry). Expired entries are dropped when the store is full; when
/// every entry is still live, a new proof is refused ([`DpopError::ReplayStoreFull`]) rather
/// than a live `jti` forgotten early.
#[derive(Debug)]
pub struct ReplayStore {
    /// SHA-256 of each remembered `jti`, with the time until which it is kept.
    seen: Mutex<HashMap<[u8; 32], i64>>,
    capacity: usize,
}

impl Default for ReplayStore {
    fn default() -> Self {
        Self::new(DEFAULT_REPLAY_CAPACITY)
    }
}

impl ReplayStore {
    /// A store for at most `capacity` proofs within their window.
    pub fn new(capacity: usize) -> Self {
        Self { seen: Mutex::new(HashMap::new()), capacity }
    }

    /// How many `jti`s it holds (expired ones included until they are dropped).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], i64>> {
        // A panic elsewhere while holding the lock leaves a map that is still whole.
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// [`validate_proof_logged`] with this store as the `replay` callback: a `jti` seen before
    /// and still within its window is a replay; a fresh one is remembered until
    /// `iat + max_age + leeway`. The store is locked for the whole validation (no `await` in it),
    /// so two requests with one proof cannot both pass.
    pub fn validate(
        &self,
        proof: &str,
        expect: &ProofExpectations<'_>,
        now: i64,
        log: &mut CheckLog,
    ) -> Result<ValidProof, DpopError> {
        let mut seen = self.lock();
        if seen.len() >= self.capacity {
            seen.retain(|_, until| *until >= now);
        }
        if seen.len() >= self.capacity {
            let e = DpopError::ReplayStoreFull { capacity: self.capacity };
            log.reject(e.rejection());
            return Err(e);
        }
        let window = expect.max_age.saturating_add(expect.leeway);
        let mut replay = |jti: &str, iat: i64| {
            let until = iat.saturating_add(window);
            match seen.entry(Sha256::digest(jti.as_bytes()).into()) {
                Entry::Occupied(mut used) if *used.get() < now => {
                    // Its first proof can no longer be accepted: this one is new.
                    used.insert(until);
                    true
                }
                Entry::Occupied(_) => false,
                Entry::Vacant(free) => {
                    free.insert(until);
                    true
                }
            }
        };
        validate_proof_logged(proof, expect, now, &mut replay, log)
    }
}

fn validate(
    proof: &str,
    expect: &ProofExpectations<'_>,
    now: i64,
    replay: &mut dyn FnMut(&str, i64) -> bool,
    log: &mut CheckLog,
) -> Result<ValidProof, DpopError> {
    // Items 1-2: one compact JWS (a header field folded into a list has commas).
    let count = proof.split(',').count();
    if count > 1 {
        return Err(DpopError::MultipleProofs { count });
    }
    let jwt = UnverifiedJwt::parse(proof).map_err(|source| DpopError::Format { source })?;
    if let Some(crit) = &jwt.header().crit {
        return Err(DpopError::CriticalHeader { crit: crit.clone() });
    }
    log.pass("dpop-format", spec::FORMAT, "the DPoP proof is a compact JWS");

    // Item 4: typ, exactly.
    match jwt.header().typ.as_deref() {
        Some(TYP_DPOP) => log.pass("dpop-typ", spec::TYP, format!("typ is \"{TYP_DPOP}\"")),
        Some(typ) => return Err(DpopError::Typ { typ: typ.to_owned() }),
        None => return Err(DpopError::MissingTyp),
    }

    // Item 5: an asymmetric alg of the allow-list.
    let alg = DpopAlg::from_name(&jwt.header().alg).ok_or_else(|| DpopError::Alg { alg: jwt.header().alg.clone() })?;
    log.pass("dpop-alg", spec::ALG, format!("alg {} is allowed", alg.name()));

    // Items 6-7: a public jwk of the alg's key type, which verifies the signature.
    let header = raw_header(proof)?;
    let jwk = match header.get("jwk") {
        Some(Value::Object(jwk)) => jwk,
        Some(_) => return Err(DpopError::JwkNotAnObject),
        None => return Err(DpopError::MissingJwk),
    };
    let private: Vec<&'static str> = PRIVATE_MEMBERS.iter().copied().filter(|m| jwk.contains_key(*m)).collect();
    if !private.is_empty() {
        return Err(DpopError::PrivateJwk { members: private });
    }
    alg.check_key_type(jwk)?;
    let jkt = jwk_thumbprint(jwk)?;
    let verifier = josekit::jwk::Jwk::from_map(jwk.clone())
        .and_then(|parsed| alg.verifier(&parsed))
        .map_err(|source| DpopError::UnusableJwk { alg: alg.name(), source })?;
    log.pass("dpop-jwk", spec::JWK, format!("jwk is a public key with thumbprint (jkt) \"{jkt}\""));
    let (input, signature) = jwt.signing_input_and_signature();
    verifier.verify(input.as_bytes(), signature).map_err(|source| DpopError::Signature { source })?;
    log.pass("dpop-signature", spec::SIGNATURE, format!("signature verified with the jwk (jkt \"{jkt}\")"));

    // Item 3: the claims every proof carries (verified now).
    let claims = jwt.unverified_claims();
    let jti = string_claim(claims, ProofClaim::Jti)?;
    let htm = string_claim(claims, ProofClaim::Htm)?;
    let htu = string_claim(claims, ProofClaim::Htu)?;
    let iat = numeric_claim(claims, ProofClaim::Iat)?;

    // Item 8: htm.
    if htm != expect.htm {
        return Err(DpopError::Htm { found: htm.to_owned(), expected: expect.htm.to_owned() });
    }
    log.pass("dpop-htm", spec::HTM, format!("htm is \"{htm}\""));

    // Item 9: htu, without query and fragment, after syntax- and scheme-based normalisation.
    let expected = TargetUri::parse(expect.htu).ok_or_else(|| DpopError::RequestUri { uri: expect.htu.to_owned() })?;
    let found = TargetUri::parse(htu).ok_or_else(|| DpopError::HtuNotAUri { found: htu.to_owned() })?;
    if found != expected {
        return Err(DpopError::Htu { found: htu.to_owned(), expected: expected.to_string() });
    }
    log.pass("dpop-htu", spec::HTU, format!("htu \"{htu}\" is {expected}"));

    // Item 11: iat within [now - max_age, now + leeway].
    let age = now.saturating_sub(iat);
    if age > expect.max_age {
        return Err(DpopError::TooOld { iat, now, age, max_age: expect.max_age });
    }
    let ahead = iat.saturating_sub(now);
    if ahead > expect.leeway {
        return Err(DpopError::InFuture { iat, now, ahead, leeway: expect.leeway });
    }
    log.pass("dpop-iat", spec::IAT, format!("created at {iat}, {age} s ago"));

    // Item 12: ath, when an access token comes with the proof.
    if let Some(token) = expect.access_token {
        let expected = ath(token);
        match optional_string_claim(claims, ProofClaim::Ath)? {
            None => return Err(DpopError::MissingAth),
            Some(found) if found != expected => {
                return Err(DpopError::Ath { found: found.to_owned(), expected });
            }
            Some(_) => log.pass("dpop-ath", spec::ATH, format!("ath \"{expected}\" is the access token's hash")),
        }
    }

    // Item 10: the nonce the server provided.
    if let Some(nonce) = expect.nonce {
        match optional_string_claim(claims, ProofClaim::Nonce)? {
            None => return Err(DpopError::MissingNonce { expected: nonce.to_owned() }),
            Some(found) if found != nonce => {
                return Err(DpopError::Nonce { found: found.to_owned(), expected: nonce.to_owned() });
            }
            Some(_) => log.pass("dpop-nonce", spec::NONCE, format!("nonce \"{nonce}\" is the one provided")),
        }
    }

    // §11.1: a proof is used once; last, so that a refused proof never uses up its jti.
    if !replay(jti, iat) {
        return Err(DpopError::Replay { jti: jti.to_owned() });
    }
    log.pass("dpop-jti", spec::REPLAY, format!("jti \"{jti}\" was not used before"));
    Ok(ValidProof { jkt, jti: jti.to_owned(), iat })
}

/// The decoded JOSE header of a proof [`UnverifiedJwt::parse`] accepted.
fn raw_header(proof: &str) -> Result<Map<String, Value>, DpopError> {
    let not_json = || DpopError::Format { source: JwtFormatError::NotJson { part: JwsPart::Header } };
    let encoded = proof.split('.').next().unwrap_or_default();
    let bytes = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| not_json())?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(header)) => Ok(header),
        _ => Err(not_json()),
    }
}

/// A required non-empty string claim.
fn string_claim(claims: &Map<String, Value>, claim: ProofClaim) -> Result<&str, DpopError> {
    optional_string_claim(claims, claim)?.ok_or(DpopError::MissingClaim { claim })
}

/// A non-empty string claim, if present.
fn optional_string_claim(claims: &Map<String, Value>, claim: ProofClaim) -> Result<Option<&str>, DpopError> {
    match claims.get(claim.name()) {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s)),
        Some(_) => Err(DpopError::ClaimType { claim, expected: "a non-empty string" }),
    }
}

/// A required NumericDate claim (a fractional one is truncated).
fn numeric_claim(claims: &Map<String, Value>, claim: ProofClaim) -> Result<i64, DpopError> {
    let value = claims.get(claim.name()).ok_or(DpopError::MissingClaim { claim })?;
    value
        .as_i64()
        .or_else(|| value.as_f64().map(|f| f as i64))
        .ok_or(DpopError::ClaimType { claim, expected: "a number of seconds since the epoch" })
}

/// The signature algorithms of [`DPOP_ALGS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DpopAlg {
    Es256,
    Ps256,
    Rs256,
    EdDsa,
}

impl DpopAlg {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "ES256" => Some(Self::Es256),
            "PS256" => Some(Self::Ps256),
            "RS256" => Some(Self::Rs256),
            "EdDSA" => Some(Self::EdDsa),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Ps256 => "PS256",
            Self::Rs256 => "RS256",
            Self::EdDsa => "EdDSA",
        }
    }

    /// The `jwk` is the kind of key this alg verifies with (no RSA key for ES256, etc.).
    fn check_key_type(self, jwk: &Map<String, Value>) -> Result<(), DpopError> {
        let text = |name: &str| jwk.get(name).and_then(Value::as_str);
        let (kty, crv) = (text("kty"), text("crv"));
        let (ok, needed) = match self {
            Self::Es256 => (kty == Some("EC") && crv == Some("P-256"), "an EC key on curve P-256"),
            Self::Ps256 | Self::Rs256 => (kty == Some("RSA"), "an RSA key"),
            Self::EdDsa => {
                (kty == Some("OKP") && matches!(crv, Some("Ed25519" | "Ed448")), "an OKP key on curve Ed25519 or Ed448")
            }
        };
        if ok {
            return Ok(());
        }
        let found = match (kty, crv) {
            (None, _) => "a key without kty".to_owned(),
            (Some(kty), None) => format!("a \"{kty}\" key"),
            (Some(kty), Some(crv)) => format!("a \"{kty}\" key on curve \"{crv}\""),
        };
        Err(DpopError::JwkType { alg: self.name(), needed, found })
    }

    fn verifier(self, jwk: &josekit::jwk::Jwk) -> Result<Box<dyn josekit::jws::JwsVerifier>, josekit::JoseError> {
        Ok(match self {
            Self::Es256 => Box::new(josekit::jws::ES256.verifier_from_jwk(jwk)?),
            Self::Ps256 => Box::new(josekit::jws::PS256.verifier_from_jwk(jwk)?),
            Self::Rs256 => Box::new(josekit::jws::RS256.verifier_from_jwk(jwk)?),
            Self::EdDsa => Box::new(josekit::jws::EdDSA.verifier_from_jwk(jwk)?),
        })
    }
}

/// The parts of an `http(s)` URI an `htu` is compared by: scheme and host lowercased (IDNA),
/// the port with the scheme's default filled in, the path with dot segments removed and
/// percent-encoding normalised (RFC 3986 §6.2.2, §6.2.3). Userinfo, query and fragment are left
/// out.
#[derive(Debug, PartialEq, Eq)]
struct TargetUri {
    scheme: String,
    host: String,
    port: u16,
    default_port: bool,
    path: String,
}

impl TargetUri {
    fn parse(uri: &str) -> Option<Self> {
        let url = url::Url::parse(uri).ok()?;
        if !matches!(url.scheme(), "http" | "https") {
            return None;
        }
        Some(Self {
            scheme: url.scheme().to_owned(),
            host: url.host_str()?.to_owned(),
            port: url.port_or_known_default()?,
            default_port: url.port().is_none(),
            path: normalise_percent_encoding(url.path()),
        })
    }
}

impl std::fmt::Display for TargetUri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}", self.scheme, self.host)?;
        if !self.default_port {
            write!(f, ":{}", self.port)?;
        }
        f.write_str(&self.path)
    }
}

/// Decodes percent-encoded unreserved characters and uppercases the hex digits of the others
/// (RFC 3986 §6.2.2.1-2).
fn normalise_percent_encoding(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(b) if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') => {
                out.push(char::from(b));
                i += 3;
            }
            Some(b) => {
                out.push_str(&format!("%{b:02X}"));
                i += 3;
            }
            None => {
                out.push(char::from(bytes[i]));
                i += 1;
            }
        }
    }
    out
}

/// Why a DPoP key could not be generated or a proof signed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DpopKeyError {
    /// `josekit` could not generate the key or sign.
    #[error("{0}")]
    Jose(#[from] JoseError),
    /// The generated key's public JWK has no thumbprint.
    #[error("the generated DPoP key has no thumbprint: {0}")]
    Thumbprint(#[source] DpopError),
}

impl From<josekit::JoseError> for DpopKeyError {
    fn from(e: josekit::JoseError) -> Self {
        Self::Jose(JoseError::Josekit(e))
    }
}

/// A client's DPoP key: a fresh EC P-256 key pair that signs proofs with ES256.
pub struct DpopKey {
    signer: josekit::jws::alg::ecdsa::EcdsaJwsSigner,
    public_jwk: Map<String, Value>,
    jkt: String,
}

impl std::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopKey").field("jkt", &self.jkt).finish_non_exhaustive()
    }
}

impl DpopKey {
    /// Generates a fresh EC P-256 key pair.
    pub fn generate() -> Result<Self, DpopKeyError> {
        let pair = josekit::jws::ES256.generate_key_pair()?;
        let signer = josekit::jws::ES256.signer_from_jwk(&pair.to_jwk_private_key())?;
        let public_jwk: Map<String, Value> = pair.to_jwk_public_key().into();
        let jkt = jwk_thumbprint(&public_jwk).map_err(DpopKeyError::Thumbprint)?;
        Ok(Self { signer, public_jwk, jkt })
    }

    /// The public JWK (`kty`, `crv`, `x`, `y`, `alg`) every proof carries in its header.
    pub fn public_jwk(&self) -> &Map<String, Value> {
        &self.public_jwk
    }

    /// The RFC 7638 thumbprint of the key: the `jkt` a token bound to it names.
    pub fn thumbprint(&self) -> &str {
        &self.jkt
    }
}

/// A DPoP proof under construction: the claims of one request, and any header parameter or claim
/// changed on purpose (for tests and for showing a refusal).
#[derive(Clone, Debug)]
pub struct ProofBuilder {
    /// Header parameters set (`Some`) or removed (`None`) after the defaults, in order.
    header: Vec<(String, Option<Value>)>,
    claims: Map<String, Value>,
}

impl ProofBuilder {
    /// The proof of the request `htm htu`, created at `iat`, identified by `jti`.
    pub fn new(htm: &str, htu: &str, iat: i64, jti: &str) -> Self {
        let mut claims = Map::new();
        claims.insert("jti".into(), jti.into());
        claims.insert("htm".into(), htm.into());
        claims.insert("htu".into(), htu.into());
        claims.insert("iat".into(), iat.into());
        Self { header: Vec::new(), claims }
    }

    /// Adds `ath`, the hash of the access token the proof comes with.
    pub fn access_token(self, access_token: &str) -> Self {
        self.claim("ath", ath(access_token))
    }

    /// Adds `nonce`, the nonce the server provided.
    pub fn nonce(self, nonce: &str) -> Self {
        self.claim("nonce", nonce)
    }

    /// Sets header parameter `name` (replacing the default `typ`, `alg` or `jwk`).
    pub fn header(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.header.push((name.to_owned(), Some(value.into())));
        self
    }

    /// Removes header parameter `name`.
    pub fn without_header(mut self, name: &str) -> Self {
        self.header.push((name.to_owned(), None));
        self
    }

    /// Sets claim `name` to `value`.
    pub fn claim(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.claims.insert(name.to_owned(), value.into());
        self
    }

    /// Removes claim `name`.
    pub fn without_claim(mut self, name: &str) -> Self {
        self.claims.remove(name);
        self
    }

    /// The compact JWS, header `{"typ":"dpop+jwt","alg":"ES256","jwk":key's public JWK}` (as
    /// changed), signed with `key` (ES256, whatever the header says).
    pub fn sign(&self, key: &DpopKey) -> Result<String, DpopKeyError> {
        Ok(self.sign_with("ES256", key.public_jwk(), &key.signer)?)
    }

    /// Signs with any `signer` whose key `jwk` is and whose algorithm `alg` names.
    fn sign_with(&self, alg: &str, jwk: &Map<String, Value>, signer: &dyn JwsSigner) -> Result<String, JoseError> {
        let mut header = Map::new();
        header.insert("typ".into(), TYP_DPOP.into());
        header.insert("alg".into(), alg.into());
        header.insert("jwk".into(), Value::Object(jwk.clone()));
        for (name, value) in &self.header {
            match value {
                Some(value) => header.insert(name.clone(), value.clone()),
                None => header.remove(name),
            };
        }
        let encode = |map: &Map<String, Value>| serde_json::to_vec(map).map(|json| URL_SAFE_NO_PAD.encode(json));
        let input = format!(
            "{}.{}",
            encode(&header).map_err(JoseError::Claims)?,
            encode(&self.claims).map_err(JoseError::Claims)?
        );
        let signature = signer.sign(input.as_bytes())?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

/// The proof of the request `htm htu`, created at `iat` with `jti`, with `ath` of `access_token`
/// and `nonce` when given, signed with `key`.
pub fn sign_proof(
    key: &DpopKey,
    htm: &str,
    htu: &str,
    iat: i64,
    jti: &str,
    access_token: Option<&str>,
    nonce: Option<&str>,
) -> Result<String, DpopKeyError> {
    let mut builder = ProofBuilder::new(htm, htu, iat, jti);
    if let Some(token) = access_token {
        builder = builder.access_token(token);
    }
    if let Some(nonce) = nonce {
        builder = builder.nonce(nonce);
    }
    builder.sign(key)
}

#[cfg(test)]
#[path = "dpop_tests.rs"]
mod tests;
