//! Hot memory: a task's working set referenced again after its fault, as the pte Accessed bit
//! that `page_referenced()` test-and-clears sees it (mm/rmap.c `page_referenced_one()` →
//! `ptep_clear_flush_young_notify()`, 2.6.32–2.6.36).
//!
//! A database's SGA buffer cache and its sessions' PGA work areas are not faulted once and left:
//! the processes read and write them all the time. The hardware sets a pte's Accessed bit on every
//! access; reclaim sees at most one reference between two of its own tests of a page, because
//! `page_referenced()` clears the bit (and flushes the TLB entry so the CPU sets it again on the
//! next access). So what decides whether a hot page survives reclaim is whether it is touched
//! between `shrink_active_list()` clearing its bit and `shrink_page_list()` testing it again.
//!
//! The workload (`touch_interval`, `hot_size` on `anon` tasks and on `pin` shm segments) is a
//! sequential sweep: the first `hot_size` bytes of the region are touched once per
//! `touch_interval`, page `i` of the `H` hot pages at `i·T/H + k·T`. The test needs no events and
//! no per-touch state: a page was touched since its bit was last cleared at `c` iff a sweep time
//! falls in `(c, now]`.
//!
//! A hot private page that reclaim swaps out anyway is touched again at its next sweep time: a
//! swap-in fault (`do_swap_page`, `mm/swap_state.rs`). Until then it is out of the hot set, so the
//! resident hot set is the first `H − s` slots of the task's pages, `s` its hot pages swapped out;
//! [`HotMemory::swapped_out`] records each with the time of its fault. A segment's pages keep
//! their index, so its hot set stays its first `H` indices and a swapped-out one is faulted back
//! into its place (`shmem_getpage()`), by the segment's owner.
//!
//! What reclaim then does with the reference is the release's rule, already in vmscan.rs
//! (`page_references` switch): 2.6.32–2.6.33 `shrink_active_list()` deactivates every anon page,
//! referenced or not, and counts the reference in `recent_rotated`; `shrink_page_list()`
//! activates a referenced, `page_mapping_inuse()` page; 2.6.34+ `page_check_references()`
//! activates an anon page with a young pte.

use std::collections::{BTreeMap, BTreeSet};

use super::page::{pg, Page, PageId};
use crate::sim::SimTime;

/// How a region's working set is touched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Touch {
    /// The sweep period, ns (> 0).
    pub interval_ns: u64,
    /// Pages in the hot set: the region's first pages by index (> 0).
    pub hot_pages: u64,
}

impl Touch {
    /// Whether the page at `index` was touched in `(since, now]`, when the hot set ends at
    /// slot `hot_end` (`hot_pages` less its pages swapped out).
    fn touched(&self, index: u64, hot_end: u64, since: SimTime, now: SimTime) -> bool {
        if index >= hot_end || now <= since {
            return false;
        }
        self.sweeps(index, now) > self.sweeps(index, since)
    }

    /// The sweeps that touched the page at `index` up to `at` (inclusive): sweep k touches it at
    /// phase + k·t; counted one period late so the arithmetic stays unsigned.
    fn sweeps(&self, index: u64, at: SimTime) -> u64 {
        (at + self.interval_ns - self.phase(index)) / self.interval_ns
    }

    fn phase(&self, index: u64) -> u64 {
        let t = u128::from(self.interval_ns);
        (u128::from(index) * t / u128::from(self.hot_pages)) as u64
    }

    /// The first time after `now` the sweep touches the page at `index`.
    fn next_touch(&self, index: u64, now: SimTime) -> SimTime {
        self.phase(index) + self.sweeps(index, now) * self.interval_ns
    }
}

/// A hot region: a task's private memory or a shm segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    /// Task `t`'s private anon memory (its pages by slot in `Task::anon`).
    Task(usize),
    /// Shm segment `s` (its pages by index in `Segment::pages`).
    Segment(usize),
}

/// A swap-in fault to come: which slot the page is near on the swap device, and where it goes
/// back in its region (a segment's index; unused for a task).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// The swap slot hint.
    pub slot: u32,
    /// The page's index in its segment.
    pub index: u32,
    /// The page that left (still it while [`HotMemory::still_swap_cache`] says so).
    pub page: PageId,
    /// Its swap-out's number ([`HotMemory::swapped_out`]).
    pub swap_out: u32,
}

