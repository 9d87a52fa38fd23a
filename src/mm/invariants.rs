//! The invariant checker: the kernel's `CONFIG_DEBUG_VM` assertions, made stronger and kept apart
//! from the code they check.
//!
//! [`Machine::verify`] recounts every zone counter, list length and per-device count from the
//! state of the pages themselves (their flags, their [`Place`], the lists that thread through
//! them, the disks' requests) and compares. It shares no helper with the code that maintains
//! those counters, so a bookkeeping slip in the model cannot hide itself. Between events it
//! requires:
//!
//! - every page is in exactly one place: on its zone's buddy list, on one per-CPU list, on one LRU
//!   list (reached by walking the list, whose links and length agree), or held (kernel, hugetlb,
//!   in use off the LRU); none is left isolated;
//! - a free page carries no flag (not dirty, not under writeback, not on an LRU);
//! - NR_FREE_PAGES, the per-CPU counts, the LRU lengths, NR_FILE_DIRTY, NR_WRITEBACK,
//!   NR_ISOLATED_*, NR_MLOCK, NR_SHMEM and the kernel-page count equal their recounts;
//! - a page is under `PG_writeback` exactly when one write request of one disk holds it, and each
//!   bdi's BDI_WRITEBACK equals the pages its disk holds; each journal's in-flight count equals
//!   the pages of its data requests;
//! - each file's count of dirty tags equals its `PG_dirty` pages, and BDI_RECLAIMABLE is their
//!   sum;
//! - (deep checks only: every [`DEEP_EVERY`]th check in a run, and every call of
//!   [`Machine::verify`]) each LRU list's links are consistent and reach exactly the pages that
//!   say they are on it, every cached file page sits in its file's slot and is tagged when
//!   dirty, and every cached slot of every file holds a live page of that file at that index; these
//!   read memory at random (`fs::page_index`: O(cached pages)), so they are sampled;
//! - no page was freed while dirty ([`Tracker::note_free`], fed by the page-free path): dirty data
//!   leaves memory only by being written, or by truncate, which cancels the dirty bit first.
//!
//! The engine itself checks that time never goes back, before every event (`engine::run_checked`).

use std::fmt;

use super::page::{pg, LruList, PageId, Place, NIL};
use super::slab::CacheId;
use super::Machine;
use crate::block::ReqKind;
use crate::sim::SimTime;

/// What the hooks in the model record for the checker (they only record; the checker judges).
#[derive(Clone, Debug, Default)]
pub struct Tracker {
    /// The first page freed with `PG_dirty` set: `(pfn, flags, when)`.
    pub dirty_freed: Option<(PageId, u32, SimTime)>,
}

impl Tracker {
    /// Called by `free_page()` for every page it frees, before the flags are cleared.
    #[inline]
    pub fn note_free(&mut self, id: PageId, flags: u32, now: SimTime) {
        if flags & pg::DIRTY != 0 && self.dirty_freed.is_none() {
            self.dirty_freed = Some((id, flags, now));
        }
    }
}

/// A broken invariant, with what it takes to reproduce it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvariantViolation {
    /// The number of the event after which the check failed (0: at boot).
    pub event: u64,
    /// Simulated time of that event, ns.
    pub at_ns: u64,
    /// The run's seed.
    pub seed: u64,
    /// The run's kernel release name.
    pub release: &'static str,
    /// The run's policy name.
    pub policy: &'static str,
    /// What is wrong.
    pub what: String,
}

impl fmt::Display for InvariantViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invariant violated after event {} at {}.{:09}s (seed {}, release {}, policy {}): {}",
            self.event,
            self.at_ns / 1_000_000_000,
            self.at_ns % 1_000_000_000,
            self.seed,
            self.release,
            self.policy,
            self.what
        )
    }
}

impl std::error::Error for InvariantViolation {}

/// Where the structures put a page, as found by walking them (one byte per page).
mod seen {
    /// In no structure.
    pub const NONE: u8 = 0;
    /// On its zone's buddy list.
    pub const BUDDY: u8 = 1;
    /// On a per-CPU list.
    pub const PCP: u8 = 2;
    /// On LRU list `l`: `LRU + l`.
    pub const LRU: u8 = 3;
    /// Found twice.
    pub const TWICE: u8 = 0x7f;
    /// Also held by a write request (a bit on top of the list code).
    pub const IN_WRITE: u8 = 0x80;
}

/// Returns `Err(message)` from the enclosing function unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

impl Machine {
    /// Recounts everything from page state, walking every list and every file slot, and
    /// reports the first disagreement.
    pub fn verify(&self) -> Result<(), String> {
        self.verify_depth(true)
    }

