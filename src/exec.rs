//! Threads for many runs: `--jobs` threads of a rayon pool, each taking the next item not yet
//! started, every result in its item's slot. [`crate::run::Runner`] is the only user.
//!
//! Each run is independent and deterministic (its own machine, its own seeded RNG), so the
//! results do not depend on the number of threads or on which thread ran what. One thread does
//! not start a pool at all.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

use crate::spec::RunSpec;

/// The number of threads: `--jobs N`, else the number of available cores.
pub fn threads(requested: Option<u32>) -> usize {
    requested.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |n| n.max(1) as usize,
    )
}

/// `f` over `items` on `threads` threads of a rayon pool, the results in the order of `items`.
///
/// Each thread takes the next item not yet started, in input order, so the longest wait at the
/// end is one item (rayon's splitting would hand one thread the second half of the list while
/// the other works through the first, however unequal the halves). Which thread ran what never
/// shows in the output: every result goes to its item's slot.
pub fn map_in_order<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = threads.min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let done = Mutex::new(Vec::with_capacity(items.len()));
    on_threads(threads, &|| loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(item) = items.get(i) else { break };
        let r = f(item);
        done.lock().unwrap_or_else(|e| e.into_inner()).push((i, r));
    });
    let mut done = done.into_inner().unwrap_or_else(|e| e.into_inner());
    done.sort_unstable_by_key(|&(i, _)| i);
    debug_assert_eq!(done.len(), items.len());
    done.into_iter().map(|(_, r)| r).collect()
}

/// Calls `work` once on each of `threads` threads of a new rayon pool and returns when all have
/// returned; once on this thread when `threads` is 1 or the pool cannot start.
fn on_threads(threads: usize, work: &(dyn Fn() + Sync)) {
    if threads > 1 {
        match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
            Ok(pool) => {
                return pool.scope(|scope| {
                    for _ in 0..threads {
                        scope.spawn(|_| work());
                    }
                })
            }
            Err(e) => eprintln!("warning: cannot start {threads} threads ({e}); running serially"),
        }
    }
    work();
}

/// What `share_out`'s threads share: the results so far, the next first run to start, and the
/// twins not taken yet.
struct Board<R> {
    results: Vec<Option<R>>,
    next_first: usize,
    twins_left: Vec<usize>,
    /// A run panicked: the others stop instead of waiting for its result.
    aborted: bool,
}

/// Runs items `0..twin.len()` on `threads` threads: every first run (`twin[i]` is `None`) in
/// order, then each twin once its first run is done, taking a clone of that result when
/// `reusable` says so (and calling `reused` with its index) instead of running it. A thread
/// waits only when every first run has started and no twin's first run has finished.
pub fn share_out<R: Clone + Send>(
    twin: &[Option<usize>],
    threads: usize,
    run: &(dyn Fn(usize) -> R + Sync),
    reusable: &(dyn Fn(&R) -> bool + Sync),
    reused: &(dyn Fn(usize) + Sync),
) -> Vec<R> {
    let n = twin.len();
    let firsts: Vec<usize> = (0..n).filter(|&i| twin[i].is_none()).collect();
    let board = Mutex::new(Board {
        results: (0..n).map(|_| None).collect(),
        next_first: 0,
        twins_left: (0..n).filter(|&i| twin[i].is_some()).collect(),
        aborted: false,
    });
    let changed = Condvar::new();
    let lock = || board.lock().unwrap_or_else(|e| e.into_inner());
    let work = || loop {
        let Some(i) = next_job(lock(), &firsts, twin, &changed, reusable, reused) else {
            changed.notify_all();
            return;
        };
        // If the run panics, tell the others not to wait for it.
        let abort = AbortOnUnwind(&board, &changed);
        let r = run(i);
        std::mem::forget(abort);
        lock().results[i] = Some(r);
        changed.notify_all();
    };
    on_threads(threads.min(n), &work);
    board
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .results
        .into_iter()
        .map(|r| r.expect("every job has a result"))
        .collect()
}

