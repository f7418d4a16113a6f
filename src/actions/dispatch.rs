//! The dispatcher: delivers the outbox's entries to their targets, retries with exponential
//! backoff, and records every outcome in the outbox and the metrics.
//!
//! The outbox is the only state that matters: stopping or dropping the dispatcher at any point
//! loses nothing, and a new one over the same database carries on. When it looks at the
//! outbox: on [`Dispatcher`]; retries and their limits: [`RetryPolicy`], docs/actions.md.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::email::SmtpSettings;
use super::kafka::Producers;
use super::metrics::DeliveryMetrics;
use super::outbox::{Outbox, OutboxEntry, PendingEntry};
use super::Action;
use super::Context;
use super::{now_ms, ActionsError, DeliveryError};

/// Retry timing and limits.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// The delay after the first failed attempt; it doubles after each further failure.
    pub base: Duration,
    /// The longest delay between two attempts.
    pub max: Duration,
    /// Attempts of targets without their own `max_attempts` (all but webhooks). The default
    /// (20 with the default delays: about 1 h 15 min) outlasts a typical SMTP or broker outage.
    pub default_max_attempts: u32,
    /// Deliveries in flight at once.
    pub concurrency: usize,
    /// How long delivered keys are remembered, so that enqueueing one again is ignored.
    pub sent_retention: Duration,
    /// On stop, how long deliveries in flight may finish before they are abandoned (their
    /// entries stay pending for the next run).
    pub shutdown_grace: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            base: Duration::from_secs(1),
            max: Duration::from_secs(300),
            default_max_attempts: 20,
            concurrency: 16,
            sent_retention: Duration::from_secs(7 * 24 * 3600),
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The delay after `failures` failed attempts (1 for the first): `base · 2^(failures−1)`,
    /// at most `max`.
    pub fn delay(&self, failures: u32) -> Duration {
        let exponent = failures.saturating_sub(1).min(30);
        self.base.saturating_mul(1u32 << exponent).min(self.max)
    }

    /// The attempts allowed for `action`.
    pub fn max_attempts(&self, action: &Action) -> u32 {
        action.target.max_attempts().unwrap_or(self.default_max_attempts).max(1)
    }
}

/// What every delivery task shares.
struct Shared {
    /// Shared with [`ActionsHandle`]s (and only this: the rest of `Shared` is the dispatcher's
    /// alone until it runs).
    actions: Arc<RwLock<BTreeMap<String, Action>>>,
    context: Context,
    outbox: Outbox,
    metrics: DeliveryMetrics,
    policy: RetryPolicy,
}

/// Replaces the actions of a running dispatcher (SIGHUP).
#[derive(Clone)]
pub struct ActionsHandle {
    actions: Arc<RwLock<BTreeMap<String, Action>>>,
}

impl ActionsHandle {
    /// New action definitions apply from the next attempt, also to pending entries; an entry
    /// whose action disappeared fails permanently at its next attempt.
    pub fn reload(&self, actions: BTreeMap<String, Action>) {
        *self.actions.write().unwrap_or_else(|e| e.into_inner()) = actions;
    }
}

/// Delivers the outbox.
///
/// It looks at the outbox when it starts (entries left by a crash or an outage), whenever
/// the daemon wakes it (after committing new entries), when an in-flight delivery ends and
/// when the earliest retry is due, and starts every due entry that is not already in flight
/// (at most [`RetryPolicy::concurrency`] at once), so one slow receiver does not hold up the
/// others.
pub struct Dispatcher {
    shared: Arc<Shared>,
}

/// What a finished delivery task reports to the loop.
struct Done {
    key: String,
    /// A retry was scheduled for this time.
    retry_at_ms: Option<i64>,
    /// The outbox could not record the outcome: do not retry before this time, or a broken
    /// disk would turn the loop into a busy one.
    hold_until_ms: Option<i64>,
}