    /// [`Machine::verify`]; with `deep` false it skips the walks that chase links across memory
    /// (the LRU links and every file's slots) and checks the rest, which is one sequential pass
    /// over the pages. The engine makes every [`DEEP_EVERY`]th page recount deep. The page
    /// recount runs before the structure checks so that a drifting zone counter is named by
    /// its zone and count, not by the machine-wide sum it also spoils.
    pub fn verify_depth(&self, deep: bool) -> Result<(), String> {
        self.check_dirty_freed()?;
        self.verify_pages(deep)?;
        self.verify_structures()
    }

    /// The checks whose cost does not grow with memory or with IO in flight: O(zones + tasks +
    /// a mechanism's own objects). The engine runs them after every event whenever it checks
    /// at all, so what they catch is caught at the event that did it. A new mechanism's check
    /// over its own state (journal handles, slab caches, the request pool) is a `check_*`
    /// function called here (docs/ROBUSTNESS.md, "Adding a check").
    #[inline]
    pub fn verify_structures(&self) -> Result<(), String> {
        self.check_dirty_freed()?;
        self.check_fast_skips()?;
        self.check_nothing_isolated()?;
        self.check_writeback_waiters()?;
        self.check_global_counts()?;
        self.check_slab()
    }

    /// The recount from page state: one sequential pass over every page, the free and per-CPU
    /// lists and the disks' requests (O(pages)); with `deep` also the LRU links and every
    /// file's slots (random memory). A count that can be recounted from a page's flags is a
    /// field of `ZoneCount` (one line in `ZoneCount::add`, one in the kept values).
    pub fn verify_pages(&self, deep: bool) -> Result<(), String> {
        let mut at = self.walk_lists(deep)?;
        self.walk_requests(&mut at)?;
        self.recount_pages(&at, deep)?;
        if deep {
            self.walk_page_cache_slots()?;
        }
        Ok(())
    }

    /// No page was freed while dirty (what [`Tracker::note_free`] recorded).
    fn check_dirty_freed(&self) -> Result<(), String> {
        if let Some((id, flags, at)) = self.tracker.dirty_freed {
            return Err(format!(
                "page {id} was freed while dirty (flags {flags:#x}) at {at} ns: dirty data dropped without writeback or truncate"
            ));
        }
        Ok(())
    }

    /// Every task in `wait_on_page_writeback()` waits for a page still under writeback
    /// (`end_page_writeback()` wakes it), and every task in `lock_page()`/`lock_buffer()` for a
    /// page still locked or under the journal's write (their ends wake it).
    fn check_writeback_waiters(&self) -> Result<(), String> {
        for &(id, t) in &self.mem.writeback_waiters {
            let flags = self.mem.pages[id as usize].flags;
            ensure!(
                flags & pg::WRITEBACK != 0,
                "task {t} waits for page {id}'s write, which is not under writeback ({flags:#x})"
            );
        }
        for &(id, t) in &self.mem.lock_waiters {
            let flags = self.mem.pages[id as usize].flags;
            ensure!(
                flags & (pg::LOCKED | pg::JOURNAL_IO) != 0,
                "task {t} waits to lock page {id}, which is neither locked nor under the \
                 journal's write ({flags:#x})"
            );
        }
        Ok(())
    }

    /// No zone counts isolated pages between events (reclaim puts back what it takes).
    fn check_nothing_isolated(&self) -> Result<(), String> {
        for (zid, z) in self.mem.zones.iter().enumerate() {
            ensure!(
                z.stat.nr_isolated_anon + z.stat.nr_isolated_file == 0,
                "zone {zid}: NR_ISOLATED is {} + {} between events",
                z.stat.nr_isolated_anon,
                z.stat.nr_isolated_file
            );
        }
        Ok(())
    }

    /// Every zone the allocator's fast path skips for a task (`Task::fast_skip`) is at or below
    /// its low watermark.
    fn check_fast_skips(&self) -> Result<(), String> {
        for (t, task) in self.tasks.iter().enumerate() {
            ensure!(
                task.fast_skip <= task.mems_zonelist.len(),
                "task {t} skips {} zones of a zonelist of {}",
                task.fast_skip,
                task.mems_zonelist.len()
            );
            for &z in &task.mems_zonelist[..task.fast_skip] {
                ensure!(
                    !self.fast_watermark_ok(t, z as usize),
                    "the fast path of task {t} skips zone {z}, which is above its low watermark"
                );
            }
        }
        Ok(())
    }

