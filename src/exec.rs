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
/// `reusable` (given the twin's index and that result) says so (and calling `reused` with its
/// index) instead of running it. A twin's first run may itself be a twin. A thread
/// waits only when every first run has started and no twin's first run has finished.
pub fn share_out<R: Clone + Send>(
    twin: &[Option<usize>],
    threads: usize,
    run: &(dyn Fn(usize) -> R + Sync),
    reusable: &(dyn Fn(usize, &R) -> bool + Sync),
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
    reusable: &(dyn Fn(usize, &R) -> bool + Sync),
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
            if !reusable(i, first) {
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

/// The switches only one filesystem's code reads, with that filesystem and where it reads them:
/// in a run that mounts no such filesystem the setting is never consulted, so two kernels that
/// differ only there run the same rules for that run (3.9 differs from 3.4 only in
/// `ext4_write_begin_nofs`: an ext3 cell is the same run under both). A unit test keeps the list
/// in step with the sources (every read of each switch is in one of the files named).
pub const FILESYSTEM_SWITCHES: &[(&str, crate::fs::FsType, &[&str])] = &[
    // `Ext4::writer_gfp()`: ext4_write_begin() (fs/ext4/inode.c) before 3.9.
    (
        "ext4_write_begin_nofs",
        crate::fs::FsType::Ext4,
        &["src/fs/ext4.rs"],
    ),
    // `Machine::ext4_dioread_nolock()`: ext4_should_dioread_nolock() (fs/ext4/ext4_jbd2.h),
    // false unless the mount is ext4.
    (
        "ext4_dioread_nolock_default",
        crate::fs::FsType::Ext4,
        &["src/mm/ext4_io_end.rs"],
    ),
    // `Xfs::writepage()`, `Xfs::refusal_rule()`: xfs_vm_writepage() (fs/xfs/linux-2.6/xfs_aops.c).
    (
        "xfs_reclaim_writepage",
        crate::fs::FsType::Xfs,
        &["src/fs/xfs.rs"],
    ),
    // `Xfs::writer_gfp()`: xfs_vm_write_begin().
    (
        "xfs_write_begin_nofs",
        crate::fs::FsType::Xfs,
        &["src/fs/xfs.rs"],
    ),
];

/// What the engine reads of `spec`: the spec with the kernel profile's name and `[kernel]`
/// overrides cleared (the switches hold their effect; the name is read only by the reports) and
/// every [`FILESYSTEM_SWITCHES`] setting of a filesystem the run does not mount put back to the
/// default (the engine never reads it).
pub fn engine_input(spec: &RunSpec) -> RunSpec {
    let mut s = spec.clone();
    s.kernel.profile.clear();
    s.kernel.overrides.clear();
    let defaults = crate::kernel::Switches::default();
    for &(key, fs, _) in FILESYSTEM_SWITCHES {
        if !spec.mounts.iter().any(|m| m.fs == fs) {
            let value = crate::kernel::switch_value(&defaults, key).expect("a switch key");
            crate::kernel::set_switch(&mut s.kernel.switches, key, value)
                .expect("a switch value from the table");
        }
    }
    s
}

/// For each spec, the first earlier spec whose engine input ([`engine_input`]) is equal to its
/// own (an exact twin: the same run, whose result it may take), else the first earlier one equal
/// to it but for the policy (a policy twin, whose result it may take only when that run's policy
/// decided nothing). Found by the serialised input, confirmed field by field. Profiles with the
/// same switches (6.1 is 5.18's rules under its own name), or switches that differ only where the
/// run cannot reach, and the same output release run the same rules, so their runs are the same
/// run.
pub fn policy_twins(specs: &[&RunSpec]) -> Vec<Option<usize>> {
    let inputs: Vec<RunSpec> = specs.iter().map(|s| engine_input(s)).collect();
    let without_policy = |s: &RunSpec| {
        let mut s = s.clone();
        s.policy = crate::spec::Policy::Redirty;
        s
    };
    let key =
        |i: usize, s: &RunSpec| serde_json::to_string(s).unwrap_or_else(|_| format!("job {i}"));
    let mut exact: std::collections::HashMap<String, usize> = Default::default();
    let mut policy: std::collections::HashMap<String, usize> = Default::default();
    (0..specs.len())
        .map(|i| {
            let general = without_policy(&inputs[i]);
            let &mut e = exact.entry(key(i, &inputs[i])).or_insert(i);
            let &mut p = policy.entry(key(i, &general)).or_insert(i);
            if e != i && inputs[e] == inputs[i] {
                Some(e)
            } else {
                (p != i && without_policy(&inputs[p]) == general).then_some(p)
            }
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
            let out = share_out(&twin, threads, &run, &|_, &first| first % 4 != 0, &|i| {
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
    fn each_filesystem_switch_is_read_only_in_its_filesystem_code() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        let mut dirs = vec![root.join("src")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("src is readable") {
                let path = entry.expect("an entry").path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
        for &(key, _, readers) in FILESYSTEM_SWITCHES {
            let read = format!(".{key}");
            let mut found = Vec::new();
            for path in &files {
                let text = std::fs::read_to_string(path).expect("a source file");
                let name = path.strip_prefix(root).expect("under the crate");
                let name = name.to_string_lossy().replace('\\', "/");
                if name != "src/kernel.rs" && text.contains(&read) {
                    found.push(name);
                }
            }
            found.sort();
            assert_eq!(found, readers, "the engine reads `{key}` in these files");
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
