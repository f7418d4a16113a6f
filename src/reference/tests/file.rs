//! Tests of the on-disk format: odd values round trip bit for bit, other versions and
//! corrupted files are refused with one line naming the file.

use proptest::prelude::*;

use super::{assert_same_bits, credit_options, example};
use crate::reference::*;
use crate::stats::binning::Binning;

/// A small hand-made profile: one numeric feature with no values (std NaN), one with values.
fn tiny_profile() -> ReferenceProfile {
    let values = vec![3.0, -0.0, 1.5, 0.0, 2.0];
    let reference = NumericReference::fit(values, &Binning::Quantile { bins: 4 });
    let counts = count_right_closed(&reference);
    let features = vec![
        FeatureProfile {
            name: "x".into(),
            n: 5,
            missing: 1,
            nonfinite: 0,
            bin_counts: Some(counts),
            kind: FeatureKind::Numeric(reference),
        },
        FeatureProfile {
            name: "empty".into(),
            n: 0,
            missing: 6,
            nonfinite: 0,
            bin_counts: None,
            kind: FeatureKind::Numeric(NumericReference::fit(Vec::new(), &Binning::Quantile { bins: 4 })),
        },
        FeatureProfile {
            name: "label".into(),
            n: 6,
            missing: 0,
            nonfinite: 0,
            bin_counts: None,
            kind: FeatureKind::Categorical(CategoricalReference::from_counts(vec![
                ("A".into(), 2),
                ("a \"quoted\" é".into(), 4),
            ])),
        },
    ];
    ReferenceProfile {
        meta: ProfileMeta {
            format_version: PROFILE_FORMAT_VERSION,
            model_version: None,
            source_path: "tiny.csv".into(),
            source_sha256: "0".repeat(64),
            rows: 6,
            created_at: crate::source::time::rfc3339_utc(0),
            binning: "quantile:4".into(),
        },
        streams: [(Stream::Predictions, StreamProfile { features })].into_iter().collect(),
    }
}

fn count_right_closed(reference: &NumericReference) -> Vec<u64> {
    crate::stats::binning::count_right_closed_sorted(&reference.sorted, reference.edges.as_ref().unwrap())
}

#[test]
fn nan_std_negative_zero_and_odd_labels_round_trip() {
    let profile = tiny_profile();
    let text = to_json(&profile);
    assert!(text.contains("\"std\": null"), "{text}");
    let loaded = from_json(text.as_bytes(), "tiny.json").unwrap();
    assert_same_bits(&loaded, &profile);
    assert_eq!(loaded.meta, profile.meta);
    assert!(loaded.features(Stream::Predictions)[1].numeric().unwrap().std.is_nan());
    assert_eq!(loaded.features(Stream::Predictions)[0].numeric().unwrap().sorted[0].to_bits(), (-0.0f64).to_bits());
}

#[test]
fn non_finite_floats_are_written_as_strings() {
    let mut profile = tiny_profile();
    let features = &mut profile.streams.get_mut(&Stream::Predictions).unwrap().features;
    let FeatureKind::Numeric(r) = &mut features[0].kind else { unreachable!() };
    r.std = f64::INFINITY;
    r.edges.as_mut().unwrap()[2] = f64::INFINITY;
    features[0].bin_counts = Some(count_right_closed(r));
    let text = to_json(&profile);
    assert!(text.contains("\"std\": \"inf\"") && text.contains(",\"inf\"]"), "{text}");
    let loaded = from_json(text.as_bytes(), "tiny.json").unwrap();
    assert_same_bits(&loaded, &profile);
    assert_eq!(loaded.features(Stream::Predictions)[0], profile.features(Stream::Predictions)[0]);
}

fn error_of(text: &str) -> String {
    from_json(text.as_bytes(), "some/profile.json").unwrap_err().to_string()
}

