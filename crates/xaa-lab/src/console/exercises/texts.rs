//! The exercises' texts: one per break-it switch, keyed by [`Fault`], and one for a resource's
//! ID-JAG re-use policy (lab decision A2): what to predict, which step to run, the exact check
//! that refuses (as the servers name it) and the attack it stops. A unit test holds them to the
//! switches that exist.

use xaa_core::spec::{self, Citation};
use xaa_faults::Fault;

use super::prediction::Outcome;

/// What an exercise has the participant change before running its step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lever {
    /// A break-it switch.
    Switch(Fault),
    /// A resource's ID-JAG re-use policy, which IT sets on the admin page (lab decision A2).
    ReusePolicy,
}

impl Lever {
    /// Its name in the exercise's URL: the switch's name, or `id-jag-reuse`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Switch(fault) => fault.name(),
            Self::ReusePolicy => "id-jag-reuse",
        }
    }

    /// The lever named `name`.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        match name {
            "id-jag-reuse" => Some(Self::ReusePolicy),
            _ => Fault::from_name(name).map(Self::Switch),
        }
    }

    /// The break-it switch, when it is one.
    pub(crate) fn fault(self) -> Option<Fault> {
        match self {
            Self::Switch(fault) => Some(fault),
            Self::ReusePolicy => None,
        }
    }

    /// The component it changes.
    pub(crate) fn component(self) -> &'static str {
        match self {
            Self::Switch(fault) => fault.component(),
            Self::ReusePolicy => "resource AS",
        }
    }

    /// What it does.
    pub(crate) fn effect(self) -> &'static str {
        match self {
            Self::Switch(fault) => fault.effect(),
            Self::ReusePolicy => {
                "each resource accepts an ID-JAG once (single use, the default), or again from the same client until its exp (re-usable until exp), as IT sets it"
            }
        }
    }
}

/// One "predict, run, explain" exercise.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Exercise {
    /// What the participant changes.
    pub(crate) lever: Lever,
    pub(crate) title: &'static str,
    /// The explorer step to run (1 sign-in, 2 token exchange, 3 jwt-bearer, 4 todo API).
    pub(crate) step: u8,
    /// What the participant should expect, before running it.
    pub(crate) predict: &'static str,
    /// The failed check's name, as the trace and the explorer show it.
    pub(crate) check: &'static str,
    /// Who runs the check.
    pub(crate) checked_by: &'static str,
    /// What the requestor receives: the status and the OAuth error (or the requestor's verdict).
    pub(crate) answer: &'static str,
    /// That answer among the prediction's choices (the re-use exercise: single use's refusal).
    pub(crate) outcome: Outcome,
    /// The description exactly as it arrives (`error_description`, or the requestor's own check),
    /// with `…` for the parts that differ per request; empty when there is none.
    pub(crate) description: &'static str,
    /// What the refusal cites, sent after the description (as ` (…)`), if anything.
    pub(crate) cites: Option<Citation>,
    /// The attack the check stops (or, for switches about failure handling, the lesson).
    pub(crate) attack: &'static str,
    /// What a requestor must do about it.
    pub(crate) explain: &'static str,
}

impl Exercise {
    /// The `error_description` as the server sends it: the description, then what it cites (an
    /// OAuth error's in the wire's ASCII, `§` as `Section`; the todo API's JSON body, step 4, as is).
    pub(crate) fn expected_description(&self) -> String {
        match self.cites {
            Some(cites) if self.step == 4 => format!("{} ({cites})", self.description),
            Some(cites) => format!("{} ({})", self.description, xaa_core::oauth::wire_safe(&cites.to_string())),
            None => self.description.to_owned(),
        }
    }
}

