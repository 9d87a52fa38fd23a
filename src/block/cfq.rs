//! CFQ, the legacy block layer's default I/O scheduler (block/cfq-iosched.c; the `io_scheduler`
//! switch's `cfq`, every profile before 5.0's removal of the legacy schedulers).
//!
//! Every task has a *sync* queue for its reads and `WRITE_SYNC` writes; every async write
//! (`WRITE`: the flusher, reclaim, swap-out, a throttled writer) goes to the one async queue of
//! the default priority (best effort, level 4: `cfq_get_queue()` shares `async_cfqq[0][4]`
//! among every task of nice 0). The busy queues sit on a service tree ordered by `rb_key`
//! (`cfq_service_tree_add()`: `jiffies` plus `cfq_slice_offset()`, plus what was left of the
//! queue's last slice); the *active* queue dispatches until its slice ends — `cfq_slice_sync`
//! (HZ/10) for a sync queue, `cfq_slice_async` (HZ/25) or `cfq_prio_to_maxrq()` (16) requests
//! for the async one — starting at its first completion (`cfq_set_prio_slice()`).
//!
//! What it changes for a swapping or reading task against a writeback stream:
//! - a sync request preempts an async slice at once (`cfq_should_preempt()`, the new queue goes
//!   to the front of the tree, `cfq_preempt_queue()`);
//! - no async request is dispatched while a sync one is in flight, and a sync queue with an
//!   idle window waits for the async requests in the driver to drain (`cfq_may_dispatch()`);
//!   with `low_latency` (on by default since 2.6.32) the async queue may have only one request
//!   in the driver within `cfq_slice_sync` of the last sync completion;
//! - after a sync request completes and its queue is empty, CFQ idles: `cfq_arm_slice_timer()`
//!   waits `cfq_slice_idle` (HZ/125, 8 ms; 2 ms when the task seeks, `CIC_SEEKY`) for the
//!   task's next request instead of serving another queue, so a task that reads one page after
//!   another gets them back to back within its slice. The idle window closes for a task whose
//!   mean think time exceeds `cfq_slice_idle` (`cfq_update_idle_window()`).
//!
//! The text read is 2.6.30's (`cfq_select_queue()`, `cfq_arm_slice_timer()`,
//! `cfq_should_preempt()`, `cfq_completed_request()`, `cfq_idle_slice_timer()`); 2.6.32's
//! `cfq_may_dispatch()` is the one Mel Gorman and Corrado Zoccolo quoted on linux-mm in
//! November 2009 ("[PATCH] cfq: Do not limit the async queue depth while memory reclaim",
//! block/cfq-iosched.c:1308 of 2.6.32-rc). Not modelled (docs/MODEL.md 22):
//! `cfq_close_cooperator()`, metadata and RT/idle classes, and 2.6.33's workload trees.
//!
//! Inside a queue the order is the sector's, one way from the head (`cfq_choose_req()`: a
//! request up to `cfq_back_max` = 16 MiB behind the head costs twice its distance; beyond that
//! the queue wraps to the request furthest behind), except that once per slice the oldest
//! request goes first if it has waited `cfq_fifo_expire` (`cfq_check_fifo()`: HZ/8 sync, HZ/4
//! async). So the flusher's stream and reclaim's scattered pages in the one async queue are
//! written in block order, not in the order they were submitted.

use std::collections::BTreeMap;

use crate::mm::Actor;

/// The async queue's index in [`Cfq::queues`]; a task's sync queue is its io_context's slot.
pub const ASYNC_QUEUE: usize = 0;
/// `cfq_quantum` (2.6.32): requests a queue may have in the driver while others wait.
const CFQ_QUANTUM: u32 = 4;
/// `cfq_slice_async_rq`: with `cfq_prio_to_maxrq()` = 2·(2 + 2·(8 − 1 − 4)) = 16 requests per
/// async slice at priority 4.
const ASYNC_MAXRQ: u32 = 16;
/// `CIC_SEEKY`: a mean seek distance above 8 × 1024 sectors (4 MiB).
const SEEKY_SECTORS: u64 = 8 * 1024;
/// `sample_valid()`: more than 80 (of a decaying 256).
const SAMPLE_VALID: u64 = 80;
/// `cfq_back_max` (16 MiB) in sectors (`cfq_choose_req()`: "by definition, 1KiB is 2
/// sectors"): how far behind the head a request may be and still be taken before a wrap.
const BACK_MAX_SECTORS: u64 = 16 * 1024 * 2;
/// `cfq_back_penalty`: a backward seek counts twice its distance.
const BACK_PENALTY: u64 = 2;

