//! Tasks (`struct task_struct` and the process side of `mm_struct`): a task's cpuset and
//! zonelist, its pacing clock, one slice of its work (what its kind does is
//! `mm/workload/<kind>.rs`), its allocations, its private memory, and `do_exit()` for an OOM
//! victim.
//!
//! Each task runs in bounded slices: one event does at most [`SLICE_PAGES`] pages of work and the
//! task's next event comes after the CPU time that work cost, or at its producer's pace. The GFP
//! mask of each allocation site follows reclaim-oom §14 and `fs::Filesystem::writer_gfp`.

use super::granularity::KernelPages;
use super::page::{pg, LruList, PageId, Place};
use super::page_alloc::{Alloc, AllocCtx};
use super::page_writeback::Bdp;
use super::workload::{Progress, TaskKind};
use super::{cost, Actor, Machine};
use crate::fs::{Inode, Segment};
use crate::sim::{SimTime, SEC};
use crate::spec::TaskSpec;

/// Pages (4 KiB) of work one task event does at most: 256 KiB, `Machine::slice_pages` in
/// simulated pages.
pub const SLICE_PAGES: KernelPages = KernelPages(64);

/// One task.
#[derive(Clone, Debug)]
pub struct Task {
    /// Its name (comm).
    pub name: String,
    /// Its pid.
    pub pid: u32,
    /// Its spec.
    pub kind: TaskKind,
    /// Its CPU.
    pub cpu: usize,
    /// Event generation.
    pub gen: u32,
    /// `current->flags` (PF_MEMALLOC while in direct reclaim).
    pub pf: u32,
    /// Nodes of its cpuset.
    pub mems: Vec<bool>,
    /// `MPOL_BIND` nodes (`None`: the default policy); its zonelists hold only their zones.
    pub membind: Option<Vec<bool>>,
    /// `mem_hardwall`.
    pub cpuset_hardwall: bool,
    /// Its zonelist: local node's zones highest first, then the other nodes.
    pub zonelist: Vec<u16>,
    /// The zones of `zonelist` on nodes of its cpuset, in zonelist order: the zones
    /// `cpuset_zone_allowed_hardwall()` admits (and softwall with `__GFP_HARDWALL`) while it is
    /// not an OOM victim, so the allocator need not test the others one by one.
    pub mems_zonelist: Vec<u16>,
    /// How many leading zones of `mems_zonelist` are known to be at or below their low
    /// watermark (for `classzone`): the fast path starts its walk after them. Free pages only
    /// ever come back to a zone through `free_pcppages_bulk`, which lowers this for every task
    /// whose prefix holds that zone, so skipping the prefix finds the zone the full walk would.
    pub fast_skip: usize,
    /// The slab cache of the allocation it sleeps in, when that is a slab page: a kernel thread's
    /// allocation resumes without its caller (`Machine::flusher_alloc_resume`).
    pub slab_cache: crate::mm::slab::CacheId,
    /// `classzone_idx` of its allocations (the preferred zone's type).
    pub classzone: usize,
    /// `oom_score_adj`.
    pub oom_score_adj: i32,
    /// Parent task.
    pub parent: Option<usize>,
    /// Children.
    pub children: Vec<usize>,
    /// Attached shm segments (pin task indices).
    pub attach: Vec<usize>,
    /// Extra virtual size, base (4 KiB) pages: it only counts in `total_vm`.
    pub extra_vm_pages: u64,
    /// TIF_MEMDIE.
    pub memdie: bool,
    /// PF_EXITING.
    pub exiting: bool,
    /// Killed by the OOM killer.
    pub killed: bool,
    /// Has exited (no mm).
    pub dead: bool,
    /// Its private anon (and kernel) pages; a page's `index` is its slot here.
    pub anon: Vec<PageId>,
    /// Swap entries of its anon memory.
    pub swap_ents: u64,
    /// CPU time charged to its next event.
    pub pending_cpu_ns: u64,
    /// CPU time consumed in all (for 2.6.32–35 badness).
    pub cpu_ns: u64,
    /// Start time.
    pub start_ns: SimTime,
    /// Slow-path allocation in progress.
    pub alloc: Option<AllocCtx>,
    /// `current->reclaim_state->reclaimed_slab` while in direct reclaim.
    pub reclaimed_slab: u64,
    /// `balance_dirty_pages` in progress.
    pub bdp: Option<Bdp>,
    /// `current->nr_dirtied` [3.2+]: pages dirtied since the last `balance_dirty_pages`.
    pub nr_dirtied: u64,
    /// `current->nr_dirtied_pause` [3.2+]: pages to dirty before the next check.
    pub nr_dirtied_pause: u64,
    /// `current->backing_dev_info` during a `write()`.
    pub backing_dev: Option<usize>,
    /// The current sleep is interruptible (a kill wakes it).
    pub interruptible: bool,
    /// When its last [`Machine::sleep_until`] sleep ends: a swap-in fault due earlier wakes it
    /// sooner (`mm/swap_state.rs`).
    pub wakes_at: SimTime,
    /// What it is doing.
    pub progress: Progress,
    /// The file it writes (a `stream-write` on a mount with a disk), kept after it finishes or
    /// dies so that a `truncate` that starts later finds it.
    pub file: Option<usize>,
    /// Bytes of its work done.
    pub done_bytes: u64,
    /// When it finished.
    pub finished_at: Option<SimTime>,
    /// Pages of the read in flight (a `stream-read` call, or a swap-in fault's cluster).
    pub read_pages: Vec<PageId>,
    /// The swap slots of a swap-in fault's pages while they are allocated (`mm/swap_state.rs`).
    pub swap_in_slots: Vec<u32>,
    /// Its mm's share of the swap token (`mm/thrash.rs`).
    pub token: super::thrash::TaskToken,
    /// Its producer's clock (writers, readers, anon faults).
    pub pace: Pace,
    /// A kernel thread (no mm): the bdi whose flusher this task is the allocation context of
    /// (`Machine::flusher_alloc`). It is no OOM candidate and no report lists it.
    pub kthread: Option<usize>,
}