    /// The machine-wide counts (`vm_stat`) are the sums of the zones' (which the recount below
    /// checks against page state).
    fn check_global_counts(&self) -> Result<(), String> {
        let mut sum = super::memory::VmStat::default();
        for z in &self.mem.zones {
            sum.nr_free += z.nr_free();
            sum.nr_dirty += z.stat.nr_dirty;
            sum.nr_writeback += z.stat.nr_writeback;
            for (n, l) in sum.nr_lru.iter_mut().zip(&z.nr_zone_lru) {
                *n += l;
            }
        }
        // Field by field: `==` on the struct calls memcmp, a tenth of a sampled check's cost.
        let kept = &self.mem.vm_stat;
        let same = (sum.nr_free == kept.nr_free)
            & (sum.nr_dirty == kept.nr_dirty)
            & (sum.nr_writeback == kept.nr_writeback)
            & sum.nr_lru.iter().zip(&kept.nr_lru).all(|(a, b)| a == b);
        ensure!(
            same,
            "the global counts {:?} are not the sums of the zones' {:?}",
            self.mem.vm_stat,
            sum
        );
        Ok(())
    }

    /// The slab caches against the zones (`mm/slab.rs`): the reclaimable caches' pages are the
    /// zones' NR_SLAB_RECLAIMABLE, and no cache holds more than one page beyond what its objects
    /// need (a cache frees every page its objects leave empty, `discard_slab`; the one page is a
    /// slab grown while the allocation's own reclaim freed objects of the same cache, which the
    /// kernel also keeps, on `slabs_free`, until `cache_reap`). O(zones + caches).
    fn check_slab(&self) -> Result<(), String> {
        let g = self.granularity.factor();
        let mut reclaimable = 0;
        for c in &self.slab.caches {
            let need = c.pages_for(c.objects, g);
            ensure!(
                c.pages.len() as u64 <= need + 1,
                "slab cache {} holds {} pages for {} objects, which need {need}",
                c.name,
                c.pages.len(),
                c.objects
            );
            if c.reclaimable {
                reclaimable += c.pages.len() as u64;
            }
        }
        let counted: u64 = self
            .mem
            .zones
            .iter()
            .map(|z| z.stat.nr_slab_reclaimable)
            .sum();
        ensure!(
            reclaimable == counted,
            "the reclaimable slab caches hold {reclaimable} pages but the zones count {counted}"
        );
        // Each journal's running and committing transactions are its transaction_t objects.
        let transactions: u64 = self
            .vfs
            .mounts
            .iter()
            .map(|mt| mt.journal.live_transactions())
            .sum();
        let objects = self.slab.caches[CacheId::Transaction as usize].objects;
        ensure!(
            objects == transactions,
            "kmalloc-256 holds {objects} transaction_t but the journals have {transactions}"
        );
        // The filesystem metadata pages are the groups' loaded pages, the frozen copies and the
        // undo copies of every mount.
        let metadata: u64 = self
            .vfs
            .mounts
            .iter()
            .map(|mt| {
                let j = &mt.journal;
                mt.mb_groups.len() as u64 * mt.group_metadata_pages
                    + mt.mb_loading
                    + j.frozen
                    + j.frozen_loading()
                    + j.undo_pages()
            })
            .sum();
        let objects = self.slab.caches[CacheId::FsMetadata as usize].objects;
        ensure!(
            objects == metadata,
            "the metadata cache holds {objects} pages but the mounts account for {metadata}"
        );
        Ok(())
    }

    /// The old panicking entry point: checks and panics with the violation.
    pub fn check_invariants(&self) {
        if let Err(what) = self.verify() {
            panic!("{}", self.violation(what));
        }
    }

    /// Wraps a checker message with the run's coordinates.
    pub fn violation(&self, what: String) -> InvariantViolation {
        InvariantViolation {
            event: self.clock.events,
            at_ns: self.clock.now,
            seed: self.spec.seed,
            release: self.release.name(),
            policy: self.policy_name(),
            what,
        }
    }

