//! The contract between `rules` (which decides) and `actions` (which delivers): the
//! [`Notification`] message and its vocabulary (`message.rs`), the `{{ variable }}` templates
//! of annotations, subjects and bodies (`template.rs`), and the [`Checker`] through which rule
//! files and action kinds report problems at a file, line and key path (`checker.rs`). Both
//! sides import this module; neither imports the other's internals.

mod checker;
mod message;
mod template;

pub(crate) use checker::{valid_identifier, Checker};
pub use message::{
    format_number, ActionKind, AlertKey, AlertStatus, AlertSummary, Notification, NotificationStatus, Severity,
};
pub use template::{Piece, Template, ALERT_VARIABLES, BUILTIN_LABELS, NOTIFICATION_VARIABLES};