/// A paced producer's clock: the time its `done`-th page is due, `since + done·page·SEC/rate`
/// rounded down, kept as a quotient and a remainder so that the next page's time costs an
/// addition rather than a division (the producers ask for consecutive pages).
#[derive(Clone, Copy, Debug, Default)]
pub struct Pace {
    since: SimTime,
    rate: u64,
    page_bytes: u64,
    done: u64,
    /// `done·page·SEC / rate` and its remainder.
    ns: u64,
    rem: u64,
    /// `page·SEC / rate` and its remainder: one page more.
    step_ns: u64,
    step_rem: u64,
}

impl Pace {
    /// When page `done` (of `page_bytes` each) is due for a producer of `rate` bytes/s that
    /// started at `since`.
    pub fn due(&mut self, since: SimTime, done: u64, rate: u64, page_bytes: u64) -> SimTime {
        let rate = rate.max(1);
        if since != self.since
            || rate != self.rate
            || page_bytes != self.page_bytes
            || done < self.done
            || done > self.done + 1
        {
            let product = u128::from(done) * u128::from(page_bytes) * u128::from(SEC);
            let page = u128::from(page_bytes) * u128::from(SEC);
            let rate128 = u128::from(rate);
            *self = Pace {
                since,
                rate,
                page_bytes,
                done,
                ns: u64::try_from(product / rate128).unwrap_or(u64::MAX),
                rem: (product % rate128) as u64,
                step_ns: u64::try_from(page / rate128).unwrap_or(u64::MAX),
                step_rem: (page % rate128) as u64,
            };
        } else if done == self.done + 1 {
            self.done = done;
            self.ns = self.ns.saturating_add(self.step_ns);
            self.rem += self.step_rem;
            if self.rem >= rate {
                self.rem -= rate;
                self.ns = self.ns.saturating_add(1);
            }
        }
        since.saturating_add(self.ns)
    }
}

