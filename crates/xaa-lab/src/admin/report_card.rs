//! The requestor report card: what each client does right or wrong, read from its real traffic
//! as the lab's recorder sees it (the six habits a workshop teacher watches).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use xaa_core::spec::{self, Citation};

use crate::observe::trace::{Direction, TraceEvent};
use serde::Serialize;
use serde_json::Value;
use xaa_core::ids::{ClientId, Issuer};
use xaa_core::urn;
use xaa_idp::IdpState;

/// One habit on the card.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Item {
    Pkce,
    AudienceAndResource,
    TokenTypes,
    ResourceCredentials,
    SingleUse,
    HandlesNA,
}

impl Item {
    pub(crate) const ALL: [Item; 6] = [
        Item::Pkce,
        Item::AudienceAndResource,
        Item::TokenTypes,
        Item::ResourceCredentials,
        Item::SingleUse,
        Item::HandlesNA,
    ];

    pub(crate) fn title(self) -> &'static str {
        match self {
            Item::Pkce => "Signs users in with PKCE (S256)",
            Item::AudienceAndResource => "Token exchange: audience = the AS issuer, and a resource",
            Item::TokenTypes => "Token exchange: the right token types",
            Item::ResourceCredentials => "jwt-bearer: authenticates with its resource-AS credentials",
            Item::SingleUse => "Gets a fresh ID-JAG for each access token",
            Item::HandlesNA => "Handles token_type N_A (an ID-JAG is not an access token)",
        }
    }

    pub(crate) fn spec(self) -> Citation {
        match self {
            Item::Pkce => Citation::of(&[spec::RFC7636_4, spec::RFC9700_2_1_1]),
            Item::AudienceAndResource => Citation::of(&[spec::IDJAG_4_3, spec::RFC8707_2]),
            Item::TokenTypes => Citation::of(&[spec::IDJAG_4_3, spec::RFC8693_2_1]),
            Item::ResourceCredentials => Citation::of(&[spec::IDJAG_4_4, spec::RFC6749_2_3]),
            Item::SingleUse => Citation::of(&[spec::LAB_A2, spec::MCP_SINGLE_USE, spec::IDJAG_4_4_3]),
            Item::HandlesNA => Citation::of(&[spec::IDJAG_4_3_4, spec::RFC8693_2_2_1]),
        }
    }

    pub(crate) fn hint(self) -> &'static str {
        match self {
            Item::Pkce => {
                "send code_challenge (BASE64URL(SHA-256(code_verifier))) with code_challenge_method=S256 to /authorize, and the code_verifier to /token"
            }
            Item::AudienceAndResource => {
                "audience must be the resource AS issuer exactly (AUTH_SERVER_URL), not its token endpoint or the API; resource is the API (TODO_RESOURCE_SERVER)"
            }
            Item::TokenTypes => {
                "requested_token_type=urn:ietf:params:oauth:token-type:id-jag and subject_token_type=urn:ietf:params:oauth:token-type:id_token"
            }
            Item::ResourceCredentials => {
                "at the resource AS, authenticate as RESOURCE_CLIENT_ID / RESOURCE_CLIENT_SECRET, not with the IdP client"
            }
            Item::SingleUse => {
                "exchange the ID token for a new ID-JAG each time: the draft lets a client re-submit one (Refresh Token, -04 4.4.3), but this lab's resources accept each ID-JAG once by default (lab decision A2, as the MCP profile requires)"
            }
            Item::HandlesNA => {
                "token_type N_A means the ID-JAG is not an access token: send it as the jwt-bearer assertion, then call the API with the access token you get back"
            }
        }
    }
}

/// What was seen of one habit.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct Observation {
    /// `passed`, `failed` or `not yet seen` (the latest observation wins).
    pub(crate) status: &'static str,
    pub(crate) passed: u32,
    pub(crate) failed: u32,
    /// What the last observation was.
    pub(crate) evidence: String,
    pub(crate) flow: u64,
}

/// One requestor's card.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Card {
    pub(crate) client_id: String,
    pub(crate) items: Vec<CardItem>,
}

/// An item with its observation, ready to show.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct CardItem {
    pub(crate) item: Item,
    pub(crate) title: &'static str,
    pub(crate) spec: Citation,
    /// The citation's level and the decision it rests on, for the JSON (`level`, `decision`).
    #[serde(flatten)]
    pub(crate) labels: spec::Labels,
    pub(crate) hint: &'static str,
    #[serde(flatten)]
    pub(crate) seen: Observation,
}

