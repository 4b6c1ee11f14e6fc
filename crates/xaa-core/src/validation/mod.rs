//! Validators for the three JWTs of XAA. Each one runs its checks in the order the specs give,
//! records every check in a [`CheckLog`] (what the server checked, with the spec behind it), and
//! stops at the first failure with a [`Rejection`] that says exactly what was wrong.
//!
//! - [`id_jag`]: the resource AS validating an ID-JAG presented as a jwt-bearer `assertion`
//!   (draft-ietf-oauth-identity-assertion-authz-grant-04 §4.4.1, RFC 7523 §3);
//! - [`access_token`]: the todo API validating an RFC 9068 access token;
//! - [`id_token`]: the IdP validating one of its own ID tokens presented as a `subject_token`.

pub mod access_token;
mod check_slot;
mod checks;
pub mod id_jag;
pub mod id_token;
mod rejection;

pub use check_slot::CheckSlot;
#[cfg(feature = "axum")]
pub use check_slot::carry_checks;
pub use checks::{Check, CheckLog};
pub use rejection::{Rejection, Token};
