//! The explorer's state: one run of the chain per browser and target (the tokens each step got and
//! what each step showed), kept in a bounded store: past [`MAX_SESSIONS`] the chain saved longest
//! ago is forgotten, and only that one.

use std::collections::HashMap;
use std::sync::Mutex;

use super::ExplorerClient;
use super::acting_as::ActingAs;
use super::sign_in::Pending;
use super::step::{Step, StepRecord};
use super::subject_token::Subject;
use super::target::Target;

/// Explorer sessions kept at most (a workshop has tens of browsers).
const MAX_SESSIONS: usize = 1000;

/// One run of the chain.
#[derive(Clone, Debug, Default)]
pub(crate) struct Chain {
    /// What the steps run against; the lab's chain switches between its todo API and its MCP
    /// server at step 2.
    pub(crate) target: Target,
    pub(crate) email: String,
    /// What step 1's callback checks, from the sign-in until it comes back.
    pub(crate) pending: Option<Pending>,
    /// The authorization request step 1 sent the browser to.
    pub(crate) authorize: String,
    pub(crate) id_token: Option<String>,
    /// The IdP refresh token, when step 1 asked for `offline_access`.
    pub(crate) refresh_token: Option<String>,
    /// Step 1 asked for `offline_access`.
    pub(crate) offline: bool,
    /// Step 2's subject token.
    pub(crate) subject: Subject,
    pub(crate) id_jag: Option<String>,
    pub(crate) access_token: Option<String>,
    /// Step 4's last choice in the endpoint picker (empty: none yet).
    pub(crate) endpoint: String,
    /// The participant's app the lab's page runs as (none: `lab-explorer`); kept by new runs.
    pub(crate) acting_as: Option<ActingAs>,
    records: [Option<StepRecord>; 4],
}

impl Chain {
    /// A new chain against `target`: nothing run yet.
    pub(crate) fn new(target: Target) -> Self {
        Self { target, ..Self::default() }
    }

    /// A new run against `target`, as the same requestor as this one.
    pub(crate) fn anew(&self, target: Target) -> Self {
        Self { acting_as: self.acting_as.clone(), ..Self::new(target) }
    }

    /// The credentials the steps present on the lab's page: the participant's app's, or the
    /// lab's own requestor's (`lab`).
    pub(crate) fn credentials<'a>(&'a self, lab: &'a ExplorerClient) -> &'a ExplorerClient {
        self.acting_as.as_ref().map_or(lab, |a| &a.client)
    }

    /// Whether `step` can run: the step before it got the token it needs.
    pub(crate) fn can_run(&self, step: Step) -> bool {
        match step {
            Step::SignIn => true,
            Step::TokenExchange => self.id_token.is_some(),
            Step::JwtBearer => self.id_jag.is_some(),
            Step::Call => self.access_token.is_some(),
        }
    }

    /// What `step` showed when it last ran.
    pub(crate) fn record_of(&self, step: Step) -> Option<&StepRecord> {
        self.records[step as usize].as_ref()
    }

    /// Keeps what `step` showed, and forgets what the steps after it showed and got: a new ID
    /// token or ID-JAG makes the later tokens stale.
    pub(crate) fn record(&mut self, step: Step, record: StepRecord) {
        self.records[step as usize] = Some(record);
        for later in &mut self.records[step as usize + 1..] {
            *later = None;
        }
        if step < Step::TokenExchange {
            self.id_jag = None;
        }
        if step < Step::JwtBearer {
            self.access_token = None;
        }
    }
}

/// The explorer sessions of this console. A session id starts with the store's generation, a
/// random word drawn when the lab starts: an id from before a restart is told apart from one whose
/// chain was forgotten.
#[derive(Debug)]
pub(crate) struct Sessions {
    generation: String,
    inner: Mutex<Inner>,
}

impl Default for Sessions {
    fn default() -> Self {
        Self { generation: xaa_core::secret::random_token(8), inner: Mutex::default() }
    }
}

#[derive(Debug, Default)]
struct Inner {
    /// Session key → (when it was last saved, its chain).
    chains: HashMap<String, (u64, Chain)>,
    /// Increases with every save.
    saves: u64,
}

/// Why a browser's run is gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lost {
    /// Its session id is from before the lab restarted.
    Restarted,
    /// It posted a step of a run the store no longer holds (forgotten at capacity).
    Forgotten,
}

impl Lost {
    /// What the page says.
    pub(crate) fn text(self) -> &'static str {
        match self {
            Lost::Restarted => {
                "The lab restarted since this browser last ran the explorer, so the tokens of that run are gone (the explorer keeps them in memory only). Start again at step 1."
            }
            Lost::Forgotten => {
                "The explorer no longer holds this browser's run (it keeps the runs of the last 1,000 browsers, in memory), so its tokens are gone. Start again at step 1."
            }
        }
    }

    /// As a query parameter of the page (`?lost=…`), and back.
    pub(crate) fn param(self) -> &'static str {
        match self {
            Lost::Restarted => "restarted",
            Lost::Forgotten => "forgotten",
        }
    }

    pub(crate) fn from_param(value: &str) -> Option<Self> {
        [Lost::Restarted, Lost::Forgotten].into_iter().find(|l| l.param() == value)
    }
}

