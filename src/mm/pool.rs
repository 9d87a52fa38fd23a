//! Recycled buffers for the next machine booted on the same thread: the page array and the
//! zones' free stacks (over 100 MB for a 16 GiB machine).
//!
//! Nothing in the kernel corresponds; this is the simulator's own memory. Freed to the system
//! allocator, such blocks go back to the OS and the next run faults every page in again (a few
//! tens of milliseconds per 16 GiB machine, with transparent huge pages off). A machine
//! initialises every element it uses, so the recycled contents never show.

use std::cell::RefCell;

use super::page::{Page, PageId};

thread_local! {
    static PAGES: RefCell<Vec<Page>> = const { RefCell::new(Vec::new()) };
    static IDS: RefCell<Vec<Vec<PageId>>> = const { RefCell::new(Vec::new()) };
}

/// An empty page array with room for `n` pages, reusing the last one given back.
pub fn take_pages(n: usize) -> Vec<Page> {
    let mut v = PAGES.with(|p| std::mem::take(&mut *p.borrow_mut()));
    v.clear();
    v.reserve(n);
    v
}

/// Gives a page array back for the next machine (the larger one is kept).
pub fn give_pages(v: Vec<Page>) {
    PAGES.with(|p| {
        let mut p = p.borrow_mut();
        if v.capacity() > p.capacity() {
            *p = v;
        }
    });
}

/// An empty id stack with room for `n` ids, reusing one given back.
pub fn take_ids(n: usize) -> Vec<PageId> {
    let mut v = IDS.with(|p| p.borrow_mut().pop()).unwrap_or_default();
    v.clear();
    v.reserve(n);
    v
}

/// Gives an id stack back (at most 4096 are kept).
pub fn give_ids(v: Vec<PageId>) {
    if v.capacity() == 0 {
        return;
    }
    IDS.with(|p| {
        let mut p = p.borrow_mut();
        if p.len() < 4096 {
            p.push(v);
        }
    });
}
