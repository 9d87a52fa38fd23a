//! Tasks and what they do: the user-space side of a scenario, driving the kernel paths a real
//! process would (page faults, `write()`, `read()`, `mlock()`, `shmget()`+`SHM_LOCK`,
//! `ftruncate()`), and `do_exit()` for an OOM victim.
//!
//! Each task runs in bounded slices: one event does at most [`SLICE_PAGES`] pages of work and the
//! task's next event comes after the CPU time that work cost, or at its producer's pace. The GFP
//! mask of each allocation site follows reclaim-oom §14 and `fs::Filesystem::writer_gfp`.

use super::page::{pg, LruList, PageId, Place, NIL};
use super::page_alloc::{Alloc, AllocCtx};
use super::page_writeback::Bdp;
use super::{cost, gfp, Actor, Inode, Machine, Segment};
use crate::block::ReqKind;
use crate::fs::Backing;
use crate::sim::{SimTime, SEC};
use crate::spec::{AnonGfp, PinMethod, TaskKind, TaskSpec};

/// Pages (4 KiB) of work one task event does at most: 256 KiB, `Machine::slice_pages` in
/// simulated pages.
pub const SLICE_PAGES: u64 = 64;

/// Where a task's work stands.
#[derive(Clone, Debug)]
pub enum Work {
    /// Not started yet.
    NotStarted,
    /// Pinning memory.
    Pin {
        /// Pages to pin.
        total: u64,
        /// Pinned so far.
        done: u64,
        /// The shm segment (shm, shm_lock).
        seg: Option<usize>,
    },
    /// Writing a file.
    Write {
        /// The file (inode index), or for tmpfs the segment index.
        ino: usize,
        /// Pages to write.
        total: u64,
        /// Written so far.
        done: u64,
        /// Pages left in the current `write()` call.
        call_left: u64,
    },
    /// Reading a file.
    Read {
        /// The file.
        ino: usize,
        /// Pages to read.
        total: u64,
        /// Read so far.
        done: u64,
        /// Pages of the current `read()` call still to allocate.
        call_left: u64,
        /// A read request is in flight for `pending`.
        inflight: bool,
    },
    /// Faulting in anonymous memory.
    Anon {
        /// Target pages.
        target: u64,
        /// When this fill phase started.
        phase_start: SimTime,
        /// Holding until this time, then freeing (cycle).
        hold_until: Option<SimTime>,
    },
    /// Truncating another task's file.
    Truncate {
        /// The writer task whose file it truncates.
        target: usize,
        /// Indices the last pass left (under writeback), to look at again.
        left: Vec<u32>,
        /// Indices below this were all examined by an earlier pass.
        scanned_to: usize,
    },
    /// Finished (holding whatever it holds).
    Done,
    /// Exited (killed).
    Dead,
}

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
    /// What it is doing.
    pub work: Work,
    /// Bytes of its work done.
    pub done_bytes: u64,
    /// When it finished.
    pub finished_at: Option<SimTime>,
    /// Pages of the read in flight.
    pub read_pages: Vec<PageId>,
    /// Its producer's clock (writers, readers, anon faults).
    pub pace: Pace,
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
    /// Builds task `i` from its spec, with its cpuset and zonelist.
    pub fn new(m: &Machine, i: usize, s: &TaskSpec, cpu: usize) -> Task {
        let nnodes = m.nodes.len();
        let mut mems = vec![s.cpuset_nodes.is_none(); nnodes];
        if let Some(ns) = &s.cpuset_nodes {
            for &n in ns {
                mems[n as usize] = true;
            }
        }
        let local = mems.iter().position(|&x| x).unwrap_or(0);
        let mut zonelist = vec![];
        for k in 0..nnodes {
            let n = (local + k) % nnodes;
            for &z in m.nodes[n].zones.iter().rev() {
                zonelist.push(z);
            }
        }
        let classzone = m.zones[zonelist[0] as usize].ztype as usize;
        let mems_zonelist = zonelist
            .iter()
            .copied()
            .filter(|&z| mems[m.zones[z as usize].node as usize])
            .collect();
        Task {
            name: s.name.clone(),
            pid: 1000 + i as u32,
            kind: s.kind,
            cpu,
            gen: 0,
            pf: 0,
            mems,
            cpuset_hardwall: s.cpuset_hardwall,
            zonelist,
            mems_zonelist,
            fast_skip: 0,
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
            bdp: None,
            nr_dirtied: 0,
            nr_dirtied_pause: m.gran.batch(32), // 128 KiB: a batch
            backing_dev: None,
            interruptible: false,
            work: Work::NotStarted,
            done_bytes: 0,
            finished_at: None,
            read_pages: vec![],
            pace: Pace::default(),
        }
    }

    /// Whether this task has finite work the run waits for (writers, readers, truncates).
    pub fn is_finite(&self) -> bool {
        matches!(
            self.kind,
            TaskKind::StreamWrite { .. } | TaskKind::StreamRead { .. } | TaskKind::Truncate { .. }
        )
    }

    /// Total bytes of its work, when finite.
    pub fn total_bytes(&self) -> Option<u64> {
        match self.kind {
            TaskKind::StreamWrite { bytes, .. } | TaskKind::StreamRead { bytes, .. } => Some(bytes),
            TaskKind::Pin { bytes, .. } => Some(bytes),
            _ => None,
        }
    }
}

