//! The identifiers of XAA, each its own type: who issued a token ([`Issuer`]), whom it is about
//! ([`Subject`]), which token it is ([`Jti`]), what it is for ([`ResourceUri`]) and which client
//! asked, at the IdP ([`ClientId`]) or at a resource authorization server ([`ResourceClientId`]).
//!
//! A client has one id at the IdP and another at each resource authorization server, and the
//! two must never be mixed up: the ID token's `aud` is the IdP client id, the ID-JAG's
//! `client_id` claim is the client's id at the resource AS (draft-ietf-oauth-identity-assertion-authz-grant-04
//! §3.1, §4.3), and so is the access token's (RFC 9068 §2.2). As two types, passing one where
//! the other belongs does not compile:
//!
//! ```compile_fail,E0308
//! use xaa_core::ids::{ClientId, Issuer};
//! use xaa_core::validation::id_jag::IdJagExpectations;
//!
//! let (issuer, trusted) = (Issuer::new("https://as.example"), [Issuer::new("https://idp.example")]);
//! let at_the_idp = ClientId::new("notes-app");
//! let expect = IdJagExpectations {
//!     audience: &issuer,
//!     trusted_issuers: &trusted,
//!     client_id: &at_the_idp, // expected `&ResourceClientId`, found `&ClientId`
//!     now: 0,
//!     leeway: 60,
//!     jkt: None,
//! };
//! ```
//!
//! while the client's id at the resource AS is what the ID-JAG validator expects:
//!
//! ```
//! use xaa_core::ids::{Issuer, ResourceClientId};
//! use xaa_core::validation::id_jag::IdJagExpectations;
//!
//! let (issuer, trusted) = (Issuer::new("https://as.example"), [Issuer::new("https://idp.example")]);
//! let at_the_as = ResourceClientId::new("notes-app-at-todo0");
//! let expect = IdJagExpectations {
//!     audience: &issuer,
//!     trusted_issuers: &trusted,
//!     client_id: &at_the_as,
//!     now: 0,
//!     leeway: 60,
//!     jkt: None,
//! };
//! # let _ = expect;
//! ```
//!
//! Each is a string on the wire and in storage (`#[serde(transparent)]`, a SQLite `TEXT` with
//! the `sqlite` feature), made with an explicit `::new` where a string comes in (a form, a
//! header, a URL) and read back with [`as_str`](ClientId::as_str) where only text is needed.
//! None of them checks its value: they say what a string *is*, not that it is valid (the
//! validators do that). There is deliberately no `From<String>` and no `Deref<Target = str>`,
//! which would let one identifier turn into another unnoticed.
//!
//! Modelled on openidconnect-rs's `new_type!` identifiers.

/// Declares a string identifier: transparent to serde and SQLite, comparable with strings,
/// convertible only through `new` and `as_str`/`into_string`.
macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps `value` as it is (unchecked).
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The identifier as an owned string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        /// Looks the identifier up by its text in a map or set keyed by it (same `Eq`, `Ord` and
        /// `Hash` as the string).
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        #[cfg(feature = "sqlite")]
        impl rusqlite::types::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                self.0.to_sql()
            }
        }

        #[cfg(feature = "sqlite")]
        impl rusqlite::types::FromSql for $name {
            fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
                String::column_result(value).map(Self)
            }
        }
    };
}

identifier! {
    /// An issuer identifier (RFC 8414 §2, OIDC Core §2): the IdP's (ID token and ID-JAG `iss`)
    /// or a resource authorization server's (access token `iss`, ID-JAG `aud`, token-exchange
    /// `audience`). Compared as exact strings, never normalized.
    Issuer
}

identifier! {
    /// A subject identifier (`sub`, RFC 7519 §4.1.2): the user at the IdP (ID token, ID-JAG) or
    /// the account the resource authorization server resolved (access token).
    Subject
}

identifier! {
    /// A JWT ID (`jti`, RFC 7519 §4.1.7): unique per token; an ID-JAG's is single use at the
    /// resource authorization server (RFC 7523 §3 item 7).
    Jti
}

