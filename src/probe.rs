//! The probe: how an observer watches a run without changing it.
//!
//! The engine's event loop and a few one-line hooks in `mm/` (the kernel's tracepoints:
//! `trace_mm_vmscan_lru_isolate`, `trace_mm_vmscan_writepage`, `trace_writeback_exec`, …) call
//! the [`Probe`] in `Machine::probe`, if there is one. A probe only reads the machine (every
//! callback takes `&Machine`), and nothing it does adds an event to the queue, so a run's events,
//! counters and outcome are the same with and without one (`tests/suite/reports.rs` checks it).
//!
//! The probe is defined here, outside `observe/`, so that `mm/` depends on nothing that renders:
//! `observe::Recorder` is one implementation (timelines, traces, `explain`); the runner hands it to
//! the engine and takes it back when the run is over. Without a probe each hook costs one branch.

use std::any::Any;

use crate::fs::WritepageCaller;
use crate::mm::fs_writeback::WritebackWork;
use crate::mm::page::PageId;
use crate::mm::{Actor, Machine};
use crate::sim::SimTime;
use crate::spec::FsType;

/// What an observer of a run is told. Every method has an empty default.
pub trait Probe: Any + Send {
    /// The machine has booted; no event has run.
    fn boot(&mut self, _machine: &Machine) {}

    /// The event loop is about to handle the event at `at` (the clock still reads the last
    /// event's time).
    fn before_event(&mut self, _machine: &Machine, _at: SimTime) {}

    /// The event loop has handled an event (and unplugged the disks): `ran` is the actor whose
    /// event it was (`None`: a disk completion).
    fn after_event(&mut self, _machine: &Machine, _ran: Option<Actor>) {}

    /// The run has its outcome.
    fn finish(&mut self, _machine: &Machine) {}

    /// `shrink_inactive_list()` isolated `scanned` of `requested` simulated pages and freed
    /// `freed` (`trace_mm_vmscan_lru_isolate`).
    fn shrink_inactive(
        &mut self,
        _machine: &Machine,
        _actor: Actor,
        _requested: u64,
        _scanned: u64,
        _freed: u64,
    ) {
    }

    /// `pageout()` returned PAGE_SUCCESS for `page` (`trace_mm_vmscan_writepage`).
    fn writepage(&mut self, _machine: &Machine, _actor: Actor, _page: PageId) {}

    /// A filesystem's `->writepage` declined a page by design (the policy's subject).
    fn refused(&mut self, _machine: &Machine, _fs: FsType, _caller: WritepageCaller) {}

    /// A direct-reclaim pass of task `task` returned no progress.
    fn no_progress(&mut self, _machine: &Machine, _task: usize) {}

    /// A flusher starts a work item (`trace_writeback_exec`).
    fn writeback_exec(&mut self, _machine: &Machine, _bdi: usize, _work: &WritebackWork) {}

    /// `wakeup_kswapd()` found zone `zid` below its low watermark (`trace_mm_vmscan_wakeup_kswapd`,
    /// 2.6.36 `mm/vmscan.c`: after the watermark test, before the cpuset test); `task` is the
    /// allocating task.
    fn wakeup_kswapd(&mut self, _machine: &Machine, _zid: usize, _task: Option<usize>) {}

    /// The probe as `Any`, so that whoever handed it to the engine can take its own type back.
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
}

impl Machine {
    /// Calls `f` with the probe and the machine, when there is a probe.
    #[inline]
    fn with_probe(&mut self, f: impl FnOnce(&mut dyn Probe, &Machine)) {
        if self.probe.is_none() {
            return;
        }
        if let Some(mut probe) = self.probe.take() {
            f(&mut *probe, self);
            self.probe = Some(probe);
        }
    }

    /// The engine's hook after boot.
    pub(crate) fn probe_boot(&mut self) {
        self.with_probe(|p, m| p.boot(m));
    }

    /// The engine's hook before each event.
    #[inline]
    pub(crate) fn probe_before_event(&mut self, at: SimTime) {
        self.with_probe(|p, m| p.before_event(m, at));
    }

    /// The engine's hook after each event.
    #[inline]
    pub(crate) fn probe_after_event(&mut self, ran: Option<Actor>) {
        self.with_probe(|p, m| p.after_event(m, ran));
    }

    /// The engine's hook at the end of the run.
    pub(crate) fn probe_finish(&mut self) {
        self.with_probe(|p, m| p.finish(m));
    }

    /// Hook of `shrink_inactive_list()`: see [`Probe::shrink_inactive`].
    #[inline]
    pub fn observe_shrink_inactive(
        &mut self,
        actor: Actor,
        requested: u64,
        scanned: u64,
        freed: u64,
    ) {
        self.with_probe(|p, m| p.shrink_inactive(m, actor, requested, scanned, freed));
    }

    /// Hook of `pageout()`: see [`Probe::writepage`].
    #[inline]
    pub fn observe_writepage(&mut self, actor: Actor, page: PageId) {
        self.with_probe(|p, m| p.writepage(m, actor, page));
    }

    /// Hook of a declined `->writepage`: see [`Probe::refused`].
    #[inline]
    pub fn observe_refused(&mut self, fs: FsType, caller: WritepageCaller) {
        self.with_probe(|p, m| p.refused(m, fs, caller));
    }

    /// Hook of a direct-reclaim pass without progress: see [`Probe::no_progress`].
    #[inline]
    pub fn observe_no_progress(&mut self, task: usize) {
        self.with_probe(|p, m| p.no_progress(m, task));
    }

    /// Hook of `wakeup_kswapd()`: see [`Probe::wakeup_kswapd`].
    #[inline]
    pub fn observe_wakeup_kswapd(&mut self, zid: usize, task: Option<usize>) {
        self.with_probe(|p, m| p.wakeup_kswapd(m, zid, task));
    }

    /// Hook of a flusher starting work: see [`Probe::writeback_exec`].
    #[inline]
    pub fn observe_writeback_exec(&mut self, bdi: usize, work: &WritebackWork) {
        self.with_probe(|p, m| p.writeback_exec(m, bdi, work));
    }
}
