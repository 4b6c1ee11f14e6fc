//! Size limits on RFC 7591 client metadata, and the cap on open registrations. RFC 7591 sets no
//! limits, and its §3 lets open registration be "rate-limited or otherwise limited to prevent a
//! denial-of-service attack". Both servers apply these to `POST /register`; the console's
//! registration applies the redirect-URI and list limits too. A refusal names the limit.

use serde_json::Value;

use super::registration::{ClientMetadata, RegistrationError, check_redirect_uri};

/// Largest registration request body: 64 KiB, as for token requests (real metadata is well
/// under 2 KiB; every list below at its limit still fits).
pub const MAX_REGISTRATION_BYTES: usize = 64 * 1024;
/// Longest URI (a redirect URI) or single list value (a grant type, a profile): 2048 bytes, the
/// de-facto URL limit of browsers, CDNs and sitemaps.
pub const MAX_URI_BYTES: usize = 2048;
/// Most members of one list (`redirect_uris`, `post_logout_redirect_uris`, `grant_types`,
/// `response_types`, `contacts`, …): 10.
pub const MAX_LIST_MEMBERS: usize = 10;
/// Longest `client_name`: 100 characters (the console's limit for an application name too).
pub const MAX_CLIENT_NAME_CHARS: usize = 100;
/// Longest `scope`: 1024 bytes.
pub const MAX_SCOPE_BYTES: usize = 1024;
/// Most members the server does not interpret (`logo_uri`, `contacts`, `jwks`, …; echoed, never
/// stored): 20.
pub const MAX_OTHER_MEMBERS: usize = 20;
/// Largest such member, name and JSON value together: 4 KiB (an inline `jwks` with two RSA keys fits).
pub const MAX_OTHER_MEMBER_BYTES: usize = 4096;

/// How many clients open (unauthenticated) RFC 7591 registration may hold at one server, by
/// default: 200, the default of Keycloak's "Max Clients Limit" registration policy. Clients the
/// console registers with the admin token do not count; deleting a client frees its slot.
pub const DEFAULT_MAX_OPEN_REGISTRATIONS: usize = 200;

impl RegistrationError {
    /// `403 access_denied`: open registration is full (`max` clients).
    ///
    /// The status is Keycloak's for its "Max Clients Limit" policy (`403`, "It's allowed to have
    /// max 200 clients per realm"): the server understood the request and refuses it, and
    /// repeating it will not help until a slot is freed. RFC 7591 §3.2.2 lets a server use other
    /// codes than its two; both of those would blame the metadata, which is fine. Keycloak's
    /// `insufficient_scope` comes from a generic helper and is, per RFC 6750 §3.1, about a bearer
    /// token's scope, which an open registration does not carry. `access_denied` (RFC 6749
    /// §4.1.2.1, in the OAuth error registry) says what happened: the server denied the request.
    pub fn open_registration_full(max: usize) -> Self {
        Self {
            error: "access_denied",
            error_description: super::wire_safe(&format!(
                "open registration is full: this server holds {max} clients registered without the admin token (the lab's --max-open-registrations); delete one in the lab console, or register there with the admin token ({})",
                crate::spec::RFC7591_3
            )),
            status: 403,
        }
    }
}

/// Checks a list of redirect URIs named `field`: at most [`MAX_LIST_MEMBERS`], each an absolute
/// `http`/`https` URI without fragment (RFC 6749 §3.1.2) of at most [`MAX_URI_BYTES`].
pub fn check_redirect_uris(field: &str, uris: &[String]) -> Result<(), RegistrationError> {
    check_list(field, uris, RegistrationError::redirect)?;
    uris.iter().try_for_each(|u| check_redirect_uri(u))
}

impl ClientMetadata {
    /// Checks every member's size and every list's length against the limits above.
    pub(super) fn check_limits(&self) -> Result<(), RegistrationError> {
        check_list("redirect_uris", &self.redirect_uris, RegistrationError::redirect)?;
        check_list("post_logout_redirect_uris", &self.post_logout_redirect_uris, RegistrationError::redirect)?;
        for (field, list) in [
            ("grant_types", &self.grant_types),
            ("response_types", &self.response_types),
            ("authorization_grant_profiles_supported", &self.authorization_grant_profiles_supported),
        ] {
            check_list(field, list, RegistrationError::metadata)?;
        }
        let too_long = |field: &str, len: usize, max: usize, unit: &str| {
            RegistrationError::metadata(format!("{field} has {len} {unit}; this server accepts at most {max}"))
        };
        if let Some(n) = self.client_name.as_deref().map(|n| n.trim().chars().count())
            && n > MAX_CLIENT_NAME_CHARS
        {
            return Err(too_long("client_name", n, MAX_CLIENT_NAME_CHARS, "characters"));
        }
        for (field, value) in [("scope", &self.scope), ("token_endpoint_auth_method", &self.token_endpoint_auth_method)]
        {
            let len = value.as_deref().map_or(0, str::len);
            let max = if field == "scope" { MAX_SCOPE_BYTES } else { MAX_URI_BYTES };
            if len > max {
                return Err(too_long(field, len, max, "bytes"));
            }
        }
        if self.other.len() > MAX_OTHER_MEMBERS {
            return Err(RegistrationError::metadata(format!(
                "the metadata has {} members this server does not use; it accepts at most {MAX_OTHER_MEMBERS}",
                self.other.len()
            )));
        }
        for (name, value) in &self.other {
            let shown: String = name.chars().take(40).collect();
            if let Value::Array(a) = value
                && a.len() > MAX_LIST_MEMBERS
            {
                return Err(RegistrationError::metadata(format!(
                    "{shown} has {} members; this server accepts at most {MAX_LIST_MEMBERS}",
                    a.len()
                )));
            }
            let bytes = name.len() + value.to_string().len();
            if bytes > MAX_OTHER_MEMBER_BYTES {
                return Err(too_long(&shown, bytes, MAX_OTHER_MEMBER_BYTES, "bytes of JSON"));
            }
        }
        Ok(())
    }
}

