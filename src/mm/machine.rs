//! The whole simulated machine, in the parts the kernel has: memory (`Memory`: pages, zones,
//! nodes, swap), tasks, the VFS (`Vfs`: mounts, files, segments), the dirty/writeback state
//! (`Writeback`: bdis, proportions, limits), the block layer (`BlockLayer`: disks), statistics
//! (`Stats`), the clock and event queue (`Clock`), and the run's verdict (`RunState`); plus the
//! run's input and rules. Handlers are `impl Machine` blocks named after the kernel functions
//! they mirror, spread over the files of `mm/` (and `fs/`, `block.rs`) the way the kernel
//! spreads them.

use super::backing_dev::Writeback;
use super::event::Clock;
use super::granularity::Granularity;
use super::invariants::Tracker;
use super::memory::Memory;
use super::options::Options;
use super::pool;
use super::task::Task;
use super::vmstat::Stats;
use crate::block::BlockLayer;
use crate::fs::Vfs;
use crate::kernel::Switches;
use crate::outcome::{OomReport, Outcome};
use crate::sim::SimTime;
use crate::spec::{Policy, Release, RunSpec};

/// The whole simulated machine.
pub struct Machine {
    /// The run's input.
    pub spec: RunSpec,
    /// The release whose output formats apply (rules are `switches`).
    pub release: Release,
    /// The rules in force (`crate::kernel`).
    pub switches: Switches,
    /// The refusal policy: read only through `refusal_policy()`, which counts the reads.
    policy: Policy,
    /// Engine options.
    pub options: Options,
    /// The simulated page: every count of pages is of simulated pages; kernel constants (in
    /// 4 KiB pages or bytes) are converted where they are used (`granularity.rs`).
    pub granularity: Granularity,
    /// The clock and the event queue.
    pub clock: Clock,
    /// Pages, zones, nodes, swap.
    pub mem: Memory,
    /// Every task.
    pub tasks: Vec<Task>,
    /// Mounts, files, segments.
    pub vfs: Vfs,
    /// Backing devices, dirty limits and proportions, congestion waits.
    pub wb: Writeback,
    /// Disks.
    pub io: BlockLayer,
    /// Slab caches and shrinkers.
    pub slab: super::slab::Slab,
    /// Event and run counters.
    pub stats: Stats,
    /// The verdict and what decides it.
    pub run: RunState,
    /// The swap token (`mm/thrash.c`).
    pub swap_token: super::thrash::SwapToken,
    /// The observer (a `crate::probe::Probe`: `--timeline`, `explain`…): `None` costs nothing.
    pub probe: Option<Box<dyn crate::probe::Probe>>,
    /// What the page-free path and the event loop record for the invariant checker.
    pub tracker: Tracker,
    /// Told the simulated time every 65 536 events (a progress bar); `None` costs nothing.
    pub progress: Option<Box<dyn FnMut(SimTime)>>,
}

/// The run's verdict and the bookkeeping that decides it.
#[derive(Debug, Default)]
pub struct RunState {
    /// The run's verdict, once reached.
    pub outcome: Option<Outcome>,
    /// The report of every OOM-killer decision so far.
    pub oom_reports: Vec<OomReport>,
    /// Finite tasks (writers, readers, truncates) not finished yet.
    pub unfinished: usize,
    /// A finite task was killed.
    pub killed_finite: bool,
    /// How many times the policy decided something (see `RunResult::policy_decisions`).
    pub policy_decisions: u64,
}

impl Drop for Machine {
    /// The page array and the free stacks go back to this thread's pool for the next machine.
    fn drop(&mut self) {
        pool::give_pages(std::mem::take(&mut self.mem.pages));
        for z in &mut self.mem.zones {
            pool::give_ids(std::mem::take(&mut z.free));
        }
    }
}

impl Machine {
    /// Assembles a machine from its parts (`boot.rs` builds them).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn assemble(
        spec: &RunSpec,
        options: Options,
        granularity: Granularity,
        clock: Clock,
        mem: Memory,
        wb: Writeback,
        io: BlockLayer,
    ) -> Machine {
        Machine {
            spec: spec.clone(),
            release: spec.release,
            switches: spec.kernel.switches,
            policy: spec.policy,
            options,
            granularity,
            clock,
            mem,
            tasks: vec![],
            vfs: Vfs::default(),
            wb,
            io,
            slab: super::slab::Slab::default(),
            stats: Stats::default(),
            run: RunState::default(),
            swap_token: Default::default(),
            probe: None,
            tracker: Tracker::default(),
            progress: None,
        }
    }

    /// The user tasks (the scenario's, numbered as in it): `tasks[..user_tasks()]`. The kernel
    /// threads that allocate (the flushers, `Task::flusher`) come after them.
    pub fn user_tasks(&self) -> usize {
        self.spec.tasks.len()
    }

    /// The refusal policy, for a decision that depends on it: counted, so a run that never
    /// asks is known to be the same under every policy.
    pub fn refusal_policy(&mut self) -> Policy {
        self.run.policy_decisions += 1;
        self.policy
    }

    /// The run's policy, for reports (not for decisions: see `refusal_policy`).
    pub fn policy_name(&self) -> &'static str {
        self.policy.name()
    }
}
