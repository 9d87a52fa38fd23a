//! kswapd in terms of nodes (4.8+): `pgdat_balanced()`, `prepare_kswapd_sleep()`,
//! `wakeup_kswapd()`, `balance_pgdat()` and `kswapd_shrink_node()` of 4.8 mm/vmscan.c
//! (:3081–3340, :3489) and 4.12/6.1 (4.12 :3109–3330, 6.1 :6827–7205, :7429), and the node flags
//! kswapd sets at the end of `shrink_node()` [4.17+] (6.1 :6131–6236). Research 14 §4.
//!
//! The lists a pass scans depend on the `lru_lists` switch: per zone (2.6.32–4.7), or from 4.8
//! one lruvec per node held by its lowest zone, scanned once per node and priority with
//! `reclaim_idx` (`lruvec.rs`); what is left of the node lists is docs/MODEL.md
//! simplification 20.

use super::super::zone::{zone_watermark_ok, Wmark};
use super::{cost, Actor, KswapdState, Machine, NodeStat, ScanControl, Throttle, DEF_PRIORITY};
use crate::kernel::{CongestionSleep, KswapdBalance, WritebackThrottle};
use crate::sim::MSEC;

/// Where the node-form `balance_pgdat()` resumes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NodePhase {
    /// The top of a priority: balanced? then age the anon lists and set the goal.
    Priority,
    /// Inside `kswapd_shrink_node()`: the eligible zones in turn.
    Shrink,
    /// After a reclaim throttle inside a zone.
    ShrinkThrottled,
    /// The end of `shrink_node()`: [4.8] `throttle_vm_writeout()`.
    AfterShrink,
    /// After `throttle_vm_writeout()`'s sleep.
    VmThrottled,
    /// The end of a priority: raise it or not.
    PriorityEnd,
}

/// A node-form `balance_pgdat()` run in progress.
#[derive(Clone, Debug)]
pub(super) struct NodeBalance {
    sc: ScanControl,
    prio: i32,
    /// `classzone_idx` / `highest_zoneidx`, a zone type: the zones up to it are eligible.
    classzone: usize,
    /// The run's `sc.nr_reclaimed` (cumulative, 4.12+; `sc.nr_reclaimed` is per shrink_node).
    nr_reclaimed: u64,
    /// The next eligible zone of the current `shrink_node()`.
    zone_i: usize,
    /// `sc.nr_immediate` before the current `shrink_node()`.
    immediate_before: u64,
    phase: NodePhase,
}

impl Machine {
    /// The zones of node `n` up to zone type `classzone`, lowest first (a node has at most one
    /// zone of each of the three types).
    fn eligible_zones(&self, n: usize, classzone: usize) -> ([u16; 3], usize) {
        let mut ids = [0u16; 3];
        let mut k = 0;
        for &z in &self.mem.nodes[n].zones {
            let zone = &self.mem.zones[z as usize];
            if (zone.ztype as usize) <= classzone && zone.present > 0 {
                ids[k] = z;
                k += 1;
            }
        }
        (ids, k)
    }

    /// `zone_balanced()` / `zone_watermark_ok_safe(zone, 0, high_wmark_pages(zone),
    /// classzone)`: free pages above high + `lowmem_reserve[classzone]`.
    fn zone_balanced(&self, zid: usize, classzone: usize) -> bool {
        let z = &self.mem.zones[zid];
        zone_watermark_ok(
            z.nr_free(),
            z.wmark(Wmark::High),
            z.lowmem_reserve[classzone.min(2)],
            false,
            false,
        )
    }

    /// `pgdat_balanced()` (4.12 vmscan.c:3109, 6.1 :6827): true as soon as one zone up to
    /// `classzone`, checked bottom-up, is above high + its reserve for `classzone`; true too
    /// when the node has no such zone. 4.8's top-down walks give the same answer.
    pub fn pgdat_balanced(&self, n: usize, classzone: usize) -> bool {
        let (ids, k) = self.eligible_zones(n, classzone);
        k == 0
            || ids[..k]
                .iter()
                .any(|&z| self.zone_balanced(z as usize, classzone))
    }

    /// `prepare_kswapd_sleep()`: a hopeless node [4.12+], or a balanced one: [4.8–4.11] every
    /// zone up to the classzone above high (4.8 :3104), [4.12+] `pgdat_balanced()`.
    pub fn prepare_kswapd_sleep(&self, n: usize) -> bool {
        let cz = self.kswapd_classzone(n);
        if self.pgdat_hopeless(n) {
            return true;
        }
        if self.switches.kswapd_balance == KswapdBalance::PgdatBalanced {
            return self.pgdat_balanced(n, cz);
        }
        let (ids, k) = self.eligible_zones(n, cz);
        ids[..k].iter().all(|&z| self.zone_balanced(z as usize, cz))
    }

