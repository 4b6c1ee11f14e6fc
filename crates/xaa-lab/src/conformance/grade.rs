//! What a check expects back ([`Expect`]) and how an answer measures up to it ([`Graded`]).

use std::fmt;

use serde_json::Value;
use xaa_core::spec::Level;

use super::{Answer, Verdict};
use crate::console::explorer::hints::challenge_params;

/// What the specs expect back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// A token response (RFC 6749 §5.1): 200, `access_token`, `token_type`, `Cache-Control:
    /// no-store`; `expires_in` is RECOMMENDED.
    Token,
    /// A token-endpoint refusal with one of `statuses` and one of `errors`.
    Refusal {
        /// The acceptable statuses.
        statuses: &'static [u16],
        /// The acceptable `error` codes.
        errors: &'static [&'static str],
    },
    /// A refusal with one of `errors`, or a token whose `scope` leaves out `scope`.
    NotGranted {
        /// The scope that must not be granted.
        scope: &'static str,
        /// The acceptable `error` codes of a refusal.
        errors: &'static [&'static str],
    },
    /// Any 4xx refusal.
    ClientError,
    /// A 2xx answer from the protected resource.
    Served,
    /// A protected resource's refusal: `status` with a `WWW-Authenticate: Bearer` challenge,
    /// carrying `error` when named.
    Challenge {
        /// The status.
        status: u16,
        /// The challenge's `error`.
        error: Option<&'static str>,
    },
    /// A `Bearer` challenge naming the parameter `param`.
    ChallengeParam {
        /// The parameter (`resource_metadata`).
        param: &'static str,
    },
    /// An RFC 9728 metadata document (200, a JSON object).
    Metadata,
    /// The metadata's `resource` is the resource identifier exactly.
    MetadataResource,
    /// Every refusal above carried an `error_description`.
    Described,
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::Token => f.write_str("200 with access_token and token_type"),
            Expect::Refusal { statuses, errors } => {
                let statuses: Vec<String> = statuses.iter().map(u16::to_string).collect();
                write!(f, "{} {}", statuses.join(" or "), errors.join(" or "))
            }
            Expect::NotGranted { scope, errors } => {
                write!(f, "400 {}, or a token without scope \"{scope}\"", errors.join(" or "))
            }
            Expect::ClientError => f.write_str("a 4xx refusal (413 or 400)"),
            Expect::Served => f.write_str("2xx"),
            Expect::Challenge { status, error: None } => write!(f, "{status} with WWW-Authenticate: Bearer"),
            Expect::Challenge { status, error: Some(e) } => {
                write!(f, "{status} with WWW-Authenticate: Bearer error=\"{e}\"")
            }
            Expect::ChallengeParam { param } => write!(f, "the Bearer challenge names {param}"),
            Expect::Metadata => f.write_str("200 with a JSON metadata document"),
            Expect::MetadataResource => f.write_str("its resource is the resource identifier, exactly"),
            Expect::Described => f.write_str("every refusal has an error_description"),
        }
    }
}

/// How an answer measured up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Graded {
    /// As expected; what came back.
    Met(String),
    /// The rule's core is met but a SHOULD of it is not; what came back and what is missing.
    Short(String),
    /// Not as expected; what came back and why it is wrong.
    Missed(String),
    /// Not run; why.
    Skipped(String),
}

impl Graded {
    /// The verdict at `level` (a profile rule fails when `strict_profile`), and the observed text.
    pub(crate) fn verdict(self, level: Level, strict_profile: bool) -> (Verdict, String) {
        match self {
            Graded::Met(o) => (Verdict::Pass, o),
            Graded::Short(o) => (Verdict::Warning, o),
            Graded::Missed(o) if level == Level::Must || (level == Level::Profile && strict_profile) => {
                (Verdict::Fail, o)
            }
            Graded::Missed(o) => (Verdict::Warning, o),
            Graded::Skipped(o) => (Verdict::Skipped, o),
        }
    }
}

