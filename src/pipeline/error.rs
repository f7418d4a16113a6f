//! Why `driftd run` failed: at start-up (configuration, references, the state store, the
//! listener), while running (a source or the checkpoints), or at shutdown.

use std::net::SocketAddr;
use std::time::Duration;

use crate::build::BuildError;
use crate::store::StoreError;

/// How long an ordered shutdown may take.
pub const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);

/// Why `driftd run` failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Prepare(Box<BuildError>),
    #[error("{0}")]
    Rules(crate::config::ConfigErrors),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot install the signal handler: {0}")]
    Signal(std::io::Error),
    #[error("{0}")]
    Source(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Checkpoint(String),
    #[error("the shutdown took longer than {} s", SHUTDOWN_DEADLINE.as_secs())]
    ShutdownTimeout,
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<BuildError> for RunError {
    fn from(err: BuildError) -> Self {
        RunError::Prepare(Box::new(err))
    }
}
