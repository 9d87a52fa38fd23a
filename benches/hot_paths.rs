//! Hot-path micro-benchmarks (divan): `cargo bench --bench hot_paths [-- FILTER]`.
//!
//! Each benchmark drives one of the engine's hot operations through the library's public API on
//! a machine booted for it (invariant checks off, as in a release `wbsim run`), and names the
//! kernel path it stands for in a `//` line above it. Figures go to docs/PERFORMANCE.md ("How to
//! measure"). Nothing here is a test: speed is never asserted.
//!
//! Machines are built with the tiny-machine helpers of the tests (`tests/suite/common.rs`).

#[path = "../tests/suite/common.rs"]
mod common;

use std::path::{Path, PathBuf};

use common::*;
use divan::counter::ItemsCount;
use divan::{black_box, Bencher};
use wbsim::mm::page_alloc::alloc_flags;
use wbsim::mm::vmscan::DEF_PRIORITY;
use wbsim::mm::Event;
use wbsim::scenario::{load, Overrides};
use wbsim::sim::{EventQueue, SimRng};

fn main() {
    divan::main();
}

/// A booted machine as `wbsim run` boots it in a release build: no invariant recounts.
fn boot_fast(spec: &RunSpec) -> Machine {
    Machine::boot(
        spec,
        Options {
            stop_at_first_oom: true,
            check_invariants: false,
            handle_every_event: false,
        },
    )
}

/// Handles events as the engine's loop does (without its observers and limits) until `done`
/// holds; panics after `max_events` events.
fn drive(m: &mut Machine, max_events: u64, done: impl Fn(&Machine) -> bool) {
    let mut n = 0;
    while !done(m) {
        let (at, ev) = m.clock.queue.pop().expect("the queue ran dry");
        m.clock.now = at;
        m.clock.events += 1;
        m.handle(ev);
        m.unplug_all();
        n += 1;
        assert!(
            n <= max_events,
            "condition not reached in {max_events} events"
        );
    }
}

/// A task that never runs (its start is far away): the allocating context of the benchmarks
/// that call the allocator directly.
fn idle_task(name: &str, cpuset: Option<Vec<u32>>) -> TaskSpec {
    let mut t = anon(name, 0);
    t.start_ns = 1_000_000 * SEC;
    t.cpuset_nodes = cpuset;
    t
}

fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// An event like the engine's own (`Event::run` of task `i`).
fn ev(i: u64) -> Event {
    Event::run(Actor::Task((i % 8) as usize), i as u32)
}

/// The event queue: `EventQueue<Event>`, the whole scheduler of the model.
mod event_queue {
    use super::*;

    /// Pending events in the steady state (about what a busy run holds: every actor's next
    /// wake-up plus the disks' completions).
    const PENDING: u64 = 1024;

    // Kernel: none by itself; every sleep and wake-up of every actor (schedule_timeout(),
    // wake_up_process(), a request completion interrupt) is one schedule and one pop.
    /// Pop the earliest of 1024 pending events, schedule one 0–1 ms later (through the heap).
    #[divan::bench]
    fn schedule_pop_1k_pending(bencher: Bencher) {
        let mut rng = SimRng::split(1, 1);
        let offsets: Vec<u64> = (0..4096).map(|_| rng.below(MSEC)).collect();
        let mut q = EventQueue::default();
        for i in 0..PENDING {
            q.schedule(offsets[i as usize], ev(i));
        }
        let mut i = 0usize;
        bencher.bench_local(|| {
            let (at, e) = q.pop().expect("pending events");
            q.schedule(at + offsets[i & 4095], black_box(e));
            i += 1;
        });
    }

    // Kernel: none by itself; an actor that goes on at once (a task whose next step is due now,
    // cond_resched() without a switch): the queue's front slot, no heap operation.
    /// Schedule an event ahead of 1024 pending ones and pop it at once.
    #[divan::bench]
    fn front_fast_path_1k_pending(bencher: Bencher) {
        let mut q = EventQueue::default();
        for i in 0..PENDING {
            q.schedule(1_000_000 * SEC + i, ev(i));
        }
        let mut i = 0u64;
        bencher.bench_local(|| {
            let now = q.now();
            q.schedule(now + 1, ev(i));
            i += 1;
            black_box(q.pop())
        });
    }
}

/// The order-0 page allocator and free path.
mod alloc {
    use super::*;

    /// One 64 MiB node and one allocating task (index 0) that never runs.
    pub fn single_node() -> Machine {
        let spec = run_spec(
            Release::V2_6_32,
            Policy::Redirty,
            machine(&[64 * MIB]),
            vec![],
            vec![],
            vec![idle_task("alloc", None)],
        );
        boot_fast(&spec)
    }

