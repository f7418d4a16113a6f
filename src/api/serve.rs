//! The API's accept loop, in place of `axum::serve`, for what a server reachable by others
//! needs: a header-read timeout (a client that sends half a request is dropped after
//! [`HEADER_READ_TIMEOUT`]), a whole-request timeout (a slow body is answered 408 and its
//! connection closed, [`ServeOptions::request_timeout`]), a cap of [`MAX_CONNECTIONS`] open
//! connections (more are closed at once, so held connections cannot exhaust file
//! descriptors), and a shutdown that lets requests in flight finish for [`SHUTDOWN_GRACE`] but
//! never waits on idle or half-open connections. With `http.tls` every connection is a TLS
//! handshake first, bounded by the header-read timeout too.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long a client may take to send a request's headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Most connections open at once.
pub const MAX_CONNECTIONS: usize = 256;
/// How long requests in flight may run on after the shutdown begins.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// What the loop enforces beyond its constants (from `http:` in the configuration).
#[derive(Clone)]
pub struct ServeOptions {
    /// A request's whole handling, its body included (`http.request_timeout`).
    pub request_timeout: Duration,
    /// TLS on the listener (`http.tls`, see [`crate::tls::server_config`]).
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions { request_timeout: crate::config::DEFAULT_REQUEST_TIMEOUT, tls: None }
    }
}

/// Answers 408 (and closes the connection) when the request is not handled within `limit`:
/// the handler reads the body, so a client trickling it cannot hold the connection longer.
async fn within(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => (
            StatusCode::REQUEST_TIMEOUT,
            [(header::CONNECTION, "close")],
            format!("the request took longer than {} s", limit.as_secs_f64()),
        )
            .into_response(),
    }
}

/// Serves `router` on `listener` until `stop` is cancelled, then shuts down within
/// [`SHUTDOWN_GRACE`] (plus scheduling).
pub async fn serve(listener: TcpListener, router: Router, stop: CancellationToken, options: ServeOptions) {
    let router = router.layer(axum::middleware::from_fn_with_state(options.request_timeout, within));
    let tls = options.tls.map(tokio_rustls::TlsAcceptor::from);
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let connections = TaskTracker::new();
    let closing = CancellationToken::new();
    loop {
        let stream = tokio::select! {
            () = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    // Out of descriptors or a reset before accept: wait a little, go on.
                    tracing::warn!(error = %err, "Cannot accept an HTTP connection.");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // Over the cap: closed at once rather than queued.
            drop(stream);
            continue;
        };
        let service = TowerToHyperService::new(router.clone());
        let closing = closing.clone();
        let tls = tls.clone();
        connections.spawn(async move {
            let _slot = slot;
            let Some(acceptor) = tls else {
                return serve_connection(stream, service, closing).await;
            };
            // The handshake in the connection's own task (the accept loop never waits on a
            // client), within the header-read timeout, and given up at shutdown.
            let handshake = tokio::time::timeout(HEADER_READ_TIMEOUT, acceptor.accept(stream));
            let stream = tokio::select! {
                done = handshake => match done {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(err)) => {
                        tracing::debug!(error = %err, "TLS handshake failed.");
                        return;
                    }
                    Err(_) => return,
                },
                () = closing.cancelled() => return,
            };
            serve_connection(stream, service, closing).await;
        });
    }
    drop(listener);
    closing.cancel();
    connections.close();
    let _ = tokio::time::timeout(SHUTDOWN_GRACE + Duration::from_millis(200), connections.wait()).await;
}

/// One connection, plain or TLS: HTTP/1.1 with the header-read timeout, until it ends or the
/// server closes (idle connections at once, a request in flight after [`SHUTDOWN_GRACE`]).
async fn serve_connection<S>(io: S, service: TowerToHyperService<Router>, closing: CancellationToken)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
    let connection = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        () = closing.cancelled() => {
            connection.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, connection).await;
        }
    }
}
