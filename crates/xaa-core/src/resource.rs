//! RFC 8707 resource indicators: when two name the same resource (RFC 3986 §6.2.1 simple string
//! comparison after §6.2.2 syntax-based normalisation), a request's list without repeats (the
//! first spelling kept), and the requestor's check of the `resource` member of a token response
//! (post-04 candidate C1: it must be a non-empty subset of what was asked for).

use serde_json::Value;

/// What the requestor's check of the token exchange response's `resource` member rests on: the
/// post-04 change C1 (RFC 8707 itself defines no response member).
pub const EXCHANGE_RESPONSE_CHECK_SPEC: crate::spec::Citation = crate::spec::Citation::of(&[crate::spec::IDJAG_C1]);

/// What the requestor's check of the access token response's `resource` member rests on: -04
/// §4.4.1 has the resource AS grant the ID-JAG's resource, which the response names (C1).
pub const ACCESS_TOKEN_RESPONSE_CHECK_SPEC: crate::spec::Citation =
    crate::spec::Citation::of(&[crate::spec::IDJAG_4_4_1, crate::spec::IDJAG_C1]);

/// `uri` after RFC 3986 §6.2.2 syntax-based normalisation: scheme and host in lower case,
/// percent-encodings with upper-case hex digits and unreserved characters decoded (§6.2.2.1,
/// §6.2.2.2), dot segments removed from the path (§6.2.2.3). Text that is not a URI with a
/// scheme comes back unchanged.
pub fn normalize(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once(':') else { return uri.to_owned() };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok {
        return uri.to_owned();
    }
    let (before_fragment, fragment) = match rest.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (rest, None),
    };
    let (hier, query) = match before_fragment.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (before_fragment, None),
    };
    let mut out = scheme.to_ascii_lowercase();
    out.push(':');
    let path = match hier.strip_prefix("//") {
        Some(after) => {
            let end = after.find('/').unwrap_or(after.len());
            let (authority, path) = after.split_at(end);
            let (userinfo, host_port) = match authority.rsplit_once('@') {
                Some((u, h)) => (Some(u), h),
                None => (None, authority),
            };
            out.push_str("//");
            if let Some(u) = userinfo {
                out.push_str(&percent_normalized(u));
                out.push('@');
            }
            out.push_str(&percent_normalized(&host_port.to_ascii_lowercase()));
            path
        }
        None => hier,
    };
    out.push_str(&remove_dot_segments(&percent_normalized(path)));
    if let Some(q) = query {
        out.push('?');
        out.push_str(&percent_normalized(q));
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(&percent_normalized(f));
    }
    out
}

/// Whether `a` and `b` identify the same resource: equal as strings, or equal once normalised.
pub fn same(a: &str, b: &str) -> bool {
    a == b || normalize(a) == normalize(b)
}

/// `values` in their order without repeats ([`same`]); of equivalent spellings the first is kept.
pub fn dedup<'a, T: AsRef<str> + ?Sized>(values: impl IntoIterator<Item = &'a T>) -> Vec<&'a T> {
    let mut out: Vec<&'a T> = Vec::new();
    for v in values {
        if !out.iter().any(|kept| same(kept.as_ref(), v.as_ref())) {
            out.push(v);
        }
    }
    out
}

/// Why a token response's `resource` member disqualifies the token (the token must not be used).
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum ResourceMismatch {
    /// The member is neither a URI nor a non-empty array of URIs.
    #[error("the response's resource member is {0}; it must be a URI or a non-empty array of URIs")]
    Malformed(Value),
    /// The member names a resource that was not asked for.
    #[error(
        "the response names resource \"{stray}\", which was not asked for (asked for: {asked}); the token must not be used"
    )]
    NotAsked {
        /// The resource named.
        stray: String,
        /// The resources asked for, comma-separated (`none` when none was).
        asked: String,
    },
}

/// The requestor's check of a token response's `resource` member against the resources it asked
/// for: absent is fine; present, it must be a URI or a non-empty array of URIs, each one of
/// `asked`. `Ok` says what was found.
pub fn check_response(response: &Value, asked: &[&str]) -> Result<String, ResourceMismatch> {
    let values: Vec<&str> = match response.get("resource") {
        None | Some(Value::Null) => {
            return Ok("the response has no resource member, so there is nothing to compare".to_owned());
        }
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) if !a.is_empty() && a.iter().all(Value::is_string) => {
            a.iter().filter_map(Value::as_str).collect()
        }
        Some(other) => return Err(ResourceMismatch::Malformed(other.clone())),
    };
    if let Some(stray) = values.iter().find(|v| !asked.iter().any(|a| same(a, v))) {
        let asked = if asked.is_empty() { "none".to_owned() } else { asked.join(", ") };
        return Err(ResourceMismatch::NotAsked { stray: (*stray).to_owned(), asked });
    }
    Ok(format!("the response's resource ({}) is among the resources asked for", values.join(", ")))
}

