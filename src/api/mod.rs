//! The HTTP server of `driftd run` (axum): `/metrics`, `/healthz`, `/readyz` and the drift
//! API under `/api/v1` (monitors, history, alerts, silences, notifications). Routes and their
//! answers on [`router`]; who may call what: [`access::AccessPolicy`]; the accept loop: `serve.rs`.

pub mod access;
pub mod serve;

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::pipeline::state::{ClosedWindow, Shared};
use crate::record::Stream;

/// The router over the shared state, behind the access policy.
///
/// The HTTP server of `driftd run` (axum): metrics, health, readiness and the drift API.
///
/// Routes: `GET /metrics` (Prometheus / OpenMetrics text), `GET /healthz` (200 `ok` while
/// the process serves), `GET /readyz` (200 once references are loaded and sources opened,
/// else 503 with the reason — starting, Kafka not reached, a checkpoint failing), `GET /api/v1/monitors` (status per monitor) and
/// `GET /api/v1/monitors/{name}/history[?stream=inputs|predictions&limit=N]` (closed windows
/// with their observations, oldest first; 404 for an unknown monitor), `GET /api/v1/alerts`
/// (pending and firing alerts), `GET|POST /api/v1/silences` and `DELETE /api/v1/silences/{id}`
/// (list, add — `{"matchers": {"label": "value"}, "duration": "2h", "comment": "…"}` — and
/// expire silences; 400 with a message for a bad request, 404 for an unknown id),
/// `GET /api/v1/notifications` (the outbox: pending and failed notifications) and
/// `POST|DELETE /api/v1/notifications/failed?key=K` (requeue or drop a failed one). Everything
/// read comes from [`Shared`], which the monitor tasks update; who may call what is
/// [`access::AccessPolicy`] (Host check, JSON for mutating requests, optional bearer token).
pub fn router(shared: Arc<Shared>, policy: Arc<access::AccessPolicy>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/api/v1/monitors", get(monitors))
        .route("/api/v1/monitors/{name}/history", get(history))
        .route("/api/v1/alerts", get(alerts))
        .route("/api/v1/silences", get(list_silences).post(add_silence))
        .route("/api/v1/notifications", get(notifications))
        .route("/api/v1/notifications/failed", axum::routing::post(requeue_failed).delete(remove_failed))
        .route("/api/v1/silences/{id}", axum::routing::delete(expire_silence))
        .layer(axum::middleware::from_fn_with_state(policy, access::enforce))
        .with_state(shared)
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    match shared.encode_metrics() {
        Ok(text) => ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text)
            .into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "cannot encode the metrics").into_response(),
    }
}

