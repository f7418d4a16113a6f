//! A compact, deterministic, mergeable KLL quantile sketch of finite `f64` values
//! ([`KllSketch`]) — what the daemon's windows keep beyond `ks_sample_cap` and what a profile
//! keeps per numeric column (KS and Wasserstein against it: `sketch_walk.rs`).
//!
//! Our own rather than the `datasketches` crate, because its compaction coin cannot be seeded:
//! here the coin is part of the sketch's (serde) state, so the same values in the same order
//! always give the same sketch and a restored checkpoint continues exactly. The algorithm, why
//! not `datasketches`, and the accuracy bound: on [`KllSketch`]. Pure: no I/O, clock or global state.

use serde::{Deserialize, Serialize};

/// Default `k`: about 600 items retained, rank error 1.65 %.
pub const DEFAULT_K: u16 = 200;
/// Smallest accepted `k`.
pub const MIN_K: u16 = 8;
/// Smallest capacity of a level.
const MIN_LEVEL_CAPACITY: usize = 8;
/// Seed of the compaction coin of a new sketch (any fixed value does).
const SEED: u64 = 0x6472_6966_7464_6b6c;

/// A KLL sketch of finite `f64` values.
///
/// KLL (Karnin, Lang, Liberty 2016) keeps a stack of *levels*; an item at level `h` stands for
/// `2^h` input values. New values go to level 0; when the sketch holds more items than its
/// capacity, the lowest level at or over its own capacity is *compacted*: sorted, and every
/// other item (odd or even positions, by a coin flip) promoted to the next level, the rest
/// dropped (an odd item out stays behind). Level capacities follow Apache DataSketches:
/// `max(8, ⌈k·(2/3)^depth⌉)` with `depth` counted from the top level, so the sketch holds about
/// `3k + 8·log2(n/k)` items whatever `n` is, and the total weight of its items is exactly `n`.
///
/// Why our own and not the `datasketches` crate (0.6, feature `kll`): its compaction coin comes
/// from a thread-local generator seeded from the process's random hash keys and cannot be
/// seeded, so two replays of the same records (or a checkpoint restored mid-window) would give
/// different sketches and different statistics; and it has byte serialisation only, no serde.
/// Here the coin is a SplitMix64 stream whose state is part of the sketch (and of its serde
/// form): the same values in the same order always give the same sketch, and a restored sketch
/// continues exactly as the original would have.
///
/// Accuracy: [`KllSketch::normalized_rank_error`] is DataSketches' empirical double-sided bound
/// for `k`, `2.446 / k^0.9433` (0.0165 at `k = 200`): with about 99 % confidence, for every `x`
/// at once, `|F̂(x) − F(x)| ≤ ε`, where `F` is the empirical CDF of the values fed and `F̂` the
/// sketch's weighted CDF. Hence for any fixed reference CDF `G`,
/// `|sup|G − F| − sup|G − F̂|| ≤ ε`: the KS statistic from the sketch is within `ε` of the exact
/// one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KllSketch {
    k: u16,
    /// Values fed (the total weight of the retained items).
    n: u64,
    /// `levels[h]`: retained items of weight `2^h`, in no particular order.
    levels: Vec<Vec<f64>>,
    /// SplitMix64 state of the compaction coin.
    coin: u64,
}

/// Why a deserialised sketch is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KllError {
    #[error("k = {0} is below the minimum {MIN_K}")]
    SmallK(u16),
    #[error("the sketch has no level")]
    NoLevel,
    #[error("an item is not finite")]
    NonFinite,
    #[error("the items' total weight differs from n")]
    Weight,
    #[error("it holds more items than its capacity")]
    Capacity,
}

impl Default for KllSketch {
    fn default() -> Self {
        KllSketch::new(DEFAULT_K)
    }
}

impl KllSketch {
    /// An empty sketch; `k` below [`MIN_K`] is raised to it.
    pub fn new(k: u16) -> Self {
        KllSketch { k: k.max(MIN_K), n: 0, levels: vec![Vec::new()], coin: SEED }
    }

    pub fn k(&self) -> u16 {
        self.k
    }

