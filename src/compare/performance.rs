//! `compare --target COL --prediction COL`: a model's performance on each dataset and the
//! change. Reads the two columns row-aligned (`read.rs`), decides the task (a 0/1 target is a
//! binary classification unless `--task regression`) and what the prediction is (only 0/1
//! values: labels; other numbers: scores), checks every cell (errors name file, line or row
//! and column), and computes `stats::performance` on the rows where both cells are present and
//! finite (the others are counted). The report part and its JSON: [`PerformanceReport`].

pub mod read;

use std::path::Path;
use std::str::FromStr;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use self::read::{Columns, Value};
use super::num::Num;
use super::{CompareError, CompareOptions};
use crate::stats::performance::{self, Confusion, Prediction};

/// What `--target` / `--prediction` ask for.
#[derive(Debug, Clone, PartialEq)]
pub struct PerformanceOptions {
    pub target: String,
    pub prediction: String,
    pub task: TaskChoice,
    pub prediction_type: PredictionChoice,
    /// A score ≥ this predicts the positive class.
    pub threshold: f64,
}

/// `--task`: `auto` takes a target whose values are all 0 / 1 (or true / false) as binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TaskChoice {
    #[default]
    Auto,
    Classification,
    Regression,
}

impl FromStr for TaskChoice {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "auto" => Ok(TaskChoice::Auto),
            "classification" => Ok(TaskChoice::Classification),
            "regression" => Ok(TaskChoice::Regression),
            _ => Err(format!("expected auto, classification or regression, got {text:?}")),
        }
    }
}

/// `--prediction-type` of a classifier: `auto` takes a prediction of only 0 / 1 (or true /
/// false) in both files as predicted labels, any other numbers as scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PredictionChoice {
    #[default]
    Auto,
    Score,
    Label,
}

impl FromStr for PredictionChoice {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "auto" => Ok(PredictionChoice::Auto),
            "score" => Ok(PredictionChoice::Score),
            "label" => Ok(PredictionChoice::Label),
            _ => Err(format!("expected auto, score or label, got {text:?}")),
        }
    }
}

/// The performance part of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct PerformanceReport {
    pub target: String,
    pub prediction: String,
    /// `classification` or `regression`.
    pub task: &'static str,
    /// `score` or `label` (classification), `value` (regression).
    pub prediction_type: &'static str,
    /// The decision threshold (classification with scores); NaN otherwise.
    pub threshold: f64,
    pub reference: Performance,
    pub current: Performance,
}

/// One dataset's metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct Performance {
    /// Rows used: target and prediction both present and finite.
    pub n: u64,
    /// Rows left out: either cell empty, null, NaN or ±inf.
    pub n_excluded: u64,
    /// (metric key, value) in the order of [`METRICS`]; NaN when undefined.
    pub metrics: Vec<(&'static str, f64)>,
    pub confusion: Option<Confusion>,
}

/// Every metric key with its display name, in report order.
pub const METRICS: [(&str, &str); 13] = [
    ("accuracy", "Accuracy"),
    ("precision", "Precision"),
    ("recall", "Recall"),
    ("f1", "F1"),
    ("f1_macro", "F1 (macro)"),
    ("roc_auc", "ROC AUC"),
    ("log_loss", "Log loss"),
    ("brier", "Brier score"),
    ("ece", "Calibration error (ECE)"),
    ("mae", "MAE"),
    ("rmse", "RMSE"),
    ("mape", "MAPE"),
    ("r2", "R²"),
];

impl PerformanceReport {
    /// (key, label, reference, current, current − reference) per metric.
    pub fn rows(&self) -> impl Iterator<Item = (&'static str, &'static str, f64, f64, f64)> + '_ {
        self.reference.metrics.iter().zip(&self.current.metrics).map(|(&(key, r), &(_, c))| {
            let label = METRICS.iter().find(|(k, _)| *k == key).map_or(key, |(_, label)| label);
            (key, label, r, c, c - r)
        })
    }
}

