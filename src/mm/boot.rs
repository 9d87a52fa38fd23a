//! Boot: the machine a scenario describes, laid out the way the kernel does at boot
//! (`free_area_init_nodes()`, `init_per_zone_wmark_min()`, `setup_per_zone_wmarks()`,
//! `setup_per_zone_lowmem_reserve()`, `zone_batchsize()`, `calculate_zone_inactive_ratio()`,
//! `hugetlb_hstate_alloc_pages()`), then its devices, mounts and tasks, and their first events.

use super::backing_dev::Writeback;
use super::event::Clock;
use super::fs_writeback::Bdi;
use super::granularity::{Granularity, KernelPages};
use super::memory::{Memory, Node, Swap, VmStat};
use super::options::Options;
use super::page::{pg, Page, PageId, Place};
use super::page_writeback::Prop;
use super::pool;
use super::sched::Actor;
use super::task::Task;
use super::vmscan::Kswapd;
use super::zone::{self, Zone, ZoneExtent, ZoneStat};
use super::Machine;
use crate::block::{BlockLayer, Disk};
use crate::fs::Mount;
use crate::sim::{EventQueue, SimRng, SEC};
use crate::spec::RunSpec;

/// The random stream of the wake-up-order noise (the engine's others use small numbers; the
/// noise streams of `crate::noise` are `0x6e6f_6973_000N`).
const STREAM_WAKEUPS: u64 = 0x6e6f_6973_0004;

impl Machine {
    /// Boots the machine described by `spec`: lays out zones, computes watermarks, carves kernel
    /// memory and hugetlb pages, creates tasks, files, flushers and journals, and queues their
    /// first events.
    pub fn boot(spec: &RunSpec, options: Options) -> Machine {
        let granularity = spec.machine.granularity();
        let cpus = spec.machine.cpus.max(1) as usize;
        let mem = layout_memory(spec, granularity);
        let total_base = granularity.base(mem.zones.iter().map(|z| z.present).sum());
        // ratelimit_pages = vm_total_pages / (ncpus * 32), clamped to [16, 4 MiB]: a batch of
        // dirtied pages.
        let ratelimit_pages = granularity.batch(KernelPages(
            (total_base / (cpus as u64 * 32)).clamp(16, 1024),
        ));
        let mut queue = EventQueue::default();
        if spec.shuffle_wakeups {
            queue.shuffle_wakeups(SimRng::split(spec.seed, STREAM_WAKEUPS));
        }
        let clock = Clock {
            now: 0,
            queue,
            events: 0,
            jiffy: SEC / u64::from(spec.machine.hz.max(1)),
            skip_limit: 0,
            skipped: 0,
        };
        let wb = Writeback {
            bdis: vec![],
            bdi_prop: Prop::default(),
            task_prop: Prop::default(),
            bdp_ratelimits: vec![0; cpus],
            ratelimit_pages,
            global_dirty_limit: 0,
            dirty_limit_stamp: 0,
            dirty_balance_reserve: 0,
            congestion_waiters: vec![],
            io_ends: Default::default(),
        };
        let io = BlockLayer::new(
            spec.disks.len(),
            SimRng::split(spec.seed, 1),
            u64::from(spec.machine.hz),
        );
        let mut m = Machine::assemble(spec, options, granularity, clock, mem, wb, io);
        m.fill_free_lists();
        m.carve_kernel_and_hugetlb();
        m.boot_slab();
        m.wb.dirty_balance_reserve = (0..m.mem.zones.len())
            .map(|z| m.mem.zone_dirty_balance_reserve(z))
            .sum();
        m.boot_devices();
        m.boot_tasks();
        // calc_period_shift(): the proportions' period is about twice the dirty limit.
        let (_, dirty) = m.global_dirty_limits();
        if m.switches.dirty_limit_boot_init {
            // writeback_set_ratelimit() from page_writeback_init(): the threshold at boot.
            m.wb.global_dirty_limit = dirty;
        }
        let period = 1u64 << (2 + (63 - dirty.saturating_sub(1).max(1).leading_zeros()));
        m.wb.bdi_prop = Prop::new(m.wb.bdis.len(), period);
        m.wb.task_prop = Prop::new(m.tasks.len(), period);
        m
    }

    /// Puts every page (each already marked `Place::Buddy`) on its zone's buddy list, highest
    /// pfn at the bottom of the stack, so allocation order is by address, lowest pfn first.
    fn fill_free_lists(&mut self) {
        for z in &mut self.mem.zones {
            let (start, end) = (z.start_pfn as PageId, (z.start_pfn + z.present) as PageId);
            debug_assert!(self.mem.pages[start as usize..end as usize]
                .iter()
                .all(|p| p.place == Place::Buddy));
            z.free.extend((start..end).rev());
            self.mem.vm_stat.nr_free += z.present;
        }
    }

