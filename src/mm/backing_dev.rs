//! The machine's dirty and writeback state (`include/linux/backing-dev.h`, the globals of
//! `mm/page-writeback.c`): the backing devices, the floating proportions of writeout and
//! dirtying, the per-CPU rate limits and the dirty limit; and the congestion wait queue of
//! `mm/backing-dev.c` (`congestion_wait()`, woken when a queue leaves congestion).

use super::fs_writeback::Bdi;
use super::page_writeback::Prop;
use super::sched::Actor;
use super::Machine;
use crate::sim::SimTime;

/// Dirty pages and their writeback, machine-wide.
pub struct Writeback {
    /// One backing device (and flusher) per disk.
    pub bdis: Vec<Bdi>,
    /// Share of recent writeback completions per bdi.
    pub bdi_prop: Prop,
    /// Share of recent page dirtyings per task.
    pub task_prop: Prop,
    /// Per-CPU `bdp_ratelimits`.
    pub bdp_ratelimits: Vec<u64>,
    /// `ratelimit_pages`, simulated pages.
    pub ratelimit_pages: u64,
    /// `global_dirty_limit` [3.2+]: the hard limit, which descends slowly.
    pub global_dirty_limit: u64,
    /// When `global_update_bandwidth()` last moved it (its static `update_time`).
    pub dirty_limit_stamp: SimTime,
    /// The sum of every zone's `dirty_balance_reserve` [3.3+] (fixed at boot).
    pub dirty_balance_reserve: u64,
    /// Actors sleeping in `congestion_wait(BLK_RW_ASYNC, …)`, woken when a queue uncongests.
    pub congestion_waiters: Vec<Actor>,
    /// [3.11+] ext4's unwritten-extent io_ends (`dioread_nolock`).
    pub io_ends: super::ext4_io_end::IoEnds,
}

impl Machine {
    /// `congestion_wait(BLK_RW_ASYNC, timeout)`: sleep until `timeout` passes or any queue
    /// leaves async congestion (`clear_bdi_congested` wakes every sleeper).
    pub fn congestion_wait(&mut self, actor: Actor, timeout: SimTime, cpu_ns: SimTime) {
        if !self.wb.congestion_waiters.contains(&actor) {
            self.wb.congestion_waiters.push(actor);
        }
        self.schedule(self.clock.now + cpu_ns + timeout, actor);
    }

    /// Wakes every `congestion_wait` sleeper now (a queue uncongested).
    pub fn wake_congestion_waiters(&mut self) {
        let waiters = std::mem::take(&mut self.wb.congestion_waiters);
        for a in waiters {
            self.schedule(self.clock.now, a);
        }
    }

    /// Removes an actor from the congestion waiters (it woke by timeout).
    pub fn leave_congestion_wait(&mut self, actor: Actor) {
        self.wb.congestion_waiters.retain(|&a| a != actor);
    }
}
