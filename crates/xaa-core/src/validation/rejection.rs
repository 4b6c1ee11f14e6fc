//! Why a token was refused, as a typed value. Every variant's `#[error]` text is the exact text
//! sent back (as `error_description`, or in `WWW-Authenticate`): `{description} ({spec})`.

use serde_json::Value;

use super::checks::describe_typ;
use crate::jose::{ALLOWED_ALGS, JoseError, JwtFormatError};
use crate::key_source::KeySourceError;
use crate::spec::Citation;
use crate::urn::{TYP_ACCESS_TOKEN, TYP_ID_JAG};

/// What the validators' refusals cite (rows of [`crate::spec`]).
pub(crate) mod spec {
    use crate::spec::*;

    /// The token is a compact JWS.
    pub(crate) const FORMAT: Citation = Citation::of(&[RFC7515_7_1]);
    /// The `alg` allow-list.
    pub(crate) const ALG: Citation = Citation::of(&[RFC8725_3_1]);
    /// Unknown critical header parameters.
    pub(crate) const CRIT: Citation = Citation::of(&[RFC7515_4_1_11]);
    /// `nbf`, in any token.
    pub(crate) const NBF: Citation = Citation::of(&[RFC7519_4_1_5]);
    /// The resource AS's processing of an ID-JAG.
    pub(crate) const ID_JAG: Citation = Citation::of(&[IDJAG_4_4_1]);
    /// The claims of an ID-JAG (`iat` among the REQUIRED ones).
    pub(crate) const ID_JAG_CLAIMS: Citation = Citation::of(&[IDJAG_3_1]);
    /// The expiry of an ID-JAG, a JWT grant.
    pub(crate) const ID_JAG_EXP: Citation = Citation::of(&[RFC7523_3_ITEM_4, RFC7519_4_1_4]);
    /// The `typ` of an ID-JAG.
    pub(crate) const ID_JAG_TYP: Citation = Citation::of(&[IDJAG_4_4_1, RFC8725_3_11]);
    /// The issuer of an ID-JAG.
    pub(crate) const ID_JAG_ISS: Citation = Citation::of(&[RFC7523_3_ITEM_1, RFC8725_3_8]);
    /// The key of an ID-JAG's issuer: `kid` is OPTIONAL in RFC 7515, required by the lab (A13).
    pub(crate) const ID_JAG_KID: Citation = Citation::of(&[LAB_A13, RFC7515_4_1_4, RFC8725_3_10]);
    /// The signature of an ID-JAG.
    pub(crate) const ID_JAG_SIGNATURE: Citation = Citation::of(&[RFC7523_3_ITEM_9]);
    /// An ID-JAG bound to a key that the request proves nothing of.
    pub(crate) const CNF_WITHOUT_PROOF: Citation = Citation::of(&[IDJAG_9_8_1_2_2, RFC9449_4_3]);
    /// An ID-JAG bound to a key, presented with a DPoP proof: the proof's key must be that key.
    pub(crate) const CNF_WITH_PROOF: Citation = Citation::of(&[IDJAG_9_8_1_2_1, RFC9449_6]);
    /// An ID-JAG bound to no key, presented with a DPoP proof (which was validated).
    pub(crate) const PROOF_WITHOUT_CNF: Citation = Citation::of(&[IDJAG_9_8_1_2_3, RFC9449_4_3]);
    /// An ID-JAG bound to no key, presented without a DPoP proof.
    pub(crate) const NO_CNF_NO_PROOF: Citation = Citation::of(&[IDJAG_9_8_1_2_4]);
    /// A `cnf` with another confirmation method than a DPoP key thumbprint.
    pub(crate) const CNF_METHOD: Citation = Citation::of(&[IDJAG_9_8_1_2_1, RFC7800_3_1]);
    /// The validation of an RFC 9068 access token.
    pub(crate) const ACCESS_TOKEN: Citation = Citation::of(&[RFC9068_4]);
    /// The `typ` of an access token presented as one.
    pub(crate) const ACCESS_TOKEN_TYP: Citation = Citation::of(&[RFC9068_4, RFC8725_3_11]);
    /// The claims of an access token (`iat` among the REQUIRED ones).
    pub(crate) const ACCESS_TOKEN_CLAIMS: Citation = Citation::of(&[RFC9068_2_2]);
    /// The IdP's processing of a subject token.
    pub(crate) const SUBJECT_TOKEN: Citation = Citation::of(&[IDJAG_4_3_3]);
    /// Explicit typing: one kind of JWT is not accepted as another.
    pub(crate) const TYPE_CONFUSION: Citation = Citation::of(&[RFC8725_3_12]);
    /// The claims of an ID token (`iat` among the REQUIRED ones).
    pub(crate) const ID_TOKEN_CLAIMS: Citation = Citation::of(&[OIDC_2]);
    /// The validation of an ID token, expiry and signature among it.
    pub(crate) const ID_TOKEN_VALIDATION: Citation = Citation::of(&[OIDC_3_1_3_7]);
}