#[test]
fn other_format_versions_are_refused_clearly() {
    let text = to_json(&tiny_profile());
    let newer = text.replace("\"format_version\": 1,", "\"format_version\": 2,");
    let message = error_of(&newer);
    assert!(message.starts_with("some/profile.json: "), "{message}");
    assert!(message.contains("format version 2 is not supported") && message.contains("newer driftd"), "{message}");
    // A newer file with keys this build does not know still gets the version error.
    let newer = newer.replace("\"binning\"", "\"new_key\": 1, \"binning\"");
    assert!(error_of(&newer).contains("format version 2"));
    assert!(error_of(&text.replace("\"format_version\": 1,", "\"format_version\": 0,")).contains("version 0"));
    assert!(error_of(&text.replace("\"format_version\": 1,", "")).contains("format_version"));
    assert!(error_of(&text.replace("driftd.reference", "driftd.compare/v1")).contains("not a driftd reference"));
}

#[test]
fn corrupted_files_are_errors_naming_the_file() {
    let profile = fit(&example("credit_reference.csv"), &credit_options()).unwrap();
    let text = to_json(&profile);
    // Truncated anywhere.
    for cut in (0..text.len()).step_by(997).chain([text.len() - 2]) {
        let message = error_of(&text[..cut]);
        assert!(message.starts_with("some/profile.json: "), "{message}");
    }
    assert!(error_of("").contains("empty"));
    assert!(error_of("age,income\n1,2\n").contains("not a driftd reference profile"));
    assert!(error_of("{\"a\": 1}").contains("not a driftd reference profile"));
    // Valid JSON, wrong contents.
    let edits: [(&str, &str, &str); 5] = [
        ("\"rows\": 5000", "\"rows\": 4999", "row count"),
        ("\"type\": \"numeric\"", "\"type\": \"numerical\"", "unknown variant"),
        ("\"missing\": 0,", "\"missing\": 0, \"extra\": 1,", "unknown field"),
        ("\"east\": ", "\"zzz\": ", "ascending byte order"),
        ("\"sample\": [", "\"sample\": [1e300,", "sample"),
    ];
    for (from, to, needle) in edits {
        assert!(text.contains(from), "{from}");
        let message = error_of(&text.replacen(from, to, 1));
        assert!(message.starts_with("some/profile.json: ") && message.contains(needle), "{from}: {message}");
    }
    // One value moved between two bins (the sum still matches n) is noticed.
    let at = text.find("\"bin_counts\": [").unwrap() + "\"bin_counts\": [".len();
    let end = at + text[at..].find(']').unwrap();
    let mut counts: Vec<u64> = text[at..end].split(',').map(|c| c.parse().unwrap()).collect();
    counts[0] += 1;
    counts[1] -= 1;
    let moved = counts.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
    let message = error_of(&format!("{}{moved}{}", &text[..at], &text[end..]));
    assert!(message.contains("feature \"age\": bin counts do not match the sample"), "{message}");
}

#[test]
fn loading_a_missing_file_or_saving_to_a_missing_directory_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.json");
    assert!(load(&missing).unwrap_err().to_string().contains("none.json: cannot read"));
    let nested = dir.path().join("no/such/dir/p.json");
    assert!(save(&tiny_profile(), &nested).unwrap_err().to_string().contains("cannot write"));
    let mut bad = tiny_profile();
    bad.meta.rows = 7;
    assert!(save(&bad, &dir.path().join("bad.json")).unwrap_err().to_string().contains("invalid reference profile"));
    assert!(!dir.path().join("bad.json").exists());
}

proptest! {
    #[test]
    fn every_finite_float_round_trips(bits in prop::collection::vec(any::<u64>(), 1..200)) {
        let values: Vec<f64> = bits.into_iter().map(f64::from_bits).filter(|v| v.is_finite()).collect();
        prop_assume!(!values.is_empty());
        let n = values.len() as u64;
        let reference = NumericReference::fit(values, &Binning::default());
        let counts = count_right_closed(&reference);
        let mut profile = tiny_profile();
        profile.meta.rows = n;
        profile.meta.binning = "quantile".into();
        let feature = FeatureProfile {
            name: "x".into(), n, missing: 0, nonfinite: 0, bin_counts: Some(counts),
            kind: FeatureKind::Numeric(reference),
        };
        profile.streams = [(Stream::Inputs, StreamProfile { features: vec![feature] })].into_iter().collect();
        let loaded = from_json(to_json(&profile).as_bytes(), "p.json").unwrap();
        assert_same_bits(&loaded, &profile);
    }
}