impl Task {
    /// The node-ordered zonelist from node `local`, highest zone first within each node.
    fn zonelist(m: &Machine, local: usize, membind: Option<&[u32]>) -> Vec<u16> {
        let nnodes = m.mem.nodes.len();
        let mut zonelist = vec![];
        for k in 0..nnodes {
            let n = (local + k) % nnodes;
            if membind.is_some_and(|b| !b.contains(&(n as u32))) {
                // MPOL_BIND: `policy_nodemask()` filters every zonelist walk (allocation,
                // kswapd wake-ups, direct reclaim, the retry test) to the bound nodes.
                continue;
            }
            for &z in m.mem.nodes[n].zones.iter().rev() {
                zonelist.push(z);
            }
        }
        zonelist
    }

    /// Builds task `i` from its spec, with its cpuset and zonelist.
    pub fn new(m: &Machine, i: usize, s: &TaskSpec, cpu: usize) -> Task {
        let nnodes = m.mem.nodes.len();
        let mut mems = vec![s.cpuset_nodes.is_none(); nnodes];
        if let Some(ns) = &s.cpuset_nodes {
            for &n in ns {
                mems[n as usize] = true;
            }
        }
        let local = mems.iter().position(|&x| x).unwrap_or(0);
        let zonelist = Self::zonelist(m, local, s.membind.as_deref());
        let classzone = m.mem.zones[zonelist[0] as usize].ztype as usize;
        let mems_zonelist = zonelist
            .iter()
            .copied()
            .filter(|&z| mems[m.mem.zones[z as usize].node as usize])
            .collect();
        Task {
            name: s.name.clone(),
            pid: 1000 + i as u32,
            kind: s.kind,
            cpu,
            gen: 0,
            pf: 0,
            mems,
            membind: s
                .membind
                .as_ref()
                .map(|b| (0..nnodes as u32).map(|n| b.contains(&n)).collect()),
            cpuset_hardwall: s.cpuset_hardwall,
            zonelist,
            mems_zonelist,
            fast_skip: 0,
            slab_cache: crate::mm::slab::CacheId::FsMetadata,
            classzone,
            oom_score_adj: s.oom_score_adj,
            parent: s.parent,
            children: vec![],
            attach: s.attach.clone(),
            extra_vm_pages: s.extra_vm_bytes.div_ceil(super::granularity::BASE_PAGE),
            memdie: false,
            exiting: false,
            killed: false,
            dead: false,
            anon: vec![],
            swap_ents: 0,
            pending_cpu_ns: 0,
            cpu_ns: 0,
            start_ns: s.start_ns,
            alloc: None,
            reclaimed_slab: 0,
            bdp: None,
            nr_dirtied: 0,
            nr_dirtied_pause: m.granularity.batch(KernelPages(32)), // 128 KiB: a batch
            backing_dev: None,
            interruptible: false,
            wakes_at: 0,
            progress: Progress::NotStarted,
            file: None,
            done_bytes: 0,
            finished_at: None,
            read_pages: vec![],
            swap_in_slots: vec![],
            token: Default::default(),
            pace: Pace::default(),
            kthread: None,
        }
    }

    /// The flusher thread of bdi `b` as a task (`bdi_start_fn()`, 2.6.32 mm/backing-dev.c): no
    /// mm, every node (a kernel thread's allocations follow the local node's zonelist and no
    /// cpuset), `PF_FLUSHER | PF_SWAPWRITE`, task number `i`. Its kind is never run: a kernel
    /// thread's work is its actor's (`Actor::Flusher`).
    pub fn flusher(m: &Machine, i: usize, b: usize, cpu: usize) -> Task {
        let kind = TaskKind::Anon(super::workload::Anon {
            bytes: 0,
            rate_bytes_per_sec: 0,
            hold_ns: 0,
            cycle: false,
            gfp: super::workload::AnonGfp::Kernel,
            working_set: None,
        });
        let spec = TaskSpec::new(&format!("flush-{b}"), kind);
        let mut t = Task::new(m, i, &spec, cpu);
        t.pid = 200 + b as u32; // kernel threads get low pids at boot
        t.pf = super::pf::FLUSHER | super::pf::SWAPWRITE;
        t.progress = Progress::Done;
        t.kthread = Some(b);
        t
    }