/// `cfq_choose_req()`'s order as a key, smaller first, for a request starting at sector `s`
/// with the head at `last`: ahead of the head by its distance, behind it within
/// `cfq_back_max` by twice its distance, and further behind (wrapped) after both, the one
/// furthest behind first. Equal distances go to the higher sector.
fn choose_key(s: u64, last: u64) -> (bool, u64, u64) {
    if s >= last {
        (false, s - last, u64::MAX - s)
    } else if s + BACK_MAX_SECTORS >= last {
        (false, (last - s) * BACK_PENALTY, u64::MAX - s)
    } else {
        (true, s, 0)
    }
}

/// The per-task part of CFQ (`struct cfq_io_context`): think time and seek distance.
#[derive(Clone, Copy, Debug, Default)]
pub struct CfqIoContext {
    /// `last_end_request`, jiffies: the last sync completion (creation time at first).
    pub last_end_request: u64,
    /// `ttime_samples`, `ttime_total`, `ttime_mean` (jiffies).
    pub ttime: (u64, u64, u64),
    /// `seek_samples`, `seek_total`, `seek_mean` (sectors).
    pub seek: (u64, u64, u64),
    /// `last_request_pos`: the sector after the task's last request.
    pub last_request_pos: u64,
}

/// One `struct cfq_queue`.
#[derive(Clone, Debug, Default)]
pub struct CfqQueue {
    /// A sync queue (a task's); the async queue is not.
    pub sync: bool,
    /// Requests queued (not dispatched): `queued[]`.
    pub queued: u32,
    /// Requests in the driver.
    pub dispatched: u32,
    /// On the service tree (`cfq_cfqq_on_rr`).
    pub on_rr: bool,
    /// Its key on the tree, and the insertion order that breaks ties (`rb_right` on equal keys).
    pub rb_key: (i64, u64),
    /// `slice_new`: its slice starts at its first completion.
    pub slice_new: bool,
    /// `slice_end`, jiffies.
    pub slice_end: u64,
    /// `slice_resid`: what was left of its last slice when it idled out or was preempted.
    pub slice_resid: i64,
    /// `slice_dispatch`: requests dispatched in this slice.
    pub slice_dispatch: u32,
    /// `wait_request`: the active queue idles for its task's next request.
    pub wait_request: bool,
    /// `idle_window`: CFQ idles for this queue (a sync queue starts with it).
    pub idle_window: bool,
    /// `fifo_expire`: its FIFO was checked in this slice (`cfq_check_fifo()` looks once).
    pub fifo_checked: bool,
    /// The io_context of its task (unused for the async queue).
    pub cic: CfqIoContext,
}

/// The tunables, in jiffies (block/cfq-iosched.c: `cfq_slice_sync = HZ / 10`,
/// `cfq_slice_async = HZ / 25`, `cfq_slice_idle = HZ / 125`, `CFQ_MIN_TT` = 2 ms).
#[derive(Clone, Copy, Debug)]
pub struct CfqTunables {
    /// `cfq_slice[1]`.
    pub slice_sync: u64,
    /// `cfq_slice[0]`.
    pub slice_async: u64,
    /// `cfq_slice_idle`.
    pub slice_idle: u64,
    /// `msecs_to_jiffies(CFQ_MIN_TT)`: the idle of a seeky task.
    pub min_tt: u64,
    /// `cfq_fifo_expire[sync]`: HZ/4 for the async queue, HZ/8 for a sync one.
    pub fifo_expire: [u64; 2],
}

impl CfqTunables {
    /// The defaults at `hz` ticks per second.
    pub fn new(hz: u64) -> CfqTunables {
        CfqTunables {
            slice_sync: (hz / 10).max(1),
            slice_async: (hz / 25).max(1),
            slice_idle: hz / 125,
            // msecs_to_jiffies() rounds up.
            min_tt: (2 * hz).div_ceil(1000),
            fifo_expire: [hz / 4, hz / 8],
        }
    }
}

/// One disk's CFQ (`struct cfq_data`).
#[derive(Clone, Debug)]
pub struct Cfq {
    /// Every queue: [`ASYNC_QUEUE`], then one sync queue per task that submitted IO.
    pub queues: Vec<CfqQueue>,
    /// Each submitter's queue slot (`cic_to_cfqq(cic, 1)`).
    slots: BTreeMap<Actor, usize>,
    /// `active_queue`.
    pub active: Option<usize>,
    /// `busy_queues`: queues on the service tree.
    pub busy_queues: u32,
    /// `rq_in_driver` by sync-ness of the request.
    pub rq_in_driver: [u32; 2],
    /// `sync_flight`: requests of sync queues in the driver.
    pub sync_flight: u32,
    /// `last_end_sync_rq`, jiffies.
    pub last_end_sync_rq: u64,
    /// The pending `idle_slice_timer`: the jiffy it fires.
    pub idle_timer: Option<u64>,
    /// `last_position`: the sector after the last request dispatched.
    pub last_position: u64,
    /// Insertions into the service tree so far (the ties' order).
    seq: u64,
    /// The tunables.
    pub tunables: CfqTunables,
    /// No idling at all: a non-rotational device that queues (`blk_queue_nonrot() && hw_tag`).
    pub no_idle: bool,
    /// Sectors per simulated page.
    pub sectors_per_page: u64,
}