/// A region's hot pages swapped out, each waiting for its next touch: the swap-in fault.
#[derive(Debug, Default)]
struct SwappedHot {
    /// (fault time, swap slot, sequence): the faults in the order they come due.
    due: BTreeSet<(SimTime, u32, u32)>,
    /// (swap slot, sequence) → (fault time, the fault): the faults by place on the swap device,
    /// for `swapin_readahead()`'s cluster.
    by_slot: BTreeMap<(u32, u32), (SimTime, Fault)>,
    /// The next sequence number (distinguishes pages with the same slot hint).
    seq: u32,
}

/// The touches of every hot region, and when each page's young bit was last cleared.
#[derive(Debug, Default)]
pub struct HotMemory {
    /// By task id: its private anon memory's touches.
    tasks: Vec<Option<Touch>>,
    /// By shm segment id: the segment's touches.
    segments: Vec<Option<Touch>>,
    /// By task id: its hot private pages swapped out and not yet faulted back.
    task_faults: Vec<SwappedHot>,
    /// By segment id: its hot pages swapped out and not yet faulted back.
    segment_faults: Vec<SwappedHot>,
    /// By pfn: when reclaim last tested and cleared its young bit; empty until some region is
    /// hot. A fault maps a page young (the `YOUNG` flag), so the first test after a fault is a
    /// reference whatever this holds, and sets it.
    cleared_at: Vec<SimTime>,
    /// By pfn: the number of the page's last swap-out from a hot region (0: none), so that a
    /// fault can tell the page it recorded from a later use of the same page frame.
    swap_out_of: Vec<u32>,
    /// The last swap-out number given.
    swap_outs: u32,
}

impl HotMemory {
    /// Task `t`'s private memory is touched as `touch` says; `pages` is the page array's length.
    pub fn set_task(&mut self, t: usize, touch: Touch, pages: usize) {
        Self::set(&mut self.tasks, &mut self.task_faults, t, touch);
        self.cleared_at.resize(pages, 0);
        self.swap_out_of.resize(pages, 0);
    }

    /// Segment `s` is touched as `touch` says.
    pub fn set_segment(&mut self, s: usize, touch: Touch, pages: usize) {
        Self::set(&mut self.segments, &mut self.segment_faults, s, touch);
        self.cleared_at.resize(pages, 0);
        self.swap_out_of.resize(pages, 0);
    }

    fn set(v: &mut Vec<Option<Touch>>, f: &mut Vec<SwappedHot>, i: usize, touch: Touch) {
        if v.len() <= i {
            v.resize(i + 1, None);
            f.resize_with(i + 1, SwappedHot::default);
        }
        v[i] = Some(touch);
    }

    /// Whether any region is hot (no cost otherwise).
    #[inline]
    pub fn any(&self) -> bool {
        !self.cleared_at.is_empty()
    }

    /// `ptep_clear_flush_young()` on a mapped page: whether the workload touched it since its
    /// bit was last cleared; the bit is cleared now either way.
    pub fn test_and_clear_young(&mut self, id: PageId, p: &Page, now: SimTime) -> bool {
        let owner = p.owner as usize;
        let region = if p.has(pg::ANON) {
            Region::Task(owner)
        } else if p.has(pg::SHMEM) {
            Region::Segment(owner)
        } else {
            return false;
        };
        let (Some(touch), Some(hot_end)) = (self.touch(region), self.hot_end(region)) else {
            return false;
        };
        let c = &mut self.cleared_at[id as usize];
        let touched = touch.touched(u64::from(p.index), hot_end, *c, now);
        *c = now;
        touched
    }

    fn touch(&self, region: Region) -> Option<Touch> {
        match region {
            Region::Task(t) => self.tasks.get(t).copied().flatten(),
            Region::Segment(s) => self.segments.get(s).copied().flatten(),
        }
    }

    fn faults(&self, region: Region) -> Option<&SwappedHot> {
        match region {
            Region::Task(t) => self.task_faults.get(t),
            Region::Segment(s) => self.segment_faults.get(s),
        }
    }

    fn faults_mut(&mut self, region: Region) -> Option<&mut SwappedHot> {
        match region {
            Region::Task(t) => self.task_faults.get_mut(t),
            Region::Segment(s) => self.segment_faults.get_mut(s),
        }
    }

    /// Where a region's resident hot set ends; `None` if it is not hot. A task's is its first
    /// slots, the hot set less its pages swapped out (its slots are compacted); a segment's
    /// pages keep their index, so its hot set is its first `hot_pages` indices, resident or not.
    pub fn hot_end(&self, region: Region) -> Option<u64> {
        let touch = self.touch(region)?;
        Some(match region {
            Region::Task(t) => touch.hot_pages - self.task_faults[t].by_slot.len() as u64,
            Region::Segment(_) => touch.hot_pages,
        })
    }