    /// Whether this task has finite work the run waits for (writers, readers, truncates).
    pub fn is_finite(&self) -> bool {
        self.kind.workload().is_finite()
    }

    /// Total bytes of its work, when finite.
    pub fn total_bytes(&self) -> Option<u64> {
        self.kind.workload().total_bytes()
    }
}

/// What one slice of work ended with.
pub enum Slice {
    /// The task sleeps (wake-up scheduled) or waits for an IO completion.
    Sleeping,
    /// More work: run again after the CPU time spent.
    Yield,
    /// Nothing more to do.
    Finished,
}

impl Machine {
    /// [`SLICE_PAGES`] in simulated pages: the same bytes of work per event, so tasks interleave
    /// with kswapd and the flushers as finely in time at every granularity (a batch).
    pub(crate) fn slice_pages(&self) -> u64 {
        self.granularity.batch(SLICE_PAGES)
    }

    /// Runs task `t` for one slice.
    pub fn run_task(&mut self, t: usize) {
        self.tasks[t].interruptible = false;
        if let Some(b) = self.tasks[t].kthread {
            // A wake-up in the flusher's allocation: it resumes where it slept.
            return self.flusher_alloc_resume(b);
        }
        if self.tasks[t].dead {
            return;
        }
        if self.tasks[t].memdie {
            return self.do_exit(t);
        }
        // The kind's spec is copied out: its methods take the machine.
        let kind = self.tasks[t].kind;
        if matches!(self.tasks[t].progress, Progress::NotStarted) {
            self.tasks[t].progress = kind.workload().start(self, t);
        }
        let r = kind.workload().slice(self, t);
        let cpu = std::mem::take(&mut self.tasks[t].pending_cpu_ns);
        self.tasks[t].cpu_ns += cpu;
        match r {
            Slice::Sleeping => {}
            Slice::Yield => self.schedule(self.clock.now + cpu.max(1), Actor::Task(t)),
            Slice::Finished => {
                if self.tasks[t].finished_at.is_none() {
                    self.tasks[t].finished_at = Some(self.clock.now + cpu);
                    if self.tasks[t].is_finite() {
                        self.run.unfinished = self.run.unfinished.saturating_sub(1);
                    }
                }
                self.tasks[t].progress = Progress::Done;
                self.tasks[t].backing_dev = None;
                self.bump_gen(Actor::Task(t));
            }
        }
    }

    /// A new shm segment owned by task `owner` (SHM_LOCK'd: `locked`).
    pub(crate) fn new_segment(&mut self, owner: usize, locked: bool) -> usize {
        self.vfs.segments.push(Segment {
            owner,
            locked,
            pages: vec![],
            resident: 0,
            swapped: 0,
            mapped: 0,
        });
        if self.swap_token.holder.is_some() {
            self.set_token_segments(); // the holder may have attached it
        }
        self.vfs.segments.len() - 1
    }

    /// A new regular file of `pages` on mount `mount`, placed after the disk's last file.
    pub(crate) fn new_inode(&mut self, mount: usize, pages: u64) -> usize {
        let base = match self.vfs.mounts[mount].spec.disk {
            Some(d) => {
                let b = self.io.next_lba[d];
                // Files are 1024 base pages (4 MiB) apart on disk.
                self.io.next_lba[d] += pages + self.granularity.batch(KernelPages(1024));
                b
            }
            None => 0,
        };
        self.vfs.inodes.push(Inode {
            mount,
            pages: Default::default(),
            nr_dirty: 0,
            nr_writeback: 0,
            dirtied_when: None,
            writeback_index: 0,
            size_pages: 0,
            disk_base: base,
            truncated: false,
            i_sync: false,
            in_transaction: false,
            i_dirty: false,
            list: super::fs_writeback::InodeList::None,
        });
        self.vfs.inodes.len() - 1
    }