/// At most [`MAX_LIST_MEMBERS`] values, each of at most [`MAX_URI_BYTES`].
fn check_list(field: &str, values: &[String], error: fn(String) -> RegistrationError) -> Result<(), RegistrationError> {
    if values.len() > MAX_LIST_MEMBERS {
        return Err(error(format!(
            "{field} has {} members; this server accepts at most {MAX_LIST_MEMBERS}",
            values.len()
        )));
    }
    match values.iter().map(String::len).max() {
        Some(len) if len > MAX_URI_BYTES => {
            Err(error(format!("a member of {field} has {len} bytes; this server accepts at most {MAX_URI_BYTES}")))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::oauth::Registrar;

    fn refusal(v: Value) -> (String, String) {
        let e = ClientMetadata::parse(v.to_string().as_bytes())
            .and_then(|m| m.validate(Registrar::IdentityProvider))
            .unwrap_err();
        (e.error.to_owned(), e.error_description)
    }

    fn uris(n: usize, len: usize) -> Vec<String> {
        let base = "http://localhost:3000/cb/";
        (0..n).map(|i| format!("{base}{i}{}", "x".repeat(len - base.len() - i.to_string().len()))).collect()
    }

    #[test]
    fn every_limit_is_inclusive_and_named() {
        let at_limit = json!({
            "redirect_uris": uris(MAX_LIST_MEMBERS, MAX_URI_BYTES),
            "client_name": "n".repeat(MAX_CLIENT_NAME_CHARS),
            "scope": "s".repeat(MAX_SCOPE_BYTES),
            "contacts": vec!["a@b.example"; MAX_LIST_MEMBERS],
        });
        let m = ClientMetadata::parse(at_limit.to_string().as_bytes()).unwrap();
        assert!(m.validate(Registrar::IdentityProvider).is_ok());

        let redirect = |d: &str| ("invalid_redirect_uri".to_owned(), d.to_owned());
        let metadata = |d: &str| ("invalid_client_metadata".to_owned(), d.to_owned());
        assert_eq!(
            refusal(json!({ "redirect_uris": uris(MAX_LIST_MEMBERS + 1, 30) })),
            redirect("redirect_uris has 11 members; this server accepts at most 10")
        );
        assert_eq!(
            refusal(json!({ "redirect_uris": uris(1, MAX_URI_BYTES + 1) })),
            redirect("a member of redirect_uris has 2049 bytes; this server accepts at most 2048")
        );
        assert_eq!(
            refusal(json!({ "redirect_uris": uris(1, 30), "post_logout_redirect_uris": uris(11, 30) })),
            redirect("post_logout_redirect_uris has 11 members; this server accepts at most 10")
        );
        let ok = uris(1, 30);
        assert_eq!(
            refusal(json!({ "redirect_uris": ok, "grant_types": vec!["authorization_code"; 11] })),
            metadata("grant_types has 11 members; this server accepts at most 10")
        );
        assert_eq!(
            refusal(json!({ "redirect_uris": ok, "client_name": "n".repeat(101) })),
            metadata("client_name has 101 characters; this server accepts at most 100")
        );
        assert_eq!(
            refusal(json!({ "redirect_uris": ok, "scope": "s".repeat(1025) })),
            metadata("scope has 1025 bytes; this server accepts at most 1024")
        );
        assert_eq!(
            refusal(json!({ "redirect_uris": ok, "contacts": vec!["a@b.example"; 11] })),
            metadata("contacts has 11 members; this server accepts at most 10")
        );
        assert_eq!(
            refusal(json!({ "redirect_uris": ok, "logo_uri": "l".repeat(4096) })),
            metadata("logo_uri has 4106 bytes of JSON; this server accepts at most 4096")
        );
        let mut many = serde_json::Map::new();
        for i in 0..=MAX_OTHER_MEMBERS {
            many.insert(format!("x{i}"), 1.into());
        }
        many.insert("redirect_uris".into(), json!(ok));
        assert_eq!(
            refusal(Value::Object(many)),
            metadata("the metadata has 21 members this server does not use; it accepts at most 20")
        );
    }

    #[test]
    fn redirect_uri_lists_are_bounded_then_checked() {
        assert!(check_redirect_uris("redirect_uris", &uris(10, 2048)).is_ok());
        let full = RegistrationError::open_registration_full(7);
        assert_eq!((full.status, full.error), (403, "access_denied"));
        assert!(full.error_description.starts_with("open registration is full: this server holds 7 clients"));
        assert!(full.error_description.ends_with("(RFC 7591 Section 3)"));
        let e = check_redirect_uris("post_logout_redirect_uris", &uris(11, 40)).unwrap_err();
        assert_eq!(e.error_description, "post_logout_redirect_uris has 11 members; this server accepts at most 10");
        let e = check_redirect_uris("redirect_uris", &["http://a/#f".to_owned()]).unwrap_err();
        assert_eq!(e.error, "invalid_redirect_uri");
    }
}
