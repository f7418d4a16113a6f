//! The two charts of a column section, as inline SVG written by hand: [`bars`] (reference vs
//! current share per bin or category) and [`ecdf`] (both empirical CDFs, the KS distance marked).
//!
//! Why by hand rather than with `plotters`: two chart types only, and writing the markup
//! directly keeps control of escaping, of CSS classes (palette and print styles live in the
//! page's one stylesheet: `ref`, `cur`, …) and of the output size. Inputs are plain numbers and
//! one-line labels, escaped here with [`esc`]; charts scale with the page (fixed `viewBox`, CSS
//! width 100 %); non-finite inputs never reach a coordinate (they are filtered or clamped).

use std::fmt::Write;

use super::fmt::{esc, percent, short, sig4};

/// Average advance of an 11.5 px sans-serif character, for layout estimates (a little generous so
/// that estimated labels do not collide).
const CHAR_PX: f64 = 6.6;
const SIN45: f64 = std::f64::consts::FRAC_1_SQRT_2;

/// One group of two bars.
pub struct Bar {
    /// One-line label as drawn (may be shortened).
    pub label: String,
    /// The full label, for the tooltip.
    pub full_label: String,
    pub reference_count: u64,
    pub current_count: u64,
    /// Shares of the whole sample, in [0, 1].
    pub reference: f64,
    pub current: f64,
}

/// Grouped bar chart `width` user units wide: reference vs current share per bin or category,
/// with a legend, percentage y axis and bin labels on the x axis (rotated 45° and thinned when
/// they do not fit horizontally). Each bin group carries a `<title>` tooltip with the full
/// label and counts.
pub fn bars(bars: &[Bar], width: f64, aria_label: &str) -> String {
    let n = bars.len().max(1) as f64;
    let (top, plot_h, right) = (34.0, 210.0, 12.0);
    let label_px = |s: &str| s.chars().count() as f64 * CHAR_PX;
    let widest = bars.iter().map(|b| label_px(&b.label)).fold(0.0, f64::max);

    let mut left = 50.0;
    let mut slot = (width - left - right) / n;
    let rotate = widest > slot - 8.0;
    // Rotated labels need about 14 units each along the axis; show every k-th when denser.
    let every = if rotate { (14.0 / slot).ceil().max(1.0) as usize } else { 1 };
    if rotate {
        // A label rotated by 45° ending under its bar reaches `len·cos45` to the left: make room
        // for the first ones (bounded, labels are at most a few dozen characters).
        for (i, bar) in bars.iter().enumerate().step_by(every) {
            let need = label_px(&bar.label) * SIN45 - (i as f64 + 0.5) * slot + 6.0;
            left = f64::max(left, need);
        }
        left = left.min(width * 0.3);
        slot = (width - left - right) / n;
    }
    let bottom = if rotate { widest * SIN45 + 20.0 } else { 26.0 };
    let height = top + plot_h + bottom;
    let plot_w = width - left - right;

    let max_share = bars.iter().map(|b| b.reference.max(b.current)).filter(|v| v.is_finite()).fold(0.0, f64::max);
    let ticks = nice_ticks(0.0, if max_share > 0.0 { max_share } else { 1.0 }, 5);
    let y_max = ticks.last().copied().unwrap_or(1.0).max(f64::MIN_POSITIVE);
    let y = |share: f64| top + plot_h * (1.0 - (share / y_max).clamp(0.0, 1.0));

    let mut svg = String::with_capacity(4096 + bars.len() * 600);
    open_svg(&mut svg, width, height, aria_label);
    for &t in &ticks {
        let ty = y(t);
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{left:.1}" x2="{:.1}" y1="{ty:.1}" y2="{ty:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}%</text>"#,
            left + plot_w,
            left - 6.0,
            ty + 4.0,
            short(100.0 * t, 4)
        );
    }
    let group_w = slot * 0.8;
    let bar_w = group_w / 2.0;
    for (i, bar) in bars.iter().enumerate() {
        let x0 = left + i as f64 * slot + (slot - group_w) / 2.0;
        let _ = write!(
            svg,
            "<g class=\"bin\"><title>{}\nreference: {} ({})\ncurrent: {} ({})</title>",
            esc(&bar.full_label),
            bar.reference_count,
            percent(bar.reference),
            bar.current_count,
            percent(bar.current)
        );
        // A transparent full-height rectangle makes the tooltip easy to reach on small bars.
        let _ =
            write!(svg, r#"<rect class="hit" x="{x0:.2}" y="{top:.1}" width="{group_w:.2}" height="{plot_h:.1}"/>"#);
        for (class, share, x) in [("ref", bar.reference, x0), ("cur", bar.current, x0 + bar_w)] {
            let share = if share.is_finite() { share } else { 0.0 };
            let h = top + plot_h - y(share);
            let _ = write!(
                svg,
                r#"<rect class="{class}" x="{x:.2}" y="{:.2}" width="{:.2}" height="{h:.2}"/>"#,
                y(share),
                (bar_w - 0.5).max(0.5)
            );
        }
        svg.push_str("</g>");
    }
    let base = top + plot_h;
    let _ =
        write!(svg, r#"<line class="axis" x1="{left:.1}" x2="{:.1}" y1="{base:.1}" y2="{base:.1}"/>"#, left + plot_w);
    for (i, bar) in bars.iter().enumerate().step_by(every) {
        let cx = left + (i as f64 + 0.5) * slot;
        if rotate {
            let _ = write!(
                svg,
                r#"<text class="label" text-anchor="end" transform="translate({cx:.1},{:.1}) rotate(-45)">{}</text>"#,
                base + 12.0,
                esc(&bar.label)
            );
        } else {
            let _ = write!(
                svg,
                r#"<text class="label" x="{cx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                base + 16.0,
                esc(&bar.label)
            );
        }
    }
    legend(&mut svg, left, LegendMark::Box);
    svg.push_str("</svg>");
    svg
}

/// What the ECDF chart needs.
pub struct EcdfInput<'a> {
    pub reference: &'a [(f64, f64)],
    pub current: &'a [(f64, f64)],
    /// (x, F_ref(x), F_cur(x)) where the gap is largest.
    pub ks_location: (f64, f64, f64),
    /// The KS statistic as reported (falls back to the gap at `ks_location`).
    pub statistic: Option<f64>,
}