impl Cfq {
    /// The CFQ of a disk at boot (`cfq_init_queue()`: `last_end_sync_rq = jiffies`).
    pub fn new(hz: u64, page_bytes: u64, no_idle: bool) -> Cfq {
        Cfq {
            queues: vec![CfqQueue::default()],
            slots: BTreeMap::new(),
            active: None,
            busy_queues: 0,
            rq_in_driver: [0; 2],
            sync_flight: 0,
            last_end_sync_rq: 0,
            idle_timer: None,
            last_position: 0,
            seq: 0,
            tunables: CfqTunables::new(hz),
            no_idle,
            sectors_per_page: (page_bytes / 512).max(1),
        }
    }

    /// `actor`'s io_context slot (its sync queue), created on its first request
    /// (`cfq_alloc_io_context()` sets `last_end_request = jiffies`; `cfq_init_cfqq()` marks a
    /// sync queue `idle_window`).
    pub fn slot(&mut self, actor: Actor, now_j: u64) -> usize {
        if let Some(&s) = self.slots.get(&actor) {
            return s;
        }
        let s = self.queues.len();
        self.queues.push(CfqQueue {
            sync: true,
            idle_window: true,
            cic: CfqIoContext {
                last_end_request: now_j,
                ..CfqIoContext::default()
            },
            ..CfqQueue::default()
        });
        self.slots.insert(actor, s);
        s
    }

    /// The queue a request of `slot`'s task goes to.
    pub fn queue_of(slot: usize, sync: bool) -> usize {
        if sync {
            slot
        } else {
            ASYNC_QUEUE
        }
    }

    /// `cfq_prio_slice()` at priority 4: the base slice.
    fn prio_slice(&self, sync: bool) -> u64 {
        if sync {
            self.tunables.slice_sync
        } else {
            self.tunables.slice_async
        }
    }

    /// `cfq_slice_used()`.
    fn slice_used(&self, q: usize, now_j: u64) -> bool {
        let cfqq = &self.queues[q];
        !cfqq.slice_new && now_j >= cfqq.slice_end
    }

    /// `cfq_service_tree_add()`: a new key from `jiffies`, the offset and the residual slice,
    /// or the front of the tree (`add_front`, a preempting queue).
    fn service_tree_add(&mut self, q: usize, add_front: bool, now_j: u64) {
        let key = if add_front {
            i64::MIN
        } else {
            // cfq_slice_offset(): (busy_queues - 1) * (cfq_prio_slice(sync, 0) - own slice).
            let sync = self.queues[q].sync;
            let prio0 = self.tunables.slice_sync + self.tunables.slice_sync / 5 * 4;
            let offset =
                u64::from(self.busy_queues.saturating_sub(1)) * (prio0 - self.prio_slice(sync));
            let resid = std::mem::take(&mut self.queues[q].slice_resid);
            (offset + now_j) as i64 + resid
        };
        if self.queues[q].on_rr && self.queues[q].rb_key.0 == key {
            return; // same position, nothing more to do
        }
        self.seq += 1;
        self.queues[q].rb_key = (key, self.seq);
    }

    /// `cfq_add_cfqq_rr()`.
    fn add_rr(&mut self, q: usize, now_j: u64) {
        self.busy_queues += 1;
        self.service_tree_add(q, false, now_j);
        self.queues[q].on_rr = true;
    }

    /// `cfq_get_next_queue()`: the first queue of the service tree.
    fn first_on_tree(&self) -> Option<usize> {
        (0..self.queues.len())
            .filter(|&q| self.queues[q].on_rr)
            .min_by_key(|&q| self.queues[q].rb_key)
    }

    /// `__cfq_slice_expired()`: the active queue gives up the disk; a queue that idled out or was
    /// preempted (`timed_out`) keeps what was left of its slice for its next key.
    fn slice_expired(&mut self, timed_out: bool, now_j: u64) {
        let Some(q) = self.active.take() else {
            return;
        };
        if self.queues[q].wait_request {
            self.idle_timer = None;
        }
        self.queues[q].wait_request = false;
        if timed_out && !self.queues[q].slice_new {
            self.queues[q].slice_resid = self.queues[q].slice_end as i64 - now_j as i64;
        }
        if self.queues[q].on_rr {
            self.service_tree_add(q, false, now_j);
        }
    }

    /// `cfq_set_active_queue()`: the first queue of the tree, with a new slice.
    fn set_active_queue(&mut self) -> Option<usize> {
        let q = self.first_on_tree()?;
        let cfqq = &mut self.queues[q];
        cfqq.slice_end = 0;
        cfqq.slice_new = true;
        cfqq.slice_dispatch = 0;
        cfqq.fifo_checked = false;
        self.active = Some(q);
        Some(q)
    }