    /// The classzone kswapd of node `n` balances for: the last one read, or the node's highest
    /// zone before any waker asked.
    fn kswapd_classzone(&self, n: usize) -> usize {
        let k = &self.mem.nodes[n].kswapd;
        if k.classzone != usize::MAX {
            return k.classzone;
        }
        self.kswapd_classzone_of_node(n)
    }

    /// `clear_pgdat_congested()` when the node is balanced: [4.8] `zone_balanced()` clears
    /// CONGESTED and DIRTY, [4.12+] `prepare_kswapd_sleep()` all three flags.
    fn clear_node_flags_if_balanced(&mut self, n: usize, classzone: usize) -> bool {
        if !self.pgdat_balanced(n, classzone) {
            return false;
        }
        let f = &mut self.mem.nodes[n].flags;
        f.congested = false;
        f.tail_lru_dirty = false;
        if self.switches.kswapd_balance == KswapdBalance::PgdatBalanced {
            f.writeback = false;
        }
        true
    }

    /// `wakeup_kswapd()` [4.8+] (4.8 :3489, 6.1 :7429): note the waker's classzone, then wake
    /// kswapd unless it is awake, its node hopeless [4.12+], or the node balanced for that
    /// classzone (high + reserve in some eligible zone).
    pub(super) fn wakeup_kswapd_node(&mut self, zid: usize, t: Option<usize>) {
        if let Some(t) = t {
            if !self.cpuset_hardwall(t, zid) {
                return;
            }
        }
        let n = self.mem.zones[zid].node as usize;
        let highest = self.kswapd_classzone_of_node(n);
        let cz = t.map_or(highest, |t| self.tasks[t].classzone);
        let k = &mut self.mem.nodes[n].kswapd;
        k.classzone_pending = Some(k.classzone_pending.map_or(cz, |p| p.max(cz)));
        if k.state == KswapdState::Running {
            return; // !waitqueue_active(&pgdat->kswapd_wait)
        }
        if self.pgdat_hopeless(n) || self.pgdat_balanced(n, cz) {
            return;
        }
        self.observe_wakeup_kswapd(zid, t);
        self.schedule(self.clock.now, Actor::Kswapd(n));
    }

    /// [4.8–4.11] kswapd's busy loop, accounted for without handling each turn: the number of
    /// turns skipped. 4.8's `balance_pgdat()` stops as soon as one eligible zone is above its
    /// high mark while `prepare_kswapd_sleep()` wants every one of them, so kswapd neither
    /// reclaims nor sleeps: `kswapd_try_to_sleep()` counts `KSWAPD_HIGH_WMARK_HIT_QUICKLY`,
    /// `balance_pgdat()` counts `PAGEOUTRUN` and finds the node balanced again, every
    /// `LOOP_MIN` (the "kswapd at 100 % CPU" reports that 4.12's `kswapd_failures` and
    /// `pgdat_balanced()` in `prepare_kswapd_sleep()` ended). Called at the end of a turn that
    /// found the node balanced before doing anything and charged no CPU: until another event
    /// (a waker, an allocation, a completion) the next turns see the same state and do the
    /// same, so the turns due strictly before the next pending event are done here at once:
    /// their two counters, their events, and what their `schedule()` calls did to the queue's
    /// order (sequence numbers, the wake-up-order draws) and to kswapd's generation. Every
    /// result is the same as turn by turn (tests/suite: `a_kswapd_busy_loop_skipped_ahead_…`);
    /// the event loop bounds the skip below its next per-event stop (`Clock::skip_limit`), and
    /// an observed run (a probe sees every event) is never skipped.
    pub(super) fn kswapd_spin_skip(&mut self, n: usize, period: u64) -> u64 {
        if self.probe.is_some() || self.mem.nodes[n].kswapd.classzone_pending.is_some() {
            return 0;
        }
        let now = self.clock.now;
        let by_events = self.clock.skip_limit.saturating_sub(self.clock.events);
        let by_time = self.spec.limits.sim_time_ns.saturating_sub(now) / period;
        let by_next = self
            .clock
            .queue
            .peek_time()
            .map_or(u64::MAX, |t| t.saturating_sub(now + 1) / period);
        let k = by_events.min(by_time).min(by_next);
        if k == 0 {
            return 0;
        }
        self.clock.events += k;
        self.clock.skipped += k;
        self.stats.vm_events.pageoutrun += k;
        self.stats.vm_events.kswapd_high_wmark_hit_quickly += k;
        let gen = &mut self.mem.nodes[n].kswapd.gen;
        *gen = gen.wrapping_add(k as u32);
        self.clock.queue.skip_schedules(k);
        k
    }

