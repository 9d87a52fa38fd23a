//! The Linux VM model. [`Machine`] (`machine.rs`) owns every page, zone, task, file, disk and
//! actor of a run, in the parts the kernel has; handlers are `impl Machine` blocks named after the
//! kernel functions they mirror, spread over the files of this module the way `mm/` spreads
//! them, the way `include/linux/` splits the headers:
//!
//! | file | mirrors |
//! |------|---------|
//! | `machine.rs` | the machine and its parts |
//! | `boot.rs` | boot: zones, watermarks, kernel memory, hugetlb pools, devices, tasks |
//! | `memory.rs` | `include/linux/mmzone.h`: pages, zones, nodes, `vm_stat[]`, swap, LRU list ops |
//! | `page.rs` | `struct page`, page flags, LRU list heads |
//! | `zone.rs` | zones, watermarks, `zone_watermark_ok` (`mm/page_alloc.c`) |
//! | `gfp.rs` | `include/linux/gfp.h` |
//! | `sched.rs` | `PF_*`, the actors (tasks, kswapd, flushers, journals), sleep and wake-up |
//! | `slab.rs` | slab caches (`buffer_head`, `journal_head`, dentry, inode) and `shrink_slab` |
//! | `event.rs` | the events and the clock, `Machine::handle` |
//! | `cost.rs` | CPU costs |
//! | `options.rs` | how a run is driven |
//! | `page_alloc.rs` | `__alloc_pages_nodemask` and its slow path, page freeing |
//! | `vmscan.rs` | `shrink_*`, `pageout`, `do_try_to_free_pages`, `balance_pgdat`, `kswapd` |
//! | `vmscan/node.rs` | [4.8+] `pgdat_balanced`, `wakeup_kswapd`, node-form `balance_pgdat` |
//! | `swap.rs` | `mark_page_accessed`, `rotate_reclaimable_page`, LRU adds, swap cache |
//! | `hot.rs` | a working set touched again: the pte Accessed bit `page_referenced()` reads |
//! | `swap_state.rs` | swap-in of a hot page: `do_swap_page`, `swapin_readahead` |
//! | `page_writeback.rs` | dirty limits, `balance_dirty_pages`, page dirtying and writeback state |
//! | `backing_dev.rs` | the dirty/writeback state of the machine, `congestion_wait()` |
//! | `fs_writeback.rs` | the per-bdi flusher (`fs/fs-writeback.c`), `write_cache_pages()` |
//! | `ext4_io_end.rs` | ext4's unwritten-extent io_ends (`fs/ext4/page-io.c`, `dioread_nolock`) |
//! | `ext4_mballoc.rs` | the memory ext4's block allocator takes in writeback (`ext4_mb_load_buddy`) |
//! | `oom_kill.rs` | `out_of_memory`, `select_bad_process`, badness, the kill |
//! | `task.rs` | tasks: cpuset, zonelist, pacing, a slice of work, allocation, exit |
//! | `workload/<kind>.rs` | what each task kind does (`pin`, `stream-write`, …) |
//! | `vmstat.rs` | `/proc/vmstat` names and order, the event and run counters |
//! | `granularity.rs` | the simulated page (`machine.page_granularity`) |
//! | `invariants.rs` | the invariant checker (`CONFIG_DEBUG_VM`, stronger) |
//!
//! The filesystems are `crate::fs` (with the VFS objects, `fs/vfs.rs`), the disks
//! `crate::block`.
//!
//! Where the mechanisms still to come belong (issues 13 and 14): a rule that differs between
//! kernels is a switch of `crate::kernel` and a profile change; the request pool that reclaim
//! writes wait for (`get_request_wait`) is the disk's (`block.rs`, beside `full_waiters`); jbd2
//! handles, `T_LOCKED` and the commit's states are the `fs::jbd::Journal` of each mount, used by
//! `fs/ext3.rs` and `fs/ext4.rs` (built); writeback's own allocations are the filesystem's
//! `->writepages` (`fs/<fs>.rs`) through `Machine::alloc_page` (the writer's buffer and journal
//! heads through `Machine::slab_alloc`; ext4's block-group pages through the allocating thread,
//! the flusher's being its kernel-thread task, `ext4_mballoc.rs`); slab caches are `mm/slab.rs` (`Machine::slab`), read by `shrink_slab`; node LRUs
//! would move the lists from `zone::Zone` to `memory::Node` (kswapd's node loop is
//! `vmscan/node.rs`, over the zones' lists); the 4.7 OOM detection is
//! `should_reclaim_retry` in `page_alloc.rs`; ext4's unwritten-extent conversion is `ext4_io_end.rs`,
//! the `ext4-rsv-conversion` work as a fifth `sched::Actor` kind (`Ext4Rsv`), packed into the
//! journal's kind by an index bit (`event.rs`: a third kind bit costs about 13 instructions more
//! per event, measured). Every piece of state lives in the machine, so `invariants.rs` can recount all
//! counters from page flags. Time only moves between events; work inside one event happens at
//! one instant and its CPU cost is charged to the actor's next event.

pub mod backing_dev;
pub mod boot;
pub mod cost;
pub mod event;
pub mod ext3_balloc;
pub mod ext4_io_end;
pub mod ext4_mballoc;
pub mod fs_writeback;
pub mod gfp;
pub mod granularity;
pub mod hot;
pub mod invariants;
pub mod machine;
pub mod memory;
pub mod oom_kill;
pub mod options;
pub mod page;
pub mod page_alloc;
pub mod page_writeback;
mod pool;
pub mod sched;
pub mod slab;
pub mod swap;
pub mod swap_state;
pub mod task;
pub mod thrash;
pub mod vmscan;
pub mod vmstat;
pub mod workload;
pub mod zone;

pub use event::{Event, EventKind};
pub use machine::Machine;
pub use options::Options;
pub use sched::{pf, Actor};

/// A millisecond of simulated time, ns.
pub const MSEC_NS: u64 = crate::sim::MSEC;
/// A second of simulated time, ns.
pub const SEC_NS: u64 = crate::sim::SEC;