    // Kernel: __alloc_pages_nodemask() fast path -> get_page_from_freelist() ->
    // buffered_rmqueue() from the per-CPU list, then free_hot_cold_page() back onto it.
    /// Allocate one page and free it (per-CPU list hit both ways), one node.
    #[divan::bench]
    fn single_node_alloc_free(bencher: Bencher) {
        let mut m = single_node();
        let cpu = m.tasks[0].cpu;
        bencher.bench_local(|| {
            let Alloc::Page(id) = m.alloc_page(0, gfp::GFP_HIGHUSER_MOVABLE) else {
                panic!("the fast path failed on an empty machine")
            };
            m.free_page(black_box(id), cpu);
        });
    }

    const BATCH: usize = 1024;

    // Kernel: the same fast path where the per-CPU list runs dry and overflows:
    // rmqueue_bulk() refills pcp->batch pages from the buddy lists, free_pcppages_bulk() gives
    // them back past pcp->high.
    /// Allocate 1024 pages, then free them, one node (per page).
    #[divan::bench]
    fn single_node_alloc_free_1024(bencher: Bencher) {
        let mut m = single_node();
        let cpu = m.tasks[0].cpu;
        let mut held = Vec::with_capacity(BATCH);
        bencher.counter(ItemsCount::new(BATCH)).bench_local(|| {
            for _ in 0..BATCH {
                let Alloc::Page(id) = m.alloc_page(0, gfp::GFP_HIGHUSER_MOVABLE) else {
                    panic!("the fast path failed on an empty machine")
                };
                held.push(id);
            }
            for id in held.drain(..) {
                m.free_page(id, cpu);
            }
        });
    }

    /// fake-numa-128m's machine (16 GiB in 128 fake-NUMA nodes of 128 MiB) with its batch job's
    /// cpuset (nodes 8-71, task 0), every allowed node before the last one filled to below its
    /// low watermark (and the last one too when `fill_last`).
    fn numa_128(fill_last: bool) -> Machine {
        let mut spec = run_spec(
            Release::V2_6_32,
            Policy::Redirty,
            machine(&[]),
            vec![],
            vec![],
            vec![idle_task("batch", Some((8..=71).collect()))],
        );
        spec.machine.memory_bytes = 16 << 30;
        spec.machine.layout = NodeLayout::FakeNuma {
            node_bytes: 128 * MIB,
        };
        let mut m = boot_fast(&spec);
        assert_eq!(m.mem.nodes.len(), 128);
        let fast = alloc_flags::WMARK_LOW | alloc_flags::CPUSET;
        let mask = gfp::GFP_HIGHUSER_MOVABLE | gfp::HARDWALL;
        while let Some(id) = m.get_page_from_freelist(0, mask, fast) {
            let node = m.mem.zones[m.mem.pages[id as usize].zone as usize].node;
            if node == 71 && !fill_last {
                m.free_page(id, m.tasks[0].cpu);
                break;
            }
        }
        m
    }

    // Kernel: get_page_from_freelist()'s zonelist walk on a fake-NUMA machine inside a cpuset:
    // zone_watermark_ok() fails on 63 full nodes before buffered_rmqueue() on the 64th.
    /// Allocate one page and free it, 128 nodes, cpuset of 64, 63 of them full.
    #[divan::bench]
    fn numa128_cpuset_alloc_free_past_63_full(bencher: Bencher) {
        let mut m = numa_128(false);
        let cpu = m.tasks[0].cpu;
        bencher.bench_local(|| {
            let Alloc::Page(id) = m.alloc_page(0, gfp::GFP_HIGHUSER_MOVABLE) else {
                panic!("node 71 has free pages")
            };
            m.free_page(black_box(id), cpu);
        });
    }

    // Kernel: the failing first get_page_from_freelist() of __alloc_pages_nodemask() (before
    // __alloc_pages_slowpath()): 64 watermark failures and 65 cpuset_zone_allowed_softwall()
    // rejections over the whole zonelist of 129 zones.
    /// The fast-path walk that finds nothing: 128 nodes, the whole cpuset full.
    #[divan::bench]
    fn numa128_cpuset_walk_finds_nothing(bencher: Bencher) {
        let mut m = numa_128(true);
        let fast = alloc_flags::WMARK_LOW | alloc_flags::CPUSET;
        let mask = gfp::GFP_HIGHUSER_MOVABLE | gfp::HARDWALL;
        bencher.bench_local(|| {
            let got = m.get_page_from_freelist(0, black_box(mask), fast);
            assert!(got.is_none());
        });
    }
}

