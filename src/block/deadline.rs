//! mq-deadline, the blk-mq default for a single-queue disk (block/mq-deadline.c, 4.11 on; the
//! `io_scheduler` switch's `mq-deadline`, the 5.6 and later profiles), the legacy deadline
//! scheduler's algorithm (block/deadline-iosched.c) on blk-mq.
//!
//! Requests are kept per data direction (reads, writes — a `WRITE_SYNC` write is a write) in
//! sector order and in arrival order. `dd_dispatch_request()` → `__dd_dispatch_request()`:
//! while a batch lasts (`fifo_batch` = 16 requests) it goes on in sector order from the last
//! request dispatched; a new batch prefers reads, unless writes have been passed over
//! `writes_starved` = 2 times; within the chosen direction it restarts from the oldest request
//! when that one's deadline has passed (`read_expire` HZ/2, `write_expire` 5·HZ) or nothing lies
//! further in sector order, else it goes on from the last position. Not modelled: front merges
//! (the model merges at the back only), the dispatch list of flushes and passthrough requests,
//! and 5.14's priority levels (every request is of one class).

use std::collections::VecDeque;

use super::Request;

/// `fifo_batch`: requests dispatched in one direction before the direction is chosen again.
const FIFO_BATCH: u32 = 16;
/// `writes_starved`: read batches that may pass over waiting writes.
const WRITES_STARVED: u32 = 2;
/// Data directions (`rq_data_dir()`).
const READ: usize = 0;
/// Writes.
const WRITE: usize = 1;

/// One disk's mq-deadline state (`struct deadline_data`).
#[derive(Clone, Debug, Default)]
pub struct Deadline {
    /// `batching`: requests dispatched in the current batch.
    pub batching: u32,
    /// `starved`: read batches chosen while writes waited.
    pub starved: u32,
    /// The direction and block of the last request dispatched (`next_rq[dir]` is its successor
    /// in sector order; the other direction's is `NULL`).
    pub last: Option<(usize, u64)>,
    /// `fifo_expire[READ]`, `fifo_expire[WRITE]`, jiffies.
    pub expire: [u64; 2],
}

/// `rq_data_dir()` of a request.
fn data_dir(r: &Request) -> usize {
    if r.kind.is_read() {
        READ
    } else {
        WRITE
    }
}

impl Deadline {
    /// The defaults at `hz` ticks per second (`read_expire = HZ / 2`, `write_expire = 5 * HZ`).
    pub fn new(hz: u64) -> Deadline {
        Deadline {
            expire: [hz / 2, 5 * hz],
            ..Deadline::default()
        }
    }

    /// `deadline_latter_request()` of the last request: the queued request of direction `dir`
    /// at the lowest block after it.
    fn next_rq(&self, queue: &VecDeque<Request>, dir: usize) -> Option<usize> {
        let (d, lba) = self.last?;
        if d != dir {
            return None;
        }
        (0..queue.len())
            .filter(|&i| data_dir(&queue[i]) == dir && queue[i].lba > lba)
            .min_by_key(|&i| (queue[i].lba, i))
    }

    /// `deadline_fifo_request()`: the oldest queued request of direction `dir`.
    fn fifo_request(queue: &VecDeque<Request>, dir: usize) -> Option<usize> {
        queue.iter().position(|r| data_dir(r) == dir)
    }

    /// `__dd_dispatch_request()`: the index in `queue` of the request to dispatch at jiffy
    /// `now_j`, its state moved on (`deadline_move_request()`).
    pub fn dispatch_index(&mut self, queue: &VecDeque<Request>, now_j: u64) -> Option<usize> {
        let last_dir = self.last.map(|(d, _)| d);
        let pick = match last_dir.and_then(|d| self.next_rq(queue, d)) {
            Some(i) if self.batching < FIFO_BATCH => i,
            _ => self.new_batch(queue, now_j)?,
        };
        self.batching += 1;
        self.last = Some((data_dir(&queue[pick]), queue[pick].lba));
        Some(pick)
    }

