//! A bounded memo of work done on an input: the same input again is answered with what was made
//! of it last time (shared, not worked out and stored once more). Past its capacity it starts
//! afresh, so it never holds more than `capacity` entries and never needs an eviction order.
//!
//! The key sets keep the compact JWSs they read in one ([`crate::jose::KeySet::parse`]); the
//! lab's trace keeps the tokens it decoded for display and the answers it shares, and the todo
//! store the listings it read (forgetting a user's at each write).

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;

/// What was made of the inputs seen lately, by input. Put it behind a lock to share it.
#[derive(Debug)]
pub struct Recent<K, V> {
    capacity: usize,
    seen: HashMap<K, V>,
}

impl<K: Hash + Eq, V: Clone> Recent<K, V> {
    /// An empty memo of at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Self { capacity, seen: HashMap::new() }
    }

    /// What was made of `key`, if it was seen since the memo last started afresh.
    pub fn get<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.seen.get(key).cloned()
    }

    /// Keeps `value` for `key`; a full memo forgets everything first.
    pub fn keep(&mut self, key: K, value: V) {
        if self.seen.len() >= self.capacity {
            self.seen.clear();
        }
        self.seen.insert(key, value);
    }

    /// Forgets what was made of `key` (the input changed under it).
    pub fn forget<Q: Hash + Eq + ?Sized>(&mut self, key: &Q)
    where
        K: Borrow<Q>,
    {
        self.seen.remove(key);
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.seen.clear();
    }

    /// How many entries it holds.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_memo_starts_afresh_and_never_grows_past_its_capacity() {
        let mut memo = Recent::new(3);
        for i in 0..3 {
            memo.keep(i, i * 10);
        }
        assert_eq!((memo.len(), memo.get(&2)), (3, Some(20)));
        memo.keep(3, 30);
        assert_eq!((memo.len(), memo.get(&0), memo.get(&3)), (1, None, Some(30)));
        memo.keep(3, 31);
        assert_eq!((memo.len(), memo.get(&3)), (1, Some(31)), "the same key again replaces, it does not add");
        memo.keep(4, 40);
        memo.forget(&3);
        assert_eq!((memo.len(), memo.get(&3), memo.get(&4)), (1, None, Some(40)));
        memo.clear();
        assert!(memo.is_empty());
    }
}