/// The token a validator refused, named as its refusals name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Token {
    /// An ID-JAG presented to a resource AS as a jwt-bearer `assertion`.
    IdJag,
    /// An RFC 9068 access token presented to the todo API.
    AccessToken,
    /// A `subject_token` presented to the IdP as one of its ID tokens.
    SubjectToken,
}

impl Token {
    /// How a refusal of the token's claims set names it.
    fn claims_of(self) -> &'static str {
        match self {
            Self::IdJag => "the ID-JAG",
            Self::AccessToken => "the access token",
            Self::SubjectToken => "the ID token",
        }
    }

    /// The section that defines the token's claims (and requires `iat` among them).
    pub(crate) fn claims_spec(self) -> Citation {
        match self {
            Self::IdJag => spec::ID_JAG_CLAIMS,
            Self::AccessToken => spec::ACCESS_TOKEN_CLAIMS,
            Self::SubjectToken => spec::ID_TOKEN_CLAIMS,
        }
    }

    /// The section that refuses the token after its `exp`: RFC 7523 for a grant, RFC 9068 for an
    /// access token, OpenID Connect for an ID token.
    pub(crate) fn exp_spec(self) -> Citation {
        match self {
            Self::IdJag => spec::ID_JAG_EXP,
            Self::AccessToken => spec::ACCESS_TOKEN,
            Self::SubjectToken => spec::ID_TOKEN_VALIDATION,
        }
    }
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::IdJag => "the ID-JAG",
            Self::AccessToken => "the access token",
            Self::SubjectToken => "the subject token",
        })
    }
}

/// A JSON value as a refusal shows it, or `missing`.
fn json_or_missing(value: Option<&Value>) -> String {
    value.map_or_else(|| "missing".to_owned(), Value::to_string)
}

