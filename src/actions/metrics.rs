//! Delivery metrics, registered in the daemon's registry (explicit, so parallel tests keep
//! independent registries):
//! - `driftd_notifications_total{action, outcome}`: attempts by outcome, `sent`, `retry` (a
//!   retryable failure that will be retried) or `failed` (given up: permanent error or last
//!   attempt);
//! - `driftd_notifications_pending{action}`: entries in the outbox;
//! - `driftd_notification_delivery_seconds{action}`: from enqueue to successful delivery,
//!   each configured action's series there at 0 before its first attempt.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    action: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    action: String,
    outcome: &'static str,
}

type HistogramFamily = Family<ActionLabels, Histogram, fn() -> Histogram>;

/// Handles to the delivery metrics (cheap to clone).
#[derive(Clone)]
pub struct DeliveryMetrics {
    total: Family<OutcomeLabels, Counter>,
    pending: Family<ActionLabels, Gauge>,
    latency: HistogramFamily,
}

fn latency_histogram() -> Histogram {
    // 5 ms … ~5.8 h: loopback webhooks and SMTP outages alike.
    Histogram::new(exponential_buckets(0.005, 2.0, 22))
}

impl DeliveryMetrics {
    /// Registers the metrics in `registry`.
    pub fn register(registry: &mut Registry) -> DeliveryMetrics {
        let metrics = DeliveryMetrics::unregistered();
        registry.register(
            "driftd_notifications",
            "Notification delivery attempts by action and outcome (sent, retry, failed)",
            metrics.total.clone(),
        );
        registry.register(
            "driftd_notifications_pending",
            "Notifications waiting in the outbox",
            metrics.pending.clone(),
        );
        registry.register(
            "driftd_notification_delivery_seconds",
            "Time from enqueue to successful delivery",
            metrics.latency.clone(),
        );
        metrics
    }

    /// Metrics that are counted but exported nowhere (tools, tests).
    pub fn unregistered() -> DeliveryMetrics {
        DeliveryMetrics {
            total: Family::default(),
            pending: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
        }
    }

    /// Creates `action`'s series at zero (each outcome, the latency histogram): an `increase`
    /// over a counter that appears at 1 misses that first attempt, so an alert on the first
    /// failed delivery needs the series to exist before it.
    pub(crate) fn declare(&self, action: &str) {
        for outcome in ["sent", "retry", "failed"] {
            drop(self.total.get_or_create(&OutcomeLabels { action: action.to_string(), outcome }));
        }
        drop(self.latency.get_or_create(&ActionLabels { action: action.to_string() }));
    }

    fn count(&self, action: &str, outcome: &'static str) {
        self.total.get_or_create(&OutcomeLabels { action: action.to_string(), outcome }).inc();
    }

    pub(crate) fn sent(&self, action: &str, latency_seconds: f64) {
        self.count(action, "sent");
        self.latency.get_or_create(&ActionLabels { action: action.to_string() }).observe(latency_seconds.max(0.0));
    }

    pub(crate) fn retry(&self, action: &str) {
        self.count(action, "retry");
    }

    pub(crate) fn failed(&self, action: &str) {
        self.count(action, "failed");
    }

    pub(crate) fn set_pending(&self, action: &str, pending: i64) {
        self.pending.get_or_create(&ActionLabels { action: action.to_string() }).set(pending);
    }

    /// The count of `outcome` for `action` (tests, status pages).
    pub fn outcome(&self, action: &str, outcome: &'static str) -> u64 {
        self.total.get_or_create(&OutcomeLabels { action: action.to_string(), outcome }).get()
    }

    /// The pending gauge of `action`.
    pub fn pending(&self, action: &str) -> i64 {
        self.pending.get_or_create(&ActionLabels { action: action.to_string() }).get()
    }
}
