//! One column's section of the HTML report: heading with the verdict, a line of figures, and
//! the charts — reference vs current shares per PSI bin or category (categorical columns: the
//! largest [`MAX_CATEGORIES`], the rest summed up in the caption; few categories also get a
//! table of counts) and, for numeric columns, the two ECDFs with the KS distance.
//!
//! Input: a [`ColumnReport`] and its position in the page order (the anchor `col-<index>` the
//! summary table links to). Output: HTML appended to the page; user data escaped.

use std::fmt::Write;

use super::fmt::{self, esc, int, percent, pvalue, shorten_numbers, sig4, visible};
use super::svg;
use super::{count, kind_name, method_name, missing_text, psi_bins, verdict_badge};
use crate::compare::report::{ColumnDetail, ColumnKind, ColumnReport, ColumnStatus};
use crate::stats::statistic::{Extra, Stat, Statistic, SPECS};

/// Categories drawn per categorical column; the rest are summarised in the caption.
const MAX_CATEGORIES: usize = 30;
/// Above this many bins a bar chart takes the full page width.
const WIDE_BINS: usize = 16;
/// Categorical columns with at most this many categories also get a table of counts.
const TABLE_CATEGORIES: usize = 12;
/// Characters of a bin label drawn on the axis (the tooltip has the whole label).
const AXIS_LABEL_CHARS: usize = 24;

pub(super) fn column_section(out: &mut String, index: usize, c: &ColumnReport) {
    let name = visible(&c.name, 0);
    let _ = write!(
        out,
        "<section class=\"column\" id=\"col-{index}\">\n<h2><span class=\"colname\">{}</span> {} <span class=\"kind\">{}</span>\
         <a class=\"top\" href=\"#summary\">↑ summary</a></h2>\n",
        esc(&name),
        verdict_badge(c),
        kind_name(c.kind),
    );
    chips(out, c);
    match (c.status, &c.detail) {
        (ColumnStatus::EmptyReference, _) => {
            out.push_str("<p class=\"hint\">No values in the reference: nothing to compare.</p>\n")
        }
        (ColumnStatus::EmptyCurrent, _) => {
            out.push_str("<p class=\"hint\">No values in the current data: nothing to compare.</p>\n")
        }
        (ColumnStatus::Ok, None) => out.push_str("<p class=\"hint\">No chart data in this report.</p>\n"),
        (ColumnStatus::Ok, Some(detail)) => charts(out, index, c, detail),
    }
    out.push_str("</section>\n");
}

/// One line of the column's figures, for readers who jumped straight to the section.
fn chips(out: &mut String, c: &ColumnReport) {
    let mut items: Vec<(String, bool)> =
        vec![(format!("values <b>{}</b> / <b>{}</b>", int(c.n_ref), int(c.n_cur)), false)];
    if c.n_ref_missing + c.n_cur_missing + c.n_ref_nonfinite + c.n_cur_nonfinite > 0 {
        items.push((format!("missing {}", missing_text(c).replace("<br>", " ")), false));
    }
    for spec in &SPECS {
        let Some(s) = c.stat(spec.statistic) else { continue };
        let text = match spec.statistic {
            Statistic::Psi => {
                format!("PSI <b>{}</b> <small>({})</small>", sig4(s.value(Stat::Psi)), esc(&psi_bins(c.kind, s)))
            }
            Statistic::Ks => format!(
                "KS D <b>{}</b>, p <b>{}</b> <small>({})</small>",
                sig4(s.value(Stat::KsStatistic)),
                pvalue(s.value(Stat::KsPValue)),
                method_name(s)
            ),
            Statistic::Chisquare => {
                let dof = format!(" <small>(dof {})</small>", count(s, Extra::DegreesOfFreedom));
                let (statistic, p) = (sig4(s.value(Stat::ChisquareStatistic)), pvalue(s.value(Stat::ChisquarePValue)));
                format!("χ² <b>{statistic}</b>, p <b>{p}</b>{dof}")
            }
            Statistic::JensenShannon => format!("JS <b>{}</b>", sig4(s.value(Stat::JensenShannon))),
            Statistic::Wasserstein => {
                let (raw, normalised) = (sig4(s.value(Stat::Wasserstein)), sig4(s.value(Stat::WassersteinNormalized)));
                format!("Wasserstein <b>{raw}</b> <small>(/σ {normalised})</small>")
            }
            // Any other statistic: its label and the value its threshold applies to.
            _ => format!("{} <b>{}</b>", spec.label, sig4(s.decisive())),
        };
        items.push((text, s.drift));
    }
    out.push_str("<p class=\"chips\">");
    for (text, over) in items {
        let _ = write!(out, "<span class=\"chip{}\">{text}</span>", if over { " over" } else { "" });
    }
    out.push_str("</p>\n");
}