    /// Takes the kernel's boot memory (in proportion to each zone's size) and the hugetlb pools
    /// (`hugepages=` at boot, interleaved over nodes) out of the free lists.
    fn carve_kernel_and_hugetlb(&mut self) {
        let total: u64 = self.mem.zones.iter().map(|z| z.present).sum();
        // A capacity: rounded down to whole simulated pages.
        let reserved = self
            .granularity
            .pages_floor(self.spec.machine.kernel_reserved_bytes);
        for zid in 0..self.mem.zones.len() {
            let share = reserved * self.mem.zones[zid].present / total.max(1);
            for _ in 0..share {
                let Some(id) = self.mem.zones[zid].free.pop() else {
                    break;
                };
                self.mem.vm_stat.nr_free -= 1;
                let p = &mut self.mem.pages[id as usize];
                p.place = Place::Held;
                p.flags = pg::KERNEL;
                p.owner = u32::MAX;
                self.mem.zones[zid].stat.nr_kernel += 1;
            }
        }
        let huge: u64 = self
            .spec
            .tasks
            .iter()
            .map(|t| {
                self.granularity
                    .pages_ceil(t.kind.workload().hugetlb_bytes())
            }) // 2 MiB multiples: exact
            .sum();
        // Interleave over the highest zone of every node, as hugetlb_hstate_alloc_pages() does.
        let mut carved = 0;
        let highest: Vec<u16> = self
            .mem
            .nodes
            .iter()
            .filter_map(|n| n.zones.last().copied())
            .collect();
        while carved < huge {
            let before = carved;
            for &zid in &highest {
                if carved == huge {
                    break;
                }
                if let Some(id) = self.mem.zones[zid as usize].free.pop() {
                    self.mem.vm_stat.nr_free -= 1;
                    let p = &mut self.mem.pages[id as usize];
                    p.place = Place::Held;
                    p.flags = pg::HUGETLB;
                    carved += 1;
                }
            }
            assert!(
                carved > before,
                "hugetlb pool larger than memory passed validation"
            );
        }
        self.mem.hugetlb_pages = carved;
    }

    /// Disks, bdis (one flusher each), swap, mounts.
    fn boot_devices(&mut self) {
        for (i, d) in self.spec.disks.iter().enumerate() {
            let mut disk = Disk::new(d.clone(), self.granularity);
            let hz = u64::from(self.spec.machine.hz);
            match self.switches.io_scheduler {
                crate::kernel::IoScheduler::Cfq => disk.use_cfq(hz),
                crate::kernel::IoScheduler::MqDeadline => disk.use_deadline(hz),
            }
            disk.tracks_congestion =
                self.switches.block_congestion == crate::kernel::BlockCongestion::RequestLists;
            self.io.disks.push(disk);
            self.wb.bdis.push(Bdi::new(i, self.granularity));
        }
        // A capacity: rounded down to whole simulated pages.
        self.mem.swap.total = self.granularity.pages_floor(self.spec.machine.swap_bytes);
        self.mem.swap.free = self.mem.swap.total;
        self.mem.swap.bdi = self.spec.machine.swap_disk;
        for (i, ms) in self.spec.mounts.clone().iter().enumerate() {
            // kjournald starts asleep: the first handle's transaction arms its timer.
            self.vfs.mounts.push(Mount::new(ms.clone()));
            let _ = i;
        }
        let interval = u64::from(self.spec.vm.dirty_writeback_centisecs) * 10 * crate::sim::MSEC;
        for b in 0..self.wb.bdis.len() {
            if interval > 0 {
                self.wb.bdis[b].next_kupdate = interval;
                self.schedule(interval, Actor::Flusher(b));
            }
        }
    }

    /// Creates the tasks and queues their starts.
    fn boot_tasks(&mut self) {
        let cpus = self.spec.machine.cpus.max(1) as usize;
        for (i, ts) in self.spec.tasks.clone().iter().enumerate() {
            let t = Task::new(self, i, ts, i % cpus);
            self.tasks.push(t);
        }
        for b in 0..self.wb.bdis.len() {
            // The flusher threads, after the user tasks (task numbers are the scenario's).
            let i = self.tasks.len();
            let t = Task::flusher(self, i, b, b % cpus);
            self.tasks.push(t);
            self.wb.bdis[b].kthread = i;
        }
        for i in 0..self.tasks.len() {
            if let Some(p) = self.tasks[i].parent {
                self.tasks[p].children.push(i);
            }
            for (pos, &z) in self.tasks[i].mems_zonelist.iter().enumerate() {
                self.mem.zone_users[z as usize].push((i as u32, pos as u32));
            }
        }
        for i in 0..self.spec.tasks.len() {
            let start = self.tasks[i].start_ns;
            self.schedule(start, Actor::Task(i));
        }
    }
}

