//! The OOM killer: `mm/oom_kill.c` of 2.6.32–2.6.35 (`badness()` on total_vm) and 2.6.36
//! (Rientjes' rss-based `oom_badness()`), with `constrained_alloc`, `select_bad_process`,
//! kill-a-child-first and TIF_MEMDIE serialisation (reclaim-oom §9).
//!
//! Not modelled: capabilities, nice values and PF_OOM_ORIGIN (no scenario task has them), the
//! notifier chain (empty), MPOL_BIND (no mempolicies).

use super::page::pg;
use super::zone::int_sqrt;
use super::{Actor, Machine};
use crate::kernel::{OomBadness, OomChildVictim, OomCpusetTasks, OomKilledCurrent, OomMempolicy};
use crate::outcome::{Constraint, OomReport, OomTaskRow, Outcome, ZoneReport, ZoneSnapshot};
use crate::sim::SEC;

/// What `select_bad_process` found.
enum Selected {
    /// A victim and its points.
    Victim(usize, u64),
    /// ERR_PTR(-1): a previous victim is still exiting; kill nothing.
    Abort,
    /// Nothing killable: panic.
    None,
}

/// What `out_of_memory()` decided, for the report.
#[derive(Clone, Copy, Debug)]
struct OomDecision {
    invoker: usize,
    selected: Option<usize>,
    points: u64,
    constraint: Constraint,
    gfp_mask: u32,
    totalpages: u64,
}

/// `oom_adj` (−17..15) as 2.6.32–35 read it, from `oom_score_adj` (−1000..1000).
pub fn oom_adj_of(oom_score_adj: i32) -> i32 {
    if oom_score_adj <= -1000 {
        -17
    } else {
        (oom_score_adj * 17 / 1000).clamp(-16, 15)
    }
}

/// `SHIFT_HZ` of `include/linux/timex.h`.
fn shift_hz(hz: u32) -> u32 {
    match hz {
        0..=191 => 7,
        192..=383 => 8,
        384..=767 => 9,
        _ => 10,
    }
}

impl Machine {
    /// A task's `mm->total_vm`, base (4 KiB) pages as the kernel counts them (badness is in
    /// pages, and its `+ 1` per child is one page): its anon memory (resident and swapped), its
    /// pinned or written buffers, attached segments, and its other mappings.
    pub fn total_vm(&self, t: usize) -> u64 {
        let task = &self.tasks[t];
        let pages = |bytes: u64| bytes.div_ceil(super::granularity::BASE_PAGE);
        let anon = self.granularity.base(task.anon.len() as u64);
        // The kind's own mappings (a pinned region, a buffer) and the anon pages they leave out.
        let mut vm = task.extra_vm_pages + task.kind.workload().total_vm(anon);
        vm += self.granularity.base(task.swap_ents);
        for &p in &task.attach {
            vm += pages(
                self.tasks[p]
                    .kind
                    .workload()
                    .shared_segment_bytes()
                    .unwrap_or(0),
            );
        }
        vm
    }

    /// A task's rss (anon + file/shmem mapped) plus swap entries, for `oom_badness()`: base
    /// (4 KiB) pages, like `totalpages`.
    fn rss_and_swap(&self, t: usize) -> u64 {
        self.granularity.base(self.rss_and_swap_sim(t))
    }

    /// [`Machine::rss_and_swap`] in simulated pages.
    fn rss_and_swap_sim(&self, t: usize) -> u64 {
        let task = &self.tasks[t];
        let mut rss = task.anon.len() as u64 + task.swap_ents;
        let own_seg = self.vfs.segments.iter().position(|s| s.owner == t);
        let segs = task
            .attach
            .iter()
            .filter_map(|&p| self.vfs.segments.iter().position(|s| s.owner == p))
            .chain(own_seg);
        for s in segs {
            rss += self.vfs.segments[s].mapped;
        }
        rss
    }

    fn mems_intersect(&self, a: usize, b: usize) -> bool {
        self.tasks[a]
            .mems
            .iter()
            .zip(&self.tasks[b].mems)
            .any(|(x, y)| *x && *y)
    }

    /// [2.6.36] `has_intersects_mems_allowed()` with the invoker's MPOL_BIND nodemask
    /// (`mempolicy_nodemask_intersects()`): a task without MPOL_BIND is always eligible, a bound
    /// one when its nodes meet the invoker's.
    fn mempolicy_intersects(&self, p: usize, invoker: usize) -> bool {
        match (&self.tasks[p].membind, &self.tasks[invoker].membind) {
            (Some(a), Some(b)) => a.iter().zip(b).any(|(x, y)| *x && *y),
            _ => true,
        }
    }