/// What one slice of work ended with.
enum Slice {
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
    fn slice_pages(&self) -> u64 {
        self.gran.batch(SLICE_PAGES)
    }

    /// Runs task `t` for one slice.
    pub fn run_task(&mut self, t: usize) {
        self.tasks[t].interruptible = false;
        if self.tasks[t].dead {
            return;
        }
        if self.tasks[t].memdie {
            return self.do_exit(t);
        }
        if matches!(self.tasks[t].work, Work::NotStarted) {
            self.start_work(t);
        }
        let r = match self.tasks[t].kind {
            TaskKind::Pin { .. } => self.pin_slice(t),
            TaskKind::StreamWrite {
                mount,
                rate_bytes_per_sec,
                write_bytes,
                ..
            } => self.write_slice(t, mount, rate_bytes_per_sec, write_bytes),
            TaskKind::StreamRead {
                mount,
                rate_bytes_per_sec,
                read_bytes,
                ..
            } => self.read_slice(t, mount, rate_bytes_per_sec, read_bytes),
            TaskKind::Anon {
                rate_bytes_per_sec,
                hold_ns,
                cycle,
                gfp: g,
                ..
            } => self.anon_slice(t, rate_bytes_per_sec, hold_ns, cycle, g),
            TaskKind::Truncate { .. } => self.truncate_slice(t),
        };
        let cpu = std::mem::take(&mut self.tasks[t].pending_cpu_ns);
        self.tasks[t].cpu_ns += cpu;
        match r {
            Slice::Sleeping => {}
            Slice::Yield => self.schedule(self.now + cpu.max(1), Actor::Task(t)),
            Slice::Finished => {
                if self.tasks[t].finished_at.is_none() {
                    self.tasks[t].finished_at = Some(self.now + cpu);
                    if self.tasks[t].is_finite() {
                        self.unfinished = self.unfinished.saturating_sub(1);
                    }
                }
                self.tasks[t].work = Work::Done;
                self.tasks[t].backing_dev = None;
                self.bump_gen(Actor::Task(t));
            }
        }
    }

    /// Creates what the task's work needs: its file, its segment.
    fn start_work(&mut self, t: usize) {
        let kind = self.tasks[t].kind;
        self.tasks[t].work = match kind {
            TaskKind::Pin { bytes, method } => {
                let seg = matches!(method, PinMethod::Shm | PinMethod::ShmLock)
                    .then(|| self.new_segment(t, method == PinMethod::ShmLock));
                let total = if method == PinMethod::Hugetlb {
                    0
                } else {
                    self.gran.pages_ceil(bytes) // what a task touches: rounded up
                };
                if method == PinMethod::Hugetlb {
                    self.tasks[t].done_bytes = bytes;
                }
                Work::Pin {
                    total,
                    done: 0,
                    seg,
                }
            }
            TaskKind::StreamWrite { mount, bytes, .. } => {
                let total = self.gran.pages_ceil(bytes);
                let ino = if self.mounts[mount].backing == Backing::Swap {
                    self.new_segment(t, false)
                } else {
                    self.new_inode(mount, total)
                };
                Work::Write {
                    ino,
                    total,
                    done: 0,
                    call_left: 0,
                }
            }
            TaskKind::StreamRead { mount, bytes, .. } => {
                let total = self.gran.pages_ceil(bytes);
                let ino = self.new_inode(mount, total);
                Work::Read {
                    ino,
                    total,
                    done: 0,
                    call_left: 0,
                    inflight: false,
                }
            }
            TaskKind::Anon { bytes, .. } => Work::Anon {
                target: self.gran.pages_ceil(bytes),
                phase_start: self.now,
                hold_until: None,
            },
            TaskKind::Truncate { target } => Work::Truncate {
                target,
                left: Vec::new(),
                scanned_to: 0,
            },
        };
    }