    /// A region's page `page` at `index` is being swapped out at `now`, near swap slot
    /// `slot_hint`: if it is hot, its swap-in fault is due at its next touch (recorded here).
    /// Returns the hot set's end before, if the page was hot.
    pub fn swapped_out(
        &mut self,
        region: Region,
        page: PageId,
        index: u64,
        slot_hint: u32,
        now: SimTime,
    ) -> Option<u64> {
        let touch = self.touch(region)?;
        // Every swap-out of a hot region is numbered, hot page or not: a fault recognises its
        // own page by the number.
        self.swap_outs += 1;
        let swap_out = self.swap_outs;
        self.swap_out_of[page as usize] = swap_out;
        let hot_end = self.hot_end(region).filter(|&end| index < end)?;
        let due = touch.next_touch(index, now);
        let s = self.faults_mut(region)?;
        s.seq = s.seq.wrapping_add(1);
        s.due.insert((due, slot_hint, s.seq));
        let fault = Fault {
            slot: slot_hint,
            index: index as u32,
            page,
            swap_out,
        };
        s.by_slot.insert((slot_hint, s.seq), (due, fault));
        Some(hot_end)
    }

    /// Whether `fault`'s page frame still holds the page it recorded (not freed since its
    /// swap-out): then it is in the swap cache, or under its write.
    pub fn still_swap_cache(&self, fault: Fault) -> bool {
        self.swap_out_of[fault.page as usize] == fault.swap_out
    }

    /// The page frame `page` was freed: whatever fault recorded it, it holds that page no more.
    #[inline]
    pub fn page_freed(&mut self, page: PageId) {
        if let Some(n) = self.swap_out_of.get_mut(page as usize) {
            *n = 0;
        }
    }

    /// When a region's next swap-in fault is due, if it has one.
    pub fn next_fault(&self, region: Region) -> Option<SimTime> {
        self.faults(region)?.due.first().map(|&(due, _, _)| due)
    }

    /// The pending fault [`HotMemory::take_fault`] would take, left in place.
    pub fn peek_fault(
        &self,
        region: Region,
        cluster_of: Option<u32>,
        page_cluster: u32,
    ) -> Option<Fault> {
        self.pick(region, cluster_of, page_cluster)
            .map(|(_, _, f)| f)
    }

    /// Takes one of a region's pending faults: the first due, or with `cluster_of`, one in the
    /// aligned cluster of `1 << page_cluster` slots around that slot (`swapin_readahead()`
    /// reads the fault's cluster); `None` if there is none.
    pub fn take_fault(
        &mut self,
        region: Region,
        cluster_of: Option<u32>,
        page_cluster: u32,
    ) -> Option<Fault> {
        let (due, seq, fault) = self.pick(region, cluster_of, page_cluster)?;
        let s = self.faults_mut(region)?;
        s.due.remove(&(due, fault.slot, seq));
        s.by_slot.remove(&(fault.slot, seq));
        Some(fault)
    }

    fn pick(
        &self,
        region: Region,
        cluster_of: Option<u32>,
        page_cluster: u32,
    ) -> Option<(SimTime, u32, Fault)> {
        let s = self.faults(region)?;
        let (slot, seq) = match cluster_of {
            None => s.due.first().map(|&(_, slot, seq)| (slot, seq))?,
            Some(of) => *s.by_slot.range(cluster(of, page_cluster)).next()?.0,
        };
        let &(due, fault) = s.by_slot.get(&(slot, seq))?;
        Some((due, seq, fault))
    }

    /// A region's memory was freed: no fault is pending any more.
    pub fn forget(&mut self, region: Region) {
        if let Some(s) = self.faults_mut(region) {
            s.due.clear();
            s.by_slot.clear();
        }
    }
}

