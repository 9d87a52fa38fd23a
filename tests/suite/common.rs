//! Tiny machines for the kernel-fact tests: specs built inline, a booted `Machine` driven event
//! by event with the invariants recounted after each, and readers of its lists and counters.
#![allow(dead_code, unused_imports)] // each test binary uses its own subset

pub use wbsim::engine;
pub use wbsim::mm::page::{pg, LruList, PageId, Place, NIL};
pub use wbsim::mm::page_alloc::{Alloc, AllocCtx, AllocPhase};
pub use wbsim::mm::vmscan::ScanControl;
pub use wbsim::mm::{gfp, pf, Actor, Machine, Options};
pub use wbsim::outcome::Outcome;
pub use wbsim::sim::{MSEC, SEC};
pub use wbsim::spec::{
    Anon, AnonGfp, DataMode, DiskSpec, FsType, Limits, MachineSpec, MountSpec, NodeLayout, Pin,
    PinMethod, Policy, Release, RunSpec, SlabSpec, StreamRead, StreamWrite, TaskKind, TaskSpec,
    VmSpec,
};

pub const MIB: u64 = 1 << 20;
pub const PAGE: u64 = 4096;

// ---------------------------------------------------------------------------------------------
// Building tiny machines.
// ---------------------------------------------------------------------------------------------

/// A machine of `nodes` (bytes each, one Normal zone per node), no swap, HZ=1000, one CPU.
pub fn machine(nodes: &[u64]) -> MachineSpec {
    MachineSpec {
        memory_bytes: nodes.iter().sum(),
        kernel_reserved_bytes: 0,
        layout: NodeLayout::Explicit {
            node_bytes: nodes.to_vec(),
        },
        swap_bytes: 0,
        swap_disk: None,
        hz: 1000,
        cpus: 1,
        page_bytes: PAGE,
        slab: Default::default(),
    }
}

/// A disk of `bandwidth` bytes/s with a 5 ms seek and the default 128 requests.
pub fn disk(bandwidth: u64) -> DiskSpec {
    DiskSpec {
        name: "sdb".into(),
        bandwidth_bytes_per_sec: bandwidth,
        seek_ns: 5 * MSEC,
        nr_requests: 128,
        latency_ns: 0,
        queue_depth: 1,
        random_write_iops: 0,
    }
}

/// A mount of `fs` on disk 0 with the default options (ext4 delalloc, data=ordered, commit=5).
pub fn mount(fs: FsType) -> MountSpec {
    MountSpec {
        name: "data".into(),
        fs,
        disk: Some(0),
        delalloc: true,
        data_mode: DataMode::Ordered,
        commit_interval_ns: 5 * SEC,
        dioread_nolock: None,
    }
}

/// A task with no cpuset, no parent, nothing attached, starting at 0.
pub fn task(name: &str, kind: TaskKind) -> TaskSpec {
    TaskSpec::new(name, kind)
}

/// A buffered writer of `bytes` to mount 0 in a single `write()` call, as fast as it can.
pub fn writer(bytes: u64) -> TaskSpec {
    task(
        "writer",
        TaskKind::StreamWrite(StreamWrite {
            mount: 0,
            bytes,
            rate_bytes_per_sec: 1 << 40,
            write_bytes: bytes,
        }),
    )
}

/// An anonymous-memory task that faults in `bytes` (GFP_HIGHUSER_MOVABLE) and holds them.
pub fn anon(name: &str, bytes: u64) -> TaskSpec {
    task(
        name,
        TaskKind::Anon(Anon {
            bytes,
            rate_bytes_per_sec: 1 << 40,
            hold_ns: 0,
            cycle: false,
            gfp: AnonGfp::HighuserMovable,
            working_set: None,
        }),
    )
}

/// A run spec with default sysctls and a 60 s limit.
pub fn run_spec(
    release: Release,
    policy: Policy,
    m: MachineSpec,
    disks: Vec<DiskSpec>,
    mounts: Vec<MountSpec>,
    tasks: Vec<TaskSpec>,
) -> RunSpec {
    RunSpec {
        release,
        kernel: wbsim::kernel::Kernel::profile(release.name()).expect("a 2.6.3x release"),
        policy,
        seed: 1,
        limits: Limits {
            sim_time_ns: 60 * SEC,
            max_events: 10_000_000,
            max_scanned: u64::MAX,
        },
        machine: m,
        vm: VmSpec::default(),
        disks,
        mounts,
        tasks,
        shuffle_wakeups: false,
    }
}

