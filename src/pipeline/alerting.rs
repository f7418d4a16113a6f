//! The alerting stage of `driftd run`: each closed window's observations → the rules engine →
//! alert transitions and grouped notifications with the daemon's evidence, and the engine
//! state saved in the stream's checkpoint transaction. Details on [`Alerting`].

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use serde_json::{json, Value};
use tracing::info;

use crate::actions::OutboxEntry;
use crate::monitor::{drifted_features, Observation, Stat};
use crate::reference::ReferenceProfile;
use crate::rules::{Engine, EngineState, FeatureStats, Notification, RuleSet, WindowEvaluation};
use crate::silence::Silences;
use crate::source::time::now_ms;
use crate::stats::verdict::Thresholds;

/// Features listed in a notification's evidence, by decreasing PSI.
pub const TOP_FEATURES: usize = 5;

/// A notification and the evidence that goes with it, ready for the outbox.
#[derive(Debug, Clone)]
pub struct Pending {
    pub notification: Notification,
    pub evidence: Value,
}

/// The rules engine of a run.
///
/// Alerting inside `driftd run`: each closed window's observations → the rules engine
/// ([`crate::rules::Engine`]) → alert transitions (logged at INFO, counted in
/// `driftd_alerts`) and grouped notifications, each paired with the evidence the daemon adds
/// (model and reference version, the window's bounds and source positions — Kafka offsets —,
/// and the top drifted features).
///
/// Inputs: the observations of whole windows of one (monitor, stream), in order, with the
/// monitor's drift verdict per feature. Outputs: [`Pending`] notifications for the outbox, and
/// the engine state to persist in the same store transaction as the stream's checkpoint, so
/// a restart neither re-sends nor resets a timer (the engine ignores a window it has already
/// evaluated for an alert).
///
/// One engine serves every monitor (rules name their monitor); it sits behind a mutex taken
/// once per closed window, never per record.
pub struct Alerting {
    engine: Mutex<Engine>,
}

impl Alerting {
    /// The engine over `rules`, continuing from `state` (states of changed rules dropped).
    pub fn new(rules: RuleSet, state: EngineState) -> Alerting {
        Alerting { engine: Mutex::new(Engine::new(rules, state)) }
    }

    fn engine(&self) -> MutexGuard<'_, Engine> {
        self.engine.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether any rule is loaded (nothing to evaluate otherwise).
    pub fn has_rules(&self) -> bool {
        !self.engine().rules().rules.is_empty()
    }

    /// Replaces the rules (SIGHUP), keeping the states of unchanged rules.
    pub fn reload(&self, rules: RuleSet) {
        self.engine().reload(rules);
    }

    /// The engine state as stored with the checkpoints.
    pub fn state_json(&self) -> Vec<u8> {
        serde_json::to_vec(self.engine().state()).unwrap_or_default()
    }

    /// Counts of alerts per (rule, monitor, status), for the `driftd_alerts` gauge.
    pub fn counts(&self) -> BTreeMap<(String, String, &'static str), i64> {
        let engine = self.engine();
        let mut counts = BTreeMap::new();
        for rule in &engine.rules().rules {
            for status in ["pending", "firing"] {
                counts.insert((rule.name.clone(), rule.monitor.clone(), status), 0);
            }
        }
        for (key, state) in engine.alerts() {
            let status = state.status.name();
            if matches!(status, "pending" | "firing") {
                *counts.entry((key.rule.clone(), key.monitor.clone(), status)).or_insert(0) += 1;
            }
        }
        counts
    }

    /// The current alerts (pending and firing), for `/api/v1/alerts`.
    pub fn active(&self) -> Vec<Value> {
        let engine = self.engine();
        engine
            .alerts()
            .filter(|(_, s)| matches!(s.status.name(), "pending" | "firing"))
            .map(|(key, state)| {
                json!({
                    "rule": key.rule,
                    "monitor": key.monitor,
                    "stream": key.stream,
                    "feature": key.feature,
                    "status": state.status.name(),
                    "active_since": state.active_since_ms.map(crate::source::time::format_time_ms),
                    "fired_at": state.fired_at_ms.map(crate::source::time::format_time_ms),
                })
            })
            .collect()
    }

    /// Evaluates one closed window (`observations`: all of it, one stream) and returns its
    /// notifications with their evidence. Transitions are logged here.
    pub fn evaluate(
        &self,
        profile: &ReferenceProfile,
        observations: &[Observation],
        drifted: &[(String, f64)],
    ) -> Vec<Pending> {
        let Some(first) = observations.first() else { return Vec::new() };
        let window = evaluation(profile, observations, drifted);
        let evaluation = self.engine().evaluate(&window);
        for t in &evaluation.transitions {
            info!(
                rule = %t.key.rule,
                monitor = %t.key.monitor,
                stream = %t.key.stream,
                feature = %t.key.feature,
                from = t.from.name(),
                to = t.to.name(),
                value = t.value.unwrap_or(f64::NAN),
                threshold = t.threshold.unwrap_or(f64::NAN),
                window_end = %crate::source::time::format_time_ms(t.window_end_ms),
                "Alert state changed."
            );
        }
        let evidence = evidence(profile, observations, drifted, first);
        evaluation
            .notifications
            .into_iter()
            .map(|notification| Pending { notification, evidence: evidence.clone() })
            .collect()
    }

