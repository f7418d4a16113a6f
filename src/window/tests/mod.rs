//! Unit and property tests of [`super::Windows`]: each window's state is the list of record ids
//! it received, so assignments can be checked record by record.

use proptest::prelude::*;

use super::*;

type Ids = Vec<u32>;

fn pos(id: u32) -> Position {
    Position::File { line: u64::from(id) }
}

/// What one run produced.
#[derive(Debug, Default, PartialEq)]
struct Run {
    placements: Vec<Placement>,
    /// Watermark just before each insert.
    watermarks_before: Vec<Option<i64>>,
    /// Closed windows in the order they were returned, flush included.
    closed: Vec<Window<Ids>>,
    /// How many of `closed` came from `take_closed` (the rest from `flush`).
    closed_before_flush: usize,
}

/// Inserts `times` in order (record id = index), taking closed windows after the inserts whose
/// index is in `take_after` (all when `None`), then flushes. Checks after every take that the
/// returned windows had reached the watermark and that nothing closable was left behind.
fn run(spec: WindowSpec, times: &[i64], take_after: Option<&[bool]>) -> Run {
    let mut windows = Windows::<Ids>::new(spec);
    let mut out = Run::default();
    for (id, &t) in times.iter().enumerate() {
        let id = id as u32;
        out.watermarks_before.push(windows.watermark_ms());
        out.placements.push(windows.insert(t, &pos(id), Vec::new, |ids| ids.push(id)));
        if take_after.is_none_or(|take| take.get(id as usize).copied().unwrap_or(false)) {
            take_and_check(&mut windows, &mut out.closed);
        }
    }
    take_and_check(&mut windows, &mut out.closed);
    out.closed_before_flush = out.closed.len();
    out.closed.extend(windows.flush());
    out
}

fn take_and_check(windows: &mut Windows<Ids>, closed: &mut Vec<Window<Ids>>) {
    let taken = windows.take_closed();
    let watermark = windows.watermark_ms();
    for w in &taken {
        match windows.spec().unit {
            WindowUnit::EventTime => {
                assert!(watermark.is_some_and(|wm| wm >= w.bounds.end_ms), "closed early: {:?}", w.bounds)
            }
            WindowUnit::Events => assert_eq!(w.bounds.events, windows.spec().size),
        }
    }
    assert!(!windows.has_closed(), "a closable window was left open");
    if windows.spec().unit == WindowUnit::EventTime {
        for w in windows.open() {
            assert!(watermark.is_none_or(|wm| wm < w.bounds.end_ms));
        }
    }
    closed.extend(taken);
}

/// How many windows each record id landed in, and a check that each window holding an
/// event-time record contains its time.
fn landings(spec: &WindowSpec, times: &[i64], closed: &[Window<Ids>]) -> Vec<u32> {
    let mut count = vec![0u32; times.len()];
    for w in closed {
        assert_eq!(w.bounds.events as usize, w.state.len());
        for &id in &w.state {
            count[id as usize] += 1;
            let t = times[id as usize];
            assert!(w.bounds.start_ms <= t && t < w.bounds.end_ms, "record at {t} in {:?}", w.bounds);
        }
        if spec.unit == WindowUnit::EventTime {
            assert_eq!(w.bounds.end_ms - w.bounds.start_ms, spec.size as i64);
            assert_eq!(w.bounds.start_ms.rem_euclid(spec.slide as i64), 0, "not aligned to the epoch");
        }
    }
    count
}

fn assert_ordered(closed: &[Window<Ids>]) {
    for pair in closed.windows(2) {
        // Keys are start times (event time) or indexes (count): increasing keys mean
        // increasing ends for event-time windows, which all have the same size.
        assert!(pair[0].key < pair[1].key, "closed out of order: {} then {}", pair[0].key, pair[1].key);
    }
}

fn time_spec() -> impl Strategy<Value = WindowSpec> {
    (1u64..6, 1u64..40, 0u64..60).prop_map(|(k, slide, lateness)| WindowSpec::sliding_time(k * slide, slide, lateness))
}

