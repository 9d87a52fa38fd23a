//! The block layer: one disk and its request queue (writeback-fs §A.10, M.2;
//! `block/blk-core.c` 2.6.32), the machine's disks ([`BlockLayer`]), and what submission and
//! completion do to the VM (plugging per event, `end_page_writeback`, the request-wait and
//! congestion wake-ups).
//!
//! Every async write (`WRITE`: the flusher, a throttled writer, kswapd and direct reclaim in
//! `pageout()`, swap-out, the journal's data flush) goes through `__make_request()`: it
//! back-merges into any queued request of the same kind that ends where it starts (the
//! elevator's `elv_rqhash_find`; one CFQ async queue per priority level, so every async writer
//! shares it), up to 512 KiB per request, or takes a request from the pool with
//! `get_request()`. The pool holds `nr_requests`; the submitter whose allocation fills it
//! becomes a *batcher* (its io_context may take `BLK_BATCH_REQ` = 32 requests within
//! `BLK_BATCH_TIME` = HZ/50), and so does every submitter woken from `get_request_wait()`; no
//! one allocates past ⌊3·nr/2⌋. A submitter refused sleeps uninterruptibly in
//! `get_request_wait()` (exclusive, FIFO) with its bio parked ([`Disk::pending`], its page
//! already `PG_writeback`, as `__block_write_full_page` sets it before `submit_bh`);
//! `freed_request()` wakes one sleeper per freed request once fewer than `nr_requests` are
//! allocated, and the woken one retries at once as a batcher. The queue is write-congested from
//! the allocation that brings the count to `nr_requests - nr/8 + 1` (113 of 128; capped at
//! `nr_requests`, so 4 of 4) until a free brings it below `nr_requests - nr/8 - nr/16 - 1`
//! (103).
//!
//! The queue has two request lists, one per direction (`rl->count[is_sync]`, `rl->wait[is_sync]`,
//! `blk_queue_full(q, is_sync)`, `blk_set_queue_congested(q, is_sync)`, 2.6.32): a request is
//! *sync* when `rw_is_sync()` (include/linux/blkdev.h) says so — every read (`READ`, a file
//! read or `swap_readpage()`) and `WRITE_SYNC_PLUG` writes, which `__block_write_full_page()`
//! (fs/buffer.c) uses under `WB_SYNC_ALL`: here the jbd2 commit's `journal_submit_inode_data_buffers()`
//! (fs/jbd2/commit.c). Everything else is `WRITE` and async: the flusher and kswapd
//! (`WB_SYNC_NONE`), `swap_writepage()` from `pageout()` (mm/page_io.c: `rw = WRITE` unless
//! `WB_SYNC_ALL`), jbd's ordered-data flush (`write_op = WRITE`). Each list has its own
//! `nr_requests`, ceiling, batching, wait queue and congestion flag; a reader never waits
//! behind a full async list. Every async request freed below the congestion-off threshold
//! wakes the `congestion_wait(BLK_RW_ASYNC)` sleepers (`blk_clear_queue_congested()` →
//! `clear_bdi_congested()` wakes whether or not the queue was congested), and only async
//! congestion is `bdi_write_congested()`. `rl->starved` is set only when
//! `blk_alloc_request()` fails, which the model's requests never do (docs/MODEL.md: the
//! mempool waits), so `freed_request()` never serves the other direction.
//!
//! The disk serves `queue_depth` requests at a time (one by default): a seek (when the request
//! does not start where the previous one ended) plus the transfer at the disk's bandwidth.
//! Which queued request goes next is the I/O scheduler's choice (the `io_scheduler` switch):
//! CFQ ([`cfq`], every profile before 5.6) or mq-deadline ([`deadline`], from 5.6). Completion is
//! one event per request, not per page; CFQ's idle timer is an event of its own.

pub mod cfq;
pub mod deadline;

use std::collections::{BTreeMap, VecDeque};

pub use cfq::Cfq;
pub use deadline::Deadline;

use crate::mm::granularity::{Granularity, KernelPages};
use crate::mm::page::{pg, PageId};
use crate::mm::{Actor, Event, Machine};
use crate::sim::{SimRng, SimTime};
use crate::spec::DiskSpec;

/// `BLK_DEF_MAX_SECTORS` = 1024 sectors = 512 KiB = 128 (4 KiB) pages per request.
pub const MAX_REQUEST_PAGES: KernelPages = KernelPages(128);

/// `BLK_RW_ASYNC`: the index of the async request list (include/linux/backing-dev.h).
pub const BLK_RW_ASYNC: usize = 0;
/// `BLK_RW_SYNC`: the index of the sync request list.
pub const BLK_RW_SYNC: usize = 1;

/// `BLK_BATCH_REQ` (block/blk.h, 2.6.32): requests a batching io_context may take past a full
/// queue.
pub const BLK_BATCH_REQ: u32 = 32;

/// The part of a task's `struct io_context` the request pool reads (`ioc_batching`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IoContext {
    /// `nr_batch_requests`: requests left in the current batch.
    pub nr_batch_requests: u32,
    /// `last_waited`, in jiffies: when the batch started.
    pub last_waited: u64,
}

impl IoContext {
    /// `ioc_batching()`: a full batch, or some of one started less than `batch_time` jiffies ago.
    pub fn batching(&self, now_j: u64, batch_time: u64) -> bool {
        self.nr_batch_requests == BLK_BATCH_REQ
            || (self.nr_batch_requests > 0 && now_j < self.last_waited + batch_time)
    }

    /// `ioc_set_batching()`: start a batch unless one is running.
    pub fn set_batching(&mut self, now_j: u64, batch_time: u64) {
        if self.batching(now_j, batch_time) {
            return;
        }
        self.nr_batch_requests = BLK_BATCH_REQ;
        self.last_waited = now_j;
    }
}

/// What `__make_request()` did with one page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Submit {
    /// Back-merged into a queued request: no request allocated.
    Merged,
    /// A new request from the pool.
    Queued,
    /// `get_request()` refused: the submitter must sleep in `get_request_wait()`.
    MustWait,
}

/// Who sleeps in `get_request_wait()`, for the time-in-request-wait counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Waiter {
    /// kswapd (`pageout()`).
    Kswapd,
    /// A task in direct reclaim (`pageout()`).
    DirectReclaim,
    /// A task writing back in `balance_dirty_pages()`.
    Writer,
    /// A flusher thread.
    Flusher,
    /// A journal thread (kjournald).
    Journal,
    /// A task reading: a file read or a swap-in (the sync list).
    Reader,
}

impl Waiter {
    /// Every kind, in counter order.
    pub const ALL: [Waiter; 6] = [
        Waiter::Kswapd,
        Waiter::DirectReclaim,
        Waiter::Writer,
        Waiter::Flusher,
        Waiter::Journal,
        Waiter::Reader,
    ];

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Waiter::Kswapd => "kswapd",
            Waiter::DirectReclaim => "direct_reclaim",
            Waiter::Writer => "writer",
            Waiter::Flusher => "flusher",
            Waiter::Journal => "journal",
            Waiter::Reader => "reader",
        }
    }
}