    /// `cfq_select_queue()`: keep the active queue while its slice lasts and it has requests, or
    /// while it idles or waits for its requests in flight; else expire it and take the next.
    fn select_queue(&mut self, now_j: u64) -> Option<usize> {
        if let Some(q) = self.active {
            if !self.slice_used(q, now_j) {
                let cfqq = &self.queues[q];
                if cfqq.queued > 0 {
                    return Some(q);
                }
                if self.idle_timer.is_some() || (cfqq.dispatched > 0 && cfqq.idle_window) {
                    return None;
                }
            }
            self.slice_expired(false, now_j);
        }
        self.set_active_queue()
    }

    /// `cfq_may_dispatch()` (2.6.32).
    fn may_dispatch(&self, q: usize, now_j: u64) -> bool {
        let cfqq = &self.queues[q];
        // Drain async requests before we start sync IO.
        if cfqq.idle_window && cfqq.sync && self.rq_in_driver[0] > 0 {
            return false;
        }
        // An async queue waits while sync IO is in flight.
        if self.sync_flight > 0 && !cfqq.sync {
            return false;
        }
        let mut max_dispatch = CFQ_QUANTUM;
        if cfqq.dispatched >= max_dispatch {
            if self.busy_queues > 1 {
                return false;
            }
            max_dispatch *= 4; // sole queue user, allow a bigger slice
        }
        if !cfqq.sync {
            // low_latency: ramp the async depth up from the last sync completion.
            let last_sync = now_j.saturating_sub(self.last_end_sync_rq);
            let mut depth = (last_sync / self.tunables.slice_sync) as u32;
            if depth == 0 && cfqq.dispatched == 0 {
                depth = 1;
            }
            max_dispatch = max_dispatch.min(depth);
        }
        cfqq.dispatched < max_dispatch
    }

    /// `cfq_dispatch_requests()` for one request: the queue to dispatch from, or `None` (CFQ
    /// idles, or nothing is queued).
    pub fn dispatch_queue(&mut self, now_j: u64) -> Option<usize> {
        if self.busy_queues == 0 {
            return None;
        }
        let q = self.select_queue(now_j)?;
        if !self.may_dispatch(q, now_j) {
            return None;
        }
        Some(q)
    }

    /// Which request queue `q` dispatches at jiffy `now_j`, from its requests as `(index, first
    /// sector, jiffy queued)` in arrival order: once per slice the oldest, if it has waited
    /// `cfq_fifo_expire` (`cfq_check_fifo()`), else `next_rq`, the request
    /// `cfq_choose_req()` puts first from the head at `last_position`. The kernel keeps
    /// `next_rq` as requests arrive and leave (`cfq_add_rq_rb()`, `cfq_find_next_rq()`), each
    /// time against the head of that moment; here every request is weighed against the head
    /// at dispatch.
    pub fn choose_request(
        &mut self,
        q: usize,
        requests: impl Iterator<Item = (usize, u64, u64)>,
        now_j: u64,
    ) -> Option<usize> {
        let check_fifo = !std::mem::replace(&mut self.queues[q].fifo_checked, true);
        let expire = self.tunables.fifo_expire[usize::from(self.queues[q].sync)];
        let last = self.last_position;
        let mut oldest = None;
        let mut best = None;
        for (i, sector, queued_j) in requests {
            oldest.get_or_insert((i, queued_j));
            let key = (choose_key(sector, last), i);
            if best.map_or(true, |b| key < b) {
                best = Some(key);
            }
        }
        match oldest {
            Some((i, queued_j)) if check_fifo && now_j >= queued_j + expire => Some(i),
            _ => best.map(|(_, i)| i),
        }
    }

    /// `cfq_dispatch_insert()` and the rest of `cfq_dispatch_requests()` for a request of queue
    /// `q` ending at sector `end`: it leaves the queue for the driver (`cfq_activate_request()`);
    /// an async queue that has dispatched its quota while others wait expires.
    pub fn dispatched(&mut self, q: usize, end: u64, now_j: u64) {
        self.idle_timer = None;
        let sync = self.queues[q].sync;
        let cfqq = &mut self.queues[q];
        cfqq.wait_request = false;
        cfqq.queued -= 1;
        cfqq.dispatched += 1;
        cfqq.slice_dispatch += 1;
        let (empty, slice_dispatch) = (cfqq.queued == 0, cfqq.slice_dispatch);
        if empty {
            // cfq_del_cfqq_rr(): off the tree; it may stay active.
            self.queues[q].on_rr = false;
            self.busy_queues -= 1;
        }
        self.rq_in_driver[usize::from(sync)] += 1;
        self.sync_flight += u32::from(sync);
        self.last_position = end;
        if self.busy_queues > 1 && !sync && slice_dispatch >= ASYNC_MAXRQ {
            self.queues[q].slice_end = now_j + 1;
            self.slice_expired(false, now_j);
        }
    }
}