impl Dispatcher {
    /// A dispatcher for `actions`, with the daemon's SMTP server and default Kafka brokers.
    /// Installs the ring crypto provider if none is installed.
    pub fn new(
        actions: BTreeMap<String, Action>,
        smtp: Option<SmtpSettings>,
        outbox: Outbox,
        metrics: DeliveryMetrics,
        default_kafka_brokers: Option<String>,
    ) -> Result<Dispatcher, ActionsError> {
        crate::tls::install_crypto_provider();
        let client = reqwest::Client::builder()
            // A redirected POST may turn into a GET elsewhere: a webhook answers, or fails.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ActionsError::HttpClient(e.to_string()))?;
        Ok(Dispatcher {
            shared: Arc::new(Shared {
                actions: Arc::new(RwLock::new(actions)),
                context: Context { smtp, default_kafka_brokers, client, producers: Producers::default() },
                outbox,
                metrics,
                policy: RetryPolicy::default(),
            }),
        })
    }

    /// Replaces the retry policy (tests use millisecond delays).
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Dispatcher {
        // Only `run` clones the Arc; before it, the dispatcher holds the only reference.
        Arc::get_mut(&mut self.shared).expect("the dispatcher is not running yet").policy = policy;
        self
    }

    /// The librdkafka properties of `kafka` actions' producers (the configuration's
    /// `kafka.properties`: TLS, SASL … as the consumers have them).
    pub fn with_kafka_properties(mut self, properties: BTreeMap<String, String>) -> Dispatcher {
        Arc::get_mut(&mut self.shared).expect("the dispatcher is not running yet").context.producers =
            Producers::with_properties(properties);
        self
    }

    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.shared.policy
    }

    /// A handle to reload the actions while [`Dispatcher::run`] runs.
    pub fn actions_handle(&self) -> ActionsHandle {
        ActionsHandle { actions: self.shared.actions.clone() }
    }

    pub fn outbox(&self) -> &Outbox {
        &self.shared.outbox
    }

    /// One delivery attempt of `entry`, outside the outbox (no retry, nothing recorded):
    /// for tools that test an action.
    pub async fn attempt(&self, entry: &OutboxEntry) -> Result<(), DeliveryError> {
        let action = self.shared.action(&entry.action);
        match action {
            Some(action) => self.shared.deliver(&action, entry).await,
            None => Err(unknown_action(&entry.action)),
        }
    }

    /// Delivers until `stop` is cancelled. Wake it (`wake.notify_one()`) after committing new
    /// entries; a wake-up before it waits is kept, so none is lost. On stop, no new delivery
    /// starts; those in flight get [`RetryPolicy::shutdown_grace`] to finish, then are
    /// abandoned: their entries stay pending and are sent again by the next run (with the
    /// same idempotency key).
    pub async fn run(self, wake: Arc<Notify>, stop: CancellationToken) {
        let shared = self.shared;
        let mut tasks: JoinSet<Done> = JoinSet::new();
        let mut in_flight: HashMap<tokio::task::Id, String> = HashMap::new();
        let mut held: HashMap<String, i64> = HashMap::new();
        let mut gauges: HashSet<String> = HashSet::new();
        // Due entries not started yet (the concurrency limit), oldest scan first. Draining it
        // without rescanning keeps a large backlog (after a long outage) linear: a full scan
        // decodes every entry, so it happens on wake-ups, timers, an empty backlog, or at
        // most once per second while the backlog drains.
        let mut backlog: VecDeque<PendingEntry> = VecDeque::new();
        let mut next_due: Option<i64> = None;
        let mut scan = true;
        let mut last_scan = Instant::now();
        let mut next_prune_ms = 0;
        tracing::info!(actions = shared.actions_count(), "Notification dispatcher started.");
        loop {
            let now = now_ms();
            if now >= next_prune_ms {
                next_prune_ms = now + 3_600_000;
                let retention = i64::try_from(shared.policy.sent_retention.as_millis()).unwrap_or(i64::MAX);
                let outbox = shared.outbox.clone();
                if let Err(err) = blocking(move || outbox.prune_sent(now.saturating_sub(retention))).await {
                    tracing::warn!(error = %err, "Cannot prune the delivered keys of the outbox.");
                }
            }
            held.retain(|_, until| *until > now);
            if scan || last_scan.elapsed() >= Duration::from_secs(1) {
                last_scan = Instant::now();
                // A read transaction over the whole table: off the async workers.
                let outbox = shared.outbox.clone();
                match blocking(move || outbox.pending()).await {
                    Ok(pending) => {
                        shared.update_gauges(&pending, &mut gauges);
                        backlog.clear();
                        next_due = held.values().copied().min();
                        for p in pending {
                            // In flight or held back: never queued twice.
                            if held.contains_key(&p.entry.key) || in_flight.values().any(|k| *k == p.entry.key) {
                                continue;
                            }
                            if p.next_attempt_ms > now {
                                next_due = Some(next_due.map_or(p.next_attempt_ms, |n| n.min(p.next_attempt_ms)));
                            } else {
                                backlog.push_back(p);
                            }
                        }
                    }
                    Err(err) => {
                        tracing::error!(error = %err, "Cannot read the outbox; trying again in 5 s.");
                        next_due = Some(now + 5_000);
                    }
                }
            }
            while in_flight.len() < shared.policy.concurrency {
                let Some(p) = backlog.pop_front() else { break };
                let key = &p.entry.key;
                if held.contains_key(key) || in_flight.values().any(|k| k == key) {
                    continue;
                }
                let key = key.clone();
                let handle = tasks.spawn(attempt(shared.clone(), p));
                in_flight.insert(handle.id(), key);
            }
            let sleep = next_due.map_or(Duration::from_secs(3600), |due| {
                Duration::from_millis(u64::try_from(due.saturating_sub(now_ms())).unwrap_or(0))
            });
            tokio::select! {
                biased;
                _ = stop.cancelled() => break,
                Some(done) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                    match done {
                        Ok((id, done)) => {
                            in_flight.remove(&id);
                            let hold = done.hold_until_ms;
                            if let Some(until) = hold {
                                held.insert(done.key, until);
                            }
                            if let Some(at) = done.retry_at_ms.or(hold) {
                                next_due = Some(next_due.map_or(at, |n| n.min(at)));
                            }
                        }
                        Err(err) => {
                            // A panicking delivery: hold its entry back a while, keep the rest going.
                            if let Some(key) = in_flight.remove(&err.id()) {
                                tracing::error!(key = %key, error = %err, "Notification delivery task failed.");
                                let until = now_ms() + shared.policy.max.as_millis() as i64;
                                held.insert(key, until);
                                next_due = Some(next_due.map_or(until, |n| n.min(until)));
                            }
                        }
                    }
                    // Rescan when there is nothing left to start (new entries, the gauges).
                    scan = backlog.is_empty();
                }
                _ = wake.notified() => scan = true,
                _ = tokio::time::sleep(sleep) => scan = true,
            }
        }
        // Let deliveries in flight finish for a moment: each one that completes now is one
        // fewer sent again (deduplicated by its receiver) after the restart.
        let grace = tokio::time::sleep(shared.policy.shutdown_grace);
        tokio::pin!(grace);
        while !tasks.is_empty() {
            tokio::select! {
                _ = &mut grace => break,
                _ = tasks.join_next() => {}
            }
        }
        let abandoned = tasks.len();
        tasks.shutdown().await;
        tracing::info!(abandoned, "Notification dispatcher stopped.");
    }
}

