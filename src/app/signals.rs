//! Signals: SIGTERM / Ctrl-C cancel the run's shutdown token; SIGHUP reloads the rule files;
//! SIGXFSZ is ignored.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tracing::{error, info};

use crate::config::Config;
use crate::pipeline::alerting::Alerting;
use crate::pipeline::RunError;

/// Ignores SIGXFSZ, as databases do: a write past the file-size limit (`RLIMIT_FSIZE`) then
/// fails with EFBIG — a failed checkpoint, retried — instead of killing the daemon mid-write.
pub(super) fn ignore_file_size_signal() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_IGN installs no handler code; it is done
    // once, at start-up.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// SIGTERM or Ctrl-C cancels `stop`; SIGHUP reloads the alert rules (the rule files named by
/// `config`), keeping the states of unchanged rules — a file with problems is reported and the
/// rules in force are kept. The handlers are installed before this returns.
pub(super) fn listen_for_signals(
    stop: CancellationToken,
    config: Config,
    alerting: Arc<Alerting>,
    actions: crate::actions::ActionsHandle,
) -> Result<(), RunError> {
    #[cfg(unix)]
    let mut term =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).map_err(RunError::Signal)?;
    #[cfg(unix)]
    let mut hangup =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).map_err(RunError::Signal)?;
    tokio::spawn(async move {
        loop {
            #[cfg(unix)]
            let (terminate, reload) = (term.recv(), hangup.recv());
            #[cfg(not(unix))]
            let (terminate, reload) = (std::future::pending::<Option<()>>(), std::future::pending::<Option<()>>());
            tokio::select! {
                _ = tokio::signal::ctrl_c() => break,
                _ = terminate => break,
                _ = reload => {
                    // Parsed on a blocking thread, off this task: a huge or hostile rule file
                    // must not delay SIGTERM or stall a runtime worker.
                    let (config, alerting, actions) = (config.clone(), alerting.clone(), actions.clone());
                    tokio::spawn(async move {
                        match tokio::task::spawn_blocking(move || crate::rules::load_for_config(&config)).await {
                            Ok(Ok(rules)) => {
                                let (n_rules, n_actions) = (rules.rules.len(), rules.actions.len());
                                actions.reload(rules.actions.clone());
                                alerting.reload(rules);
                                info!(rules = n_rules, actions = n_actions, "Rules reloaded (SIGHUP).");
                            }
                            Ok(Err(errors)) => {
                                let problems = errors.to_string().replace('\n', "; ");
                                error!(problems = %problems, "Rules not reloaded: the files have problems; the rules in force stay.");
                            }
                            Err(err) => error!(error = %err, "The rules reload failed."),
                        }
                    });
                }
            }
        }
        info!("Shutdown requested.");
        stop.cancel();
    });
    Ok(())
}
