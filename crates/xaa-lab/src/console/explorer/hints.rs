//! Failure hints for step 4 against a developer's own resource server: from the access token the
//! explorer sent and the server's 401 or 403 (status, RFC 6750 `WWW-Authenticate`), what their JWT
//! middleware most likely got wrong. The lab's own servers get none: the trace shows the checks
//! they ran ([`Target::lab_serves`](super::target::Target::lab_serves)). [`hints`] is a pure
//! function, so each hint is tested on its own.

use serde_json::{Map, Value};
use xaa_core::jose::unverified::{JoseHeader, UnverifiedJwt};
use xaa_core::spec::{self, Citation};

use super::http::Answered;
use crate::admin::ResourceApp;

/// What the token was meant to satisfy.
#[derive(Clone, Copy, Debug)]
struct Expected<'a> {
    /// The resource identifier as registered (the token's `aud`).
    resource: &'a str,
    /// The authorization server's issuer.
    issuer: &'a str,
    /// Where its keys are published (empty when unknown).
    jwks_uri: &'a str,
    /// The lab clock.
    now: i64,
}

/// What the resource server answered.
#[derive(Clone, Copy, Debug)]
struct Answer<'a> {
    status: u16,
    www_authenticate: Option<&'a str>,
}

/// One hint: the check the middleware most likely failed, and what to change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Hint {
    /// `aud`, `typ`, `scope`, `iss`, `exp`, `WWW-Authenticate` or `unknown`.
    pub(crate) check: &'static str,
    pub(crate) text: String,
    /// The specification the hint rests on.
    pub(crate) spec: Citation,
}

/// The parameters of a `Bearer` challenge (RFC 6750 §3), names lower-cased.
pub(crate) fn challenge_params(www_authenticate: &str) -> Vec<(String, String)> {
    let rest = www_authenticate.trim();
    let rest = match rest.split_once(char::is_whitespace) {
        Some((scheme, r)) if scheme.eq_ignore_ascii_case("bearer") => r,
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let name: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=')).collect();
        if name.is_empty() || chars.next() != Some('=') {
            return out;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = std::iter::from_fn(|| chars.next_if(|c| *c != ',')).collect::<String>().trim().to_owned();
        }
        out.push((name.trim().to_ascii_lowercase(), value));
    }
}

/// The hints for `token`, sent to `app`'s resource, which `answered`; none unless it refused it
/// with 401 or 403, or when the token is not a JWT. `now`: the lab clock.
pub(crate) fn of_refusal(token: &str, answered: &Answered, app: &ResourceApp, now: i64) -> Vec<Hint> {
    let Ok(jwt) = UnverifiedJwt::parse(token) else { return Vec::new() };
    let expected = Expected { resource: &app.base_url, issuer: &app.issuer, jwks_uri: &app.jwks_uri, now };
    let answer = Answer { status: answered.status, www_authenticate: answered.www_authenticate.as_deref() };
    hints(jwt.header(), jwt.unverified_claims(), answer, expected)
}

