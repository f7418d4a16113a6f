//! Delivery latency benchmark: outbox commit → webhook received on loopback, p50 and p99.
//!
//! ```sh
//! cargo run --release --example delivery-latency -- [N]      # default 500 notifications
//! ```
//!
//! Each notification is committed to the outbox (one redb write transaction, fsynced, as the
//! daemon commits a window's checkpoint with its notifications), the dispatcher is woken,
//! and the time until an axum receiver on 127.0.0.1 gets the signed request is recorded. The
//! notifications are sent one after the other, so the figures are latencies, not throughput.
//! The commit's own duration is reported separately: in the daemon it is part of closing the
//! window. This covers the delivery half of "window close → webhook received".

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::routing::post;
use axum::Router;
use driftd::actions::{DeliveryMetrics, Dispatcher, Outbox, OutboxEntry, Target, Webhook};
use driftd::record::Stream;
use driftd::rules::{Action, ActionKind, Notification, NotificationStatus, Severity};
use serde_json::json;
use tokio::sync::{mpsc, Notify};
use tokio_util::sync::CancellationToken;

fn notification(seq: u64) -> Notification {
    Notification {
        action: "hook".into(),
        action_kind: ActionKind::Retrain,
        rule: "psi_high".into(),
        monitor: "credit".into(),
        stream: Stream::Inputs,
        severity: Severity::Warning,
        group: BTreeMap::new(),
        group_key: "credit,psi_high".into(),
        status: NotificationStatus::Firing,
        episode: 1,
        seq,
        idempotency_key: format!("hook/psi_high/credit/credit,psi_high/1/{seq}"),
        window_start_ms: 0,
        window_end_ms: 3_600_000,
        window_events: 300,
        alerts: Vec::new(),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[tokio::main]
async fn main() -> Result<()> {
    let n: u64 = std::env::args().nth(1).map(|a| a.parse()).transpose().context("N")?.unwrap_or(500);
    let (received_tx, mut received) = mpsc::unbounded_channel::<Instant>();
    let app = Router::new().route(
        "/hook",
        post(move || {
            let tx = received_tx.clone();
            async move {
                let _ = tx.send(Instant::now());
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });

    std::env::set_var("DRIFTD_BENCH_HMAC", "bench-secret");
    let hook = Webhook {
        url: format!("http://{addr}/hook"),
        method: "POST".into(),
        headers: BTreeMap::new(),
        headers_env: BTreeMap::new(),
        bearer_token_env: None,
        secret_env: Some("DRIFTD_BENCH_HMAC".into()),
        body: None,
        timeout: Duration::from_secs(5),
        max_attempts: 3,
    };
    let action =
        Action { name: "hook".into(), kind: ActionKind::Retrain, cooldown: None, target: Target::Webhook(hook) };
    let dir = tempfile::tempdir()?;
    let db = Arc::new(redb::Database::create(dir.path().join("checkpoints.redb"))?);
    let outbox = Outbox::new(db)?;
    let dispatcher = Dispatcher::new(
        [("hook".to_string(), action)].into(),
        None,
        outbox.clone(),
        DeliveryMetrics::unregistered(),
        None,
    )?;
    let (wake, stop) = (Arc::new(Notify::new()), CancellationToken::new());
    let task = tokio::spawn(dispatcher.run(wake.clone(), stop.clone()));

    let evidence = json!({"model_version": "v7", "top_features": [{"feature": "income", "bins": [
        {"label": "(-inf, 1]", "reference": 0.5, "current": 0.7, "contribution": 0.0673},
        {"label": "(1, +inf)", "reference": 0.5, "current": 0.3, "contribution": 0.1022}]}]});
    let (mut commits, mut deliveries) = (Vec::new(), Vec::new());
    for seq in 0..n {
        let entry = OutboxEntry::new(notification(seq), evidence.clone(), 0);
        let start = Instant::now();
        let db = outbox.database()?;
        let committed = tokio::task::spawn_blocking(move || -> Result<Instant> {
            let txn = db.begin_write()?;
            driftd::actions::enqueue_in(&txn, &[entry])?;
            txn.commit()?;
            Ok(Instant::now())
        })
        .await??;
        wake.notify_one();
        let got = tokio::time::timeout(Duration::from_secs(10), received.recv())
            .await
            .context("no delivery within 10 s")?
            .context("receiver gone")?;
        commits.push(committed - start);
        deliveries.push(got - committed);
    }
    stop.cancel();
    task.await?;
    commits.sort();
    deliveries.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("notifications: {n}");
    println!(
        "outbox commit (fsync):        p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        ms(percentile(&commits, 0.5)),
        ms(percentile(&commits, 0.99)),
        ms(*commits.last().unwrap())
    );
    println!(
        "commit -> webhook received:   p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        ms(percentile(&deliveries, 0.5)),
        ms(percentile(&deliveries, 0.99)),
        ms(*deliveries.last().unwrap())
    );
    Ok(())
}