/// Request arrival, completion and the idle timer.
impl Cfq {
    /// `cfq_insert_request()` → `cfq_rq_enqueued()`: a new request (not a merge) of `slot`'s task
    /// into queue `q`, starting at sector `pos` with `sectors`: the think time and seek distance
    /// of the task, its idle window, and the wake-up or preemption of the active queue.
    pub fn insert(&mut self, q: usize, slot: usize, pos: u64, sectors: u64, now_j: u64) {
        self.queues[q].queued += 1;
        if !self.queues[q].on_rr {
            self.add_rr(q, now_j);
        }
        self.update_io_thinktime(slot, now_j);
        self.update_io_seektime(slot, pos);
        self.update_idle_window(q, slot);
        self.queues[slot].cic.last_request_pos = pos + sectors;
        if self.active == Some(q) {
            if self.queues[q].wait_request {
                // Let it rip: the idle ends with the request it waited for.
                self.idle_timer = None;
            }
        } else if self.should_preempt(q, pos, now_j) {
            self.preempt_queue(q, now_j);
        }
    }

    /// `cfq_update_io_thinktime()`: decaying mean of the time from the task's last sync
    /// completion to its next request, capped at twice the idle.
    fn update_io_thinktime(&mut self, slot: usize, now_j: u64) {
        let cap = 2 * self.tunables.slice_idle;
        let cic = &mut self.queues[slot].cic;
        let t = now_j.saturating_sub(cic.last_end_request).min(cap);
        let (samples, total, _) = cic.ttime;
        let samples = (7 * samples + 256) / 8;
        let total = (7 * total + 256 * t) / 8;
        cic.ttime = (samples, total, (total + 128) / samples);
    }

    /// `cfq_update_io_seektime()`: decaying mean of the distance from the task's last request,
    /// each sample clamped so an odd far seek does not dominate.
    fn update_io_seektime(&mut self, slot: usize, pos: u64) {
        let cic = &mut self.queues[slot].cic;
        let (samples, total, mean) = cic.seek;
        let mut dist = pos.abs_diff(cic.last_request_pos);
        dist = if samples <= 60 {
            dist.min(mean * 4 + 2 * 1024 * 1024)
        } else {
            dist.min(mean * 4 + 2 * 1024 * 64)
        };
        let samples = (7 * samples + 256) / 8;
        let total = (7 * total + 256 * dist) / 8;
        cic.seek = (samples, total, (total + samples / 2) / samples);
    }

    /// `cfq_update_idle_window()`: a sync queue idles unless its task's mean think time exceeds
    /// the idle (2.6.32: seeky tasks lose it only without `low_latency` on a queueing device).
    fn update_idle_window(&mut self, q: usize, slot: usize) {
        if !self.queues[q].sync {
            return;
        }
        let (samples, _, mean) = self.queues[slot].cic.ttime;
        if self.tunables.slice_idle == 0 {
            self.queues[q].idle_window = false;
        } else if samples > SAMPLE_VALID {
            self.queues[q].idle_window = mean <= self.tunables.slice_idle;
        }
    }

    /// `cfq_should_preempt()`: a request of queue `q` at sector `pos` takes the disk from the
    /// active queue when that one's slice is used, when it is sync and the active queue is not,
    /// or when the active queue idles and the request is as close as its task's mean seek.
    fn should_preempt(&self, q: usize, pos: u64, now_j: u64) -> bool {
        let Some(active) = self.active else {
            return false;
        };
        if self.slice_used(active, now_j) {
            return true;
        }
        if self.queues[q].sync && !self.queues[active].sync {
            return true;
        }
        let a = &self.queues[active];
        if !a.wait_request {
            return false;
        }
        // cfq_rq_close(): within the active task's mean seek distance of the last request.
        let (samples, _, mean) = a.cic.seek;
        samples > SAMPLE_VALID && pos.abs_diff(self.last_position) <= mean
    }

    /// `cfq_preempt_queue()`: the active queue's slice ends (keeping its residual) and `q` goes
    /// to the front of the tree with a new slice.
    fn preempt_queue(&mut self, q: usize, now_j: u64) {
        self.slice_expired(true, now_j);
        self.service_tree_add(q, true, now_j);
        self.queues[q].slice_end = 0;
        self.queues[q].slice_new = true;
    }