/// Every node and zone of `spec`'s machine, every page (marked free, not yet on a free list),
/// and the watermarks.
fn layout_memory(spec: &RunSpec, granularity: Granularity) -> Memory {
    // memory and node sizes are whole simulated pages (validated).
    let memory_pages = granularity.pages_floor(spec.machine.memory_bytes);
    let cpus = spec.machine.cpus.max(1) as usize;
    let node_extents =
        zone::layout_zones(&spec.machine.layout, memory_pages, granularity.page_bytes());
    let mut pages = pool::take_pages(memory_pages as usize);
    let mut zones = vec![];
    let mut nodes = vec![];
    for (n, extents) in node_extents.iter().enumerate() {
        let ids = node_zones(n, extents, granularity, cpus, &mut zones, &mut pages);
        nodes.push(Node {
            zones: ids,
            kswapd: Kswapd::new(),
            kswapd_cpu_ns: 0,
            spanned: extents.iter().map(|e| e.2).sum(),
            throttled: Vec::new(),
            throttled_written: 0,
            kswapd_failures: 0,
            pages_scanned: 0,
            flags: Default::default(),
        });
    }
    let node_lru = spec.kernel.switches.lru_lists == crate::kernel::LruLists::Node;
    if node_lru {
        // [4.8+] one lruvec per node (599d0c954f91): its lowest zone holds the lists.
        for node in &nodes {
            for &z in &node.zones {
                zones[z as usize].lruvec = node.zones[0];
            }
        }
    }
    let total_present: u64 = zones.iter().map(|z| z.present).sum();
    let total_base = granularity.base(total_present);
    let min_free_kbytes = spec
        .vm
        .min_free_kbytes
        .unwrap_or_else(|| zone::default_min_free_kbytes(total_base));
    let scale_factor = spec.watermark_scale_factor();
    for z in &mut zones {
        // Watermarks are thresholds free pages must exceed: the kernel's values from base
        // pages, rounded down (exact for `free > mark`).
        let base = granularity.base(z.present);
        z.watermark = zone::zone_wmarks(min_free_kbytes, base, total_base, scale_factor)
            .map(|w| granularity.floor(KernelPages(w)));
        z.alloc_batch = (z.watermark[2] - z.watermark[1]) as i64;
    }
    Memory {
        node_lru,
        pages,
        zone_users: vec![Vec::new(); zones.len()],
        zones,
        nodes,
        vm_stat: VmStat::default(),
        swap: Swap::default(),
        next_swap_slot: 0,
        hugetlb_pages: 0,
        min_free_kbytes,
        scratch: Vec::with_capacity(64),
        scratch_keep: Vec::with_capacity(64),
        scratch_skip: Vec::new(),
        hot: super::hot::HotMemory::default(),
        writeback_waiters: Vec::new(),
        lock_waiters: Vec::new(),
        token_segments: Vec::new(),
    }
}

/// The zones of node `n` (`extents`), appended to `zones` with their pages appended to `pages`:
/// their ids.
fn node_zones(
    n: usize,
    extents: &[ZoneExtent],
    granularity: Granularity,
    cpus: usize,
    zones: &mut Vec<Zone>,
    pages: &mut Vec<Page>,
) -> Vec<u16> {
    let mut ids = vec![];
    // lowmem_reserve is a threshold free pages must exceed: the kernel's value from base pages,
    // rounded down (exact for `>`).
    let base: Vec<_> = extents
        .iter()
        .map(|&(t, _, p)| (t, granularity.base(p)))
        .collect();
    let reserves: Vec<[u64; 3]> = zone::lowmem_reserves(&base)
        .into_iter()
        .map(|r| r.map(|x| granularity.floor(KernelPages(x))))
        .collect();
    for (k, &(ztype, start, present)) in extents.iter().enumerate() {
        let id = zones.len() as u16;
        // zone_batchsize() reads base pages; batch and high are batches of pages.
        let (batch, high) = zone::zone_pcp(granularity.base(present));
        zones.push(Zone {
            node: n as u32,
            ztype,
            start_pfn: start,
            present,
            watermark: [0; 3],
            lowmem_reserve: reserves[k],
            free: pool::take_ids(present as usize),
            pcp: vec![vec![]; cpus],
            pcp_high: granularity.batch(KernelPages(high as u64)) as usize,
            pcp_batch: granularity.batch(KernelPages(batch as u64)) as usize,
            alloc_batch: 0,
            lru: Default::default(),
            lruvec: id,
            nr_zone_lru: [0; 5],
            recent_scanned: [0; 2],
            recent_rotated: [0; 2],
            nr_saved_scan: [0; 5],
            pages_scanned: 0,
            all_unreclaimable: false,
            oom_locked: false,
            // A ratio by GiB of memory: from base pages, unconverted.
            inactive_ratio: zone::inactive_ratio(granularity.base(present)),
            flags: zone::ReclaimFlags::default(),
            stat: ZoneStat::default(),
        });
        debug_assert_eq!(pages.len() as u64, start);
        let free = Page {
            place: Place::Buddy,
            ..Page::new(id)
        };
        pages.resize(pages.len() + present as usize, free);
        ids.push(id);
    }
    ids
}