/// Why a token was refused: the first failed check, with the values it compared and the spec
/// section that requires it. [`Rejection::check`] names the check, [`Rejection::spec`] the section,
/// and the `Display` text (`{description} ({spec})`) is the one the role sends back.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The token is not a compact JWS at all.
    #[error("{token} is not a valid JWT: {source} ({spec})", spec = spec::FORMAT)]
    Format {
        /// The refused token.
        token: Token,
        /// What is wrong with its serialization.
        #[source]
        source: JwtFormatError,
    },
    /// The header `alg` is not in [`ALLOWED_ALGS`].
    #[error(
        "{token} is signed with alg \"{alg}\"; only {allowed} are accepted (never none or HS*) ({spec})",
        allowed = ALLOWED_ALGS.join(", "),
        spec = spec::ALG
    )]
    Algorithm {
        /// The refused token.
        token: Token,
        /// The `alg` it names.
        alg: String,
    },
    /// The header has a `crit` parameter: no extension is understood here.
    #[error("{token} has critical header parameters {crit:?} that are not understood ({spec})", spec = spec::CRIT)]
    CriticalHeader {
        /// The refused token.
        token: Token,
        /// The `crit` names (`(not an array)` when it is not one).
        crit: Vec<String>,
    },
    /// The header has no `typ`, which this validator requires.
    #[error("{token} header has no typ; it must be \"{expected}\" ({spec})")]
    MissingTyp {
        /// The refused token.
        token: Token,
        /// The `typ` it must have.
        expected: &'static str,
        /// The section that requires it.
        spec: Citation,
    },
    /// The `assertion` has the `typ` of another kind of JWT than an ID-JAG.
    #[error(
        "the assertion header typ is \"{found}\" ({kind}); an ID-JAG must have typ \"{TYP_ID_JAG}\" ({spec})",
        kind = describe_typ(Some(found)),
        spec = spec::ID_JAG_TYP
    )]
    NotAnIdJag {
        /// The `typ` found.
        found: String,
    },
    /// The bearer token has the `typ` of another kind of JWT than an access token.
    #[error(
        "the bearer token is {kind}, not an access token (typ must be \"{TYP_ACCESS_TOKEN}\") ({spec})",
        kind = describe_typ(Some(found)),
        spec = spec::ACCESS_TOKEN_TYP
    )]
    NotAnAccessToken {
        /// The `typ` found.
        found: String,
    },
    /// The `subject_token` has the `typ` of another kind of JWT than an ID token.
    #[error(
        "the subject_token is {kind} (typ \"{found}\"), not an ID token ({spec})",
        kind = describe_typ(Some(found)),
        spec = spec::TYPE_CONFUSION
    )]
    NotAnIdToken {
        /// The `typ` found.
        found: String,
    },
    /// The ID-JAG's issuer is not one the resource AS trusts.
    #[error(
        "issuer \"{found}\" is not a trusted identity provider of this authorization server ({spec})",
        spec = spec::ID_JAG_ISS
    )]
    UntrustedIssuer {
        /// The `iss` found.
        found: String,
    },
    /// The access token was not issued by the authorization server.
    #[error("the access token issuer is {found:?}; it must be \"{expected}\" ({spec})", spec = spec::ACCESS_TOKEN)]
    Issuer {
        /// The `iss` found, if it is a string.
        found: Option<String>,
        /// The authorization server's issuer identifier.
        expected: String,
    },
    /// The subject token was not issued by this IdP.
    #[error(
        "the subject token was issued by {found:?}, not by this IdP (\"{expected}\") ({spec})",
        spec = spec::SUBJECT_TOKEN
    )]
    NotIssuedByThisIdp {
        /// The `iss` found, if it is a string.
        found: Option<String>,
        /// The IdP's own issuer identifier.
        expected: String,
    },
    /// The ID-JAG header has no `kid`, so no key of its issuer can be chosen.
    #[error("the ID-JAG header has no kid, so no key of the issuer can be selected ({spec})", spec = spec::ID_JAG_KID)]
    MissingKeyId,
    /// The ID-JAG issuer's JWKS has no key `kid`, even after a refetch.
    #[error("no key with kid \"{kid}\" in the JWKS of \"{issuer}\" (refetched once) ({spec})", spec = spec::ID_JAG_KID)]
    UnknownKey {
        /// The trusted issuer.
        issuer: String,
        /// The `kid` of the header.
        kid: String,
    },
    /// The ID-JAG issuer's keys could not be fetched.
    #[error("the keys of \"{issuer}\" could not be fetched: {cause} ({spec})", spec = spec::ID_JAG_KID)]
    KeysUnavailable {
        /// The trusted issuer.
        issuer: String,
        /// Why its metadata or JWKS could not be read.
        #[source]
        cause: KeySourceError,
    },
    /// The authorization server's JWKS has no key `kid`.
    #[error("no key with kid \"{kid}\" in the authorization server's JWKS ({spec})", spec = spec::ACCESS_TOKEN)]
    UnknownAuthorizationServerKey {
        /// The `kid` of the header (empty when absent).
        kid: String,
    },
    /// None of this IdP's keys has the subject token's `kid`.
    #[error("no key of this IdP has kid \"{kid}\" ({spec})", spec = spec::SUBJECT_TOKEN)]
    UnknownIdpKey {
        /// The `kid` of the header (empty when absent).
        kid: String,
    },
    /// The signature does not verify with the key the header names.
    #[error("{token} signature does not verify with key \"{kid}\": {source} ({spec})")]
    Signature {
        /// The refused token.
        token: Token,
        /// The `kid` of the key used.
        kid: String,
        /// Why verification failed.
        #[source]
        source: JoseError,
        /// The section that requires the signature.
        spec: Citation,
    },
    /// `aud` is not exactly the expected audience.
    #[error(
        "{token} aud is {aud}; it must be \"{expected}\" (a string, or an array of exactly that one value) ({spec})",
        aud = json_or_missing(found.as_ref())
    )]
    Audience {
        /// The refused token.
        token: Token,
        /// The `aud` found, if any.
        found: Option<Value>,
        /// The only acceptable audience.
        expected: String,
        /// The section that requires it.
        spec: Citation,
    },
    /// The subject token's `aud` does not include the authenticated client.
    #[error(
        "Audience validation failed: the ID token was issued to {aud}, not to the authenticated client \"{client_id}\" ({spec})",
        aud = json_or_missing(found.as_ref()),
        spec = spec::SUBJECT_TOKEN
    )]
    NotIssuedToClient {
        /// The `aud` found, if any.
        found: Option<Value>,
        /// The client that authenticated the request.
        client_id: String,
    },
    /// The ID-JAG was issued for another client than the one that authenticated.
    #[error(
        "the ID-JAG was issued for client_id \"{found}\" but the request authenticated as \"{expected}\" ({spec})",
        spec = spec::ID_JAG
    )]
    ClientId {
        /// The `client_id` claim.
        found: String,
        /// The client that authenticated the request.
        expected: String,
    },
    /// A required claim is absent (or, for `iss` of an ID-JAG, not a string).
    #[error("{token} has no `{claim}` claim ({spec})")]
    MissingClaim {
        /// The refused token.
        token: Token,
        /// The claim's name, also the name of the check.
        claim: &'static str,
        /// The section that requires it.
        spec: Citation,
    },
    /// A claim that must be a non-empty string is not one.
    #[error("{token} claim `{claim}` must be a non-empty string ({spec})")]
    NotAString {
        /// The refused token.
        token: Token,
        /// The claim's name, also the name of the check.
        claim: &'static str,
        /// The section that defines it.
        spec: Citation,
    },
    /// A time claim is not a NumericDate.
    #[error("{token} claim `{claim}` must be a NumericDate ({spec})")]
    NotANumericDate {
        /// The refused token.
        token: Token,
        /// The claim's name (`exp`, `nbf` or `iat`), also the name of the check.
        claim: &'static str,
        /// The section that defines it.
        spec: Citation,
    },
    /// `exp` is past, beyond the leeway.
    #[error(
        "{token} expired at {exp}, {ago} s ago (now {now}, leeway {leeway} s) ({spec})",
        ago = now - exp,
        spec = token.exp_spec()
    )]
    Expired {
        /// The refused token.
        token: Token,
        /// Its `exp`.
        exp: i64,
        /// The validator's clock.
        now: i64,
        /// The clock-skew leeway, in seconds.
        leeway: i64,
    },
    /// `nbf` is ahead, beyond the leeway.
    #[error("{token} is not valid before {nbf}, {ahead} s from now ({spec})", ahead = nbf - now, spec = spec::NBF)]
    NotYetValid {
        /// The refused token.
        token: Token,
        /// Its `nbf`.
        nbf: i64,
        /// The validator's clock.
        now: i64,
    },
    /// `iat` is ahead, beyond the leeway.
    #[error("{token} was issued in the future ({ahead} s from now) ({spec})", ahead = iat - now, spec = token.claims_spec())]
    IssuedInFuture {
        /// The refused token.
        token: Token,
        /// Its `iat`.
        iat: i64,
        /// The validator's clock.
        now: i64,
    },
    /// The ID-JAG's `cnf` uses a confirmation method other than a DPoP key thumbprint.
    #[error(
        "the ID-JAG's cnf claim is {cnf} and names no DPoP key thumbprint (jkt); this lab's AS supports no other confirmation method ({spec})",
        spec = spec::CNF_METHOD
    )]
    UnsupportedConfirmation {
        /// The `cnf` claim.
        cnf: Value,
    },
    /// The ID-JAG is bound to a DPoP key but the request carries no DPoP proof.
    #[error(
        "the ID-JAG is bound to the DPoP key with thumbprint cnf.jkt \"{jkt}\" but the request carries no DPoP proof; a DPoP-bound ID-JAG must be presented with a proof of that key ({spec})",
        spec = spec::CNF_WITHOUT_PROOF
    )]
    DpopProofMissing {
        /// `cnf.jkt`.
        jkt: String,
    },
    /// The ID-JAG is bound to a DPoP key and the request's proof is made with another key.
    #[error(
        "the ID-JAG is bound to the DPoP key with thumbprint cnf.jkt \"{jkt}\" but the DPoP proof is signed with the key with thumbprint \"{proof_jkt}\"; a DPoP-bound ID-JAG must be presented with a proof of the key it is bound to ({spec})",
        spec = spec::CNF_WITH_PROOF
    )]
    DpopKeyMismatch {
        /// `cnf.jkt`.
        jkt: String,
        /// The thumbprint of the proof's key.
        proof_jkt: String,
    },
    /// The ID-JAG's `scope` is not a string.
    #[error("the ID-JAG `scope` claim must be a space-delimited string ({spec})", spec = spec::ID_JAG_CLAIMS)]
    Scope,
    /// The ID-JAG's `resource` is neither a string nor a non-empty array of strings.
    #[error("the ID-JAG `resource` claim must be a URI or an array of URIs ({spec})", spec = spec::ID_JAG_CLAIMS)]
    Resource,
    /// The claims set does not deserialize into the token's claims type.
    #[error("{of} claims are malformed: {source} ({spec})", of = token.claims_of(), spec = token.claims_spec())]
    Claims {
        /// The refused token.
        token: Token,
        /// The deserialization error.
        #[source]
        source: serde_json::Error,
    },
    /// A role-level refusal: a check the role runs itself (SAML, policy, replay, break-it
    /// switches...) and records with [`CheckLog::fail`](super::CheckLog::fail).
    #[error("{description} ({spec})")]
    Other {
        /// The check's name.
        check: &'static str,
        /// What exactly was wrong.
        description: String,
        /// The section that requires the check.
        spec: Citation,
    },
}

