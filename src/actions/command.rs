//! The `command` action: its settings (`argv`, `timeout`, `env`), their validation, and a run
//! without a shell: the JSON document on stdin, the context in `DRIFTD_*` variables, the
//! environment cleared but for `PATH` and the `env:` allow-list (driftd's secrets never reach
//! it), stderr drained while stdin is written (no deadlock), killed at the timeout. Exit 0
//! succeeds; a missing program is permanent; a non-zero exit, signal or timeout is retried.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command as Process;

use super::document::{document_bytes, summary};
use super::outbox::OutboxEntry;
use super::DeliveryError;
use crate::config::KeyPath;
use crate::notification::{ActionKind, Checker};
use crate::source::time::format_time_ms;

/// `command:`
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandDoc {
    /// Program and arguments, run without a shell (at least the program).
    pub argv: Vec<String>,
    /// Default `60s`.
    pub timeout: Option<String>,
    /// Names of driftd's environment variables the command may see. Its environment is
    /// otherwise cleared — driftd's own secrets (SMTP and Kafka passwords, webhook secrets)
    /// never reach it — except `PATH` and the `DRIFTD_*` context. Default: none.
    pub env: Option<Vec<String>>,
}

/// A `command` action, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub argv: Vec<String>,
    pub timeout: Duration,
    /// The names of driftd's environment variables passed on (the rest is cleared).
    pub env: Vec<String>,
}

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

impl CommandDoc {
    /// The validated settings; problems are reported below `path` (the action's `command`).
    pub(crate) fn validate(self, checker: &mut Checker<'_>, path: &KeyPath) -> Command {
        if self.argv.first().is_none_or(|program| program.trim().is_empty()) {
            checker.error(&path.key("argv"), "argv needs at least the program");
        }
        let timeout = checker.duration(self.timeout.as_deref(), path, "timeout", DEFAULT_TIMEOUT);
        let env = self.env.unwrap_or_default();
        for (i, var) in env.iter().enumerate() {
            checker.env_name(var, &path.key("env").index(i));
        }
        Command { argv: self.argv, timeout, env }
    }
}

impl Command {
    /// One attempt.
    pub(crate) async fn deliver(&self, entry: &OutboxEntry) -> Result<(), DeliveryError> {
        run(&self.argv, self.timeout, &self.env, entry).await
    }
}

/// Bytes of a failing command's stderr kept for its error message (the rest is read and
/// dropped).
pub(crate) const STDERR_KEPT: usize = 4096;

/// The environment given to the command.
pub(crate) fn environment(entry: &OutboxEntry) -> Vec<(&'static str, String)> {
    let n = &entry.notification;
    vec![
        ("DRIFTD_ACTION", n.action.clone()),
        (
            "DRIFTD_ACTION_KIND",
            match n.action_kind {
                ActionKind::Alert => "alert",
                ActionKind::Retrain => "retrain",
            }
            .into(),
        ),
        ("DRIFTD_RULE", n.rule.clone()),
        ("DRIFTD_MONITOR", n.monitor.clone()),
        ("DRIFTD_STREAM", n.stream.to_string()),
        ("DRIFTD_STATUS", n.status.name().into()),
        ("DRIFTD_SEVERITY", n.severity.name().into()),
        ("DRIFTD_IDEMPOTENCY_KEY", entry.key.clone()),
        ("DRIFTD_EPISODE", n.episode.to_string()),
        ("DRIFTD_FEATURES", n.alerts.iter().map(|a| a.key.feature.as_str()).collect::<Vec<_>>().join(",")),
        ("DRIFTD_WINDOW_START", format_time_ms(n.window_start_ms)),
        ("DRIFTD_WINDOW_END", format_time_ms(n.window_end_ms)),
        ("DRIFTD_SUMMARY", summary(n)),
    ]
}

async fn run(
    argv: &[String],
    timeout: Duration,
    allowed_env: &[String],
    entry: &OutboxEntry,
) -> Result<(), DeliveryError> {
    let Some((program, args)) = argv.split_first() else {
        return Err(DeliveryError::permanent("the command's argv is empty"));
    };
    let mut command = Process::new(program);
    let passed = std::iter::once("PATH")
        .chain(allowed_env.iter().map(String::as_str))
        .filter_map(|name| std::env::var_os(name).map(|value| (name, value)));
    command
        .args(args)
        .env_clear()
        .envs(passed)
        .envs(environment(entry))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        // A timed-out attempt must not leave its process behind.
        .kill_on_drop(true);
    let mut child = command.spawn().map_err(|e| {
        let message = format!("cannot run {program}: {e}");
        if e.kind() == std::io::ErrorKind::NotFound || e.kind() == std::io::ErrorKind::PermissionDenied {
            DeliveryError::permanent(message)
        } else {
            DeliveryError::retryable(message)
        }
    })?;
    let body = document_bytes(entry);
    let mut stdin = child.stdin.take();
    let mut stderr = child.stderr.take();
    let run = async {
        // Both at once: a command may fill its stderr pipe before it reads its input.
        let write = async {
            if let Some(mut pipe) = stdin.take() {
                // A command that does not read its input closes the pipe: not a failure.
                match pipe.write_all(&body).await {
                    Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                        return Err(DeliveryError::retryable(format!("cannot write to {program}'s stdin: {e}")))
                    }
                    _ => {}
                }
            }
            Ok(())
        };
        let drain = async {
            let mut kept = Vec::new();
            if let Some(pipe) = stderr.as_mut() {
                // Bounded: a chatty command cannot fill memory; the rest is read and dropped
                // so the command never blocks on a full pipe.
                let _ = pipe.take(STDERR_KEPT as u64).read_to_end(&mut kept).await;
                let _ = tokio::io::copy(pipe, &mut tokio::io::sink()).await;
            }
            kept
        };
        let (written, err) = tokio::join!(write, drain);
        written?;
        let status =
            child.wait().await.map_err(|e| DeliveryError::retryable(format!("cannot wait for {program}: {e}")))?;
        Ok((status, err))
    };
    match tokio::time::timeout(timeout, run).await {
        Err(_) => Err(DeliveryError::retryable(format!("{program} timed out after {timeout:?} and was killed"))),
        Ok(Err(e)) => Err(e),
        Ok(Ok((status, _))) if status.success() => Ok(()),
        Ok(Ok((status, err))) => {
            let text = String::from_utf8_lossy(&err);
            Err(DeliveryError::retryable(format!("{program} exited with {status}: {}", text.trim())))
        }
    }
}
