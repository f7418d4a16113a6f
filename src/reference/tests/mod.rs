//! Tests of fitting, saving and loading reference profiles: round trips, parity with
//! `driftd compare`, option errors, subsampling. Format errors: `file.rs`.

use crate::stats::statistic::{Stat, Statistic, Statistics};
use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::*;
use crate::compare::{self, CompareOptions};
use crate::dataset::{self, ColumnData, LoadOptions};
use crate::stats::binning::Binning;
use crate::stats::profile::{compare_categorical, compare_numeric, sort_floats, CompareSettings};

pub(super) fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data").join(name)
}

pub(super) fn credit_options() -> FitOptions {
    FitOptions { predictions: vec!["score".to_string()], model_version: Some("v1".to_string()), ..Default::default() }
}

/// Every float of two profiles has the same bits (PartialEq treats -0.0 == 0.0 and NaN != NaN).
pub(super) fn assert_same_bits(a: &ReferenceProfile, b: &ReferenceProfile) {
    assert_eq!(a.streams.len(), b.streams.len());
    for ((sa, fa), (sb, fb)) in a.streams.iter().zip(&b.streams) {
        assert_eq!(sa, sb);
        assert_eq!(fa.features.len(), fb.features.len());
        for (x, y) in fa.features.iter().zip(&fb.features) {
            assert_eq!(
                (&x.name, x.n, x.missing, x.nonfinite, &x.bin_counts),
                (&y.name, y.n, y.missing, y.nonfinite, &y.bin_counts)
            );
            match (&x.kind, &y.kind) {
                (FeatureKind::Numeric(x), FeatureKind::Numeric(y)) => {
                    // NaN has many bit patterns; the file keeps only that it is NaN.
                    let bits = |v: &[f64]| {
                        v.iter().map(|f| if f.is_nan() { u64::MAX } else { f.to_bits() }).collect::<Vec<_>>()
                    };
                    assert_eq!(bits(&x.sorted), bits(&y.sorted));
                    assert_eq!(bits(&[x.std]), bits(&[y.std]));
                    assert_eq!(x.edges.as_deref().map(bits), y.edges.as_deref().map(bits));
                }
                (x, y) => assert_eq!(x, y),
            }
        }
    }
}

#[test]
fn fits_the_bundled_example_into_streams() {
    let profile = fit(&example("credit_reference.csv"), &credit_options()).unwrap();
    let names = |s: Stream| profile.features(s).iter().map(|f| f.name.as_str()).collect::<Vec<_>>();
    assert_eq!(
        names(Stream::Inputs),
        [
            "age",
            "income",
            "debt_ratio",
            "credit_lines",
            "months_employed",
            "loan_amount",
            "region",
            "employment_type",
            "loan_purpose"
        ]
    );
    assert_eq!(names(Stream::Predictions), ["score"]);
    assert_eq!(profile.meta.rows, 5000);
    assert_eq!(profile.meta.model_version.as_deref(), Some("v1"));
    assert_eq!(profile.meta.binning, "quantile");
    assert_eq!(profile.meta.source_sha256, sha256_file(&example("credit_reference.csv")).unwrap());
    assert_eq!(profile.meta.created_at.len(), "2026-11-27T12:14:08Z".len());
    for feature in profile.streams.values().flat_map(|s| &s.features) {
        assert_eq!(feature.n + feature.missing + feature.nonfinite, 5000, "{}", feature.name);
        if let Some(r) = feature.numeric() {
            assert_eq!(r.edges.as_ref().map(Vec::len), Some(9));
            assert_eq!(feature.bin_counts.as_ref().map(|c| c.iter().sum::<u64>()), Some(feature.n));
            assert!(!feature.is_subsampled());
        }
    }
    assert!(profile.features(Stream::Inputs)[6].categorical().is_some());
    validate(&profile).unwrap();
}

#[test]
fn save_and_load_give_back_the_same_profile() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credit.json");
    let profile = fit(&example("credit_reference.csv"), &credit_options()).unwrap();
    save(&profile, &path).unwrap();
    let loaded = load(&path).unwrap();
    assert_eq!(loaded, profile);
    assert_same_bits(&loaded, &profile);
    // Saving the loaded profile writes the same bytes: the format is stable.
    assert_eq!(to_json(&loaded), std::fs::read_to_string(&path).unwrap());
    // Overwriting is atomic: no temporary file is left beside the profile.
    save(&loaded, &path).unwrap();
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(entries, vec![std::ffi::OsString::from("credit.json")]);
}

