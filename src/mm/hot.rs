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
//! falls in `(c, now]`. Only mapped pages are touched (a swapped-out page would need a swap-in
//! fault, which the model does not have: docs/MODEL.md).
//!
//! What reclaim then does with the reference is the release's rule, already in vmscan.rs
//! (`page_references` switch): 2.6.32–2.6.33 `shrink_active_list()` deactivates every anon page,
//! referenced or not, and counts the reference in `recent_rotated`; `shrink_page_list()`
//! activates a referenced, `page_mapping_inuse()` page; 2.6.34+ `page_check_references()`
//! activates an anon page with a young pte.

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
    /// Whether the page at `index` was touched in `(since, now]`.
    fn touched(&self, index: u64, since: SimTime, now: SimTime) -> bool {
        if index >= self.hot_pages || now <= since {
            return false;
        }
        let t = self.interval_ns;
        let phase = (u128::from(index) * u128::from(t) / u128::from(self.hot_pages)) as u64;
        // Sweep k touches the page at phase + k·t; count sweeps up to a time, shifted by one
        // period so the arithmetic stays unsigned.
        let sweeps = |at: SimTime| (at + t - phase) / t;
        sweeps(now) > sweeps(since)
    }
}

/// The touches of every hot region, and when each page's young bit was last cleared.
#[derive(Debug, Default)]
pub struct HotMemory {
    /// By task id: its private anon memory's touches.
    tasks: Vec<Option<Touch>>,
    /// By shm segment id: the segment's touches.
    segments: Vec<Option<Touch>>,
    /// By pfn: when reclaim last tested and cleared its young bit; empty until some region is
    /// hot. A fault maps a page young (the `YOUNG` flag), so the first test after a fault is a
    /// reference whatever this holds, and sets it.
    cleared_at: Vec<SimTime>,
}

impl HotMemory {
    /// Task `t`'s private memory is touched as `touch` says; `pages` is the page array's length.
    pub fn set_task(&mut self, t: usize, touch: Touch, pages: usize) {
        Self::set(&mut self.tasks, t, touch);
        self.cleared_at.resize(pages, 0);
    }

    /// Segment `s` is touched as `touch` says.
    pub fn set_segment(&mut self, s: usize, touch: Touch, pages: usize) {
        Self::set(&mut self.segments, s, touch);
        self.cleared_at.resize(pages, 0);
    }

    fn set(v: &mut Vec<Option<Touch>>, i: usize, touch: Touch) {
        if v.len() <= i {
            v.resize(i + 1, None);
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
        let touch = if p.has(pg::ANON) {
            self.tasks.get(owner)
        } else if p.has(pg::SHMEM) {
            self.segments.get(owner)
        } else {
            None
        };
        let Some(Some(touch)) = touch else {
            return false;
        };
        let c = &mut self.cleared_at[id as usize];
        let touched = touch.touched(u64::from(p.index), *c, now);
        *c = now;
        touched
    }
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
        assert!(t.touched(5, 0, 50 * MS));
        assert!(!t.touched(5, 50 * MS, 149 * MS));
        assert!(t.touched(5, 50 * MS, 150 * MS));
        assert!(t.touched(5, 120 * MS, 300 * MS));
        // Any window of a whole interval holds a touch.
        for since in (0..300).map(|ms| ms * MS) {
            assert!(t.touched(5, since, since + 100 * MS));
        }
    }

    #[test]
    fn pages_beyond_the_hot_set_are_never_touched() {
        let t = Touch {
            interval_ns: MS,
            hot_pages: 4,
        };
        assert!(t.touched(3, 0, 10 * MS));
        assert!(!t.touched(4, 0, 10 * MS));
    }
}