proptest! {
    #[test]
    fn tumbling_puts_every_non_late_record_in_exactly_one_window(
        size in 1u64..100,
        lateness in 0u64..80,
        times in prop::collection::vec(-300i64..700, 0..200),
        take in prop::collection::vec(any::<bool>(), 200),
    ) {
        let spec = WindowSpec::tumbling_time(size, lateness);
        let out = run(spec, &times, Some(&take));
        let count = landings(&spec, &times, &out.closed);
        for (id, placement) in out.placements.iter().enumerate() {
            match placement {
                Placement::Accepted { windows, missed } => {
                    prop_assert_eq!((*windows, *missed), (1, 0));
                    prop_assert_eq!(count[id], 1);
                }
                Placement::Late => prop_assert_eq!(count[id], 0),
                Placement::OutOfRange => prop_assert!(false, "in-range time rejected"),
            }
        }
        assert_ordered(&out.closed);
    }

    #[test]
    fn sliding_windows_of_k_slides_hold_each_record_k_times(
        k in 1u64..6,
        slide in 1u64..40,
        lateness in 0u64..60,
        mut times in prop::collection::vec(-500i64..500, 0..150),
        shuffled in any::<bool>(),
    ) {
        let spec = WindowSpec::sliding_time(k * slide, slide, lateness);
        if !shuffled {
            times.sort_unstable();
        }
        let out = run(spec, &times, None);
        let count = landings(&spec, &times, &out.closed);
        for (id, placement) in out.placements.iter().enumerate() {
            match placement {
                Placement::Accepted { windows, missed } => {
                    prop_assert_eq!(u64::from(windows + missed), k);
                    prop_assert_eq!(count[id], *windows);
                    if !shuffled {
                        prop_assert_eq!(*missed, 0);
                    }
                }
                Placement::Late => {
                    prop_assert!(shuffled, "an in-order record was late");
                    prop_assert_eq!(count[id], 0);
                }
                Placement::OutOfRange => prop_assert!(false),
            }
        }
    }

    #[test]
    fn windows_close_in_order_and_late_records_are_exactly_those_behind_the_watermark(
        spec in time_spec(),
        times in prop::collection::vec(-400i64..400, 0..200),
        take in prop::collection::vec(any::<bool>(), 200),
    ) {
        let out = run(spec, &times, Some(&take));
        assert_ordered(&out.closed);
        let (size, slide) = (spec.size as i64, spec.slide as i64);
        let mut late = 0;
        for ((&t, placement), watermark) in times.iter().zip(&out.placements).zip(&out.watermarks_before) {
            let last_end = t.div_euclid(slide) * slide + size;
            let behind = watermark.is_some_and(|wm| wm >= last_end);
            prop_assert_eq!(behind, *placement == Placement::Late, "t={} wm={:?}", t, watermark);
            late += usize::from(behind);
        }
        // The watermark is the newest accepted time minus the lateness.
        let newest = times.iter().zip(&out.placements).filter(|(_, p)| **p != Placement::Late).map(|(t, _)| *t).max();
        // Never taking the closed windows changes no placement: lateness depends on the
        // watermark alone.
        let mut again = Windows::<Ids>::new(spec);
        for (id, (&t, placement)) in times.iter().zip(&out.placements).enumerate() {
            prop_assert_eq!(again.insert(t, &pos(id as u32), Vec::new, |_| {}), *placement);
        }
        prop_assert_eq!(again.watermark_ms(), newest.map(|t| t - spec.allowed_lateness_ms as i64));
        prop_assert_eq!(again.late() as usize, late);
    }

    #[test]
    fn count_windows_take_consecutive_runs(
        size in 1u64..30,
        slide_div in 1u64..30,
        n in 0usize..200,
        take in prop::collection::vec(any::<bool>(), 200),
    ) {
        let slide = size.div_ceil(slide_div).max(1);
        let spec = WindowSpec::sliding_count(size, slide);
        // Event times do not matter for count windows; make them non-monotone on purpose.
        let times: Vec<i64> = (0..n as i64).map(|i| (i * 7919) % 101 - 50).collect();
        let out = run(spec, &times, Some(&take));
        assert_ordered(&out.closed);
        landings(&spec, &times, &out.closed);
        for (j, w) in out.closed.iter().enumerate() {
            let first = j as u64 * slide;
            let expected: Vec<u32> = (first..(first + size).min(n as u64)).map(|i| i as u32).collect();
            prop_assert_eq!(&w.state, &expected);
            if j < out.closed_before_flush {
                prop_assert_eq!(w.bounds.events, size);
            }
        }
        // Every record is in every window that starts within `size` records before it.
        let windows_started = (n as u64).div_ceil(slide);
        prop_assert_eq!(out.closed.len() as u64, windows_started);
        let never_missed = out.placements.iter().all(|p| matches!(p, Placement::Accepted { missed: 0, .. }));
        prop_assert!(never_missed);
    }

    #[test]
    fn a_serde_round_trip_mid_stream_changes_nothing(
        spec in time_spec(),
        times in prop::collection::vec(-400i64..400, 1..150),
        cut in 0usize..150,
    ) {
        let cut = cut.min(times.len());
        let straight = run(spec, &times, None);

        let mut windows = Windows::<Ids>::new(spec);
        let mut placements = Vec::new();
        let mut closed = Vec::new();
        for (id, &t) in times.iter().enumerate() {
            if id == cut {
                let json = serde_json::to_string(&windows).unwrap();
                windows = serde_json::from_str(&json).unwrap();
                prop_assert!(windows.check().is_ok());
            }
            placements.push(windows.insert(t, &pos(id as u32), Vec::new, |ids| ids.push(id as u32)));
            closed.extend(windows.take_closed());
        }
        closed.extend(windows.flush());
        prop_assert_eq!(placements, straight.placements);
        prop_assert_eq!(closed, straight.closed);
    }
}

