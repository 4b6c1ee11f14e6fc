//! The step model: the four steps of Cross App Access as the explorer runs them, what each is
//! called on the page (the lab's own steps, and the same steps against a registered resource app),
//! what an executed step shows, and the code it offers.

use xaa_core::validation::Check;

use super::chain::Chain;
use super::hints::Hint;
use super::mcp;
use super::target::{ResourceCall, Target};
use crate::config::Urls;
use crate::console::snippets::{Grant, SnippetContext, snippets};
use crate::console::view::TokenView;

/// One of the four steps, in their order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Step {
    /// 1: single sign-on at the IdP (an ID token).
    SignIn,
    /// 2: RFC 8693 token exchange at the IdP (an ID-JAG).
    TokenExchange,
    /// 3: RFC 7523 JWT bearer grant at the resource's authorization server (an access token).
    JwtBearer,
    /// 4: the call to the resource with the access token.
    Call,
}

impl Step {
    /// The four steps in their order.
    pub(crate) const ALL: [Step; 4] = [Step::SignIn, Step::TokenExchange, Step::JwtBearer, Step::Call];

    /// Step `n` (1 to 4).
    pub(crate) fn from_number(n: usize) -> Option<Self> {
        Self::ALL.get(n.wrapping_sub(1)).copied()
    }

    /// Its number, 1 to 4.
    pub(crate) fn number(self) -> usize {
        self as usize + 1
    }

    /// The step before it (step 1 for step 1): where the page sends a browser that ran a step too soon.
    pub(crate) fn before(self) -> Self {
        Self::from_number(self.number() - 1).unwrap_or(Self::SignIn)
    }
}

/// A step as the page names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StepText {
    pub(crate) title: &'static str,
    /// What happens in it.
    pub(crate) what: &'static str,
}

/// The steps against the lab's todo API or its MCP server.
const LAB: [StepText; 4] = [
    StepText {
        title: "Single sign-on at the IdP",
        what: "The user signs in at the IdP (email, then a one-time code); the explorer redeems the authorization code with PKCE and gets an ID token.",
    },
    StepText {
        title: "Token exchange: ID token → ID-JAG",
        what: "RFC 8693 at the IdP: the ID token is the subject token, audience is the authorization server's issuer, resource is the todo API. IT's connection policy decides.",
    },
    StepText {
        title: "JWT bearer grant: ID-JAG → access token",
        what: "RFC 7523 at the resource authorization server, with the explorer's own credentials there. It validates the ID-JAG check by check.",
    },
    StepText {
        title: "Call the todo API",
        what: "The access token as a bearer token. The API checks it (RFC 9068) and the scope the call needs.",
    },
];

/// The steps against a registered resource app: the same sign-in and grants, aimed at its resource.
const RESOURCE_APP: [StepText; 4] = [
    LAB[0],
    StepText {
        title: LAB[1].title,
        what: "RFC 8693 at the IdP: audience is your resource's authorization server, resource is your base URL, scope your scopes.",
    },
    StepText {
        title: LAB[2].title,
        what: "RFC 7523 at your resource's authorization server (the lab's, or yours at its discovered token endpoint).",
    },
    StepText {
        title: "Call your resource",
        what: "Your endpoint, with the access token as a bearer token. On 401 or 403 the explorer says what your middleware most likely got wrong.",
    },
];

impl StepText {
    /// How the page names `step` against `target`.
    pub(crate) fn of(step: Step, target: &Target) -> Self {
        let texts = if target.is_lab() { &LAB } else { &RESOURCE_APP };
        texts[step as usize]
    }
}

/// The title of the lab explorer's step `n` (1 to 4), as the exercises name it.
pub(crate) fn step_title(n: u8) -> &'static str {
    Step::from_number(usize::from(n)).map(|s| LAB[s as usize].title).unwrap_or("")
}

