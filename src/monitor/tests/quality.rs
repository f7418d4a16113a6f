//! Data-quality shares of a window: every kind of cell counted once, past the sample cap too,
//! and a feature with no usable value in the window still reports its missing share.

use super::{categorical, numeric, profile, record, value_of};
use crate::monitor::*;
use crate::record::Value;
use crate::stats::binning::Binning;
use crate::stats::statistic::{Statistic, Statistics};

fn quality() -> Statistics {
    [Statistic::MissingShare, Statistic::TypeMismatchShare, Statistic::OutOfRangeShare, Statistic::UnseenCategoryShare]
        .into_iter()
        .collect()
}

/// One count window of six records: x against a reference spanning [0, 10], c against {a, b},
/// e against {a} and never present.
fn window(ks_sample_cap: usize) -> Vec<Observation> {
    let reference: Vec<f64> = (0..=10).map(f64::from).collect();
    let p = profile(
        vec![
            numeric("x", reference, &Binning::default()),
            categorical("c", &[("a", 3), ("b", 1)]),
            categorical("e", &[("a", 1)]),
        ],
        vec![],
    );
    let settings = MonitorSettings { statistics: quality(), ks_sample_cap, ..MonitorSettings::default() };
    let mut core = MonitorCore::new("m", p, WindowSpec::tumbling_count(6), settings).unwrap();
    let text = |s: &str| Value::Text(s.to_string());
    let rows = [
        // x: in range (the reference's extremes are inside), below, above, mistyped, missing, inf
        (Value::Number(0.0), text("a")),
        (Value::Number(-0.5), text("c")),
        (Value::Number(10.5), text("d")),
        (text("abc"), text("b")),
        (Value::Missing, Value::Missing),
        (Value::Number(f64::INFINITY), text("c")),
    ];
    for (i, (x, c)) in rows.into_iter().enumerate() {
        core.on_record(&record(Stream::Inputs, 0, vec![x, c, Value::Missing], i as u64));
    }
    core.on_watermark()
}

#[test]
fn every_kind_of_cell_is_counted_once_in_its_share() {
    for cap in [100, 1] {
        let observations = window(cap);
        let of = |feature: &str, stat: Stat| value_of(&observations, feature, stat);
        // x: 6 cells, 1 missing, 1 mistyped, 1 non-finite; 3 finite values, 2 out of [0, 10].
        assert_eq!(of("x", Stat::MissingShare), 1.0 / 6.0, "cap {cap}");
        assert_eq!(of("x", Stat::TypeMismatchShare), 1.0 / 6.0, "cap {cap}");
        assert_eq!(of("x", Stat::OutOfRangeShare), 2.0 / 3.0, "cap {cap}");
        // c: 6 cells, 1 missing; 5 labels, 3 of them (c, d, c) unseen in the reference.
        assert_eq!((of("c", Stat::MissingShare), of("c", Stat::UnseenCategoryShare)), (1.0 / 6.0, 0.6));
        // e: never present; the window cannot be compared, its missing share still says why.
        assert_eq!(of("e", Stat::MissingShare), 1.0);
        assert!(of("e", Stat::UnseenCategoryShare).is_nan());
    }
    // Only the shares that apply to a feature's type are observed.
    let stats: Vec<(String, Stat)> = window(100).into_iter().map(|o| (o.feature, o.stat)).collect();
    let numeric_shares = [Stat::MissingShare, Stat::TypeMismatchShare, Stat::OutOfRangeShare];
    let categorical_shares = [Stat::MissingShare, Stat::UnseenCategoryShare];
    let expected: Vec<(String, Stat)> = numeric_shares
        .iter()
        .map(|&s| ("x".to_string(), s))
        .chain(categorical_shares.iter().map(|&s| ("c".to_string(), s)))
        .chain(categorical_shares.iter().map(|&s| ("e".to_string(), s)))
        .collect();
    assert_eq!(stats, expected);
}