/// Computes the performance part of the report.
pub fn evaluate(options: &CompareOptions, wanted: &PerformanceOptions) -> Result<PerformanceReport, CompareError> {
    let read = |path: &Path, format| -> Result<Columns, CompareError> {
        Ok(read::read(path, format, &wanted.target, &wanted.prediction)?)
    };
    // Both files at once, the current on its own thread (as the dataset loader does).
    let (reference, current) = std::thread::scope(|scope| {
        let current = scope.spawn(|| read(&options.current, options.current_format));
        let reference = read(&options.reference, options.reference_format);
        (reference, current.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    });
    let sides = [(options.reference.as_path(), reference?), (options.current.as_path(), current?)];
    let binary = |v: &Value| matches!(v, Value::Missing | Value::Bool(_) | Value::Number(0.0 | 1.0));
    let all = |f: &dyn Fn(&Columns) -> bool| sides.iter().all(|(_, c)| f(c));
    let classification = match wanted.task {
        TaskChoice::Classification => true,
        TaskChoice::Regression => false,
        TaskChoice::Auto => all(&|c| c.target.iter().all(binary)),
    };
    let labels = classification
        && match wanted.prediction_type {
            PredictionChoice::Label => true,
            PredictionChoice::Score => false,
            PredictionChoice::Auto => all(&|c| c.prediction.iter().all(binary)),
        };
    let check = |path: &Path, columns: &Columns| -> Result<(), CompareError> {
        let target_ok =
            |v: &Value| if classification { binary(v) } else { matches!(v, Value::Missing | Value::Number(_)) };
        let prediction_ok = |v: &Value| if labels { binary(v) } else { matches!(v, Value::Missing | Value::Number(_)) };
        let target_rule = if classification {
            "a binary classification target must be 0 or 1 (or true / false)"
        } else {
            "a regression target must be a number"
        };
        let prediction_rule = match (classification, labels) {
            (true, true) => "a predicted label must be 0 or 1 (or true / false)",
            (true, false) => "a score must be a number",
            (false, _) => "a prediction must be a number",
        };
        for (column, name, ok, rule) in [
            (&columns.target, &wanted.target, &target_ok as &dyn Fn(&Value) -> bool, target_rule),
            (&columns.prediction, &wanted.prediction, &prediction_ok, prediction_rule),
        ] {
            if let Some(row) = column.iter().position(|v| !ok(v)) {
                let message = format!("{}: column {name:?}: {}: {rule}", columns.place(row), shown(&column[row]));
                return Err(CompareError::Performance { path: path.display().to_string(), message });
            }
        }
        Ok(())
    };
    for (path, columns) in &sides {
        check(path, columns)?;
    }
    let [(_, reference), (_, current)] = &sides;
    let side = |columns: &Columns| measure(columns, classification, labels, wanted.threshold);
    Ok(PerformanceReport {
        target: wanted.target.clone(),
        prediction: wanted.prediction.clone(),
        task: if classification { "classification" } else { "regression" },
        prediction_type: match (classification, labels) {
            (true, true) => "label",
            (true, false) => "score",
            (false, _) => "value",
        },
        threshold: if classification && !labels { wanted.threshold } else { f64::NAN },
        reference: side(reference),
        current: side(current),
    })
}

/// A cell as a message shows it.
fn shown(value: &Value) -> String {
    match value {
        Value::Missing => "an empty cell".to_string(),
        Value::Number(v) => format!("{v}"),
        Value::Bool(b) => format!("{b}"),
        Value::Text(t) => format!("{t:?}"),
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(v) if v.is_finite() => Some(*v),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

/// The metrics of one dataset's checked cells.
fn measure(columns: &Columns, classification: bool, labels: bool, threshold: f64) -> Performance {
    let (targets, predictions): (Vec<f64>, Vec<f64>) =
        columns.target.iter().zip(&columns.prediction).filter_map(|(t, p)| Some((number(t)?, number(p)?))).unzip();
    let n = targets.len() as u64;
    let n_excluded = columns.target.len() as u64 - n;
    if !classification {
        let m = performance::regression(&targets, &predictions);
        let metrics = vec![("mae", m.mae), ("rmse", m.rmse), ("mape", m.mape), ("r2", m.r2)];
        return Performance { n, n_excluded, metrics, confusion: None };
    }
    let targets: Vec<bool> = targets.iter().map(|&t| t == 1.0).collect();
    let predicted: Vec<bool>;
    let prediction = if labels {
        predicted = predictions.iter().map(|&p| p == 1.0).collect();
        Prediction::Labels(&predicted)
    } else {
        Prediction::Scores(&predictions)
    };
    let m = performance::classification(&targets, prediction, threshold);
    let mut metrics = vec![
        ("accuracy", m.accuracy),
        ("precision", m.precision),
        ("recall", m.recall),
        ("f1", m.f1),
        ("f1_macro", m.f1_macro),
    ];
    if !labels {
        metrics.extend([("roc_auc", m.roc_auc), ("log_loss", m.log_loss), ("brier", m.brier), ("ece", m.ece)]);
    }
    Performance { n, n_excluded, metrics, confusion: Some(m.confusion) }
}

impl Serialize for PerformanceReport {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(8))?;
        map.serialize_entry("target", &self.target)?;
        map.serialize_entry("prediction", &self.prediction)?;
        map.serialize_entry("task", self.task)?;
        map.serialize_entry("prediction_type", self.prediction_type)?;
        map.serialize_entry("threshold", &Num(self.threshold))?;
        map.serialize_entry("reference", &self.reference)?;
        map.serialize_entry("current", &self.current)?;
        map.serialize_entry("difference", &Difference(self))?;
        map.end()
    }
}

impl Serialize for Performance {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("n", &self.n)?;
        map.serialize_entry("n_excluded", &self.n_excluded)?;
        for &(key, value) in &self.metrics {
            map.serialize_entry(key, &Num(value))?;
        }
        if let Some(c) = &self.confusion {
            map.serialize_entry("confusion", &ConfusionJson { tp: c.tp, fp: c.fp, tn: c.tn, fn_: c.fn_ })?;
        }
        map.end()
    }
}

/// The confusion counts as the JSON report writes them (tp, fp, tn, fn).
#[derive(Serialize)]
struct ConfusionJson {
    tp: u64,
    fp: u64,
    tn: u64,
    #[serde(rename = "fn")]
    fn_: u64,
}

/// `current − reference` per metric.
struct Difference<'a>(&'a PerformanceReport);

impl Serialize for Difference<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (key, _, _, _, difference) in self.0.rows() {
            map.serialize_entry(key, &Num(difference))?;
        }
        map.end()
    }
}