    /// Whether task `p` may be chosen by an OOM kill task `invoker` started: always (its score
    /// is divided by 8 in `badness()`), or only when their cpusets share a node.
    fn oom_cpuset_eligible(&self, p: usize, invoker: usize) -> bool {
        self.switches.oom_cpuset_tasks == OomCpusetTasks::ScoreDivided
            || self.mems_intersect(p, invoker)
    }

    /// `badness()` (`oom_badness = "total-vm"`).
    fn badness(&self, p: usize, current: usize) -> u64 {
        let task = &self.tasks[p];
        let adj = oom_adj_of(task.oom_score_adj);
        if adj == -17 {
            return 0;
        }
        let mut points = self.total_vm(p);
        for &c in &task.children {
            if !self.tasks[c].dead {
                points += self.total_vm(c) / 2 + 1;
            }
        }
        let cpu_jiffies = task.cpu_ns / self.clock.jiffy.max(1);
        let cpu_time = cpu_jiffies >> (shift_hz(self.spec.machine.hz) + 3);
        let run_time = (self.clock.now.saturating_sub(task.start_ns) / SEC) >> 10;
        if cpu_time > 0 {
            points /= int_sqrt(cpu_time).max(1);
        }
        if run_time > 0 {
            points /= int_sqrt(int_sqrt(run_time)).max(1);
        }
        if !self.mems_intersect(p, current) {
            points /= 8;
        }
        if adj > 0 {
            // The kernel's `points <<= oom_adj` on an unsigned long; saturating, so that no
            // accepted size can wrap a score to a small one.
            points = points.max(1).saturating_mul(1 << adj);
        } else if adj < 0 {
            points >>= -adj;
        }
        points
    }

    /// `oom_badness()` (`oom_badness = "rss-per-mille"`): rss+swap per mille of `totalpages`, plus `oom_score_adj`.
    fn oom_badness(&self, p: usize, totalpages: u64) -> u64 {
        let task = &self.tasks[p];
        if task.oom_score_adj <= -1000 || task.dead {
            return 0;
        }
        let points = (self.rss_and_swap(p) * 1000 / totalpages.max(1)) as i64
            + i64::from(task.oom_score_adj);
        points.clamp(1, 1000) as u64
    }

    /// `constrained_alloc()`: [2.6.33+] MEMORY_POLICY when the task's MPOL_BIND nodes are not
    /// every node (tested first), then CPUSET when some zone of the (whole) zonelist is not
    /// allowed.
    fn constrained_alloc(&self, t: usize, gfp_mask: u32) -> Constraint {
        let bound = self.tasks[t]
            .membind
            .as_ref()
            .is_some_and(|b| b.iter().any(|&x| !x));
        if bound && self.switches.oom_mempolicy != OomMempolicy::ZonelistOnly {
            return Constraint::MemoryPolicy;
        }
        // The zonelist the kernel hands out_of_memory() has every node's zones, MPOL_BIND or not.
        if (0..self.mem.zones.len()).any(|z| !self.cpuset_softwall(t, z, gfp_mask)) {
            Constraint::Cpuset
        } else {
            Constraint::None
        }
    }

    /// `select_bad_process()` under the run's `oom_*` switches.
    fn select_bad_process(&self, current: usize, totalpages: u64, c: Constraint) -> Selected {
        let mut best: Option<(usize, u64)> = None;
        // Kernel threads (no mm) are never candidates: they come after the user tasks.
        for p in 0..self.user_tasks() {
            let task = &self.tasks[p];
            if task.dead {
                continue;
            }
            let eligible = if c == Constraint::MemoryPolicy {
                self.mempolicy_intersects(p, current)
            } else {
                self.oom_cpuset_eligible(p, current)
            };
            if !eligible {
                continue;
            }
            if task.memdie {
                return Selected::Abort;
            }
            if task.exiting {
                if p != current {
                    return Selected::Abort;
                }
                return Selected::Victim(
                    p,
                    if self.switches.oom_badness == OomBadness::RssPerMille {
                        1000
                    } else {
                        u64::MAX
                    },
                );
            }
            let points = if self.switches.oom_badness == OomBadness::RssPerMille {
                let pts = self.oom_badness(p, totalpages);
                if pts == 0 {
                    continue;
                }
                pts
            } else {
                if oom_adj_of(task.oom_score_adj) == -17 {
                    continue;
                }
                self.badness(p, current)
            };
            let better = match best {
                None => self.switches.oom_badness == OomBadness::TotalVm || points > 0,
                Some((_, b)) => points > b,
            };
            if better {
                best = Some((p, points));
            }
        }
        match best {
            Some((p, pts)) => Selected::Victim(p, pts),
            None => Selected::None,
        }
    }

