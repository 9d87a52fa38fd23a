//! Later kernels as switches: what changed in reclaim and writeback after 2.6.36
//! (writeback-fs §D), and the releases as bundles of those switches.
//!
//! A *profile* is one of the modelled 2.6.32–2.6.36 releases (`Release`), or a later release
//! name (`3.2`, `4.11`, `mainline`, …) meaning **2.6.36's rules plus every §D change merged up to
//! that release**. Only the changes of §D are applied: other later work (the allocator's
//! `should_reclaim_retry`, the OOM reaper, kswapd's rewrites, compaction, memcg, MGLRU) is not
//! modelled, so a later profile answers "what would the writeback history alone have changed?".
//! Each switch cites the commit it mirrors; `docs/HISTORY.md` lists them with the rules.

use serde::Serialize;

use crate::spec::Release;

/// How a reclaimer sleeps when it waits for writeback (writeback-fs §D.2, §D.10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CongestionSleep {
    /// `congestion_wait(BLK_RW_ASYNC, HZ/10)`: always the full timeout unless a queue leaves
    /// congestion (≤ 2.6.36).
    Always,
    /// `wait_iff_congested()`: sleep only when some bdi is congested and the zone was marked
    /// `ZONE_CONGESTED`; otherwise return at once (2.6.37, 0e093d99763e).
    IffCongested,
    /// `reclaim_throttle()`: per-node wait, woken after `SWAP_CLUSTER_MAX` pages per throttled
    /// task finish writeback (5.16, 8cd7c588decf).
    ReclaimThrottle,
}

/// Who may call `->writepage` on a dirty file page from reclaim (writeback-fs §D.4, §D.9, §D.12).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReclaimFsWrite {
    /// Every reclaimer; the filesystem decides (≤ 3.1).
    All,
    /// kswapd only, at priority < `DEF_PRIORITY - 2`; others mark the page PG_reclaim and keep it
    /// (3.2, ee72886d8ed5 + f84f6e2b0868 + 49ea7eb65e7c).
    KswapdPriority,
    /// kswapd only, when the zone's LRU tail was all unqueued dirty pages (`ZONE_TAIL_LRU_DIRTY`)
    /// (3.11, "have kswapd writeback pages based on dirty pages encountered").
    KswapdDirtyZone,
    /// kswapd only, for a page already marked PG_reclaim (seen twice) in a dirty node
    /// (4.11, 4eda48235011 / c55e8d035b28).
    KswapdSeenTwice,
    /// Never: `pageout()` activates regular-filesystem pages; only shmem and anon swap cache are
    /// written ("mm: Remove swap_writepage() and shmem_writepage()" series, v6.18 text).
    Never,
}

/// When reclaim waits because the pages it isolates are under writeback (writeback-fs §D.5, §D.9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WritebackThrottle {
    /// Never (≤ 3.1).
    None,
    /// `nr_writeback >= nr_taken >> (DEF_PRIORITY - priority)` → sleep (3.2, "throttle reclaim
    /// if encountering too many dirty pages under writeback").
    PriorityScaled,
    /// Zone flags `ZONE_WRITEBACK` / `ZONE_CONGESTED` / `ZONE_TAIL_LRU_DIRTY`; kswapd stalls on
    /// PG_reclaim pages under writeback, direct reclaim sleeps iff congested (3.11, e2be15f6c3ee).
    ZoneFlags,
}

/// How `balance_dirty_pages()` throttles a dirtier (writeback-fs §A.6, §D.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DirtyThrottle {
    /// The writer writes back its own bdi's pages, then sleeps (≤ 3.1).
    WriterWritesBack,
    /// IO-less: the writer only sleeps, paced to the bdi's write bandwidth (3.2, 143dfe8611a6).
    IoLess,
}