/// The hints for a token (`header`, `claims`, decoded) refused with `answer`; none unless the
/// answer is 401 or 403.
fn hints(header: &JoseHeader, claims: &Map<String, Value>, answer: Answer<'_>, e: Expected<'_>) -> Vec<Hint> {
    if answer.status != 401 && answer.status != 403 {
        return Vec::new();
    }
    let params = answer.www_authenticate.map(challenge_params).unwrap_or_default();
    let param = |n: &str| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    let description = param("error_description").unwrap_or("");
    let words: Vec<String> = description
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '+' || c == '_'))
        .map(str::to_ascii_lowercase)
        .collect();
    let says = |w: &[&str]| words.iter().any(|x| w.contains(&x.as_str()));
    let claim = |n: &str| claims.get(n).map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()));
    let mut out = Vec::new();

    let exp = claims.get("exp").and_then(Value::as_i64);
    if exp.is_some_and(|x| x <= e.now) || says(&["expired", "exp"]) {
        let text = match exp {
            Some(x) if x <= e.now => format!(
                "The token expired at {x} (exp), {} s before the lab clock's {}: run step 3 again for a fresh one.",
                e.now - x,
                e.now
            ),
            _ => format!(
                "Your server calls the token expired, but its exp is {} and the lab clock says {}: your server's clock is ahead, or it allows no leeway.",
                exp.map(|x| x.to_string()).unwrap_or_else(|| "missing".into()),
                e.now
            ),
        };
        out.push(Hint { check: "exp", text, spec: Citation::of(&[spec::RFC9068_4, spec::RFC7519_4_1_4]) });
    }
    if says(&["aud", "audience"]) {
        let aud = claim("aud").unwrap_or_default();
        let other = if aud.ends_with('/') { aud.trim_end_matches('/').to_owned() } else { format!("{aud}/") };
        let slash = description.contains(&other) && !other.is_empty();
        let text = if slash {
            format!(
                "Audience mismatch by a trailing slash: the token's aud is \"{aud}\", your resource URL exactly as registered, and your middleware expects \"{other}\". aud is compared as an exact string: configure your middleware with \"{aud}\", or register the resource as \"{other}\"."
            )
        } else {
            format!(
                "Your middleware refused the audience: the token's aud is \"{aud}\" (the resource URL \"{}\" exactly as registered); configure exactly that string as the expected audience.",
                e.resource
            )
        };
        out.push(Hint { check: "aud", text, spec: Citation::of(&[spec::RFC9068_4, spec::RFC7519_4_1_3]) });
    }
    if says(&["typ", "type", "at+jwt", "header"]) {
        let typ = header.typ.as_deref().unwrap_or("(none)");
        out.push(Hint {
            check: "typ",
            text: format!(
                "The token's header typ is \"{typ}\": access tokens are typed at+jwt ({}). Your middleware seems to demand another type (many JWT libraries default to \"JWT\"); accept \"at+jwt\" and \"application/at+jwt\".",
                spec::RFC9068_2_1
            ),
            spec: Citation::of(&[spec::RFC9068_2_1, spec::RFC9068_4]),
        });
    }
    if answer.status == 403 || param("error") == Some("insufficient_scope") || says(&["scope"]) {
        let have = claim("scope").unwrap_or_default();
        let text = match param("scope") {
            Some(want) => format!(
                "Missing scope: the endpoint asks for \"{want}\" and the token carries \"{have}\". Add \"{want}\" to the resource's scopes when you register it (the connection grants only those), or ask your endpoint for one of \"{have}\"."
            ),
            None => format!(
                "Your server refused the scope: the token carries \"{have}\". Name the scope it needs in WWW-Authenticate (scope=\"...\") and register the resource with it."
            ),
        };
        out.push(Hint { check: "scope", text, spec: Citation::from(&spec::RFC6750_3_1) });
    }
    if says(&["iss", "issuer", "signature", "kid", "jwks", "key", "keys"]) {
        let kid = header.kid.as_deref().unwrap_or("(none)");
        let jwks = if e.jwks_uri.is_empty() { "(its metadata names none)" } else { e.jwks_uri };
        out.push(Hint {
            check: "iss",
            text: format!(
                "Wrong issuer or keys: the token was issued by \"{}\" and signed with key \"{kid}\" from the JWKS at {jwks}. Trust exactly that issuer and fetch its keys from there (discover them through its RFC 8414 metadata).",
                claim("iss").unwrap_or_else(|| e.issuer.to_owned())
            ),
            spec: Citation::of(&[spec::RFC9068_4, spec::RFC8414_3]),
        });
    }
    if answer.status == 401 && answer.www_authenticate.is_none() {
        out.push(Hint {
            check: "WWW-Authenticate",
            text: "Your server answered 401 without WWW-Authenticate: send Bearer error=\"invalid_token\", error_description=\"...\" so clients (and these hints) can tell which check failed.".into(),
            spec: Citation::from(&spec::RFC6750_3),
        });
    }
    if out.is_empty() {
        out.push(Hint {
            check: "unknown",
            text: format!(
                "The answer does not say which check failed. Compare your middleware's settings with the token: iss \"{}\", aud \"{}\", typ \"{}\", scope \"{}\".",
                claim("iss").unwrap_or_default(),
                claim("aud").unwrap_or_default(),
                header.typ.as_deref().unwrap_or(""),
                claim("scope").unwrap_or_default()
            ),
            spec: Citation::from(&spec::RFC9068_4),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NOW: i64 = 1_000_000;

    fn token(aud: &str, exp: i64) -> (JoseHeader, Map<String, Value>) {
        let h = JoseHeader { alg: "RS256".into(), typ: Some("at+jwt".into()), kid: Some("as-1".into()), crit: None };
        let c = json!({ "iss": "http://as", "aud": aud, "scope": "items.read", "exp": exp });
        (h, c.as_object().unwrap().clone())
    }

    fn run(aud: &str, exp: i64, status: u16, www: Option<&str>) -> Vec<Hint> {
        let (h, c) = token(aud, exp);
        let e = Expected { resource: aud, issuer: "http://as", jwks_uri: "http://as/jwks", now: NOW };
        hints(&h, &c, Answer { status, www_authenticate: www }, e)
    }

    fn checks(h: &[Hint]) -> Vec<&'static str> {
        h.iter().map(|h| h.check).collect()
    }

    #[test]
    fn parses_bearer_challenges() {
        let p = challenge_params(r#"Bearer realm="api", error="invalid_token", error_description="a \"q\", b""#);
        assert_eq!(p[1], ("error".into(), "invalid_token".into()));
        assert_eq!(p[2], ("error_description".into(), "a \"q\", b".into()));
        assert!(challenge_params("Basic realm=x").is_empty());
    }

    #[test]
    fn a_trailing_slash_in_the_expected_audience_is_named() {
        let www = r#"Bearer error="invalid_token", error_description="audience mismatch: expected http://api:5000/""#;
        let h = run("http://api:5000", NOW + 60, 401, Some(www));
        assert_eq!(checks(&h), ["aud"]);
        assert!(h[0].text.starts_with("Audience mismatch by a trailing slash"), "{}", h[0].text);
        assert!(h[0].text.contains("expects \"http://api:5000/\""));
        let www = r#"Bearer error="invalid_token", error_description="invalid aud""#;
        assert!(
            run("http://api:5000", NOW + 60, 401, Some(www))[0]
                .text
                .starts_with("Your middleware refused the audience")
        );
    }

    #[test]
    fn typ_scope_issuer_and_expiry() {
        let www = r#"Bearer error="invalid_token", error_description="unexpected typ at+jwt, expected JWT""#;
        assert_eq!(checks(&run("http://api", NOW + 60, 401, Some(www))), ["typ"]);
        let www = r#"Bearer error="insufficient_scope", scope="items.write""#;
        let h = run("http://api", NOW + 60, 403, Some(www));
        assert_eq!(checks(&h), ["scope"]);
        assert!(h[0].text.contains("asks for \"items.write\" and the token carries \"items.read\""), "{}", h[0].text);
        let www = r#"Bearer error="invalid_token", error_description="signature: no key with kid as-1""#;
        let h = run("http://api", NOW + 60, 401, Some(www));
        assert_eq!(checks(&h), ["iss"]);
        assert!(h[0].text.contains("\"http://as\"") && h[0].text.contains("http://as/jwks"));
        let www = r#"Bearer error="invalid_token", error_description="token expired""#;
        let h = run("http://api", NOW - 5, 401, Some(www));
        assert_eq!(checks(&h), ["exp"]);
        assert!(h[0].text.starts_with("The token expired at 999995"), "{}", h[0].text);
        let h = run("http://api", NOW + 60, 401, Some(www));
        assert!(h[0].text.contains("your server's clock is ahead"), "{}", h[0].text);
    }

    #[test]
    fn silent_refusals_and_successes() {
        assert_eq!(checks(&run("http://api", NOW + 60, 401, None)), ["WWW-Authenticate"]);
        assert_eq!(checks(&run("http://api", NOW + 60, 401, Some("Bearer"))), ["unknown"]);
        assert!(run("http://api", NOW + 60, 200, None).is_empty());
        assert!(run("http://api", NOW + 60, 500, None).is_empty());
    }
}