    /// The `totalpages` badness is taken of, in base pages (rss per mille of it is a ratio
    /// either way): every page [2.6.36, unconstrained], or the allowed nodes' spanned pages
    /// (the cpuset's; [2.6.33+] the MPOL_BIND nodes'), plus swap.
    fn oom_totalpages(&self, t: usize, constraint: Constraint) -> u64 {
        let swap = self.mem.swap.total;
        self.granularity.base(match constraint {
            Constraint::None if self.switches.oom_badness == OomBadness::RssPerMille => {
                self.mem.zones.iter().map(|z| z.present).sum::<u64>() + swap
            }
            _ => {
                // [2.6.33+] CONSTRAINT_MEMORY_POLICY: the bound nodes' spanned pages.
                let mems = match (&self.tasks[t].membind, constraint) {
                    (Some(b), Constraint::MemoryPolicy) => b,
                    _ => &self.tasks[t].mems,
                };
                self.mem
                    .nodes
                    .iter()
                    .enumerate()
                    .filter(|(n, _)| mems[*n])
                    .map(|(_, nd)| nd.spanned)
                    .sum::<u64>()
                    + swap
            }
        })
    }

    /// `out_of_memory()` invoked by task `t`'s allocation; returns whether a task was killed.
    pub fn out_of_memory(&mut self, t: usize, gfp_mask: u32) -> bool {
        let constraint = self.constrained_alloc(t, gfp_mask);
        if self.switches.oom_killed_current == OomKilledCurrent::TakesReserves
            && self.tasks[t].killed
        {
            self.tasks[t].memdie = true; // fatal_signal_pending(current)
            return false;
        }
        let panic = match self.spec.vm.panic_on_oom {
            2 => true,
            1 => constraint == Constraint::None,
            _ => false,
        };
        let totalpages = self.oom_totalpages(t, constraint);
        let decision = OomDecision {
            invoker: t,
            selected: None,
            points: 0,
            constraint,
            gfp_mask,
            totalpages,
        };
        if panic {
            self.record_oom(None, &decision);
            return false;
        }
        let kill_current = constraint == Constraint::MemoryPolicy
            && self.switches.oom_mempolicy == OomMempolicy::KillCurrent;
        if kill_current
            || self.spec.vm.oom_kill_allocating_task
                && oom_adj_of(self.tasks[t].oom_score_adj) != -17
        {
            let d = OomDecision {
                selected: Some(t),
                ..decision
            };
            self.oom_kill_task(t, &d);
            return true;
        }
        match self.select_bad_process(t, totalpages, constraint) {
            Selected::Abort => false,
            Selected::None => {
                self.record_oom(None, &decision);
                false
            }
            Selected::Victim(p, points) => {
                let victim = self.pick_child_first(p, totalpages);
                let d = OomDecision {
                    selected: Some(p),
                    points,
                    ..decision
                };
                self.oom_kill_task(victim, &d);
                true
            }
        }
    }

    /// `oom_kill_process()`: an exiting victim just gets TIF_MEMDIE; otherwise a child with its
    /// own mm is killed first (`oom_child_victim`: the first killable one, or the highest-scoring one).
    fn pick_child_first(&self, p: usize, totalpages: u64) -> usize {
        if self.tasks[p].exiting {
            return p;
        }
        let children = self.tasks[p]
            .children
            .iter()
            .copied()
            .filter(|&c| !self.tasks[c].dead);
        if self.switches.oom_child_victim == OomChildVictim::FirstKillable {
            children
                .into_iter()
                .find(|&c| oom_adj_of(self.tasks[c].oom_score_adj) != -17)
                .unwrap_or(p)
        } else {
            let mut best: Option<(usize, u64)> = None;
            for c in children {
                let pts = self.oom_badness(c, totalpages);
                if pts > 0 && best.map_or(true, |(_, b)| pts > b) {
                    best = Some((c, pts));
                }
            }
            best.map_or(p, |(c, _)| c)
        }
    }

