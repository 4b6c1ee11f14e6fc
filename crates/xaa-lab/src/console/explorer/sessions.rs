//! The explorer's chains, one per browser (cookie), bounded: past [`MAX_SESSIONS`] the chain saved
//! longest ago is forgotten, and only that one.

use std::collections::HashMap;
use std::sync::Mutex;

use super::Chain;

/// Explorer sessions kept at most (a workshop has tens of browsers).
const MAX_SESSIONS: usize = 1000;

/// The explorer sessions of this console.
#[derive(Debug, Default)]
pub(crate) struct Sessions(Mutex<Inner>);

#[derive(Debug, Default)]
struct Inner {
    /// Session id → (when it was last saved, its chain).
    chains: HashMap<String, (u64, Chain)>,
    /// Increases with every save.
    saves: u64,
}

impl Sessions {
    /// The chain of session `id`.
    pub(super) fn get(&self, id: &str) -> Option<Chain> {
        let inner = self.0.lock().unwrap_or_else(|p| p.into_inner());
        inner.chains.get(id).map(|(_, chain)| chain.clone())
    }

    /// Saves the chain of session `id`; a new session at capacity evicts the least recently saved.
    pub(super) fn put(&self, id: String, chain: Chain) {
        let mut inner = self.0.lock().unwrap_or_else(|p| p.into_inner());
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
        self.0.lock().unwrap_or_else(|p| p.into_inner()).chains.len()
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
    fn a_chain_keeps_its_refresh_token_like_its_other_tokens() {
        let sessions = Sessions::default();
        let kept = Chain { id_token: Some("id".into()), refresh_token: Some("rt".into()), offline: true, ..chain("a") };
        sessions.put("s".into(), kept);
        let got = sessions.get("s").expect("the chain");
        assert_eq!((got.id_token.as_deref(), got.refresh_token.as_deref()), (Some("id"), Some("rt")));
        assert!(got.offline);
    }
}
