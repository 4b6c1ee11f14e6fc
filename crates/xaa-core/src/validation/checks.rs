//! The record of checks a validator ran, and the steps every validator shares.

use serde::Serialize;
use serde_json::{Map, Value};

use super::rejection::{Rejection, Token, spec};
use crate::jose::{ALLOWED_ALGS, JwtFormatError, PublicKey, UnverifiedJwt};
use crate::spec::Citation;

/// One check a server ran on a token, with its outcome and the spec section behind it.
///
/// Serialised as `{"name","passed","detail","spec","level","decision"}`: `spec` is the citation's
/// text, `level` its level's label (`MUST`, `lab decision`, …) and `decision`, when the check rests
/// on a lab decision, profile rule or break-it switch, that row (see [`crate::spec::Labels`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// Short stable name, e.g. `typ` or `signature`.
    pub name: &'static str,
    /// Whether it passed.
    pub passed: bool,
    /// What was found (on success) or what was wrong (on failure).
    pub detail: String,
    /// What requires it (rows of [`crate::spec`]).
    pub spec: Citation,
}

impl Serialize for Check {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Exported<'a> {
            name: &'static str,
            passed: bool,
            detail: &'a str,
            spec: Citation,
            #[serde(flatten)]
            labels: crate::spec::Labels,
        }
        let Check { name, passed, ref detail, spec } = *self;
        Exported { name, passed, detail, spec, labels: spec.labels() }.serialize(s)
    }
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
    pub fn pass(&mut self, name: &'static str, spec: impl Into<Citation>, detail: impl Into<String>) {
        self.0.push(Check { name, passed: true, detail: detail.into(), spec: spec.into() });
    }
    /// Records the failed check `rejection` stands for and returns it, to send back.
    pub fn reject(&mut self, rejection: Rejection) -> Rejection {
        let (name, spec, detail) = (rejection.check(), rejection.spec(), rejection.description());
        self.0.push(Check { name, passed: false, detail, spec });
        rejection
    }
    /// Records a failed role-level check (one the role runs itself: SAML, policy, replay,
    /// break-it switches...) and returns it as [`Rejection::Other`], to send back.
    pub fn fail(&mut self, name: &'static str, spec: impl Into<Citation>, description: impl Into<String>) -> Rejection {
        self.reject(Rejection::Other { check: name, description: description.into(), spec: spec.into() })
    }
    /// The checks in the order they ran.
    pub fn checks(&self) -> &[Check] {
        &self.0
    }
    /// The checks in the order they ran, taken out of the log.
    pub fn into_checks(self) -> Vec<Check> {
        self.0
    }
}

/// `typ` values compare case-insensitively, with an optional `application/` prefix
/// (RFC 7515 §4.1.9; lab decision A3).
pub(crate) fn typ_matches(actual: &str, expected: &str) -> bool {
    let actual = actual.strip_prefix("application/").unwrap_or(actual);
    actual.eq_ignore_ascii_case(expected)
}

/// Step: the token is a compact JWS at all, as `read` decodes it ([`UnverifiedJwt::parse`], or a
/// key set's [`KeySet::parse`](crate::jose::KeySet::parse) that remembers the tokens it read).
pub(crate) fn parse<'a>(
    raw: &'a str,
    read: impl FnOnce(&'a str) -> Result<UnverifiedJwt<'a>, JwtFormatError>,
    token: Token,
    log: &mut CheckLog,
) -> Result<UnverifiedJwt<'a>, Rejection> {
    match read(raw.trim()) {
        Ok(jwt) => {
            log.pass("format", spec::FORMAT, format!("{token} is a compact JWS"));
            Ok(jwt)
        }
        Err(source) => Err(log.reject(Rejection::Format { token, source })),
    }
}

/// Step: `alg` in the allow-list and no unknown `crit` (RFC 8725 §3.1, RFC 7515 §4.1.11).
pub(crate) fn algorithm(jwt: &UnverifiedJwt<'_>, token: Token, log: &mut CheckLog) -> Result<(), Rejection> {
    let alg = jwt.header().alg.as_str();
    if !ALLOWED_ALGS.contains(&alg) {
        return Err(log.reject(Rejection::Algorithm { token, alg: alg.to_owned() }));
    }
    log.pass("alg", spec::ALG, format!("alg {alg} is allowed"));
    if let Some(crit) = &jwt.header().crit {
        return Err(log.reject(Rejection::CriticalHeader { token, crit: crit.clone() }));
    }
    Ok(())
}