/// What one executed step shows.
#[derive(Clone, Debug, Default)]
pub(crate) struct StepRecord {
    /// The request(s) as sent, secrets masked unless revealed.
    pub(crate) request: String,
    /// The answer(s) as received.
    pub(crate) response: String,
    /// Whether the step succeeded (and its token, if any, is kept).
    pub(crate) ok: bool,
    /// The badge: status code and error, or why nothing was answered.
    pub(crate) status: String,
    /// The refusal's `error_description` (RFC 6749 §5.2, RFC 6750 §3), shown wrapped at the top.
    pub(crate) error_description: Option<String>,
    /// The tokens decoded: by the receiving server (from the trace), else by the explorer.
    pub(crate) tokens: Vec<TokenView>,
    /// A token sent again that an earlier step already decoded: where to find it, instead of the
    /// same table twice.
    pub(crate) tokens_shown_before: Vec<String>,
    /// The checks the receiving server ran (the lab's servers, from the trace).
    pub(crate) checks: Vec<Check>,
    /// The explorer's own checks of the answer, as a requestor must run them.
    pub(crate) client_checks: Vec<Check>,
    /// What a developer's server most likely got wrong when it refused the call.
    pub(crate) hints: Vec<Hint>,
    /// `(language, code)` to do the same.
    pub(crate) snippets: Vec<(&'static str, String)>,
}

impl StepRecord {
    /// A step that sent nothing or got no answer: `response` says why, `status` in short.
    pub(crate) fn unanswered(request: String, response: String, status: &str) -> Self {
        Self { request, response, status: status.to_owned(), ..Self::default() }
    }

    /// The checks that failed, the server's then the explorer's: what the refusal box at the top
    /// of the step shows.
    pub(crate) fn failed_checks(&self) -> Vec<&Check> {
        self.checks.iter().chain(&self.client_checks).filter(|c| !c.passed).collect()
    }

    /// How the server's checks went, in a few words (the summary of their collapsed list).
    pub(crate) fn server_tally(&self) -> String {
        tally(&self.checks)
    }

