//! The block layer: one disk and its request queue (writeback-fs §A.10, M.2;
//! `block/blk-core.c` 2.6.32), the machine's disks ([`BlockLayer`]), and what submission and
//! completion do to the VM (plugging per event, `end_page_writeback`, the request-wait and
//! congestion wake-ups).
//!
//! Async writes take a request from a pool of `nr_requests`; the queue is write-congested from
//! the allocation that brings the count to `nr_requests - nr/8 + 1` (113 of 128; capped at `nr_requests`, so 4 of 4) until a free
//! brings it below `nr_requests - nr/8 - nr/16 - 1` (103). A page whose disk block follows the
//! last queued request of the same kind is merged into it, up to 512 KiB per request. The disk
//! serves requests in FIFO order, one at a time: a seek (when the request does not start where
//! the previous one ended) plus the transfer at the disk's bandwidth. Completion is one event per
//! request, not per page.

use std::collections::VecDeque;

use crate::mm::granularity::{Granularity, KernelPages};
use crate::mm::page::{pg, PageId};
use crate::mm::{Actor, Event, Machine};
use crate::sim::{SimRng, SimTime};
use crate::spec::DiskSpec;

/// `BLK_DEF_MAX_SECTORS` = 1024 sectors = 512 KiB = 128 (4 KiB) pages per request.
pub const MAX_REQUEST_PAGES: KernelPages = KernelPages(128);

/// What a request carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReqKind {
    /// Page writeback (`PG_writeback` pages): `end_page_writeback` on completion.
    Write,
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
}

/// A disk with its queue.
#[derive(Debug)]
pub struct Disk {
    /// Its parameters.
    pub spec: DiskSpec,
    /// Requests not yet dispatched, FIFO.
    pub queue: VecDeque<Request>,
    /// The request being served.
    pub in_flight: Option<Request>,
    /// Async (write) requests allocated: queued plus in flight.
    pub allocated: u32,
    /// Async write congestion (`BDI_async_congested`).
    pub congested: bool,
    /// The block after the last request served.
    pub last_end: u64,
    /// Actors sleeping in `get_request_wait()` for a free request.
    pub full_waiters: VecDeque<Actor>,
    /// Pages completed (for statistics).
    pub pages_done: u64,
    /// Bytes of one (simulated) page: what a page of a request transfers.
    pub page_bytes: u64,
    /// [`MAX_REQUEST_PAGES`] in simulated pages: the same 512 KiB (a batch, at least one page).
    pub max_request_pages: usize,
    /// Page lists of completed requests, for the next requests (no allocation per request).
    spare: Vec<Vec<PageId>>,
}