/// 64 MiB, one node, one 100 MB/s disk with one `fs` mount, one writer of `bytes`.
pub fn one_writer(release: Release, policy: Policy, fs: FsType, bytes: u64) -> RunSpec {
    run_spec(
        release,
        policy,
        machine(&[64 * MIB]),
        vec![disk(100_000_000)],
        vec![mount(fs)],
        vec![writer(bytes)],
    )
}

pub fn boot(spec: &RunSpec) -> Machine {
    Machine::boot(
        spec,
        Options {
            stop_at_first_oom: true,
            check_invariants: true,
            handle_every_event: false,
        },
    )
}

/// Runs `spec` through the engine as `wbsim run` does (no invariant recounts), under `probe` if
/// given; with `every_event` each event is handled one by one (`Options::handle_every_event`),
/// for the tests that compare that with the events the engine accounts for at once.
pub fn execute(
    spec: &RunSpec,
    every_event: bool,
    probe: Option<Box<dyn wbsim::probe::Probe>>,
) -> engine::Finished {
    let setup = engine::Setup {
        options: Options {
            stop_at_first_oom: true,
            check_invariants: false,
            handle_every_event: every_event,
        },
        recount: engine::Recount::Sampled,
        probe,
        progress: None,
        drift_at: None,
    };
    engine::execute(spec, setup).unwrap_or_else(|v| panic!("{v}"))
}

/// Handles events as the engine does (invariants recounted after each) until `done` holds;
/// panics if it does not within `limit` of simulated time.
pub fn run_until(m: &mut Machine, limit: u64, done: impl Fn(&Machine) -> bool) {
    while !done(m) {
        let (at, ev) = m
            .clock
            .queue
            .pop()
            .expect("the queue ran dry before the condition held");
        assert!(at <= limit, "condition not reached by {limit} ns");
        m.clock.now = at;
        m.clock.events += 1;
        m.handle(ev);
        m.unplug_all();
        m.check_invariants();
    }
}

/// Steps one event as the engine does (invariants recounted); `false` when the queue is empty or
/// the next event is after `limit` (it stays queued).
pub fn step(m: &mut Machine, limit: u64) -> bool {
    let Some((at, ev)) = m.clock.queue.pop() else {
        return false;
    };
    if at > limit {
        m.clock.queue.schedule(at, ev);
        return false;
    }
    m.clock.now = at;
    m.clock.events += 1;
    m.handle(ev);
    m.unplug_all();
    m.check_invariants();
    true
}

/// Runs every task's events until task `t` has finished its work.
pub fn finish_task(m: &mut Machine, t: usize) {
    run_until(m, SEC, |m| m.tasks[t].finished_at.is_some());
}

/// The `ScanControl` kswapd of node 0 uses in `balance_pgdat` ([≥33]: nr_to_reclaim ULONG_MAX).
pub fn kswapd_sc() -> ScanControl {
    ScanControl {
        gfp: gfp::GFP_KERNEL,
        may_writepage: true,
        nr_to_reclaim: u64::MAX,
        nr_scanned: 0,
        nr_reclaimed: 0,
        actor: Actor::Kswapd(0),
        cpu: 0,
        all_unreclaimable: false,
        stat: Default::default(),
        throttle: None,
        resume: None,
        nr_immediate: 0,
        nr: Default::default(),
        reclaim_idx: 2,
        token: None,
    }
}

/// The `ScanControl` of a direct reclaimer `t` with `gfp` (`try_to_free_pages`).
pub fn direct_sc(t: usize, gfp_mask: u32) -> ScanControl {
    ScanControl {
        gfp: gfp_mask,
        may_writepage: true,
        nr_to_reclaim: 32,
        nr_scanned: 0,
        nr_reclaimed: 0,
        actor: Actor::Task(t),
        cpu: 0,
        all_unreclaimable: false,
        stat: Default::default(),
        throttle: None,
        resume: None,
        nr_immediate: 0,
        nr: Default::default(),
        reclaim_idx: 2,
        token: None,
    }
}

/// The pages of list `l` of zone `z`, head first.
pub fn list_pages(m: &Machine, z: usize, l: LruList) -> Vec<PageId> {
    let mut out = vec![];
    let mut id = m.mem.zones[z].lru[l.idx()].head;
    while id != NIL {
        out.push(id);
        id = m.mem.pages[id as usize].next;
    }
    out
}