    /// `oom_kill_task()`: TIF_MEMDIE and SIGKILL; an interruptible sleeper wakes at once.
    fn oom_kill_task(&mut self, v: usize, d: &OomDecision) {
        self.stats.vm_events.oom_kill += 1;
        // The report is printed before the kill (dump_header, then the kill lines).
        self.record_oom(Some(v), d);
        let task = &mut self.tasks[v];
        task.memdie = true;
        task.killed = true;
        if task.interruptible {
            self.schedule(self.clock.now, Actor::Task(v));
        }
    }

    /// Keeps the OOM report of every decision, and the first one as the run's verdict.
    fn record_oom(&mut self, victim: Option<usize>, d: &OomDecision) {
        let report = self.oom_report(victim, d);
        self.run.oom_reports.push(report);
        if self.run.outcome.is_some() {
            return;
        }
        let (invoker, points, c, gfp_mask) = (d.invoker, d.points, d.constraint, d.gfp_mask);
        let zones = (0..self.mem.zones.len())
            .map(|z| self.zone_snapshot(z))
            .collect();
        self.run.outcome = Some(Outcome::Oom {
            at_ns: self.clock.now,
            victim: victim
                .map(|v| self.tasks[v].name.clone())
                .unwrap_or_default(),
            victim_pid: victim.map_or(0, |v| self.tasks[v].pid),
            invoker: self.tasks[invoker].name.clone(),
            constraint: c,
            gfp_mask,
            points,
            zones,
        });
    }
}

impl Machine {
    /// What `dump_header()` (`show_mem()` → `show_free_areas()`, `dump_tasks()`) and the kill
    /// lines print, captured at the moment of the decision.
    fn oom_report(&self, victim: Option<usize>, d: &OomDecision) -> OomReport {
        let inv = &self.tasks[d.invoker];
        let zones = (0..self.mem.zones.len())
            .map(|zid| self.zone_report(zid, d.invoker))
            .collect();
        let tasks = (0..self.user_tasks())
            .filter(|&p| !self.tasks[p].dead)
            .map(|p| self.oom_task_row(p, d))
            .collect();
        let b = |x: u64| self.granularity.base(x);
        let named = |t: usize| (self.tasks[t].name.clone(), self.tasks[t].pid);
        OomReport {
            at_ns: self.clock.now,
            invoker: inv.name.clone(),
            invoker_pid: inv.pid,
            invoker_oom_score_adj: inv.oom_score_adj,
            invoker_mems: (0..inv.mems.len() as u32)
                .filter(|&n| inv.mems[n as usize])
                .collect(),
            invoker_root_cpuset: inv.mems.iter().all(|&m| m),
            gfp_mask: d.gfp_mask,
            order: 0,
            constraint: d.constraint,
            selected: d.selected.map(named),
            victim: victim.map(named),
            points: d.points,
            zones,
            tasks,
            swap_total: b(self.mem.swap.total),
            swap_free: b(self.mem.swap.free),
            swap_cache: b(self.mem.swap_cache_pages()),
            ram_pages: b(self.mem.zones.iter().map(|z| z.present).sum()),
            hugetlb_pages: b(self.mem.hugetlb_pages),
            node_pages_scanned: if self.pgdat_reclaimable_applies() {
                self.mem.nodes.iter().map(|n| b(n.pages_scanned)).collect()
            } else {
                Vec::new()
            },
        }
    }

