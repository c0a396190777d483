//! The one worker pool every render runs in (`check` and `diff`): no more threads, and so no
//! more `kubectl` processes at once, than the machine's parallelism
//! (`std::thread::available_parallelism`, which honours the CPU affinity mask and cgroup quota).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// How many renders run at once.
pub fn width() -> usize {
    std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(2)
}

/// `work` of every item, on at most [`width`] threads; results in the items' order. `done` is
/// called after each item (a progress bar).
pub fn run<T: Sync, R: Send>(
    items: &[T],
    work: impl Fn(&T) -> R + Sync,
    done: impl Fn() + Sync,
) -> Vec<R> {
    let workers = width().min(items.len());
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::with_capacity(items.len()));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(index) else {
                    break;
                };
                let result = work(item);
                if let Ok(mut results) = results.lock() {
                    results.push((index, result));
                }
                done();
            });
        }
    });
    let mut results = results
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_once_in_order_and_never_wider_than_the_machine() {
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let items: Vec<usize> = (0..40).collect();
        let out = run(
            &items,
            |item| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(2));
                running.fetch_sub(1, Ordering::SeqCst);
                item * 2
            },
            || {},
        );
        assert_eq!(out, items.iter().map(|item| item * 2).collect::<Vec<_>>());
        assert!(most.load(Ordering::SeqCst) <= width());
    }
}