/// Sleeps in `get_request_wait()` and the time spent there, per [`Waiter`] kind (the kernel's
/// `block_sleeprq` events and blkio delay).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestWaitStats {
    /// Sleeps, by `Waiter as usize`.
    pub sleeps: [u64; 6],
    /// Time asleep, ns, by `Waiter as usize`.
    pub ns: [u64; 6],
    /// The most async requests any disk had allocated at once.
    pub max_allocated: u32,
}

/// What a request carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReqKind {
    /// Page writeback (`PG_writeback` pages) with `WRITE`: `end_page_writeback` on completion.
    Write,
    /// Page writeback with `WRITE_SYNC_PLUG` (`WB_SYNC_ALL`: the jbd2 commit's data), on the
    /// sync list; CFQ merges no sync bio into an async request (`cfq_allow_merge`).
    SyncWrite,
    /// Data buffers written by a journal commit (pages stay `PG_dirty`).
    JournalData {
        /// The mount whose journal submitted it.
        mount: usize,
    },
    /// A synchronous read by a task.
    Read {
        /// The reading task.
        task: usize,
    },
    /// A synchronous read of one filesystem metadata block by a task (`sb_bread()` →
    /// `submit_bh(READ)`): no page-cache page of the model, 4 KiB on the disk; the task sleeps
    /// until it completes.
    MetaRead {
        /// The reading task.
        task: usize,
    },
}

impl ReqKind {
    /// `rw_is_sync()`: reads and `WRITE_SYNC*` writes.
    pub fn is_sync(self) -> bool {
        matches!(
            self,
            ReqKind::Read { .. } | ReqKind::MetaRead { .. } | ReqKind::SyncWrite
        )
    }

    /// The request list it takes a request from ([`BLK_RW_ASYNC`] or [`BLK_RW_SYNC`]).
    pub fn dir(self) -> usize {
        usize::from(self.is_sync())
    }

    /// A read (`rq_data_dir() == READ`): a task's read or a metadata read.
    pub fn is_read(self) -> bool {
        matches!(self, ReqKind::Read { .. } | ReqKind::MetaRead { .. })
    }

    /// Page writeback of `PG_writeback` pages (either direction).
    pub fn is_page_writeback(self) -> bool {
        matches!(self, ReqKind::Write | ReqKind::SyncWrite)
    }
}

/// One direction of the queue's `struct request_list` (block/blk-core.c 2.6.32).
#[derive(Debug, Default)]
pub struct RequestList {
    /// `rl->count[dir]`: requests allocated, queued plus in flight.
    pub count: u32,
    /// `BDI_sync_congested` / `BDI_async_congested`.
    pub congested: bool,
    /// `blk_queue_full(q, dir)`: set by the allocation that fills the list, cleared when a free
    /// leaves fewer than `nr_requests`.
    pub full: bool,
    /// `rl->wait[dir]`: actors asleep in `get_request_wait()` for a free request, FIFO, with
    /// when they started to wait and as what.
    pub waiters: VecDeque<(Actor, SimTime, Waiter)>,
}

/// One request.
#[derive(Clone, Debug)]
pub struct Request {
    /// Kind.
    pub kind: ReqKind,
    /// First disk block (in pages).
    pub lba: u64,
    /// Its pages, in block order.
    pub pages: Vec<PageId>,
    /// The CFQ io_context slot of the task that allocated it (0 without CFQ): its queue is
    /// that task's sync queue or the async one ([`Cfq::queue_of`]).
    pub slot: usize,
    /// The jiffy it was queued for the elevator (mq-deadline's FIFO expiry).
    pub queued_j: u64,
}

impl Request {
    /// Its CFQ queue.
    pub fn cfq_queue(&self) -> usize {
        Cfq::queue_of(self.slot, self.kind.is_sync())
    }
}

/// What finishing a request did ([`Disk::complete`]).
#[derive(Debug)]
pub struct Completed {
    /// The request.
    pub request: Request,
    /// `__freed_request()` called `blk_clear_queue_congested()`.
    pub cleared: bool,
    /// One of its list's `get_request_wait()` sleepers is to be woken.
    pub wake: bool,
    /// CFQ armed its idle timer to fire at this jiffy.
    pub idle_timer: Option<u64>,
}

/// The I/O scheduler in front of a disk: which queued request goes next.
#[derive(Debug)]
pub enum Scheduler {
    /// Insertion order (no profile has it; the unit tests' disks).
    Fifo,
    /// CFQ (the legacy kernels).
    Cfq(Cfq),
    /// mq-deadline (blk-mq).
    Deadline(Deadline),
}

/// A disk with its queue.
#[derive(Debug)]
pub struct Disk {
    /// Its parameters.
    pub spec: DiskSpec,
    /// Requests not yet dispatched, FIFO.
    pub queue: VecDeque<Request>,
    /// How many queued requests, the last one apart, end at each block (`elv_rqhash`, the
    /// kernel's hash of queued requests by end sector): a back-merge that does not fit the last
    /// request looks through the queue only when one does. The last request, which most pages
    /// merge into, is left out so that a merge into it costs no update.
    ends: BTreeMap<u64, u32>,
    /// The requests being served (at most `queue_depth`): when each completes, its dispatch
    /// number (ties complete in dispatch order), and the request.
    pub in_flight: Vec<(SimTime, u64, Request)>,
    /// Requests dispatched so far.
    dispatched: u64,
    /// The request lists, by [`BLK_RW_ASYNC`] and [`BLK_RW_SYNC`].
    pub rl: [RequestList; 2],
    /// The block after the last request served.
    pub last_end: u64,
    /// Bios whose submitter sleeps in `get_request_wait()`: one page each, already
    /// `PG_writeback` (or journal IO), in submission order.
    pub pending: Vec<(Actor, Request)>,
    /// Pages completed (for statistics).
    pub pages_done: u64,
    /// Bytes of one (simulated) page: what a page of a request transfers.
    pub page_bytes: u64,
    /// [`MAX_REQUEST_PAGES`] in simulated pages: the same 512 KiB (a batch, at least one page).
    pub max_request_pages: usize,
    /// Page lists of completed requests, for the next requests (no allocation per request).
    spare: Vec<Vec<PageId>>,
    /// The I/O scheduler (the `io_scheduler` switch; insertion order in the unit tests).
    pub scheduler: Scheduler,
    /// The request lists set and clear the congestion bits (`block_congestion =
    /// "request-lists"`); with blk-mq (`"never"`) no list is ever congested.
    pub tracks_congestion: bool,
}