/// Whether page-cache allocations for writes avoid zones over their dirty limit (§D.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ZoneDirtyLimits {
    /// No per-zone limit (≤ 3.2).
    Off,
    /// `zone_dirty_ok()` in the allocator's fast path for `__GFP_WRITE` (3.3, a756cf590853).
    Zone,
    /// `node_dirty_ok()`: the same per node (4.8, 599d0c954f91).
    Node,
}

/// Where a dirty file page that reclaim did not write goes (writeback-fs §D.9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DirtyDisposition {
    /// Back to the inactive list's head (≤ 4.10).
    InactiveHead,
    /// Activated "out of the reclaimer's face", with PG_reclaim set (4.11, c55e8d035b28).
    Activate,
}

/// What makes reclaim wake the flusher threads (writeback-fs §D.9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlusherWakeup {
    /// Direct reclaim, after scanning more than 1.5 × SWAP_CLUSTER_MAX pages in one
    /// `do_try_to_free_pages` (≤ 4.10).
    DirectReclaimScanned,
    /// `shrink_inactive_list()`, when every isolated page was dirty and not queued for IO:
    /// `wakeup_flusher_threads(0, WB_REASON_VMSCAN)`, all dirty pages (4.11).
    LruTailDirty,
}

/// Every later change, each as one setting of the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Switches {
    /// §D.2 / §D.10.
    pub congestion_sleep: CongestionSleep,
    /// §D.3: PG_reclaim is cleared by `set_page_dirty()`, not `clear_page_dirty_for_io()`
    /// (2.6.39, 278df9f451dc).
    pub pg_reclaim_survives_flusher_write: bool,
    /// §D.4 / §D.9 / §D.12.
    pub reclaim_fs_writepage: ReclaimFsWrite,
    /// §D.5 / §D.9.
    pub reclaim_writeback_throttle: WritebackThrottle,
    /// §D.6.
    pub dirty_throttle: DirtyThrottle,
    /// §D.7.
    pub per_zone_dirty_limits: ZoneDirtyLimits,
    /// §D.8: dirtyable memory excludes `dirty_balance_reserve` (3.3, ab8fabd46f81).
    pub dirtyable_minus_reserves: bool,
    /// §D.8: anon pages never count as dirtyable (3.14, a1c3bfb2f67e).
    pub dirtyable_excludes_anon: bool,
    /// §D.9.
    pub dirty_page_disposition: DirtyDisposition,
    /// §D.9.
    pub flusher_wakeup: FlusherWakeup,
    /// ext4's `write_begin` allocates its page inside the journal handle, so without `__GFP_FS`
    /// (true ≤ 3.8; 3.9 "ext4: grab page before starting transaction handle in write_begin()").
    pub ext4_write_begin_nofs: bool,
}

impl Switches {
    /// The 2.6.32–2.6.36 rules: every later change off.
    pub const BASE: Switches = Switches {
        congestion_sleep: CongestionSleep::Always,
        pg_reclaim_survives_flusher_write: false,
        reclaim_fs_writepage: ReclaimFsWrite::All,
        reclaim_writeback_throttle: WritebackThrottle::None,
        dirty_throttle: DirtyThrottle::WriterWritesBack,
        per_zone_dirty_limits: ZoneDirtyLimits::Off,
        dirtyable_minus_reserves: false,
        dirtyable_excludes_anon: false,
        dirty_page_disposition: DirtyDisposition::InactiveHead,
        flusher_wakeup: FlusherWakeup::DirectReclaimScanned,
        ext4_write_begin_nofs: true,
    };
}

impl Default for Switches {
    fn default() -> Self {
        Switches::BASE
    }
}

/// One switch: its TOML key, accepted values, and where it comes from.
#[derive(Clone, Copy, Debug)]
pub struct SwitchInfo {
    /// Key in `[kernel]`.
    pub key: &'static str,
    /// Accepted values, the 2.6.3x value first (`true`/`false` for booleans).
    pub values: &'static [&'static str],
    /// Release of each later value (same order as `values`, first is "2.6.32").
    pub since: &'static [&'static str],
    /// The commit or patch each value mirrors (same order as `values`; empty for 2.6.3x).
    pub cites: &'static [&'static str],
    /// One line: what it changes.
    pub what: &'static str,
}