async fn readyz(State(shared): State<Arc<Shared>>) -> (StatusCode, String) {
    match shared.not_ready_reason() {
        None => (StatusCode::OK, "ready".into()),
        Some(reason) => (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {reason}")),
    }
}

#[derive(Serialize)]
struct MonitorsBody {
    ready: bool,
    monitors: Vec<MonitorBody>,
}

#[derive(Serialize)]
struct MonitorBody {
    name: String,
    streams: Vec<StreamBody>,
}

#[derive(Serialize)]
struct StreamBody {
    stream: Stream,
    source: String,
    records_received: u64,
    records_invalid: u64,
    records_late: u64,
    windows_closed: u64,
    /// The source is exhausted and its windows flushed.
    exhausted: bool,
    /// Kafka sources: the partitions assigned to this instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    kafka_partitions: Option<Vec<i32>>,
    /// Where the stream's reference stands (capturing, ready …).
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<crate::pipeline::state::ReferenceStatus>,
    /// Kafka sources: the stream's watermark and each assigned partition's clock (own
    /// watermark, idle, lag, late records), refreshed every second.
    #[serde(skip_serializing_if = "Option::is_none")]
    watermark: Option<crate::pipeline::partitions::WatermarkStatus>,
    /// The last closed window (without its observations).
    last_window: Option<ClosedWindow>,
}

async fn monitors(State(shared): State<Arc<Shared>>) -> Json<MonitorsBody> {
    let monitors = shared
        .monitors
        .iter()
        .map(|monitor| {
            let live = monitor.live();
            let streams = monitor
                .streams
                .iter()
                .map(|(stream, source, m)| StreamBody {
                    stream: *stream,
                    source: source.clone(),
                    records_received: m.received.get(),
                    records_invalid: m.invalid.values().map(|c| c.get()).sum(),
                    records_late: m.late.get(),
                    windows_closed: m.windows_closed.get(),
                    exhausted: live.exhausted.contains(stream),
                    kafka_partitions: live.partitions.get(stream).map(|p| p.iter().copied().collect()),
                    reference: live.references.get(stream).cloned(),
                    watermark: live.watermarks.get(stream).cloned(),
                    last_window: live
                        .history
                        .iter()
                        .rev()
                        .find(|w| w.stream == *stream)
                        .map(|w| ClosedWindow { observations: Vec::new(), ..w.clone() }),
                })
                .collect();
            MonitorBody { name: monitor.name.clone(), streams }
        })
        .collect();
    Json(MonitorsBody { ready: shared.is_ready(), monitors })
}

/// Pending and firing alerts.
async fn alerts(State(shared): State<Arc<Shared>>) -> Json<serde_json::Value> {
    let alerts = shared.alerting.get().map(|a| a.active()).unwrap_or_default();
    Json(serde_json::json!({ "alerts": alerts }))
}

/// One outbox entry as the API shows it.
fn outbox_view(entry: &crate::actions::OutboxEntry, attempts: u32, error: Option<&str>) -> serde_json::Value {
    serde_json::json!({
        "key": entry.key,
        "action": entry.action,
        "rule": entry.notification.rule,
        "monitor": entry.notification.monitor,
        "status": entry.notification.status.name(),
        "enqueued": crate::source::time::format_time_ms(entry.enqueued_ms),
        "attempts": attempts,
        "error": error,
    })
}

/// Items of a list response unless `limit` says otherwise, and the most `limit` may ask for:
/// responses that grow with the state are capped.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

#[derive(Deserialize)]
struct LimitQuery {
    limit: Option<usize>,
}

fn limit(asked: Option<usize>) -> usize {
    asked.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT)
}

async fn notifications(State(shared): State<Arc<Shared>>, Query(query): Query<LimitQuery>) -> Response {
    let Some(outbox) = shared.outbox.get().cloned() else { return no_silences() };
    let read = tokio::task::spawn_blocking(move || {
        Ok::<_, crate::actions::OutboxError>((outbox.pending()?, outbox.failed()?))
    });
    let n = limit(query.limit);
    match read.await {
        // The oldest first, at most `n` of each; the totals say how many there are.
        Ok(Ok((pending, failed))) => Json(serde_json::json!({
            "pending": pending.iter().take(n).map(|p| outbox_view(&p.entry, p.attempts, p.last_error.as_deref())).collect::<Vec<_>>(),
            "failed": failed.iter().take(n).map(|f| outbox_view(&f.entry, f.attempts, Some(&f.error))).collect::<Vec<_>>(),
            "pending_total": pending.len(),
            "failed_total": failed.len(),
        }))
        .into_response(),
        Ok(Err(err)) => (StatusCode::INTERNAL_SERVER_ERROR, Json(serde_json::json!({ "error": err.to_string() }))).into_response(),
        Err(err) => (StatusCode::INTERNAL_SERVER_ERROR, Json(serde_json::json!({ "error": err.to_string() }))).into_response(),
    }
}

#[derive(Deserialize)]
struct KeyQuery {
    key: String,
}

async fn failed_op(shared: Arc<Shared>, key: String, requeue: bool) -> Response {
    let Some(outbox) = shared.outbox.get().cloned() else { return no_silences() };
    let found =
        tokio::task::spawn_blocking(
            move || {
                if requeue {
                    outbox.requeue_failed(&key)
                } else {
                    outbox.remove_failed(&key)
                }
            },
        );
    match found.await {
        Ok(Ok(true)) => Json(serde_json::json!({ "ok": true })).into_response(),
        Ok(Ok(false)) => {
            (StatusCode::NOT_FOUND, Json(serde_json::json!({ "error": "no failed notification with that key" })))
                .into_response()
        }
        Ok(Err(err)) => {
            (StatusCode::INTERNAL_SERVER_ERROR, Json(serde_json::json!({ "error": err.to_string() }))).into_response()
        }
        Err(err) => {
            (StatusCode::INTERNAL_SERVER_ERROR, Json(serde_json::json!({ "error": err.to_string() }))).into_response()
        }
    }
}