impl Rejection {
    /// The failed check's short stable name, e.g. `typ` or `aud`, as the check log records it.
    pub fn check(&self) -> &'static str {
        match self {
            Self::Format { .. } => "format",
            Self::Algorithm { .. } => "alg",
            Self::CriticalHeader { .. } => "crit",
            Self::MissingTyp { .. }
            | Self::NotAnIdJag { .. }
            | Self::NotAnAccessToken { .. }
            | Self::NotAnIdToken { .. } => "typ",
            Self::UntrustedIssuer { .. } | Self::Issuer { .. } | Self::NotIssuedByThisIdp { .. } => "iss",
            Self::MissingKeyId
            | Self::UnknownKey { .. }
            | Self::KeysUnavailable { .. }
            | Self::UnknownAuthorizationServerKey { .. }
            | Self::UnknownIdpKey { .. } => "kid",
            Self::Signature { .. } => "signature",
            Self::Audience { .. } | Self::NotIssuedToClient { .. } => "aud",
            Self::ClientId { .. } => "client_id",
            Self::MissingClaim { claim, .. } | Self::NotAString { claim, .. } | Self::NotANumericDate { claim, .. } => {
                claim
            }
            Self::Expired { .. } => "exp",
            Self::NotYetValid { .. } => "nbf",
            Self::IssuedInFuture { .. } => "iat",
            Self::UnsupportedConfirmation { .. } | Self::DpopProofMissing { .. } | Self::DpopKeyMismatch { .. } => {
                "cnf"
            }
            Self::Scope => "scope",
            Self::Resource => "resource",
            Self::Claims { .. } => "claims",
            Self::Other { check, .. } => check,
        }
    }

    /// The spec section that requires the failed check, as cited at the end of the text.
    pub fn spec(&self) -> Citation {
        match self {
            Self::Format { .. } => spec::FORMAT,
            Self::Algorithm { .. } => spec::ALG,
            Self::CriticalHeader { .. } => spec::CRIT,
            Self::NotAnIdJag { .. } => spec::ID_JAG_TYP,
            Self::NotAnAccessToken { .. } => spec::ACCESS_TOKEN_TYP,
            Self::NotAnIdToken { .. } => spec::TYPE_CONFUSION,
            Self::UntrustedIssuer { .. } => spec::ID_JAG_ISS,
            Self::Issuer { .. } | Self::UnknownAuthorizationServerKey { .. } => spec::ACCESS_TOKEN,
            Self::NotIssuedByThisIdp { .. } | Self::UnknownIdpKey { .. } | Self::NotIssuedToClient { .. } => {
                spec::SUBJECT_TOKEN
            }
            Self::MissingKeyId | Self::UnknownKey { .. } | Self::KeysUnavailable { .. } => spec::ID_JAG_KID,
            Self::ClientId { .. } => spec::ID_JAG,
            Self::Expired { token, .. } => token.exp_spec(),
            Self::NotYetValid { .. } => spec::NBF,
            Self::IssuedInFuture { token, .. } => token.claims_spec(),
            Self::UnsupportedConfirmation { .. } => spec::CNF_METHOD,
            Self::DpopProofMissing { .. } => spec::CNF_WITHOUT_PROOF,
            Self::DpopKeyMismatch { .. } => spec::CNF_WITH_PROOF,
            Self::Scope | Self::Resource => spec::ID_JAG_CLAIMS,
            Self::Claims { token, .. } => token.claims_spec(),
            Self::MissingTyp { spec, .. }
            | Self::Signature { spec, .. }
            | Self::Audience { spec, .. }
            | Self::MissingClaim { spec, .. }
            | Self::NotAString { spec, .. }
            | Self::NotANumericDate { spec, .. }
            | Self::Other { spec, .. } => *spec,
        }
    }

    /// What exactly was wrong: the text without the trailing ` ({spec})`, as the check log
    /// records it.
    pub fn description(&self) -> String {
        if let Self::Other { description, .. } = self {
            return description.clone();
        }
        let text = self.to_string();
        match text.strip_suffix(&format!(" ({})", self.spec())) {
            Some(description) => description.to_owned(),
            None => text,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;
    use crate::jose::JwsPart;

    #[test]
    fn the_cause_is_the_source() {
        let source = JwtFormatError::NotJson { part: JwsPart::Payload };
        let r = Rejection::Format { token: Token::IdJag, source: source.clone() };
        assert_eq!((r.check(), r.spec().to_string().as_str()), ("format", "RFC 7515 §7.1"));
        assert_eq!(r.description(), "the ID-JAG is not a valid JWT: the payload is not JSON");
        let cause = r.source().and_then(|s| s.downcast_ref::<JwtFormatError>());
        assert_eq!(cause, Some(&source));
    }

    #[test]
    fn the_key_source_failure_is_the_source() {
        let cause = KeySourceError::NoJwksUri { url: "https://idp.example/.well-known/openid-configuration".into() };
        let r = Rejection::KeysUnavailable { issuer: "https://idp.example".into(), cause };
        assert_eq!(
            r.description(),
            "the keys of \"https://idp.example\" could not be fetched: \
             https://idp.example/.well-known/openid-configuration has no jwks_uri"
        );
        let cause = r.source().and_then(|s| s.downcast_ref::<KeySourceError>());
        assert!(matches!(cause, Some(KeySourceError::NoJwksUri { .. })), "{cause:?}");
    }

    #[test]
    fn a_role_level_refusal_keeps_its_words() {
        let spec = Citation::from(&crate::spec::LAB_A15);
        let r = Rejection::Other { check: "policy", description: "no connection (a)".into(), spec };
        assert_eq!((r.check(), r.spec(), r.description()), ("policy", spec, "no connection (a)".to_owned()));
        assert_eq!(r.to_string(), "no connection (a) (lab decision A15)");
    }
}