/// Every switch, in the order `wbsim list` prints them.
pub const SWITCHES: &[SwitchInfo] = &[
    SwitchInfo {
        key: "congestion_sleep",
        values: &["always", "iff-congested", "reclaim-throttle"],
        since: &["2.6.32", "2.6.37", "5.16"],
        cites: &["", "0e093d99763e writeback: do not sleep on the congestion queue if there are no congested BDIs", "8cd7c588decf mm/vmscan: throttle reclaim until some writeback completes if congested"],
        what: "how reclaim sleeps between priorities and on writeback",
    },
    SwitchInfo {
        key: "pg_reclaim_survives_flusher_write",
        values: &["false", "true"],
        since: &["2.6.32", "2.6.39"],
        cites: &["", "278df9f451dc mm: reclaim invalidated page ASAP"],
        what: "PG_reclaim set by reclaim survives a flusher write (rotation at completion)",
    },
    SwitchInfo {
        key: "reclaim_fs_writepage",
        values: &[
            "all",
            "kswapd-priority",
            "kswapd-dirty-zone",
            "kswapd-seen-twice",
            "never",
        ],
        since: &["2.6.32", "3.2", "3.11", "4.11", "mainline"],
        cites: &["", "ee72886d8ed5 mm: vmscan: do not writeback filesystem pages in direct reclaim; f84f6e2b0868 (kswapd below priority 10); 49ea7eb65e7c (immediate reclaim)", "mm: vmscan: have kswapd writeback pages based on dirty pages encountered, not priority (3.11)", "4eda48235011 mm: vmscan: only write dirty pages that the scanner has seen twice", "mm: Remove swap_writepage() and shmem_writepage() / Remove aops->writepage (v6.18)"],
        what: "which reclaimer may call ->writepage on a dirty file page",
    },
    SwitchInfo {
        key: "reclaim_writeback_throttle",
        values: &["none", "priority-scaled", "zone-flags"],
        since: &["2.6.32", "3.2", "3.11"],
        cites: &["", "mm: vmscan: throttle reclaim if encountering too many dirty pages under writeback (3.2)", "e2be15f6c3ee mm: vmscan: stall page reclaim and writeback pages based on dirty/writepage pages encountered"],
        what: "when reclaim sleeps because isolated pages are under writeback",
    },
    SwitchInfo {
        key: "dirty_throttle",
        values: &["writer-writes-back", "io-less"],
        since: &["2.6.32", "3.2"],
        cites: &["", "143dfe8611a6 writeback: IO-less balance_dirty_pages()"],
        what: "balance_dirty_pages writes back itself, or only sleeps at the bdi's bandwidth",
    },
    SwitchInfo {
        key: "per_zone_dirty_limits",
        values: &["off", "zone", "node"],
        since: &["2.6.32", "3.3", "4.8"],
        cites: &["", "a756cf590853 mm: try to distribute dirty pages fairly across zones", "599d0c954f91 mm, vmscan: move LRU lists to node (node_dirty_ok)"],
        what: "write allocations skip zones (nodes) over their dirty limit, fast path only",
    },
    SwitchInfo {
        key: "dirtyable_minus_reserves",
        values: &["false", "true"],
        since: &["2.6.32", "3.3"],
        cites: &["", "ab8fabd46f81 mm: exclude reserved pages from dirtyable memory"],
        what: "dirtyable memory excludes lowmem_reserve + high watermark",
    },
    SwitchInfo {
        key: "dirtyable_excludes_anon",
        values: &["false", "true"],
        since: &["2.6.32", "3.14"],
        cites: &["", "a1c3bfb2f67e mm: page-writeback.c: do not count anon pages as dirtyable memory"],
        what: "anon pages never count as dirtyable memory",
    },
    SwitchInfo {
        key: "dirty_page_disposition",
        values: &["inactive-head", "activate"],
        since: &["2.6.32", "4.11"],
        cites: &["", "c55e8d035b28 mm: vmscan: move dirty pages out of the way until they're flushed"],
        what: "where a dirty file page reclaim did not write goes",
    },
    SwitchInfo {
        key: "flusher_wakeup",
        values: &["direct-reclaim-scanned", "lru-tail-dirty"],
        since: &["2.6.32", "4.11"],
        cites: &["", "mm: vmscan: kick flushers when we encounter dirty pages on the LRU (4.11)"],
        what: "what makes reclaim wake the flushers",
    },
    SwitchInfo {
        key: "ext4_write_begin_nofs",
        values: &["true", "false"],
        since: &["2.6.32", "3.9"],
        cites: &["", "ext4: grab page before starting transaction handle in write_begin() (3.9)"],
        what: "ext4's buffered writer allocates page cache without __GFP_FS",
    },
];