    /// The type of node `n`'s highest zone.
    fn kswapd_classzone_of_node(&self, n: usize) -> usize {
        let last = *self.mem.nodes[n].zones.last().expect("a node has a zone");
        self.mem.zones[last as usize].ztype as usize
    }

    /// kswapd reads `pgdat->kswapd_classzone_idx` and starts `balance_pgdat()`.
    pub(super) fn start_balance_node(&mut self, n: usize) {
        let cpu = n % self.spec.machine.cpus.max(1) as usize;
        let highest = self.kswapd_classzone_of_node(n);
        let k = &mut self.mem.nodes[n].kswapd;
        k.state = KswapdState::Running;
        k.classzone = match k.classzone_pending.take() {
            Some(c) => c,
            None if k.classzone == usize::MAX => highest,
            None => k.classzone,
        };
        let classzone = k.classzone;
        self.stats.vm_events.pageoutrun += 1;
        self.mem.nodes[n].kswapd.node_bal = Some(NodeBalance {
            sc: ScanControl::kswapd(n, cpu, 0),
            prio: DEF_PRIORITY,
            classzone,
            nr_reclaimed: 0,
            zone_i: 0,
            immediate_before: 0,
            phase: NodePhase::Priority,
        });
        self.balance_node_step(n);
    }

    /// `balance_pgdat()` [4.8+], resumable at its sleeps: priorities 12 → 1, each one
    /// `kswapd_shrink_node()` unless the node is balanced, no nap between them.
    pub(super) fn balance_node_step(&mut self, n: usize) {
        let mut b = self.mem.nodes[n]
            .kswapd
            .node_bal
            .take()
            .expect("balance state");
        loop {
            match b.phase {
                NodePhase::Priority => {
                    if self.clear_node_flags_if_balanced(n, b.classzone) {
                        // Balanced before any reclaim (a later priority at DEF_PRIORITY means
                        // the last one reclaimed).
                        self.mem.nodes[n].kswapd.futile =
                            b.prio == DEF_PRIORITY && b.nr_reclaimed == 0;
                        return self.kswapd_after_balance(n); // goto out
                    }
                    self.kswapd_shrink_node_start(n, &mut b);
                }
                NodePhase::Shrink => {
                    if self.kswapd_shrink_zones(n, &mut b) {
                        self.mem.nodes[n].kswapd.node_bal = Some(b);
                        return; // asleep
                    }
                    if self.kswapd_shrink_node_end(n, &mut b) {
                        self.mem.nodes[n].kswapd.node_bal = Some(b);
                        return;
                    }
                }
                NodePhase::ShrinkThrottled => {
                    self.leave_reclaim_waits(Actor::Kswapd(n));
                    b.phase = NodePhase::Shrink;
                }
                NodePhase::AfterShrink | NodePhase::VmThrottled => {
                    self.leave_reclaim_waits(Actor::Kswapd(n));
                    if self.throttle_vm_writeout_over() {
                        // [4.8] shrink_node_memcg()'s throttle_vm_writeout() (gone in 4.9).
                        b.phase = NodePhase::VmThrottled;
                        let cpu = std::mem::take(&mut self.mem.nodes[n].kswapd_cpu_ns);
                        self.congestion_wait(Actor::Kswapd(n), 100 * MSEC, cpu);
                        self.mem.nodes[n].kswapd.node_bal = Some(b);
                        return;
                    }
                    b.phase = NodePhase::PriorityEnd;
                }
                NodePhase::PriorityEnd => {
                    if !self.balance_node_priority_end(n, &mut b) {
                        return self.kswapd_after_balance(n);
                    }
                    self.mem.nodes[n].kswapd.node_bal = Some(b);
                    return;
                }
            }
        }
    }

