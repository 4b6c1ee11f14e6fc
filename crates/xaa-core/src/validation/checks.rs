//! The record of checks a validator ran, and the steps every validator shares.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::jose::{self, ALLOWED_ALGS, UnverifiedJwt};

/// One check a server ran on a token, with its outcome and the spec section behind it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Short stable name, e.g. `typ` or `signature`.
    pub name: &'static str,
    /// Whether it passed.
    pub passed: bool,
    /// What was found (on success) or what was wrong (on failure).
    pub detail: String,
    /// The spec section that requires it.
    pub spec: &'static str,
}

/// Why a token was refused: the failed check, in words, with the section that requires it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{description} ({spec})")]
pub struct Rejection {
    /// The failed check's name.
    pub check: &'static str,
    /// What exactly was wrong.
    pub description: String,
    /// The spec section that requires the check.
    pub spec: &'static str,
}

/// The checks run so far, in order.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(transparent)]
pub struct CheckLog(Vec<Check>);

impl CheckLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }
    /// Records a passed check.
    pub fn pass(&mut self, name: &'static str, spec: &'static str, detail: impl Into<String>) {
        self.0.push(Check { name, passed: true, detail: detail.into(), spec });
    }
    /// Records a failed check and returns the rejection to send back.
    pub fn fail(&mut self, name: &'static str, spec: &'static str, description: impl Into<String>) -> Rejection {
        let description = description.into();
        self.0.push(Check { name, passed: false, detail: description.clone(), spec });
        Rejection { check: name, description, spec }
    }
    /// The checks in the order they ran.
    pub fn checks(&self) -> &[Check] {
        &self.0
    }
}

/// `typ` values compare case-insensitively, with an optional `application/` prefix
/// (RFC 7515 §4.1.9; lab decision A3).
pub(crate) fn typ_matches(actual: &str, expected: &str) -> bool {
    let actual = actual.strip_prefix("application/").unwrap_or(actual);
    actual.eq_ignore_ascii_case(expected)
}

/// Step: the token is a compact JWS at all.
pub(crate) fn parse<'a>(raw: &'a str, what: &str, log: &mut CheckLog) -> Result<UnverifiedJwt<'a>, Rejection> {
    match UnverifiedJwt::parse(raw.trim()) {
        Ok(jwt) => {
            log.pass("format", "RFC 7515 §7.1", format!("{what} is a compact JWS"));
            Ok(jwt)
        }
        Err(e) => Err(log.fail("format", "RFC 7515 §7.1", format!("{what} is not a valid JWT: {e}"))),
    }
}

/// Step: `alg` in the allow-list and no unknown `crit` (RFC 8725 §3.1, RFC 7515 §4.1.11).
pub(crate) fn algorithm(jwt: &UnverifiedJwt<'_>, what: &str, log: &mut CheckLog) -> Result<(), Rejection> {
    let alg = jwt.header().alg.as_str();
    if !ALLOWED_ALGS.contains(&alg) {
        return Err(log.fail(
            "alg",
            "RFC 8725 §3.1",
            format!(
                "{what} is signed with alg \"{alg}\"; only {} are accepted (never none or HS*)",
                ALLOWED_ALGS.join(", ")
            ),
        ));
    }
    log.pass("alg", "RFC 8725 §3.1", format!("alg {alg} is allowed"));
    if let Some(crit) = &jwt.header().crit {
        return Err(log.fail(
            "crit",
            "RFC 7515 §4.1.11",
            format!("{what} has critical header parameters {crit:?} that are not understood"),
        ));
    }
    Ok(())
}

/// Step: the JOSE `typ` is the one this validator accepts (RFC 8725 §3.11).
pub(crate) fn typ(
    jwt: &UnverifiedJwt<'_>,
    expected: &str,
    what: &str,
    spec: &'static str,
    log: &mut CheckLog,
) -> Result<(), Rejection> {
    match jwt.header().typ.as_deref() {
        Some(t) if typ_matches(t, expected) => {
            log.pass("typ", spec, format!("typ is \"{t}\""));
            Ok(())
        }
        Some(t) => Err(log.fail("typ", spec, format!("{what} header typ is \"{t}\"; it must be \"{expected}\""))),
        None => Err(log.fail("typ", spec, format!("{what} header has no typ; it must be \"{expected}\""))),
    }
}

/// Step: verify the signature with `jwk`, found by `kid`.
pub(crate) fn signature(
    jwt: &UnverifiedJwt<'_>,
    jwk: &Map<String, Value>,
    what: &str,
    spec: &'static str,
    log: &mut CheckLog,
) -> Result<(), Rejection> {
    let kid = jwt.header().kid.as_deref().unwrap_or("");
    match jose::verify_signature(jwt, jwk) {
        Ok(()) => {
            log.pass("signature", spec, format!("signature verified with key kid \"{kid}\""));
            Ok(())
        }
        Err(e) => Err(log.fail("signature", spec, format!("{what} signature does not verify with key \"{kid}\": {e}"))),
    }
}

/// A string claim, required.
pub(crate) fn required_str<'c>(
    claims: &'c Map<String, Value>,
    name: &'static str,
    what: &str,
    spec: &'static str,
    log: &mut CheckLog,
) -> Result<&'c str, Rejection> {
    match claims.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(_) => Err(log.fail(name, spec, format!("{what} claim `{name}` must be a non-empty string"))),
        None => Err(log.fail(name, spec, format!("{what} has no `{name}` claim"))),
    }
}