    /// Values fed.
    pub fn n(&self) -> u64 {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Items held (the sketch's memory is `8·retained` bytes plus one `Vec` per level).
    pub fn retained(&self) -> usize {
        self.levels.iter().map(Vec::len).sum()
    }

    pub fn num_levels(&self) -> usize {
        self.levels.len()
    }

    /// Items the sketch may hold with its current number of levels before it compacts.
    pub fn capacity(&self) -> usize {
        let levels = self.levels.len();
        if self.k == DEFAULT_K {
            if let Some(&total) = default_capacities().1.get(levels) {
                return total;
            }
        }
        (0..levels).map(|h| level_capacity(self.k, levels, h)).sum()
    }

    /// The normalised rank error ε for this sketch's `k` (see [`KllSketch`]); 0 while no
    /// compaction has happened (every value is held at weight 1: the CDF is exact).
    pub fn normalized_rank_error(&self) -> f64 {
        if self.levels.len() == 1 {
            0.0
        } else {
            normalized_rank_error(self.k)
        }
    }

    /// Adds a value. Non-finite values are the caller's to exclude (they are ignored here).
    pub fn update(&mut self, value: f64) {
        if !value.is_finite() {
            return;
        }
        self.levels[0].push(value);
        self.n += 1;
        // The common case (no compaction due) without entering `compress`.
        if self.retained() > self.capacity() {
            self.compress();
        }
    }

    /// Adds every value of the other sketch (same or different `k`; this one's `k` is kept).
    pub fn merge(&mut self, other: &KllSketch) {
        for (h, items) in other.levels.iter().enumerate() {
            if self.levels.len() <= h {
                self.levels.resize_with(h + 1, Vec::new);
            }
            self.levels[h].extend_from_slice(items);
        }
        self.n += other.n;
        self.compress();
    }

    /// The retained items by level (`levels[h]` weigh `2^h`) and the coin state: with `k` and
    /// `n`, the whole state, for the binary profile format (`profile/codec.rs`).
    pub fn levels(&self) -> &[Vec<f64>] {
        &self.levels
    }

    pub fn coin(&self) -> u64 {
        self.coin
    }

    /// A sketch from the parts [`Self::levels`] and [`Self::coin`] expose, checked.
    pub fn from_parts(k: u16, n: u64, levels: Vec<Vec<f64>>, coin: u64) -> Result<Self, KllError> {
        let sketch = KllSketch { k, n, levels, coin };
        sketch.check()?;
        Ok(sketch)
    }

    /// Checks a sketch read from a checkpoint.
    pub fn check(&self) -> Result<(), KllError> {
        if self.k < MIN_K {
            return Err(KllError::SmallK(self.k));
        }
        if self.levels.is_empty() {
            return Err(KllError::NoLevel);
        }
        if self.levels.iter().flatten().any(|v| !v.is_finite()) {
            return Err(KllError::NonFinite);
        }
        let weight = self.levels.iter().enumerate().try_fold(0u64, |acc, (h, items)| {
            let w = 1u64.checked_shl(h as u32)?;
            acc.checked_add(w.checked_mul(items.len() as u64)?)
        });
        if weight != Some(self.n) {
            return Err(KllError::Weight);
        }
        if self.retained() > self.capacity() {
            return Err(KllError::Capacity);
        }
        Ok(())
    }

    /// The retained items with their weights, ascending by value (equal values merged).
    pub fn sorted_view(&self) -> Vec<(f64, u64)> {
        let mut items: Vec<(f64, u64)> =
            self.levels.iter().enumerate().flat_map(|(h, items)| items.iter().map(move |&v| (v, 1u64 << h))).collect();
        items.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let mut out: Vec<(f64, u64)> = Vec::with_capacity(items.len());
        for (v, w) in items {
            match out.last_mut() {
                Some(last) if last.0 == v => last.1 += w,
                _ => out.push((v, w)),
            }
        }
        out
    }

    /// Compacts until the sketch fits its capacity.
    fn compress(&mut self) {
        while self.retained() > self.capacity() {
            let levels = self.levels.len();
            let Some(h) = (0..levels).find(|&h| self.levels[h].len() >= level_capacity(self.k, levels, h)) else {
                return; // cannot happen: more items than the sum of the capacities
            };
            if h + 1 == levels {
                self.levels.push(Vec::new());
            }
            let mut items = std::mem::take(&mut self.levels[h]);
            let leftover = if items.len() % 2 == 1 { items.pop() } else { None };
            sort_total(&mut items);
            let offset = usize::from(self.flip());
            self.levels[h + 1].extend(items.iter().skip(offset).step_by(2));
            items.clear();
            items.extend(leftover);
            items.shrink_to(level_capacity(self.k, self.levels.len(), h));
            self.levels[h] = items;
        }
    }

    /// One fair coin flip from the sketch's own SplitMix64 stream.
    fn flip(&mut self) -> bool {
        self.coin = self.coin.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.coin;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) >> 63 == 1
    }
}

/// Sorts ascending by `f64::total_cmp`, with the same result as `sort_unstable_by(f64::total_cmp)`
/// (the order is total and items with equal keys are equal bit for bit, so any correct sort
/// gives the same slice), but by sorting order-preserving integer keys: about twice as fast on
/// the few hundred items of a compaction, which was ~7 % of a replay.
fn sort_total(items: &mut [f64]) {
    thread_local! {
        static KEYS: std::cell::RefCell<Vec<i64>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    KEYS.with(|keys| {
        let mut keys = keys.borrow_mut();
        keys.clear();
        keys.extend(items.iter().map(|&v| total_key(v)));
        keys.sort_unstable();
        for (item, &key) in items.iter_mut().zip(keys.iter()) {
            *item = from_total_key(key);
        }
    });
}

/// The integer whose order is `f64::total_cmp`'s (its own transform): negative values have
/// their magnitude bits flipped.
#[inline]
fn total_key(v: f64) -> i64 {
    let bits = v.to_bits() as i64;
    bits ^ ((((bits >> 63) as u64) >> 1) as i64)
}

/// The inverse of [`total_key`] (the transform is an involution).
#[inline]
fn from_total_key(key: i64) -> f64 {
    f64::from_bits((key ^ ((((key >> 63) as u64) >> 1) as i64)) as u64)
}

/// DataSketches' double-sided normalised rank error for `k` (about 99 % confidence).
pub fn normalized_rank_error(k: u16) -> f64 {
    2.446 / f64::from(k).powf(0.9433)
}

/// Depths for which [`default_capacities`] holds the capacities of `DEFAULT_K`.
const TABLED_DEPTHS: usize = 65;

/// For `k` = [`DEFAULT_K`]: the capacity of a level at each depth, and the total capacity of a
/// sketch with each number of levels (index 0: no level). Computed once by the same expression
/// as [`level_capacity`] (so the values are identical): `update` checks the total capacity on
/// every value, and `powi` + `ceil` per level per value was ~6 % of a replay.
fn default_capacities() -> &'static ([usize; TABLED_DEPTHS], [usize; TABLED_DEPTHS + 1]) {
    static TABLE: std::sync::OnceLock<([usize; TABLED_DEPTHS], [usize; TABLED_DEPTHS + 1])> =
        std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut by_depth = [0; TABLED_DEPTHS];
        let mut totals = [0; TABLED_DEPTHS + 1];
        for depth in 0..TABLED_DEPTHS {
            by_depth[depth] = capacity_at_depth(DEFAULT_K, depth as i32);
            totals[depth + 1] = totals[depth] + by_depth[depth];
        }
        (by_depth, totals)
    })
}

/// Capacity of level `h` of a sketch with `levels` levels.
fn level_capacity(k: u16, levels: usize, h: usize) -> usize {
    let depth = (levels - h - 1).min(64);
    if k == DEFAULT_K {
        return default_capacities().0[depth];
    }
    capacity_at_depth(k, depth as i32)
}

/// `max(8, ⌈k·(2/3)^depth⌉)`.
fn capacity_at_depth(k: u16, depth: i32) -> usize {
    let capacity = (f64::from(k) * (2.0f64 / 3.0).powi(depth)).ceil() as usize;
    capacity.max(MIN_LEVEL_CAPACITY)
}

#[cfg(test)]
mod tests;