    /// Allocates one page for task `t`; `None` when it slept (or, killed, failed).
    pub(crate) fn task_alloc(&mut self, t: usize, gfp_mask: u32) -> Option<PageId> {
        match self.alloc_page(t, gfp_mask) {
            Alloc::Page(id) => Some(id),
            Alloc::Sleep => None,
            Alloc::Fail => {
                // Only an OOM victim fails; it exits at its next run.
                self.schedule(self.clock.now, Actor::Task(t));
                None
            }
        }
    }

    /// The time task `t` may next produce, at `rate` bytes/s, having done `done` pages since
    /// `since` (see [`Pace`]).
    pub(crate) fn paced(&mut self, t: usize, since: SimTime, done: u64, rate: u64) -> SimTime {
        let page_bytes = self.granularity.page_bytes();
        self.tasks[t].pace.due(since, done, rate, page_bytes)
    }

    /// Sleeps interruptibly until `at` (pacing, holding).
    pub(crate) fn sleep_until(&mut self, t: usize, at: SimTime) -> Slice {
        let cpu = std::mem::take(&mut self.tasks[t].pending_cpu_ns);
        self.tasks[t].cpu_ns += cpu;
        self.tasks[t].interruptible = true;
        let at = at.max(self.clock.now + cpu);
        self.tasks[t].wakes_at = at;
        self.schedule(at, Actor::Task(t));
        Slice::Sleeping
    }

    /// A paced task's sleep until `at` and its wake-up, done at once: `true` when the clock now
    /// reads the time the task would have woken and the task goes on in the same slice budget as
    /// a new slice. Only when nothing else can happen meanwhile: no event is pending at or before
    /// that time (one at the same instant may pop first), nothing is plugged (the event's end
    /// would unplug it), the run goes on (no outcome, the task neither dead nor chosen by the OOM
    /// killer) and the event loop needs no stop (`Clock::skip_limit`, as
    /// `kswapd_spin_skip` does). An observer is told what it would have been told at the end of
    /// the event and before the wake-up's (`after_event`, `before_event`). What
    /// the sleep and the wake-up would have done is done here: the CPU charged, the generation
    /// bumped, the schedule's order draws, the event counted, the clock moved. Every result is
    /// the same as sleeping (tests/suite: `a_paced_task_woken_inline_…`).
    pub(crate) fn wake_inline(&mut self, t: usize, at: SimTime) -> bool {
        let task = &self.tasks[t];
        let wake = at.max(self.clock.now + task.pending_cpu_ns);
        let free = self.run.outcome.is_none()
            && self.io.plugged.is_empty()
            && self.clock.events < self.clock.skip_limit
            && !(task.dead || task.memdie || task.kthread.is_some())
            && wake <= self.spec.limits.sim_time_ns
            && self
                .clock
                .queue
                .peek_time()
                .map_or(true, |next| next > wake);
        if !free {
            return false;
        }
        // What the engine tells an observer between the end of this event and the wake-up's
        // (`engine::step`): the state the sleep would have left, then the samples up to it.
        self.probe_after_event(Some(Actor::Task(t)));
        self.probe_before_event(wake);
        let cpu = std::mem::take(&mut self.tasks[t].pending_cpu_ns);
        self.tasks[t].cpu_ns += cpu;
        self.bump_gen(Actor::Task(t));
        self.clock.queue.skip_schedules(1);
        self.clock.queue.advance(wake);
        self.clock.now = wake;
        self.clock.events += 1;
        self.clock.skipped += 1;
        true
    }

    /// A private anon page of task `t`, mapped and young.
    pub(crate) fn add_anon_page(&mut self, t: usize, id: PageId, extra: u32) {
        let slot = self.tasks[t].anon.len() as u32;
        self.tasks[t].anon.push(id);
        let p = &mut self.mem.pages[id as usize];
        p.flags = pg::ANON | pg::SWAPBACKED | pg::MAPPED | pg::YOUNG | extra;
        p.owner = t as u32;
        p.index = slot;
        let zid = p.zone as usize;
        self.mem.zones[zid].stat.nr_anon_pages += 1;
    }