/// The page cache page of file `ino` at `index`.
pub fn file_page(m: &Machine, ino: usize, index: usize) -> PageId {
    let id = m.vfs.inodes[ino].pages.get(index as u32);
    assert_ne!(id, NIL, "page {index} of inode {ino} is not cached");
    id
}

/// Every page of file `ino`, by index.
pub fn file_pages(m: &Machine, ino: usize) -> Vec<PageId> {
    (0..m.vfs.inodes[ino].pages.end() as usize)
        .map(|i| file_page(m, ino, i))
        .collect()
}

/// Free pages of every zone: buddy plus per-CPU lists.
pub fn free_pages(m: &Machine) -> u64 {
    m.mem
        .zones
        .iter()
        .map(|z| z.nr_free() + z.pcp.iter().map(|c| c.len() as u64).sum::<u64>())
        .sum()
}

pub fn nr_vmscan_write(m: &Machine) -> u64 {
    m.mem.global(|z| z.stat.nr_vmscan_write)
}

pub fn disk_idle(m: &Machine) -> bool {
    m.io.disks
        .iter()
        .all(|d| d.queue.is_empty() && d.in_flight.is_empty())
}

pub fn oom_victim(m: &Machine) -> (String, String, u64) {
    match m.run.outcome.clone() {
        Some(Outcome::Oom {
            victim,
            invoker,
            points,
            ..
        }) => (victim, invoker, points),
        other => panic!("expected an OOM kill, got {other:?}"),
    }
}

/// `spec` under kernel `profile` (a later release name such as `3.2`, or a 2.6.3x release).
pub fn under(mut spec: RunSpec, profile: &str) -> RunSpec {
    let k = wbsim::kernel::Kernel::profile(profile).expect("a kernel profile");
    spec.release = k.base;
    spec.kernel = k;
    spec
}

/// `spec` with one kernel switch set.
pub fn with_switch(mut spec: RunSpec, key: &str, value: &str) -> RunSpec {
    spec.kernel.set(key, value).expect("a switch value");
    spec
}

thread_local! {
    /// `congestion_wait` sleeps seen by `direct_reclaim_pass` on this test thread.
    pub static CONGESTION_SLEEPS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Runs one whole `do_try_to_free_pages` pass of task `t` with `gfp_mask`, stepping through its
/// sleeps, and returns its progress value.
pub fn direct_reclaim_pass(m: &mut Machine, t: usize, gfp_mask: u32) -> u64 {
    let dr = m.try_to_free_pages_start(t, gfp_mask);
    m.tasks[t].pf |= pf::MEMALLOC;
    m.tasks[t].alloc = Some(AllocCtx {
        gfp: gfp_mask,
        phase: AllocPhase::Reclaiming,
        pages_reclaimed: 0,
        progress: 0,
        reclaim: Some(dr),
        no_progress_loops: 0,
    });
    let mut steps = 0;
    let r = loop {
        if let Some(r) = m.try_to_free_pages_step(t) {
            break r;
        }
        if m.wb.congestion_waiters.contains(&Actor::Task(t)) {
            CONGESTION_SLEEPS.with(|c| c.set(c.get() + 1));
        }
        steps += 1;
        assert!(steps < 1000, "do_try_to_free_pages did not finish");
    };
    m.tasks[t].alloc = None;
    m.tasks[t].pf &= !pf::MEMALLOC;
    r
}

/// 512 dirty ext4 delalloc pages, every one already met once by kswapd (so the reclaimer calls
/// ->writepage on each and ext4 refuses), and a GFP_KERNEL reclaimer (task 1) that never runs.
pub fn refused_inactive_list(release: Release) -> Machine {
    refused_inactive_list_with(release, |_| {})
}

/// [`refused_inactive_list`] on a machine `tweak` changes first.
pub fn refused_inactive_list_with(release: Release, tweak: impl FnOnce(&mut RunSpec)) -> Machine {
    let mut spec = one_writer(release, Policy::Redirty, FsType::Ext4, 2 * MIB);
    tweak(&mut spec);
    let mut r = anon("reclaimer", 0);
    r.start_ns = 1000 * SEC;
    spec.tasks.push(r);
    let mut m = boot(&spec);
    finish_task(&mut m, 0);
    m.shrink_zone(0, 0, &mut kswapd_sc());
    m.mem.zones[0].pages_scanned = 0;
    assert_eq!(m.mem.zones[0].nr_lru(LruList::InactiveFile), 512);
    assert_eq!(m.mem.global(|z| z.stat.nr_dirty), 512);
    m
}