    /// Walks every free list and per-CPU list (and with `deep` every LRU list, checking its
    /// links and length), checking each page belongs to the list's zone, and records where each
    /// page was found.
    fn walk_lists(&self, deep: bool) -> Result<Vec<u8>, String> {
        let mut at = vec![seen::NONE; self.mem.pages.len()];
        for (zid, z) in self.mem.zones.iter().enumerate() {
            // A zone's pages are the pfns start_pfn..start_pfn + present (fixed at boot).
            let zones = &self.mem.zones;
            let pages = &self.mem.pages;
            let mut mark = |id: PageId, code: u8, what: &str| -> Result<(), String> {
                // [4.8+] a node's lruvec (held by its lowest zone) holds all its zones' pages.
                let ours = if code >= seen::LRU {
                    pages
                        .get(id as usize)
                        .is_some_and(|p| zones[p.zone as usize].lruvec as usize == zid)
                } else {
                    (id as u64).wrapping_sub(z.start_pfn) < z.present
                };
                ensure!(
                    ours,
                    "{what} of zone {zid} holds page {id}, which is not in the zone"
                );
                let slot = &mut at[id as usize];
                *slot = if *slot == seen::NONE {
                    code
                } else {
                    seen::TWICE
                };
                Ok(())
            };
            for &id in &z.free {
                mark(id, seen::BUDDY, "the buddy list")?;
            }
            for &id in z.pcp.iter().flatten() {
                mark(id, seen::PCP, "a per-CPU list")?;
            }
            if !deep {
                continue;
            }
            for (l, head) in z.lru.iter().enumerate() {
                let mut prev = NIL;
                let mut id = head.head;
                let mut len = 0u64;
                while id != NIL {
                    ensure!(
                        len <= self.mem.pages.len() as u64,
                        "zone {zid} LRU list {l} loops"
                    );
                    mark(id, seen::LRU + l as u8, "an LRU list")?;
                    let p = &self.mem.pages[id as usize];
                    ensure!(
                        p.prev == prev,
                        "zone {zid} LRU list {l}: page {id}'s prev is {} but the walk came from {prev}",
                        p.prev
                    );
                    len += 1;
                    prev = id;
                    id = p.next;
                }
                ensure!(
                    head.tail == prev,
                    "zone {zid} LRU list {l}: the tail is {} but the walk ends at {prev}",
                    head.tail
                );
                ensure!(
                    head.len == len,
                    "zone {zid} LRU list {l}: the length is {} but {len} pages are linked",
                    head.len
                );
            }
        }
        Ok(at)
    }

    /// Walks every disk's requests: marks pages held by write requests (`seen::IN_WRITE`), checks
    /// reads are locked, and compares each bdi's BDI_WRITEBACK and each journal's in-flight count
    /// with what the disks hold.
    fn walk_requests(&self, at: &mut [u8]) -> Result<(), String> {
        let mut journal = vec![0u64; self.vfs.mounts.len()];
        for (d, disk) in self.io.disks.iter().enumerate() {
            check_request_lists(d, disk)?;
            let mut writes = 0u64;
            for r in disk.held() {
                for &id in &r.pages {
                    let p =
                        self.mem.pages.get(id as usize).ok_or_else(|| {
                            format!("disk {d} holds page {id}, beyond the last pfn")
                        })?;
                    match r.kind {
                        ReqKind::Write | ReqKind::SyncWrite => {
                            let slot = &mut at[id as usize];
                            ensure!(
                                *slot & seen::IN_WRITE == 0,
                                "page {id} is in two write requests"
                            );
                            *slot |= seen::IN_WRITE;
                            // Swap cache pages are in no bdi's BDI_WRITEBACK.
                            writes += u64::from(p.flags & pg::SWAPCACHE == 0);
                        }
                        ReqKind::JournalData { mount } => {
                            ensure!(
                                mount < journal.len(),
                                "disk {d} holds journal data of mount {mount}, which does not exist"
                            );
                            journal[mount] += 1;
                        }
                        ReqKind::MetaRead { .. } => {
                            ensure!(false, "disk {d} holds page {id} in a metadata read")
                        }
                        ReqKind::Read { .. } => ensure!(
                            p.flags & pg::LOCKED != 0,
                            "disk {d} reads page {id}, which is not locked (flags {:#x})",
                            p.flags
                        ),
                    }
                }
            }
            // [ext4 dioread_nolock] pages whose request completed wait for their io_end's
            // conversion: still PG_writeback, still counted by their bdi.
            for id in self.wb.io_ends.held() {
                if self.page_bdi(id) == Some(d) {
                    ensure!(
                        at[id as usize] & seen::IN_WRITE == 0,
                        "page {id} is both in a write request and parked on its io_end"
                    );
                    at[id as usize] |= seen::IN_WRITE;
                    writes += 1;
                }
            }
            if let Some(b) = self.wb.bdis.iter().find(|b| b.disk == d) {
                ensure!(
                    b.writeback == writes,
                    "the bdi of disk {d} counts {} pages under writeback but the disk holds {writes}",
                    b.writeback
                );
            }
        }
        for (m, (mt, n)) in self.vfs.mounts.iter().zip(&journal).enumerate() {
            ensure!(
                mt.journal.outstanding == *n,
                "mount {m}: the journal counts {} data pages in flight but the disks hold {n}",
                mt.journal.outstanding
            );
        }
        Ok(())
    }

