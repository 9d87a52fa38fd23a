//! A file's page cache index: `mapping->page_tree`, the radix tree of lib/radix-tree.c (2.6.32),
//! reduced to its leaves. The kernel's tree has 64-slot nodes (`RADIX_TREE_MAP_SHIFT` 6) with a
//! tag bitmap per node for PAGECACHE_TAG_DIRTY; a node exists only while it holds a page or a
//! tag (`radix_tree_delete()` frees emptied nodes), so the tree's memory follows the pages
//! cached, not the bytes ever written. Here the leaves hang off a directory that spans only
//! the leaves between the lowest and the highest live one (a `VecDeque` trimmed at both ends as
//! leaves empty): a lookup is one index, as with the flat array it replaces, and a streaming
//! writer whose old pages are reclaimed keeps a window of leaves. What the interior nodes do
//! for the kernel (skip absent ranges) the directory does with `None` entries of 8 bytes per 64
//! indices: a page left cached far behind the others keeps the directory spanning to it, at
//! 1/32 of the old flat array's 4 bytes per index (docs/PERFORMANCE.md).

use std::collections::VecDeque;

use crate::mm::page::{PageId, NIL};

/// Slots per leaf (`RADIX_TREE_MAP_SIZE`).
const SLOTS: u32 = 64;

/// One leaf: 64 consecutive indices.
#[derive(Clone, Debug)]
struct Leaf {
    /// The cached page of each index, or NIL.
    slots: [PageId; SLOTS as usize],
    /// PAGECACHE_TAG_DIRTY, one bit per slot.
    dirty: u64,
    /// Slots holding a page.
    count: u32,
}

/// A file's cached pages by index, with their dirty tags.
#[derive(Clone, Debug, Default)]
pub struct PageIndex {
    /// Leaf number (`index / 64`) of `leaves[0]`.
    base: u32,
    /// The leaves from the lowest live one to the highest; `None` where none is allocated.
    leaves: VecDeque<Option<Box<Leaf>>>,
    /// Leaves allocated.
    live: usize,
    /// One past the highest index ever cached (the file's extent as the page cache saw it).
    end: u32,
}

impl PageIndex {
    /// The leaf holding `index`, if allocated.
    #[inline]
    fn leaf(&self, index: u32) -> Option<&Leaf> {
        let at = (index / SLOTS).wrapping_sub(self.base) as usize;
        self.leaves.get(at).and_then(|l| l.as_deref())
    }

    /// Its position in `leaves`, if allocated.
    #[inline]
    fn position(&self, index: u32) -> Option<usize> {
        let at = (index / SLOTS).wrapping_sub(self.base) as usize;
        self.leaves.get(at)?.as_ref().map(|_| at)
    }

    /// The page cached at `index`, or NIL (`radix_tree_lookup()`).
    #[inline]
    pub fn get(&self, index: u32) -> PageId {
        self.leaf(index)
            .map_or(NIL, |l| l.slots[(index % SLOTS) as usize])
    }

    /// Caches `id` at `index` (`radix_tree_insert()`).
    pub fn insert(&mut self, index: u32, id: PageId) {
        let key = index / SLOTS;
        if self.leaves.is_empty() {
            self.base = key;
        }
        while key < self.base {
            self.leaves.push_front(None);
            self.base -= 1;
        }
        let at = (key - self.base) as usize;
        if at >= self.leaves.len() {
            self.leaves.resize(at + 1, None);
        }
        let entry = &mut self.leaves[at];
        if entry.is_none() {
            self.live += 1;
        }
        let leaf = entry.get_or_insert_with(|| {
            Box::new(Leaf {
                slots: [NIL; SLOTS as usize],
                dirty: 0,
                count: 0,
            })
        });
        let slot = &mut leaf.slots[(index % SLOTS) as usize];
        leaf.count += u32::from(*slot == NIL);
        *slot = id;
        self.end = self.end.max(index + 1);
    }

    /// Drops the page at `index` (`radix_tree_delete()`), freeing its leaf once it holds neither
    /// a page nor a tag.
    pub fn remove(&mut self, index: u32) {
        let Some(at) = self.position(index) else {
            return;
        };
        let leaf = self.leaves[at].as_mut().expect("a live leaf");
        let slot = &mut leaf.slots[(index % SLOTS) as usize];
        if *slot != NIL {
            *slot = NIL;
            leaf.count -= 1;
        }
        if leaf.count == 0 && leaf.dirty == 0 {
            self.free_leaf(at);
        }
    }

    /// Frees the leaf at `at` and trims the directory's empty ends.
    fn free_leaf(&mut self, at: usize) {
        self.leaves[at] = None;
        self.live -= 1;
        while let Some(None) = self.leaves.front() {
            self.leaves.pop_front();
            self.base += 1;
        }
        while let Some(None) = self.leaves.back() {
            self.leaves.pop_back();
        }
    }

    /// One past the highest index ever cached.
    #[inline]
    pub fn end(&self) -> u32 {
        self.end
    }