/// A later release: its name and the switches it turns on over its predecessor.
#[derive(Clone, Copy, Debug)]
pub struct LaterRelease {
    /// Name as written in `scenario.release`.
    pub name: &'static str,
    /// `(key, value)` settings this release adds.
    pub changes: &'static [(&'static str, &'static str)],
}

/// The later releases, oldest first; each includes every earlier one.
pub const LATER: &[LaterRelease] = &[
    LaterRelease {
        name: "2.6.37",
        changes: &[("congestion_sleep", "iff-congested")],
    },
    LaterRelease {
        name: "2.6.39",
        changes: &[("pg_reclaim_survives_flusher_write", "true")],
    },
    LaterRelease {
        name: "3.2",
        changes: &[
            ("reclaim_fs_writepage", "kswapd-priority"),
            ("reclaim_writeback_throttle", "priority-scaled"),
            ("dirty_throttle", "io-less"),
        ],
    },
    LaterRelease {
        name: "3.3",
        changes: &[
            ("per_zone_dirty_limits", "zone"),
            ("dirtyable_minus_reserves", "true"),
        ],
    },
    LaterRelease {
        name: "3.9",
        changes: &[("ext4_write_begin_nofs", "false")],
    },
    LaterRelease {
        name: "3.11",
        changes: &[
            ("reclaim_fs_writepage", "kswapd-dirty-zone"),
            ("reclaim_writeback_throttle", "zone-flags"),
        ],
    },
    LaterRelease {
        name: "3.14",
        changes: &[("dirtyable_excludes_anon", "true")],
    },
    LaterRelease {
        name: "4.8",
        changes: &[("per_zone_dirty_limits", "node")],
    },
    LaterRelease {
        name: "4.11",
        changes: &[
            ("reclaim_fs_writepage", "kswapd-seen-twice"),
            ("dirty_page_disposition", "activate"),
            ("flusher_wakeup", "lru-tail-dirty"),
        ],
    },
    LaterRelease {
        name: "5.16",
        changes: &[("congestion_sleep", "reclaim-throttle")],
    },
    LaterRelease {
        name: "mainline",
        changes: &[("reclaim_fs_writepage", "never")],
    },
];

/// The kernel a run follows: the base 2.6.3x release, the switches, and the profile's name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Kernel {
    /// Profile name as given (`2.6.32`, `3.2`, `mainline`, …).
    pub profile: String,
    /// Whose base rules apply (2.6.36 for every later profile).
    #[serde(skip)]
    pub base: Release,
    /// The later changes.
    pub switches: Switches,
    /// `[kernel]` settings that differ from the profile's own, `key=value`, in switch order.
    pub overrides: Vec<String>,
}