    /// One pass over the pages: each is where its `place` says and the lists found it, free
    /// pages carry no flag, `PG_writeback` means "in one write request", a cached file page is in
    /// its file's slot and tagged when dirty; then every zone, file and bdi counter is compared
    /// with its recount.
    fn recount_pages(&self, at: &[u8], deep: bool) -> Result<(), String> {
        let mut file_dirty = vec![0u64; self.vfs.inodes.len()];
        let spanned: u64 = self.mem.zones.iter().map(|z| z.present).sum();
        ensure!(
            spanned == self.mem.pages.len() as u64,
            "the zones span {spanned} pages but the machine has {}",
            self.mem.pages.len()
        );
        for zid in 0..self.mem.zones.len() {
            self.recount_zone(zid, at, deep, &mut file_dirty)?;
        }
        self.recount_files(&file_dirty)
    }

    /// The pages of zone `zid` (one contiguous pfn range, counted in locals) against its
    /// counters; each file page's dirty bit is added to `file_dirty` of its file.
    fn recount_zone(
        &self,
        zid: usize,
        at: &[u8],
        deep: bool,
        file_dirty: &mut [u64],
    ) -> Result<(), String> {
        let z = &self.mem.zones[zid];
        let first = z.start_pfn as usize;
        let zone_pages = self
            .mem
            .pages
            .get(first..first + z.present as usize)
            .ok_or_else(|| format!("zone {zid} spans pfns beyond the last page"))?;
        let mut c = ZoneCount::default();
        for (i, p) in zone_pages.iter().enumerate() {
            let pfn = first + i;
            // The fast test is branch-free; a page that fails it is diagnosed in words.
            let code = at[pfn];
            let free = matches!(p.place, Place::Buddy | Place::Pcp);
            let on_lru = p.place == Place::Lru;
            let bad = (code & !seen::IN_WRITE != expected_seen(p.place, p.lru, deep))
                | (p.zone as usize != zid)
                | (p.place == Place::Isolated)
                | (free & (p.flags != 0))
                | (on_lru != (p.flags & pg::LRU != 0))
                | (on_lru & (p.lru == LruList::Unevictable) & (p.flags & pg::UNEVICTABLE == 0))
                | ((p.flags & pg::WRITEBACK != 0) != (code & seen::IN_WRITE != 0));
            if bad {
                return Err(diagnose_page(pfn, zid, p, code, deep));
            }
            if p.flags & pg::FILE != 0 {
                // Free pages have no flags, so this is a cached file page.
                let ino = p.owner as usize;
                let dirty = file_dirty.get_mut(ino).ok_or_else(|| {
                    format!("file page {pfn} belongs to file {ino}, which does not exist")
                })?;
                *dirty += u64::from(p.flags & pg::DIRTY != 0);
                if deep {
                    self.check_cached(pfn, ino, p.index, p.flags)?;
                }
            }
            c.add(p.place, p.lru, p.flags);
        }
        let kept = ZoneCount {
            lru: z.nr_zone_lru,
            free: z.free.len() as u64,
            pcp: z.pcp.iter().map(|l| l.len() as u64).sum(),
            dirty: z.stat.nr_dirty,
            writeback: z.stat.nr_writeback,
            mlock: z.stat.nr_mlock,
            shmem: z.stat.nr_shmem,
            kernel: z.stat.nr_kernel,
            slab_reclaimable: z.stat.nr_slab_reclaimable,
        };
        ensure!(
            kept == c,
            "zone {zid}'s counters disagree with its pages:\n  counters {kept:?}\n  recount  {c:?}"
        );
        Ok(())
    }

    /// Each file's dirty tags against its dirty pages (`file_dirty`), and each bdi's
    /// BDI_RECLAIMABLE against its files' dirty pages.
    fn recount_files(&self, file_dirty: &[u64]) -> Result<(), String> {
        // `tag_dirty` moves `nr_dirty` only when a bit flips, so `nr_dirty` is the number of tags;
        // every dirty page is tagged (checked when deep), so equal counts mean tags = dirty pages.
        let mut reclaimable = vec![0u64; self.wb.bdis.len()];
        for (ino, (inode, &dirty)) in self.vfs.inodes.iter().zip(file_dirty).enumerate() {
            ensure!(
                inode.nr_dirty == dirty,
                "file {ino}: {} indices are tagged dirty but {dirty} of its pages are dirty",
                inode.nr_dirty
            );
            if let Some(b) = self.vfs.mounts[inode.mount].spec.disk {
                reclaimable[b] += dirty;
            }
        }
        for (b, bdi) in self.wb.bdis.iter().enumerate() {
            ensure!(
                bdi.reclaimable == reclaimable[b],
                "bdi {b}: BDI_RECLAIMABLE is {} but its files have {} dirty pages",
                bdi.reclaimable,
                reclaimable[b]
            );
        }
        Ok(())
    }