/// How far a requestor got: the last XAA step it reached and its last refusal.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct Progress {
    /// The last step (`code grant`, `token exchange`, `jwt-bearer`, `todo API`) with its status.
    pub(crate) last: Option<StepSeen>,
    /// The last refused step, with the failed check.
    pub(crate) refusal: Option<StepSeen>,
}

/// One step as the teacher sees it.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct StepSeen {
    pub(crate) step: String,
    pub(crate) status: u16,
    /// The OAuth error, if any.
    pub(crate) error: String,
    /// The failed check's name, if a check failed.
    pub(crate) check: String,
    pub(crate) flow: u64,
}

/// Every client's card, fed by the recorder.
#[derive(Debug)]
pub(crate) struct ReportCards {
    idp: Arc<IdpState>,
    authorization_servers: Vec<Issuer>,
    cards: Mutex<HashMap<String, HashMap<Item, Observation>>>,
    progress: Mutex<HashMap<String, Progress>>,
    /// The requestor (IdP client id) whose card or progress just changed.
    changed: tokio::sync::broadcast::Sender<String>,
}

/// The steps whose outcome is a requestor's progress.
pub(crate) const KEY_STEPS: [&str; 4] = ["code grant", "token exchange", "jwt-bearer", "todo API"];

impl ReportCards {
    pub(crate) fn new(idp: Arc<IdpState>, authorization_servers: Vec<Issuer>) -> Self {
        Self {
            idp,
            authorization_servers,
            cards: Mutex::new(HashMap::new()),
            progress: Mutex::new(HashMap::new()),
            changed: tokio::sync::broadcast::channel(1024).0,
        }
    }

    /// The requestors whose card or progress changes, as they change.
    pub(crate) fn subscribe(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.changed.subscribe()
    }

    /// How far `client_id` (an IdP client id) got.
    pub(crate) fn progress(&self, client_id: &str) -> Progress {
        self.progress.lock().unwrap_or_else(|p| p.into_inner()).get(client_id).cloned().unwrap_or_default()
    }

    /// Notes a key step's outcome.
    fn step(&self, owner: &str, e: &TraceEvent) {
        let Some(status) = e.status else { return };
        let seen = StepSeen {
            step: e.step.clone(),
            status,
            error: e.response.as_ref().and_then(|r| r.get("error")).and_then(Value::as_str).unwrap_or("").to_owned(),
            check: e.checks.iter().find(|c| !c.passed).map(|c| c.name.to_owned()).unwrap_or_default(),
            flow: e.flow,
        };
        let mut all = self.progress.lock().unwrap_or_else(|p| p.into_inner());
        let p = all.entry(owner.to_owned()).or_default();
        if status >= 400 {
            p.refusal = Some(seen.clone());
        }
        p.last = Some(seen);
    }

    /// Forgets every observation and every progress row (the lab's reset), telling the room.
    pub(crate) fn clear(&self) {
        let mut cleared: Vec<String> =
            self.cards.lock().unwrap_or_else(|p| p.into_inner()).drain().map(|(k, _)| k).collect();
        cleared.extend(self.progress.lock().unwrap_or_else(|p| p.into_inner()).drain().map(|(k, _)| k));
        cleared.sort();
        cleared.dedup();
        for client in cleared {
            let _ = self.changed.send(client);
        }
    }

    /// The card of `client_id` (an IdP client id).
    pub(crate) fn card(&self, client_id: &str) -> Card {
        let cards = self.cards.lock().unwrap_or_else(|p| p.into_inner());
        let seen = cards.get(client_id);
        Card {
            client_id: client_id.to_owned(),
            items: Item::ALL
                .into_iter()
                .map(|item| CardItem {
                    item,
                    title: item.title(),
                    spec: item.spec(),
                    labels: item.spec().labels(),
                    hint: item.hint(),
                    seen: seen
                        .and_then(|s| s.get(&item).cloned())
                        .unwrap_or(Observation { status: "not yet seen", ..Default::default() }),
                })
                .collect(),
        }
    }

    /// Reads one received request.
    pub(crate) fn observe(&self, e: &TraceEvent) {
        if e.direction != Direction::Received {
            return;
        }
        let Some(owner) = e.client_id.as_deref().map(|c| self.owner(c)) else { return };
        let note = |item: Item, ok: bool, evidence: String| self.note(&owner, item, ok, evidence, e.flow);
        if KEY_STEPS.contains(&e.step.as_str()) {
            self.step(&owner, e);
        }
        self.habits(e, note);
        let _ = self.changed.send(owner);
    }

