//! Per-partition watermarks: records in order per partition, interleaved in any way across
//! partitions, are never late and give the windows of the same records sorted by time; idle
//! partitions leave the minimum and come back with their next record; new partitions hold the
//! watermark; processing time only advances a stream whose every partition is idle, and only
//! relative to its newest event time.

use proptest::prelude::*;

use crate::window::*;

type Ids = Vec<u32>;

fn at(partition: i32, offset: i64) -> Position {
    Position::Kafka { topic: "t".into(), partition, offset }
}

fn add(windows: &mut Windows<Ids>, partition: i32, offset: i64, t: i64, id: u32) -> Placement {
    windows.insert(t, &at(partition, offset), Vec::new, |ids| ids.push(id))
}

/// (start, end, events, sorted ids) of every window, closed in order then flushed.
fn summary(mut closed: Vec<Window<Ids>>) -> Vec<(i64, i64, u64, Ids)> {
    closed
        .iter_mut()
        .map(|w| {
            w.state.sort_unstable();
            (w.bounds.start_ms, w.bounds.end_ms, w.bounds.events, w.state.clone())
        })
        .collect()
}

fn time_spec() -> impl Strategy<Value = WindowSpec> {
    (1u64..6, 1u64..4, 0u64..3).prop_map(|(slides, k, late)| {
        let slide = slides * 50;
        WindowSpec::sliding_time(slide * k, slide, late * 40)
    })
}

