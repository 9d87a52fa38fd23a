//! `pin`: memory pinned at the task's start and held, the way a database holds its SGA
//! (reclaim-oom §10): private memory locked with `mlock()` (the unevictable list from the fault
//! on), a SysV shm segment with `shmctl(SHM_LOCK)` (swap-backed, unevictable once reclaim meets
//! it), a plain shm segment (the anon LRU, swappable), or hugetlb pages reserved at boot (on no
//! LRU, never free). A shm segment's working set may be touched again (`touch_interval`,
//! `hot_size`), as the instance's processes touch the SGA's buffer cache (`mm/hot.rs`).

use serde::Serialize;

use super::{KindInfo, Progress, TaskKeys, WorkingSet, Workload};
use crate::mm::granularity::KernelPages;
use crate::mm::hot::Region;
use crate::mm::page::{pg, LruList};
use crate::mm::task::{Slice, SLICE_PAGES};
use crate::mm::{gfp, Machine};

/// The kind's keys.
pub const KIND: KindInfo = KindInfo {
    kind: "pin",
    required: &["size", "method"],
    optional: &["touch_interval", "hot_size"],
};

/// The hugetlb page size on x86_64.
pub const HUGE_PAGE: u64 = 2 << 20;

/// How a `pin` task holds its memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum PinMethod {
    /// Private anonymous memory locked with `mlock()`: on the unevictable LRU.
    Mlock,
    /// A SysV shm segment locked with `shmctl(SHM_LOCK)`: swap-backed pages, unevictable.
    ShmLock,
    /// A SysV shm segment without SHM_LOCK: swap-backed pages on the anon LRU.
    Shm,
    /// hugetlbfs pages reserved at boot: on no LRU, never free, never reclaimable.
    Hugetlb,
}

impl PinMethod {
    /// Every method, for `wbsim list`.
    pub const ALL: [PinMethod; 4] = [
        PinMethod::Mlock,
        PinMethod::ShmLock,
        PinMethod::Shm,
        PinMethod::Hugetlb,
    ];

    /// The name used in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            PinMethod::Mlock => "mlock",
            PinMethod::ShmLock => "shm_lock",
            PinMethod::Shm => "shm",
            PinMethod::Hugetlb => "hugetlb",
        }
    }

    /// Every name, in [`PinMethod::ALL`] order.
    pub fn names() -> Vec<&'static str> {
        PinMethod::ALL.iter().map(|m| m.name()).collect()
    }

    /// Whether it creates a shared segment other tasks may attach.
    pub fn is_shm(self) -> bool {
        matches!(self, PinMethod::Shm | PinMethod::ShmLock)
    }
}

/// A `pin` task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Pin {
    /// Bytes pinned (hugetlb: rounded up to 2 MiB pages).
    pub bytes: u64,
    /// How.
    pub method: PinMethod,
    /// A shm segment's working set, touched again after its fault (`mm/hot.rs`).
    pub working_set: Option<WorkingSet>,
}

/// How far the pinning is.
#[derive(Clone, Copy, Debug)]
pub struct State {
    /// Pages to pin (0 for hugetlb: carved at boot).
    pub total: u64,
    /// Pinned so far.
    pub done: u64,
    /// The shm segment (shm, shm_lock).
    pub seg: Option<usize>,
}

/// `size` and `method`.
pub fn parse<K: TaskKeys + ?Sized>(keys: &mut K) -> Result<Pin, K::Error> {
    let bytes = keys.required_size("size")?;
    let method = PinMethod::ALL[keys.required_choice("method", &PinMethod::names())?];
    let bytes = if method == PinMethod::Hugetlb {
        bytes.div_ceil(HUGE_PAGE).saturating_mul(HUGE_PAGE)
    } else {
        bytes
    };
    let working_set = keys.working_set(
        bytes,
        (!method.is_shm()).then_some(
            "an mlocked or hugetlb region is on no evictable LRU list: reclaim never tests its \
             references; expected `touch_interval` only with `method = \"shm\"` or `\"shm_lock\"`",
        ),
    )?;
    Ok(Pin {
        bytes,
        method,
        working_set,
    })
}

impl Workload for Pin {
    fn total_bytes(&self) -> Option<u64> {
        Some(self.bytes)
    }

    /// The pinned region by its size; an mlocked region's anon pages are that region.
    fn total_vm(&self, anon: u64) -> u64 {
        let region = self.bytes.div_ceil(crate::mm::granularity::BASE_PAGE);
        if self.method == PinMethod::Mlock {
            region
        } else {
            region + anon
        }
    }

    fn pinned_bytes(&self) -> u64 {
        self.bytes
    }

    fn hugetlb_bytes(&self) -> u64 {
        if self.method == PinMethod::Hugetlb {
            self.bytes
        } else {
            0
        }
    }

    fn shared_segment_bytes(&self) -> Option<u64> {
        self.method.is_shm().then_some(self.bytes)
    }

    fn start(&self, m: &mut Machine, t: usize) -> Progress {
        let seg = self
            .method
            .is_shm()
            .then(|| m.new_segment(t, self.method == PinMethod::ShmLock));
        if let (Some(w), Some(s)) = (self.working_set, seg) {
            w.register(m, t, Some(s));
        }
        let total = if self.method == PinMethod::Hugetlb {
            m.tasks[t].done_bytes = self.bytes;
            0
        } else {
            m.granularity.pages_ceil(self.bytes) // what a task touches: rounded up
        };
        Progress::Pin(State {
            total,
            done: 0,
            seg,
        })
    }

    /// Faults the region in, 16 slices' worth per event (a pin is one `mlock()`/`shmget()`).
    fn slice(&self, m: &mut Machine, t: usize) -> Slice {
        let Progress::Pin(mut st) = m.tasks[t].progress else {
            unreachable!("a pin task's progress")
        };
        if let Some(s) = st.seg.filter(|_| m.mem.hot.any()) {
            // The instance's processes fault back the hot pages swapped out (mm/swap_state.rs).
            if let Some(r) = m.swap_in(t, Region::Segment(s)) {
                return r;
            }
        }
        for _ in 0..m.granularity.batch(KernelPages(SLICE_PAGES.0 * 16)) {
            if st.done >= st.total {
                break;
            }
            let Some(id) = m.task_alloc(t, gfp::GFP_HIGHUSER_MOVABLE) else {
                m.tasks[t].progress = Progress::Pin(st);
                return Slice::Sleeping;
            };
            m.stats.vm_events.pgfault += 1;
            match st.seg {
                Some(s) => m.add_shm_page(s, id, true),
                None => {
                    // mlock: a new anon page in a VM_LOCKED vma goes straight to the unevictable
                    // list (page_add_new_anon_rmap → !page_evictable).
                    m.add_anon_page(t, id, pg::MLOCKED);
                    let zid = m.mem.pages[id as usize].zone as usize;
                    m.mem.zones[zid].stat.nr_mlock += 1;
                    m.stats.vm_events.unevictable_pgs_mlocked += 1;
                    m.lru_cache_add(id, LruList::Unevictable);
                }
            }
            st.done += 1;
            m.tasks[t].done_bytes = st.done * m.granularity.page_bytes();
        }
        m.tasks[t].progress = Progress::Pin(st);
        if st.done >= st.total {
            match (st.seg, self.working_set) {
                // It lives on, touching the segment: it wakes for its swap-in faults.
                (Some(s), Some(_)) => m.sleep_touching(t, Region::Segment(s)),
                _ => Slice::Finished,
            }
        } else {
            Slice::Yield
        }
    }
}