    /// The habits one received request shows.
    fn habits(&self, e: &TraceEvent, note: impl Fn(Item, bool, String)) {
        let param = |name: &str| e.request.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let failed_check = |name: &str| e.checks.iter().any(|c| c.name == name && !c.passed);
        let passed_check = |name: &str| e.checks.iter().any(|c| c.name == name && c.passed);
        match e.step.as_str() {
            "login" if e.target.ends_with("/authorize") => {
                let method = param("code_challenge_method");
                let ok = param("code_challenge").is_some() && method == Some("S256");
                let what = match (param("code_challenge"), method) {
                    (None, _) => "no code_challenge".to_owned(),
                    (Some(_), m) => format!("code_challenge_method {}", m.unwrap_or("(absent, plain)")),
                };
                note(Item::Pkce, ok, format!("/authorize with {what}"));
            }
            // A request whose client failed authentication proves nothing about the client it named.
            "token exchange" if failed_check("client") => {}
            "token exchange" => {
                let audience = param("audience");
                let resource = param("resource");
                let ok =
                    audience.is_some_and(|a| self.authorization_servers.iter().any(|s| s == a)) && resource.is_some();
                note(
                    Item::AudienceAndResource,
                    ok,
                    format!(
                        "audience {}, resource {}",
                        audience.map(|a| format!("\"{a}\"")).unwrap_or("missing".into()),
                        resource.map(|r| format!("\"{r}\"")).unwrap_or("missing".into())
                    ),
                );
                let requested = param("requested_token_type");
                let subject = param("subject_token_type");
                let ok = requested == Some(urn::TOKEN_TYPE_ID_JAG) && subject == Some(urn::TOKEN_TYPE_ID_TOKEN);
                note(
                    Item::TokenTypes,
                    ok,
                    format!(
                        "requested_token_type {}, subject_token_type {}",
                        requested.unwrap_or("missing"),
                        subject.unwrap_or("missing")
                    ),
                );
            }
            "jwt-bearer" => {
                if failed_check("client") {
                    note(
                        Item::ResourceCredentials,
                        false,
                        "the AS refused the client credentials (invalid_client)".into(),
                    );
                } else if failed_check("client_id") {
                    note(
                        Item::ResourceCredentials,
                        false,
                        "authenticated as a client other than the ID-JAG's client_id".into(),
                    );
                } else if passed_check("client_id") {
                    note(Item::ResourceCredentials, true, "authenticated as the ID-JAG's client_id".into());
                }
                // A re-submission the resource allows (lab decision A2) is not a fresh ID-JAG, nor a
                // mistake: single use is left as it was.
                let resubmitted = e
                    .checks
                    .iter()
                    .any(|c| c.name == "jti" && c.passed && c.detail.starts_with(xaa_resource_as::RESUBMISSION));
                if failed_check("jti") {
                    note(Item::SingleUse, false, "presented an ID-JAG that was already used".into());
                } else if passed_check("jti") {
                    if !resubmitted {
                        note(Item::SingleUse, true, "a fresh ID-JAG".into());
                    }
                    note(Item::HandlesNA, true, "sent the ID-JAG as the jwt-bearer assertion".into());
                }
            }
            "todo API" => {
                let typ = e
                    .tokens
                    .iter()
                    .find(|t| t.field == "authorization")
                    .and_then(|t| t.header.get("typ"))
                    .and_then(Value::as_str);
                if typ.is_some_and(|t| t.eq_ignore_ascii_case(urn::TYP_ID_JAG)) {
                    note(Item::HandlesNA, false, "called the API with the ID-JAG as a bearer token".into());
                }
            }
            _ => {}
        }
    }

    /// The IdP client a client id belongs to (resource-AS ids map through the connections).
    fn owner(&self, client_id: &str) -> String {
        self.idp.requestor_of(client_id).map_or_else(|| client_id.to_owned(), ClientId::into_string)
    }

    fn note(&self, owner: &str, item: Item, ok: bool, evidence: String, flow: u64) {
        let mut cards = self.cards.lock().unwrap_or_else(|p| p.into_inner());
        let o = cards.entry(owner.to_owned()).or_default().entry(item).or_default();
        o.status = if ok { "passed" } else { "failed" };
        if ok {
            o.passed += 1;
        } else {
            o.failed += 1;
        }
        o.evidence = evidence;
        o.flow = flow;
    }
}