fn charts(out: &mut String, index: usize, c: &ColumnReport, detail: &ColumnDetail) {
    let total_ref: u64 = detail.bins.iter().map(|b| b.reference).sum();
    let total_cur: u64 = detail.bins.iter().map(|b| b.current).sum();
    let share = |count: u64, total: u64| if total > 0 { count as f64 / total as f64 } else { 0.0 };
    let mut shown: Vec<svg::Bar> = detail
        .bins
        .iter()
        .map(|b| {
            let drawn = match c.kind {
                ColumnKind::Numeric => shorten_numbers(&b.label, 6),
                ColumnKind::Categorical => b.label.clone(),
            };
            svg::Bar {
                label: visible(&drawn, AXIS_LABEL_CHARS),
                full_label: b.label.clone(),
                reference_count: b.reference,
                current_count: b.current,
                reference: share(b.reference, total_ref),
                current: share(b.current, total_cur),
            }
        })
        .collect();
    let name = visible(&c.name, 80);
    let mut caption = match c.kind {
        ColumnKind::Numeric => {
            let binning = c.stat(Statistic::Psi).map_or(String::new(), |p| format!(" ({})", esc(&psi_bins(c.kind, p))));
            format!("Share of values per PSI bin{binning}. <span class=\"screen\">Hover a bin for its counts.</span>")
        }
        ColumnKind::Categorical => {
            "Share of values per category, largest first. <span class=\"screen\">Hover a bar for its counts.</span>"
                .to_string()
        }
    };
    if c.kind == ColumnKind::Categorical {
        // Largest share on either side first; ties by label so the order is deterministic.
        shown.sort_by(|a, b| {
            b.reference
                .max(b.current)
                .total_cmp(&a.reference.max(a.current))
                .then_with(|| a.full_label.cmp(&b.full_label))
        });
        if shown.len() > MAX_CATEGORIES {
            let rest = shown.split_off(MAX_CATEGORIES);
            let rest_ref: f64 = rest.iter().map(|b| b.reference).sum();
            let rest_cur: f64 = rest.iter().map(|b| b.current).sum();
            let _ = write!(
                caption,
                " Top {MAX_CATEGORIES} of {} categories shown; the {} others hold {} of the reference and {} of the current values.",
                detail.bins.len(),
                rest.len(),
                percent(rest_ref),
                percent(rest_cur)
            );
        }
    }
    let wide = shown.len() > WIDE_BINS;
    // User units: at the usual laptop width a half figure is about 560 px wide, so chart text is
    // drawn near its nominal size.
    let bar_width = if wide { 1120.0 } else { 560.0 };
    let bar_svg = svg::bars(&shown, bar_width, &format!("Reference and current shares per bin of {name}"));
    let _ = writeln!(
        out,
        "<div class=\"charts\">\n<figure class=\"{}\">{bar_svg}<figcaption>{caption}</figcaption></figure>",
        if wide { "wide" } else { "half" }
    );
    match &detail.ecdf {
        Some(e) => {
            let input = svg::EcdfInput {
                reference: &e.reference,
                current: &e.current,
                ks_location: e.ks_location,
                statistic: c.stat(Statistic::Ks).map(|k| k.value(Stat::KsStatistic)),
            };
            let (ecdf_svg, clipped) = svg::ecdf(
                &input,
                &format!("col-{index}"),
                bar_width,
                &format!("Empirical CDFs of {name} with the KS distance"),
            );
            let mut caption = format!(
                "Empirical CDFs. The black segment at x = {} marks the KS statistic D, the largest vertical gap.",
                fmt::short(e.ks_location.0, 6)
            );
            if let Some((lo, hi)) = clipped {
                let _ = write!(
                    caption,
                    " The x axis shows the central 99% of the values; the full range is {} to {}.",
                    sig4(lo),
                    sig4(hi)
                );
            }
            let _ = writeln!(
                out,
                "<figure class=\"{}\">{ecdf_svg}<figcaption>{caption}</figcaption></figure>",
                if wide { "wide" } else { "half" }
            );
        }
        None if c.kind == ColumnKind::Categorical && shown.len() <= TABLE_CATEGORIES => category_table(out, &shown),
        None => {}
    }
    out.push_str("</div>\n");
}

/// Counts and shares of a few categories, beside their chart.
fn category_table(out: &mut String, bars: &[svg::Bar]) {
    out.push_str(
        "<figure class=\"half\"><table class=\"categories\"><thead><tr><th>Category</th>\
         <th class=\"num\">Reference</th><th class=\"num\">Current</th><th class=\"num\">Change</th></tr></thead><tbody>\n",
    );
    for b in bars {
        let change = 100.0 * (b.current - b.reference);
        let _ = writeln!(
            out,
            "<tr><td class=\"name\">{}</td><td class=\"num\">{} <small>({})</small></td><td class=\"num\">{} <small>({})</small></td><td class=\"num\">{}{:.1} pp</td></tr>",
            esc(&visible(&b.full_label, 60)),
            int(b.reference_count),
            percent(b.reference),
            int(b.current_count),
            percent(b.current),
            if change > 0.0 { "+" } else if change < 0.0 { "−" } else { "" },
            change.abs()
        );
    }
    out.push_str(
        "</tbody></table><figcaption>Counts per category; change in percentage points.</figcaption></figure>\n",
    );
}