/// Every exercise: one per switch, in the order of [`Fault::ALL`], then the re-use policy's.
pub(crate) const EXERCISES: [Exercise; 12] = [
    Exercise {
        lever: Lever::Switch(Fault::IdJagExpired),
        title: "An expired ID-JAG",
        step: 3,
        predict: "Step 2 still succeeds: the IdP hands out an ID-JAG as usual. Step 3 fails: the authorization server refuses the assertion. Look at the ID-JAG's exp in step 2 before you run step 3.",
        check: "exp",
        checked_by: "resource AS",
        answer: "400 invalid_grant",
        outcome: Outcome::InvalidGrant,
        description: "the ID-JAG expired at …, 120 s ago (now …, leeway 60 s)",
        cites: Some(Citation::of(&[spec::RFC7523_3_ITEM_4, spec::RFC7519_4_1_4])),
        attack: "Stolen-token reuse: an ID-JAG copied from a log, a proxy or a crash report is worth something only for its few minutes of life. Without exp, a leaked assertion would buy access tokens forever.",
        explain: "A requestor never caches an ID-JAG: it exchanges a fresh one right before the jwt-bearer grant. On invalid_grant it goes back to step 2, not to the user.",
    },
    Exercise {
        lever: Lever::Switch(Fault::IdJagWrongTyp),
        title: "An ID-JAG with the wrong typ",
        step: 3,
        predict: "Step 2 succeeds, but the ID-JAG's header says typ JWT. Step 3 fails before the signature is even looked at.",
        check: "typ",
        checked_by: "resource AS",
        answer: "400 invalid_grant",
        outcome: Outcome::InvalidGrant,
        description: "the assertion header typ is 'JWT' (…); an ID-JAG must have typ 'oauth-id-jag+jwt'",
        cites: None,
        attack: "Token confusion: the IdP signs ID tokens, logout tokens and ID-JAGs with the same key. Without an explicit typ, an ID token (or any other JWT from the IdP) with the right claims could be presented as an ID-JAG (RFC 8725, Use Explicit Typing).",
        explain: "Nothing for the requestor to fix: this is the IdP's bug, and the AS is right to refuse. Report it; never strip or rewrite a token's header.",
    },
    Exercise {
        lever: Lever::Switch(Fault::IdJagWrongAud),
        title: "An ID-JAG for the wrong audience",
        step: 3,
        predict: "The ID-JAG of step 2 names the todo API as aud instead of the authorization server. The authorization server refuses it in step 3.",
        check: "aud",
        checked_by: "resource AS",
        answer: "400 invalid_grant",
        outcome: Outcome::InvalidGrant,
        description: "the ID-JAG aud is '…'; it must be '…' (a string, or an array of exactly that one value)",
        cites: None,
        attack: "Mix-up: an assertion minted for one recipient must not be accepted by another. Without aud, an ID-JAG for a malicious or compromised authorization server could be replayed at this one.",
        explain: "The requestor asks for audience = the authorization server's issuer (not the resource) in step 2; the IdP must copy it into aud.",
    },
    Exercise {
        lever: Lever::Switch(Fault::IdJagForeignClientId),
        title: "An ID-JAG issued to another client",
        step: 3,
        predict: "The ID-JAG of step 2 carries another client's client_id. Step 3 authenticates with your credentials, so the authorization server refuses it.",
        check: "client_id",
        checked_by: "resource AS",
        answer: "400 invalid_grant",
        outcome: Outcome::InvalidGrant,
        description: "the ID-JAG was issued for client_id '…' but the request authenticated as '…'",
        cites: None,
        attack: "Stolen-assertion use by another app: an ID-JAG is bound to the client it was issued for, so an app that steals (or is handed) another app's ID-JAG cannot redeem it with its own credentials.",
        explain: "The requestor presents its own ID-JAGs only, with its own resource-AS credentials. Each app has its own client at the AS.",
    },
    Exercise {
        lever: Lever::Switch(Fault::IdJagUntrustedKey),
        title: "An ID-JAG signed with an unknown key",
        step: 3,
        predict: "The ID-JAG of step 2 names kid untrusted-demo, a key the IdP never published. In step 3 the authorization server refetches the IdP's JWKS once, does not find it, and refuses.",
        check: "kid",
        checked_by: "resource AS",
        answer: "400 invalid_grant",
        outcome: Outcome::InvalidGrant,
        description: "no key with kid 'untrusted-demo' in the JWKS of '…' (refetched once)",
        cites: Some(Citation::of(&[spec::LAB_A13, spec::RFC7515_4_1_4, spec::RFC8725_3_10])),
        attack: "Key substitution: anyone can sign a token with a key of their own and name it in the header. The signature is only worth something if the key comes from the trusted issuer's JWKS (never from the token itself: no jwk, no jku), so the signature check never even runs here.",
        explain: "The AS looks keys up by kid in the trusted issuer's JWKS and refetches once on an unknown kid (that is how key rotation works; try Rotate the IdP key on the admin page and run step 3 again).",
    },
    Exercise {
        lever: Lever::Switch(Fault::ExchangeWrongResource),
        title: "A token-exchange response for a resource you did not ask for",
        step: 2,
        predict: "Step 2 answers 200 with an ID-JAG, but the response's resource member names https://api.not-asked-for.example. The explorer discards the ID-JAG, so step 3 cannot run.",
        check: "resource",
        checked_by: "the requestor (the explorer's own check)",
        answer: "200, then the requestor discards the ID-JAG",
        outcome: Outcome::Discarded,
        description: "the response names resource \"https://api.not-asked-for.example\", which was not asked for (asked for: …); the token must not be used",
        cites: None,
        attack: "Resource mix-up: a requestor that uses whatever token comes back may send it to the wrong place, or believe it has access it does not. The token is sound; only the requestor's comparison catches this.",
        explain: "After every token response, compare a resource member with the resources you asked for; if it names another, discard the token unused.",
    },
    Exercise {
        lever: Lever::Switch(Fault::RefuseNextGrant),
        title: "The authorization server refuses one grant",
        step: 3,
        predict: "Step 3 fails once with invalid_grant, and the switch turns itself off. Run step 2 and step 3 again: it works. Then run step 3 once more with the same ID-JAG: it fails again, for another reason (unless IT let the todo API accept an ID-JAG again).",
        check: "break-it switch",
        checked_by: "resource AS",
        answer: "400 invalid_grant; the replayed ID-JAG then gets 400 invalid_grant from check jti (the ID-JAG with jti … was already used: the todo API is single use, the lab's default)",
        outcome: Outcome::InvalidGrant,
        description: "refused on purpose: the lab's break-it switch 'refuse-next-grant' was on (it is off now; retry)",
        cites: Some(Citation::of(&[spec::BREAK_IT])),
        attack: "Replay (the second refusal): under the lab's default, single use (lab decision A2, as the MCP profile requires), the jti check accepts each ID-JAG once, so one intercepted in transit cannot be redeemed again after the requestor used it. Draft-04 would let a resource accept it again until exp: see the exercise on ID-JAG re-use.",
        explain: "On invalid_grant a requestor gets a fresh ID-JAG (step 2) and tries once more; it does not resend the same ID-JAG (a resource may accept each only once) and never loops.",
    },
    Exercise {
        lever: Lever::Switch(Fault::GrantWrongResource),
        title: "A jwt-bearer response for a resource you did not ask for",
        step: 3,
        predict: "Step 3 answers 200 with an access token, but the response's resource member names https://api.not-asked-for.example. The explorer discards the token, so step 4 cannot run.",
        check: "resource",
        checked_by: "the requestor (the explorer's own check)",
        answer: "200, then the requestor discards the access token",
        outcome: Outcome::Discarded,
        description: "the response names resource \"https://api.not-asked-for.example\", which was not asked for (asked for: …); the token must not be used",
        cites: None,
        attack: "Resource mix-up at the authorization server: only the requestor can notice that the token it got is not for the API it is about to call.",
        explain: "Compare the resource member of the jwt-bearer response too, and discard a token for a resource you did not ask for.",
    },
    Exercise {
        lever: Lever::Switch(Fault::TodoApiUnavailable),
        title: "The todo API is down",
        step: 4,
        predict: "Steps 1 to 3 work; step 4 answers 503 with Retry-After: 30. No token check fails: the tokens are fine.",
        check: "none (503 temporarily_unavailable)",
        checked_by: "todo API",
        answer: "503 temporarily_unavailable, with Retry-After: 30",
        outcome: Outcome::TemporarilyUnavailable,
        description: "",
        cites: None,
        attack: "No attack: this exercise is about failure handling. A requestor that treats every error as an auth error throws away good tokens and hammers the IdP with exchanges.",
        explain: "Keep the access token, honour Retry-After, and tell the user the service is unavailable; only a 401 invalid_token means getting a new token.",
    },
    Exercise {
        lever: Lever::Switch(Fault::TodoApiSlow),
        title: "The todo API is slow",
        step: 4,
        predict: "Step 4 answers 200, but only after the delay you set on the admin page (2000 ms by default). Compare the durations in the live trace.",
        check: "none (the answer is late, not wrong)",
        checked_by: "todo API",
        answer: "200, after delay_ms",
        outcome: Outcome::Late,
        description: "",
        cites: None,
        attack: "No attack: a requestor without timeouts hangs with the API and ties up its own workers.",
        explain: "Give every outbound call a timeout and show the user that the data is on its way (or stale).",
    },
    Exercise {
        lever: Lever::Switch(Fault::ShortLifetimes),
        title: "Tokens that live 30 seconds",
        step: 4,
        predict: "Run all four steps: every token response says expires_in 30. Then move the lab clock forward 5 minutes on the admin page and run step 4 again with the same access token: the API refuses it.",
        check: "exp",
        checked_by: "todo API",
        answer: "401 invalid_token",
        outcome: Outcome::InvalidToken,
        description: "the access token expired at …, … s ago (now …, leeway 60 s)",
        cites: Some(Citation::of(&[spec::RFC9068_4])),
        attack: "Stolen-token reuse: a short-lived access token limits what a leaked one is worth. The lab clock lets you see expiry without waiting.",
        explain: "Cache the access token only until shortly before expires_in, then run steps 2 and 3 again; on 401 invalid_token, do the same once.",
    },
    Exercise {
        lever: Lever::ReusePolicy,
        title: "The same ID-JAG twice: single use, then re-use until exp",
        step: 3,
        predict: "Under single use (the lab's default), step 3 run twice with the same ID-JAG answers 200, then 400 invalid_grant from the jti check. After IT allows re-use for the todo API, that ID-JAG stays used (it was first used under single use): get a fresh one in step 2, then run step 3 twice: 200 twice, two different access tokens, and the jti check says it was a re-submission. Move the lab clock past the ID-JAG's lifetime (+6 min 1 s: 300 s and the 60 s leeway) and run step 3 once more: the exp check refuses it.",
        check: "jti",
        checked_by: "resource AS",
        answer: "single use: 200, then 400 invalid_grant; re-usable until exp: 200 and 200 (a fresh access token each time), then 400 invalid_grant from exp once the ID-JAG has expired",
        outcome: Outcome::InvalidGrant,
        description: "the ID-JAG with jti '…' was already used; this authorization server accepts each ID-JAG once",
        cites: Some(Citation::of(&[spec::LAB_A2, spec::MCP_SINGLE_USE, spec::RFC7523_3_ITEM_7])),
        attack: "Replay: under single use, an ID-JAG copied in transit or from a log cannot buy another access token once the requestor used it. Re-use until exp trades that for fewer trips to the IdP: draft-04 lets a client re-submit the ID-JAG when its access token expires, the MCP profile requires refusing a replayed one. So single use is the lab's default (lab decision A2), and its MCP server is always single use.",
        explain: "Get a fresh ID-JAG for each access token (as Lab Notes does) and a requestor works under either policy; one that re-submits must go back to step 2 on invalid_grant from jti. Set the todo API back to single use on the admin page when you are done.",
    },
];

