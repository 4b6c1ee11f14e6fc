//! The IdP's signing keys and their rotation: a new key signs from the moment it is added; the
//! previous one stays in the JWKS until every token it signed has expired (checklist §7,
//! RFC 8725 §3.10), so relying parties that refetch on an unknown `kid` never miss a key.
//!
//! The lab clock moves both ways, so a retired key is never forgotten because the clock once
//! passed its time: it is published whenever the lab clock stands before it (moving the clock
//! back to the wall clock brings back the key its live tokens need). The newest
//! [`MAX_RETIRED`] retired keys are kept while the lab runs.

use std::sync::{Arc, OnceLock, RwLock};

use serde::Serialize;
use xaa_core::jose::{KeySet, SigningKey};

/// The signing key and the retired keys still published.
#[derive(Debug)]
pub(crate) struct IdpKeys {
    inner: RwLock<Inner>,
    untrusted: OnceLock<Option<SigningKey>>,
}

/// How many retired keys the IdP remembers (the oldest is forgotten past it).
pub(crate) const MAX_RETIRED: usize = 32;

#[derive(Debug)]
struct Inner {
    current: Arc<SigningKey>,
    /// Retired keys (oldest first) with the lab time until which they are published.
    retired: Vec<(Arc<SigningKey>, i64)>,
    /// Which retired keys `published` holds.
    shown: Vec<bool>,
    /// The published set, built once per change (every token exchange reads it).
    published: Arc<KeySet>,
}

impl Inner {
    fn new(current: Arc<SigningKey>, retired: Vec<(Arc<SigningKey>, i64)>, now: i64) -> Self {
        let shown = visible(&retired, now);
        let published = Arc::new(KeySet::from_signing_keys(
            std::iter::once(current.as_ref())
                .chain(retired.iter().zip(&shown).filter(|(_, s)| **s).map(|((k, _), _)| k.as_ref())),
        ));
        Self { current, retired, shown, published }
    }
}

/// Which retired keys are published at `now`.
fn visible(retired: &[(Arc<SigningKey>, i64)], now: i64) -> Vec<bool> {
    retired.iter().map(|(_, until)| *until > now).collect()
}

/// What a rotation did.
#[derive(Clone, Debug, Serialize)]
pub struct Rotation {
    /// The new signing key's id.
    pub kid: String,
    /// The previous key's id.
    pub previous_kid: String,
    /// Until when (NumericDate) the previous key stays in the JWKS.
    pub previous_published_until: i64,
}

/// A key published in the JWKS.
#[derive(Clone, Debug, Serialize)]
pub struct PublishedKey {
    /// Its `kid`.
    pub kid: String,
    /// Whether it signs new tokens.
    pub signing: bool,
    /// For a retired key: until when it stays published.
    pub until: Option<i64>,
}

/// A key no JWKS publishes, for the "untrusted key" break-it switch. Lab-only.
const UNTRUSTED_PEM: &str = include_str!("untrusted-key.pem");

impl IdpKeys {
    pub(crate) fn new(key: SigningKey) -> Self {
        Self { inner: RwLock::new(Inner::new(Arc::new(key), Vec::new(), 0)), untrusted: OnceLock::new() }
    }

    /// The key that signs new tokens.
    pub(crate) fn signing(&self) -> Arc<SigningKey> {
        match self.inner.read() {
            Ok(i) => i.current.clone(),
            Err(p) => p.into_inner().current.clone(),
        }
    }

    /// The key outside every JWKS (`kid` `untrusted-demo`).
    pub(crate) fn untrusted(&self) -> Option<&SigningKey> {
        self.untrusted.get_or_init(|| SigningKey::from_pem("untrusted-demo", UNTRUSTED_PEM).ok()).as_ref()
    }

    /// Every key published at `now` (a retired key is not while its tokens have expired).
    pub(crate) fn published(&self, now: i64) -> Arc<KeySet> {
        {
            let i = self.inner.read().unwrap_or_else(|p| p.into_inner());
            // Compared without allocating: every token exchange and JWKS read passes here.
            if i.retired.len() == i.shown.len()
                && i.retired.iter().zip(&i.shown).all(|((_, until), s)| (*until > now) == *s)
            {
                return i.published.clone();
            }
        }
        let mut i = self.inner.write().unwrap_or_else(|p| p.into_inner());
        *i = Inner::new(i.current.clone(), i.retired.clone(), now);
        i.published.clone()
    }

    /// The published keys, for the console.
    pub(crate) fn describe(&self, now: i64) -> Vec<PublishedKey> {
        let Ok(i) = self.inner.read() else { return Vec::new() };
        let mut out = vec![PublishedKey { kid: i.current.kid().to_owned(), signing: true, until: None }];
        out.extend(i.retired.iter().filter(|(_, until)| *until > now).map(|(k, until)| PublishedKey {
            kid: k.kid().to_owned(),
            signing: false,
            until: Some(*until),
        }));
        out
    }

    /// Makes `key` the signing key; the previous one stays published until `retire_at`.
    pub(crate) fn rotate(&self, key: SigningKey, now: i64, retire_at: i64) -> Rotation {
        let mut i = match self.inner.write() {
            Ok(i) => i,
            Err(p) => p.into_inner(),
        };
        let previous = i.current.clone();
        let mut retired = i.retired.clone();
        retired.push((previous.clone(), retire_at));
        let forget = retired.len().saturating_sub(MAX_RETIRED);
        retired.drain(..forget);
        *i = Inner::new(Arc::new(key), retired, now);
        Rotation {
            kid: i.current.kid().to_owned(),
            previous_kid: previous.kid().to_owned(),
            previous_published_until: retire_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kids(keys: &IdpKeys, now: i64) -> Vec<String> {
        keys.describe(now).into_iter().map(|k| k.kid).collect()
    }

    /// Moving the clock past a retired key's time and back again brings the key back, in the
    /// JWKS and in the console's list; rotating meanwhile forgets nothing.
    #[test]
    fn a_retired_key_survives_the_clock_moving_back() {
        let keys = IdpKeys::new(SigningKey::generate("first").unwrap());
        keys.rotate(SigningKey::generate("second").unwrap(), 1000, 1700);
        assert!(keys.published(1000).find("first").is_some());
        assert_eq!(kids(&keys, 1000), ["second", "first"]);
        assert!(keys.published(1000 + 7200).find("first").is_none(), "its tokens have expired");
        keys.rotate(SigningKey::generate("third").unwrap(), 1000 + 7200, 1000 + 7900);
        assert!(keys.published(1000).find("first").is_some(), "back to the wall clock: published again");
        assert_eq!(kids(&keys, 1000), ["third", "first", "second"]);
    }
}
