//! Loaded rules and actions: the typed, validated form the engine and delivery use.
//!
//! Everything here was checked at load (names resolve, templates only use known variables,
//! thresholds make sense for their statistic), so evaluation never meets a malformed rule.
//! Rules are `Serialize` so that a stable hash of their definition ([`Rule::hash`]) can tell a
//! SIGHUP reload which alert states to keep.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::actions::Action;
use crate::monitor::Stat;
use crate::notification::{Severity, Template};
use crate::record::Stream;

/// Every rule and action of the files loaded together.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleSet {
    /// In file order (files in the order given, a directory's files by name).
    pub rules: Vec<Rule>,
    pub actions: BTreeMap<String, Action>,
}

impl RuleSet {
    pub fn rule(&self, name: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.name == name)
    }
}

/// What a condition compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleStat {
    /// A per-feature statistic: one alert per selected feature.
    Feature(Stat),
    /// Drifted features / selected features of the stream in the window (dataset level).
    ShareDriftedFeatures,
    /// Events in the window (dataset level).
    WindowEvents,
}

impl RuleStat {
    /// The names of the dataset-level statistics (the others are the registry's `Stat`s).
    pub const DATASET_LEVEL_NAMES: [&'static str; 2] = ["share_drifted_features", "window_events"];

    /// The statistic called `name` in a rule file.
    pub fn from_name(name: &str) -> Option<RuleStat> {
        match name {
            "share_drifted_features" => Some(RuleStat::ShareDriftedFeatures),
            "window_events" => Some(RuleStat::WindowEvents),
            _ => Stat::every().find(|s| s.name() == name).map(RuleStat::Feature),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            RuleStat::Feature(s) => s.name(),
            RuleStat::ShareDriftedFeatures => "share_drifted_features",
            RuleStat::WindowEvents => "window_events",
        }
    }

    /// Dataset-level statistics have one alert per stream, with feature `"*"`.
    pub fn is_dataset_level(self) -> bool {
        !matches!(self, RuleStat::Feature(_))
    }

    pub fn is_p_value(self) -> bool {
        matches!(self, RuleStat::Feature(stat) if stat.is_p_value())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
}

impl Op {
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Op::Gt => value > threshold,
            Op::Ge => value >= threshold,
            Op::Lt => value < threshold,
            Op::Le => value <= threshold,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
        }
    }
}

/// A condition's right-hand side.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Threshold {
    Fixed(f64),
    /// Yurdakul (2018): χ²_{1−α, B−1} · (1/n_ref + 1/n_cur), per feature and window.
    SampleSizeAware {
        alpha: f64,
    },
}

/// `stat op threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    pub stat: RuleStat,
    pub op: Op,
    pub threshold: Threshold,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrectionMethod {
    Bonferroni,
    BenjaminiHochberg,
}

/// Multiple-testing correction of a p-value rule across its selected features in a window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Correction {
    pub method: CorrectionMethod,
    pub alpha: f64,
}

/// How the condition of a rule is decided.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// `when` (and `clear_when`, default: `when` negated).
    Threshold { when: Condition, clear_when: Option<Condition> },
    /// A p-value rejected after correction across the selected features; cleared when not
    /// rejected, or by `clear_when` on the raw p-value when given.
    Corrected { stat: RuleStat, correction: Correction, clear_when: Option<Condition> },
}

impl Trigger {
    pub fn stat(&self) -> RuleStat {
        match self {
            Trigger::Threshold { when, .. } => when.stat,
            Trigger::Corrected { stat, .. } => *stat,
        }
    }
}

/// `N windows` or an event-time duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Span {
    Windows(u32),
    #[serde(with = "millis")]
    Duration(Duration),
}

impl Span {
    pub fn is_zero(self) -> bool {
        matches!(self, Span::Windows(0)) || self == Span::Duration(Duration::ZERO)
    }
}

mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

/// Glob patterns (`*` any run of characters, `?` one character) selecting features.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureSelector {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

impl FeatureSelector {
    pub fn all() -> FeatureSelector {
        FeatureSelector { include: vec!["*".into()], exclude: Vec::new() }
    }

    pub fn matches(&self, feature: &str) -> bool {
        self.include.iter().any(|p| glob_match(p, feature)) && !self.exclude.iter().any(|p| glob_match(p, feature))
    }
}

/// `*` matches any run of characters (empty too), `?` one character; nothing else is special.
pub use crate::glob::matches as glob_match;

/// One alert rule, validated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    pub name: String,
    pub monitor: String,
    /// The streams watched (one or both).
    pub streams: Vec<Stream>,
    pub features: FeatureSelector,
    pub trigger: Trigger,
    pub min_samples: u64,
    /// `None`: fire on the first breaching window.
    pub for_: Option<Span>,
    pub keep_firing_for: Option<Span>,
    #[serde(with = "opt_millis")]
    pub repeat_every: Option<Duration>,
    pub severity: Severity,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, Template>,
    pub actions: Vec<String>,
    pub group_by: Vec<String>,
    /// The file the rule came from (messages; not part of [`Rule::hash`]).
    #[serde(skip)]
    pub file: PathBuf,
}

mod opt_millis {
    use serde::Serializer;
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            None => s.serialize_none(),
        }
    }
}

/// What identifies a rule's alerts across a reload: the condition and the lifecycle, the
/// labels and the grouping. Annotations, actions, `repeat_every` and the severity may change
/// without resetting the alerts (new texts and receivers apply to the running episode).
#[derive(Serialize)]
struct RuleIdentity<'a> {
    name: &'a str,
    monitor: &'a str,
    streams: &'a [Stream],
    features: &'a FeatureSelector,
    trigger: &'a Trigger,
    min_samples: u64,
    for_: &'a Option<Span>,
    keep_firing_for: &'a Option<Span>,
    labels: &'a BTreeMap<String, String>,
    group_by: &'a [String],
}

impl Rule {
    /// A stable hash (hex SHA-256 of the identity's JSON) of what identifies the rule's alerts.
    pub fn hash(&self) -> String {
        let identity = RuleIdentity {
            name: &self.name,
            monitor: &self.monitor,
            streams: &self.streams,
            features: &self.features,
            trigger: &self.trigger,
            min_samples: self.min_samples,
            for_: &self.for_,
            keep_firing_for: &self.keep_firing_for,
            labels: &self.labels,
            group_by: &self.group_by,
        };
        // serde_json writes struct fields in declaration order and maps sorted (BTreeMap): stable.
        let json = serde_json::to_vec(&identity).unwrap_or_default();
        Sha256::digest(&json).iter().take(16).map(|b| format!("{b:02x}")).collect()
    }
}

/// Default `alpha` of corrections and sample-size-aware thresholds.
pub const DEFAULT_ALPHA: f64 = 0.05;