impl Disk {
    /// An idle disk whose requests carry pages of granularity `granularity`.
    pub fn new(spec: DiskSpec, granularity: Granularity) -> Disk {
        Disk {
            spec,
            queue: VecDeque::new(),
            ends: BTreeMap::new(),
            in_flight: Vec::new(),
            dispatched: 0,
            rl: Default::default(),
            last_end: 0,
            pending: Vec::new(),
            pages_done: 0,
            page_bytes: granularity.page_bytes(),
            max_request_pages: granularity.batch(MAX_REQUEST_PAGES) as usize,
            spare: Vec::new(),
            scheduler: Scheduler::Fifo,
            tracks_congestion: true,
        }
    }

    /// Puts CFQ in front of the device, at `hz` ticks per second. A device without a seek
    /// penalty (a latency device or flash) that queues at least `CFQ_HW_QUEUE_MIN` = 5
    /// requests never idles (`blk_queue_nonrot() && cfqd->hw_tag`; the kernel detects `hw_tag`
    /// from the depth it sees, the model from `queue_depth`).
    pub fn use_cfq(&mut self, hz: u64) {
        let nonrot = self.spec.seek_ns == 0 || self.spec.random_write_iops > 0;
        let hw_tag = self.spec.queue_depth >= 5;
        self.scheduler = Scheduler::Cfq(Cfq::new(hz, self.page_bytes, nonrot && hw_tag));
    }

    /// Puts mq-deadline in front of the device, at `hz` ticks per second.
    pub fn use_deadline(&mut self, hz: u64) {
        self.scheduler = Scheduler::Deadline(Deadline::new(hz));
    }

    /// The device's CFQ, when it is its scheduler.
    pub fn cfq_mut(&mut self) -> Option<&mut Cfq> {
        match &mut self.scheduler {
            Scheduler::Cfq(cfq) => Some(cfq),
            _ => None,
        }
    }

    /// `queue_congestion_on_threshold()`: `blk_queue_congestion_threshold()` (block/blk-core.c,
    /// 2.6.32) caps `nr - nr/8 + 1` at `nr_requests`, so a queue of fewer than 8 requests
    /// congests when it is full.
    pub fn congestion_on(&self) -> u32 {
        let nr = self.spec.nr_requests;
        (nr - nr / 8 + 1).min(nr).max(1)
    }

    /// `queue_congestion_off_threshold()`.
    pub fn congestion_off(&self) -> u32 {
        let nr = self.spec.nr_requests;
        (nr - nr / 8 - nr / 16 - 1).max(1)
    }

    /// The queued request a write of block `lba` back-merges into: the last one, else any
    /// queued (not dispatched) request of the same kind that ends at `lba` and has room
    /// (`elv_merge`: `last_merge`, then the end-sector hash).
    pub fn merge_target(&self, kind: ReqKind, lba: u64) -> Option<usize> {
        let fits = |r: &Request| {
            r.kind == kind
                && r.lba + r.pages.len() as u64 == lba
                && r.pages.len() < self.max_request_pages
        };
        let last = self.queue.len().checked_sub(1)?;
        if fits(&self.queue[last]) {
            return Some(last);
        }
        if matches!(kind, ReqKind::Read { .. }) || !self.ends.contains_key(&lba) {
            return None;
        }
        self.queue.iter().rposition(fits)
    }

    /// A queued request other than the last now ends at block `end` (`elv_rqhash_add()`).
    fn hash_add(&mut self, end: u64) {
        *self.ends.entry(end).or_default() += 1;
    }

    /// A queued request other than the last no longer ends at block `end`
    /// (`elv_rqhash_del()`).
    fn hash_del(&mut self, end: u64) {
        let n = self
            .ends
            .get_mut(&end)
            .expect("a queued request's end is hashed");
        *n -= 1;
        if *n == 0 {
            self.ends.remove(&end);
        }
    }

    /// Appends `r` to the queue; the request it follows is hashed by its end.
    fn queue_request(&mut self, r: Request) {
        if let Some(last) = self.queue.back() {
            self.hash_add(last.lba + last.pages.len() as u64);
        }
        self.queue.push_back(r);
    }

    /// Takes queued request `i` out of the queue (and out of the hash, or its predecessor out
    /// of it when it was the last).
    fn take_request(&mut self, i: usize) -> Option<Request> {
        let was_last = i + 1 == self.queue.len();
        let r = self.queue.remove(i)?;
        let end = match (was_last, self.queue.back()) {
            (false, _) => Some(r.lba + r.pages.len() as u64),
            (true, Some(last)) => Some(last.lba + last.pages.len() as u64),
            (true, None) => None,
        };
        if let Some(end) = end {
            self.hash_del(end);
        }
        Some(r)
    }

    /// Whether the end-block hash counts exactly the ends of the queued requests but the last.
    pub fn check_ends(&self) -> Result<(), String> {
        let mut ends = BTreeMap::new();
        for r in self.queue.iter().take(self.queue.len().saturating_sub(1)) {
            *ends.entry(r.lba + r.pages.len() as u64).or_insert(0u32) += 1;
        }
        if ends != self.ends {
            return Err(format!(
                "end-block hash {:?} but the queue ends at {ends:?}",
                self.ends
            ));
        }
        Ok(())
    }

    /// Whether a write of block `lba` would merge into a queued request.
    pub fn would_merge(&self, kind: ReqKind, lba: u64) -> bool {
        self.merge_target(kind, lba).is_some()
    }

    /// Async requests allocated (`rl->count[BLK_RW_ASYNC]`).
    pub fn allocated(&self) -> u32 {
        self.rl[BLK_RW_ASYNC].count
    }

    /// `bdi_write_congested()`: the async list is congested.
    pub fn write_congested(&self) -> bool {
        self.rl[BLK_RW_ASYNC].congested
    }

    /// Every async request is allocated (`blk_queue_full`'s count test).
    pub fn full(&self) -> bool {
        self.allocated() >= self.spec.nr_requests
    }

    /// Whether `get_request()` would give `ioc` a request of direction `dir` now (without
    /// taking it).
    pub fn may_get_request(
        &self,
        dir: usize,
        ioc: &IoContext,
        now_j: u64,
        batch_time: u64,
    ) -> bool {
        let nr = self.spec.nr_requests;
        let rl = &self.rl[dir];
        if rl.count + 1 >= nr && rl.full && !ioc.batching(now_j, batch_time) {
            return false;
        }
        rl.count < 3 * nr / 2
    }

    /// `get_request()` (block/blk-core.c 2.6.32) on the request list of direction `dir`:
    /// `Some(congested now)` with a request allocated, `None` when the caller must sleep.
    pub fn get_request(
        &mut self,
        dir: usize,
        ioc: &mut IoContext,
        now_j: u64,
        batch_time: u64,
    ) -> Option<bool> {
        let nr = self.spec.nr_requests;
        let on = self.congestion_on();
        let rl = &mut self.rl[dir];
        let mut newly_congested = false;
        if rl.count + 1 >= on {
            if rl.count + 1 >= nr {
                if !rl.full {
                    ioc.set_batching(now_j, batch_time);
                    rl.full = true;
                } else if !ioc.batching(now_j, batch_time) {
                    return None;
                }
            }
            if self.tracks_congestion {
                newly_congested = !rl.congested;
                rl.congested = true;
            }
        }
        if rl.count >= 3 * nr / 2 {
            return None;
        }
        rl.count += 1;
        if ioc.batching(now_j, batch_time) {
            ioc.nr_batch_requests -= 1;
        }
        Some(newly_congested)
    }