identifier! {
    /// An RFC 8707 resource indicator: a protected resource's absolute URI (the token-exchange
    /// and jwt-bearer `resource` parameter, the ID-JAG `resource` claim, the access token `aud`).
    ResourceUri
}

identifier! {
    /// A client's id **at the IdP** (OIDC Core §2, RFC 6749 §2.2): the ID token's `aud`, the
    /// client that authenticates the authorization-code, refresh and token-exchange requests.
    /// Not its id at a resource authorization server: that is a [`ResourceClientId`].
    ClientId
}

identifier! {
    /// A client's id **at a resource authorization server**: the ID-JAG's `client_id` claim
    /// (draft-ietf-oauth-identity-assertion-authz-grant-04 §3.1), the client that authenticates
    /// the jwt-bearer request, and the access token's `client_id` (RFC 9068 §2.2). Not its id at
    /// the IdP: that is a [`ClientId`].
    ResourceClientId
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::json;

    use super::*;

    /// Each identifier is the bare string in JSON, both ways.
    #[test]
    fn identifiers_are_plain_strings_in_json() {
        fn round_trip<T>(id: T, text: &str)
        where
            T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
        {
            assert_eq!(serde_json::to_value(&id).unwrap(), json!(text));
            assert_eq!(serde_json::from_value::<T>(json!(text)).unwrap(), id);
        }
        round_trip(Issuer::new("https://idp.example"), "https://idp.example");
        round_trip(Subject::new("ann@example.com"), "ann@example.com");
        round_trip(Jti::new("k3Xq"), "k3Xq");
        round_trip(ResourceUri::new("https://api.example/todos"), "https://api.example/todos");
        round_trip(ClientId::new("notes-app"), "notes-app");
        round_trip(ResourceClientId::new("notes-app-at-todo0"), "notes-app-at-todo0");
    }

    /// Inside a claim set, too: no wrapper object, and a non-string is refused.
    #[test]
    fn identifiers_in_a_struct_keep_the_wire_shape() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Claims {
            iss: Issuer,
            client_id: ResourceClientId,
            jti: Option<Jti>,
        }
        let claims = Claims {
            iss: Issuer::new("https://idp.example"),
            client_id: ResourceClientId::new("app-at-as"),
            jti: Some(Jti::new("j1")),
        };
        let text = r#"{"iss":"https://idp.example","client_id":"app-at-as","jti":"j1"}"#;
        assert_eq!(serde_json::to_string(&claims).unwrap(), text);
        assert_eq!(serde_json::from_str::<Claims>(text).unwrap(), claims);
        assert!(serde_json::from_value::<Claims>(json!({"iss": 1, "client_id": "a", "jti": null})).is_err());
    }

    #[test]
    fn identifiers_read_as_and_compare_with_their_text() {
        let id = ClientId::new("notes-app");
        assert_eq!(id.as_str(), "notes-app");
        assert_eq!(id.to_string(), "notes-app");
        assert_eq!(format!("{id}"), "notes-app");
        let text = String::from("notes-app");
        assert_eq!(id, "notes-app");
        assert_eq!("notes-app", id);
        assert_eq!(id, text);
        assert_eq!(text, id);
        assert_ne!(id, "notes-app-at-todo0");
        assert_eq!(id.clone().into_string(), "notes-app");
        let set: BTreeSet<ClientId> = [ClientId::new("b"), ClientId::new("a")].into();
        assert!(set.contains("a"), "found by its text (Borrow<str>)");
        assert_eq!(ClientId::default(), "");
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn identifiers_are_text_columns() {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE t (client_id TEXT NOT NULL)").unwrap();
        c.execute("INSERT INTO t VALUES (?1)", [ResourceClientId::new("app-at-as")]).unwrap();
        let (text, id): (String, ResourceClientId) =
            c.query_row("SELECT client_id, client_id FROM t", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        assert_eq!((text.as_str(), id), ("app-at-as", ResourceClientId::new("app-at-as")));
    }
}