/// The LRU lists.
mod lru {
    use super::*;

    const N: usize = 4096;

    // Kernel: add_page_to_lru_list() (list_add on the zone's lru) and del_page_from_lru_list()
    // (list_del), the two halves of every isolation, putback and activation.
    /// Add 4096 held pages at the head of the inactive file list, then delete them (per page).
    #[divan::bench]
    fn add_head_then_del_4096(bencher: Bencher) {
        let mut m = super::alloc::single_node();
        let ids: Vec<PageId> = (0..N)
            .map(|_| match m.alloc_page(0, gfp::GFP_HIGHUSER_MOVABLE) {
                Alloc::Page(id) => id,
                other => panic!("the fast path failed on an empty machine: {other:?}"),
            })
            .collect();
        bencher.counter(ItemsCount::new(N)).bench_local(|| {
            for &id in &ids {
                m.mem.lru_add_head(id, LruList::InactiveFile);
            }
            for &id in &ids {
                m.mem.lru_del(id, Place::Held);
            }
        });
    }
}

/// A 64 MiB machine, one ext4 mount on a 100 MB/s disk, after a reader (task 0) has read a
/// `mib` MiB file in 128 KiB read() calls: that many clean page-cache pages on the inactive file
/// list. (Calls of at most 512 KiB, one disk request each: a longer call's first completion
/// wakes the reader as if the whole call were done, and a later one wakes it after it finished.)
fn cached_file_machine(mib: u64) -> Machine {
    let reader = task(
        "reader",
        TaskKind::StreamRead(StreamRead {
            mount: 0,
            bytes: mib * MIB,
            rate_bytes_per_sec: 1 << 40,
            read_bytes: 128 << 10,
        }),
    );
    let spec = run_spec(
        Release::V2_6_32,
        Policy::Redirty,
        machine(&[64 * MIB]),
        vec![disk(100_000_000)],
        vec![mount(FsType::Ext4)],
        vec![reader],
    );
    let mut m = boot_fast(&spec);
    drive(&mut m, 10_000_000, |m| m.tasks[0].finished_at.is_some());
    m
}

/// Reclaim.
mod reclaim {
    use super::*;

    /// The highest priority at which the inactive file list of zone 0 gives at least one
    /// SWAP_CLUSTER_MAX batch (`nr_inactive >> prio >= 32`).
    fn one_batch_priority(m: &Machine) -> i32 {
        let n = m.mem.zones[0].nr_lru(LruList::InactiveFile);
        (0..=DEF_PRIORITY)
            .rev()
            .find(|&p| n >> p >= 32)
            .expect("at least 32 inactive file pages")
    }

    // Kernel: kswapd's shrink_zone() at one priority -> get_scan_count() ->
    // shrink_inactive_list(): isolate_lru_pages() of SWAP_CLUSTER_MAX pages, shrink_page_list()
    // (page_referenced(), __remove_mapping()), free_hot_cold_page() of each, putback.
    /// One shrink_zone() call that scans one 32-page batch of clean page cache (per page
    /// scanned). Each sample gets a freshly booted machine with 32 MiB of cached file.
    #[divan::bench(sample_count = 100, sample_size = 1)]
    fn shrink_zone_one_batch_clean_file(bencher: Bencher) {
        let mut probe = cached_file_machine(32);
        let prio = one_batch_priority(&probe);
        let mut sc = kswapd_sc();
        probe.shrink_zone(prio, 0, &mut sc);
        assert!(sc.nr_reclaimed > 0, "the probe reclaimed nothing");
        bencher
            .counter(ItemsCount::new(sc.nr_scanned))
            .with_inputs(|| (cached_file_machine(32), kswapd_sc()))
            .bench_local_refs(|(m, sc)| m.shrink_zone(prio, 0, sc));
    }
}

/// Dirtying and writeback.
mod writeback {
    use super::*;

    const N: usize = 1024;

    // Kernel: __set_page_dirty_nobuffers() + account_page_dirtied() (NR_FILE_DIRTY, the radix
    // tree dirty tag, BDI_RECLAIMABLE, the task's dirtier share, __mark_inode_dirty()), then
    // clear_page_dirty_for_io() as write_cache_pages() calls it.
    /// Dirty 1024 cached pages, then clear them for IO (per page).
    #[divan::bench]
    fn set_dirty_then_clear_for_io_1024(bencher: Bencher) {
        let mut m = cached_file_machine(8);
        let ids: Vec<PageId> = file_pages(&m, 0).into_iter().take(N).collect();
        assert_eq!(ids.len(), N);
        bencher.counter(ItemsCount::new(N)).bench_local(|| {
            for &id in &ids {
                m.set_page_dirty(id, Some(0));
            }
            for &id in &ids {
                m.clear_page_dirty_for_io(id);
            }
        });
    }

