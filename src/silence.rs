//! Silences (as in Alertmanager): label matchers and a wall-clock period during which matching
//! alerts are still tracked by the rules engine but not notified.
//!
//! Inputs: silences added through `POST /api/v1/silences` (`driftd silence add`), stored in
//! the daemon's redb database (table `silences`) so they survive restarts; expired early with
//! `DELETE /api/v1/silences/{id}` (`driftd silence expire`). Output: [`Silences::filter`].
//! Bounded as Alertmanager's `--silences.max-silences` and `--data.retention` ([`MAX_SILENCES`],
//! [`MAX_MATCHERS`], [`MAX_MATCHER_BYTES`], [`MAX_COMMENT_BYTES`], [`MAX_DURATION_MS`], [`RETENTION_MS`]).

use std::collections::BTreeMap;
use std::sync::Mutex;

use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::rules::Notification;
use crate::store::DbHandle;

/// Silences by id.
const SILENCES: TableDefinition<&str, &[u8]> = TableDefinition::new("silences");

/// Most silences stored, active and expired-but-retained together.
pub const MAX_SILENCES: usize = 1000;
/// Most matchers of one silence, and bytes of one label or value.
pub const MAX_MATCHERS: usize = 16;
pub const MAX_MATCHER_BYTES: usize = 256;
/// Longest comment, in bytes.
pub const MAX_COMMENT_BYTES: usize = 1024;
/// Longest silence: a year.
pub const MAX_DURATION_MS: i64 = 366 * 24 * 3_600_000;
/// How long an expired silence stays listed before it is removed (Alertmanager's default).
pub const RETENTION_MS: i64 = 5 * 24 * 3_600_000;

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
    #[error("{0}")]
    TooLarge(String),
    #[error("{MAX_SILENCES} silences are stored already: expire some (expired ones are removed {} days after they end)", RETENTION_MS / 86_400_000)]
    TooMany,
    #[error("no silence {0:?}")]
    Unknown(String),
    #[error("silence store: {0}")]
    Store(String),
}

/// The silences of a running daemon: an in-memory copy of the stored table.
pub struct Silences {
    db: DbHandle,
    cache: Mutex<Vec<Silence>>,
}

impl Silences {
    /// Loads the stored silences (creating the table).
    pub fn open(db: impl Into<DbHandle>) -> Result<Silences, SilenceError> {
        let store = |e: redb::Error| SilenceError::Store(e.to_string());
        let db = db.into();
        let current = db.get().map_err(store)?;
        let txn = current.begin_write().map_err(|e| store(e.into()))?;
        txn.open_table(SILENCES).map_err(|e| store(e.into()))?;
        txn.commit().map_err(|e| store(e.into()))?;
        let read = current.begin_read().map_err(|e| store(e.into()))?;
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
        let txn = self.db.get().map_err(store)?.begin_write().map_err(|e| store(e.into()))?;
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
        if duration_ms > MAX_DURATION_MS {
            return Err(SilenceError::TooLarge(format!(
                "a silence lasts at most {} days",
                MAX_DURATION_MS / 86_400_000
            )));
        }
        if matchers.len() > MAX_MATCHERS {
            return Err(SilenceError::TooLarge(format!("at most {MAX_MATCHERS} matchers")));
        }
        if matchers.iter().any(|(k, v)| k.len() > MAX_MATCHER_BYTES || v.len() > MAX_MATCHER_BYTES) {
            return Err(SilenceError::TooLarge(format!(
                "a matcher's label or value is at most {MAX_MATCHER_BYTES} bytes"
            )));
        }
        if comment.len() > MAX_COMMENT_BYTES {
            return Err(SilenceError::TooLarge(format!("the comment is at most {MAX_COMMENT_BYTES} bytes")));
        }
        self.collect_garbage(now_ms)?;
        let mut cache = self.cache();
        if cache.len() >= MAX_SILENCES {
            return Err(SilenceError::TooMany);
        }
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

    /// Removes the silences that ended more than [`RETENTION_MS`] before `now_ms`.
    pub fn collect_garbage(&self, now_ms: i64) -> Result<usize, SilenceError> {
        let mut cache = self.cache();
        let old: Vec<String> =
            cache.iter().filter(|s| s.ends_ms.saturating_add(RETENTION_MS) <= now_ms).map(|s| s.id.clone()).collect();
        if old.is_empty() {
            return Ok(0);
        }
        let store = |e: redb::Error| SilenceError::Store(e.to_string());
        let txn = self.db.get().map_err(store)?.begin_write().map_err(|e| store(e.into()))?;
        {
            let mut table = txn.open_table(SILENCES).map_err(|e| store(e.into()))?;
            for id in &old {
                table.remove(id.as_str()).map_err(|e| store(e.into()))?;
            }
        }
        txn.commit().map_err(|e| store(e.into()))?;
        cache.retain(|s| !old.contains(&s.id));
        Ok(old.len())
    }

    /// Removes the alerts silenced at `now_ms` from `notification`; returns how many were
    /// (the notification is not to be sent when no alert is left).
    ///
    /// Matching: every matcher `label=value` must hold on the alert's labels (the built-in
    /// `rule`, `monitor`, `stream`, `feature`, `severity` and the rule's own labels); a value
    /// ending in `*` matches by prefix. A silence is active from its start to its end (wall
    /// clock, ms).
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
    use redb::Database;
    use std::sync::Arc;

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

    /// The audit: 50 silences with 1.9 MB comments grew the state file to 103 MB, and a
    /// 1,000,000-day silence was accepted. Now each is bounded, the count too, and expired
    /// silences are removed after the retention.
    #[test]
    fn silences_are_bounded_in_size_count_duration_and_retention() {
        let (_dir, silences) = store();
        let m = || labels(&[("rule", "*")]);
        let day = 86_400_000;
        let huge = "x".repeat(1_900_000);
        assert!(matches!(silences.add(m(), 0, 60_000, huge), Err(SilenceError::TooLarge(_))));
        assert!(matches!(silences.add(m(), 0, 1_000_000 * day, String::new()), Err(SilenceError::TooLarge(_))));
        let many: BTreeMap<String, String> = (0..17).map(|i| (format!("l{i}"), "v".into())).collect();
        assert!(matches!(silences.add(many, 0, 60_000, String::new()), Err(SilenceError::TooLarge(_))));
        let long = labels(&[("rule", &"r".repeat(300))]);
        assert!(matches!(silences.add(long, 0, 60_000, String::new()), Err(SilenceError::TooLarge(_))));
        for _ in 0..MAX_SILENCES {
            silences.add(m(), 0, day, "c".repeat(MAX_COMMENT_BYTES)).unwrap();
        }
        assert!(matches!(silences.add(m(), 0, day, String::new()), Err(SilenceError::TooMany)));
        // Ended at `day`: still listed within the retention, gone after it.
        assert!(matches!(silences.add(m(), day + RETENTION_MS - 1, day, String::new()), Err(SilenceError::TooMany)));
        silences.add(m(), day + RETENTION_MS, day, String::new()).unwrap();
        assert_eq!(silences.list().len(), 1);
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