#[test]
fn a_loaded_profile_gives_the_numbers_of_driftd_compare() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credit.json");
    save(&fit(&example("credit_reference.csv"), &credit_options()).unwrap(), &path).unwrap();
    let profile = load(&path).unwrap();

    let report = compare::run(&CompareOptions {
        reference: example("credit_reference.csv"),
        current: example("credit_current.csv"),
        threads: 1,
        ..Default::default()
    })
    .unwrap();
    let current = dataset::load(&example("credit_current.csv"), &LoadOptions::default()).unwrap();
    let settings = CompareSettings::default();
    let mut checked = 0;
    for column in current.columns {
        let feature = profile.streams.values().flat_map(|s| &s.features).find(|f| f.name == column.name).unwrap();
        let expected = report.columns.iter().find(|c| c.name == column.name).unwrap();
        let bits = |v: f64| v.to_bits();
        let psi = expected.stat(Statistic::Psi).unwrap();
        let js = expected.stat(Statistic::JensenShannon).unwrap();
        let hellinger = expected.stat(Statistic::Hellinger).unwrap();
        match (column.data, &feature.kind) {
            (ColumnData::Numeric(values), FeatureKind::Numeric(reference)) => {
                let mut sorted = values.values;
                sort_floats(&mut sorted);
                let got = compare_numeric(reference, &sorted, &settings);
                let ks = expected.stat(Statistic::Ks).unwrap();
                let w = expected.stat(Statistic::Wasserstein).unwrap();
                assert_eq!(bits(got.values.get(Stat::Psi)), bits(psi.value(Stat::Psi)), "{}", column.name);
                assert_eq!(bits(got.values.get(Stat::KsStatistic)), bits(ks.value(Stat::KsStatistic)));
                assert_eq!(bits(got.values.get(Stat::KsPValue)), bits(ks.value(Stat::KsPValue)));
                assert_eq!(bits(got.values.get(Stat::JensenShannon)), bits(js.value(Stat::JensenShannon)));
                assert_eq!(bits(got.values.get(Stat::Hellinger)), bits(hellinger.value(Stat::Hellinger)));
                assert_eq!(bits(got.values.get(Stat::Wasserstein)), bits(w.value(Stat::Wasserstein)));
                assert_eq!(
                    bits(got.values.get(Stat::WassersteinNormalized)),
                    bits(w.value(Stat::WassersteinNormalized))
                );
                // The stored full-sample bin counts are the reference counts PSI used.
                assert_eq!(feature.bin_counts.as_ref(), Some(&got.bins.reference_counts));
            }
            (ColumnData::Categorical(values), FeatureKind::Categorical(reference)) => {
                let got = compare_categorical(reference, &values.counts, &settings, &Statistics::ALL);
                let chi = expected.stat(Statistic::Chisquare).unwrap();
                assert_eq!(bits(got.values.get(Stat::Psi)), bits(psi.value(Stat::Psi)), "{}", column.name);
                assert_eq!(bits(got.values.get(Stat::ChisquareStatistic)), bits(chi.value(Stat::ChisquareStatistic)));
                assert_eq!(bits(got.values.get(Stat::ChisquarePValue)), bits(chi.value(Stat::ChisquarePValue)));
                assert_eq!(bits(got.values.get(Stat::JensenShannon)), bits(js.value(Stat::JensenShannon)));
                assert_eq!(bits(got.values.get(Stat::Hellinger)), bits(hellinger.value(Stat::Hellinger)));
            }
            _ => panic!("{}: type differs between the profile and the current data", column.name),
        }
        checked += 1;
    }
    assert_eq!(checked, 10);
}

#[test]
fn columns_predictions_and_exclude_select_the_features() {
    let path = example("credit_reference.csv");
    let options = FitOptions {
        columns: Some(vec!["region".into(), "age".into()]),
        predictions: vec!["score".into()],
        ..Default::default()
    };
    let profile = fit(&path, &options).unwrap();
    let names: Vec<&str> = profile.features(Stream::Inputs).iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["age", "region"], "file order");

    let options = FitOptions { exclude: vec!["region".into(), "score".into()], ..Default::default() };
    let profile = fit(&path, &options).unwrap();
    assert_eq!(profile.features(Stream::Inputs).len(), 8);
    assert!(!profile.streams.contains_key(&Stream::Predictions));
}

#[test]
fn contradictory_or_unknown_columns_are_errors() {
    let path = example("credit_reference.csv");
    let err = |options: FitOptions| fit(&path, &options).unwrap_err().to_string();
    let both = FitOptions { predictions: vec!["score".into()], exclude: vec!["score".into()], ..Default::default() };
    assert!(err(both).contains("\"score\" is named both as a prediction and as excluded"));
    let unknown = FitOptions { predictions: vec!["scroe".into()], ..Default::default() };
    let message = err(unknown);
    assert!(message.contains("credit_reference.csv") && message.contains("\"scroe\""), "{message}");
    let unknown = FitOptions { columns: Some(vec!["nope".into()]), ..Default::default() };
    assert!(err(unknown).contains("\"nope\""));
    let all: Vec<String> =
        dataset::load(&path, &LoadOptions::default()).unwrap().columns.into_iter().map(|c| c.name).collect();
    assert!(err(FitOptions { exclude: all, ..Default::default() }).contains("no columns left"));
    assert!(err(FitOptions { max_sample: Some(1), ..Default::default() }).contains("at least 2"));
}

