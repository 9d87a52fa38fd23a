//! `anon`: private memory faulted in at `rate` up to `size` (`do_anonymous_page()`: a new page on
//! the active anon list), or kernel memory allocated on the task's behalf with `GFP_KERNEL`
//! (socket buffers and the like: on no LRU); with `cycle`, freed all at once after `hold` and
//! faulted again, forever (reclaim-oom §11, §14). With `touch_interval` (and `hot_size`), the
//! task keeps referencing its memory, as a session touches its PGA work areas (`mm/hot.rs`).

use serde::Serialize;

use super::{KindInfo, Progress, TaskKeys, WorkingSet, Workload};
use crate::mm::hot::Region;
use crate::mm::page::pg;
use crate::mm::task::Slice;
use crate::mm::{gfp, Machine};
use crate::sim::SimTime;
use crate::spec::MAX_VM_BYTES;

/// The kind's keys.
pub const KIND: KindInfo = KindInfo {
    kind: "anon",
    required: &["size", "rate"],
    optional: &["hold", "cycle", "gfp", "touch_interval", "hot_size"],
};

/// The allocation class of an `anon` task's pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum AnonGfp {
    /// Page faults on private memory: GFP_HIGHUSER_MOVABLE (hardwall, may invoke the OOM killer).
    HighuserMovable,
    /// Kernel allocations on the task's behalf (socket buffers, …): GFP_KERNEL (softwall).
    Kernel,
}

impl AnonGfp {
    /// Every class, the default first.
    pub const ALL: [AnonGfp; 2] = [AnonGfp::HighuserMovable, AnonGfp::Kernel];

    /// The name used in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            AnonGfp::HighuserMovable => "highuser_movable",
            AnonGfp::Kernel => "kernel",
        }
    }

    /// Every name, in [`AnonGfp::ALL`] order.
    pub fn names() -> Vec<&'static str> {
        AnonGfp::ALL.iter().map(|g| g.name()).collect()
    }

    /// The gfp mask.
    pub fn mask(self) -> u32 {
        match self {
            AnonGfp::HighuserMovable => gfp::GFP_HIGHUSER_MOVABLE,
            AnonGfp::Kernel => gfp::GFP_KERNEL,
        }
    }
}

/// An `anon` task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Anon {
    /// Target resident size, bytes.
    pub bytes: u64,
    /// Fault-in rate, bytes per second.
    pub rate_bytes_per_sec: u64,
    /// Time to hold the memory once the target is reached before freeing it (cycle only).
    pub hold_ns: u64,
    /// Free and allocate again, forever.
    pub cycle: bool,
    /// The allocation class.
    pub gfp: AnonGfp,
    /// The working set touched again after its fault (`mm/hot.rs`).
    pub working_set: Option<WorkingSet>,
}

/// How far the filling is.
#[derive(Clone, Copy, Debug)]
pub struct State {
    /// Target pages.
    pub target: u64,
    /// When this fill phase started.
    pub phase_start: SimTime,
    /// Holding until this time, then freeing (cycle).
    pub hold_until: Option<SimTime>,
}

/// `size`, `rate`, `hold` (0), `cycle` (false), `gfp` (`highuser_movable`).
pub fn parse<K: TaskKeys + ?Sized>(keys: &mut K) -> Result<Anon, K::Error> {
    let (bytes, rate) = keys.size_and_rate(
        MAX_VM_BYTES,
        "a task's memory is at most 128TiB (the x86_64 user address space)",
    )?;
    let hold_ns = keys.duration("hold")?.unwrap_or(0);
    let cycle = keys.flag("cycle")?.unwrap_or(false);
    let gfp = keys
        .choice("gfp", &AnonGfp::names())?
        .map_or(AnonGfp::HighuserMovable, |i| AnonGfp::ALL[i]);
    let working_set = keys.working_set(
        bytes,
        (gfp == AnonGfp::Kernel).then_some(
            "`gfp = \"kernel\"` memory is on no LRU list: reclaim never tests its references; \
             expected `touch_interval` only on `highuser_movable` memory",
        ),
    )?;
    Ok(Anon {
        bytes,
        rate_bytes_per_sec: rate,
        hold_ns,
        cycle,
        gfp,
        working_set,
    })
}