/// The ECDF chart and, when the x axis was limited to the central quantiles, the full range
/// (min, max) of the data so the caller can say so.
///
/// Both empirical CDFs as step lines, the KS distance drawn as a vertical segment at the point
/// of largest gap and labelled "D = …". When a few extreme values would squash the picture,
/// the x axis is limited to the 0.5–99.5 % quantiles of both samples.
/// `id` must be unique within the page (it names the clip path).
pub fn ecdf(input: &EcdfInput<'_>, id: &str, width: f64, aria_label: &str) -> (String, Option<(f64, f64)>) {
    let finite = |points: &[(f64, f64)]| -> Vec<(f64, f64)> {
        points.iter().copied().filter(|(x, f)| x.is_finite() && f.is_finite()).collect()
    };
    let (reference, current) = (finite(input.reference), finite(input.current));
    let (ks_x, ks_ref, ks_cur) = input.ks_location;
    let ks_x = if ks_x.is_finite() { Some(ks_x) } else { None };

    let xs = || reference.iter().chain(&current).map(|p| p.0).chain(ks_x);
    let full_lo = xs().fold(f64::INFINITY, f64::min);
    let full_hi = xs().fold(f64::NEG_INFINITY, f64::max);
    let (full_lo, full_hi) = if full_lo.is_finite() { (full_lo, full_hi) } else { (0.0, 1.0) };

    // Limit the axis to the central 99 % of both samples when the tails would take most of the
    // width (a single extreme outlier otherwise turns both curves into one vertical line).
    let quantile = |points: &[(f64, f64)], p: f64| points.iter().find(|pt| pt.1 >= p).map(|pt| pt.0);
    let lo =
        [quantile(&reference, 0.005), quantile(&current, 0.005), ks_x].into_iter().flatten().fold(full_hi, f64::min);
    let hi =
        [quantile(&reference, 0.995), quantile(&current, 0.995), ks_x].into_iter().flatten().fold(full_lo, f64::max);
    let full_span = full_hi - full_lo;
    let clipped = full_span > 0.0 && hi > lo && (hi - lo) < full_span / 4.0;
    let (mut d_lo, mut d_hi) = if clipped {
        let pad = 0.03 * (hi - lo);
        ((lo - pad).max(full_lo), (hi + pad).min(full_hi))
    } else {
        (full_lo, full_hi)
    };
    if d_hi <= d_lo {
        // A constant column: centre the single step.
        let half = if d_lo != 0.0 { d_lo.abs() * 0.05 } else { 0.5 };
        d_lo -= half;
        d_hi += half;
    }
    let x_ticks = nice_ticks(d_lo, d_hi, 6);
    // Extend to the outer ticks unless that would add more than a fifth of blank axis.
    let (x_lo, x_hi) = match (x_ticks.first(), x_ticks.last()) {
        (Some(&a), Some(&b)) if (b - a) <= 1.2 * (d_hi - d_lo) => (a, b),
        _ => (d_lo, d_hi),
    };

    let (top, plot_h, bottom, left, right) = (34.0, 210.0, 30.0, 44.0, 16.0);
    let plot_w = width - left - right;
    let height = top + plot_h + bottom;
    // Clamped so that far-away points stay representable; the clip path hides the overflow.
    let px = |x: f64| (left + (x - x_lo) / (x_hi - x_lo) * plot_w).clamp(left - 20.0, left + plot_w + 20.0);
    let py = |f: f64| top + plot_h * (1.0 - f.clamp(0.0, 1.0));

    let mut svg = String::with_capacity(16 * 1024);
    open_svg(&mut svg, width, height, aria_label);
    let clip_id = format!("clip-{id}");
    let _ = write!(
        svg,
        r#"<defs><clipPath id="{clip_id}"><rect x="{left:.1}" y="{:.1}" width="{plot_w:.1}" height="{:.1}"/></clipPath></defs>"#,
        top - 2.0,
        plot_h + 4.0
    );
    for f in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let ty = py(f);
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{left:.1}" x2="{:.1}" y1="{ty:.1}" y2="{ty:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            left + plot_w,
            left - 6.0,
            ty + 4.0,
            short(f, 2)
        );
    }
    for &t in
        x_ticks.iter().filter(|&&t| t >= x_lo - 1e-12 * (x_hi - x_lo).abs() && t <= x_hi + 1e-12 * (x_hi - x_lo).abs())
    {
        let tx = px(t);
        let _ = write!(
            svg,
            r#"<line class="tickmark" x1="{tx:.1}" x2="{tx:.1}" y1="{:.1}" y2="{:.1}"/><text class="tick" x="{tx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            top + plot_h,
            top + plot_h + 4.0,
            top + plot_h + 16.0,
            short(t, 4)
        );
    }
    let _ = write!(
        svg,
        r#"<line class="axis" x1="{left:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}"/>"#,
        left + plot_w,
        top + plot_h,
        top + plot_h
    );
    let _ = write!(svg, r#"<g clip-path="url(#{clip_id})">"#);
    for (class, points) in [("ref-line", &reference), ("cur-line", &current)] {
        let _ = write!(svg, r#"<path class="{class}" d="M{:.2},{:.2}"#, left - 20.0, py(0.0));
        for &(x, f) in points.iter() {
            let _ = write!(svg, "H{:.2}V{:.2}", px(x), py(f));
        }
        let _ = write!(svg, r#"H{:.2}"/>"#, left + plot_w + 20.0);
    }
    svg.push_str("</g>");

    if let Some(x) = ks_x {
        let d = input.statistic.filter(|d| d.is_finite()).unwrap_or((ks_ref - ks_cur).abs());
        let (mx, y1, y2) = (px(x), py(ks_ref), py(ks_cur));
        let _ = write!(
            svg,
            r#"<line class="ks-guide" x1="{mx:.2}" x2="{mx:.2}" y1="{top:.1}" y2="{:.1}"/><line class="ks" x1="{mx:.2}" x2="{mx:.2}" y1="{y1:.2}" y2="{y2:.2}"/><line class="ks" x1="{:.2}" x2="{:.2}" y1="{y1:.2}" y2="{y1:.2}"/><line class="ks" x1="{:.2}" x2="{:.2}" y1="{y2:.2}" y2="{y2:.2}"/>"#,
            top + plot_h,
            mx - 4.0,
            mx + 4.0,
            mx - 4.0,
            mx + 4.0
        );
        // Both ECDFs are non-decreasing, so the region above-left of the segment's upper end and
        // the region below-right of its lower end are free of either curve: put the label in the
        // first that fits inside the plot, else beside the segment.
        let label_w = 13.0 * 0.62 * (4 + sig4(d).chars().count()) as f64;
        let (y_high, y_low) = (y1.min(y2), y1.max(y2));
        let (tx, ty, anchor) = if mx - 8.0 - label_w > left && y_high - 20.0 > top {
            (mx - 6.0, y_high - 6.0, "end")
        } else if mx + 8.0 + label_w < left + plot_w && y_low + 20.0 < top + plot_h {
            (mx + 6.0, y_low + 16.0, "start")
        } else if mx > left + 0.65 * plot_w {
            (mx - 8.0, ((y1 + y2) / 2.0 + 4.0).clamp(top + 12.0, top + plot_h - 4.0), "end")
        } else {
            (mx + 8.0, ((y1 + y2) / 2.0 + 4.0).clamp(top + 12.0, top + plot_h - 4.0), "start")
        };
        let _ = write!(
            svg,
            r#"<text class="ks-label" x="{tx:.1}" y="{ty:.1}" text-anchor="{anchor}">D = {}</text>"#,
            sig4(d)
        );
    }
    legend(&mut svg, left, LegendMark::Line);
    svg.push_str("</svg>");
    (svg, clipped.then_some((full_lo, full_hi)))
}

fn open_svg(svg: &mut String, width: f64, height: f64, aria_label: &str) {
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {width:.0} {height:.0}" preserveAspectRatio="xMidYMid meet" role="img" aria-label="{}">"#,
        esc(aria_label)
    );
}

enum LegendMark {
    Box,
    Line,
}

fn legend(svg: &mut String, left: f64, mark: LegendMark) {
    let mut x = left;
    for (class, text) in [("ref", "reference"), ("cur", "current")] {
        match mark {
            LegendMark::Box => {
                let _ = write!(svg, r#"<rect class="{class}" x="{x:.1}" y="10" width="12" height="12"/>"#);
            }
            LegendMark::Line => {
                let _ = write!(svg, r#"<line class="{class}-line" x1="{x:.1}" x2="{:.1}" y1="16" y2="16"/>"#, x + 14.0);
            }
        }
        let _ = write!(svg, r#"<text class="legend" x="{:.1}" y="20">{text}</text>"#, x + 18.0);
        x += 18.0 + text.len() as f64 * 7.0 + 18.0;
    }
}

/// Ticks at 1, 2 or 5 × 10^k covering [lo, hi] with about `target` intervals. Each tick is
/// computed as an integer multiple of the step (no accumulated rounding).
pub fn nice_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return vec![lo];
    }
    let raw = span / target.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = match raw / magnitude {
        r if r <= 1.0 => 1.0,
        r if r <= 2.0 => 2.0,
        r if r <= 5.0 => 5.0,
        _ => 10.0,
    } * magnitude;
    let first = (lo / step + 1e-9).floor() as i64;
    let last = (hi / step - 1e-9).ceil() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_cover_the_range_with_round_steps() {
        assert_eq!(nice_ticks(0.0, 0.23, 5), vec![0.0, 0.05, 0.1, 0.15000000000000002, 0.2, 0.25]);
        let t = nice_ticks(18.0, 92.0, 6);
        assert_eq!((t[0], *t.last().unwrap()), (0.0, 100.0));
        assert_eq!(nice_ticks(3.0, 3.0, 5), vec![3.0]);
    }

    #[test]
    fn labels_are_escaped_in_tooltip_and_axis() {
        let bar = Bar {
            label: "<b>".into(),
            full_label: "a\"b&c".into(),
            reference_count: 1,
            current_count: 2,
            reference: 0.5,
            current: 1.0,
        };
        let svg = bars(&[bar], 640.0, "x<y");
        assert!(svg.contains("&lt;b&gt;") && svg.contains("a&quot;b&amp;c") && svg.contains("x&lt;y"));
        assert!(!svg.contains("<b>"));
    }

    #[test]
    fn an_extreme_outlier_limits_the_axis() {
        let reference: Vec<(f64, f64)> = (1..=1000).map(|i| (i as f64, i as f64 / 1000.0)).collect();
        let mut current = reference.clone();
        current.push((1e9, 1.0));
        let input = EcdfInput {
            reference: &reference,
            current: &current,
            ks_location: (500.0, 0.5, 0.49),
            statistic: Some(0.01),
        };
        let (svg, clipped) = ecdf(&input, "a", 640.0, "x");
        assert_eq!(clipped, Some((1.0, 1e9)));
        assert!(svg.contains("D = 0.01000"));
        let (_, clipped) = ecdf(&EcdfInput { current: &reference, ..input }, "b", 640.0, "x");
        assert_eq!(clipped, None);
    }
}