/// At most `n` characters of `s`, `…` marking a cut.
pub(crate) fn cut(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

impl Answer {
    /// The `error` of a token endpoint's JSON body, or of a `Bearer` challenge.
    pub(crate) fn error(&self) -> Option<String> {
        let from_body = self.json.as_ref().and_then(|j| j["error"].as_str()).map(str::to_owned);
        from_body.or_else(|| self.bearer_param("error"))
    }

    /// The `error_description` of the body or of a `Bearer` challenge.
    pub(crate) fn description(&self) -> Option<String> {
        let from_body = self.json.as_ref().and_then(|j| j["error_description"].as_str()).map(str::to_owned);
        from_body.or_else(|| self.bearer_param("error_description")).filter(|d| !d.trim().is_empty())
    }

    /// The first `Bearer` challenge, if any.
    pub(crate) fn bearer(&self) -> Option<&str> {
        self.challenges
            .iter()
            .map(String::as_str)
            .find(|c| c.split_whitespace().next().is_some_and(|scheme| scheme.eq_ignore_ascii_case("bearer")))
    }

    /// A parameter of the `Bearer` challenge.
    pub(crate) fn bearer_param(&self, name: &str) -> Option<String> {
        challenge_params(self.bearer()?).into_iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// What came back, in one line.
    pub(crate) fn summary(&self) -> String {
        if let Some(why) = &self.failed {
            return format!("no answer ({why})");
        }
        let mut out = self.status.to_string();
        if self.status == 200 && self.json.as_ref().is_some_and(|j| j["access_token"].is_string()) {
            let j = self.json.clone().unwrap_or_default();
            out.push_str(" with an access token");
            for member in ["token_type", "expires_in", "scope"] {
                match &j[member] {
                    Value::Null => {}
                    Value::String(s) => out.push_str(&format!(", {member} {s}")),
                    v => out.push_str(&format!(", {member} {v}")),
                }
            }
            return out;
        }
        if let Some(e) = self.error() {
            out.push_str(&format!(" {e}"));
        }
        if let Some(d) = self.description() {
            out.push_str(&format!(": {}", cut(&d, 160)));
        }
        if self.status == 401 || self.status == 403 {
            match self.challenges.first() {
                Some(c) => out.push_str(&format!(" (WWW-Authenticate: {})", cut(c, 160))),
                None => out.push_str(" (no WWW-Authenticate)"),
            }
        }
        out
    }
}

impl Expect {
    /// How `answer` measures up to this expectation (the metadata and aggregate expectations are
    /// graded where their documents are read).
    pub(crate) fn grade(&self, answer: &Answer) -> Graded {
        let seen = answer.summary();
        if answer.failed.is_some() {
            return Graded::Missed(seen);
        }
        let status = answer.status;
        let token = answer.json.as_ref().filter(|j| j["access_token"].is_string());
        let refused = |why: &str| Graded::Missed(format!("{seen} — {why}"));
        match *self {
            Expect::Token => {
                let Some(j) = token.filter(|_| status == 200) else {
                    return refused("no token was issued");
                };
                let token_type = j["token_type"].as_str().unwrap_or("");
                if !token_type.eq_ignore_ascii_case("bearer") && !token_type.eq_ignore_ascii_case("dpop") {
                    return refused("token_type must be Bearer or DPoP");
                }
                if !answer.cache_control.as_deref().is_some_and(|c| c.to_ascii_lowercase().contains("no-store")) {
                    return refused("the response lacks Cache-Control: no-store");
                }
                if j["expires_in"].is_null() {
                    return Graded::Short(format!("{seen} — expires_in is RECOMMENDED"));
                }
                Graded::Met(seen)
            }
            Expect::Refusal { statuses, errors } => {
                if token.is_some() || (200..300).contains(&status) {
                    return refused("accepted");
                }
                let error = answer.error().unwrap_or_default();
                if !statuses.contains(&status) || !errors.contains(&error.as_str()) {
                    return refused("refused, but not as the specs say");
                }
                Graded::Met(seen)
            }
            Expect::NotGranted { scope, errors } => match token {
                Some(j) if status == 200 => {
                    let granted = j["scope"].as_str().map(|s| s.split(' ').any(|t| t == scope));
                    match granted {
                        Some(false) => Graded::Met(seen),
                        Some(true) => refused("the scope it does not govern was granted"),
                        None => refused("a token with no scope member: the client cannot tell what was granted"),
                    }
                }
                _ if (400..500).contains(&status) && errors.contains(&answer.error().unwrap_or_default().as_str()) => {
                    Graded::Met(seen)
                }
                _ => refused("refused, but not as the specs say"),
            },
            Expect::ClientError => match status {
                400..=499 if token.is_none() => Graded::Met(seen),
                200..=299 => refused("accepted"),
                _ => refused("not a 4xx refusal"),
            },
            Expect::Served => match status {
                200..=299 => Graded::Met(seen),
                _ => refused("the valid token was not accepted"),
            },
            Expect::Challenge { status: want, error } => {
                if (200..300).contains(&status) {
                    return refused("accepted");
                }
                if status >= 500 {
                    return refused("a server error, not a refusal the client can act on");
                }
                if answer.bearer().is_none() {
                    return refused("a refusal MUST carry WWW-Authenticate: Bearer");
                }
                if status != want {
                    return Graded::Short(format!("{seen} — refused; the status SHOULD be {want}"));
                }
                match error {
                    Some(e) if answer.error().as_deref() != Some(e) => {
                        Graded::Short(format!("{seen} — refused; the challenge SHOULD say error=\"{e}\""))
                    }
                    _ => Graded::Met(seen),
                }
            }
            Expect::ChallengeParam { param } => match answer.bearer_param(param) {
                Some(v) if !v.is_empty() => Graded::Met(format!("{param}=\"{v}\"")),
                _ => refused(&format!("no {param} in the challenge")),
            },
            Expect::Metadata | Expect::MetadataResource | Expect::Described => Graded::Met(seen),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn answer(status: u16, json: Value) -> Answer {
        Answer { status, json: Some(json), cache_control: Some("no-store".into()), ..Answer::default() }
    }

    fn challenge(status: u16, header: &str) -> Answer {
        Answer { status, challenges: vec![header.into()], ..Answer::default() }
    }

    const INVALID_GRANT: Expect = Expect::Refusal { statuses: &[400], errors: &["invalid_grant"] };

    #[test]
    fn a_refusal_must_be_the_one_the_specs_name() {
        let refused = answer(400, json!({ "error": "invalid_grant", "error_description": "typ is JWT" }));
        assert_eq!(INVALID_GRANT.grade(&refused), Graded::Met("400 invalid_grant: typ is JWT".into()));
        let token = answer(200, json!({ "access_token": "x", "token_type": "Bearer" }));
        assert_eq!(
            INVALID_GRANT.grade(&token),
            Graded::Missed("200 with an access token, token_type Bearer — accepted".into())
        );
        let other = answer(400, json!({ "error": "invalid_request" }));
        assert_eq!(
            INVALID_GRANT.grade(&other),
            Graded::Missed("400 invalid_request — refused, but not as the specs say".into())
        );
        let down = Answer { failed: Some("connection refused or host unreachable".into()), ..Answer::default() };
        assert_eq!(
            INVALID_GRANT.grade(&down),
            Graded::Missed("no answer (connection refused or host unreachable)".into())
        );
    }

    #[test]
    fn a_token_response_needs_its_type_and_no_store_and_should_say_its_lifetime() {
        let good = answer(200, json!({ "access_token": "x", "token_type": "Bearer", "expires_in": 60 }));
        assert!(matches!(Expect::Token.grade(&good), Graded::Met(_)));
        let no_expiry = answer(200, json!({ "access_token": "x", "token_type": "bearer" }));
        assert!(
            matches!(Expect::Token.grade(&no_expiry), Graded::Short(o) if o.ends_with("expires_in is RECOMMENDED"))
        );
        let cached = Answer { cache_control: None, ..good.clone() };
        assert!(matches!(Expect::Token.grade(&cached), Graded::Missed(o) if o.ends_with("Cache-Control: no-store")));
        let odd = answer(200, json!({ "access_token": "x", "token_type": "mac", "expires_in": 60 }));
        assert!(matches!(Expect::Token.grade(&odd), Graded::Missed(o) if o.ends_with("Bearer or DPoP")));
    }

    #[test]
    fn an_ungoverned_scope_may_be_refused_or_left_out() {
        let expect = Expect::NotGranted { scope: "x.y", errors: &["invalid_scope", "invalid_grant"] };
        let narrowed = answer(200, json!({ "access_token": "t", "token_type": "Bearer", "scope": "todos.read" }));
        assert!(matches!(expect.grade(&narrowed), Graded::Met(_)));
        let granted = answer(200, json!({ "access_token": "t", "token_type": "Bearer", "scope": "todos.read x.y" }));
        assert!(matches!(expect.grade(&granted), Graded::Missed(o) if o.ends_with("was granted")));
        let silent = answer(200, json!({ "access_token": "t", "token_type": "Bearer" }));
        assert!(matches!(expect.grade(&silent), Graded::Missed(_)));
        assert!(matches!(expect.grade(&answer(400, json!({ "error": "invalid_scope" }))), Graded::Met(_)));
    }

    #[test]
    fn a_resource_refusal_is_a_bearer_challenge_that_should_name_its_error() {
        let expect = Expect::Challenge { status: 401, error: Some("invalid_token") };
        let good = challenge(401, r#"Bearer realm="api", error="invalid_token", error_description="expired""#);
        assert!(matches!(expect.grade(&good), Graded::Met(_)));
        let bare = challenge(401, "Bearer");
        assert!(matches!(expect.grade(&bare), Graded::Short(o) if o.contains("SHOULD say error=\"invalid_token\"")));
        let forbidden = challenge(403, r#"Bearer error="invalid_token""#);
        assert!(matches!(expect.grade(&forbidden), Graded::Short(o) if o.ends_with("the status SHOULD be 401")));
        let basic = challenge(401, r#"Basic realm="api""#);
        assert!(
            matches!(expect.grade(&basic), Graded::Missed(o) if o.ends_with("MUST carry WWW-Authenticate: Bearer"))
        );
        let crashed = challenge(500, "Bearer");
        assert!(matches!(expect.grade(&crashed), Graded::Missed(_)));
        assert!(matches!(expect.grade(&answer(200, json!({}))), Graded::Missed(o) if o.ends_with("accepted")));
        let param = Expect::ChallengeParam { param: "resource_metadata" };
        let named =
            challenge(401, r#"Bearer resource_metadata="https://api.example/.well-known/oauth-protected-resource""#);
        assert_eq!(
            param.grade(&named),
            Graded::Met("resource_metadata=\"https://api.example/.well-known/oauth-protected-resource\"".into())
        );
        assert!(matches!(param.grade(&bare), Graded::Missed(_)));
    }

    #[test]
    fn a_missed_rule_fails_only_at_must_or_at_a_followed_profile() {
        let missed = || Graded::Missed("200".into());
        assert_eq!(missed().verdict(Level::Must, false).0, Verdict::Fail);
        assert_eq!(missed().verdict(Level::Should, true).0, Verdict::Warning);
        assert_eq!(missed().verdict(Level::Profile, false).0, Verdict::Warning);
        assert_eq!(missed().verdict(Level::Profile, true).0, Verdict::Fail);
        assert_eq!(missed().verdict(Level::LabDecision, true).0, Verdict::Warning);
        assert_eq!(Graded::Short("x".into()).verdict(Level::Must, true).0, Verdict::Warning);
        assert_eq!(Graded::Skipped("x".into()).verdict(Level::Must, true).0, Verdict::Skipped);
    }

    #[test]
    fn expectations_read_as_the_table_shows_them() {
        assert_eq!(INVALID_GRANT.to_string(), "400 invalid_grant");
        let client = Expect::Refusal { statuses: &[400, 401], errors: &["invalid_client"] };
        assert_eq!(client.to_string(), "400 or 401 invalid_client");
        let challenge = Expect::Challenge { status: 403, error: Some("insufficient_scope") };
        assert_eq!(challenge.to_string(), "403 with WWW-Authenticate: Bearer error=\"insufficient_scope\"");
    }
}