/// A NumericDate claim; `Ok(None)` when absent.
pub(crate) fn numeric_date(
    claims: &Map<String, Value>,
    name: &'static str,
    what: &str,
    spec: &'static str,
    log: &mut CheckLog,
) -> Result<Option<i64>, Rejection> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => match v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)) {
            Some(n) => Ok(Some(n)),
            None => Err(log.fail(name, spec, format!("{what} claim `{name}` must be a NumericDate"))),
        },
    }
}

/// Steps: `exp` (required), `nbf` (if present) and `iat` (required unless `iat_optional`),
/// each with `leeway` seconds of clock skew (RFC 7519 §4.1.4-6, RFC 7523 §3 items 4-6).
pub(crate) fn times(
    claims: &Map<String, Value>,
    now: i64,
    leeway: i64,
    what: &str,
    log: &mut CheckLog,
) -> Result<(), Rejection> {
    const EXP: &str = "RFC 7523 §3 item 4";
    const NBF: &str = "RFC 7523 §3 item 5";
    const IAT: &str = "RFC 7523 §3 item 6";
    let Some(exp) = numeric_date(claims, "exp", what, EXP, log)? else {
        return Err(log.fail("exp", EXP, format!("{what} has no `exp` claim")));
    };
    if now >= exp + leeway {
        return Err(log.fail(
            "exp",
            EXP,
            format!("{what} expired at {exp}, {} s ago (now {now}, leeway {leeway} s)", now - exp),
        ));
    }
    log.pass("exp", EXP, format!("expires at {exp}, in {} s", exp - now));
    if let Some(nbf) = numeric_date(claims, "nbf", what, NBF, log)? {
        if now + leeway < nbf {
            return Err(log.fail("nbf", NBF, format!("{what} is not valid before {nbf}, {} s from now", nbf - now)));
        }
        log.pass("nbf", NBF, format!("valid since {nbf}"));
    }
    let Some(iat) = numeric_date(claims, "iat", what, IAT, log)? else {
        return Err(log.fail("iat", IAT, format!("{what} has no `iat` claim")));
    };
    if iat > now + leeway {
        return Err(log.fail("iat", IAT, format!("{what} was issued in the future ({} s from now)", iat - now)));
    }
    log.pass("iat", IAT, format!("issued at {iat}, {} s ago", now - iat));
    Ok(())
}

/// `aud` must be `expected`, as a string or an array of exactly that one element.
pub(crate) fn audience(
    claims: &Map<String, Value>,
    expected: &str,
    what: &str,
    spec: &'static str,
    log: &mut CheckLog,
) -> Result<(), Rejection> {
    let ok = match claims.get("aud") {
        Some(Value::String(s)) => s == expected,
        Some(Value::Array(a)) => a.len() == 1 && a[0].as_str() == Some(expected),
        _ => false,
    };
    if ok {
        log.pass("aud", spec, format!("aud is \"{expected}\""));
        Ok(())
    } else {
        let found = claims.get("aud").map(Value::to_string).unwrap_or_else(|| "missing".into());
        Err(log.fail(
            "aud",
            spec,
            format!(
                "{what} aud is {found}; it must be \"{expected}\" (a string, or an array of exactly that one value)"
            ),
        ))
    }
}

/// Every `jwt` type that one validator must not accept in place of another (RFC 8725 §3.12).
pub(crate) fn describe_typ(typ: Option<&str>) -> &'static str {
    match typ {
        Some(t) if typ_matches(t, crate::urn::TYP_ID_JAG) => "an ID-JAG",
        Some(t) if typ_matches(t, crate::urn::TYP_ACCESS_TOKEN) => "an access token",
        Some(t) if typ_matches(t, crate::urn::TYP_CLIENT_AUTH) => "a client assertion",
        _ => "a JWT",
    }
}

/// `[check] description (spec)` of a refusal, after asserting that `log` ends with exactly that
/// failed check and that every check before it passed: the one line the validator tests pin.
#[cfg(test)]
pub(super) fn refusal_line(rejection: &Rejection, log: &CheckLog) -> String {
    let (last, before) = log.checks().split_last().expect("a refusal is recorded in the log");
    assert!(before.iter().all(|c| c.passed), "only the last check may fail: {before:?}");
    assert_eq!(
        (last.name, last.passed, last.detail.as_str(), last.spec),
        (rejection.check, false, rejection.description.as_str(), rejection.spec),
        "the log records the refusal that was returned"
    );
    format!("[{}] {rejection}", rejection.check)
}

/// The names of the checks in `log`, in order, after asserting that all of them passed.
#[cfg(test)]
pub(super) fn passed_check_names(log: &CheckLog) -> String {
    assert!(log.checks().iter().all(|c| c.passed), "every check passed: {:?}", log.checks());
    log.checks().iter().map(|c| c.name).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typ_compares_like_a_media_type() {
        assert!(typ_matches("oauth-id-jag+jwt", "oauth-id-jag+jwt"));
        assert!(typ_matches("application/OAuth-ID-JAG+JWT", "oauth-id-jag+jwt"));
        assert!(!typ_matches("JWT", "oauth-id-jag+jwt"));
        assert!(!typ_matches("text/oauth-id-jag+jwt", "oauth-id-jag+jwt"));
    }
}