/// Puts a failed notification back into the outbox (after fixing the action, say).
async fn requeue_failed(State(shared): State<Arc<Shared>>, Query(query): Query<KeyQuery>) -> Response {
    failed_op(shared, query.key, true).await
}

/// Drops a failed notification.
async fn remove_failed(State(shared): State<Arc<Shared>>, Query(query): Query<KeyQuery>) -> Response {
    failed_op(shared, query.key, false).await
}

#[derive(Deserialize)]
struct NewSilence {
    matchers: std::collections::BTreeMap<String, String>,
    /// A duration: `30m`, `2h`, `1d` …
    duration: String,
    #[serde(default)]
    comment: String,
}

fn silence_error(err: crate::silence::SilenceError) -> Response {
    let status = match err {
        crate::silence::SilenceError::Unknown(_) => StatusCode::NOT_FOUND,
        crate::silence::SilenceError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    (status, Json(serde_json::json!({ "error": err.to_string() }))).into_response()
}

fn no_silences() -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({ "error": "not ready" }))).into_response()
}

async fn list_silences(State(shared): State<Arc<Shared>>) -> Response {
    let Some(silences) = shared.silences.get() else { return no_silences() };
    let now = crate::source::time::now_ms();
    let list: Vec<serde_json::Value> = silences
        .list()
        .into_iter()
        .map(|s| {
            let active = s.is_active(now);
            serde_json::json!({
                "id": s.id,
                "matchers": s.matchers,
                "starts": crate::source::time::format_time_ms(s.starts_ms),
                "ends": crate::source::time::format_time_ms(s.ends_ms),
                "comment": s.comment,
                "active": active,
            })
        })
        .collect();
    Json(serde_json::json!({ "silences": list })).into_response()
}

async fn add_silence(
    State(shared): State<Arc<Shared>>,
    body: Result<Json<NewSilence>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Some(silences) = shared.silences.get() else { return no_silences() };
    let Json(request) = match body {
        Ok(body) => body,
        Err(err) => {
            return (StatusCode::BAD_REQUEST, Json(serde_json::json!({ "error": err.body_text() }))).into_response()
        }
    };
    let duration = match crate::config::parse_duration(&request.duration) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(message) => {
            return (StatusCode::BAD_REQUEST, Json(serde_json::json!({ "error": format!("duration: {message}") })))
                .into_response()
        }
    };
    match silences.add(request.matchers, crate::source::time::now_ms(), duration, request.comment) {
        Ok(silence) => {
            tracing::info!(id = %silence.id, matchers = ?silence.matchers, until = %crate::source::time::format_time_ms(silence.ends_ms), "Silence added.");
            (
                StatusCode::CREATED,
                Json(serde_json::json!({ "id": silence.id, "ends": crate::source::time::format_time_ms(silence.ends_ms) })),
            )
                .into_response()
        }
        Err(err) => silence_error(err),
    }
}

async fn expire_silence(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let Some(silences) = shared.silences.get() else { return no_silences() };
    match silences.expire(&id, crate::source::time::now_ms()) {
        Ok(silence) => {
            tracing::info!(id = %silence.id, "Silence expired.");
            Json(serde_json::json!({ "id": silence.id, "ends": crate::source::time::format_time_ms(silence.ends_ms) }))
                .into_response()
        }
        Err(err) => silence_error(err),
    }
}

#[derive(Deserialize)]
struct HistoryQuery {
    stream: Option<Stream>,
    /// The last N windows only.
    limit: Option<usize>,
}

#[derive(Serialize)]
struct HistoryBody {
    monitor: String,
    windows: Vec<ClosedWindow>,
}

async fn history(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    Query(query): Query<HistoryQuery>,
) -> Response {
    let Some(monitor) = shared.monitor(&name) else {
        return (StatusCode::NOT_FOUND, Json(serde_json::json!({ "error": format!("no monitor named {name:?}") })))
            .into_response();
    };
    let mut windows: Vec<ClosedWindow> = {
        let live = monitor.live();
        live.history.iter().filter(|w| query.stream.is_none_or(|s| s == w.stream)).cloned().collect()
    };
    // The most recent `limit` windows (default DEFAULT_LIMIT, at most MAX_LIMIT).
    let n = limit(query.limit);
    windows.drain(..windows.len().saturating_sub(n));
    Json(HistoryBody { monitor: name, windows }).into_response()
}