    /// The alerting stage of a batch of closed windows (whole, in order): the rules evaluated
    /// once per window, silenced alerts dropped, the rest as the outbox entries to save with
    /// the windows' checkpoint; with the number of alerts silenced.
    pub fn outbox_entries(
        &self,
        profile: &ReferenceProfile,
        observations: &[Observation],
        silences: Option<&Silences>,
    ) -> (Vec<OutboxEntry>, u64) {
        if !self.has_rules() {
            return (Vec::new(), 0);
        }
        let mut notifications = Vec::new();
        for window in observations.chunk_by(|a, b| a.window == b.window && a.stream == b.stream) {
            // A window's performance is evaluated once, on the version `rules_at` names.
            if window[0].detail.performance.as_ref().is_some_and(|p| !p.for_rules) {
                continue;
            }
            let drifted = drifted_features(window, &Thresholds::default());
            notifications.extend(self.evaluate(profile, window, &drifted));
        }
        let mut silenced_total = 0;
        if let Some(silences) = silences {
            let now = now_ms();
            notifications.retain_mut(|pending| {
                let silenced = silences.filter(&mut pending.notification, now);
                if silenced > 0 {
                    silenced_total += silenced as u64;
                    info!(action = %pending.notification.action, rule = %pending.notification.rule, silenced, "Alerts silenced.");
                }
                !pending.notification.alerts.is_empty()
            });
        }
        let now = now_ms();
        let entries = notifications.into_iter().map(|p| OutboxEntry::new(p.notification, p.evidence, now)).collect();
        (entries, silenced_total)
    }
}

/// The engine's view of one window.
fn evaluation(profile: &ReferenceProfile, observations: &[Observation], drifted: &[(String, f64)]) -> WindowEvaluation {
    let first = &observations[0];
    let references: BTreeMap<&str, u64> = profile
        .streams
        .get(&first.stream)
        .map(|s| s.features.iter().map(|f| (f.name.as_str(), f.n)).collect())
        .unwrap_or_default();
    let mut features: Vec<FeatureStats> = Vec::new();
    for o in observations {
        let stats = match features.iter_mut().find(|f| f.name == o.feature) {
            Some(stats) => stats,
            None => {
                features.push(FeatureStats {
                    name: o.feature.clone(),
                    n: o.n,
                    n_ref: references.get(o.feature.as_str()).copied(),
                    n_bins: None,
                    values: BTreeMap::new(),
                    drifted: drifted.iter().any(|(f, _)| *f == o.feature),
                });
                features.last_mut().expect("just pushed")
            }
        };
        if o.stat == Stat::Psi {
            stats.n_bins = o.detail.n_bins;
        }
        stats.values.insert(o.stat, o.value);
    }
    WindowEvaluation {
        monitor: first.monitor.clone(),
        stream: first.stream,
        window_start_ms: first.window.start_ms,
        window_end_ms: first.window.end_ms,
        window_events: first.window.events,
        features,
    }
}

/// What the daemon adds to a notification: versions, the window's source positions, and the
/// top drifted features with all their statistics and their PSI bins (share of the reference,
/// of the window, and each bin's PSI term — the schema of docs/actions.md).
fn evidence(
    profile: &ReferenceProfile,
    observations: &[Observation],
    drifted: &[(String, f64)],
    first: &Observation,
) -> Value {
    let mut by_feature: BTreeMap<&str, BTreeMap<&'static str, Option<f64>>> = BTreeMap::new();
    let mut n: BTreeMap<&str, u64> = BTreeMap::new();
    for o in observations {
        by_feature.entry(&o.feature).or_default().insert(o.stat.name(), o.value.is_finite().then_some(o.value));
        n.insert(&o.feature, o.n);
    }
    let mut ranked: Vec<(&str, f64)> =
        by_feature.iter().map(|(f, stats)| (*f, stats.get("psi").copied().flatten().unwrap_or(f64::NAN))).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    ranked.retain(|(_, psi)| !psi.is_nan());
    let top: Vec<Value> = ranked
        .iter()
        .take(TOP_FEATURES)
        .map(|(feature, _)| {
            let bins = observations
                .iter()
                .find(|o| o.feature == *feature && o.stat == Stat::Psi)
                .map(|o| o.detail.bins.as_slice())
                .unwrap_or_default();
            let n_ref = profile
                .streams
                .get(&first.stream)
                .and_then(|s| s.features.iter().find(|f| f.name == *feature))
                .map(|f| f.n);
            json!({
                "feature": feature,
                "stream": first.stream,
                "drifted": drifted.iter().any(|(f, _)| f == feature),
                "n": n.get(feature),
                "n_ref": n_ref,
                "statistics": by_feature.get(feature),
                "bins": bins,
            })
        })
        .collect();
    let meta = &profile.meta;
    // A window's performance (stream `labels`): every metric of the version, and how labelled.
    let performance = first.detail.performance.as_ref().map(|p| {
        json!({
            "feature": first.feature,
            "version": p.version,
            "final": p.final_,
            "predictions": p.predictions,
            "labelled": p.labelled,
            "pairs_beyond_cap": p.beyond_cap,
            "metrics": by_feature.get(first.feature.as_str()),
        })
    });
    json!({
        "model_version": meta.model_version,
        "performance": performance,
        "reference": {
            "source": meta.source_path,
            "sha256": meta.source_sha256,
            "rows": meta.rows,
            "created_at": meta.created_at,
            "binning": meta.binning,
        },
        "window": {
            "stream": first.stream,
            "start": crate::source::time::format_time_ms(first.window.start_ms),
            "end": crate::source::time::format_time_ms(first.window.end_ms),
            "events": first.window.events,
            "first": first.window.first,
            "last": first.window.last,
        },
        "drifted_features": drifted.iter().map(|(f, _)| f).collect::<Vec<_>>(),
        "top_features": top,
    })
}