#[test]
fn subsampling_keeps_edges_std_and_counts_of_the_full_sample() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.csv");
    let mut csv = String::from("x,label\n");
    for i in 0..5000u64 {
        csv.push_str(&format!("{},{}\n", (i * 7919 % 5003) as f64 / 7.0, ["a", "b"][(i % 2) as usize]));
    }
    std::fs::write(&data, csv).unwrap();
    let full = fit(&data, &FitOptions { max_sample: None, ..Default::default() }).unwrap();
    let small = fit(&data, &FitOptions { max_sample: Some(100), ..Default::default() }).unwrap();
    let (f, s) = (&full.features(Stream::Inputs)[0], &small.features(Stream::Inputs)[0]);
    let (fr, sr) = (f.numeric().unwrap(), s.numeric().unwrap());
    assert_eq!(sr.sorted.len(), 100);
    assert_eq!(s.n, 5000);
    assert!(s.is_subsampled() && !f.is_subsampled());
    assert_eq!(sr.std.to_bits(), fr.std.to_bits());
    assert_eq!(sr.edges, fr.edges);
    assert_eq!(s.bin_counts, f.bin_counts);
    assert_eq!((sr.sorted[0], sr.sorted[99]), (fr.sorted[0], fr.sorted[4999]));
    // Categorical features are never subsampled.
    assert_eq!(small.features(Stream::Inputs)[1], full.features(Stream::Inputs)[1]);
    let path = dir.path().join("small.json");
    save(&small, &path).unwrap();
    assert_eq!(load(&path).unwrap(), small);
}

#[test]
fn evidently_binning_stores_no_edges() {
    let options = FitOptions { binning: Binning::Evidently, ..Default::default() };
    let profile = fit(&example("credit_reference.csv"), &options).unwrap();
    let age = &profile.features(Stream::Inputs)[0];
    assert_eq!((age.numeric().unwrap().edges.as_ref(), age.bin_counts.as_ref()), (None, None));
    assert_eq!(from_json(to_json(&profile).as_bytes(), "p.json").unwrap(), profile);
}

#[test]
fn sha256_matches_the_standard_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("abc");
    std::fs::write(&path, b"abc").unwrap();
    // FIPS 180-2, appendix B.1; python3 -c "import hashlib; print(hashlib.sha256(b'abc').hexdigest())"
    assert_eq!(sha256_file(&path).unwrap(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    // More than one read buffer: hashlib.sha256(b'a' * 3_000_000).hexdigest()
    std::fs::write(&path, vec![b'a'; 3_000_000]).unwrap();
    assert_eq!(sha256_file(&path).unwrap(), "2a152c894398719c0570f83fac34ac03a0f6e8e474b995c2403aa5434f7b9dd4");
}

#[test]
fn rfc3339_matches_python() {
    // datetime.fromtimestamp(x, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    for (seconds, expected) in [
        (0, "1970-01-01T00:00:00Z"),
        (951782400, "2000-02-29T00:00:00Z"),
        (951868799, "2000-02-29T23:59:59Z"),
        (1795781648, "2026-11-27T12:14:08Z"),
        (-1, "1969-12-31T23:59:59Z"),
        (253402300799, "9999-12-31T23:59:59Z"),
        (4102444800, "2100-01-01T00:00:00Z"),
        // datetime(1, 1, 1).isoformat() for -62135596800
        (-62135596800, "0001-01-01T00:00:00Z"),
    ] {
        assert_eq!(crate::source::time::rfc3339_utc(seconds), expected);
    }
}

proptest! {
    #[test]
    fn subsample_keeps_min_max_and_order(mut values in prop::collection::vec(-1e6f64..1e6, 2..3000), m in 2usize..500) {
        sort_floats(&mut values);
        let sample = subsample_sorted(&values, m);
        prop_assert_eq!(sample.len(), m.min(values.len()));
        prop_assert_eq!(sample[0], values[0]);
        prop_assert_eq!(sample[sample.len() - 1], values[values.len() - 1]);
        prop_assert!(sample.windows(2).all(|w| w[0] <= w[1]));
        // Evenly spaced: the i-th kept value has about i / (m - 1) of the sample below it.
        if values.len() > m {
            let step = (values.len() - 1) as f64 / (m - 1) as f64;
            for (i, v) in sample.iter().enumerate() {
                // Its index in the sorted sample (a range when values repeat) is i · step rounded.
                let (first, last) = (values.partition_point(|x| x < v) as f64, values.partition_point(|x| x <= v) as f64 - 1.0);
                let target = i as f64 * step;
                prop_assert!(first <= target + 0.5 + 1e-6 && last >= target - 0.5 - 1e-6);
            }
        }
    }
}

mod file;