/// Upper-case hex in every percent-encoding, and unreserved characters decoded (RFC 3986 §2.3).
fn percent_normalized(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) =
                (bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex))
        {
            let c = char::from((h * 16 + l) as u8);
            if c.is_ascii_alphanumeric() || "-._~".contains(c) {
                out.push(c);
            } else {
                out.push_str(&format!("%{:02X}", h * 16 + l));
            }
            i += 3;
            continue;
        }
        // Not a percent-encoding: copy the whole character.
        let len = s[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&s[i..i + len]);
        i += len;
    }
    out
}

/// RFC 3986 §5.2.4 `remove_dot_segments`.
fn remove_dot_segments(path: &str) -> String {
    let mut input = path;
    let mut output: Vec<&str> = Vec::new();
    while !input.is_empty() {
        if let Some(rest) = input.strip_prefix("../").or_else(|| input.strip_prefix("./")) {
            input = rest;
        } else if input.starts_with("/./") {
            input = &input[2..];
        } else if input == "/." {
            input = "/";
        } else if input.starts_with("/../") || input == "/.." {
            input = if input == "/.." { "/" } else { &input[3..] };
            output.pop();
        } else if input == "." || input == ".." {
            input = "";
        } else {
            let start = usize::from(input.starts_with('/'));
            let end = input[start..].find('/').map_or(input.len(), |i| i + start);
            output.push(&input[..end]);
            input = &input[end..];
        }
    }
    output.concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_case_percent_encoding_and_dot_segments() {
        assert_eq!(normalize("HTTPS://Todo.Lab:4403/API"), "https://todo.lab:4403/API");
        assert_eq!(normalize("http://h/a%2fb%7e%41"), "http://h/a%2Fb~A");
        assert_eq!(normalize("http://h/a/./b/../c?Q#F"), "http://h/a/c?Q#F");
        assert_eq!(normalize("urn:Example:Thing"), "urn:Example:Thing");
        assert_eq!(normalize("not a uri"), "not a uri");
        assert_eq!(remove_dot_segments("/a/b/c/./../../g"), "/a/g");
        assert_eq!(remove_dot_segments("mid/content=5/../6"), "mid/6");
    }

    #[test]
    fn same_resource_ignores_scheme_and_host_case_only() {
        assert!(same("http://127.0.0.1:4403", "HTTP://127.0.0.1:4403"));
        assert!(same("https://api.example/v1", "https://API.example/v1"));
        assert!(!same("https://api.example/v1", "https://api.example/V1"), "paths are case-sensitive");
        assert!(!same("https://api.example/v1", "https://api.example/v1/"));
    }

    #[test]
    fn dedup_keeps_the_first_spelling_in_order() {
        let asked = ["https://B.example/x", "https://a.example", "https://b.example/x", "https://a.example"];
        assert_eq!(dedup(asked), ["https://B.example/x", "https://a.example"]);
    }

    #[test]
    fn a_response_resource_must_be_a_subset_of_what_was_asked() {
        use serde_json::json;
        let asked = ["https://todo.lab/api"];
        assert!(check_response(&json!({}), &asked).is_ok());
        assert!(check_response(&json!({ "resource": "https://todo.lab/api" }), &asked).is_ok());
        assert!(check_response(&json!({ "resource": ["HTTPS://todo.lab/api"] }), &asked).is_ok());
        let stray = check_response(&json!({ "resource": ["https://todo.lab/api", "https://x.example"] }), &asked);
        assert_eq!(
            stray.unwrap_err().to_string(),
            "the response names resource \"https://x.example\", which was not asked for (asked for: https://todo.lab/api); the token must not be used"
        );
        assert_eq!(
            check_response(&json!({ "resource": [] }), &asked).unwrap_err().to_string(),
            "the response's resource member is []; it must be a URI or a non-empty array of URIs"
        );
        assert!(check_response(&json!({ "resource": 7 }), &asked).is_err());
        assert!(check_response(&json!({ "resource": "https://todo.lab/api" }), &[]).is_err());
    }
}
