//! The notification dispatcher of a run over the store's outbox, and the durable parts a
//! monitor task commits to (checkpoint store, observations file, rules engine).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::alerting::Alerting;
use super::error::{RunError, SHUTDOWN_DEADLINE};
use super::state::Shared;
use crate::config::Config;
use crate::store::{ObservationSink, Store};

/// How long a run whose sources are exhausted waits for the outbox to empty before exiting
/// (what is left is delivered at the next start).
pub const DRAIN_DEADLINE: Duration = Duration::from_secs(5);

/// The checkpoint store and the observations file of a run.
pub struct Durable {
    pub store: Store,
    /// Held while a window is appended and its checkpoint committed, so the file's length in
    /// the last checkpoint is exact.
    pub sink: Mutex<Option<ObservationSink>>,
    /// The rules engine: evaluated per closed window, its state saved with each checkpoint.
    pub alerting: Arc<Alerting>,
    /// Wakes the notification dispatcher after a checkpoint that enqueued notifications.
    pub wake: Arc<tokio::sync::Notify>,
}

/// The notification dispatcher of a run (`crate::actions`), over the store's outbox.
pub struct Delivery {
    pub wake: Arc<tokio::sync::Notify>,
    pub actions: crate::actions::ActionsHandle,
    pub stop: CancellationToken,
    pub task: tokio::task::JoinHandle<()>,
}

impl Delivery {
    pub fn start(
        config: &Config,
        shared: &Shared,
        store: &Store,
        rules: &crate::rules::RuleSet,
        reset_state: bool,
    ) -> Result<Delivery, RunError> {
        let database = store.database().clone();
        let outbox = |db| crate::actions::Outbox::new(db).map_err(|e| RunError::Internal(format!("outbox: {e}")));
        let api_outbox = outbox(database.clone())?;
        if reset_state {
            // Starting over restarts the alert episodes, so their idempotency keys repeat:
            // forget which were delivered (pending and failed notifications stay).
            let forgotten = api_outbox.prune_sent(i64::MAX).map_err(|e| RunError::Internal(format!("outbox: {e}")))?;
            info!(forgotten, "Delivered notification keys forgotten (--reset-state).");
        }
        let _ = shared.outbox.set(api_outbox);
        let smtp = config.smtp.clone();
        let dispatcher = crate::actions::Dispatcher::new(
            rules.actions.clone(),
            smtp,
            outbox(database)?,
            shared.delivery.clone(),
            config.kafka_brokers.clone(),
        )
        .map_err(|e| RunError::Internal(format!("dispatcher: {e}")))?
        .with_kafka_properties(config.kafka_properties.clone());
        let actions = dispatcher.actions_handle();
        let (wake, stop) = (Arc::new(tokio::sync::Notify::new()), CancellationToken::new());
        let task = tokio::spawn(dispatcher.run(wake.clone(), stop.clone()));
        Ok(Delivery { wake, actions, stop, task })
    }

    /// Lets the dispatcher empty the outbox (at most [`DRAIN_DEADLINE`]), then stops it.
    pub async fn finish(self, shared: &Shared) {
        let deadline = Instant::now() + DRAIN_DEADLINE;
        let pending = || shared.outbox.get().and_then(|o| o.pending().ok()).map_or(0, |p| p.len());
        let mut left = pending();
        while left > 0 && Instant::now() < deadline {
            self.wake.notify_one();
            tokio::time::sleep(Duration::from_millis(20)).await;
            left = pending();
        }
        if left > 0 {
            warn!(pending = left, "Notifications still pending; they will be delivered at the next start.");
        }
        self.stop.cancel();
        if tokio::time::timeout(SHUTDOWN_DEADLINE, self.task).await.is_err() {
            warn!("The notification dispatcher did not stop in time.");
        }
    }
}