    /// A page-cache page of file `ino` at `index`: the file's slot holds it, and it is tagged
    /// dirty when `PG_dirty` is set (deep checks only: this reads the file's slot, anywhere in
    /// memory).
    fn check_cached(&self, pfn: usize, ino: usize, index: u32, flags: u32) -> Result<(), String> {
        let inode = &self.vfs.inodes[ino];
        let idx = index as usize;
        ensure!(
            inode.pages.get(index) == pfn as PageId,
            "file page {pfn} says it is index {idx} of file {ino} but the file's slot holds {}",
            inode.pages.get(index)
        );
        ensure!(
            flags & pg::DIRTY == 0 || inode.pages.is_tagged(index),
            "file page {pfn} (file {ino} index {idx}) is dirty but not tagged dirty"
        );
        Ok(())
    }

    /// Every file's slots, one by one: a cached slot holds a live page of that file at that index.
    fn walk_page_cache_slots(&self) -> Result<(), String> {
        for (ino, inode) in self.vfs.inodes.iter().enumerate() {
            for (idx, id) in inode.pages.iter() {
                let p =
                    self.mem.pages.get(id as usize).ok_or_else(|| {
                        format!("file {ino} caches page {id}, beyond the last pfn")
                    })?;
                ensure!(
                    p.flags & pg::FILE != 0
                        && p.owner as usize == ino
                        && p.index == idx
                        && !matches!(p.place, Place::Buddy | Place::Pcp),
                    "file {ino} index {idx} holds page {id}, which is not its page (flags {:#x}, owner {}, index {}, {:?})",
                    p.flags,
                    p.owner,
                    p.index,
                    p.place
                );
            }
        }
        Ok(())
    }
}

/// The zone counters the checker recounts.
#[derive(Default, Clone, PartialEq, Eq, Debug)]
struct ZoneCount {
    lru: [u64; 5],
    free: u64,
    pcp: u64,
    dirty: u64,
    writeback: u64,
    mlock: u64,
    shmem: u64,
    kernel: u64,
    slab_reclaimable: u64,
}

impl ZoneCount {
    /// Counts one page: the LRU list lengths, NR_FREE_PAGES (buddy), the per-CPU lists, NR_FILE_DIRTY (dirty file
    /// pages), NR_WRITEBACK, NR_MLOCK, NR_SHMEM (shmem pages not moved to the swap cache) and the
    /// kernel's own pages.
    #[inline(always)]
    fn add(&mut self, place: Place, lru: LruList, flags: u32) {
        self.lru[lru as usize] += u64::from(place == Place::Lru);
        self.free += u64::from(place == Place::Buddy);
        self.pcp += u64::from(place == Place::Pcp);
        self.dirty += u64::from(flags & (pg::DIRTY | pg::FILE) == pg::DIRTY | pg::FILE);
        self.writeback += u64::from(flags & pg::WRITEBACK != 0);
        self.mlock += u64::from(flags & pg::MLOCKED != 0);
        self.shmem += u64::from(flags & (pg::SHMEM | pg::SWAPCACHE) == pg::SHMEM);
        self.kernel += u64::from(flags & pg::KERNEL != 0);
        self.slab_reclaimable += u64::from(flags & pg::SLAB != 0);
    }
}

/// One check in this many is deep (walks the LRU links and every file's slots).
pub const DEEP_EVERY: u64 = 64;

/// The [`seen`] code a page in `place` must have: an LRU page's list when the LRU lists were
/// walked (`deep`), none otherwise; an isolated page has none it could have.
#[inline(always)]
fn expected_seen(place: Place, lru: LruList, deep: bool) -> u8 {
    const BY_PLACE: [u8; 5] = [seen::BUDDY, seen::PCP, seen::LRU, 0xfe, seen::NONE];
    match (place, deep) {
        (Place::Lru, true) => seen::LRU + lru as u8,
        (Place::Lru, false) => seen::NONE,
        _ => BY_PLACE[place as usize],
    }
}

/// Says in words why page `pfn` failed the fast test of `recount_pages`.
#[cold]
fn diagnose_page(pfn: usize, zid: usize, p: &super::page::Page, code: u8, deep: bool) -> String {
    let found = code & !seen::IN_WRITE;
    let in_write = code & seen::IN_WRITE != 0;
    let writeback = p.flags & pg::WRITEBACK != 0;
    if p.zone as usize != zid {
        format!(
            "page {pfn} lies in zone {zid} but says it is in zone {}",
            p.zone
        )
    } else if found == seen::TWICE {
        format!("page {pfn} is on two lists at once")
    } else if p.place == Place::Isolated {
        format!("page {pfn} was left isolated after an event")
    } else if found != expected_seen(p.place, p.lru, deep) {
        let list = if p.place == Place::Lru {
            format!(" ({:?})", p.lru)
        } else {
            String::new()
        };
        format!(
            "page {pfn} is {:?}{list} but the lists hold it {}",
            p.place,
            describe(found)
        )
    } else if matches!(p.place, Place::Buddy | Place::Pcp) && p.flags != 0 {
        format!("free page {pfn} has flags {:#x}", p.flags)
    } else if writeback != in_write {
        format!(
            "page {pfn} has PG_writeback {writeback} but {} in a write request",
            if in_write { "is" } else { "is not" }
        )
    } else if p.place == Place::Lru && p.lru == LruList::Unevictable {
        format!("page {pfn} is on the unevictable list without PG_unevictable")
    } else {
        format!(
            "page {pfn} is {:?} with PG_lru {}",
            p.place,
            p.flags & pg::LRU != 0
        )
    }
}

