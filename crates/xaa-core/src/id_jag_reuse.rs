//! Whether a resource accepts an ID-JAG it has seen before (lab decision A2), and how the lab's
//! authorization server says so to its clients.
//!
//! draft-04 lets a client re-submit the same ID-JAG for a new access token (its "Refresh Token"
//! section), RFC 7523 makes `jti` replay protection a MAY, and the MCP profile requires refusing a
//! replayed ID-JAG. So the lab's resources start single use, IT may let one accept an ID-JAG
//! again until its `exp`, and an MCP server stays single use.
//!
//! No specification defines a way for an authorization server to tell clients which applies. The
//! lab's authorization server publishes it in its RFC 8414 metadata under [`METADATA_MEMBER`] (RFC
//! 8414 lets a server add members of its own): an object from each resource it governs to its
//! policy's [`ReusePolicy::name`]. A requestor reading it learns what the server that enforces the
//! policy says, over the wire, as any client could; the member's name says it is the lab's own.

use serde::Serialize;
use serde_json::Value;

/// The lab's own member of its authorization server's metadata: resource → policy name.
pub const METADATA_MEMBER: &str = "xaa_lab_id_jag_reuse";

/// Whether a resource accepts an ID-JAG it has seen before.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum ReusePolicy {
    /// Each ID-JAG once (the default, as the MCP profile requires).
    #[default]
    #[serde(rename = "single_use")]
    SingleUse,
    /// The same client may re-submit an ID-JAG until its `exp` for a fresh access token.
    #[serde(rename = "reuse_until_exp")]
    ReusableUntilExp,
}

/// A policy name that is neither `single_use` nor `reuse_until_exp`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("policy \"{0}\" is unknown: use single_use or reuse_until_exp")]
pub struct UnknownPolicy(pub String);

impl ReusePolicy {
    /// Both policies.
    pub const ALL: [Self; 2] = [Self::SingleUse, Self::ReusableUntilExp];

    /// Its name in the admin API, the database and the metadata.
    pub fn name(self) -> &'static str {
        match self {
            Self::SingleUse => "single_use",
            Self::ReusableUntilExp => "reuse_until_exp",
        }
    }

    /// The policy named `name` ([`ReusePolicy::name`]).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The policy named `name`, or the refusal naming both.
    pub fn parse(name: &str) -> Result<Self, UnknownPolicy> {
        Self::from_name(name).ok_or_else(|| UnknownPolicy(name.to_owned()))
    }

    /// How pages name it.
    pub fn label(self) -> &'static str {
        match self {
            Self::SingleUse => "single use",
            Self::ReusableUntilExp => "re-usable until exp",
        }
    }
}

/// The [`METADATA_MEMBER`] of a metadata document naming `policies` (resource, policy).
pub fn metadata_member<'a>(policies: impl IntoIterator<Item = (&'a str, ReusePolicy)>) -> Value {
    Value::Object(policies.into_iter().map(|(r, p)| (r.to_owned(), Value::from(p.name()))).collect())
}

/// What the authorization server metadata `meta` says of `resource`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Published {
    /// The metadata names this policy for it.
    Policy(ReusePolicy),
    /// The metadata has no [`METADATA_MEMBER`], or it does not name this resource.
    Unsaid,
    /// The member names something else for it (the value, as JSON).
    Unknown(String),
}

/// What `meta` (an RFC 8414 metadata document) publishes for `resource`.
pub fn published(meta: &Value, resource: &str) -> Published {
    match meta.get(METADATA_MEMBER).and_then(|m| m.get(resource)) {
        None => Published::Unsaid,
        Some(v) => match v.as_str().and_then(ReusePolicy::from_name) {
            Some(p) => Published::Policy(p),
            None => Published::Unknown(v.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn names_round_trip_and_an_unknown_one_is_refused_exactly() {
        for p in ReusePolicy::ALL {
            assert_eq!(ReusePolicy::parse(p.name()), Ok(p));
            assert_eq!(serde_json::to_value(p).unwrap(), json!(p.name()));
        }
        let err = ReusePolicy::parse("forever").unwrap_err();
        assert_eq!(err.to_string(), "policy \"forever\" is unknown: use single_use or reuse_until_exp");
        assert_eq!(ReusePolicy::default(), ReusePolicy::SingleUse);
    }

    #[test]
    fn the_metadata_member_names_each_resource_and_is_read_back() {
        let member = metadata_member([
            ("http://api", ReusePolicy::ReusableUntilExp),
            ("http://api/mcp", ReusePolicy::SingleUse),
        ]);
        assert_eq!(member, json!({ "http://api": "reuse_until_exp", "http://api/mcp": "single_use" }));
        let meta = json!({ "issuer": "http://as", METADATA_MEMBER: member });
        assert_eq!(published(&meta, "http://api"), Published::Policy(ReusePolicy::ReusableUntilExp));
        assert_eq!(published(&meta, "http://api/mcp"), Published::Policy(ReusePolicy::SingleUse));
        assert_eq!(published(&meta, "http://other"), Published::Unsaid);
        assert_eq!(published(&json!({ "issuer": "http://as" }), "http://api"), Published::Unsaid);
        let odd = json!({ METADATA_MEMBER: { "http://api": "twice", "http://api/mcp": 1 } });
        assert_eq!(published(&odd, "http://api"), Published::Unknown("\"twice\"".into()));
        assert_eq!(published(&odd, "http://api/mcp"), Published::Unknown("1".into()));
    }
}
