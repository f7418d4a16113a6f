//! Silences (as in Alertmanager): label matchers and a wall-clock period during which matching
//! alerts are still tracked by the rules engine but not notified.
//!
//! Inputs: silences added through `POST /api/v1/silences` (`driftd silence add`), stored in the
//! daemon's redb database (table `silences`) so they survive restarts; expired early with
//! `DELETE /api/v1/silences/{id}` (`driftd silence expire`). Output: [`Silences::filter`], which
//! removes silenced alerts from a notification (and the whole notification when none is left).
//!
//! Matching: every matcher `label=value` must hold on the alert's labels (the built-in
//! `rule`, `monitor`, `stream`, `feature`, `severity` and the rule's own labels); a value ending
//! in `*` matches by prefix. A silence is active from its start to its end (wall clock, ms).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use redb::{Database, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::rules::Notification;

/// Silences by id.
const SILENCES: TableDefinition<&str, &[u8]> = TableDefinition::new("silences");

/// One silence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Silence {
    pub id: String,
    /// Label → value (`*` suffix: prefix match); all must match.
    pub matchers: BTreeMap<String, String>,
    pub starts_ms: i64,
    pub ends_ms: i64,
    #[serde(default)]
    pub comment: String,
}

impl Silence {
    pub fn is_active(&self, now_ms: i64) -> bool {
        self.starts_ms <= now_ms && now_ms < self.ends_ms
    }

    /// Whether every matcher holds on `labels`.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.matchers.iter().all(|(label, wanted)| {
            let Some(value) = labels.get(label) else { return false };
            match wanted.strip_suffix('*') {
                Some(prefix) => value.starts_with(prefix),
                None => value == wanted,
            }
        })
    }
}

/// Why a silence cannot be stored or is refused.
#[derive(Debug, thiserror::Error)]
pub enum SilenceError {
    #[error("a silence needs at least one matcher")]
    NoMatcher,
    #[error("matcher {0:?}: expected label=value")]
    BadMatcher(String),
    #[error("the duration must be positive")]
    BadDuration,
    #[error("no silence {0:?}")]
    Unknown(String),
    #[error("silence store: {0}")]
    Store(String),
}

/// The silences of a running daemon: an in-memory copy of the stored table.
pub struct Silences {
    db: Arc<Database>,
    cache: Mutex<Vec<Silence>>,
}

