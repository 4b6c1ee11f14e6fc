//! # xaa-core: the protocol core of the XAA lab
//!
//! Everything the three roles of Cross App Access share and nothing they must keep apart:
//!
//! - [`urn`]: the exact grant-type, token-type, `typ` and profile strings (never vary these);
//! - [`jose`]: signing keys, JWKS, compact JWS signing and the *unverified* view of a JWT;
//! - [`ids`]: the identifiers as types (issuer, subject, `jti`, resource, and a client's id at the
//!   IdP and at a resource AS, which must never be mixed up);
//! - [`claims`]: the ID token, ID-JAG and access-token claim sets, and what each claim means;
//! - [`validation`]: the validators for ID tokens, ID-JAGs (draft-ietf-oauth-identity-assertion-authz-grant-04
//!   §4.4.1) and RFC 9068 access tokens, each recording the checks it ran;
//! - [`dpop`]: DPoP (RFC 9449): proof validation, RFC 7638 JWK thumbprints (`jkt`), the `ath`
//!   of an access token, and a proof signer for clients and tests;
//! - [`key_source`]: where a validator gets an issuer's public keys (fixed, or over HTTP with the
//!   `http` feature: discovery + JWKS, cached);
//! - [`oauth`]: the typed token requests, RFC 6749 §5.2 errors, form parameters, client
//!   credentials, and the token and registration endpoint skeletons (with `axum`);
//! - [`resource`] and [`scope`]: RFC 8707 resource indicators and scope sets;
//! - [`id_jag_reuse`]: whether a resource accepts an ID-JAG again (lab decision A2), and the
//!   lab's own metadata member that publishes it;
//! - [`mcp`]: the MCP StreamableHTTP wire (JSON-RPC messages in JSON or event-stream answers);
//! - [`redirect`], [`clock`], [`secret`], [`memo`]: which characters a redirect target may never
//!   carry, an injectable clock, which values are secrets and how a log masks them, and the
//!   bounded memo a key set keeps the tokens it read in.
//!
//! It owns no web framework, no storage and no HTTP client by default. Optional adapters live
//! behind features: `axum` (the OAuth error response, the token-request extractor and the
//! endpoint skeletons), `sqlite` (a role's SQLite connection, with its checkpoint off the request path) and `http`
//! (fetching keys, with the lazily built `http_client`). A fourth, `test-helpers`, exposes
//! `test_keys` (compiled for this crate's own tests anyway): two committed, lab-only RSA test keys
//! and a JWT builder, for tests only.
//!
//! What the lab shows of the traffic (its live trace, inspector and CSV) lives in `xaa-lab`, and
//! the break-it switches in `xaa-faults`: the roles hand their checks over in each response's
//! extensions ([`validation::CheckLog`]) and know nothing of a console.
#![warn(missing_docs)]

pub mod claims;
pub mod clock;
pub mod dpop;
#[cfg(feature = "http")]
pub mod http_client;
pub mod id_jag_reuse;
pub mod ids;
pub mod jose;
pub mod key_source;
pub mod mcp;
pub mod memo;
pub mod oauth;
pub mod redirect;
pub mod resource;
pub mod scope;
pub mod secret;
pub mod spec;
#[cfg(feature = "sqlite")]
pub mod sqlite;
#[cfg(any(test, feature = "test-helpers"))]
pub mod test_keys;
pub mod urn;
pub mod validation;

/// Clock-skew leeway applied to `exp`, `nbf` and `iat` (RFC 7519 §4.1.4 "small leeway").
///
/// Security invariant: a used `jti` is remembered until `exp + JWT_LEEWAY`, so a replayed
/// ID-JAG can never outlive its replay record.
pub const JWT_LEEWAY: i64 = 60;
