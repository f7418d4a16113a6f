//! A small work-sharing pool: map a function over items on a few scoped threads, keeping the
//! input order of the results. Used where work items are few and uneven (columns of a dataset),
//! so a shared index beats splitting the list in fixed halves.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// `f` over `items` on up to `threads` threads (0 = one per core); results keep input order.
pub fn parallel_map<T: Send, R: Send>(items: Vec<T>, threads: usize, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let count = items.len();
    let threads =
        if threads > 0 { threads } else { std::thread::available_parallelism().map_or(1, |n| n.get()) }.min(count);
    if threads <= 1 {
        return items.into_iter().map(f).collect();
    }
    let slots: Vec<Mutex<Option<T>>> = items.into_iter().map(|t| Mutex::new(Some(t))).collect();
    let results: Vec<Mutex<Option<R>>> = (0..count).map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                if let Some(item) = slots[i].lock().ok().and_then(|mut slot| slot.take()) {
                    let result = f(item);
                    if let Ok(mut slot) = results[i].lock() {
                        *slot = Some(result);
                    }
                }
            });
        }
    });
    results.into_iter().filter_map(|slot| slot.into_inner().ok().flatten()).collect()
}