/// The re-use exercise's other outcome: the detail of the `jti` check that passes a re-submission
/// where the resource allows re-use, as the explorer lists it (`…` differs per request).
pub(crate) const RESUBMITTED: &str =
    "re-submission of the ID-JAG with jti \"…\", allowed by this resource's policy (re-usable until exp)";
/// What that check cites.
pub(crate) const RESUBMITTED_CITES: Citation = Citation::of(&[spec::LAB_A2, spec::IDJAG_4_4_3]);
/// What the re-use policy rests on, each shown with its level and why: the lab's decision, the MCP
/// profile's rule that keeps its MCP server single use, and the draft's permission to re-submit.
pub(crate) const REUSE_RESTS_ON: Citation = Citation::of(&[spec::LAB_A2, spec::MCP_SINGLE_USE, spec::IDJAG_4_4_3]);

/// The exercise of `lever`.
pub(crate) fn exercise(lever: Lever) -> Option<&'static Exercise> {
    EXERCISES.iter().find(|e| e.lever == lever)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_switch_and_the_re_use_policy_have_exactly_one_exercise() {
        let levers = Fault::ALL.into_iter().map(Lever::Switch).chain([Lever::ReusePolicy]);
        for lever in levers {
            let n = EXERCISES.iter().filter(|e| e.lever == lever).count();
            assert_eq!(n, 1, "{} has {n} exercises", lever.name());
            assert_eq!(Lever::from_name(lever.name()), Some(lever), "{} names it alone", lever.name());
        }
        for e in &EXERCISES {
            assert!((1..=4).contains(&e.step), "{}: step {}", e.title, e.step);
            assert!(!e.predict.is_empty() && !e.check.is_empty() && !e.attack.is_empty());
        }
        assert_eq!(EXERCISES.len(), Fault::ALL.len() + 1);
        // The choice that counts as right is the one the answer names.
        for e in &EXERCISES {
            let (status, error) = e.outcome.value().split_once('-').unwrap_or((e.outcome.value(), ""));
            let error = if error.contains('_') { error } else { "" };
            assert!(
                e.answer.contains(status) && e.answer.contains(error),
                "{}: {:?} for {}",
                e.title,
                e.outcome,
                e.answer
            );
        }
        assert_eq!(Lever::from_name("break-everything"), None);
    }
}