impl Disk {
    /// An idle disk whose requests carry pages of granularity `granularity`.
    pub fn new(spec: DiskSpec, granularity: Granularity) -> Disk {
        Disk {
            spec,
            queue: VecDeque::new(),
            in_flight: None,
            allocated: 0,
            congested: false,
            last_end: 0,
            full_waiters: VecDeque::new(),
            pages_done: 0,
            page_bytes: granularity.page_bytes(),
            max_request_pages: granularity.batch(MAX_REQUEST_PAGES) as usize,
            spare: Vec::new(),
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

    /// Whether a write of block `lba` would merge into the last queued request.
    pub fn would_merge(&self, kind: ReqKind, lba: u64) -> bool {
        self.queue.back().is_some_and(|r| {
            r.kind == kind
                && r.lba + r.pages.len() as u64 == lba
                && r.pages.len() < self.max_request_pages
        })
    }

    /// All async requests are allocated: a new one would sleep in `get_request_wait()`.
    pub fn full(&self) -> bool {
        self.allocated >= self.spec.nr_requests
    }

    /// Queues page `id` at block `lba`; returns whether the queue just became congested.
    /// Async writes never wait here: callers that may sleep check [`Disk::full`] first.
    pub fn submit(&mut self, kind: ReqKind, lba: u64, id: PageId) -> bool {
        if self.would_merge(kind, lba) {
            self.queue.back_mut().expect("merge target").pages.push(id);
            return false;
        }
        let mut pages = self
            .spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(self.max_request_pages));
        pages.push(id);
        self.queue.push_back(Request { kind, lba, pages });
        if matches!(kind, ReqKind::Read { .. }) {
            return false;
        }
        self.allocated += 1;
        if !self.congested && self.allocated >= self.congestion_on() {
            self.congested = true;
            return true;
        }
        false
    }

    /// Starts serving the next request if idle; returns its service time.
    pub fn dispatch(&mut self, seek_jitter_ns: u64) -> Option<SimTime> {
        if self.in_flight.is_some() {
            return None;
        }
        let r = self.queue.pop_front()?;
        let bytes = r.pages.len() as u64 * self.page_bytes;
        let mut t = bytes * 1_000_000_000 / self.spec.bandwidth_bytes_per_sec.max(1);
        if r.lba != self.last_end {
            t += self.spec.seek_ns / 2 + seek_jitter_ns;
        }
        self.last_end = r.lba + r.pages.len() as u64;
        self.in_flight = Some(r);
        Some(t.max(1))
    }

    /// Finishes the request in flight; returns it and whether the queue uncongested.
    pub fn complete(&mut self) -> (Request, bool) {
        let r = self.in_flight.take().expect("completion without a request");
        self.pages_done += r.pages.len() as u64;
        let mut uncongested = false;
        if !matches!(r.kind, ReqKind::Read { .. }) {
            self.allocated -= 1;
            if self.congested && self.allocated < self.congestion_off() {
                self.congested = false;
                uncongested = true;
            }
        }
        (r, uncongested)
    }

    /// Takes back the page list of a completed request for a later one.
    pub fn recycle(&mut self, mut pages: Vec<PageId>) {
        pages.clear();
        self.spare.push(pages);
    }

    /// Pages under `PG_writeback` that this disk holds (queued or in flight).
    pub fn writeback_pages(&self) -> u64 {
        self.queue
            .iter()
            .chain(self.in_flight.iter())
            .filter(|r| r.kind == ReqKind::Write)
            .map(|r| r.pages.len() as u64)
            .sum()
    }
}

/// The block layer of the machine: every disk, the disks plugged during the current event, where
/// each disk's next new file goes, and the disks' random stream (seek jitter).
pub struct BlockLayer {
    /// Every disk.
    pub disks: Vec<Disk>,
    /// Disks that got IO during the current event (unplugged at its end).
    pub plugged: Vec<usize>,
    /// Next free block of each disk, for new files.
    pub next_lba: Vec<u64>,
    /// Random stream of the disks.
    pub rng: SimRng,
}

impl BlockLayer {
    /// Submits page `id` to disk `b` (plugged until the end of the event).
    pub fn submit(&mut self, b: usize, kind: ReqKind, lba: u64, id: PageId) {
        self.disks[b].submit(kind, lba, id);
        if !self.plugged.contains(&b) {
            self.plugged.push(b);
        }
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

    fn disk_dispatch(&mut self, b: usize) {
        let jitter = self.io.rng.below(self.io.disks[b].spec.seek_ns.max(1));
        if let Some(t) = self.io.disks[b].dispatch(jitter) {
            self.clock
                .queue
                .schedule(self.clock.now + t, Event::disk_done(b));
        }
    }

    /// A request completed: `end_page_writeback` (or the journal/read completion) for each of its
    /// pages, congestion and request-wait wake-ups, and the next request.
    pub fn disk_done(&mut self, b: usize) {
        let (r, uncongested) = self.io.disks[b].complete();
        match r.kind {
            ReqKind::Write => {
                for &id in &r.pages {
                    self.end_page_writeback(id);
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
                    self.mem.pages[id as usize].flags &= !pg::LOCKED;
                }
                self.stats.vm_events.pgpgin += self.granularity.base(r.pages.len() as u64) * 4;
                self.schedule(self.clock.now, Actor::Task(task));
            }
        }
        self.io.disks[b].recycle(r.pages);
        if uncongested {
            self.wake_congestion_waiters();
        }
        if !self.io.disks[b].full() {
            if let Some(a) = self.io.disks[b].full_waiters.pop_front() {
                self.schedule(self.clock.now, a);
            }
        }
        self.disk_dispatch(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disk(nr: u32) -> Disk {
        Disk::new(
            DiskSpec {
                name: "d".into(),
                bandwidth_bytes_per_sec: 100_000_000,
                seek_ns: 8_000_000,
                nr_requests: nr,
            },
            Granularity::BASE,
        )
    }

    #[test]
    fn a_128_request_queue_congests_at_113_and_uncongests_below_103() {
        let mut d = disk(128);
        assert_eq!((d.congestion_on(), d.congestion_off()), (113, 103));
        for i in 0..112 {
            assert!(!d.submit(ReqKind::Write, i * 10, i as u32));
        }
        assert!(d.submit(ReqKind::Write, 5000, 999));
        assert!(d.congested);
        let mut freed = 0;
        loop {
            d.dispatch(0);
            let (_, unc) = d.complete();
            freed += 1;
            if unc {
                break;
            }
        }
        assert_eq!(113 - freed, 102);
    }

    #[test]
    fn a_four_request_queue_congests_at_its_fourth_request_and_uncongests_below_three() {
        let mut d = disk(4);
        assert_eq!((d.congestion_on(), d.congestion_off()), (4, 3));
        for i in 0..3 {
            assert!(!d.submit(ReqKind::Write, i * 10, i as u32));
        }
        assert!(d.submit(ReqKind::Write, 500, 9), "the 4th request congests");
        d.dispatch(0);
        let (_, unc) = d.complete();
        assert!(!unc, "3 allocated is not below 3");
        d.dispatch(0);
        let (_, unc) = d.complete();
        assert!(unc, "2 allocated is below 3");
    }

    #[test]
    fn contiguous_pages_merge_up_to_512_kib() {
        let mut d = disk(128);
        for i in 0..200u32 {
            d.submit(ReqKind::Write, u64::from(i), i);
        }
        assert_eq!(d.queue.len(), 2);
        assert_eq!(d.queue[0].pages.len(), 128);
        assert_eq!(d.allocated, 2);
    }

    #[test]
    fn a_sequential_request_costs_its_transfer_and_a_random_one_adds_a_seek() {
        let mut d = disk(128);
        d.submit(ReqKind::Write, 0, 1);
        // The first request starts at block 0, where the head is: no seek.
        assert_eq!(d.dispatch(0), Some(40_960));
        d.complete();
        d.submit(ReqKind::Write, 100, 2);
        assert_eq!(d.dispatch(0), Some(40_960 + 4_000_000));
    }
}
