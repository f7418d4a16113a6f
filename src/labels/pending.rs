//! Entries waiting for their counterpart (predictions for their label, labels for their
//! prediction, and the keys already joined), by key and by event time: lookup by key, and
//! expiry and eviction from the oldest end, both in O(log n). Serialised as a plain list (the
//! time index is rebuilt on restore).

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Entries of type `T` by key, each with an event time.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending<T> {
    by_key: HashMap<Box<str>, (i64, T)>,
    by_time: BTreeSet<(i64, Box<str>)>,
}

impl<T> Default for Pending<T> {
    fn default() -> Self {
        Pending { by_key: HashMap::new(), by_time: BTreeSet::new() }
    }
}

impl<T> Pending<T> {
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&(i64, T)> {
        self.by_key.get(key)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.by_key.contains_key(key)
    }

    /// Adds an entry (the caller checked the key is not there).
    pub fn insert(&mut self, key: Box<str>, time_ms: i64, value: T) {
        self.by_time.insert((time_ms, key.clone()));
        self.by_key.insert(key, (time_ms, value));
    }

    pub fn remove(&mut self, key: &str) -> Option<(i64, T)> {
        let (time_ms, value) = self.by_key.remove(key)?;
        self.by_time.remove(&(time_ms, Box::from(key)));
        Some((time_ms, value))
    }

    /// The oldest entry's event time.
    pub fn oldest_ms(&self) -> Option<i64> {
        self.by_time.first().map(|(t, _)| *t)
    }

    /// Removes and returns the oldest entry.
    pub fn pop_oldest(&mut self) -> Option<(Box<str>, i64, T)> {
        let (time_ms, key) = self.by_time.pop_first()?;
        let (_, value) = self.by_key.remove(&key)?;
        Some((key, time_ms, value))
    }

    /// Removes the entries whose `expired(time)` holds, oldest first, while it holds (so
    /// `expired` must be monotone: true up to some time, false after), returning how many.
    pub fn expire(&mut self, mut expired: impl FnMut(i64) -> bool) -> u64 {
        let mut removed = 0;
        while self.oldest_ms().is_some_and(&mut expired) {
            self.pop_oldest();
            removed += 1;
        }
        removed
    }
}

#[derive(Serialize, Deserialize)]
struct Entry<T> {
    key: Box<str>,
    t: i64,
    value: T,
}

impl<T: Serialize> Serialize for Pending<T> {
    /// Oldest first, so a checkpoint's bytes do not depend on the hash map's order.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            self.by_time
                .iter()
                .filter_map(|(t, key)| self.by_key.get(key).map(|(_, value)| Entry { key: key.clone(), t: *t, value })),
        )
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Pending<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let entries = Vec::<Entry<T>>::deserialize(deserializer)?;
        let mut pending = Pending::default();
        for Entry { key, t, value } in entries {
            if pending.contains(&key) {
                return Err(serde::de::Error::custom(format!("key {key:?} is pending twice")));
            }
            pending.insert(key, t, value);
        }
        Ok(pending)
    }
}
