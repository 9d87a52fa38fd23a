//! The swap token: 2.6.32's `mm/thrash.c` (`grab_swap_token()`, `__put_swap_token()`), its use
//! in `mm/rmap.c` `page_referenced_one()` and `mm/vmscan.c`'s `disable_swap_token()` at
//! priority 0, switch `swap_token` (crate::kernel). Gone in 3.5 ("mm: remove swap token code").
//!
//! A task contends for the token at the start of every major swap-in fault
//! (`do_swap_page()`, "Contend for token _before_ read-in"; a shm fault in `shmem_getpage()` does
//! not). Its priority rises when its faults come closer together than last time and falls
//! otherwise; it takes the token when its priority passes the holder's, and every fault of the
//! holder raises the holder's by 2. While the holder is in the middle of a page fault
//! (`rwsem_is_locked(&mm->mmap_sem)`: it waits for a swap-in read, or for a page for a fault),
//! `page_referenced_one()` counts a reference for every page the holder maps, unless the
//! reclaimer is the holder itself (`mm != current->mm`): reclaim by kswapd and by other tasks
//! activates those pages instead of swapping them out. Reclaim that reaches priority 0 takes
//! the token away ("The swap token gets in the way of swapout..."). The holder's exit
//! (`mmput()` → `put_swap_token()`) frees it.
//!
//! The model's `spin_trylock(&swap_token_lock)` always succeeds (faults are handled one at a
//! time). The later memcg filter (`swap_token_memcg`) has no effect without memory cgroups.

use super::gfp;
use super::machine::Machine;
use super::page::{pg, Page};
use super::Actor;
use crate::kernel::SwapToken as Rule;

/// `TOKEN_AGING_INTERVAL` [3.0+]: swap-in faults between two halvings of the holder's priority.
const TOKEN_AGING_INTERVAL: u32 = 0xFF;

/// The machine's token: `swap_token_mm`, `global_faults`, `last_aging`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SwapToken {
    /// The task holding it (`swap_token_mm`).
    pub holder: Option<usize>,
    /// Major swap-in faults so far (`global_faults`, an `unsigned int`).
    global_faults: u32,
    /// `global_faults` at the last halving of the holder's priority [3.0+].
    last_aging: u32,
}

impl SwapToken {
    /// `grab_swap_token()`'s arithmetic for task `t` (`mine`), against the holder's share
    /// (`theirs`) when another task holds the token; `aging`: [3.0+] halve the holder's
    /// priority every [`TOKEN_AGING_INTERVAL`] faults.
    fn contend(
        &mut self,
        t: usize,
        mine: &mut TaskToken,
        theirs: Option<&mut TaskToken>,
        aging: bool,
    ) {
        self.global_faults = self.global_faults.wrapping_add(1);
        let current_interval = self.global_faults.wrapping_sub(mine.faultstamp);
        let replace = match (self.holder, theirs) {
            (None, _) => true, // "First come first served"
            (Some(_), theirs) => {
                let aged = aging
                    && self.global_faults.wrapping_sub(self.last_aging) > TOKEN_AGING_INTERVAL;
                if aged {
                    self.last_aging = self.global_faults;
                }
                match theirs {
                    None => {
                        // "Token holder came in again!"
                        if aged {
                            mine.priority /= 2;
                        }
                        mine.priority += 2;
                        false
                    }
                    Some(theirs) => {
                        if aged {
                            theirs.priority /= 2;
                        }
                        if current_interval < mine.last_interval {
                            mine.priority += 1;
                        } else {
                            mine.priority = mine.priority.saturating_sub(1);
                        }
                        mine.priority > theirs.priority // "Check if we deserve the token"
                    }
                }
            }
        };
        if replace {
            mine.priority += 2;
            self.holder = Some(t);
        }
        mine.faultstamp = self.global_faults;
        mine.last_interval = current_interval;
    }
}

/// A task's (its mm's) share: `token_priority`, `faultstamp`, `last_interval` (`unsigned int`
/// in `struct mm_struct`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TaskToken {
    /// `token_priority`.
    pub priority: u32,
    /// `faultstamp`: `global_faults` at its last fault.
    faultstamp: u32,
    /// `last_interval`: faults between its last two.
    last_interval: u32,
}

/// The holder, for `page_referenced()` during one reclaim batch: a page it maps (an anon page
/// it owns, or a page of a segment it attached: `Memory::token_segments`) counts as referenced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenHolder {
    /// The holding task.
    pub task: u32,
}

impl TokenHolder {
    /// `page_referenced_one()`'s pretend reference: whether `p` is mapped by the holder, whose
    /// attached segments are `segments` (by segment index).
    #[inline]
    pub fn maps(&self, p: &Page, segments: &[bool]) -> bool {
        if !p.has(pg::MAPPED) {
            return false;
        }
        if p.has(pg::ANON) {
            return p.owner == self.task;
        }
        p.has(pg::SHMEM) && segments.get(p.owner as usize).copied().unwrap_or(false)
    }
}

impl Machine {
    /// `grab_swap_token(mm)`: task `t` begins a major swap-in fault.
    pub(crate) fn grab_swap_token(&mut self, t: usize) {
        let aging = match self.switches.swap_token {
            Rule::Removed => return,
            Rule::FaultRate => false,
            Rule::Aging => true,
        };
        let mut mine = self.tasks[t].token;
        let before = self.swap_token.holder;
        match self.swap_token.holder.filter(|&h| h != t) {
            Some(h) => {
                let mut theirs = self.tasks[h].token;
                self.swap_token
                    .contend(t, &mut mine, Some(&mut theirs), aging);
                self.tasks[h].token = theirs;
            }
            None => self.swap_token.contend(t, &mut mine, None, aging),
        }
        self.tasks[t].token = mine;
        if self.swap_token.holder != before {
            self.set_token_segments();
        }
    }