    /// `__make_request()` for page `id` at block `lba`: back-merge, else a request for `ioc`
    /// from the list of the bio's direction.
    pub fn submit(
        &mut self,
        kind: ReqKind,
        lba: u64,
        id: PageId,
        ioc: &mut IoContext,
        now_j: u64,
        batch_time: u64,
    ) -> Submit {
        if self.try_merge(kind, lba, id) {
            return Submit::Merged;
        }
        self.submit_new(kind, lba, id, ioc, now_j, batch_time)
    }

    /// Back-merges page `id` (block `lba`) into a queued request if one fits ([`Self::merge_target`]).
    pub fn try_merge(&mut self, kind: ReqKind, lba: u64, id: PageId) -> bool {
        let Some(i) = self.merge_target(kind, lba) else {
            return false;
        };
        if i + 1 < self.queue.len() {
            self.hash_del(lba);
            self.hash_add(lba + 1);
        }
        self.queue[i].pages.push(id);
        true
    }

    /// The part of [`Self::submit`] after no request took the page: a new request from the
    /// list of its direction (`get_request`), or `MustWait`.
    fn submit_new(
        &mut self,
        kind: ReqKind,
        lba: u64,
        id: PageId,
        ioc: &mut IoContext,
        now_j: u64,
        batch_time: u64,
    ) -> Submit {
        if self
            .get_request(kind.dir(), ioc, now_j, batch_time)
            .is_none()
        {
            return Submit::MustWait;
        }
        let mut pages = self
            .spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(self.max_request_pages));
        pages.push(id);
        self.queue_request(Request {
            kind,
            lba,
            pages,
            slot: 0,
            queued_j: now_j,
        });
        Submit::Queued
    }

    /// The elevator's part of a new request (the last queued one) by `actor`: under CFQ it is
    /// queued on its task's sync queue or the async one (`cfq_insert_request()`).
    pub fn enqueued(&mut self, actor: Actor, now_j: u64) {
        let Scheduler::Cfq(cfq) = &mut self.scheduler else {
            return;
        };
        let slot = cfq.slot(actor, now_j);
        let r = self.queue.back_mut().expect("a request was just queued");
        r.slot = slot;
        let spp = cfq.sectors_per_page;
        cfq.insert(r.cfq_queue(), slot, r.lba * spp, spp, now_j);
    }

    /// Whether the device can start another request (fewer than `queue_depth` in flight).
    pub fn can_dispatch(&self) -> bool {
        self.in_flight.len() < self.spec.queue_depth.max(1) as usize
    }

    /// Starts serving the next request at `now` (jiffy `now_j`) if the device has room — the
    /// first queued one, mq-deadline's choice, or CFQ's from the queue it serves — and returns
    /// when it completes: its latency, its transfer at the bandwidth, and when it does not
    /// start where the previous one ended, a seek (half the seek time plus `seek_jitter_ns`), or
    /// on a flash device (`random_write_iops`) the random-write cost of its first 4 KiB.
    pub fn dispatch(&mut self, now: SimTime, now_j: u64, seek_jitter_ns: u64) -> Option<SimTime> {
        if !self.can_dispatch() {
            return None;
        }
        let (i, cfq_queue) = match &mut self.scheduler {
            Scheduler::Fifo => (0, None),
            Scheduler::Deadline(dd) => (dd.dispatch_index(&self.queue, now_j)?, None),
            Scheduler::Cfq(cfq) => {
                let q = cfq.dispatch_queue(now_j)?;
                let spp = cfq.sectors_per_page;
                let mine = self
                    .queue
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.cfq_queue() == q);
                let i =
                    cfq.choose_request(q, mine.map(|(i, r)| (i, r.lba * spp, r.queued_j)), now_j);
                (i.expect("a busy CFQ queue has a request"), Some(q))
            }
        };
        let r = self.take_request(i)?;
        if let (Some(q), Scheduler::Cfq(cfq)) = (cfq_queue, &mut self.scheduler) {
            let end = (r.lba + r.pages.len() as u64) * cfq.sectors_per_page;
            cfq.dispatched(q, end, now_j);
        }
        // A metadata read carries no page of the model: one 4 KiB block.
        let bytes = (r.pages.len() as u64 * self.page_bytes).max(4096);
        let bw = self.spec.bandwidth_bytes_per_sec.max(1);
        let mut t = self.spec.latency_ns + bytes * 1_000_000_000 / bw;
        if r.lba != self.last_end {
            t += match self.spec.random_write_iops {
                0 => self.spec.seek_ns / 2 + seek_jitter_ns,
                iops => (1_000_000_000 / iops).saturating_sub(4096 * 1_000_000_000 / bw),
            };
        }
        self.last_end = r.lba + r.pages.len() as u64;
        let at = now + t.max(1);
        self.in_flight.push((at, self.dispatched, r));
        self.dispatched += 1;
        Some(at)
    }

    /// Finishes the request in flight at jiffy `now_j`: `freed_request()` on its direction's
    /// list — whether `__freed_request()` called `blk_clear_queue_congested()` (the list below
    /// its congestion-off threshold, congested before or not), and whether one of its
    /// `get_request_wait()` sleepers is to be woken (fewer than `nr_requests` allocated) — and
    /// under CFQ `cfq_completed_request()` (`REQ_NOIDLE` on the `WRITE_SYNC_PLUG` writes).
    pub fn complete(&mut self, now_j: u64) -> Completed {
        let first = (0..self.in_flight.len())
            .min_by_key(|&i| (self.in_flight[i].0, self.in_flight[i].1))
            .expect("completion without a request");
        let (_, _, r) = self.in_flight.remove(first);
        self.pages_done += r.pages.len() as u64;
        let mut cleared = false;
        let mut wake = false;
        let off = self.congestion_off();
        let rl = &mut self.rl[r.kind.dir()];
        rl.count -= 1;
        if rl.count < off && self.tracks_congestion {
            rl.congested = false;
            cleared = true;
        }
        if rl.count < self.spec.nr_requests {
            wake = true;
            rl.full = false;
        }
        let idle_timer = self.cfq_mut().and_then(|cfq| {
            let noidle = r.kind == ReqKind::SyncWrite;
            cfq.completed(r.cfq_queue(), r.kind.is_sync(), noidle, now_j)
        });
        Completed {
            request: r,
            cleared,
            wake,
            idle_timer,
        }
    }

    /// Takes back the page list of a completed request for a later one.
    pub fn recycle(&mut self, mut pages: Vec<PageId>) {
        pages.clear();
        self.spare.push(pages);
    }

    /// Every request this disk holds: queued, in flight, and the bios parked in
    /// `get_request_wait()`.
    pub fn held(&self) -> impl Iterator<Item = &Request> {
        self.queue
            .iter()
            .chain(self.in_flight.iter().map(|(_, _, r)| r))
            .chain(self.pending.iter().map(|(_, r)| r))
    }

    /// Pages under `PG_writeback` that this disk holds (queued, in flight or parked).
    pub fn writeback_pages(&self) -> u64 {
        self.held()
            .filter(|r| r.kind.is_page_writeback())
            .map(|r| r.pages.len() as u64)
            .sum()
    }
}

