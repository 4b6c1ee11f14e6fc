//! The IdP's signing keys and their rotation: a new key signs from the moment it is added; the
//! previous one stays in the JWKS until every token it signed has expired (checklist §7,
//! RFC 8725 §3.10), so relying parties that refetch on an unknown `kid` never miss a key.

use std::sync::{Arc, OnceLock, RwLock};

use serde::Serialize;
use xaa_core::jose::{KeySet, SigningKey};

/// The signing key and the retired keys still published.
#[derive(Debug)]
pub(crate) struct IdpKeys {
    inner: RwLock<Inner>,
    untrusted: OnceLock<Option<SigningKey>>,
}

#[derive(Debug)]
struct Inner {
    current: Arc<SigningKey>,
    /// Retired keys with the time until which they stay published.
    retired: Vec<(Arc<SigningKey>, i64)>,
    /// The published set, built once per change (every token exchange reads it).
    published: Arc<KeySet>,
}

impl Inner {
    fn new(current: Arc<SigningKey>, retired: Vec<(Arc<SigningKey>, i64)>) -> Self {
        let published = Arc::new(KeySet::from_signing_keys(
            std::iter::once(current.as_ref()).chain(retired.iter().map(|(k, _)| k.as_ref())),
        ));
        Self { current, retired, published }
    }
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
        Self { inner: RwLock::new(Inner::new(Arc::new(key), Vec::new())), untrusted: OnceLock::new() }
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

    /// Every key still published at `now` (a retired key leaves once its tokens have expired).
    pub(crate) fn published(&self, now: i64) -> Arc<KeySet> {
        {
            let i = self.inner.read().unwrap_or_else(|p| p.into_inner());
            if i.retired.iter().all(|(_, until)| *until > now) {
                return i.published.clone();
            }
        }
        let mut i = self.inner.write().unwrap_or_else(|p| p.into_inner());
        let retired: Vec<_> = i.retired.iter().filter(|(_, until)| *until > now).cloned().collect();
        *i = Inner::new(i.current.clone(), retired);
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
        let mut retired: Vec<_> = i.retired.iter().filter(|(_, until)| *until > now).cloned().collect();
        retired.push((previous.clone(), retire_at));
        *i = Inner::new(Arc::new(key), retired);
        Rotation {
            kid: i.current.kid().to_owned(),
            previous_kid: previous.kid().to_owned(),
            previous_published_until: retire_at,
        }
    }
}