    /// A new batch: reads first unless writes were starved long enough; from the oldest request
    /// when its deadline passed or nothing lies further in sector order.
    fn new_batch(&mut self, queue: &VecDeque<Request>, now_j: u64) -> Option<usize> {
        let reads = Self::fifo_request(queue, READ);
        let writes = Self::fifo_request(queue, WRITE);
        let dir = match (reads, writes) {
            (Some(_), Some(_)) if self.starved >= WRITES_STARVED => WRITE,
            (Some(_), w) => {
                self.starved += u32::from(w.is_some());
                READ
            }
            (None, Some(_)) => WRITE,
            (None, None) => return None,
        };
        if dir == WRITE {
            self.starved = 0;
        }
        let oldest = Self::fifo_request(queue, dir)?;
        let expired = now_j >= queue[oldest].queued_j + self.expire[dir];
        self.batching = 0;
        Some(match self.next_rq(queue, dir) {
            Some(next) if !expired => next,
            _ => oldest,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::block::{Disk, IoContext, ReqKind, Submit};
    use crate::mm::Actor;

    /// A 100 MB/s disk of 128 requests under mq-deadline at HZ=1000 (expiry 500 and 5000
    /// jiffies).
    fn disk() -> Disk {
        let mut d = crate::block::test_disk(128);
        d.use_deadline(1000);
        d
    }

    /// A one-page request at block `lba`, queued at jiffy `j` (blocks apart: no merging).
    fn put(d: &mut Disk, kind: ReqKind, lba: u64, j: u64) {
        let mut ioc = IoContext::default();
        assert_eq!(
            d.submit(kind, lba, lba as u32, &mut ioc, j, 20),
            Submit::Queued
        );
        d.enqueued(Actor::Task(0), j);
    }

    /// Dispatches and completes `n` requests at jiffy `j`: their kinds and blocks, in order.
    fn serve(d: &mut Disk, n: usize, j: u64) -> Vec<(bool, u64)> {
        (0..n)
            .map_while(|_| {
                d.dispatch(j * 1_000_000, j, 0)?;
                let r = d.complete(j).request;
                Some((r.kind.is_read(), r.lba))
            })
            .collect()
    }

    const READ: ReqKind = ReqKind::Read { task: 0 };

    #[test]
    fn a_new_batch_takes_the_reads_before_the_writes_queued_ahead_of_them() {
        let mut d = disk();
        for i in 0..4 {
            put(&mut d, ReqKind::Write, 1000 + i * 10, 0);
        }
        put(&mut d, READ, 50_000, 1);
        assert_eq!(serve(&mut d, 1, 2), [(true, 50_000)]);
    }

    #[test]
    fn a_batch_goes_on_in_sector_order_for_sixteen_requests_before_a_read() {
        let mut d = disk();
        for i in 0..20 {
            put(&mut d, ReqKind::Write, 1000 + i * 10, 0);
        }
        assert_eq!(serve(&mut d, 1, 0), [(false, 1000)]);
        // A read arriving in the write batch waits for the batch's 16 requests.
        put(&mut d, READ, 50_000, 0);
        let batch = serve(&mut d, 15, 0);
        let expected: Vec<(bool, u64)> = (1..16).map(|i| (false, 1000 + i * 10)).collect();
        assert_eq!(batch, expected);
        assert_eq!(serve(&mut d, 1, 0), [(true, 50_000)]);
    }

    #[test]
    fn waiting_writes_get_a_batch_after_two_read_batches() {
        let mut d = disk();
        put(&mut d, ReqKind::Write, 1000, 0);
        for i in 0..40 {
            put(&mut d, READ, 50_000 + i * 10, 0);
        }
        // Two batches of 16 reads pass the write over, then the write goes.
        let order = serve(&mut d, 33, 1);
        assert!(order[..32].iter().all(|&(read, _)| read));
        assert_eq!(order[32], (false, 1000));
    }

    #[test]
    fn an_expired_read_restarts_the_batch_from_the_oldest_read() {
        let mut d = disk();
        put(&mut d, READ, 90_000, 0);
        for i in 0..3 {
            put(&mut d, READ, 10_000 + i * 10, 600);
        }
        // The read at 90 000 went first (oldest); past its successor in sector order lies
        // nothing, and at jiffy 600 the oldest remaining (queued at 600) has not expired: the
        // new batch starts from the oldest.
        assert_eq!(serve(&mut d, 1, 600), [(true, 90_000)]);
        put(&mut d, READ, 95_000, 601);
        // A batch goes on upwards from 90 000 to 95 000 before the older reads below it ...
        assert_eq!(serve(&mut d, 1, 601), [(true, 95_000)]);
        // ... unless the oldest read's deadline has passed (HZ/2 after jiffy 600).
        put(&mut d, READ, 99_000, 1100);
        let crate::block::Scheduler::Deadline(dd) = &mut d.scheduler else {
            unreachable!("the test disk runs mq-deadline")
        };
        dd.batching = 16; // the batch is used up
        assert_eq!(serve(&mut d, 1, 1100), [(true, 10_000)]);
    }
}