/// The block layer of the machine: every disk, the disks plugged during the current event, where
/// each disk's next new file goes, the disks' random stream (seek jitter), and every actor's
/// io_context.
pub struct BlockLayer {
    /// Every disk.
    pub disks: Vec<Disk>,
    /// Disks that got IO during the current event (unplugged at its end).
    pub plugged: Vec<usize>,
    /// Next free block of each disk, for new files.
    pub next_lba: Vec<u64>,
    /// Random stream of the disks.
    pub rng: SimRng,
    /// Each actor's io_context (created on its first request, as `current_io_context()` does).
    pub iocs: BTreeMap<Actor, IoContext>,
    /// `BLK_BATCH_TIME` = HZ/50, in jiffies.
    pub batch_time: u64,
    /// Sleeps and time in `get_request_wait()`.
    pub wait_stats: RequestWaitStats,
}

impl BlockLayer {
    /// An empty block layer for a machine of `hz` ticks per second (disks are added at boot).
    pub fn new(disks: usize, rng: SimRng, hz: u64) -> BlockLayer {
        BlockLayer {
            disks: vec![],
            plugged: vec![],
            next_lba: vec![0; disks],
            rng,
            iocs: BTreeMap::new(),
            batch_time: hz / 50,
            wait_stats: RequestWaitStats::default(),
        }
    }

    /// `__make_request()` of page `id` to disk `b` by `actor` at jiffy `now_j` (the disk is
    /// plugged until the end of the event). A refused bio is parked: `false`, and the actor
    /// must sleep in `get_request_wait()`. An actor that already has a parked bio on the disk
    /// is asleep: later pages queue behind it.
    pub fn submit(
        &mut self,
        b: usize,
        kind: ReqKind,
        lba: u64,
        id: PageId,
        actor: Actor,
        now_j: u64,
    ) -> bool {
        let disk = &mut self.disks[b];
        let queued = if disk.pending.iter().any(|(a, _)| *a == actor) {
            Submit::MustWait
        } else if disk.try_merge(kind, lba, id) {
            // Most pages merge: the submitter's io_context is looked up only for a new request.
            Submit::Merged
        } else {
            let ioc = self.iocs.entry(actor).or_default();
            let s = disk.submit_new(kind, lba, id, ioc, now_j, self.batch_time);
            if s == Submit::Queued {
                disk.enqueued(actor, now_j);
            }
            s
        };
        if queued == Submit::MustWait {
            let mut pages = disk.spare.pop().unwrap_or_default();
            pages.push(id);
            let r = Request {
                kind,
                lba,
                pages,
                slot: 0,
                queued_j: now_j,
            };
            disk.pending.push((actor, r));
            return false;
        }
        self.wait_stats.max_allocated = self.wait_stats.max_allocated.max(disk.allocated());
        self.plug(b);
        true
    }

    /// A synchronous metadata read of block `lba` on disk `b` by task `task` (`sb_bread()`): a
    /// request of its own from the sync list (no merging), queued for the elevator. `false`
    /// when the sync list has no request for it (its task would sleep in `get_request_wait()`,
    /// which the model does not do for a metadata read: docs/MODEL.md simplification 2).
    pub fn submit_meta_read(&mut self, b: usize, lba: u64, task: usize, now_j: u64) -> bool {
        let actor = Actor::Task(task);
        let disk = &mut self.disks[b];
        if disk.pending.iter().any(|(a, _)| *a == actor) {
            return false;
        }
        let ioc = self.iocs.entry(actor).or_default();
        if disk
            .get_request(BLK_RW_SYNC, ioc, now_j, self.batch_time)
            .is_none()
        {
            return false;
        }
        disk.queue_request(Request {
            kind: ReqKind::MetaRead { task },
            lba,
            pages: Vec::new(),
            slot: 0,
            queued_j: now_j,
        });
        disk.enqueued(actor, now_j);
        self.plug(b);
        true
    }

    /// Disk `b` got IO during this event: it is unplugged at the event's end.
    fn plug(&mut self, b: usize) {
        if !self.plugged.contains(&b) {
            self.plugged.push(b);
        }
    }

    /// Whether `get_request()` would give `actor` a request on disk `b` now, for a write of
    /// `kind` at `lba` that does not merge (the check the resumable writers make before they
    /// touch a page).
    pub fn may_queue(&self, b: usize, kind: ReqKind, lba: u64, actor: Actor, now_j: u64) -> bool {
        let disk = &self.disks[b];
        if disk.pending.iter().any(|(a, _)| *a == actor) {
            return false;
        }
        if disk.would_merge(kind, lba) {
            return true;
        }
        let ioc = self.iocs.get(&actor).copied().unwrap_or_default();
        disk.may_get_request(kind.dir(), &ioc, now_j, self.batch_time)
    }

    /// Whether `actor` has a bio parked on any disk.
    pub fn has_parked(&self, actor: Actor) -> bool {
        self.disks
            .iter()
            .any(|d| d.pending.iter().any(|(a, _)| *a == actor))
    }

    /// The tail of `get_request_wait()` for a woken `actor`: it becomes a batcher and retries
    /// its parked bios, in order. `Some((disk, dir))` when one is refused again (it sleeps on
    /// that list).
    fn retry_parked(&mut self, actor: Actor, now_j: u64) -> Option<(usize, usize)> {
        self.iocs
            .entry(actor)
            .or_default()
            .set_batching(now_j, self.batch_time);
        for b in 0..self.disks.len() {
            while let Some(i) = self.disks[b].pending.iter().position(|(a, _)| *a == actor) {
                let (_, mut r) = self.disks[b].pending.remove(i);
                let id = r.pages[0];
                let ioc = self.iocs.entry(actor).or_default();
                let s = self.disks[b].submit(r.kind, r.lba, id, ioc, now_j, self.batch_time);
                if s == Submit::Queued {
                    self.disks[b].enqueued(actor, now_j);
                }
                if s == Submit::MustWait {
                    let dir = r.kind.dir();
                    self.disks[b].pending.insert(i, (actor, r));
                    return Some((b, dir));
                }
                self.wait_stats.max_allocated =
                    self.wait_stats.max_allocated.max(self.disks[b].allocated());
                r.pages.clear();
                self.disks[b].spare.push(r.pages);
                self.plug(b);
            }
        }
        None
    }
}

/// Unplugging and completion: what the block layer does to the VM.
impl Machine {
    /// Unplugs every disk that got IO during this event: an idle disk starts serving.
    pub fn unplug_all(&mut self) {
        let plugged = std::mem::take(&mut self.io.plugged);
        for b in plugged {
            self.disk_dispatch(b);
        }
    }