    /// A page fault's new private anon page (`page_add_new_anon_rmap` +
    /// `lru_cache_add_active_anon`): what `add_anon_page` and `lru_cache_add(ActiveAnon)` do, with
    /// the page and its zone looked up once.
    pub(crate) fn fault_anon_page(&mut self, t: usize, id: PageId) {
        let slot = self.tasks[t].anon.len() as u32;
        self.tasks[t].anon.push(id);
        let p = &mut self.mem.pages[id as usize];
        debug_assert!(p.place != Place::Lru);
        p.flags = pg::ANON | pg::SWAPBACKED | pg::MAPPED | pg::YOUNG | pg::ACTIVE | pg::LRU;
        p.owner = t as u32;
        p.index = slot;
        p.place = Place::Lru;
        p.lru = LruList::ActiveAnon;
        let zid = p.zone as usize;
        let lv = self.mem.zones[zid].lruvec as usize;
        super::page::list_add_head(
            &mut self.mem.pages,
            &mut self.mem.zones[lv].lru[LruList::ActiveAnon.idx()],
            id,
        );
        let z = &mut self.mem.zones[zid];
        z.nr_zone_lru[LruList::ActiveAnon.idx()] += 1;
        z.stat.nr_anon_pages += 1;
        // update_page_reclaim_stat() of the page's lruvec.
        let v = &mut self.mem.zones[lv];
        v.recent_scanned[0] += 1;
        v.recent_rotated[0] += 1;
        self.mem.vm_stat.nr_lru[LruList::ActiveAnon.idx()] += 1;
    }

    /// A shmem page of segment `s` (resident, dirty by nature, on the active anon list).
    pub(crate) fn add_shm_page(&mut self, s: usize, id: PageId, mapped: bool) {
        let idx = self.vfs.segments[s].pages.len() as u32;
        self.vfs.segments[s].pages.push(id);
        self.vfs.segments[s].resident += 1;
        let p = &mut self.mem.pages[id as usize];
        p.flags = pg::SHMEM
            | pg::SWAPBACKED
            | pg::DIRTY
            | if mapped { pg::MAPPED | pg::YOUNG } else { 0 };
        p.owner = s as u32;
        p.index = idx;
        let z = &mut self.mem.zones[p.zone as usize].stat;
        z.nr_shmem += 1;
        z.nr_file_pages += 1;
        if mapped {
            z.nr_mapped += 1;
            self.vfs.segments[s].mapped += 1;
        }
        self.lru_cache_add(id, LruList::ActiveAnon);
    }

    /// Removes anon page `id` from its owner's list (swap-out or free), O(1).
    ///
    /// A hot page (`hot_end`: where the hot set ended before, `mm/hot.rs`) is first exchanged
    /// with the last hot page, so the hot set stays the same pages less this one.
    pub fn task_forget_anon_page(&mut self, t: usize, id: PageId, hot_end: Option<u64>) {
        let mut slot = self.mem.pages[id as usize].index as usize;
        let v = &mut self.tasks[t].anon;
        debug_assert_eq!(v[slot], id);
        if let Some(end) = hot_end {
            let last_hot = (end as usize).min(v.len()) - 1;
            v.swap(slot, last_hot);
            self.mem.pages[v[slot] as usize].index = slot as u32;
            slot = last_hot;
        }
        v.swap_remove(slot);
        if slot < v.len() {
            let moved = v[slot];
            self.mem.pages[moved as usize].index = slot as u32;
        }
    }

    /// Puts a page faulted back from swap into task `t`'s slots at `hot_end` (the end of its
    /// hot set before the fault), so it is hot again; the page there moves to the end.
    pub(crate) fn task_add_hot_anon_page(&mut self, t: usize, id: PageId, hot_end: u64) {
        let v = &mut self.tasks[t].anon;
        let slot = (hot_end as usize).min(v.len());
        v.push(id);
        let last = v.len() - 1;
        v.swap(slot, last);
        let moved = v[last];
        self.mem.pages[moved as usize].index = last as u32;
        self.mem.pages[id as usize].index = slot as u32;
    }