    /// The top of a priority: background anon aging, then `kswapd_shrink_node()`'s goal
    /// (Σ max(high, SWAP_CLUSTER_MAX) over the eligible zones) and a fresh `sc->nr`.
    fn kswapd_shrink_node_start(&mut self, n: usize, b: &mut NodeBalance) {
        let (ids, k) = self.eligible_zones(n, b.classzone);
        let scm = self.swap_cluster_max();
        let (all, nz) = self.eligible_zones(n, usize::MAX);
        // [4.8+ node lists] sc.reclaim_idx = the classzone; age_active_anon() reads the node.
        b.sc.reclaim_idx = b.classzone.min(super::MAX_RECLAIM_IDX);
        let nz = if self.mem.node_lru { nz.min(1) } else { nz };
        for &z in &all[..nz] {
            // age_active_anon(): every zone of the node, whatever the classzone.
            let lv = self.mem.zones[z as usize].lruvec as usize;
            if self.lruvec_inactive_is_low(lv, false, b.sc.reclaim_idx) {
                self.shrink_active_list(scm, lv, &mut b.sc, false);
            }
        }
        b.sc.nr_to_reclaim = ids[..k]
            .iter()
            .map(|&z| self.mem.zones[z as usize].wmark(Wmark::High).max(scm))
            .sum();
        b.sc.nr_scanned = 0;
        b.sc.nr_reclaimed = 0;
        b.sc.resume = None;
        b.sc.nr = NodeStat::default();
        b.immediate_before = b.sc.nr_immediate;
        b.zone_i = 0;
        b.phase = NodePhase::Shrink;
    }

    /// `shrink_node()` for kswapd: each eligible zone's lists at this priority. `true` when
    /// kswapd went to sleep (throttled); the walk resumes at the zone it stopped in.
    fn kswapd_shrink_zones(&mut self, n: usize, b: &mut NodeBalance) -> bool {
        let (ids, k) = self.eligible_zones(n, b.classzone);
        // [4.8+ node lists] one shrink_node() of the node's lruvec (shrink_zone maps to it).
        let k = if self.mem.node_lru { k.min(1) } else { k };
        while b.zone_i < k {
            let zid = ids[b.zone_i] as usize;
            b.zone_i += 1;
            self.shrink_zone(b.prio, zid, &mut b.sc);
            if let Some(reason) = b.sc.throttle.take() {
                b.zone_i -= 1;
                b.phase = NodePhase::ShrinkThrottled;
                let cpu = std::mem::take(&mut self.mem.nodes[n].kswapd_cpu_ns);
                self.throttle_sleep(Actor::Kswapd(n), zid, reason, cpu);
                return true;
            }
        }
        false
    }

    /// The end of kswapd's `shrink_node()`: [4.17+] the node flags from the whole call's
    /// counts (6.1 :6131–6160); [5.16+] `reclaim_throttle(VMSCAN_THROTTLE_WRITEBACK)` when it
    /// met PG_reclaim pages still under writeback. `true` when kswapd went to sleep.
    fn kswapd_shrink_node_end(&mut self, n: usize, b: &mut NodeBalance) -> bool {
        b.nr_reclaimed += b.sc.nr_reclaimed;
        b.phase = NodePhase::AfterShrink;
        if matches!(
            self.switches.reclaim_writeback_throttle,
            WritebackThrottle::KswapdFlags | WritebackThrottle::CongestedReclaimOnly
        ) {
            let nr = b.sc.nr;
            let f = &mut self.mem.nodes[n].flags;
            if nr.writeback > 0 && nr.writeback == nr.taken {
                f.writeback = true;
            }
            if nr.unqueued_dirty == nr.file_taken {
                f.tail_lru_dirty = true;
            }
            if nr.dirty > 0 && nr.dirty == nr.congested {
                f.congested = true;
            }
        }
        if self.switches.congestion_sleep == CongestionSleep::ReclaimThrottle
            && b.sc.nr_immediate > b.immediate_before
        {
            let zid = self.mem.nodes[n].zones[0] as usize;
            let cpu = std::mem::take(&mut self.mem.nodes[n].kswapd_cpu_ns);
            self.throttle_sleep(Actor::Kswapd(n), zid, Throttle::Immediate, cpu);
            return true;
        }
        false
    }

    /// The end of a priority (4.12 :3300–3320): lower it when the scan fell short of the goal
    /// or nothing was freed. `false` when the run is over (after priority 1), counting a
    /// [4.12+] failure when the whole run freed nothing; otherwise the next priority is
    /// scheduled after the CPU time spent.
    fn balance_node_priority_end(&mut self, n: usize, b: &mut NodeBalance) -> bool {
        let raise_priority = b.sc.nr_scanned < b.sc.nr_to_reclaim;
        if raise_priority || b.sc.nr_reclaimed == 0 {
            b.prio -= 1;
        }
        if b.prio < 1 {
            if self.switches.kswapd_failures && b.nr_reclaimed == 0 {
                self.mem.nodes[n].kswapd_failures += 1;
            }
            return false;
        }
        b.phase = NodePhase::Priority;
        self.mem.nodes[n].kswapd_cpu_ns += cost::LOOP_MIN;
        let cpu = std::mem::take(&mut self.mem.nodes[n].kswapd_cpu_ns);
        self.schedule(self.clock.now + cpu, Actor::Kswapd(n));
        true
    }
}