    /// Starts as many queued requests as the device has room for (one draw of seek jitter per
    /// request started, and one when none is).
    fn disk_dispatch(&mut self, b: usize) {
        loop {
            let jitter = self.io.rng.below(self.io.disks[b].spec.seek_ns.max(1));
            let now_j = self.jiffies();
            let Some(at) = self.io.disks[b].dispatch(self.clock.now, now_j, jitter) else {
                return;
            };
            self.clock.queue.schedule(at, Event::disk_done(b));
            if !self.io.disks[b].can_dispatch() || self.io.disks[b].queue.is_empty() {
                return;
            }
        }
    }

    /// CFQ's `idle_slice_timer` of disk `b` fired (a stale one — deleted, or re-armed for
    /// another jiffy — does nothing): the active queue's idle ended; the disk dispatches again.
    pub fn disk_idle_timer(&mut self, b: usize) {
        let now_j = self.jiffies();
        let Some(cfq) = self.io.disks[b].cfq_mut() else {
            return;
        };
        if cfq.idle_timer != Some(now_j) || now_j * self.clock.jiffy != self.clock.now {
            return;
        }
        cfq.idle_slice_timer(now_j);
        self.disk_dispatch(b);
    }

    /// The current jiffy (`jiffies`).
    pub fn jiffies(&self) -> u64 {
        self.clock.now / self.clock.jiffy.max(1)
    }

    /// `__make_request()` of page `id` to disk `b` by `actor`: `false` when its bio is parked
    /// and the actor must sleep in `get_request_wait()` ([`Machine::get_request_wait`]).
    pub fn submit_bio(
        &mut self,
        b: usize,
        kind: ReqKind,
        lba: u64,
        id: PageId,
        actor: Actor,
    ) -> bool {
        let now_j = self.jiffies();
        self.io.submit(b, kind, lba, id, actor, now_j)
    }

    /// Whether `actor` may queue a write of `kind` at `lba` on disk `b` now without sleeping.
    pub fn may_queue(&self, b: usize, kind: ReqKind, lba: u64, actor: Actor) -> bool {
        self.io.may_queue(b, kind, lba, actor, self.jiffies())
    }

    /// `get_request_wait()`: `actor` sleeps uninterruptibly on the wait queue of disk `b`'s
    /// request list of direction `dir` — the direction of its parked bio when it has one — (no
    /// `Run` event: a freed request wakes it), counted by what it was doing.
    pub fn get_request_wait(&mut self, b: usize, actor: Actor, dir: usize) {
        let disk = &self.io.disks[b];
        let parked = disk.pending.iter().find(|(a, _)| *a == actor);
        let dir = parked.map_or(dir, |(_, r)| r.kind.dir());
        let waiter = match actor {
            Actor::Kswapd(_) => Waiter::Kswapd,
            Actor::Flusher(_) => Waiter::Flusher,
            Actor::Journal(_) => Waiter::Journal,
            Actor::Ext4Rsv(_) => unreachable!("the ext4 conversion work submits no request"),
            Actor::Task(t) if self.tasks[t].pf & crate::mm::pf::MEMALLOC != 0 => {
                Waiter::DirectReclaim
            }
            Actor::Task(_) if dir == BLK_RW_SYNC => Waiter::Reader,
            Actor::Task(_) => Waiter::Writer,
        };
        let waiters = &mut self.io.disks[b].rl[dir].waiters;
        if !waiters.iter().any(|(a, _, _)| *a == actor) {
            waiters.push_back((actor, self.clock.now, waiter));
            self.io.wait_stats.sleeps[waiter as usize] += 1;
        }
        let _ = self.bump_gen(actor);
    }

    /// The disk of `actor`'s first parked bio, if it has one.
    pub fn parked_disk(&self, actor: Actor) -> Option<usize> {
        self.io
            .disks
            .iter()
            .position(|d| d.pending.iter().any(|(a, _)| *a == actor))
    }

    /// `freed_request()`'s wake-up of one exclusive sleeper of disk `b`'s list `dir`: it
    /// becomes a batcher and submits its parked bios; refused again, it goes back to the tail of
    /// a wait queue.
    fn wake_request_waiter(&mut self, b: usize, dir: usize) {
        let Some((actor, since, waiter)) = self.io.disks[b].rl[dir].waiters.pop_front() else {
            return;
        };
        let now_j = self.jiffies();
        if let Some((d, dir)) = self.io.retry_parked(actor, now_j) {
            self.io.disks[d].rl[dir]
                .waiters
                .push_back((actor, since, waiter));
            return;
        }
        self.io.wait_stats.ns[waiter as usize] += self.clock.now - since;
        self.schedule(self.clock.now, actor);
    }

    /// A request completed: `end_page_writeback` (or the journal/read completion) for each of its
    /// pages, congestion and request-wait wake-ups, and the next request.
    pub fn disk_done(&mut self, b: usize) {
        let now_j = self.jiffies();
        let done = self.io.disks[b].complete(now_j);
        if let Some(j) = done.idle_timer {
            self.clock
                .queue
                .schedule(j * self.clock.jiffy, Event::disk_idle(b));
        }
        let (r, cleared, wake) = (done.request, done.cleared, done.wake);
        let dir = r.kind.dir();
        match r.kind {
            ReqKind::Write | ReqKind::SyncWrite => {
                for &id in &r.pages {
                    if self.wb.io_ends.is_empty() {
                        self.end_page_writeback(id);
                    } else {
                        self.end_page_writeback_or_park(id); // ext4 dioread_nolock
                    }
                }
                // pgpgout/pgpgin count KiB.
                self.stats.vm_events.pgpgout += self.granularity.base(r.pages.len() as u64) * 4;
            }
            ReqKind::JournalData { mount } => {
                self.journal_data_done(mount, &r.pages);
                self.stats.vm_events.pgpgout += self.granularity.base(r.pages.len() as u64) * 4;
            }
            ReqKind::Read { task } => {
                for &id in &r.pages {
                    // A page read into the swap cache is a swap-in (a file read never is):
                    // the rest of do_swap_page() / shmem_getpage() (mm/swap_state.rs).
                    if self.mem.pages[id as usize].has(pg::SWAPCACHE) {
                        self.swap_in_done(task, id);
                    } else {
                        self.mem.pages[id as usize].flags &= !pg::LOCKED;
                        self.wake_page_lock_waiters(id);
                    }
                }
                self.stats.vm_events.pgpgin += self.granularity.base(r.pages.len() as u64) * 4;
                self.schedule(self.clock.now, Actor::Task(task));
            }
            ReqKind::MetaRead { task } => {
                self.stats.vm_events.pgpgin += 4;
                self.schedule(self.clock.now, Actor::Task(task));
            }
        }
        self.io.disks[b].recycle(r.pages);
        if cleared && dir == BLK_RW_ASYNC {
            // clear_bdi_congested(bdi, BLK_RW_ASYNC) wakes every congestion_wait(BLK_RW_ASYNC)
            // sleeper whether or not the queue was congested: `clear_bit()` then
            // `if (waitqueue_active(wqh)) wake_up(wqh)` (mm/backing-dev.c 2.6.32; 2.6.37 only
            // adds the nr_bdi_congested count), and `__freed_request()` calls it for every
            // request freed below the off threshold. So a nap ends at the next async completion.
            self.wake_congestion_waiters();
        }
        if wake {
            self.wake_request_waiter(b, dir);
        }
        self.disk_dispatch(b);
    }
}