/// A [`seen`] code in words.
fn describe(code: u8) -> String {
    match code {
        seen::NONE => "on no list".into(),
        seen::BUDDY => "on a buddy list".into(),
        seen::PCP => "on a per-CPU list".into(),
        seen::TWICE => "on two lists".into(),
        l => format!("on LRU list {}", l - seen::LRU),
    }
}

/// `rl->count[dir]` of disk `d`: every request queued or in flight holds one (parked bios none),
/// and no list is past its ⌊3·nr/2⌋ ceiling.
fn check_request_lists(d: usize, disk: &crate::block::Disk) -> Result<(), String> {
    let mut count = [0u32; 2];
    for r in disk
        .queue
        .iter()
        .chain(disk.in_flight.iter().map(|(_, _, r)| r))
    {
        count[r.kind.dir()] += 1;
    }
    for (dir, rl) in disk.rl.iter().enumerate() {
        ensure!(
            rl.count == count[dir] && rl.count <= 3 * disk.spec.nr_requests / 2,
            "disk {d} request list {dir}: count {} but {} requests are queued or in flight \
             (ceiling {})",
            rl.count,
            count[dir],
            3 * disk.spec.nr_requests / 2
        );
    }
    disk.check_ends().map_err(|e| format!("disk {d}: {e}"))?;
    if let crate::block::Scheduler::Cfq(cfq) = &disk.scheduler {
        let queued: Vec<usize> = disk.queue.iter().map(|r| r.cfq_queue()).collect();
        let in_driver: Vec<(usize, bool)> = disk
            .in_flight
            .iter()
            .map(|(_, _, r)| (r.cfq_queue(), r.kind.is_sync()))
            .collect();
        cfq.check(&queued, &in_driver)
            .map_err(|e| format!("disk {d}: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::engine;
    use crate::mm::Options;
    use crate::scenario::{error::Source, load_source, Overrides};
    use crate::spec::RunSpec;

    /// A 64 MiB machine with an ext3 writer and a growing anon task: dirty pages, pages under
    /// writeback, journal IO and reclaim within the first simulated second.
    fn spec() -> RunSpec {
        let text = r#"
[scenario]
name = "inv"
duration = "2s"
seed = 11
[machine]
memory = "64MiB"
[disk.sda]
bandwidth = "20MB/s"
[mount.data]
fs = "ext3"
disk = "sda"
[task.dd]
kind = "stream-write"
mount = "data"
size = "48MiB"
rate = "200MB/s"
[task.hog]
kind = "anon"
size = "40MiB"
rate = "100MiB/s"
"#;
        let src = Arc::new(Source {
            name: "inv.toml".into(),
            text: text.into(),
        });
        load_source(&src, &Overrides::default()).unwrap().runs[0]
            .spec
            .clone()
    }

    const CHECKED: Options = Options {
        stop_at_first_oom: true,
        check_invariants: true,
        handle_every_event: false,
    };

    /// A machine stopped after `events` events, with dirty pages and IO in flight.
    fn machine_after(events: u64) -> Machine {
        let mut m = Machine::boot(&spec(), CHECKED);
        while m.clock.events < events {
            let (at, ev) = m.clock.queue.pop().expect("events");
            m.clock.now = at;
            m.clock.events += 1;
            m.handle(ev);
            m.unplug_all();
        }
        m.verify().expect("the model keeps its invariants");
        m
    }

    fn first(m: &Machine, f: impl Fn(&super::super::page::Page) -> bool) -> usize {
        m.mem.pages.iter().position(f).expect("such a page exists")
    }

    #[test]
    fn a_whole_run_keeps_every_invariant() {
        let r = engine::simulate_checked(&spec(), CHECKED).expect("no violation");
        assert!(
            r.events > 1000,
            "the run did something: {} events",
            r.events
        );
    }

    #[test]
    fn a_dirty_flag_on_a_free_page_is_caught() {
        let mut m = machine_after(2000);
        let pfn = first(&m, |p| p.place == Place::Buddy);
        m.mem.pages[pfn].flags |= pg::DIRTY;
        let e = m.verify().unwrap_err();
        assert!(e.contains(&format!("free page {pfn} has flags 0x8")), "{e}");
    }

    #[test]
    fn a_drifting_zone_counter_is_caught() {
        let mut m = machine_after(2000);
        let z = m.mem.pages[first(&m, |p| p.has(pg::DIRTY) && p.has(pg::FILE))].zone as usize;
        m.mem.zones[z].stat.nr_dirty += 1;
        let e = m.verify().unwrap_err();
        assert!(
            e.contains(&format!("zone {z}'s counters disagree")) && e.contains("dirty"),
            "{e}"
        );
    }

    #[test]
    fn a_drifting_global_counter_is_caught() {
        let mut m = machine_after(2000);
        m.mem.vm_stat.nr_writeback += 1;
        let e = m.verify().unwrap_err();
        assert!(e.contains("not the sums of the zones'"), "{e}");
    }

    #[test]
    fn a_slab_cache_that_lost_its_objects_but_kept_its_pages_is_caught() {
        let mut m = machine_after(2000);
        let c = m
            .slab
            .caches
            .iter()
            .position(|c| c.pages.len() >= 2)
            .expect("the writer's buffer heads fill two slab pages");
        m.slab.caches[c].objects = 0;
        let e = m.verify().unwrap_err();
        assert!(e.contains("which need 0"), "{e}");
    }

    #[test]
    fn a_page_that_says_it_is_held_while_on_an_lru_list_is_caught() {
        let mut m = machine_after(2000);
        let pfn = first(&m, |p| p.place == Place::Lru);
        m.mem.pages[pfn].place = Place::Held;
        m.mem.pages[pfn].flags &= !pg::LRU;
        let e = m.verify().unwrap_err();
        assert!(e.contains("LRU list"), "{e}");
        // The shallow check sees it too: the list is one page longer than its recount.
        assert!(m.verify_depth(false).is_err());
    }

    #[test]
    fn writeback_without_a_request_and_a_left_isolated_page_are_caught() {
        let mut m = machine_after(2000);
        let pfn = first(&m, |p| p.place == Place::Lru && !p.has(pg::WRITEBACK));
        m.mem.pages[pfn].flags |= pg::WRITEBACK;
        let z = m.mem.pages[pfn].zone as usize;
        m.mem.zones[z].stat.nr_writeback += 1;
        let e = m.verify().unwrap_err();
        assert!(
            e.contains(&format!("page {pfn} has PG_writeback true but is not")),
            "{e}"
        );

        let mut m = machine_after(2000);
        let pfn = first(&m, |p| p.place == Place::Lru);
        let (zid, l) = (m.mem.pages[pfn].zone as usize, m.mem.pages[pfn].lru);
        let lv = m.mem.zones[zid].lruvec as usize;
        super::super::page::list_del(
            &mut m.mem.pages,
            &mut m.mem.zones[lv].lru[l.idx()],
            pfn as u32,
        );
        m.mem.zones[zid].nr_zone_lru[l.idx()] -= 1;
        m.mem.pages[pfn].place = Place::Isolated;
        m.mem.pages[pfn].flags &= !pg::LRU;
        let e = m.verify().unwrap_err();
        assert!(e.contains("left isolated"), "{e}");
    }

    #[test]
    fn freeing_a_dirty_page_is_data_loss() {
        let mut m = machine_after(2000);
        let pfn = first(&m, |p| {
            p.has(pg::DIRTY) && p.has(pg::FILE) && !p.has(pg::WRITEBACK) && p.place == Place::Lru
        });
        // What a reclaim bug would do: drop a dirty page without writing it. (`free_page`'s own
        // debug assertion would stop a debug build first; the tracker is what release sees.)
        m.mem.lru_del(pfn as u32, Place::Held);
        m.tracker
            .note_free(pfn as u32, m.mem.pages[pfn].flags, m.clock.now);
        let e = m.verify().unwrap_err();
        assert!(
            e.contains(&format!("page {pfn} was freed while dirty")),
            "{e}"
        );
    }

    #[test]
    fn simulate_checked_returns_the_violation_with_seed_event_and_time() {
        let mut m = machine_after(2000);
        // Time going back: the clock is ahead of every pending event.
        m.clock.now = u64::MAX / 2;
        let v = engine::run_checked(&mut m).unwrap_err();
        assert_eq!(
            (v.seed, v.event, v.release, v.policy),
            (11, 2000, "2.6.32", "redirty")
        );
        let text = v.to_string();
        assert!(
            text.starts_with("invariant violated after event 2000 at ")
                && text.contains("(seed 11, release 2.6.32, policy redirty): time went back"),
            "{text}"
        );
    }
}