    /// `cfq_completed_request()` for a request of queue `q` (`sync`: `rq_is_sync()`; `noidle`:
    /// `REQ_NOIDLE`, set on `WRITE_SYNC_PLUG` writes): the active queue's slice starts at its
    /// first completion and ends when used; an empty sync queue idles. `Some(jiffy)` when the
    /// idle timer was armed to fire then.
    pub fn completed(&mut self, q: usize, sync: bool, noidle: bool, now_j: u64) -> Option<u64> {
        let queue_sync = self.queues[q].sync;
        self.rq_in_driver[usize::from(sync)] -= 1;
        self.queues[q].dispatched -= 1;
        self.sync_flight -= u32::from(queue_sync);
        if sync {
            self.queues[q].cic.last_end_request = now_j;
            self.last_end_sync_rq = now_j;
        }
        if self.active != Some(q) {
            return None;
        }
        if self.queues[q].slice_new {
            let slice = self.prio_slice(queue_sync);
            let cfqq = &mut self.queues[q];
            cfqq.slice_end = now_j + slice;
            cfqq.slice_new = false;
        }
        if self.slice_used(q, now_j) {
            self.slice_expired(true, now_j);
            None
        } else if sync && self.queues[q].queued == 0 && !noidle {
            self.arm_slice_timer(q, now_j)
        } else {
            None
        }
    }

    /// `cfq_arm_slice_timer()`: idle for the active queue's next request unless the device
    /// needs no idling, the queue has no idle window or requests are still in the driver;
    /// `cfq_slice_idle`, or `CFQ_MIN_TT` for a seeky task.
    fn arm_slice_timer(&mut self, q: usize, now_j: u64) -> Option<u64> {
        let cfqq = &self.queues[q];
        if self.no_idle || !cfqq.idle_window || self.tunables.slice_idle == 0 {
            return None;
        }
        if self.rq_in_driver.iter().sum::<u32>() > 0 {
            return None;
        }
        let (samples, _, mean) = cfqq.cic.seek;
        let mut sl = self.tunables.slice_idle;
        if samples > SAMPLE_VALID && mean > SEEKY_SECTORS {
            sl = sl.min(self.tunables.min_tt);
        }
        self.queues[q].wait_request = true;
        let at = now_j + sl.max(1);
        self.idle_timer = Some(at);
        Some(at)
    }

    /// `cfq_idle_slice_timer()` at jiffy `now_j`: the active queue's idle ran out. It expires
    /// (unless nothing else is busy), or dispatches a request that arrived meanwhile.
    pub fn idle_slice_timer(&mut self, now_j: u64) {
        self.idle_timer = None;
        let mut timed_out = true;
        if let Some(q) = self.active {
            timed_out = false;
            if !self.slice_used(q, now_j) {
                if self.busy_queues == 0 {
                    return;
                }
                if self.queues[q].queued > 0 {
                    return;
                }
            }
        }
        self.slice_expired(timed_out, now_j);
    }