#[test]
fn an_idle_stream_closes_its_windows_by_processing_time() {
    let mut windows = Windows::<Ids>::new(WindowSpec::tumbling_time(1000, 200));
    windows.insert(1500, &pos(0), Vec::new, |ids| ids.push(0));
    assert_eq!(windows.watermark_ms(), Some(1300));
    assert!(!windows.advance_idle(10_000), "the partition is not idle: no processing-time advance");
    assert_eq!(windows.watermark_ms(), Some(1300));
    windows.set_partition_idle(0, true);
    // 1500 + 600 − 200 = 1900 < end 2000.
    assert!(!windows.advance_idle(600), "watermark 1900 < end 2000");
    assert_eq!(windows.watermark_ms(), Some(1900));
    assert!(windows.take_closed().is_empty());
    assert!(windows.advance_idle(700));
    let closed = windows.take_closed();
    assert_eq!(closed.len(), 1);
    assert_eq!((closed[0].bounds.start_ms, closed[0].bounds.end_ms, closed[0].bounds.events), (1000, 2000, 1));
    // Less elapsed time never moves the watermark back.
    windows.advance_idle(0);
    assert_eq!(windows.watermark_ms(), Some(2000));
    assert_eq!(windows.insert(1999, &pos(1), Vec::new, |_| {}), Placement::Late);
    assert_eq!(windows.late(), 1);
}

#[test]
fn count_windows_ignore_processing_time_and_flush_partial_windows() {
    let mut windows = Windows::<Ids>::new(WindowSpec::tumbling_count(3));
    for id in 0..4 {
        windows.insert(10 - i64::from(id), &pos(id), Vec::new, |ids| ids.push(id));
    }
    assert!(windows.has_closed(), "the first window is full");
    assert!(windows.advance_idle(u64::MAX));
    assert_eq!(windows.watermark_ms(), None, "count windows have no watermark");
    let closed = windows.take_closed();
    assert_eq!(closed.len(), 1);
    let b = &closed[0].bounds;
    assert_eq!((b.start_ms, b.end_ms, b.events), (8, 11, 3));
    assert_eq!((b.first.clone(), b.last.clone()), (pos(0), pos(2)));
    let rest = windows.flush();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].state, vec![3]);
}