    /// munmap/exit of a task's private memory: anon pages (munlocked first), kernel pages, swap.
    pub(crate) fn free_task_memory(&mut self, t: usize) {
        let mut pages = std::mem::take(&mut self.tasks[t].anon);
        let cpu = self.tasks[t].cpu;
        let mut freed = 0;
        for &id in &pages {
            let p = self.mem.pages[id as usize];
            let zid = p.zone as usize;
            if p.has(pg::KERNEL) {
                self.mem.zones[zid].stat.nr_kernel -= 1;
                self.mem.pages[id as usize].flags = 0;
                self.mem.pages[id as usize].place = Place::Held;
                self.free_page(id, cpu);
                freed += 1;
                continue;
            }
            if p.has(pg::MLOCKED) {
                self.stats.vm_events.unevictable_pgs_munlocked += 1;
            }
            if p.place == Place::Lru {
                self.mem.lru_del(id, Place::Held);
            }
            self.mem.zones[zid].stat.nr_anon_pages -= 1;
            let f = &mut self.mem.pages[id as usize].flags;
            if *f & pg::SWAPCACHE != 0 {
                // A swap-cache page still mapped: its slot goes with it.
                self.mem.swap.free += 1;
                self.mem.zones[zid].stat.nr_file_pages -= 1;
            }
            if *f & pg::WRITEBACK != 0 {
                // Under swap IO: the page is freed when the IO completes; keep it off lists.
                continue;
            }
            *f &= !(pg::DIRTY | pg::LRU | pg::ACTIVE);
            self.free_page(id, cpu);
            freed += 1;
        }
        self.tasks[t].pending_cpu_ns += freed * self.granularity.cost(cost::FREE_PAGE);
        self.mem.swap.free += std::mem::take(&mut self.tasks[t].swap_ents);
        self.mem.hot.forget(super::hot::Region::Task(t));
        // The list is empty now; keeping its room spares the next fill its reallocations.
        pages.clear();
        self.tasks[t].anon = pages;
    }

    /// `do_exit()` of an OOM victim: PF_EXITING, its private memory freed (not page cache, not
    /// shm segments), then gone.
    pub fn do_exit(&mut self, t: usize) {
        self.tasks[t].exiting = true;
        self.journal_forget(Actor::Task(t));
        if let super::workload::Progress::StreamWrite(st) = &mut self.tasks[t].progress {
            let page = std::mem::replace(&mut st.page, super::page::NIL);
            if page != super::page::NIL {
                let cpu = self.tasks[t].cpu;
                self.free_page(page, cpu);
            }
        }
        self.swap_in_abandon(t);
        self.put_swap_token(t); // mmput()
        self.tasks[t].alloc = None;
        self.tasks[t].bdp = None;
        self.tasks[t].pf = 0;
        self.tasks[t].backing_dev = None;
        self.free_task_memory(t);
        self.tasks[t].dead = true;
        self.tasks[t].memdie = false;
        if self.tasks[t].is_finite() && self.tasks[t].finished_at.is_none() {
            self.run.unfinished = self.run.unfinished.saturating_sub(1);
            self.run.killed_finite = true;
        }
        self.tasks[t].progress = Progress::Dead;
        self.bump_gen(Actor::Task(t));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SimRng;

    fn closed_form(since: SimTime, done: u64, rate: u64, page: u64) -> SimTime {
        since
            + (u128::from(done) * u128::from(page) * u128::from(SEC) / u128::from(rate.max(1)))
                as u64
    }

    #[test]
    fn the_pace_clock_gives_the_closed_form_time_for_consecutive_repeated_and_jumping_pages() {
        let mut rng = SimRng::split(11, 3);
        let mut pace = Pace::default();
        let (mut since, mut done, mut rate, mut page) = (0u64, 0u64, 300_000_000u64, 4096u64);
        for _ in 0..200_000 {
            match rng.below(100) {
                99 => page = 4096 << rng.below(6),
                0 => since += rng.below(SEC),
                1 => rate = 1 + rng.below(1 << 34),
                2 => done = rng.below(1 << 26),
                3..=10 => {} // asked again for the same page
                _ => done += 1,
            }
            assert_eq!(
                pace.due(since, done, rate, page),
                closed_form(since, done, rate, page),
                "since {since} done {done} rate {rate} page {page}"
            );
        }
    }
}