impl Kernel {
    /// A kernel by profile name: a 2.6.3x release or a later release.
    pub fn profile(name: &str) -> Option<Kernel> {
        if let Some(r) = Release::from_name(name) {
            return Some(Kernel {
                profile: name.to_string(),
                base: r,
                switches: Switches::BASE,
                overrides: Vec::new(),
            });
        }
        let upto = LATER.iter().position(|l| l.name == name)?;
        let mut sw = Switches::BASE;
        for l in &LATER[..=upto] {
            for (k, v) in l.changes {
                set_switch(&mut sw, k, v).expect("profile table names a known switch");
            }
        }
        Some(Kernel {
            profile: name.to_string(),
            base: Release::V2_6_36,
            switches: sw,
            overrides: Vec::new(),
        })
    }

    /// Every profile name, oldest first.
    pub fn profile_names() -> Vec<&'static str> {
        Release::ALL
            .iter()
            .map(|r| r.name())
            .chain(LATER.iter().map(|l| l.name))
            .collect()
    }

    /// Applies one `[kernel]` setting, recording it when it differs from the profile.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let before = self.switches;
        set_switch(&mut self.switches, key, value)?;
        if self.switches != before {
            self.overrides.push(format!("{key}={value}"));
        }
        Ok(())
    }

    /// The name shown in reports: the profile, plus its overrides.
    pub fn display_name(&self) -> String {
        if self.overrides.is_empty() {
            self.profile.clone()
        } else {
            format!("{}+{}", self.profile, self.overrides.join(","))
        }
    }
}

/// The current value of switch `key` as written in TOML.
pub fn switch_value(sw: &Switches, key: &str) -> Option<&'static str> {
    let info = SWITCHES.iter().find(|s| s.key == key)?;
    let idx = match key {
        "congestion_sleep" => sw.congestion_sleep as usize,
        "pg_reclaim_survives_flusher_write" => usize::from(sw.pg_reclaim_survives_flusher_write),
        "reclaim_fs_writepage" => sw.reclaim_fs_writepage as usize,
        "reclaim_writeback_throttle" => sw.reclaim_writeback_throttle as usize,
        "dirty_throttle" => sw.dirty_throttle as usize,
        "per_zone_dirty_limits" => sw.per_zone_dirty_limits as usize,
        "dirtyable_minus_reserves" => usize::from(sw.dirtyable_minus_reserves),
        "dirtyable_excludes_anon" => usize::from(sw.dirtyable_excludes_anon),
        "dirty_page_disposition" => sw.dirty_page_disposition as usize,
        "flusher_wakeup" => sw.flusher_wakeup as usize,
        "ext4_write_begin_nofs" => usize::from(!sw.ext4_write_begin_nofs),
        _ => return None,
    };
    Some(info.values[idx])
}

