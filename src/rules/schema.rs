//! Rule files as written: one type per YAML mapping, one documented field per key.
//!
//! The reference for the format (docs/rules.md follows these docs). Values that need
//! parsing (durations, `for`, templates, globs) are text here; `validate.rs` turns a file into
//! the typed [`super::RuleSet`]. Same conventions as `config::schema` (see `config/de.rs`):
//! optional keys are `Option`s, never `#[serde(default)]`, and variants renamed `$map`,
//! `$seq`, `$scalar` are chosen by the node's shape.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::de::{self, EnumAccess, VariantAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::model::RuleStat;
use crate::stats::statistic::Stat;

/// A `rules/*.yaml` file. Both lists are optional: rules and actions may live in separate
/// files, and names are resolved across every file loaded together.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesFile {
    /// Alert rules.
    pub rules: Option<Vec<RuleDoc>>,
    /// Actions the rules name in their `actions:` lists.
    pub actions: Option<Vec<ActionDoc>>,
}

/// One entry of `rules:`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDoc {
    /// Unique name across every rule file, `[A-Za-z0-9_-]+`, at most 64 characters.
    pub name: String,
    /// The monitor (`monitors[].name` of `driftd.yaml`) the rule watches.
    pub monitor: String,
    /// `inputs`, `predictions` or `both`. Default `both`.
    pub stream: Option<StreamDoc>,
    /// Which features: `"*"`, a glob (`loan_*`), a list of names or globs, or
    /// `{include: …, exclude: […]}`. Default `"*"`. Ignored by dataset-level statistics
    /// except `share_drifted_features`, which counts among the selected features.
    pub features: Option<FeaturesDoc>,
    /// The condition that makes the alert active.
    pub when: ConditionDoc,
    /// The condition that clears an active alert (hysteresis). Default: `when` negated.
    pub clear_when: Option<ConditionDoc>,
    /// Multiple-testing correction of a p-value rule across its selected features.
    pub correction: Option<CorrectionDoc>,
    /// Windows with fewer values (the feature's `n`; `window_events` for dataset-level
    /// statistics) give no verdict: the alert's state is left as it is. Default 0.
    pub min_samples: Option<u64>,
    /// How long the condition must hold before the alert fires: `N windows` or an event-time
    /// duration (`2h`). Default: fire on the first breaching window.
    #[serde(rename = "for")]
    pub for_: Option<String>,
    /// How long a firing alert keeps firing once the condition has cleared: `N windows` or a
    /// duration. Default: resolve on the first clear window.
    pub keep_firing_for: Option<String>,
    /// Notify again while firing, at most this often (event time). Default: never again.
    pub repeat_every: Option<String>,
    /// `info`, `warning` or `critical`. Default `warning`.
    pub severity: Option<SeverityDoc>,
    /// Labels attached to every alert of the rule.
    pub labels: Option<BTreeMap<String, String>>,
    /// Templated texts attached to every alert (`{{ feature }}`, `{{ value }}` …).
    pub annotations: Option<BTreeMap<String, String>>,
    /// Names of the actions notified.
    pub actions: Option<Vec<String>>,
    /// Labels that split the rule's alerts into notifications. Default `[monitor, rule]`.
    pub group_by: Option<Vec<String>>,
}

/// `stream:`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamDoc {
    Inputs,
    Predictions,
    /// The performance metrics of the predictions joined to their labels.
    Labels,
    Both,
}

/// `features:`
#[derive(Debug, Clone, Deserialize)]
pub enum FeaturesDoc {
    /// One name or glob (`"*"`, `loan_*`).
    #[serde(rename = "$scalar")]
    One(String),
    /// Names or globs.
    #[serde(rename = "$seq")]
    List(Vec<String>),
    /// `{include, exclude}`.
    #[serde(rename = "$map")]
    Select(FeatureSelectDoc),
}

/// `features: {include, exclude}`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureSelectDoc {
    /// A name or glob, or a list of them. Default `"*"`.
    pub include: Option<PatternsDoc>,
    /// Names or globs removed from what `include` selects.
    pub exclude: Option<PatternsDoc>,
}

/// A name or glob, or a list of them.
#[derive(Debug, Clone, Deserialize)]
pub enum PatternsDoc {
    #[serde(rename = "$scalar")]
    One(String),
    #[serde(rename = "$seq")]
    List(Vec<String>),
}

impl PatternsDoc {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            PatternsDoc::One(p) => vec![p],
            PatternsDoc::List(v) => v,
        }
    }
}

/// `when:` and `clear_when:`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionDoc {
    /// The statistic compared. In `clear_when`, optional: it must be `when`'s.
    pub stat: Option<StatDoc>,
    /// `>`, `>=`, `<` or `<=`. Not with `correction` (the condition is "rejected").
    pub op: Option<OpDoc>,
    /// A number, or `{sample_size_aware: {alpha}}` (PSI only). Not with `correction`.
    pub value: Option<ThresholdDoc>,
}

/// A statistic's name in a condition: a value of the registry (`stats::statistic::Stat`) or a
/// dataset-level one. Read as an enum of those names, so errors list them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatDoc(pub RuleStat);

/// Every name a condition's `stat` accepts, in the order errors list them.
static STAT_NAMES: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| Stat::every().map(|s| s.name()).chain(RuleStat::DATASET_LEVEL_NAMES).collect());

impl<'de> Deserialize<'de> for StatDoc {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Names;
        impl<'de> Visitor<'de> for Names {
            type Value = StatDoc;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a statistic's name")
            }
            fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<StatDoc, A::Error> {
                let (name, variant): (String, _) = data.variant()?;
                variant.unit_variant()?;
                RuleStat::from_name(&name)
                    .map(StatDoc)
                    .ok_or_else(|| de::Error::unknown_variant(&name, LazyLock::force(&STAT_NAMES).as_slice()))
            }
        }
        deserializer.deserialize_enum("StatDoc", LazyLock::force(&STAT_NAMES).as_slice(), Names)
    }
}

/// A comparison operator: the model's own type (`>`, `>=`, `<`, `<=`).
pub use super::model::Op as OpDoc;

/// `value:`
#[derive(Debug, Clone, Deserialize)]
pub enum ThresholdDoc {
    /// A fixed number.
    #[serde(rename = "$scalar")]
    Fixed(f64),
    /// `{sample_size_aware: {alpha}}`: Yurdakul's bound for PSI.
    #[serde(rename = "sample_size_aware")]
    SampleSizeAware(SampleSizeAwareDoc),
}

/// `value: {sample_size_aware: …}`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleSizeAwareDoc {
    /// Significance level, in (0, 1). Default 0.05.
    pub alpha: Option<f64>,
}

/// `correction:`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorrectionDoc {
    /// `bonferroni` (family-wise error) or `benjamini_hochberg` (false discovery rate).
    pub method: CorrectionMethodDoc,
    /// Family-wise error rate or false discovery rate, in (0, 1). Default 0.05.
    pub alpha: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrectionMethodDoc {
    Bonferroni,
    BenjaminiHochberg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeverityDoc {
    Info,
    Warning,
    Critical,
}

/// One entry of `actions:`: its shared keys (`name`, `kind`, `cooldown`) and one key per action
/// kind, each documented with its kind (`actions/<kind>.rs`).
pub use crate::actions::{ActionDoc, ActionKindDoc};
