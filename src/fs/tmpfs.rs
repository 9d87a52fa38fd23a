//! tmpfs / SysV shm (`mm/shmem.c` 2.6.32–2.6.36, reclaim-oom §11): swap-backed pages in shmem
//! segments, no disk. `shmem_writepage()` moves a page to the swap cache and writes it to swap;
//! a SHM_LOCK'd segment, or no free swap slot, makes it redirty the page and return
//! `AOP_WRITEPAGE_ACTIVATE` to reclaim, whatever the policy (shmem's own behaviour).

use super::{Backing, Decision, Filesystem, WritepageCall};
use crate::kernel::Switches;

/// tmpfs.
pub struct Tmpfs;

impl Filesystem for Tmpfs {
    fn name(&self) -> &'static str {
        "tmpfs"
    }

    /// `shmem_writepage()`.
    fn writepage(&self, call: &WritepageCall, _sw: &Switches) -> Decision {
        if call.segment_locked || !call.swap_ok {
            Decision::ShmemActivate
        } else {
            Decision::SwapOut
        }
    }

    fn backing(&self) -> Backing {
        Backing::Swap
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::KSWAPD_PF;
    use super::super::{Decision, FsType, WritepageCall, WritepageCaller};
    use crate::kernel::Switches;
    use crate::mm::page::pg;

    fn shmem(segment_locked: bool, swap_ok: bool) -> Decision {
        let call = WritepageCall {
            flags: pg::DIRTY,
            caller: WritepageCaller::Kswapd,
            current_pf: KSWAPD_PF,
            segment_locked,
            swap_ok,
        };
        FsType::Tmpfs.ops().writepage(&call, &Switches::BASE)
    }

    #[test]
    fn shmem_activates_when_locked_or_without_swap() {
        assert_eq!(shmem(true, true), Decision::ShmemActivate);
        assert_eq!(shmem(false, false), Decision::ShmemActivate);
        assert_eq!(shmem(false, true), Decision::SwapOut);
    }
}