/// Sets switch `key` to `value` (as written in TOML). The error says what is accepted.
pub fn set_switch(sw: &mut Switches, key: &str, value: &str) -> Result<(), String> {
    let info = SWITCHES
        .iter()
        .find(|s| s.key == key)
        .ok_or_else(|| format!("unknown kernel switch `{key}`"))?;
    let idx = info
        .values
        .iter()
        .position(|v| *v == value)
        .ok_or_else(|| {
            format!(
                "`{value}` is not a value of kernel.{key}; expected one of {}",
                info.values
                    .iter()
                    .map(|v| format!("`{v}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
    match key {
        "congestion_sleep" => {
            sw.congestion_sleep = [
                CongestionSleep::Always,
                CongestionSleep::IffCongested,
                CongestionSleep::ReclaimThrottle,
            ][idx]
        }
        "pg_reclaim_survives_flusher_write" => sw.pg_reclaim_survives_flusher_write = idx == 1,
        "reclaim_fs_writepage" => {
            sw.reclaim_fs_writepage = [
                ReclaimFsWrite::All,
                ReclaimFsWrite::KswapdPriority,
                ReclaimFsWrite::KswapdDirtyZone,
                ReclaimFsWrite::KswapdSeenTwice,
                ReclaimFsWrite::Never,
            ][idx]
        }
        "reclaim_writeback_throttle" => {
            sw.reclaim_writeback_throttle = [
                WritebackThrottle::None,
                WritebackThrottle::PriorityScaled,
                WritebackThrottle::ZoneFlags,
            ][idx]
        }
        "dirty_throttle" => {
            sw.dirty_throttle = [DirtyThrottle::WriterWritesBack, DirtyThrottle::IoLess][idx]
        }
        "per_zone_dirty_limits" => {
            sw.per_zone_dirty_limits = [
                ZoneDirtyLimits::Off,
                ZoneDirtyLimits::Zone,
                ZoneDirtyLimits::Node,
            ][idx]
        }
        "dirtyable_minus_reserves" => sw.dirtyable_minus_reserves = idx == 1,
        "dirtyable_excludes_anon" => sw.dirtyable_excludes_anon = idx == 1,
        "dirty_page_disposition" => {
            sw.dirty_page_disposition =
                [DirtyDisposition::InactiveHead, DirtyDisposition::Activate][idx]
        }
        "flusher_wakeup" => {
            sw.flusher_wakeup = [
                FlusherWakeup::DirectReclaimScanned,
                FlusherWakeup::LruTailDirty,
            ][idx]
        }
        "ext4_write_begin_nofs" => sw.ext4_write_begin_nofs = idx == 0,
        _ => unreachable!("SWITCHES and set_switch disagree on `{key}`"),
    }
    Ok(())
}

/// The switch settings that differ between two kernels, `(key, from, to)`, in switch order.
pub fn diff(a: &Switches, b: &Switches) -> Vec<(&'static str, &'static str, &'static str)> {
    SWITCHES
        .iter()
        .filter_map(|s| {
            let (x, y) = (switch_value(a, s.key)?, switch_value(b, s.key)?);
            (x != y).then_some((s.key, x, y))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_switch_value_round_trips_through_its_toml_name() {
        for s in SWITCHES {
            assert_eq!(s.values.len(), s.since.len(), "{}", s.key);
            assert_eq!(s.values.len(), s.cites.len(), "{}", s.key);
            for v in s.values {
                let mut sw = Switches::BASE;
                set_switch(&mut sw, s.key, v).unwrap();
                assert_eq!(switch_value(&sw, s.key), Some(*v), "{}", s.key);
            }
            assert_eq!(switch_value(&Switches::BASE, s.key), Some(s.values[0]));
        }
    }

    #[test]
    fn each_later_release_contains_the_earlier_ones() {
        let k32 = Kernel::profile("3.2").unwrap();
        assert_eq!(k32.base, Release::V2_6_36);
        assert_eq!(k32.switches.congestion_sleep, CongestionSleep::IffCongested);
        assert!(k32.switches.pg_reclaim_survives_flusher_write);
        assert_eq!(k32.switches.dirty_throttle, DirtyThrottle::IoLess);
        assert_eq!(k32.switches.per_zone_dirty_limits, ZoneDirtyLimits::Off);
        let main = Kernel::profile("mainline").unwrap();
        assert_eq!(main.switches.reclaim_fs_writepage, ReclaimFsWrite::Never);
        assert_eq!(
            main.switches.congestion_sleep,
            CongestionSleep::ReclaimThrottle
        );
        assert!(!main.switches.ext4_write_begin_nofs);
        assert_eq!(Kernel::profile("2.6.33").unwrap().switches, Switches::BASE);
    }

    #[test]
    fn every_release_in_the_table_changes_something_it_names() {
        let names = Kernel::profile_names();
        for w in names.windows(2).skip(Release::ALL.len() - 1) {
            let a = Kernel::profile(w[0]).unwrap().switches;
            let b = Kernel::profile(w[1]).unwrap().switches;
            assert!(!diff(&a, &b).is_empty(), "{} → {}", w[0], w[1]);
        }
    }

    #[test]
    fn a_bad_value_names_what_is_accepted() {
        let mut sw = Switches::BASE;
        let e = set_switch(&mut sw, "dirty_throttle", "fast").unwrap_err();
        assert!(e.contains("`writer-writes-back`, `io-less`"), "{e}");
        assert!(set_switch(&mut sw, "nope", "x").is_err());
    }
}