#[test]
fn out_of_range_times_are_rejected_without_touching_the_windows() {
    let mut windows = Windows::<Ids>::new(WindowSpec::sliding_time(MAX_EVENT_TIME_MS as u64, 1, 0));
    for t in [i64::MIN, i64::MAX, MAX_EVENT_TIME_MS + 1, -MAX_EVENT_TIME_MS - 1] {
        assert_eq!(windows.insert(t, &pos(0), Vec::new, |_| {}), Placement::OutOfRange);
    }
    assert_eq!((windows.accepted(), windows.late(), windows.open().count()), (0, 0, 0));
    let mut edge = Windows::<Ids>::new(WindowSpec::tumbling_time(MAX_EVENT_TIME_MS as u64, 0));
    for t in [-MAX_EVENT_TIME_MS, 0, MAX_EVENT_TIME_MS] {
        assert!(matches!(edge.insert(t, &pos(0), Vec::new, |_| {}), Placement::Accepted { windows: 1, .. }));
    }
}

#[test]
fn kafka_positions_are_tracked_first_and_last() {
    let kafka = |offset| Position::Kafka { topic: "inputs".into(), partition: 2, offset };
    let mut windows = Windows::<Ids>::new(WindowSpec::tumbling_time(10, 0));
    for (offset, t) in [(5, 1), (6, 3), (7, 2)] {
        windows.insert(t, &kafka(offset), Vec::new, |_| {});
    }
    let closed = windows.flush();
    assert_eq!((closed[0].bounds.first.clone(), closed[0].bounds.last.clone()), (kafka(5), kafka(7)));
}

#[test]
fn specs_are_validated() {
    assert_eq!(WindowSpec::tumbling_time(0, 0).validate(), Err(WindowSpecError::ZeroSize));
    assert_eq!(WindowSpec::sliding_time(10, 0, 0).validate(), Err(WindowSpecError::ZeroSlide));
    assert_eq!(
        WindowSpec::sliding_count(5, 6).validate(),
        Err(WindowSpecError::SlideExceedsSize { slide: 6, size: 5 })
    );
    assert!(matches!(WindowSpec::tumbling_time(u64::MAX, 0).validate(), Err(WindowSpecError::TooLarge { .. })));
    assert!(matches!(WindowSpec::tumbling_time(1, 1 << 60).validate(), Err(WindowSpecError::TooLarge { .. })));
    let mut count = WindowSpec::tumbling_count(5);
    count.allowed_lateness_ms = 1;
    assert_eq!(count.validate(), Err(WindowSpecError::LatenessOnCountWindows));
    assert!(WindowSpec::sliding_time(3_600_000, 600_000, 60_000).validate().is_ok());
    assert!(WindowSpec::tumbling_count(1).is_tumbling());
}

#[test]
fn check_rejects_a_tampered_checkpoint() {
    let mut windows = Windows::<Ids>::new(WindowSpec::tumbling_time(10, 0));
    windows.insert(5, &pos(0), Vec::new, |_| {});
    windows.insert(25, &pos(1), Vec::new, |_| {});
    assert!(windows.check().is_ok());
    let mut json: serde_json::Value = serde_json::to_value(&windows).unwrap();
    json["open"][0]["bounds"]["end_ms"] = serde_json::json!(11);
    let tampered: Windows<Ids> = serde_json::from_value(json.clone()).unwrap();
    assert!(tampered.check().is_err());
    json["open"][0]["bounds"]["end_ms"] = serde_json::json!(10);
    json["open"][1]["key"] = serde_json::json!(0);
    let tampered: Windows<Ids> = serde_json::from_value(json).unwrap();
    assert!(tampered.check().is_err());
}

mod partitions;