    // Kernel: set_page_dirty() of 4 MiB, then wakeup_flusher_threads() -> wb_writeback() ->
    // writeback_inodes_wb() -> ext4 ->writepages (clear_page_dirty_for_io(),
    // set_page_writeback(), submit_bio()), the disk model, end_page_writeback() on completion.
    /// Dirty 1024 cached pages and run the flusher and the disk until all are clean (per page).
    #[divan::bench(sample_count = 50)]
    fn dirty_and_flush_1024(bencher: Bencher) {
        let mut m = cached_file_machine(8);
        let ids: Vec<PageId> = file_pages(&m, 0).into_iter().take(N).collect();
        let clean = |m: &Machine| {
            m.mem.global(|z| z.stat.nr_dirty) == 0
                && m.mem.global(|z| z.stat.nr_writeback) == 0
                && disk_idle(m)
        };
        let round = |m: &mut Machine| {
            for &id in &ids {
                m.set_page_dirty(id, Some(0));
            }
            m.wakeup_flusher_threads(N as u64);
            drive(m, 1_000_000, clean);
        };
        drive(&mut m, 1_000_000, clean);
        // One round outside the timing, to see that every page went to the disk.
        let before = m.stats.vm_events.pgpgout;
        round(&mut m);
        assert_eq!(
            m.stats.vm_events.pgpgout - before,
            4 * N as u64,
            "KiB written in a round"
        );
        bencher
            .counter(ItemsCount::new(N))
            .bench_local(|| round(&mut m));
    }
}

/// Whole runs.
mod whole {
    use super::*;

    // Kernel: boot: memmap_init_zone() and free_all_bootmem() of 262 144 pages, the watermarks
    // (setup_per_zone_wmarks()), the tasks.
    /// Machine::boot of a 1 GiB single-node x86_64 machine.
    #[divan::bench(sample_count = 30)]
    fn boot_1gib(bencher: Bencher) {
        let mut spec = run_spec(
            Release::V2_6_32,
            Policy::Redirty,
            machine(&[]),
            vec![disk(100_000_000)],
            vec![mount(FsType::Ext4)],
            vec![writer(MIB)],
        );
        spec.machine.memory_bytes = 1 << 30;
        spec.machine.layout = NodeLayout::X86_64 { pci_hole_bytes: 0 };
        bencher.bench_local(|| boot_fast(black_box(&spec)));
    }

    // Kernel: the whole model for one small run: benches/tiny.toml (oracle-backup scaled down
    // 16 times: a 256 MiB box, an SHM_LOCK'd segment, cycling sessions, a 512 MiB ext4 backup).
    /// engine::simulate() of benches/tiny.toml's first run.
    #[divan::bench(sample_count = 20)]
    fn simulate_tiny_toml(bencher: Bencher) {
        let sc = load(&repo_path("benches/tiny.toml"), &Overrides::default())
            .expect("benches/tiny.toml loads");
        let spec = sc.runs[0].spec.clone();
        bencher.bench_local(|| engine::simulate(black_box(&spec)));
    }

    // Kernel: a reclaim-bound run: a 64 MiB box where one writer streams 256 MiB to ext4, so
    // kswapd (balance_pgdat) and direct reclaim (try_to_free_pages) recycle the page cache four
    // times while the flusher and the writer's balance_dirty_pages() clean it.
    /// engine::simulate() of a 256 MiB write through a 64 MiB machine.
    #[divan::bench(sample_count = 20)]
    fn simulate_reclaim_bound_64m(bencher: Bencher) {
        let spec = one_writer(Release::V2_6_32, Policy::Redirty, FsType::Ext4, 256 * MIB);
        let res = engine::simulate(&spec);
        let stolen: u64 = res
            .vmstat
            .iter()
            .filter(|(n, _)| n.starts_with("pgsteal"))
            .map(|(_, v)| v)
            .sum();
        assert!(stolen > 3 * 16384, "reclaimed only {stolen} pages");
        bencher.bench_local(|| engine::simulate(black_box(&spec)));
    }

    // Kernel: none; the CLI's front end: read, parse and validate a scenario, expand its
    // matrix into run specs.
    /// scenario::load() of scenarios/oracle-backup.toml (8 runs).
    #[divan::bench(sample_count = 30)]
    fn load_oracle_backup(bencher: Bencher) {
        let path = repo_path("scenarios/oracle-backup.toml");
        bencher.bench_local(|| load(black_box(&path), &Overrides::default()).expect("it loads"));
    }
}