/// Step: the JOSE `typ` is the one this validator accepts (RFC 8725 §3.11); `wrong` is the
/// refusal of another `typ`, a missing one is refused with `spec`.
pub(crate) fn typ(
    jwt: &UnverifiedJwt<'_>,
    expected: &'static str,
    token: Token,
    spec: Citation,
    log: &mut CheckLog,
    wrong: impl FnOnce(String) -> Rejection,
) -> Result<(), Rejection> {
    match jwt.header().typ.as_deref() {
        Some(t) if typ_matches(t, expected) => {
            log.pass("typ", spec, format!("typ is \"{t}\""));
            Ok(())
        }
        Some(t) => Err(log.reject(wrong(t.to_owned()))),
        None => Err(log.reject(Rejection::MissingTyp { token, expected, spec })),
    }
}

/// Step: verify the signature with `key`, found by `kid`.
pub(crate) fn signature(
    jwt: &UnverifiedJwt<'_>,
    key: &PublicKey,
    token: Token,
    spec: Citation,
    log: &mut CheckLog,
) -> Result<(), Rejection> {
    let kid = jwt.header().kid.as_deref().unwrap_or("");
    match key.verify(jwt) {
        Ok(()) => {
            log.pass("signature", spec, format!("signature verified with key kid \"{kid}\""));
            Ok(())
        }
        Err(source) => Err(log.reject(Rejection::Signature { token, kid: kid.to_owned(), source, spec })),
    }
}

/// A string claim, required.
pub(crate) fn required_str<'c>(
    claims: &'c Map<String, Value>,
    claim: &'static str,
    token: Token,
    spec: Citation,
    log: &mut CheckLog,
) -> Result<&'c str, Rejection> {
    match claims.get(claim) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(_) => Err(log.reject(Rejection::NotAString { token, claim, spec })),
        None => Err(log.reject(Rejection::MissingClaim { token, claim, spec })),
    }
}

/// A NumericDate claim; `Ok(None)` when absent.
pub(crate) fn numeric_date(
    claims: &Map<String, Value>,
    claim: &'static str,
    token: Token,
    spec: Citation,
    log: &mut CheckLog,
) -> Result<Option<i64>, Rejection> {
    match claims.get(claim) {
        None => Ok(None),
        Some(v) => match v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)) {
            Some(n) => Ok(Some(n)),
            None => Err(log.reject(Rejection::NotANumericDate { token, claim, spec })),
        },
    }
}

/// Steps: `exp` (required), `nbf` (if present) and `iat` (required),
/// each with `leeway` seconds of clock skew: `exp` per the token's kind ([`Token::exp_spec`]), `iat`
/// required by its claims' definition (-04 §3.1, RFC 9068 §2.2, OIDC Core §2).
pub(crate) fn times(
    claims: &Map<String, Value>,
    now: i64,
    leeway: i64,
    token: Token,
    log: &mut CheckLog,
) -> Result<(), Rejection> {
    let Some(exp) = numeric_date(claims, "exp", token, token.exp_spec(), log)? else {
        return Err(log.reject(Rejection::MissingClaim { token, claim: "exp", spec: token.claims_spec() }));
    };
    if now >= exp + leeway {
        return Err(log.reject(Rejection::Expired { token, exp, now, leeway }));
    }
    log.pass("exp", token.exp_spec(), format!("expires at {exp}, in {} s", exp - now));
    if let Some(nbf) = numeric_date(claims, "nbf", token, spec::NBF, log)? {
        if now + leeway < nbf {
            return Err(log.reject(Rejection::NotYetValid { token, nbf, now }));
        }
        log.pass("nbf", spec::NBF, format!("valid since {nbf}"));
    }
    let Some(iat) = numeric_date(claims, "iat", token, token.claims_spec(), log)? else {
        return Err(log.reject(Rejection::MissingClaim { token, claim: "iat", spec: token.claims_spec() }));
    };
    if iat > now + leeway {
        return Err(log.reject(Rejection::IssuedInFuture { token, iat, now }));
    }
    log.pass("iat", token.claims_spec(), format!("issued at {iat}, {} s ago", now - iat));
    Ok(())
}

/// `aud` must be `expected`, as a string or an array of exactly that one element.
pub(crate) fn audience(
    claims: &Map<String, Value>,
    expected: &str,
    token: Token,
    spec: Citation,
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
        let found = claims.get("aud").cloned();
        Err(log.reject(Rejection::Audience { token, found, expected: expected.to_owned(), spec }))
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
        (last.name, last.passed, last.detail.clone(), last.spec),
        (rejection.check(), false, rejection.description(), rejection.spec()),
        "the log records the refusal that was returned"
    );
    assert_eq!(
        format!("{} ({})", rejection.description(), rejection.spec()),
        rejection.to_string(),
        "the text is the description, then the section it cites"
    );
    format!("[{}] {rejection}", rejection.check())
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