    /// `show_free_areas()`'s lines for zone `zid`, in base (4 KiB) pages as the kernel prints
    /// them, with what its inactive file list held (walked once: the report is rare).
    fn zone_report(&self, zid: usize, invoker: usize) -> ZoneReport {
        use super::page::{pg, LruList as L, NIL};
        let z = &self.mem.zones[zid];
        let (mut dirty, mut wb) = (0, 0);
        // [4.8+] the node's lruvec holds every zone's pages: count this zone's only.
        let mut id = self.mem.zones[z.lruvec as usize].lru[L::InactiveFile.idx()].head;
        while id != NIL {
            let p = &self.mem.pages[id as usize];
            if p.zone as usize != zid {
                id = p.next;
                continue;
            }
            if p.has(pg::WRITEBACK) {
                wb += 1;
            } else if p.has(pg::DIRTY) {
                dirty += 1;
            }
            id = p.next;
        }
        let b = |x: u64| self.granularity.base(x);
        ZoneReport {
            base: self.zone_snapshot(zid),
            isolated_anon: b(z.stat.nr_isolated_anon),
            isolated_file: b(z.stat.nr_isolated_file),
            present: b(z.present),
            mlocked: b(z.stat.nr_mlock),
            mapped: b(z.stat.nr_mapped),
            shmem: b(z.stat.nr_shmem),
            slab_unreclaimable: b(z.stat.nr_kernel - z.stat.nr_slab_reclaimable),
            file_pages: b(z.stat.nr_file_pages),
            lowmem_reserve: z.lowmem_reserve.map(b),
            pcp: z
                .pcp
                .iter()
                .map(|c| {
                    let (n, high, batch) = (c.len(), z.pcp_high, z.pcp_batch);
                    (b(n as u64), b(high as u64), b(batch as u64))
                })
                .collect(),
            inactive_file_dirty: b(dirty),
            inactive_file_writeback: b(wb),
            allowed: self.cpuset_hardwall(invoker, zid),
        }
    }

    /// `dump_tasks()`'s line for task `p`, with the score the decision gave it.
    fn oom_task_row(&self, p: usize, d: &OomDecision) -> OomTaskRow {
        let task = &self.tasks[p];
        let eligible = self.oom_cpuset_eligible(p, d.invoker);
        let points = if !eligible {
            0
        } else if self.switches.oom_badness == OomBadness::RssPerMille {
            self.oom_badness(p, d.totalpages)
        } else {
            self.badness(p, d.invoker)
        };
        let rss = self
            .granularity
            .base(self.rss_and_swap_sim(p) - task.swap_ents);
        let anon_rss = self.granularity.base(task.anon.len() as u64);
        let unreaped = task
            .anon
            .iter()
            .filter(|&&id| {
                let flags = self.mem.pages[id as usize].flags;
                flags & (pg::MLOCKED | pg::KERNEL) != 0
            })
            .count() as u64;
        OomTaskRow {
            pid: task.pid,
            name: task.name.clone(),
            total_vm: self.total_vm(p),
            anon_rss,
            file_rss: rss - anon_rss,
            // Every mapped page that is not anon is a shm segment's (attached or owned).
            shmem_rss: rss - anon_rss,
            anon_rss_unreaped: self.granularity.base(unreaped),
            cpu: task.cpu as u32,
            oom_adj: oom_adj_of(task.oom_score_adj),
            oom_score_adj: task.oom_score_adj,
            points,
            eligible,
        }
    }

    /// The per-zone line of the verdict, in base (4 KiB) pages (the watermarks in force, which a
    /// coarse page rounds down).
    fn zone_snapshot(&self, zid: usize) -> ZoneSnapshot {
        use super::page::LruList as L;
        let z = &self.mem.zones[zid];
        let b = |x: u64| self.granularity.base(x);
        ZoneSnapshot {
            node: z.node,
            zone: z.ztype.name(),
            free: b(z.nr_free()),
            min: b(z.watermark[0]),
            low: b(z.watermark[1]),
            high: b(z.watermark[2]),
            active_anon: b(z.nr_lru(L::ActiveAnon)),
            inactive_anon: b(z.nr_lru(L::InactiveAnon)),
            active_file: b(z.nr_lru(L::ActiveFile)),
            inactive_file: b(z.nr_lru(L::InactiveFile)),
            unevictable: b(z.nr_lru(L::Unevictable)),
            dirty: b(z.stat.nr_dirty),
            writeback: b(z.stat.nr_writeback),
            pages_scanned: b(z.pages_scanned),
            // The node's "all_unreclaimable?": [4.8–4.11] `!pgdat_reclaimable()`, [4.12+]
            // `kswapd_failures >= 16`.
            all_unreclaimable: if self.switches.kswapd_failures {
                self.pgdat_hopeless(z.node as usize)
            } else if self.pgdat_reclaimable_applies() {
                !self.mem.pgdat_reclaimable(z.node as usize)
            } else {
                z.all_unreclaimable
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oom_adj_maps_from_oom_score_adj_as_2_6_36_does_in_reverse() {
        assert_eq!(oom_adj_of(-1000), -17);
        assert_eq!(oom_adj_of(0), 0);
        assert_eq!(oom_adj_of(1000), 15);
        assert_eq!(oom_adj_of(-500), -8);
    }
}