    /// Sets or clears the dirty tag of `index`; whether it changed (`radix_tree_tag_set()` /
    /// `radix_tree_tag_clear()`). A tag is set only on a cached index.
    pub fn tag(&mut self, index: u32, on: bool) -> bool {
        let bit = 1u64 << (index % SLOTS);
        let Some(at) = self.position(index) else {
            debug_assert!(!on, "a dirty tag on an uncached index {index}");
            return false;
        };
        let leaf = self.leaves[at].as_mut().expect("a live leaf");
        let was = leaf.dirty & bit != 0;
        if on {
            leaf.dirty |= bit;
        } else {
            leaf.dirty &= !bit;
            if leaf.count == 0 && leaf.dirty == 0 {
                self.free_leaf(at);
            }
        }
        was != on
    }

    /// Whether `index` is tagged dirty.
    pub fn is_tagged(&self, index: u32) -> bool {
        self.leaf(index)
            .is_some_and(|l| l.dirty & (1 << (index % SLOTS)) != 0)
    }

    /// The allocated leaves covering `from..to`, with their first index.
    fn leaves_in(&self, from: u32, to: u32) -> impl Iterator<Item = (u32, &Leaf)> + '_ {
        let first = (from / SLOTS).saturating_sub(self.base) as usize;
        let last = if to == 0 {
            0
        } else {
            ((to - 1) / SLOTS + 1).saturating_sub(self.base) as usize
        };
        let len = self.leaves.len();
        let first = first.min(len);
        let last = last.clamp(first, len);
        let base = self.base;
        self.leaves
            .range(first..last)
            .enumerate()
            .filter_map(move |(i, l)| {
                l.as_deref()
                    .map(|l| ((base + (first + i) as u32) * SLOTS, l))
            })
    }

    /// The first index ≥ `from` and below `end` tagged dirty (`find_get_pages_tag()`).
    pub fn next_dirty(&self, from: u32, end: u32) -> Option<u32> {
        if from >= end {
            return None;
        }
        for (start, leaf) in self.leaves_in(from, end) {
            let mut word = leaf.dirty;
            if start < from {
                word &= u64::MAX << (from - start);
            }
            if word != 0 {
                let found = start + word.trailing_zeros();
                return (found < end).then_some(found);
            }
        }
        None
    }

    /// The first cached index ≥ `from` (`pagevec_lookup()` of one page).
    pub fn next_cached(&self, from: u32) -> Option<u32> {
        for (start, leaf) in self.leaves_in(from, u32::MAX) {
            let skip = from.saturating_sub(start) as usize;
            if let Some(i) = leaf.slots[skip..].iter().position(|&id| id != NIL) {
                return Some(start + (skip + i) as u32);
            }
        }
        None
    }

    /// Every cached `(index, page)`, ascending.
    pub fn iter(&self) -> impl Iterator<Item = (u32, PageId)> + '_ {
        self.leaves_in(0, u32::MAX).flat_map(|(start, leaf)| {
            leaf.slots
                .iter()
                .enumerate()
                .filter(|(_, &id)| id != NIL)
                .map(move |(i, &id)| (start + i as u32, id))
        })
    }

    /// Leaves allocated (about 270 bytes each).
    pub fn leaves(&self) -> usize {
        self.live
    }

    /// Entries of the directory (8 bytes each): the span from the lowest live leaf to the
    /// highest.
    pub fn span(&self) -> usize {
        self.leaves.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_streamed_file_keeps_only_the_leaves_of_its_cached_pages() {
        let mut ix = PageIndex::default();
        for i in 0..10_000u32 {
            ix.insert(i, i + 7);
            ix.tag(i, true);
            if i >= 200 {
                // Written back and reclaimed behind the writer.
                ix.tag(i - 200, false);
                ix.remove(i - 200);
            }
        }
        assert_eq!(ix.end(), 10_000);
        assert!(ix.leaves() <= 200 / 64 + 2, "{} leaves", ix.leaves());
        assert_eq!(
            ix.span(),
            ix.leaves(),
            "the directory is trimmed behind the writer"
        );
        assert_eq!(ix.get(9_999), 9_999 + 7);
        assert_eq!(ix.get(5), NIL);
        assert_eq!(ix.iter().count(), 200);
    }

    #[test]
    fn next_dirty_finds_tags_across_missing_and_clean_leaves() {
        let mut ix = PageIndex::default();
        for i in [3u32, 70, 64 * 10 + 5, 64 * 11] {
            ix.insert(i, i);
        }
        ix.tag(70, true);
        ix.tag(64 * 11, true);
        assert_eq!(ix.next_dirty(0, 1000), Some(70));
        assert_eq!(ix.next_dirty(71, 1000), Some(64 * 11));
        assert_eq!(ix.next_dirty(71, 64 * 11), None);
        assert_eq!(ix.next_dirty(64 * 11 + 1, 1000), None);
        assert!(ix.is_tagged(70) && !ix.is_tagged(3));
        assert_eq!(ix.next_cached(4), Some(70));
        assert_eq!(ix.next_cached(71), Some(64 * 10 + 5));
        // A tag keeps its leaf alive after the page goes; clearing it frees the leaf.
        ix.remove(70);
        assert_eq!(ix.next_dirty(0, 1000), Some(70));
        ix.tag(70, false);
        assert_eq!(ix.leaves(), 3);
        assert_eq!(ix.next_cached(0), Some(3));
        assert_eq!(
            ix.next_cached(4),
            Some(64 * 10 + 5),
            "70 went, leaves 2-9 are missing"
        );
        assert_eq!(ix.next_cached(64 * 10 + 6), Some(64 * 11));
        assert_eq!(ix.next_cached(64 * 11 + 1), None);
    }
}
