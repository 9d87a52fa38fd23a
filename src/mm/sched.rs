//! Who runs kernel code (`include/linux/sched.h`): the task flags the model uses (`PF_*`), the
//! actors (user tasks and the kernel threads: kswapd, the flushers, the journal), and how an actor
//! is put to sleep and woken: one pending wake-up per actor, superseded by a newer generation.

use super::event::Event;
use super::Machine;
use crate::sim::SimTime;

/// Task flags the model uses (`PF_*`).
pub mod pf {
    /// `PF_MEMALLOC`: in reclaim (direct or kswapd); may use the reserves.
    pub const MEMALLOC: u32 = 0x800;
    /// `PF_KSWAPD`.
    pub const KSWAPD: u32 = 0x40000;
    /// `PF_SWAPWRITE`: may write to congested queues.
    pub const SWAPWRITE: u32 = 0x80_0000;
    /// `PF_FLUSHER` (2.6.32 include/linux/sched.h `0x00001000`): a bdi flusher thread.
    /// `bdi_start_fn()` sets it with `PF_SWAPWRITE` (mm/backing-dev.c 2.6.32), and nothing
    /// else: not `PF_MEMALLOC`, so the flusher's own allocations obey the watermarks.
    pub const FLUSHER: u32 = 0x1000;
}

/// Who is running kernel code: the context `pageout()` and `->writepage` see.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Actor {
    /// A user task (by index), possibly in direct reclaim.
    Task(usize),
    /// The kswapd of a node.
    Kswapd(usize),
    /// The flusher thread of a bdi.
    Flusher(usize),
    /// The journal thread (kjournald) of a mount.
    Journal(usize),
    /// The `ext4-rsv-conversion` work of a mount (`ext4_end_io_rsv_work`, `ext4_io_end.rs`).
    Ext4Rsv(usize),
}

impl Machine {
    /// Schedules `actor` to run at `at`, superseding any earlier wake-up of it.
    pub fn schedule(&mut self, at: SimTime, actor: Actor) {
        let gen = self.bump_gen(actor);
        self.clock
            .queue
            .schedule(at.max(self.clock.now), Event::run(actor, gen));
    }

    /// Advances an actor's generation: its older pending `Run` events become stale (it now waits
    /// for an explicit wake-up).
    pub fn bump_gen(&mut self, actor: Actor) -> u32 {
        let g = match actor {
            Actor::Task(t) => &mut self.tasks[t].gen,
            Actor::Kswapd(n) => &mut self.mem.nodes[n].kswapd.gen,
            Actor::Flusher(b) => &mut self.wb.bdis[b].gen,
            Actor::Journal(m) => &mut self.vfs.mounts[m].journal.gen,
            Actor::Ext4Rsv(m) => &mut self.wb.io_ends.worker_mut(m).gen,
        };
        *g = g.wrapping_add(1);
        *g
    }

    /// The current generation of an actor.
    pub(crate) fn gen_of(&self, actor: Actor) -> u32 {
        match actor {
            Actor::Task(t) => self.tasks[t].gen,
            Actor::Kswapd(n) => self.mem.nodes[n].kswapd.gen,
            Actor::Flusher(b) => self.wb.bdis[b].gen,
            Actor::Journal(m) => self.vfs.mounts[m].journal.gen,
            Actor::Ext4Rsv(m) => self.wb.io_ends.worker_gen(m),
        }
    }

    /// PF flags of an actor, as `->writepage` sees `current->flags`.
    pub fn actor_pf(&self, actor: Actor) -> u32 {
        match actor {
            Actor::Task(t) => self.tasks[t].pf,
            Actor::Kswapd(_) => pf::MEMALLOC | pf::SWAPWRITE | pf::KSWAPD,
            Actor::Flusher(_) => pf::FLUSHER | pf::SWAPWRITE,
            Actor::Journal(_) | Actor::Ext4Rsv(_) => 0,
        }
    }

    /// Charges CPU time to any actor.
    pub fn charge_actor(&mut self, actor: Actor, ns: u64) {
        match actor {
            Actor::Task(t) => self.tasks[t].pending_cpu_ns += ns,
            Actor::Kswapd(n) => self.mem.nodes[n].kswapd_cpu_ns += ns,
            Actor::Flusher(b) => self.wb.bdis[b].cpu_ns += ns,
            Actor::Journal(m) => self.vfs.mounts[m].journal.cpu_ns += ns,
            Actor::Ext4Rsv(m) => self.wb.io_ends.worker_mut(m).cpu_ns += ns,
        }
    }
}