/// The keys of `by_slot` in the aligned cluster of `1 << page_cluster` slots around `slot`.
fn cluster(slot: u32, page_cluster: u32) -> std::ops::RangeInclusive<(u32, u32)> {
    let size = 1u32 << page_cluster;
    let base = slot & !(size - 1);
    (base, 0)..=(base | (size - 1), u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn a_page_is_touched_once_per_interval_at_its_phase_in_the_sweep() {
        let t = Touch {
            interval_ns: 100 * MS,
            hot_pages: 10,
        };
        // Page 5's phase is 50 ms: touched at 50, 150, 250 … ms.
        assert!(t.touched(5, 10, 0, 50 * MS));
        assert!(!t.touched(5, 10, 50 * MS, 149 * MS));
        assert!(t.touched(5, 10, 50 * MS, 150 * MS));
        assert!(t.touched(5, 10, 120 * MS, 300 * MS));
        assert_eq!(t.next_touch(5, 0), 50 * MS);
        assert_eq!(t.next_touch(5, 50 * MS), 150 * MS);
        assert_eq!(t.next_touch(5, 149 * MS), 150 * MS);
        // Any window of a whole interval holds a touch.
        for since in (0..300).map(|ms| ms * MS) {
            assert!(t.touched(5, 10, since, since + 100 * MS));
            let next = t.next_touch(5, since);
            assert!(next > since && next <= since + 100 * MS);
            assert!(t.touched(5, 10, since, next) && !t.touched(5, 10, since, next - 1));
        }
    }

    #[test]
    fn a_hot_page_swapped_out_leaves_the_hot_set_until_its_fault_and_faults_with_its_cluster() {
        let mut h = HotMemory::default();
        let touch = Touch {
            interval_ns: 100 * MS,
            hot_pages: 10,
        };
        let db = Region::Task(0);
        h.set_task(0, touch, 64);
        // A cold page (slot 12) records nothing.
        assert_eq!(h.swapped_out(db, 1, 12, 0, 0), None);
        // Slots 5 and 3 are hot: due at their next touch, 50 and 30 ms.
        assert_eq!(h.swapped_out(db, 2, 5, 16, 0), Some(10));
        assert_eq!(h.swapped_out(db, 3, 3, 17, 0), Some(9));
        assert_eq!(h.swapped_out(db, 4, 3, 40, 0), Some(8));
        assert_eq!(h.hot_end(db), Some(7));
        assert_eq!(h.next_fault(db), Some(30 * MS));
        // The first due (slot 17) reads slot 16 with it, not slot 40 (another cluster).
        assert_eq!(h.take_fault(db, None, 3).map(|f| f.slot), Some(17));
        assert!(h.peek_fault(db, Some(17), 3).is_some() && h.peek_fault(db, Some(24), 3).is_none());
        assert_eq!(h.take_fault(db, Some(17), 3).map(|f| f.slot), Some(16));
        assert!(h.peek_fault(db, Some(17), 3).is_none());
        assert_eq!(h.take_fault(db, Some(17), 3), None);
        assert_eq!(h.hot_end(db), Some(9));
        assert_eq!(h.next_fault(db), Some(30 * MS));
        assert_eq!(h.take_fault(db, None, 3).map(|f| f.slot), Some(40));
        assert_eq!(h.next_fault(db), None);
        assert_eq!(h.take_fault(db, None, 3), None);
        h.swapped_out(db, 5, 1, 0, 0);
        h.forget(db);
        assert_eq!((h.next_fault(db), h.hot_end(db)), (None, Some(10)));
    }

    #[test]
    fn a_segment_page_swapped_out_keeps_its_index_and_the_hot_set_its_size() {
        let mut h = HotMemory::default();
        let sga = Region::Segment(2);
        h.set_segment(
            2,
            Touch {
                interval_ns: 100 * MS,
                hot_pages: 10,
            },
            64,
        );
        assert_eq!(h.swapped_out(sga, 9, 7, 100, 0), Some(10));
        assert_eq!(h.hot_end(sga), Some(10));
        assert_eq!(h.next_fault(sga), Some(70 * MS));
        let fault = h.peek_fault(sga, None, 3).expect("a pending fault");
        assert_eq!((fault.slot, fault.index, fault.page), (100, 7, 9));
        assert!(h.still_swap_cache(fault));
        assert_eq!(h.take_fault(sga, None, 3), Some(fault));
        // The frame freed (and perhaps used again): the fault's page is gone from memory.
        h.page_freed(9);
        assert!(!h.still_swap_cache(fault));
        assert_eq!(h.next_fault(Region::Task(2)), None);
    }

    #[test]
    fn pages_beyond_the_hot_set_are_never_touched() {
        let t = Touch {
            interval_ns: MS,
            hot_pages: 4,
        };
        assert!(t.touched(3, 4, 0, 10 * MS));
        assert!(!t.touched(4, 4, 0, 10 * MS));
        // Two of them swapped out: the hot set ends at slot 2.
        assert!(!t.touched(3, 2, 0, 10 * MS));
    }
}
