//! # xaa-core: the protocol core of the XAA lab
//!
//! Everything the three roles of Cross App Access share and nothing they must keep apart:
//!
//! - [`urn`]: the exact grant-type, token-type, `typ` and profile strings (never vary these);
//! - [`jose`]: signing keys, JWKS, compact JWS signing and the *unverified* view of a JWT;
//! - [`validation`]: the validators for ID tokens, ID-JAGs (draft-ietf-oauth-identity-assertion-authz-grant-04
//!   §4.4.1) and RFC 9068 access tokens, each recording the checks it ran;
//! - [`key_source`]: where a validator gets an issuer's public keys (HTTP discovery + JWKS, cached);
//! - [`oauth`]: RFC 6749 §5.2 error codes, form parameters with duplicate detection, client credentials;
//! - [`faults`]: the break-it switches the lab turns on to show each failure;
//! - [`redirect`]: which characters a redirect target may never carry;
//! - [`mcp`]: the MCP StreamableHTTP wire (JSON-RPC messages in JSON or event-stream answers);
//! - [`resource`]: RFC 8707 resource indicators compared, de-duplicated, and checked in token responses;
//! - [`scope`], [`clock`], [`secret`]: scope sets, an injectable clock, and masking of secrets in logs.
//!
//! It owns no web framework and no storage. Two optional adapters live behind features: `axum`
//! (the OAuth error response and the token-request extractor both servers use) and `sqlite`
//! (a blocking SQLite handle run off the async runtime). A third feature, `test-helpers`, exposes
//! `test_keys` (compiled for this crate's own tests anyway): two committed, lab-only RSA test keys
//! and a JWT builder, for tests only.
#![warn(missing_docs)]

pub mod claims;
pub mod clock;
pub mod csv;
pub mod faults;
pub mod http_client;
pub mod inspect;
pub mod jose;
pub mod key_source;
pub mod mcp;
pub mod oauth;
pub mod redirect;
pub mod resource;
pub mod scope;
pub mod secret;
#[cfg(feature = "sqlite")]
pub mod sqlite;
#[cfg(any(test, feature = "test-helpers"))]
pub mod test_keys;
pub mod trace;
pub mod urn;
pub mod validation;

/// Clock-skew leeway applied to `exp`, `nbf` and `iat` (RFC 7519 §4.1.4 "small leeway").
///
/// Security invariant: a used `jti` is remembered until `exp + JWT_LEEWAY`, so a replayed
/// ID-JAG can never outlive its replay record.
pub const JWT_LEEWAY: i64 = 60;