fn unknown_action(name: &str) -> DeliveryError {
    DeliveryError::permanent(format!("the action {name} is not configured (removed by a reload?)"))
}

impl Shared {
    fn action(&self, name: &str) -> Option<Action> {
        self.actions.read().unwrap_or_else(|e| e.into_inner()).get(name).cloned()
    }

    fn actions_count(&self) -> usize {
        self.actions.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    fn update_gauges(&self, pending: &[PendingEntry], seen: &mut HashSet<String>) {
        let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
        for name in self.actions.read().unwrap_or_else(|e| e.into_inner()).keys() {
            self.metrics.declare(name);
            seen.insert(name.clone());
        }
        for name in seen.iter() {
            counts.insert(name, 0);
        }
        for p in pending {
            *counts.entry(&p.entry.action).or_default() += 1;
        }
        for (name, count) in &counts {
            self.metrics.set_pending(name, *count);
        }
        let names: Vec<String> = counts.keys().map(|s| s.to_string()).collect();
        seen.extend(names);
    }

    async fn deliver(&self, action: &Action, entry: &OutboxEntry) -> Result<(), DeliveryError> {
        action.target.deliver(&self.context, entry).await
    }
}

/// Runs a blocking outbox write off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, super::OutboxError> + Send + 'static,
) -> Result<T, String> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// One attempt of one entry, with its outcome recorded.
async fn attempt(shared: Arc<Shared>, pending: PendingEntry) -> Done {
    let entry = pending.entry;
    let key = entry.key.clone();
    // Only this dispatcher removes pending entries, but a second dispatcher over the same
    // database (a misconfiguration) or a stale schedule must not deliver twice.
    let outbox = shared.outbox.clone();
    let k = key.clone();
    if let Ok(None) = blocking(move || outbox.get(&k)).await {
        return Done { key, retry_at_ms: None, hold_until_ms: None };
    }
    let action = shared.action(&entry.action);
    let result = match &action {
        Some(action) => shared.deliver(action, &entry).await,
        None => Err(unknown_action(&entry.action)),
    };
    let max_attempts = action.as_ref().map_or(1, |a| shared.policy.max_attempts(a));
    let attempts = pending.attempts.saturating_add(1);
    let now = now_ms();
    let outbox = shared.outbox.clone();
    let name = entry.action.clone();
    let mut retry_at_ms = None;
    let recorded = match result {
        Ok(()) => {
            let k = key.clone();
            let recorded = blocking(move || outbox.mark_sent(&k, now)).await;
            if recorded.is_ok() {
                shared.metrics.sent(&name, now.saturating_sub(entry.enqueued_ms) as f64 / 1000.0);
                tracing::debug!(action = %name, key = %key, attempts, "Notification delivered.");
            }
            recorded.map(|_| ())
        }
        Err(err) if err.is_retryable() && attempts < max_attempts => {
            let delay = shared.policy.delay(attempts);
            let next = now.saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX));
            retry_at_ms = Some(next);
            let (k, message) = (key.clone(), err.to_string());
            let recorded = blocking(move || outbox.record_attempt(&k, &message, now, next)).await;
            shared.metrics.retry(&name);
            tracing::warn!(
                action = %name, key = %key, attempts, max_attempts, retry_in = ?delay, error = %err,
                "Notification delivery failed; will retry."
            );
            recorded.map(|_| ())
        }
        Err(err) => {
            let (k, message, retryable) = (key.clone(), err.to_string(), err.is_retryable());
            let recorded = blocking(move || outbox.mark_failed(&k, &message, retryable, now)).await;
            shared.metrics.failed(&name);
            tracing::error!(
                action = %name, key = %key, attempts, error = %err,
                "Notification delivery failed; giving up (kept in the failed table)."
            );
            recorded.map(|_| ())
        }
    };
    let hold_until_ms = match recorded {
        Ok(()) => None,
        Err(err) => {
            tracing::error!(key = %key, error = %err, "Cannot record a delivery outcome in the outbox.");
            Some(now_ms() + shared.policy.base.as_millis().max(1000) as i64)
        }
    };
    Done { key, retry_at_ms, hold_until_ms }
}