/// Per partition: non-decreasing event times (steps of 0..60 ms from a start in -300..300),
/// plus an interleaving: the order in which partitions deliver their next record.
fn partitioned() -> impl Strategy<Value = (Vec<Vec<i64>>, Vec<usize>)> {
    prop::collection::vec((-300i64..300, prop::collection::vec(0i64..60, 0..40)), 1..7).prop_flat_map(|parts| {
        let streams: Vec<Vec<i64>> = parts
            .into_iter()
            .map(|(start, steps)| {
                steps
                    .iter()
                    .scan(start, |t, step| {
                        *t += step;
                        Some(*t)
                    })
                    .collect()
            })
            .collect();
        let slots: Vec<usize> = streams.iter().enumerate().flat_map(|(p, s)| std::iter::repeat_n(p, s.len())).collect();
        (Just(streams), Just(slots).prop_shuffle())
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn in_order_partitions_interleaved_anyhow_are_never_late_and_give_the_sorted_streams_windows(
        spec in time_spec(),
        (streams, order) in partitioned(),
        take in prop::collection::vec(any::<bool>(), 240),
    ) {
        // Ids number the records partition by partition.
        let firsts: Vec<u32> =
            streams.iter().scan(0u32, |n, s| { let first = *n; *n += s.len() as u32; Some(first) }).collect();
        let mut windows = Windows::<Ids>::new(spec);
        windows.assign_partitions(0..streams.len() as i32);
        let mut next = vec![0usize; streams.len()];
        let mut closed = Vec::new();
        for (i, &p) in order.iter().enumerate() {
            let k = next[p];
            next[p] += 1;
            let placement = add(&mut windows, p as i32, k as i64, streams[p][k], firsts[p] + k as u32);
            prop_assert!(matches!(placement, Placement::Accepted { missed: 0, .. }), "{:?}", placement);
            if take[i % take.len()] {
                closed.extend(windows.take_closed());
            }
        }
        prop_assert_eq!(windows.late(), 0);
        closed.extend(windows.take_closed());
        closed.extend(windows.flush());

        // The same records, one partition, in time order.
        let mut sorted: Vec<(i64, u32)> = streams
            .iter()
            .enumerate()
            .flat_map(|(p, s)| s.iter().enumerate().map(move |(k, &t)| (t, p, k as u32)))
            .map(|(t, p, k)| (t, firsts[p] + k))
            .collect();
        sorted.sort();
        let mut single = Windows::<Ids>::new(spec);
        let mut expected = Vec::new();
        for (offset, &(t, id)) in sorted.iter().enumerate() {
            add(&mut single, 0, offset as i64, t, id);
            expected.extend(single.take_closed());
        }
        expected.extend(single.flush());
        prop_assert_eq!(summary(closed), summary(expected));
    }

    #[test]
    fn no_window_closes_before_every_assigned_partition_has_passed_its_end(
        spec in time_spec(),
        (streams, order) in partitioned(),
    ) {
        let mut windows = Windows::<Ids>::new(spec);
        windows.assign_partitions(0..streams.len() as i32);
        let mut newest: Vec<Option<i64>> = vec![None; streams.len()];
        let mut next = vec![0usize; streams.len()];
        for &p in &order {
            let t = streams[p][next[p]];
            next[p] += 1;
            newest[p] = Some(t);
            add(&mut windows, p as i32, 0, t, 0);
            for w in windows.take_closed() {
                for n in &newest {
                    let passed = n.is_some_and(|n| n - spec.allowed_lateness_ms as i64 >= w.bounds.end_ms);
                    prop_assert!(passed, "window {:?} closed with a partition at {:?}", (w.bounds.start_ms, w.bounds.end_ms), n);
                }
            }
        }
    }
}

#[test]
fn one_partition_running_ahead_makes_none_of_the_others_late() {
    // The failure of a single stream-wide clock: partition 1's batch runs 10 windows ahead.
    let mut windows = Windows::<Ids>::new(WindowSpec::tumbling_time(1000, 0));
    windows.assign_partitions([0, 1]);
    for (k, t) in (0..10_000).step_by(500).enumerate() {
        assert!(matches!(add(&mut windows, 1, k as i64, t, 1), Placement::Accepted { .. }));
    }
    assert_eq!(windows.watermark_ms(), None, "partition 0 has sent nothing: held");
    assert!(!windows.has_closed());
    assert!(matches!(add(&mut windows, 0, 0, 100, 0), Placement::Accepted { .. }));
    assert_eq!(windows.watermark_ms(), Some(100));
    assert!(matches!(add(&mut windows, 0, 1, 2500, 0), Placement::Accepted { .. }));
    assert_eq!(windows.watermark_ms(), Some(2500));
    let closed = windows.take_closed();
    assert_eq!(closed.iter().map(|w| w.bounds.end_ms).collect::<Vec<_>>(), [1000, 2000]);
    assert_eq!(windows.late(), 0);
}

#[test]
fn an_idle_partition_leaves_the_minimum_and_comes_back_with_its_next_record() {
    let mut windows = Windows::<Ids>::new(WindowSpec::tumbling_time(1000, 100));
    windows.assign_partitions([0, 1]);
    add(&mut windows, 0, 0, 500, 0);
    add(&mut windows, 1, 0, 5000, 1);
    assert_eq!(windows.watermark_ms(), Some(400));
    // Partition 0 is caught up and silent: the stream follows partition 1.
    assert!(windows.set_partition_idle(0, true));
    assert_eq!(windows.watermark_ms(), Some(4900));
    assert_eq!(windows.take_closed().len(), 1);
    // Back with a record behind the watermark: late (its window has closed), and active
    // again, so partition 1 can no longer move the watermark past it.
    assert_eq!(add(&mut windows, 0, 1, 600, 0), Placement::Late);
    assert!(!windows.partitions().get(0).unwrap().idle);
    add(&mut windows, 1, 1, 9000, 1);
    assert_eq!(windows.watermark_ms(), Some(4900), "held by partition 0 at 600");
    add(&mut windows, 0, 2, 7000, 0);
    assert_eq!(windows.watermark_ms(), Some(6900));
}

#[test]
fn a_new_partition_holds_the_watermark_until_it_sends_or_goes_idle_and_a_revoked_one_leaves() {
    let mut windows = Windows::<Ids>::new(WindowSpec::tumbling_time(1000, 0));
    windows.assign_partitions([0]);
    add(&mut windows, 0, 0, 1500, 0);
    assert_eq!(windows.watermark_ms(), Some(1500));
    // The topic grew: partition 1 is assigned and has sent nothing.
    windows.assign_partitions([0, 1]);
    add(&mut windows, 0, 1, 3500, 0);
    assert_eq!(windows.watermark_ms(), Some(1500), "held by the new partition");
    add(&mut windows, 1, 0, 1600, 1);
    assert_eq!(windows.watermark_ms(), Some(1600));
    windows.set_partition_idle(1, true);
    assert_eq!(windows.watermark_ms(), Some(3500));
    // Partition 0 revoked (it moved to another consumer): the minimum is partition 1's,
    // which is idle: nothing active, nothing moves by records.
    windows.set_partition_idle(1, false);
    windows.assign_partitions([1]);
    assert_eq!(windows.watermark_ms(), Some(3500), "never decreases");
    assert_eq!(windows.partitions().len(), 1);
}

#[test]
fn processing_time_advances_only_an_all_idle_stream_and_only_from_its_newest_event_time() {
    // A month-old backfill: event times around 1 000 000 000 ms, today's clock irrelevant.
    let mut windows = Windows::<Ids>::new(WindowSpec::tumbling_time(60_000, 5_000));
    windows.assign_partitions([0, 1]);
    add(&mut windows, 0, 0, 1_000_010_000, 0);
    add(&mut windows, 1, 0, 1_000_020_000, 1);
    assert!(!windows.advance_idle(3_600_000), "no partition is idle");
    windows.set_partition_idle(0, true);
    assert!(!windows.advance_idle(3_600_000), "partition 1 is active");
    assert_eq!(windows.watermark_ms(), Some(1_000_015_000));
    windows.set_partition_idle(1, true);
    // Window [999_960_000, 1_000_020_000) closes once 20 000 − 20 000 + 5 000 ms have passed.
    assert!(!windows.advance_idle(4_999));
    assert!(windows.advance_idle(5_000));
    assert_eq!(windows.watermark_ms(), Some(1_000_020_000));
    // Nothing since is late unless behind that: the next window is still open.
    assert!(matches!(add(&mut windows, 0, 1, 1_000_020_001, 0), Placement::Accepted { .. }));
}

#[test]
fn no_partition_known_means_no_processing_time_advance() {
    let mut windows = Windows::<Ids>::new(WindowSpec::tumbling_time(1000, 0));
    add(&mut windows, 0, 0, 500, 0);
    // Rebalancing: nothing assigned.
    windows.assign_partitions([]);
    assert!(!windows.advance_idle(1_000_000));
    assert_eq!(windows.watermark_ms(), Some(500));
}

#[test]
fn a_version_3_checkpoint_without_partition_clocks_resumes_with_its_watermark() {
    let mut windows = Windows::<Ids>::new(WindowSpec::tumbling_time(1000, 0));
    add(&mut windows, 0, 0, 1500, 0);
    let mut json: serde_json::Value = serde_json::to_value(&windows).unwrap();
    json.as_object_mut().unwrap().remove("partitions");
    let mut old: Windows<Ids> = serde_json::from_value(json).unwrap();
    assert!(old.check().is_ok());
    assert_eq!(old.watermark_ms(), Some(1500));
    assert!(old.partitions().is_empty());
    // The first record after the resume gives partition 0 its clock; the watermark kept.
    add(&mut old, 0, 1, 1200, 1);
    assert_eq!(old.watermark_ms(), Some(1500));
    add(&mut old, 0, 2, 2100, 2);
    assert_eq!(old.watermark_ms(), Some(2100));
    assert_eq!(old.take_closed().len(), 1);
}