    fn new_segment(&mut self, owner: usize, locked: bool) -> usize {
        self.segments.push(Segment {
            owner,
            locked,
            pages: vec![],
            resident: 0,
            swapped: 0,
            mapped: 0,
        });
        self.segments.len() - 1
    }

    fn new_inode(&mut self, mount: usize, pages: u64) -> usize {
        let base = match self.mounts[mount].spec.disk {
            Some(d) => {
                let b = self.disk_next_lba[d];
                // Files are 1024 base pages (4 MiB) apart on disk.
                self.disk_next_lba[d] += pages + self.gran.batch(1024);
                b
            }
            None => 0,
        };
        self.inodes.push(Inode {
            mount,
            pages: Vec::new(),
            dirty_tag: Vec::new(),
            nr_dirty: 0,
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
        self.inodes.len() - 1
    }

    /// Allocates one page for task `t`; `None` when it slept (or, killed, failed).
    fn task_alloc(&mut self, t: usize, gfp_mask: u32) -> Option<PageId> {
        match self.alloc_page(t, gfp_mask) {
            Alloc::Page(id) => Some(id),
            Alloc::Sleep => None,
            Alloc::Fail => {
                // Only an OOM victim fails; it exits at its next run.
                self.schedule(self.now, Actor::Task(t));
                None
            }
        }
    }

    /// The time task `t` may next produce, at `rate` bytes/s, having done `done` pages since
    /// `since` (see [`Pace`]).
    fn paced(&mut self, t: usize, since: SimTime, done: u64, rate: u64) -> SimTime {
        let page_bytes = self.gran.page_bytes();
        self.tasks[t].pace.due(since, done, rate, page_bytes)
    }

    /// Sleeps interruptibly until `at` (pacing, holding).
    fn sleep_until(&mut self, t: usize, at: SimTime) -> Slice {
        let cpu = std::mem::take(&mut self.tasks[t].pending_cpu_ns);
        self.tasks[t].cpu_ns += cpu;
        self.tasks[t].interruptible = true;
        self.schedule(at.max(self.now + cpu), Actor::Task(t));
        Slice::Sleeping
    }

    fn pin_slice(&mut self, t: usize) -> Slice {
        let Work::Pin { total, done, seg } = self.tasks[t].work else {
            unreachable!()
        };
        let mut done = done;
        for _ in 0..self.gran.batch(SLICE_PAGES * 16) {
            if done >= total {
                break;
            }
            let Some(id) = self.task_alloc(t, gfp::GFP_HIGHUSER_MOVABLE) else {
                self.tasks[t].work = Work::Pin { total, done, seg };
                return Slice::Sleeping;
            };
            self.ev.pgfault += 1;
            match seg {
                Some(s) => self.add_shm_page(s, id, true),
                None => {
                    // mlock: a new anon page in a VM_LOCKED vma goes straight to the unevictable
                    // list (page_add_new_anon_rmap → !page_evictable).
                    self.add_anon_page(t, id, pg::MLOCKED);
                    let zid = self.pages[id as usize].zone as usize;
                    self.zones[zid].stat.nr_mlock += 1;
                    self.ev.unevictable_pgs_mlocked += 1;
                    self.lru_cache_add(id, LruList::Unevictable);
                }
            }
            done += 1;
            self.tasks[t].done_bytes = done * self.gran.page_bytes();
        }
        self.tasks[t].work = Work::Pin { total, done, seg };
        if done >= total {
            Slice::Finished
        } else {
            Slice::Yield
        }
    }

    /// A private anon page of task `t`, mapped and young.
    fn add_anon_page(&mut self, t: usize, id: PageId, extra: u32) {
        let slot = self.tasks[t].anon.len() as u32;
        self.tasks[t].anon.push(id);
        let p = &mut self.pages[id as usize];
        p.flags = pg::ANON | pg::SWAPBACKED | pg::MAPPED | pg::YOUNG | extra;
        p.owner = t as u32;
        p.index = slot;
        let zid = p.zone as usize;
        self.zones[zid].stat.nr_anon_pages += 1;
    }

    /// A page fault's new private anon page (`page_add_new_anon_rmap` +
    /// `lru_cache_add_active_anon`): what `add_anon_page` and `lru_cache_add(ActiveAnon)` do, with
    /// the page and its zone looked up once.
    fn fault_anon_page(&mut self, t: usize, id: PageId) {
        let slot = self.tasks[t].anon.len() as u32;
        self.tasks[t].anon.push(id);
        let p = &mut self.pages[id as usize];
        debug_assert!(p.place != Place::Lru);
        p.flags = pg::ANON | pg::SWAPBACKED | pg::MAPPED | pg::YOUNG | pg::ACTIVE | pg::LRU;
        p.owner = t as u32;
        p.index = slot;
        p.place = Place::Lru;
        p.lru = LruList::ActiveAnon;
        let zid = p.zone as usize;
        let z = &mut self.zones[zid];
        super::page::list_add_head(&mut self.pages, &mut z.lru[LruList::ActiveAnon.idx()], id);
        z.stat.nr_anon_pages += 1;
        z.recent_scanned[0] += 1;
        z.recent_rotated[0] += 1;
        self.vm_stat.nr_lru[LruList::ActiveAnon.idx()] += 1;
    }

    /// A shmem page of segment `s` (resident, dirty by nature, on the active anon list).
    fn add_shm_page(&mut self, s: usize, id: PageId, mapped: bool) {
        let idx = self.segments[s].pages.len() as u32;
        self.segments[s].pages.push(id);
        self.segments[s].resident += 1;
        let p = &mut self.pages[id as usize];
        p.flags = pg::SHMEM
            | pg::SWAPBACKED
            | pg::DIRTY
            | if mapped { pg::MAPPED | pg::YOUNG } else { 0 };
        p.owner = s as u32;
        p.index = idx;
        let z = &mut self.zones[p.zone as usize].stat;
        z.nr_shmem += 1;
        z.nr_file_pages += 1;
        if mapped {
            z.nr_mapped += 1;
            self.segments[s].mapped += 1;
        }
        self.lru_cache_add(id, LruList::ActiveAnon);
    }

    /// Removes anon page `id` from its owner's list (swap-out or free), O(1).
    pub fn task_forget_anon_page(&mut self, t: usize, id: PageId) {
        let slot = self.pages[id as usize].index as usize;
        let v = &mut self.tasks[t].anon;
        debug_assert_eq!(v[slot], id);
        v.swap_remove(slot);
        if slot < v.len() {
            let moved = v[slot];
            self.pages[moved as usize].index = slot as u32;
        }
    }

    /// The gfp mask of a buffered write's page-cache allocation on mount `mount`: the
    /// filesystem's (`Filesystem::writer_gfp`), with `__GFP_WRITE` from 3.3
    /// (`grab_cache_page_write_begin()`).
    fn write_gfp(&self, mount: usize) -> u32 {
        let mut g = self.mounts[mount].ops().writer_gfp(&self.sw);
        if self.sw.per_zone_dirty_limits != crate::kernel::ZoneDirtyLimits::Off {
            g |= crate::mm::gfp::WRITE;
        }
        g
    }

    fn write_slice(&mut self, t: usize, mount: usize, rate: u64, write_bytes: u64) -> Slice {
        let Work::Write {
            ino,
            total,
            mut done,
            mut call_left,
        } = self.tasks[t].work
        else {
            unreachable!()
        };
        let shmem = self.mounts[mount].backing == Backing::Swap;
        let bdi = self.mounts[mount].spec.disk;
        let gfp_mask = self.write_gfp(mount);
        let mut r = Slice::Yield;
        for _ in 0..self.slice_pages() {
            if self.tasks[t].bdp.is_some() && !self.balance_dirty_pages_step(t) {
                r = Slice::Sleeping;
                break;
            }
            if call_left == 0 {
                self.tasks[t].backing_dev = None;
                if done >= total {
                    r = Slice::Finished;
                    break;
                }
                let at = self.paced(t, self.tasks[t].start_ns, done, rate);
                if self.now < at {
                    self.tasks[t].work = Work::Write {
                        ino,
                        total,
                        done,
                        call_left,
                    };
                    return self.sleep_until(t, at);
                }
                call_left = self.gran.pages_ceil(write_bytes).max(1).min(total - done);
                self.tasks[t].backing_dev = bdi;
            }
            let Some(id) = self.task_alloc(t, gfp_mask) else {
                r = Slice::Sleeping;
                break;
            };
            self.tasks[t].pending_cpu_ns += self.gran.cost(cost::COPY_PAGE);
            if shmem {
                self.add_shm_page(ino, id, false);
            } else {
                self.add_written_file_page(t, ino, done as u32, id);
            }
            done += 1;
            call_left -= 1;
            let pb = self.gran.page_bytes();
            self.tasks[t].done_bytes = (done * pb).min(total * pb);
            if let Some(b) = bdi {
                self.balance_dirty_pages_ratelimited(t, b);
            }
        }
        self.tasks[t].work = Work::Write {
            ino,
            total,
            done,
            call_left,
        };
        r
    }

    /// `generic_perform_write()` for one page of a new file: into the page cache (inactive
    /// file list), dirtied (delayed allocation on ext4-delalloc, btrfs and XFS; blocks allocated
    /// now on ext3 and ext4-nodelalloc), filed with the journal, `mark_page_accessed`.
    fn add_written_file_page(&mut self, t: usize, ino: usize, index: u32, id: PageId) {
        let mount = self.inodes[ino].mount;
        let delayed = self.mounts[mount].delalloc;
        let p = &mut self.pages[id as usize];
        p.flags = pg::FILE | pg::PRIVATE | if delayed { pg::DELALLOC } else { 0 };
        p.owner = ino as u32;
        p.index = index;
        let zid = p.zone as usize;
        self.zones[zid].stat.nr_file_pages += 1;
        let inode = &mut self.inodes[ino];
        if inode.pages.len() <= index as usize {
            inode.pages.resize(index as usize + 1, NIL);
        }
        inode.pages[index as usize] = id;
        inode.size_pages = inode.size_pages.max(index + 1);
        self.lru_cache_add(id, LruList::InactiveFile);
        self.set_page_dirty(id, Some(t));
        self.journal_file_data(mount, ino, index);
        self.mark_page_accessed(id);
    }

    fn read_slice(&mut self, t: usize, mount: usize, rate: u64, read_bytes: u64) -> Slice {
        let Work::Read {
            ino,
            total,
            mut done,
            mut call_left,
            mut inflight,
        } = self.tasks[t].work
        else {
            unreachable!()
        };
        let save = |m: &mut Machine, done, call_left, inflight| {
            m.tasks[t].work = Work::Read {
                ino,
                total,
                done,
                call_left,
                inflight,
            };
        };
        if inflight {
            // do_generic_file_read(): copy out, in order, each page whose read has completed
            // (PG_locked clear; mark_page_accessed once per page), and wait on the first page
            // still locked: a call larger than one request completes request by request.
            let pages = &self.tasks[t].read_pages;
            let ready = pages
                .iter()
                .take_while(|&&id| !self.pages[id as usize].has(pg::LOCKED))
                .count();
            let copied: Vec<PageId> = self.tasks[t].read_pages.drain(..ready).collect();
            for &id in &copied {
                self.mark_page_accessed(id);
                self.tasks[t].pending_cpu_ns += self.gran.cost(cost::COPY_PAGE);
            }
            done += copied.len() as u64;
            self.tasks[t].done_bytes = done * self.gran.page_bytes();
            if !self.tasks[t].read_pages.is_empty() {
                save(self, done, call_left, true);
                self.bump_gen(Actor::Task(t)); // woken by the next completion
                return Slice::Sleeping;
            }
            inflight = false;
        }
        if call_left == 0 && self.tasks[t].read_pages.is_empty() {
            if done >= total {
                save(self, done, call_left, inflight);
                return Slice::Finished;
            }
            let at = self.paced(t, self.tasks[t].start_ns, done, rate);
            if self.now < at {
                save(self, done, call_left, inflight);
                return self.sleep_until(t, at);
            }
            call_left = self.gran.pages_ceil(read_bytes).max(1).min(total - done);
        }
        while call_left > 0 {
            let Some(id) = self.task_alloc(t, gfp::GFP_HIGHUSER_MOVABLE) else {
                save(self, done, call_left, inflight);
                return Slice::Sleeping;
            };
            let index = (done + self.tasks[t].read_pages.len() as u64) as u32;
            let p = &mut self.pages[id as usize];
            p.flags = pg::FILE | pg::PRIVATE | pg::LOCKED;
            p.owner = ino as u32;
            p.index = index;
            let zid = p.zone as usize;
            self.zones[zid].stat.nr_file_pages += 1;
            let inode = &mut self.inodes[ino];
            if inode.pages.len() <= index as usize {
                inode.pages.resize(index as usize + 1, NIL);
            }
            inode.pages[index as usize] = id;
            self.lru_cache_add(id, LruList::InactiveFile);
            self.tasks[t].read_pages.push(id);
            call_left -= 1;
        }
        // Submit the read and wait for it.
        let Some(b) = self.mounts[mount].spec.disk else {
            unreachable!("validation rejects reads from diskless mounts")
        };
        let pages = self.tasks[t].read_pages.clone();
        for &id in &pages {
            let lba = self.page_lba(id);
            self.disk_submit(b, ReqKind::Read { task: t }, lba, id);
        }
        save(self, done, call_left, true);
        self.bump_gen(Actor::Task(t));
        Slice::Sleeping
    }

    fn anon_slice(&mut self, t: usize, rate: u64, hold_ns: u64, cycle: bool, g: AnonGfp) -> Slice {
        let Work::Anon {
            target,
            mut phase_start,
            mut hold_until,
        } = self.tasks[t].work
        else {
            unreachable!()
        };
        if let Some(until) = hold_until {
            if self.now < until {
                return self.sleep_until(t, until);
            }
            self.free_task_memory(t);
            hold_until = None;
            phase_start = self.now;
        }
        let gfp_mask = match g {
            AnonGfp::HighuserMovable => gfp::GFP_HIGHUSER_MOVABLE,
            AnonGfp::Kernel => gfp::GFP_KERNEL,
        };
        let mut r = Slice::Yield;
        for _ in 0..self.slice_pages() {
            let have = self.tasks[t].anon.len() as u64 + self.tasks[t].swap_ents;
            if have >= target {
                if cycle {
                    hold_until = Some(self.now + hold_ns);
                    self.tasks[t].work = Work::Anon {
                        target,
                        phase_start,
                        hold_until,
                    };
                    return self.sleep_until(t, self.now + hold_ns);
                }
                r = Slice::Finished;
                break;
            }
            let at = self.paced(t, phase_start, have, rate);
            if self.now < at {
                self.tasks[t].work = Work::Anon {
                    target,
                    phase_start,
                    hold_until,
                };
                return self.sleep_until(t, at);
            }
            let Some(id) = self.task_alloc(t, gfp_mask) else {
                r = Slice::Sleeping;
                break;
            };
            self.ev.pgfault += 1;
            match g {
                AnonGfp::HighuserMovable => self.fault_anon_page(t, id),
                AnonGfp::Kernel => {
                    let slot = self.tasks[t].anon.len() as u32;
                    self.tasks[t].anon.push(id);
                    let p = &mut self.pages[id as usize];
                    p.flags = pg::KERNEL;
                    p.owner = t as u32;
                    p.index = slot;
                    let zid = p.zone as usize;
                    self.zones[zid].stat.nr_kernel += 1;
                }
            }
            self.tasks[t].done_bytes += self.gran.page_bytes();
        }
        self.tasks[t].work = Work::Anon {
            target,
            phase_start,
            hold_until,
        };
        r
    }

    /// munmap/exit of a task's private memory: anon pages (munlocked first), kernel pages, swap.
    fn free_task_memory(&mut self, t: usize) {
        let mut pages = std::mem::take(&mut self.tasks[t].anon);
        let cpu = self.tasks[t].cpu;
        let mut freed = 0;
        for &id in &pages {
            let p = self.pages[id as usize];
            let zid = p.zone as usize;
            if p.has(pg::KERNEL) {
                self.zones[zid].stat.nr_kernel -= 1;
                self.pages[id as usize].flags = 0;
                self.pages[id as usize].place = Place::Held;
                self.free_page(id, cpu);
                freed += 1;
                continue;
            }
            if p.has(pg::MLOCKED) {
                self.ev.unevictable_pgs_munlocked += 1;
            }
            if p.place == Place::Lru {
                self.lru_del(id, Place::Held);
            }
            self.zones[zid].stat.nr_anon_pages -= 1;
            let f = &mut self.pages[id as usize].flags;
            if *f & pg::SWAPCACHE != 0 {
                // A swap-cache page still mapped: its slot goes with it.
                self.swap.free += 1;
                self.zones[zid].stat.nr_file_pages -= 1;
            }
            if *f & pg::WRITEBACK != 0 {
                // Under swap IO: the page is freed when the IO completes; keep it off lists.
                continue;
            }
            *f &= !(pg::DIRTY | pg::LRU | pg::ACTIVE);
            self.free_page(id, cpu);
            freed += 1;
        }
        self.tasks[t].pending_cpu_ns += freed * self.gran.cost(cost::FREE_PAGE);
        self.swap.free += std::mem::take(&mut self.tasks[t].swap_ents);
        // The list is empty now; keeping its room spares the next fill its reallocations.
        pages.clear();
        self.tasks[t].anon = pages;
    }

    fn truncate_slice(&mut self, t: usize) -> Slice {
        let Work::Truncate { target, .. } = self.tasks[t].work else {
            unreachable!()
        };
        let Work::Write { ino, .. } = self.tasks[target].work else {
            // The writer has not started: nothing to truncate yet, try again shortly.
            return self.sleep_until(t, self.now + crate::sim::MSEC);
        };
        if self.mounts[self.inodes[ino].mount].backing == Backing::Swap {
            return Slice::Finished;
        }
        if self.truncate_inode_pages(t, ino) {
            Slice::Finished
        } else {
            // Pass 2 waits on pages under writeback: retry after a jiffy.
            let j = self.jiffy;
            self.sleep_until(t, self.now + j)
        }
    }

    /// `truncate_inode_pages()`: drops every cached page not under writeback (dirty ones with
    /// `cancel_dirty_page`, releasing delayed allocations), and reports whether none is left.
    ///
    /// A retry re-examines only the pages the last pass left and the indices written since
    /// (the writer only appends), which is what rescanning the whole range would find.
    fn truncate_inode_pages(&mut self, t: usize, ino: usize) -> bool {
        let cpu = self.tasks[t].cpu;
        let Work::Truncate {
            left: ref mut prev,
            ref mut scanned_to,
            ..
        } = self.tasks[t].work
        else {
            unreachable!()
        };
        let n = self.inodes[ino].pages.len();
        let candidates: Vec<usize> = std::mem::take(prev)
            .into_iter()
            .map(|i| i as usize)
            .chain(*scanned_to..n)
            .collect();
        *scanned_to = n;
        let mut still = Vec::new();
        for idx in candidates {
            let id = self.inodes[ino].pages[idx];
            if id == NIL {
                continue;
            }
            let f = self.pages[id as usize].flags;
            if f & (pg::WRITEBACK | pg::LOCKED | pg::JOURNAL_IO) != 0 {
                still.push(idx as u32);
                continue;
            }
            if f & pg::DIRTY != 0 {
                self.clear_page_dirty_for_io(id); // cancel_dirty_page(): no IO
            }
            if self.pages[id as usize].place == Place::Lru {
                self.lru_del(id, Place::Held);
            }
            self.inodes[ino].pages[idx] = NIL;
            let zid = self.pages[id as usize].zone as usize;
            self.zones[zid].stat.nr_file_pages -= 1;
            self.pages[id as usize].flags &= pg::MLOCKED;
            self.free_page(id, cpu);
            self.tasks[t].pending_cpu_ns += self.gran.cost(cost::FREE_PAGE);
        }
        let left = !still.is_empty();
        if let Work::Truncate {
            left: ref mut l, ..
        } = self.tasks[t].work
        {
            *l = still;
        }
        if !left {
            self.inodes[ino].writeback_index = 0;
            self.tasks[t].done_bytes = 4096;
        }
        !left
    }

    /// `do_exit()` of an OOM victim: PF_EXITING, its private memory freed (not page cache, not
    /// shm segments), then gone.
    pub fn do_exit(&mut self, t: usize) {
        self.tasks[t].exiting = true;
        self.tasks[t].alloc = None;
        self.tasks[t].bdp = None;
        self.tasks[t].pf = 0;
        self.tasks[t].backing_dev = None;
        self.free_task_memory(t);
        self.tasks[t].dead = true;
        self.tasks[t].memdie = false;
        if self.tasks[t].is_finite() && self.tasks[t].finished_at.is_none() {
            self.unfinished = self.unfinished.saturating_sub(1);
            self.killed_finite = true;
        }
        self.tasks[t].work = Work::Dead;
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