    /// `Memory::token_segments` for the current holder (again when a segment is created).
    pub(crate) fn set_token_segments(&mut self) {
        let attach = self.swap_token.holder.map(|h| &self.tasks[h].attach);
        self.mem.token_segments.clear();
        self.mem.token_segments.extend(
            self.vfs
                .segments
                .iter()
                .map(|seg| attach.is_some_and(|a| a.contains(&seg.owner))),
        );
    }

    /// `put_swap_token(mm)` at the task's exit.
    pub(crate) fn put_swap_token(&mut self, t: usize) {
        if self.swap_token.holder == Some(t) {
            self.swap_token.holder = None;
            self.set_token_segments();
        }
    }

    /// `disable_swap_token()`: reclaim reached priority 0.
    pub(crate) fn disable_swap_token(&mut self) {
        if self.swap_token.holder.take().is_some() {
            self.set_token_segments();
        }
    }

    /// The holder whose pages `page_referenced()` counts as referenced for a reclaim batch by
    /// `current`: a holder other than `current` that is in the middle
    /// of a page fault (`rwsem_is_locked(&mm->mmap_sem)`: its swap-in reads are in flight or
    /// their pages are being allocated, or it sleeps in the allocator for a fault's page).
    pub(crate) fn token_holder(&self, current: Actor) -> Option<TokenHolder> {
        let h = self.swap_token.holder?;
        if current == Actor::Task(h) {
            return None;
        }
        let task = &self.tasks[h];
        let faulting = !task.read_pages.is_empty()
            || task
                .alloc
                .as_ref()
                .is_some_and(|a| a.gfp == gfp::GFP_HIGHUSER_MOVABLE);
        faulting.then_some(TokenHolder { task: h as u32 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Task `t` faults once.
    fn fault(tok: &mut SwapToken, shares: &mut [TaskToken], t: usize, aging: bool) {
        let mut mine = shares[t];
        match tok.holder.filter(|&h| h != t) {
            Some(h) => {
                let mut theirs = shares[h];
                tok.contend(t, &mut mine, Some(&mut theirs), aging);
                shares[h] = theirs;
            }
            None => tok.contend(t, &mut mine, None, aging),
        }
        shares[t] = mine;
    }

    #[test]
    fn the_first_contender_takes_the_token_and_each_of_its_faults_raises_its_priority_by_two() {
        let mut tok = SwapToken::default();
        let mut shares = [TaskToken::default(); 2];
        fault(&mut tok, &mut shares, 0, false);
        assert_eq!((tok.holder, shares[0].priority), (Some(0), 2));
        fault(&mut tok, &mut shares, 0, false);
        assert_eq!(shares[0].priority, 4);
    }

    #[test]
    fn a_task_takes_the_token_once_its_faults_come_ever_closer_and_its_priority_passes_the_holders()
    {
        let mut tok = SwapToken::default();
        let mut shares = [TaskToken::default(); 3];
        // Task 0 takes it (priority 2); task 2's faults space task 1's out: task 1's intervals
        // are 2, 4, 3, 2, 1 faults, so its priority goes 0, 0, 1, 2 and then 3, past 2.
        for t in [0, 1, 2, 2, 2, 1, 2, 2, 1, 2, 1] {
            fault(&mut tok, &mut shares, t, false);
        }
        assert_eq!((tok.holder, shares[1].priority), (Some(0), 2));
        fault(&mut tok, &mut shares, 1, false);
        assert_eq!((tok.holder, shares[1].priority), (Some(1), 3 + 2));
        // A fault no closer than the last one lowers it again.
        fault(&mut tok, &mut shares, 2, false);
        assert_eq!(shares[2].priority, 0);
    }

    #[test]
    fn from_3_0_the_holders_priority_halves_every_256_faults() {
        for aging in [false, true] {
            let mut tok = SwapToken::default();
            let mut shares = [TaskToken::default(); 1];
            for _ in 0..301 {
                fault(&mut tok, &mut shares, 0, aging);
            }
            // 2 at the first fault and + 2 at each of the 300 after; with aging, the 256th
            // (256 faults past the last aging, at 0) first halves the 2 + 2 × 254.
            let expect = if aging {
                (2 + 2 * 254) / 2 + 2 + 2 * 45
            } else {
                2 + 2 * 300
            };
            assert_eq!(shares[0].priority, expect, "aging {aging}");
        }
    }

    #[test]
    fn the_holder_maps_its_own_anon_pages_and_the_segments_it_attached_when_they_are_mapped() {
        let h = TokenHolder { task: 3 };
        let segments = [false, true];
        let page = |flags: u32, owner: u32| Page {
            flags,
            owner,
            ..Page::new(0)
        };
        assert!(h.maps(&page(pg::ANON | pg::MAPPED, 3), &segments));
        assert!(!h.maps(&page(pg::ANON | pg::MAPPED, 2), &segments));
        assert!(
            !h.maps(&page(pg::ANON | pg::SWAPCACHE, 3), &segments),
            "unmapped"
        );
        assert!(h.maps(&page(pg::SHMEM | pg::MAPPED, 1), &segments));
        assert!(!h.maps(&page(pg::SHMEM | pg::MAPPED, 0), &segments));
    }
}