impl Silences {
    /// Loads the stored silences (creating the table).
    pub fn open(db: Arc<Database>) -> Result<Silences, SilenceError> {
        let store = |e: redb::Error| SilenceError::Store(e.to_string());
        let txn = db.begin_write().map_err(|e| store(e.into()))?;
        txn.open_table(SILENCES).map_err(|e| store(e.into()))?;
        txn.commit().map_err(|e| store(e.into()))?;
        let read = db.begin_read().map_err(|e| store(e.into()))?;
        let table = read.open_table(SILENCES).map_err(|e| store(e.into()))?;
        let mut silences = Vec::new();
        for row in table.iter().map_err(|e| store(e.into()))? {
            let (_, value) = row.map_err(|e| store(e.into()))?;
            if let Ok(silence) = serde_json::from_slice::<Silence>(value.value()) {
                silences.push(silence);
            }
        }
        Ok(Silences { db, cache: Mutex::new(silences) })
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Vec<Silence>> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn put(&self, silence: &Silence) -> Result<(), SilenceError> {
        let store = |e: redb::Error| SilenceError::Store(e.to_string());
        let bytes = serde_json::to_vec(silence).map_err(|e| SilenceError::Store(e.to_string()))?;
        let txn = self.db.begin_write().map_err(|e| store(e.into()))?;
        {
            let mut table = txn.open_table(SILENCES).map_err(|e| store(e.into()))?;
            table.insert(silence.id.as_str(), bytes.as_slice()).map_err(|e| store(e.into()))?;
        }
        txn.commit().map_err(|e| store(e.into()))
    }

    /// Adds a silence from `now_ms` for `duration_ms`; returns it.
    pub fn add(
        &self,
        matchers: BTreeMap<String, String>,
        now_ms: i64,
        duration_ms: i64,
        comment: String,
    ) -> Result<Silence, SilenceError> {
        if matchers.is_empty() {
            return Err(SilenceError::NoMatcher);
        }
        if duration_ms <= 0 {
            return Err(SilenceError::BadDuration);
        }
        let mut cache = self.cache();
        // Ids are short, sortable and unique within this store.
        let next = cache.iter().filter_map(|s| s.id.strip_prefix('s')?.parse::<u64>().ok()).max().unwrap_or(0) + 1;
        let silence = Silence {
            id: format!("s{next}"),
            matchers,
            starts_ms: now_ms,
            ends_ms: now_ms.saturating_add(duration_ms),
            comment,
        };
        self.put(&silence)?;
        cache.push(silence.clone());
        Ok(silence)
    }

    /// Ends a silence now (it stays listed, expired).
    pub fn expire(&self, id: &str, now_ms: i64) -> Result<Silence, SilenceError> {
        let mut cache = self.cache();
        let silence = cache.iter_mut().find(|s| s.id == id).ok_or_else(|| SilenceError::Unknown(id.into()))?;
        silence.ends_ms = silence.ends_ms.min(now_ms);
        let expired = silence.clone();
        drop(cache);
        self.put(&expired)?;
        Ok(expired)
    }

    /// Every silence, oldest first.
    pub fn list(&self) -> Vec<Silence> {
        self.cache().clone()
    }

    /// Removes the alerts silenced at `now_ms` from `notification`; returns how many were
    /// (the notification is not to be sent when no alert is left).
    pub fn filter(&self, notification: &mut Notification, now_ms: i64) -> usize {
        let cache = self.cache();
        let active: Vec<&Silence> = cache.iter().filter(|s| s.is_active(now_ms)).collect();
        let before = notification.alerts.len();
        if !active.is_empty() {
            notification.alerts.retain(|alert| !active.iter().any(|s| s.matches(&alert.labels)));
        }
        before - notification.alerts.len()
    }
}

/// Parses `label=value` matchers.
pub fn parse_matchers(texts: &[String]) -> Result<BTreeMap<String, String>, SilenceError> {
    texts
        .iter()
        .map(|t| match t.split_once('=') {
            Some((label, value)) if !label.trim().is_empty() => {
                Ok((label.trim().to_string(), value.trim().to_string()))
            }
            _ => Err(SilenceError::BadMatcher(t.clone())),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn store() -> (tempfile::TempDir, Silences) {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(Database::create(dir.path().join("s.redb")).unwrap());
        let silences = Silences::open(db).unwrap();
        (dir, silences)
    }

    #[test]
    fn every_matcher_must_hold_and_a_star_matches_a_prefix() {
        let silence = Silence {
            id: "s1".into(),
            matchers: labels(&[("rule", "input_psi_high"), ("feature", "loan_*")]),
            starts_ms: 0,
            ends_ms: 10,
            comment: String::new(),
        };
        assert!(silence.matches(&labels(&[("rule", "input_psi_high"), ("feature", "loan_purpose"), ("team", "x")])));
        assert!(!silence.matches(&labels(&[("rule", "input_psi_high"), ("feature", "income")])));
        assert!(!silence.matches(&labels(&[("feature", "loan_purpose")])));
        assert!(silence.is_active(0) && silence.is_active(9) && !silence.is_active(10));
    }

    #[test]
    fn silences_survive_a_reopen_and_expire() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let added = {
            let silences = Silences::open(Arc::new(Database::create(&path).unwrap())).unwrap();
            let a = silences.add(labels(&[("monitor", "m")]), 1000, 60_000, "deploy".into()).unwrap();
            let b = silences.add(labels(&[("feature", "income")]), 1000, 60_000, String::new()).unwrap();
            assert_eq!((a.id.as_str(), b.id.as_str()), ("s1", "s2"));
            silences.expire("s1", 5000).unwrap();
            vec![a, b]
        };
        let reopened = Silences::open(Arc::new(Database::create(&path).unwrap())).unwrap();
        let listed = reopened.list();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].ends_ms, 5000);
        assert_eq!(listed[1], added[1]);
        assert!(matches!(reopened.expire("s9", 0), Err(SilenceError::Unknown(_))));
    }

    #[test]
    fn bad_requests_are_refused() {
        let (_dir, silences) = store();
        assert!(matches!(silences.add(BTreeMap::new(), 0, 10, String::new()), Err(SilenceError::NoMatcher)));
        assert!(matches!(silences.add(labels(&[("a", "b")]), 0, 0, String::new()), Err(SilenceError::BadDuration)));
        assert!(matches!(parse_matchers(&["novalue".into()]), Err(SilenceError::BadMatcher(_))));
        assert_eq!(parse_matchers(&["rule=x".into(), "feature=a=b".into()]).unwrap()["feature"], "a=b");
    }
}