/// The next item a thread of `share_out` runs (`None`: nothing is left for it), reusing the
/// results of the twins it can on the way. Takes the board's lock and releases it on return.
fn next_job<R: Clone>(
    mut board: MutexGuard<'_, Board<R>>,
    firsts: &[usize],
    twin: &[Option<usize>],
    changed: &Condvar,
    reusable: &(dyn Fn(&R) -> bool + Sync),
    reused: &(dyn Fn(usize) + Sync),
) -> Option<usize> {
    let first_of = |i: usize| twin[i].expect("a twin");
    loop {
        if board.aborted {
            return None;
        }
        if let Some(&i) = firsts.get(board.next_first) {
            board.next_first += 1;
            return Some(i);
        }
        let ready = board
            .twins_left
            .iter()
            .position(|&i| board.results[first_of(i)].is_some());
        if let Some(pos) = ready {
            let i = board.twins_left.remove(pos);
            let first = board.results[first_of(i)].as_ref().expect("done");
            if !reusable(first) {
                return Some(i);
            }
            board.results[i] = Some(first.clone());
            reused(i);
            continue;
        }
        if board.twins_left.is_empty() {
            return None;
        }
        board = changed.wait(board).unwrap_or_else(|e| e.into_inner());
    }
}

/// Marks the board aborted and wakes the waiting threads if dropped while unwinding.
struct AbortOnUnwind<'a, R>(&'a Mutex<Board<R>>, &'a Condvar);

impl<R> Drop for AbortOnUnwind<'_, R> {
    fn drop(&mut self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).aborted = true;
        self.1.notify_all();
    }
}

/// For each spec, the first earlier spec equal to it but for the policy and the kernel
/// profile's name (found by the serialised spec, confirmed field by field). The name is read
/// only by the reports (the OOM report's layout for `mainline`), never by the engine: profiles
/// with the same switches (6.1 is 5.18's rules under its own name) and the same output release
/// run the same rules, so their runs are the same run.
pub fn policy_twins(specs: &[&RunSpec]) -> Vec<Option<usize>> {
    let engine_input = |spec: &RunSpec| {
        let mut s = spec.clone();
        s.policy = crate::spec::Policy::Redirty;
        s.kernel.profile.clear();
        s.kernel.overrides.clear();
        s
    };
    let mut first: std::collections::HashMap<String, usize> = Default::default();
    specs
        .iter()
        .enumerate()
        .map(|(i, &spec)| {
            let key_spec = engine_input(spec);
            let key = serde_json::to_string(&key_spec).unwrap_or_else(|_| format!("job {i}"));
            let &mut t = first.entry(key).or_insert(i);
            (t != i && key_spec == engine_input(specs[t])).then_some(t)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_twin_reuses_its_first_run_only_when_the_first_allows_it() {
        // Jobs 0, 2, 4, … are first runs; job 2k+1 is the twin of job 2k. First runs 0 and 4
        // (multiples of 4) are not reusable, so their twins run; the others are reused.
        let n = 12;
        let twin: Vec<Option<usize>> = (0..n).map(|i| (i % 2 == 1).then(|| i - 1)).collect();
        for threads in [1, 2, 3] {
            let ran = Mutex::new(Vec::new());
            let reused = Mutex::new(Vec::new());
            let run = |i: usize| {
                ran.lock().unwrap().push(i);
                std::thread::sleep(std::time::Duration::from_micros(300 * (n - i) as u64));
                i
            };
            let out = share_out(&twin, threads, &run, &|&first| first % 4 != 0, &|i| {
                reused.lock().unwrap().push(i)
            });
            assert_eq!(
                out,
                [0, 1, 2, 2, 4, 5, 6, 6, 8, 9, 10, 10],
                "{threads} threads"
            );
            let mut ran = ran.into_inner().unwrap();
            ran.sort_unstable();
            assert_eq!(ran, [0, 1, 2, 4, 5, 6, 8, 9, 10], "{threads} threads");
            let mut reused = reused.into_inner().unwrap();
            reused.sort_unstable();
            assert_eq!(reused, [3, 7, 11], "{threads} threads");
        }
    }

    #[test]
    fn items_start_in_input_order_and_results_come_back_in_input_order() {
        let items: Vec<u64> = (0..40).collect();
        for threads in [1, 2, 3, 8] {
            let started = Mutex::new(Vec::new());
            let out = map_in_order(&items, threads, |&i| {
                started.lock().unwrap().push(i);
                // Unequal items: the early ones are the slow ones.
                std::thread::sleep(std::time::Duration::from_micros(200 * (40 - i)));
                i * i
            });
            assert_eq!(out, items.iter().map(|i| i * i).collect::<Vec<_>>());
            let started = started.into_inner().unwrap();
            assert_eq!(started.len(), items.len());
            // Each thread takes the next item when it starts one, so items start in order (the
            // threads may record their starts a little out of turn, never by a thread count).
            for (k, &i) in started.iter().enumerate() {
                assert!(
                    (i as usize).abs_diff(k) < threads,
                    "{threads} threads: item {i} started {k}th"
                );
            }
        }
    }
}
