//! Property tests of profiles: the merge of the profiles of any partition of a dataset is the
//! profile of the whole (counts, bins and categories bit for bit; moments within rounding; the
//! sketch within its rank-error bound), and the binary format round-trips and rejects every
//! truncation and damaged byte.

use proptest::prelude::*;

use super::*;
use crate::dataset::{CategoricalValues, Column, ColumnData, Dataset, Format, NumericValues};
use crate::stats::binning::Binning;
use crate::stats::sketch_walk::ks_statistic_sketch;
use crate::stats::sort::sort_floats;

/// One row: a numeric cell (NaN = missing, ±inf = non-finite) and a label (None = missing).
type Row = (f64, Option<u8>);

fn dataset(name: &str, rows: &[Row]) -> Dataset {
    let mut numeric = NumericValues::default();
    let mut labels: Vec<(String, u64)> = Vec::new();
    let mut categorical = CategoricalValues::default();
    for &(x, label) in rows {
        match x {
            x if x.is_nan() => numeric.missing += 1,
            x if x.is_infinite() => numeric.nonfinite += 1,
            x => numeric.values.push(x),
        }
        match label {
            None => categorical.missing += 1,
            Some(l) => add_counts(&mut labels, &[(format!("c{l}"), 1)]),
        }
    }
    categorical.counts = labels;
    Dataset {
        path: name.into(),
        format: Format::Csv,
        rows: rows.len() as u64,
        columns: vec![
            Column { name: "x".into(), data: ColumnData::Numeric(numeric) },
            Column { name: "label".into(), data: ColumnData::Categorical(categorical) },
        ],
    }
}

fn cell() -> impl Strategy<Value = Row> {
    let x = prop_oneof![
        20 => (-1000i32..1000).prop_map(|v| f64::from(v) / 8.0),
        20 => any::<f64>().prop_filter("finite", |v| v.is_finite()).prop_map(|v| v / 1e300),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
    ];
    (x, proptest::option::weighted(0.9, 0u8..12))
}

/// Rows, and a part number (< 5) for each row: the partition.
fn partitioned() -> impl Strategy<Value = (Vec<Row>, Vec<usize>)> {
    proptest::collection::vec((cell(), 0usize..5), 1..3000).prop_map(|rows| rows.into_iter().unzip())
}

fn build_one(rows: &[Row], binning: &Binning, edges_from: Option<(&str, &Profile)>) -> Profile {
    build_datasets(vec![dataset("d.csv", rows)], binning, edges_from, 200, false).unwrap().0
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn merged_partition_profiles_are_the_whole_profile((rows, parts) in partitioned(), quantile in any::<bool>()) {
        let binning = if quantile { Binning::Quantile { bins: 10 } } else { "edges:-10,0,0,2.5,100".parse().unwrap() };
        let whole = build_one(&rows, &binning, None);
        let mut merged: Option<Profile> = None;
        for part in 0..5 {
            let part_rows: Vec<Row> = rows.iter().zip(&parts).filter(|(_, &p)| p == part).map(|(r, _)| *r).collect();
            let profile = build_one(&part_rows, &binning, Some(("whole.profile", &whole)));
            match &mut merged {
                None => merged = Some(profile),
                Some(m) => m.merge("merged", &profile, "part").unwrap(),
            }
        }
        let merged = merged.unwrap();
        prop_assert_eq!(merged.rows, whole.rows);
        prop_assert_eq!(&merged.binning, &whole.binning);
        let (ColumnSummary::Numeric(m), ColumnSummary::Numeric(w)) = (&merged.columns[0].summary, &whole.columns[0].summary) else {
            panic!("x is numeric");
        };
        prop_assert_eq!((m.n, m.missing, m.nonfinite), (w.n, w.missing, w.nonfinite));
        prop_assert!(same_edges(&m.edges, &w.edges));
        prop_assert_eq!(&m.bins, &w.bins);
        prop_assert_eq!((m.moments.count, m.moments.min.to_bits(), m.moments.max.to_bits()),
            (w.moments.count, w.moments.min.to_bits(), w.moments.max.to_bits()));
        let scale = w.moments.min.abs().max(w.moments.max.abs()).max(1e-300);
        prop_assert!((m.moments.mean - w.moments.mean).abs() <= 1e-12 * scale, "{} vs {}", m.moments.mean, w.moments.mean);
        prop_assert!((m.moments.m2 - w.moments.m2).abs() <= 1e-9 * w.moments.m2.abs() + 1e-12 * scale * scale * w.n as f64);
        // The sketch: every value counted, and its CDF within its bound of the exact one.
        prop_assert_eq!(m.sketch.n(), w.n);
        let mut exact: Vec<f64> = rows.iter().map(|r| r.0).filter(|v| v.is_finite()).collect();
        sort_floats(&mut exact);
        if !exact.is_empty() {
            let d = ks_statistic_sketch(&exact, &m.sketch.sorted_view());
            prop_assert!(d <= m.sketch.normalized_rank_error(), "D {} > ε {}", d, m.sketch.normalized_rank_error());
        }
        prop_assert_eq!(&merged.columns[1], &whole.columns[1], "categorical: bit for bit");
    }

    #[test]
    fn the_binary_format_round_trips_and_rejects_damage((rows, _) in partitioned(), cut in any::<prop::sample::Index>(), flip in any::<prop::sample::Index>()) {
        let profile = build_one(&rows, &Binning::Quantile { bins: 10 }, None);
        let bytes = encode(&profile);
        prop_assert_eq!(decode(&bytes, "p.profile").unwrap(), profile);
        let cut = cut.index(bytes.len());
        let truncated = decode(&bytes[..cut], "p.profile").unwrap_err().to_string();
        prop_assert!(truncated.starts_with("p.profile: "), "{}", truncated);
        let mut damaged = bytes.clone();
        damaged[flip.index(bytes.len())] ^= 0x20;
        let damaged = decode(&damaged, "p.profile").unwrap_err().to_string();
        prop_assert!(damaged.starts_with("p.profile: "), "{}", damaged);
    }
}

#[test]
fn merge_refuses_other_edges_naming_both_files() {
    let rows: Vec<Row> = (0..100).map(|i| (f64::from(i), Some(1))).collect();
    let mut a = build_one(&rows[..50], &Binning::Quantile { bins: 4 }, None);
    let b = build_one(&rows[50..], &Binning::Quantile { bins: 4 }, None);
    let err = a.merge("a.profile", &b, "b.profile").unwrap_err().to_string();
    assert!(
        err.starts_with("b.profile: does not match a.profile: column \"x\" has bin edge 0 = 62.25, not 12.25"),
        "{err}"
    );
}