/// The unit tests' disk: 100 MB/s, an 8 ms seek, `nr` requests, one at a time, no scheduler.
#[cfg(test)]
pub(crate) fn test_disk(nr: u32) -> Disk {
    Disk::new(
        DiskSpec {
            name: "d".into(),
            bandwidth_bytes_per_sec: 100_000_000,
            seek_ns: 8_000_000,
            nr_requests: nr,
            latency_ns: 0,
            queue_depth: 1,
            random_write_iops: 0,
        },
        Granularity::BASE,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disk(nr: u32) -> Disk {
        test_disk(nr)
    }

    /// Submits a write as one io_context at jiffy 0 (HZ=1000: a batch lasts 20 jiffies).
    fn write(d: &mut Disk, ioc: &mut IoContext, lba: u64, id: PageId) -> Submit {
        d.submit(ReqKind::Write, lba, id, ioc, 0, 20)
    }

    #[test]
    fn a_128_request_queue_congests_at_113_and_uncongests_below_103() {
        let mut d = disk(128);
        let mut ioc = IoContext::default();
        assert_eq!((d.congestion_on(), d.congestion_off()), (113, 103));
        for i in 0..112 {
            assert_eq!(write(&mut d, &mut ioc, i * 10, i as u32), Submit::Queued);
            assert!(!d.write_congested());
        }
        write(&mut d, &mut ioc, 5000, 999);
        assert!(d.write_congested());
        let mut freed = 0;
        loop {
            d.dispatch(0, 0, 0);
            let unc = d.complete(0).cleared;
            freed += 1;
            if unc {
                break;
            }
        }
        assert_eq!(113 - freed, 102);
    }

    #[test]
    fn a_blk_mq_queue_never_congests_and_its_frees_clear_nothing() {
        let mut d = disk(4);
        d.tracks_congestion = false;
        let mut ioc = IoContext::default();
        for i in 0..4 {
            write(&mut d, &mut ioc, i * 10, i as u32);
        }
        assert!(d.full() && !d.write_congested());
        d.dispatch(0, 0, 0);
        assert!(!d.complete(0).cleared, "a free woke the congestion waiters");
    }

    #[test]
    fn a_four_request_queue_congests_at_its_fourth_request_and_uncongests_below_three() {
        let mut d = disk(4);
        let mut ioc = IoContext::default();
        assert_eq!((d.congestion_on(), d.congestion_off()), (4, 3));
        for i in 0..3 {
            write(&mut d, &mut ioc, i * 10, i as u32);
            assert!(!d.write_congested());
        }
        write(&mut d, &mut ioc, 500, 9);
        assert!(d.write_congested(), "the 4th request congests");
        d.dispatch(0, 0, 0);
        let unc = d.complete(0).cleared;
        assert!(!unc, "3 allocated is not below 3");
        d.dispatch(0, 0, 0);
        let unc = d.complete(0).cleared;
        assert!(unc, "2 allocated is below 3");
    }

    #[test]
    fn the_task_that_fills_the_queue_may_take_31_more_requests_within_20_ms_but_no_one_else() {
        let mut d = disk(128);
        let (mut filler, mut other) = (IoContext::default(), IoContext::default());
        for i in 0..128u32 {
            assert_eq!(
                write(&mut d, &mut filler, u64::from(i) * 10, i),
                Submit::Queued
            );
        }
        assert!(d.rl[BLK_RW_ASYNC].full);
        assert_eq!(write(&mut d, &mut other, 99_999, 7), Submit::MustWait);
        for i in 128..159u32 {
            assert_eq!(
                write(&mut d, &mut filler, u64::from(i) * 10, i),
                Submit::Queued
            );
        }
        assert_eq!(d.allocated(), 159);
        assert_eq!(write(&mut d, &mut filler, 77_777, 8), Submit::MustWait);
        // A batch older than BLK_BATCH_TIME that is not full is over.
        let mut late = IoContext {
            nr_batch_requests: 5,
            last_waited: 0,
        };
        assert!(!d.may_get_request(BLK_RW_ASYNC, &late, 20, 20));
        assert_eq!(
            d.submit(ReqKind::Write, 55_555, 9, &mut late, 20, 20),
            Submit::MustWait
        );
    }

    #[test]
    fn no_one_allocates_past_half_again_the_pool_so_four_requests_allow_six() {
        let mut d = disk(4);
        let mut ioc = IoContext::default();
        for i in 0..6u32 {
            assert_eq!(
                write(&mut d, &mut ioc, u64::from(i) * 10, i),
                Submit::Queued
            );
        }
        assert_eq!(write(&mut d, &mut ioc, 1000, 6), Submit::MustWait);
        assert_eq!(d.allocated(), 6);
        // Freeing one leaves 5 ≥ 4: nobody is woken; freeing two more leaves 3 < 4: woken.
        d.dispatch(0, 0, 0);
        assert!(!d.complete(0).wake);
        d.dispatch(0, 0, 0);
        assert!(!d.complete(0).wake);
        d.dispatch(0, 0, 0);
        assert!(d.complete(0).wake);
        assert!(!d.rl[BLK_RW_ASYNC].full);
    }

    /// A read of block `lba` by task `task` at jiffy 0.
    fn read(d: &mut Disk, ioc: &mut IoContext, lba: u64, id: PageId, task: usize) -> Submit {
        d.submit(ReqKind::Read { task }, lba, id, ioc, 0, 20)
    }

    #[test]
    fn a_reader_is_not_blocked_behind_a_full_async_list() {
        let mut d = disk(4);
        let (mut writer, mut other, mut reader) = Default::default();
        for i in 0..6u32 {
            write(&mut d, &mut writer, u64::from(i) * 10, i);
        }
        assert_eq!(write(&mut d, &mut other, 900, 7), Submit::MustWait);
        assert!(d.write_congested() && d.rl[BLK_RW_ASYNC].full);
        assert_eq!(read(&mut d, &mut reader, 5000, 8, 0), Submit::Queued);
        assert_eq!((d.rl[BLK_RW_SYNC].count, d.allocated()), (1, 6));
        // The read's completion frees a sync request (and clears the sync list's congestion,
        // which wakes no BLK_RW_ASYNC sleeper): nothing on the async list changes.
        let done = |d: &mut Disk| {
            while let Some(_at) = d.dispatch(0, 0, 0) {}
            let c = d.complete(0);
            let (r, cleared, wake) = (c.request, c.cleared, c.wake);
            (r.kind.dir(), cleared, wake)
        };
        for _ in 0..6 {
            assert_eq!(done(&mut d).0, BLK_RW_ASYNC);
        }
        assert_eq!(done(&mut d), (BLK_RW_SYNC, true, true));
        assert_eq!(d.allocated(), 0);
    }

    /// `__freed_request()` calls `blk_clear_queue_congested()` for every request freed below the
    /// off threshold, and `clear_bdi_congested()` wakes `congestion_wait()` sleepers whether or
    /// not the queue was congested (2.6.32 block/blk-core.c, mm/backing-dev.c).
    #[test]
    fn an_async_request_freed_on_a_list_never_congested_still_wakes_congestion_waiters() {
        let mut d = disk(128);
        let mut writer = IoContext::default();
        for i in 0..2u32 {
            write(&mut d, &mut writer, u64::from(i) * 10, i);
        }
        assert!(!d.rl[BLK_RW_ASYNC].congested);
        while d.dispatch(0, 0, 0).is_some() {}
        let c = d.complete(0);
        let (r, cleared) = (c.request, c.cleared);
        assert_eq!(r.kind.dir(), BLK_RW_ASYNC);
        assert!(
            cleared,
            "the free below the off threshold must wake the sleepers"
        );
    }

    #[test]
    fn reads_take_requests_from_their_own_list_and_the_fifth_reader_of_four_waits() {
        let mut d = disk(4);
        let mut iocs = [IoContext::default(); 5];
        for (i, ioc) in iocs.iter_mut().enumerate().take(4) {
            let i = i as u32;
            assert_eq!(
                read(&mut d, ioc, u64::from(i) * 100, i, i as usize),
                Submit::Queued
            );
        }
        assert_eq!(read(&mut d, &mut iocs[4], 7000, 9, 4), Submit::MustWait);
        assert!(d.rl[BLK_RW_SYNC].full && d.rl[BLK_RW_SYNC].congested);
        assert!(
            !d.write_congested(),
            "sync congestion is not bdi_write_congested"
        );
        // A write still gets an async request.
        assert_eq!(
            write(&mut d, &mut IoContext::default(), 9000, 10),
            Submit::Queued
        );
        // A sync write (WRITE_SYNC_PLUG) shares the readers' list: refused too.
        assert_eq!(
            d.submit(
                ReqKind::SyncWrite,
                11_000,
                11,
                &mut IoContext::default(),
                0,
                20
            ),
            Submit::MustWait
        );
    }

    #[test]
    fn a_sync_write_never_merges_into_an_async_request() {
        let mut d = disk(128);
        let mut ioc = IoContext::default();
        write(&mut d, &mut ioc, 5000, 100);
        d.dispatch(0, 0, 0);
        write(&mut d, &mut ioc, 0, 1);
        d.submit(ReqKind::SyncWrite, 1, 2, &mut ioc, 0, 20);
        assert_eq!(d.queue.len(), 2);
        assert_eq!((d.allocated(), d.rl[BLK_RW_SYNC].count), (2, 1));
    }

    #[test]
    fn a_page_back_merges_into_any_queued_request_not_only_the_last() {
        let mut d = disk(128);
        let mut ioc = IoContext::default();
        write(&mut d, &mut ioc, 5000, 100);
        d.dispatch(0, 0, 0); // one request in flight
        for (lba, id) in [(0, 1), (1000, 2), (1, 3), (1001, 4)] {
            write(&mut d, &mut ioc, lba, id);
        }
        assert_eq!(d.queue.len(), 2);
        assert_eq!(d.allocated(), 3);
        // The hash holds the first request's end (2), not the last one's.
        assert_eq!(d.ends.iter().collect::<Vec<_>>(), [(&2, &1)]);
        d.check_ends().expect("the hash matches the queue");
        let done = d.complete(0);
        d.recycle(done.request.pages);
        d.dispatch(0, 0, 0); // the first queued request goes: its end leaves the hash
        assert!(d.ends.is_empty());
        d.check_ends()
            .expect("the hash matches the queue after a dispatch");
        d.ends.insert(7, 1);
        assert!(d.check_ends().is_err(), "a stale end is caught");
    }

    #[test]
    fn contiguous_pages_merge_up_to_512_kib() {
        let mut d = disk(128);
        let mut ioc = IoContext::default();
        for i in 0..200u32 {
            write(&mut d, &mut ioc, u64::from(i), i);
        }
        assert_eq!(d.queue.len(), 2);
        assert_eq!(d.queue[0].pages.len(), 128);
        assert_eq!(d.allocated(), 2);
    }

    #[test]
    fn a_sequential_request_costs_its_transfer_and_a_random_one_adds_a_seek() {
        let mut d = disk(128);
        let mut ioc = IoContext::default();
        write(&mut d, &mut ioc, 0, 1);
        // The first request starts at block 0, where the head is: no seek.
        assert_eq!(d.dispatch(0, 0, 0), Some(40_960));
        d.complete(0);
        write(&mut d, &mut ioc, 100, 2);
        assert_eq!(d.dispatch(0, 0, 0), Some(40_960 + 4_000_000));
    }

    #[test]
    fn a_latency_device_completes_queue_depth_requests_in_parallel() {
        // null_blk-like: 100 µs per request, 32 at once, no seek, transfer negligible.
        let mut d = disk(128);
        d.spec.latency_ns = 100_000;
        d.spec.queue_depth = 32;
        d.spec.seek_ns = 0;
        d.spec.bandwidth_bytes_per_sec = 1 << 50;
        let mut ioc = IoContext::default();
        for i in 0..33u32 {
            write(&mut d, &mut ioc, u64::from(i) * 10, i);
        }
        let done: Vec<_> = std::iter::from_fn(|| d.dispatch(0, 0, 0)).collect();
        assert_eq!(done, vec![100_000; 32]);
        assert_eq!(d.queue.len(), 1, "the 33rd waits for a slot");
        d.complete(0);
        assert_eq!(d.dispatch(100_000, 0, 0), Some(200_000));
    }

    #[test]
    fn a_flash_device_charges_a_random_4k_write_at_its_iops_and_a_streaming_one_at_its_bandwidth() {
        // An X25-M-like drive: 70 MB/s streaming, 6600 random 4 KiB writes per second.
        let mut d = disk(128);
        d.spec.bandwidth_bytes_per_sec = 70_000_000;
        d.spec.random_write_iops = 6600;
        let mut ioc = IoContext::default();
        write(&mut d, &mut ioc, 0, 1);
        assert_eq!(
            d.dispatch(0, 0, 0),
            Some(58_514),
            "a streaming 4 KiB at 70 MB/s"
        );
        d.complete(0);
        write(&mut d, &mut ioc, 5000, 2);
        assert_eq!(
            d.dispatch(0, 0, 0),
            Some(151_515),
            "a lone random 4 KiB at 6600 IOPS"
        );
    }
}
