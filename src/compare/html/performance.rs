//! The model-performance section of the HTML report (`compare --target`): one table, a row per
//! metric with both datasets' values and the change. A higher-is-better metric that fell, or a
//! lower-is-better one that rose, is marked like a statistic past its threshold.

use std::fmt::Write;

use super::fmt::{esc, int, sig4, visible};
use crate::compare::performance::PerformanceReport;

/// Metrics where lower is better (losses and errors); the others (accuracy, F1, AUC, R²) rise.
const LOWER_IS_BETTER: [&str; 6] = ["log_loss", "brier", "ece", "mae", "rmse", "mape"];

pub(super) fn performance_section(out: &mut String, p: &PerformanceReport) {
    let what = match p.prediction_type {
        "score" => format!("binary classification; a score ≥ {} predicts the positive class", sig4(p.threshold)),
        "label" => "binary classification; predicted labels".to_string(),
        _ => "regression".to_string(),
    };
    let _ = write!(
        out,
        "<section id=\"performance\">\n<h2>Model performance</h2>\n<p class=\"hint\">Target <code>{}</code>, \
         prediction <code>{}</code>: {what}. Red: worse in the current dataset. Rows with a missing or \
         non-finite target or prediction are excluded.</p>\n<div class=\"table-wrap\"><table class=\"performance\">\n\
         <thead><tr><th>Metric</th><th class=\"num\">Reference</th><th class=\"num\">Current</th>\
         <th class=\"num\">Difference</th></tr></thead>\n<tbody>\n",
        esc(&visible(&p.target, 0)),
        esc(&visible(&p.prediction, 0)),
    );
    let _ = writeln!(
        out,
        "<tr><td>Rows used <small>(excluded)</small></td><td class=\"num\">{} ({})</td><td class=\"num\">{} ({})</td><td class=\"num na\">–</td></tr>",
        int(p.reference.n),
        int(p.reference.n_excluded),
        int(p.current.n),
        int(p.current.n_excluded),
    );
    for (key, label, reference, current, difference) in p.rows() {
        let worse = if LOWER_IS_BETTER.contains(&key) { difference > 0.0 } else { difference < 0.0 };
        let class = if worse { "num over" } else { "num" };
        let signed = if difference > 0.0 { format!("+{}", sig4(difference)) } else { sig4(difference) };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"{class}\">{signed}</td></tr>",
            esc(label),
            sig4(reference),
            sig4(current),
        );
    }
    out.push_str("</tbody>\n</table></div>\n</section>\n");
}