impl Workload for Anon {
    fn start(&self, m: &mut Machine, t: usize) -> Progress {
        if let Some(w) = self.working_set {
            w.register(m, t, None);
        }
        Progress::Anon(State {
            target: m.granularity.pages_ceil(self.bytes),
            phase_start: m.clock.now,
            hold_until: None,
        })
    }

    fn slice(&self, m: &mut Machine, t: usize) -> Slice {
        m.anon_slice(t, self)
    }
}

impl Machine {
    /// One slice of faults, paced; at the target, hold (then free and start over) or finish.
    fn anon_slice(&mut self, t: usize, a: &Anon) -> Slice {
        let Progress::Anon(mut st) = self.tasks[t].progress else {
            unreachable!("an anon task's progress")
        };
        if let Some(r) = self.anon_swap_in(t, &st) {
            return r;
        }
        if let Some(until) = st.hold_until {
            if self.clock.now < until {
                return self.sleep_until(t, self.wake_by(Region::Task(t), until));
            }
            self.free_task_memory(t);
            st.hold_until = None;
            st.phase_start = self.clock.now;
        }
        let gfp_mask = a.gfp.mask();
        let mut r = Slice::Yield;
        let mut left = self.slice_pages();
        while left > 0 {
            if let Some(r) = self.anon_swap_in(t, &st) {
                return r;
            }
            let have = self.tasks[t].anon.len() as u64 + self.tasks[t].swap_ents;
            if have >= st.target {
                if a.cycle {
                    st.hold_until = Some(self.clock.now + a.hold_ns);
                    self.tasks[t].progress = Progress::Anon(st);
                    return self
                        .sleep_until(t, self.wake_by(Region::Task(t), self.clock.now + a.hold_ns));
                }
                if a.working_set.is_some() {
                    // It lives on, touching its working set: it wakes for its swap-in faults.
                    self.tasks[t].progress = Progress::Anon(st);
                    return self.sleep_touching(t, Region::Task(t));
                }
                r = Slice::Finished;
                break;
            }
            let at = self.paced(t, st.phase_start, have, a.rate_bytes_per_sec);
            let at = self.wake_by(Region::Task(t), at);
            if self.clock.now < at {
                if self.wake_inline(t, at) {
                    left = self.slice_pages(); // as the next slice would
                    continue;
                }
                self.tasks[t].progress = Progress::Anon(st);
                return self.sleep_until(t, at);
            }
            let Some(id) = self.task_alloc(t, gfp_mask) else {
                r = Slice::Sleeping;
                break;
            };
            self.stats.vm_events.pgfault += 1;
            match a.gfp {
                AnonGfp::HighuserMovable => self.fault_anon_page(t, id),
                AnonGfp::Kernel => {
                    let slot = self.tasks[t].anon.len() as u32;
                    self.tasks[t].anon.push(id);
                    let p = &mut self.mem.pages[id as usize];
                    p.flags = pg::KERNEL;
                    p.owner = t as u32;
                    p.index = slot;
                    let zid = p.zone as usize;
                    self.mem.zones[zid].stat.nr_kernel += 1;
                }
            }
            self.tasks[t].done_bytes += self.granularity.page_bytes();
            left -= 1;
        }
        self.tasks[t].progress = Progress::Anon(st);
        r
    }

    /// The swap-in fault of a hot page the task owes now or is in (`mm/swap_state.rs`): the
    /// slice's end if it sleeps in it.
    #[inline]
    fn anon_swap_in(&mut self, t: usize, st: &State) -> Option<Slice> {
        if !self.mem.hot.any() {
            return None; // no hot memory: nothing is ever faulted back
        }
        let r = self.swap_in(t, Region::Task(t));
        if r.is_some() {
            self.tasks[t].progress = Progress::Anon(*st);
        }
        r
    }
}