    /// Recounts the queues' request counts against the requests of the disk: `(queue,
    /// queued)` of every request queued and the queue of every request in the driver.
    pub fn check(&self, queued: &[usize], in_driver: &[(usize, bool)]) -> Result<(), String> {
        let mut q = vec![0u32; self.queues.len()];
        let mut d = vec![0u32; self.queues.len()];
        for &i in queued {
            q[i] += 1;
        }
        let mut by_sync = [0u32; 2];
        for &(i, sync) in in_driver {
            d[i] += 1;
            by_sync[usize::from(sync)] += 1;
        }
        for (i, cfqq) in self.queues.iter().enumerate() {
            if cfqq.queued != q[i] || cfqq.dispatched != d[i] || cfqq.on_rr != (q[i] > 0) {
                return Err(format!(
                    "cfq queue {i}: queued {} dispatched {} on_rr {} but {} queued, {} in the \
                     driver",
                    cfqq.queued, cfqq.dispatched, cfqq.on_rr, q[i], d[i]
                ));
            }
        }
        let busy = self.queues.iter().filter(|c| c.on_rr).count() as u32;
        if busy != self.busy_queues || by_sync != self.rq_in_driver {
            return Err(format!(
                "cfq: busy_queues {} rq_in_driver {:?} but {busy} on the tree, {by_sync:?} in \
                 the driver",
                self.busy_queues, self.rq_in_driver
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::{Disk, IoContext, ReqKind, Submit};

    const READER: Actor = Actor::Task(0);
    const FLUSHER: Actor = Actor::Flusher(0);

    /// A 100 MB/s disk of 128 requests, one at a time, under CFQ at HZ=1000 (slices of 100 and
    /// 40 jiffies, an idle of 8), or in insertion order.
    fn disk(cfq: bool) -> Disk {
        let mut d = crate::block::test_disk(128);
        if cfq {
            d.use_cfq(1000);
        }
        d
    }

    /// A new request of one page by `actor` at jiffy `j` (blocks apart: no merging).
    fn put(d: &mut Disk, kind: ReqKind, lba: u64, actor: Actor, j: u64) {
        let mut ioc = IoContext::default();
        assert_eq!(
            d.submit(kind, lba, lba as u32, &mut ioc, j, 20),
            Submit::Queued
        );
        d.enqueued(actor, j);
    }

    /// Ten flusher writes queued at jiffy 0, the first one dispatched.
    fn writes_queued(cfq: bool) -> Disk {
        let mut d = disk(cfq);
        for i in 0..10 {
            put(&mut d, ReqKind::Write, i * 1000, FLUSHER, 0);
        }
        d.dispatch(0, 0, 0).expect("an idle disk dispatches");
        d
    }

    /// Completes the request in flight at jiffy `j` and dispatches the next one: what it is,
    /// and when CFQ's idle timer fires if it was armed.
    fn next(d: &mut Disk, j: u64) -> (Option<ReqKind>, Option<u64>) {
        let done = d.complete(j);
        d.recycle(done.request.pages);
        d.dispatch(j * 1_000_000, j, 0);
        (d.in_flight.first().map(|(_, _, r)| r.kind), done.idle_timer)
    }

    /// The blocks of the requests `d` dispatches, completing each at jiffy `j`.
    fn dispatched_blocks(d: &mut Disk, n: usize, j: u64) -> Vec<u64> {
        let mut blocks = vec![d.in_flight[0].2.lba];
        while blocks.len() < n {
            next(d, j);
            blocks.push(d.in_flight[0].2.lba);
        }
        blocks
    }

    #[test]
    fn inside_a_queue_cfq_writes_in_sector_order_from_the_head_then_wraps_to_the_lowest() {
        let mut d = disk(true);
        for lba in [50_000, 10_000, 40_000, 20_000, 30_000] {
            put(&mut d, ReqKind::Write, lba, FLUSHER, 0);
        }
        d.dispatch(0, 0, 0);
        assert_eq!(
            d.in_flight[0].2.lba, 10_000,
            "the nearest ahead of sector 0"
        );
        // Behind the head: 1 001 pages (8 008 sectors, within cfq_back_max) costs 16 016,
        // less than the 79 992 sectors forward to 20 000; 4 000 stays more than 4 096 pages
        // (16 MiB) behind the head from then on: a wrap, taken last.
        put(&mut d, ReqKind::Write, 9_000, FLUSHER, 1);
        put(&mut d, ReqKind::Write, 4_000, FLUSHER, 1);
        let order = dispatched_blocks(&mut d, 7, 2);
        assert_eq!(
            order,
            [10_000, 9_000, 20_000, 30_000, 40_000, 50_000, 4_000],
            "arrival order would be 50 000, 10 000, 40 000, ..."
        );
    }

    #[test]
    fn once_per_slice_a_request_older_than_the_fifo_expiry_goes_before_the_nearer_ones() {
        let mut d = disk(true);
        put(&mut d, ReqKind::Write, 200_000, FLUSHER, 0);
        put(&mut d, ReqKind::Write, 1_000, FLUSHER, 0);
        d.dispatch(0, 0, 0);
        // A stream of writes just ahead of the head, one a jiffy: each is nearer than the
        // old request, which goes only when a new slice of the async queue finds it
        // `cfq_fifo_expire[ASYNC]` = HZ/4 = 250 jiffies old.
        let mut served = None;
        for j in 1..400 {
            put(&mut d, ReqKind::Write, 1_000 + j * 10, FLUSHER, j);
            next(&mut d, j);
            if d.in_flight[0].2.lba == 200_000 {
                served = Some(j);
                break;
            }
        }
        let j = served.expect("the old request waited for the whole stream");
        assert!((250..=250 + 40 + 1).contains(&j), "served at jiffy {j}");
    }

    #[test]
    fn a_read_preempts_the_async_slice_and_is_served_before_the_writes_queued_ahead_of_it() {
        for cfq in [true, false] {
            let mut d = writes_queued(cfq);
            put(&mut d, ReqKind::Read { task: 0 }, 500_000, READER, 1);
            let (kind, _) = next(&mut d, 2);
            let expected = if cfq {
                ReqKind::Read { task: 0 }
            } else {
                ReqKind::Write
            };
            assert_eq!(kind, Some(expected), "cfq {cfq}");
        }
    }

    #[test]
    fn after_a_read_cfq_idles_for_the_same_tasks_next_read_instead_of_serving_the_writes() {
        let mut d = writes_queued(true);
        put(&mut d, ReqKind::Read { task: 0 }, 500_000, READER, 1);
        next(&mut d, 2); // the write in flight ends; the read goes
        let (kind, timer) = next(&mut d, 3); // the read ends: CFQ idles, the writes wait
        assert_eq!((kind, timer), (None, Some(3 + 8)));
        put(&mut d, ReqKind::Read { task: 0 }, 500_008, READER, 5);
        d.dispatch(5_000_000, 5, 0);
        assert_eq!(d.in_flight[0].2.kind, ReqKind::Read { task: 0 });
        // Its next idle runs out: the timer expires the reader's slice and the writes go.
        let (kind, timer) = next(&mut d, 6);
        assert_eq!((kind, timer), (None, Some(6 + 8)));
        d.cfq_mut().unwrap().idle_slice_timer(14);
        d.dispatch(14_000_000, 14, 0);
        assert_eq!(d.in_flight[0].2.kind, ReqKind::Write);
    }

    #[test]
    fn an_async_slice_ends_after_sixteen_requests_while_a_sync_queue_waits() {
        // A disk without seeks: 16 one-page writes take well under the 40-jiffy async slice,
        // so only `cfq_prio_to_maxrq()` ends it.
        let mut d = disk(false);
        d.spec.seek_ns = 0;
        d.use_cfq(1000);
        put(&mut d, ReqKind::Read { task: 0 }, 500_000, READER, 0);
        for i in 0..30 {
            put(&mut d, ReqKind::Write, i * 10, FLUSHER, 0);
        }
        d.dispatch(0, 0, 0);
        // The reader asks for its next page as each ends, for its 100-jiffy slice; a second
        // reader queues meanwhile (sync queues do not preempt each other), keyed after the
        // async queue.
        let mut j = 0;
        loop {
            j += 1;
            put(&mut d, ReqKind::Read { task: 0 }, 500_000 + j, READER, j);
            if j == 70 {
                put(
                    &mut d,
                    ReqKind::Read { task: 1 },
                    900_000,
                    Actor::Task(1),
                    j,
                );
            }
            if next(&mut d, j).0 == Some(ReqKind::Write) {
                break;
            }
            assert!(j < 200, "the writes never got the disk");
        }
        let mut writes = 0;
        while d.in_flight[0].2.kind == ReqKind::Write {
            writes += 1;
            next(&mut d, j);
            assert!(writes <= 30, "no reader got the disk back");
        }
        assert_eq!(
            writes, 16,
            "the async slice's requests while readers waited"
        );
        assert!(d.in_flight[0].2.kind.is_read());
    }

    #[test]
    fn a_queueing_device_without_seeks_never_idles() {
        // `blk_queue_nonrot() && hw_tag`: a latency device serving 32 requests at once, against
        // the rotating disk of one.
        let mut idles = vec![];
        for (seek_ns, depth) in [(0, 32), (8_000_000, 1)] {
            let mut d = disk(false);
            (d.spec.seek_ns, d.spec.queue_depth, d.spec.latency_ns) = (seek_ns, depth, 100_000);
            d.use_cfq(1000);
            put(&mut d, ReqKind::Read { task: 0 }, 500_000, READER, 0);
            d.dispatch(0, 0, 0).expect("an idle disk dispatches");
            let (kind, timer) = next(&mut d, 1); // the read ends, nothing else queued
            assert_eq!(kind, None);
            idles.push(timer);
        }
        assert_eq!(idles, [None, Some(1 + 8)], "only the rotating disk idles");
    }

    #[test]
    fn a_task_that_thinks_longer_than_the_idle_loses_its_idle_window() {
        let mut d = writes_queued(true);
        let mut j = 1;
        // Each read is asked for 20 jiffies after the last one ended (the idle is 8).
        for i in 0..6 {
            put(
                &mut d,
                ReqKind::Read { task: 0 },
                500_000 + i * 8,
                READER,
                j,
            );
            while d.in_flight.first().map(|(_, _, r)| r.kind) != Some(ReqKind::Read { task: 0 }) {
                j += 1;
                assert!(j < 10_000, "the read is never served");
                if d.in_flight.is_empty() {
                    d.cfq_mut().unwrap().idle_slice_timer(j);
                    d.dispatch(j * 1_000_000, j, 0);
                } else {
                    next(&mut d, j);
                }
            }
            j += 1;
            let (_, timer) = next(&mut d, j);
            if i == 5 {
                assert_eq!(timer, None, "a slow thinker still idles");
            } else if i == 0 {
                assert!(timer.is_some(), "a new sync queue idles");
            }
            j += 20;
        }
    }

    #[test]
    fn the_writes_get_the_disk_back_when_a_busy_readers_sync_slice_ends() {
        let mut d = writes_queued(true);
        put(&mut d, ReqKind::Read { task: 0 }, 500_000, READER, 1);
        let mut j = 2;
        next(&mut d, j);
        // The reader asks for its next page the moment one ends: it keeps the disk for its
        // 100-jiffy slice, counted from its first completion (jiffy 3), and then the async
        // queue (keyed earlier on the service tree) dispatches.
        let mut lba = 500_001;
        loop {
            j += 1;
            put(&mut d, ReqKind::Read { task: 0 }, lba, READER, j);
            lba += 1;
            let (kind, _) = next(&mut d, j);
            if kind == Some(ReqKind::Write) {
                break;
            }
            assert!(j < 200, "the writes starve");
        }
        assert_eq!(j, 3 + 100);
    }
}