    /// How the explorer's own checks went.
    pub(crate) fn client_tally(&self) -> String {
        tally(&self.client_checks)
    }
}

/// "all 18 passed", or "1 failed (above), 17 passed".
fn tally(checks: &[Check]) -> String {
    let failed = checks.iter().filter(|c| !c.passed).count();
    let passed = checks.len() - failed;
    match (failed, passed) {
        (0, n) => format!("all {n} passed"),
        (f, 0) => format!("{f} failed (above)"),
        (f, p) => format!("{f} failed (above), {p} passed"),
    }
}

/// A step as the page shows it.
pub(crate) struct StepView {
    pub(crate) n: usize,
    pub(crate) title: &'static str,
    pub(crate) what: &'static str,
    /// The step before it has given the token it needs.
    pub(crate) enabled: bool,
    pub(crate) record: Option<StepRecord>,
    /// The last step that ran: shown open; the steps before it are folded to their badge and
    /// summaries, so four steps stay a page a learner can scroll.
    pub(crate) latest: bool,
}

impl StepView {
    /// The four steps of `chain`.
    pub(crate) fn all(chain: &Chain) -> Vec<Self> {
        let latest = Step::ALL.into_iter().rev().find(|s| chain.record_of(*s).is_some());
        Step::ALL
            .into_iter()
            .map(|step| {
                let text = StepText::of(step, &chain.target);
                StepView {
                    n: step.number(),
                    title: text.title,
                    what: text.what,
                    enabled: chain.can_run(step),
                    record: chain.record_of(step).cloned(),
                    latest: latest == Some(step),
                }
            })
            .collect()
    }
}

/// What a step sent, which its code repeats exactly.
pub(crate) enum Sent<'a> {
    /// Step 1's sign-in (the lab's IdP, `chain.offline` deciding `offline_access`).
    SignIn,
    /// Step 2 or 3: the form posted to the URL.
    Grant(Grant, &'a str, &'a [(&'static str, String)]),
    /// Step 4's call.
    Call(&'a ResourceCall),
}

/// The code of the request a step of `chain` sent: the same parameters, secrets and tokens as
/// variables.
pub(crate) fn code(urls: &Urls, chain: &Chain, sent: Sent<'_>) -> Vec<(&'static str, String)> {
    match sent {
        Sent::SignIn => {
            let context = SnippetContext {
                idp: &urls.idp,
                redirect_uri: "http://localhost:3000/auth/callback",
                offline: chain.offline,
            };
            snippets(1, &context)
        }
        Sent::Grant(grant, url, form) => crate::console::snippets::grant(grant, url, form),
        Sent::Call(ResourceCall::Mcp { url, .. }) => mcp::snippets(url),
        Sent::Call(ResourceCall::Rest { method, url, json, .. }) => {
            crate::console::snippets::rest_call(method, url, json.as_ref())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_numbered_one_to_four() {
        assert_eq!(Step::ALL.map(Step::number), [1, 2, 3, 4]);
        assert_eq!(Step::from_number(3), Some(Step::JwtBearer));
        assert_eq!((Step::from_number(0), Step::from_number(5)), (None, None));
        assert_eq!(Step::Call.before(), Step::JwtBearer);
        assert_eq!(Step::SignIn.before(), Step::SignIn);
    }

    #[test]
    fn a_resource_app_names_its_own_resource_and_keeps_the_lab_titles_of_the_grants() {
        let app = Target::ResourceApp(Box::default());
        assert_eq!(StepText::of(Step::SignIn, &app), StepText::of(Step::SignIn, &Target::TodoApi));
        assert_eq!(StepText::of(Step::TokenExchange, &app).title, "Token exchange: ID token → ID-JAG");
        assert!(StepText::of(Step::TokenExchange, &app).what.contains("resource is your base URL"));
        assert_eq!(StepText::of(Step::Call, &Target::McpServer).title, "Call the todo API");
        assert_eq!(StepText::of(Step::Call, &app).title, "Call your resource");
        assert_eq!((step_title(4), step_title(0), step_title(9)), ("Call the todo API", "", ""));
    }

    fn check(name: &'static str, passed: bool) -> Check {
        Check {
            name,
            passed,
            detail: String::new(),
            spec: xaa_core::spec::Citation::of(&[xaa_core::spec::RFC7523_3_ITEM_1]),
        }
    }

    #[test]
    fn a_refusal_leads_with_the_failed_checks_and_the_rest_is_tallied() {
        let record = StepRecord {
            checks: vec![check("typ", true), check("aud", false), check("exp", true)],
            client_checks: vec![check("resource", false)],
            ..StepRecord::default()
        };
        let failed: Vec<&str> = record.failed_checks().iter().map(|c| c.name).collect();
        assert_eq!(failed, ["aud", "resource"], "the server's, then the explorer's");
        assert_eq!(record.server_tally(), "1 failed (above), 2 passed");
        assert_eq!(record.client_tally(), "1 failed (above)");
        let passed = StepRecord { checks: vec![check("typ", true), check("aud", true)], ..StepRecord::default() };
        assert!(passed.failed_checks().is_empty());
        assert_eq!(passed.server_tally(), "all 2 passed");
    }

    #[test]
    fn only_the_last_step_that_ran_is_open() {
        let mut chain = Chain::default();
        assert!(StepView::all(&chain).iter().all(|s| !s.latest), "nothing ran yet");
        chain.record(Step::SignIn, StepRecord::default());
        chain.record(Step::TokenExchange, StepRecord::default());
        let latest: Vec<bool> = StepView::all(&chain).iter().map(|s| s.latest).collect();
        assert_eq!(latest, [false, true, false, false]);
    }

    #[test]
    fn the_code_of_a_step_is_the_request_it_sent() {
        let urls = Urls {
            console: "http://console".into(),
            idp: "http://idp".into(),
            authorization_server: "http://as".into(),
            todo_api: "http://api".into(),
            notes: "http://notes".into(),
        };
        let mut lab = Chain::default();
        lab.offline = true;
        let step_1 = code(&urls, &lab, Sent::SignIn);
        assert_eq!(step_1.iter().map(|(lang, _)| *lang).collect::<Vec<_>>(), ["curl", "JavaScript", "Python", "Rust"]);
        assert!(step_1[0].1.contains("offline_access"), "{}", step_1[0].1);
        let (_, stats) = lab.target.call(&urls, "GET /api/todos/stats");
        assert!(code(&urls, &lab, Sent::Call(&stats))[0].1.contains("curl -s http://api/api/todos/stats"));
        let (_, mcp) = lab.target.call(&urls, "MCP: call list_todos");
        assert_eq!(code(&urls, &lab, Sent::Call(&mcp))[1].0, "Rust (rmcp)");
        let form =
            [("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer".to_owned()), ("assertion", "x".into())];
        let bearer = code(&urls, &lab, Sent::Grant(Grant::JwtBearer, "http://as/token", &form));
        assert!(bearer[0].1.contains("--data-urlencode \"assertion=$ID_JAG\""), "{}", bearer[0].1);
    }
}