impl Sessions {
    /// A new session id of this store's generation.
    pub(super) fn new_id(&self) -> String {
        format!("{}.{}", self.generation, xaa_core::secret::random_token(24))
    }

    /// Whether `id` was issued since the lab started (else its chain died with the last run).
    pub(super) fn issued_here(&self, id: &str) -> bool {
        id.strip_prefix(self.generation.as_str()).is_some_and(|rest| rest.starts_with('.'))
    }

    /// The chain of session `id`.
    pub(super) fn get(&self, id: &str) -> Option<Chain> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.chains.get(id).map(|(_, chain)| chain.clone())
    }

    /// Saves the chain of session `id`; a new session at capacity evicts the least recently saved.
    pub(super) fn put(&self, id: String, chain: Chain) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.chains.len() >= MAX_SESSIONS && !inner.chains.contains_key(&id) {
            let oldest = inner.chains.iter().min_by_key(|(_, (saved, _))| *saved).map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                inner.chains.remove(&oldest);
            }
        }
        inner.saves += 1;
        let saved = inner.saves;
        inner.chains.insert(id, (saved, chain));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).chains.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(email: &str) -> Chain {
        Chain { email: email.to_owned(), ..Chain::default() }
    }

    #[test]
    fn at_capacity_only_the_least_recently_saved_chain_goes() {
        let sessions = Sessions::default();
        for i in 0..MAX_SESSIONS {
            sessions.put(format!("s{i}"), chain(&format!("u{i}")));
        }
        // s0 is used again, so s1 is now the one saved longest ago.
        sessions.put("s0".into(), chain("u0 again"));
        assert_eq!(sessions.len(), MAX_SESSIONS, "saving a known session evicts nothing");

        sessions.put("new".into(), chain("newcomer"));
        assert_eq!(sessions.len(), MAX_SESSIONS);
        assert!(sessions.get("s1").is_none(), "the oldest chain is forgotten");
        assert_eq!(sessions.get("s0").map(|c| c.email), Some("u0 again".to_owned()));
        assert_eq!(sessions.get("new").map(|c| c.email), Some("newcomer".to_owned()));
        for i in 2..MAX_SESSIONS {
            assert!(sessions.get(&format!("s{i}")).is_some(), "s{i} is kept");
        }
    }

    #[test]
    fn an_id_from_before_a_restart_is_told_apart() {
        let (before, now) = (Sessions::default(), Sessions::default());
        let id = now.new_id();
        assert!(now.issued_here(&id));
        assert!(!now.issued_here(&before.new_id()), "another generation");
        assert!(!now.issued_here("an-id-of-the-old-format"));
        assert!(!now.issued_here(&format!("{id}x")[..now.generation.len()]), "the generation alone");
        for lost in [Lost::Restarted, Lost::Forgotten] {
            assert_eq!(Lost::from_param(lost.param()), Some(lost));
        }
        assert_eq!(Lost::from_param("other"), None);
    }

    #[test]
    fn a_chain_keeps_its_refresh_token_like_its_other_tokens() {
        let sessions = Sessions::default();
        let kept = Chain { id_token: Some("id".into()), refresh_token: Some("rt".into()), offline: true, ..chain("a") };
        sessions.put("s".into(), kept);
        let got = sessions.get("s").expect("the chain");
        assert_eq!((got.id_token.as_deref(), got.refresh_token.as_deref()), (Some("id"), Some("rt")));
        assert!(got.offline);
    }

    fn shown(status: &str) -> StepRecord {
        StepRecord { status: status.to_owned(), ok: true, ..StepRecord::default() }
    }

    #[test]
    fn a_step_forgets_what_the_later_steps_showed_and_got() {
        let mut c = chain("a");
        // Each step gets its token, then is recorded, as the steps run.
        c.id_token = Some("id".into());
        c.record(Step::SignIn, shown("200 OK"));
        c.id_jag = Some("jag".into());
        c.record(Step::TokenExchange, shown("200 OK"));
        c.access_token = Some("at".into());
        c.record(Step::JwtBearer, shown("200 OK"));
        c.record(Step::Call, shown("200 OK"));
        assert!(Step::ALL.iter().all(|s| c.can_run(*s) && c.record_of(*s).is_some()));

        // A new ID-JAG: the access token and steps 3 and 4 go; steps 1 and 2 stay.
        c.record(Step::TokenExchange, shown("200 OK again"));
        assert_eq!(c.record_of(Step::TokenExchange).map(|r| r.status.as_str()), Some("200 OK again"));
        assert!(c.record_of(Step::SignIn).is_some());
        assert!(c.record_of(Step::JwtBearer).is_none() && c.record_of(Step::Call).is_none());
        assert_eq!((c.id_jag.as_deref(), c.access_token.as_deref()), (Some("jag"), None));
        assert!(!c.can_run(Step::Call));

        // A new sign-in: the ID-JAG goes too.
        c.record(Step::SignIn, shown("200 OK"));
        assert!(c.record_of(Step::TokenExchange).is_none());
        assert_eq!((c.id_token.as_deref(), c.id_jag.as_deref()), (Some("id"), None));
        assert!(c.can_run(Step::TokenExchange) && !c.can_run(Step::JwtBearer));
    }
}
