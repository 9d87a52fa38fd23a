//! One matrix cell's tree → a [`RunSpec`]. Every user-facing check of the format lives here.

use std::sync::Arc;

use super::error::{did_you_mean, list_of, one_of, Diag, Loc, Source};
use super::schema;
use super::tree::{Entry, Node, Value};
use super::units::{self, DURATION_HELP, RATE_HELP, SIZE_HELP};
use crate::fs::{Backing, MountOption};
use crate::kernel::Kernel;
use crate::mm::workload;
use crate::noise::Noise;
use crate::spec::{
    DiskSpec, FsType, Limits, MachineSpec, MountSpec, NodeLayout, Policy, Release, RunSpec,
    SlabSpec, TaskKind, TaskSpec, VmSpec,
};

/// The page size.
pub const PAGE: u64 = 4096;
/// The largest `machine.page_granularity` (128 KiB, `SWAP_CLUSTER_MAX` pages).
pub use crate::mm::granularity::MAX_PAGE_GRANULARITY;
/// The hugetlb page size on x86_64.
pub use crate::mm::workload::pin::HUGE_PAGE;
/// The largest `machine.memory`: x86_64 2.6.32–36 `MAX_PHYSMEM_BITS` = 46 (64 TiB).
pub const MAX_MEMORY: u64 = 1 << 46;
/// `MAX_NUMNODES` with the largest `CONFIG_NODES_SHIFT` (10).
pub const MAX_NODES: u64 = 1024;
/// Default `scenario.max_events`.
pub const DEFAULT_MAX_EVENTS: u64 = 500_000_000;
/// The largest `scenario.max_events`: at a few million events per second, about an hour of wall
/// time, so no scenario can make a run that does not end.
pub const MAX_EVENTS: u64 = 10_000_000_000;

/// `scenario.max_scanned` by default: pages reclaim may scan in one run. Measured in release on
/// a 3.2 run with `dirty_ratio = 100` (docs/ROBUSTNESS.md): about the same wall time as the
/// default event limit's events of an ordinary run.
pub const DEFAULT_MAX_SCANNED: u64 = 20_000_000_000;

/// The largest `scenario.max_scanned`.
pub const MAX_SCANNED: u64 = 1_000_000_000_000;
/// The most pages one run simulates (64 GiB of 4 KiB pages; more memory with a coarser
/// `machine.page_granularity`): every simulated page is a 24-byte record plus its share of lists
/// and caches, so this is about 1–4 GiB of wbsim's own memory.
pub const MAX_PAGES: u64 = 1 << 24;
/// The longest duration anywhere in a scenario (365 days): sums of a few of them never overflow
/// the 584-year nanosecond clock.
pub const MAX_DURATION_NS: u64 = 365 * 24 * 3600 * 1_000_000_000;
pub use crate::spec::{MAX_FILE_BYTES, MAX_VM_BYTES};
/// The most tasks, disks and mounts in one scenario.
pub const MAX_TASKS: usize = 4096;
/// See [`MAX_TASKS`].
pub const MAX_DISKS: usize = 256;
/// The most replicas per cell (`scenario.replicas`, `--replicas`).
pub const MAX_REPLICAS: i64 = 10_000;
/// See [`MAX_TASKS`].
pub const MAX_MOUNTS: usize = 256;

/// A table being read, with its dotted path and the best place to point at when a key is missing.
#[derive(Clone, Copy)]
struct Tbl<'n> {
    node: &'n Node,
    loc: &'n Loc,
}

/// The validator of one cell.
pub struct Validator<'a> {
    src: &'a Arc<Source>,
    /// MemTotal (`machine.memory`) once `[machine]` is read: what a size `"90%"` is a share of.
    mem_total: std::cell::Cell<Option<u64>>,
}

/// A value read with where it was found.
type Found<'n, T> = Option<(T, &'n Node)>;

impl<'a> Validator<'a> {
    /// A validator for a file.
    pub fn new(src: &'a Arc<Source>) -> Self {
        Validator {
            src,
            mem_total: std::cell::Cell::new(None),
        }
    }

    fn err(&self, loc: &Loc, key: &str, msg: impl Into<String>) -> Diag {
        Diag::new(self.src, loc.clone(), key, msg)
    }

    fn type_err(&self, node: &Node, key: &str, expected: &str) -> Diag {
        self.err(
            &node.loc,
            key,
            format!(
                "found {} `{}`; expected {expected}",
                node.value.type_name(),
                node.value.toml()
            ),
        )
    }

    /// Rejects keys of `t` not in `allowed`.
    fn check_keys(&self, t: Tbl<'_>, path: &str, allowed: &[&str], what: &str) -> Result<(), Diag> {
        for e in t.node.entries().unwrap_or_default() {
            if !allowed.contains(&e.key.as_str()) {
                return Err(self.unknown_key(e, path, allowed, what));
            }
        }
        Ok(())
    }

    fn unknown_key(&self, e: &Entry, path: &str, allowed: &[&str], what: &str) -> Diag {
        let key = join(path, &e.key);
        self.err(
            &e.key_loc,
            &key,
            format!(
                "unknown key `{}` in {what}; accepted keys: {}",
                e.key,
                allowed.join(", ")
            ),
        )
        .help(did_you_mean(&e.key, allowed.iter().copied()))
    }

    /// A sub-table (absent: `None`).
    fn table<'n>(&self, parent: &'n Node, path: &str, key: &str) -> Result<Option<Tbl<'n>>, Diag> {
        let Some(e) = parent.entry(key) else {
            return Ok(None);
        };
        if e.node.entries().is_none() {
            return Err(self.type_err(&e.node, &join(path, key), "a table"));
        }
        let loc = if matches!(e.node.loc, Loc::None) {
            &e.key_loc
        } else {
            &e.node.loc
        };
        Ok(Some(Tbl { node: &e.node, loc }))
    }

    fn missing(&self, t: Tbl<'_>, path: &str, key: &str, expected: &str) -> Diag {
        let header = if path.is_empty() {
            "the file".to_string()
        } else {
            format!("`[{path}]`")
        };
        self.err(
            t.loc,
            &join(path, key),
            format!("missing required key `{key}` in {header}; expected {expected}"),
        )
    }

    fn str<'n>(
        &self,
        t: Tbl<'n>,
        path: &str,
        key: &str,
        expected: &str,
    ) -> Result<Found<'n, &'n str>, Diag> {
        match t.node.get(key) {
            None => Ok(None),
            Some(n) => match &n.value {
                Value::Str(s) => Ok(Some((s.as_str(), n))),
                _ => Err(self.type_err(n, &join(path, key), expected)),
            },
        }
    }

    fn choice<'n>(
        &self,
        t: Tbl<'n>,
        path: &str,
        key: &str,
        choices: &[&str],
    ) -> Result<Found<'n, &'n str>, Diag> {
        let expected = format!("one of {}", one_of(choices));
        let Some((s, n)) = self.str(t, path, key, &expected)? else {
            return Ok(None);
        };
        if !choices.contains(&s) {
            return Err(self
                .err(
                    &n.loc,
                    &join(path, key),
                    format!("found `{s}`; expected {expected}"),
                )
                .help(did_you_mean(s, choices.iter().copied())));
        }
        Ok(Some((s, n)))
    }

    fn int(
        &self,
        t: Tbl<'_>,
        path: &str,
        key: &str,
        lo: i64,
        hi: i64,
    ) -> Result<Option<i64>, Diag> {
        let Some(n) = t.node.get(key) else {
            return Ok(None);
        };
        let range = if hi == i64::MAX {
            format!("an integer ≥ {lo}")
        } else {
            format!("an integer in {lo}..={hi}")
        };
        match n.value {
            Value::Int(i) if (lo..=hi).contains(&i) => Ok(Some(i)),
            Value::Int(i) => Err(self.err(
                &n.loc,
                &join(path, key),
                format!("found {i}; expected {range}"),
            )),
            _ => Err(self.type_err(n, &join(path, key), &range)),
        }
    }

    fn uint<T: TryFrom<i64>>(
        &self,
        t: Tbl<'_>,
        path: &str,
        key: &str,
        lo: i64,
        hi: i64,
    ) -> Result<Option<T>, Diag> {
        Ok(self
            .int(t, path, key, lo, hi)?
            .and_then(|i| T::try_from(i).ok()))
    }

    fn bool(&self, t: Tbl<'_>, path: &str, key: &str) -> Result<Option<bool>, Diag> {
        let Some(n) = t.node.get(key) else {
            return Ok(None);
        };
        match n.value {
            Value::Bool(b) => Ok(Some(b)),
            _ => Err(self.type_err(n, &join(path, key), "`true` or `false`")),
        }
    }

    fn parsed<'n>(
        &self,
        n: &'n Node,
        key: &str,
        expected: &str,
        allow_int: bool,
        parse: fn(&str) -> Result<u64, String>,
    ) -> Result<u64, Diag> {
        match &n.value {
            Value::Str(s) => parse(s).map_err(|m| self.err(&n.loc, key, m)),
            Value::Int(i) if allow_int && *i >= 0 => Ok(i.unsigned_abs()),
            Value::Int(i) if allow_int => Err(self.err(
                &n.loc,
                key,
                format!("found {i}; sizes cannot be negative; expected {expected}"),
            )),
            Value::Int(i) => Err(self.err(
                &n.loc,
                key,
                format!(
                    "found the bare integer {i}, which has no unit; expected {expected} (a string)"
                ),
            )),
            _ => Err(self.type_err(n, key, expected)),
        }
    }

    fn size<'n>(&self, t: Tbl<'n>, path: &str, key: &str) -> Result<Found<'n, u64>, Diag> {
        let Some(n) = t.node.get(key) else {
            return Ok(None);
        };
        if let Value::Str(s) = &n.value {
            if let Some(pct) = s.trim().strip_suffix('%') {
                let key = join(path, key);
                let Some(total) = self.mem_total.get() else {
                    return Err(self.err(&n.loc, &key, format!("found `{s}`; a percentage of memory is accepted for the sizes of tasks and of `[vm]`, not for `[machine]`'s; expected {SIZE_HELP}")));
                };
                let bytes = units::percent_of(pct, total).map_err(|m| self.err(&n.loc, &key, m))?;
                return Ok(Some((bytes, n)));
            }
        }
        Ok(Some((
            self.parsed(n, &join(path, key), SIZE_HELP, true, units::parse_size)?,
            n,
        )))
    }

    fn rate<'n>(&self, t: Tbl<'n>, path: &str, key: &str) -> Result<Found<'n, u64>, Diag> {
        let Some(n) = t.node.get(key) else {
            return Ok(None);
        };
        Ok(Some((
            self.parsed(n, &join(path, key), RATE_HELP, false, units::parse_rate)?,
            n,
        )))
    }

    fn duration<'n>(&self, t: Tbl<'n>, path: &str, key: &str) -> Result<Found<'n, u64>, Diag> {
        let Some(n) = t.node.get(key) else {
            return Ok(None);
        };
        let ns = self.parsed(
            n,
            &join(path, key),
            DURATION_HELP,
            false,
            units::parse_duration,
        )?;
        if ns > MAX_DURATION_NS {
            return Err(self.err(
                &n.loc,
                &join(path, key),
                format!(
                    "found {}, which is longer than 365 days; expected {DURATION_HELP}, at most `365days`",
                    n.value.toml()
                ),
            ));
        }
        Ok(Some((ns, n)))
    }

    /// A task's rate: greater than zero, and fast enough that `size` takes at most 365 days (a
    /// task that could not finish in the longest run is a typo, and the pacing arithmetic stays
    /// far from overflow).
    fn pace(&self, size: (u64, &Node), rate: (u64, &Node), path: &str) -> Result<u64, Diag> {
        let r = self
            .positive(Some(rate), path, "rate", "the rate")?
            .unwrap_or(1);
        let secs = u128::from(size.0) / u128::from(r);
        if secs > u128::from(MAX_DURATION_NS / 1_000_000_000) {
            return Err(self.err(
                &rate.1.loc,
                &join(path, "rate"),
                format!(
                    "found {}; at that rate the task's {} bytes take {secs} seconds, more than the longest run (365 days); expected a faster rate",
                    rate.1.value.toml(),
                    size.0
                ),
            ));
        }
        Ok(r)
    }

    /// A streaming or anon task's required `size` (positive, at most `max`) and `rate` (one that
    /// finishes the size within the longest run): `(bytes, bytes per second)`.
    fn sized_and_paced(
        &self,
        t: Tbl<'_>,
        p: &str,
        max: u64,
        max_why: &str,
    ) -> Result<(u64, u64), Diag> {
        let size = self
            .size(t, p, "size")?
            .ok_or_else(|| self.missing(t, p, "size", SIZE_HELP))?;
        let bytes = self
            .positive(Some(size), p, "size", "`size`")?
            .ok_or_else(|| self.missing(t, p, "size", "a value"))?;
        self.at_most(Some(size), p, "size", max, max_why)?;
        let rate = self
            .rate(t, p, "rate")?
            .ok_or_else(|| self.missing(t, p, "rate", RATE_HELP))?;
        Ok((bytes, self.pace(size, rate, p)?))
    }

    /// A size that must not exceed `max` (`what` says why, for the message).
    fn at_most(
        &self,
        v: Found<'_, u64>,
        path: &str,
        key: &str,
        max: u64,
        what: &str,
    ) -> Result<(), Diag> {
        match v {
            Some((b, n)) if b > max => Err(self.err(
                &n.loc,
                &join(path, key),
                format!("found {} ({b} bytes); {what}", n.value.toml()),
            )),
            _ => Ok(()),
        }
    }

    fn positive(
        &self,
        v: Found<'_, u64>,
        path: &str,
        key: &str,
        what: &str,
    ) -> Result<Option<u64>, Diag> {
        match v {
            Some((0, n)) => Err(self.err(
                &n.loc,
                &join(path, key),
                format!("found {}; {what} must be greater than zero", n.value.toml()),
            )),
            other => Ok(other.map(|(v, _)| v)),
        }
    }

    fn page_multiple(&self, v: Found<'_, u64>, path: &str, key: &str) -> Result<(), Diag> {
        match v {
            Some((b, n)) if b % PAGE != 0 => Err(self.err(
                &n.loc,
                &join(path, key),
                format!(
                    "found {} ({b} bytes), which is not a multiple of the 4096-byte page; expected a memory size in whole pages (e.g. {} or {})",
                    n.value.toml(),
                    b / PAGE * PAGE,
                    (b / PAGE + 1) * PAGE
                ),
            )),
            _ => Ok(()),
        }
    }

    /// A size that lays out memory (memory, a node) must be whole simulated pages of `page`
    /// bytes: a coarse page never rounds the machine itself.
    fn granule_multiple(&self, b: u64, n: &Node, key: &str, page: u64) -> Result<(), Diag> {
        if b % page == 0 {
            return Ok(());
        }
        let below = b / page * page;
        let mut e = vec![];
        if below > 0 {
            e.push(format!("\"{}\"", human_size(below)));
        }
        e.push(format!("\"{}\"", human_size(below + page)));
        Err(self.err(
            &n.loc,
            key,
            format!(
                "found {} ({b} bytes), which is not a multiple of the {page}-byte simulated page (machine.page_granularity = \"{}\"); expected a size in whole simulated pages (e.g. {}), or a finer machine.page_granularity",
                n.value.toml(),
                human_size(page),
                e.join(" or ")
            ),
        ))
    }

    /// Named sub-tables (`[disk.*]`, `[mount.*]`, `[task.*]`), checking names and that each is a
    /// table.
    fn named<'n>(&self, root: &'n Node, section: &str) -> Result<Vec<(&'n str, Tbl<'n>)>, Diag> {
        let Some(t) = self.table(root, "", section)? else {
            return Ok(Vec::new());
        };
        let entries = t.node.entries().unwrap_or_default();
        let max = match section {
            "task" => MAX_TASKS,
            "disk" => MAX_DISKS,
            _ => MAX_MOUNTS,
        };
        if entries.len() > max {
            return Err(self.err(
                &entries[max].key_loc,
                &join(section, &entries[max].key),
                format!(
                    "{} `[{section}.*]` tables; a scenario has at most {max}",
                    entries.len()
                ),
            ));
        }
        let mut out = Vec::new();
        for e in entries {
            let path = join(section, &e.key);
            if !valid_name(&e.key) {
                return Err(self.err(
                    &e.key_loc,
                    &path,
                    format!(
                        "`{}` is not a valid name; names use letters, digits, `-` and `_`",
                        e.key
                    ),
                ));
            }
            if e.node.entries().is_none() {
                return Err(self.type_err(&e.node, &path, &format!("a table `[{path}]`")));
            }
            let loc = if matches!(e.node.loc, Loc::None) {
                &e.key_loc
            } else {
                &e.node.loc
            };
            out.push((e.key.as_str(), Tbl { node: &e.node, loc }));
        }
        Ok(out)
    }

    fn reference<'n>(
        &self,
        t: Tbl<'n>,
        path: &str,
        key: &str,
        names: &[&str],
        what: &str,
    ) -> Result<Found<'n, usize>, Diag> {
        let Some((s, n)) = self.str(t, path, key, &format!("the name of a {what}"))? else {
            return Ok(None);
        };
        match names.iter().position(|x| *x == s) {
            Some(i) => Ok(Some((i, n))),
            None => Err(self
                .err(
                    &n.loc,
                    &join(path, key),
                    format!(
                        "there is no {what} `{s}`; declared: {}",
                        if names.is_empty() {
                            "none".into()
                        } else {
                            list_of(names)
                        }
                    ),
                )
                .help(did_you_mean(s, names.iter().copied()))),
        }
    }

    /// Validates one cell's tree into a run.
    pub fn run_spec(&self, root: &Node, policy: Policy) -> Result<RunSpec, Diag> {
        let root_t = Tbl {
            node: root,
            loc: &root.loc,
        };
        self.check_keys(root_t, "", schema::TOP_LEVEL, "the file")?;
        let (kernel, seed, limits) = self.scenario(root)?;
        let (disks, disk_names) = self.disks(root)?;
        let mt = self.table(root, "", "machine")?.ok_or_else(|| {
            self.err(
                &Loc::None,
                "machine",
                "missing required table `[machine]` (with at least `memory`)",
            )
        })?;
        self.mem_total.set(None);
        let (machine, node_count) = self.machine(mt, &disk_names)?;
        self.mem_total.set(Some(machine.memory_bytes));
        let vm = self.vm_of(root, &machine)?;
        let scale_factor = (kernel.switches.watermark_gap
            == crate::kernel::WatermarkGap::ScaleFactor)
            .then_some(u64::from(vm.watermark_scale_factor));
        self.watermarks_apart(&machine, &vm, scale_factor, mt)?;
        let mount_tables = self.named(root, "mount")?;
        let mount_names: Vec<&str> = mount_tables.iter().map(|(n, _)| *n).collect();
        let mut mounts = Vec::new();
        for (mname, t) in &mount_tables {
            mounts.push(self.mount(mname, *t, &disk_names)?);
        }
        let task_tables = self.named(root, "task")?;
        let tasks = self.tasks(&task_tables, &mount_names, &mounts, node_count)?;
        self.pinned_fits(&tasks, &machine, &task_tables)?;
        self.hugetlb_fits(&tasks, &machine, &task_tables)?;
        Ok(RunSpec {
            release: kernel.base,
            kernel,
            policy,
            seed,
            limits,
            machine,
            vm,
            disks,
            mounts,
            tasks,
            shuffle_wakeups: false,
        })
    }

    /// `[scenario]` (name, description, release, duration, seed, max_events) and `[kernel]`:
    /// the kernel, the seed and the limits.
    fn scenario(&self, root: &Node) -> Result<(Kernel, u64, Limits), Diag> {
        let sc = self.table(root, "", "scenario")?.ok_or_else(|| {
            self.err(
                &Loc::None,
                "scenario",
                "missing required table `[scenario]` (with at least `name` and `duration`)",
            )
        })?;
        let p = "scenario";
        self.check_keys(sc, p, schema::SCENARIO, "`[scenario]`")?;
        let (name, name_node) = self
            .str(sc, p, "name", "a string")?
            .ok_or_else(|| self.missing(sc, p, "name", "a string"))?;
        if name.trim().is_empty() {
            return Err(self.err(
                &name_node.loc,
                "scenario.name",
                "the name is empty; expected a non-empty string",
            ));
        }
        self.str(sc, p, "description", "a string")?;
        let mut kernel = self.release(sc)?;
        if let Some(t) = self.table(root, "", "kernel")? {
            self.kernel(t, &mut kernel)?;
        }
        let duration = self
            .duration(sc, p, "duration")?
            .ok_or_else(|| self.missing(sc, p, "duration", DURATION_HELP))?;
        let sim_time_ns = self
            .positive(Some(duration), p, "duration", "the duration")?
            .unwrap_or(0);
        let seed = self.uint::<u64>(sc, p, "seed", 0, i64::MAX)?.unwrap_or(1);
        let max_events = self
            .uint::<u64>(sc, p, "max_events", 1, MAX_EVENTS as i64)?
            .unwrap_or(DEFAULT_MAX_EVENTS);
        let max_scanned = self
            .uint::<u64>(sc, p, "max_scanned", 1, MAX_SCANNED as i64)?
            .unwrap_or(DEFAULT_MAX_SCANNED);
        let limits = Limits {
            sim_time_ns,
            max_events,
            max_scanned,
        };
        Ok((kernel, seed, limits))
    }

    /// `scenario.replicas` (1 when absent) and `[noise]` (`None` when absent, a key left out
    /// takes its default): how many runs each cell gets and how much they vary
    /// (`crate::noise`).
    pub fn replicas_and_noise(&self, root: &Node) -> Result<(u32, Option<Noise>), Diag> {
        let replicas = match self.table(root, "", "scenario")? {
            Some(sc) => self
                .uint::<u32>(sc, "scenario", "replicas", 1, MAX_REPLICAS)?
                .unwrap_or(1),
            None => 1,
        };
        let Some(t) = self.table(root, "", "noise")? else {
            return Ok((replicas, None));
        };
        let p = "noise";
        self.check_keys(t, p, schema::NOISE, "`[noise]`")?;
        let d = Noise::DEFAULT;
        let start_ns = match self.duration(t, p, "start")? {
            Some((ns, n)) if ns > 60 * crate::sim::SEC => {
                return Err(self.err(
                    &n.loc,
                    "noise.start",
                    format!("found {}; expected at most `60s`", n.value.toml()),
                ))
            }
            Some((ns, _)) => ns,
            None => d.start_ns,
        };
        let percent = |key: &str, default: u32| -> Result<u32, Diag> {
            Ok(self.uint::<u32>(t, p, key, 0, 50)?.unwrap_or(default))
        };
        let noise = Noise {
            start_ns,
            rate_percent: percent("rate_percent", d.rate_percent)?,
            disk_percent: percent("disk_percent", d.disk_percent)?,
            wakeup_order: self.bool(t, p, "wakeup_order")?.unwrap_or(d.wakeup_order),
        };
        Ok((replicas, Some(noise)))
    }

    /// `scenario.release`: a kernel profile (2.6.32 when absent).
    fn release(&self, sc: Tbl<'_>) -> Result<Kernel, Diag> {
        let names = Kernel::profile_names();
        // `release = 3.2` (or `--set scenario.release=3.2`) arrives as a float: read it as written.
        let as_float = match sc.node.get("release").map(|n| &n.value) {
            Some(Value::Float(f)) => Some(format!("{f}")),
            _ => None,
        };
        Ok(match as_float.as_deref().and_then(Kernel::profile) {
            Some(k) => k,
            None => self
                .choice(sc, "scenario", "release", &names)?
                .and_then(|(s, _)| Kernel::profile(s))
                .unwrap_or_else(|| Kernel::profile(Release::V2_6_32.name()).expect("2.6.32")),
        })
    }

    /// `[disk.*]`: the disks and their names.
    fn disks<'n>(&self, root: &'n Node) -> Result<(Vec<DiskSpec>, Vec<&'n str>), Diag> {
        let disk_tables = self.named(root, "disk")?;
        let disk_names: Vec<&str> = disk_tables.iter().map(|(n, _)| *n).collect();
        let mut disks = Vec::new();
        for (dname, t) in &disk_tables {
            let p = &join("disk", dname);
            self.check_keys(*t, p, schema::DISK, &format!("`[{p}]`"))?;
            let bw = self
                .rate(*t, p, "bandwidth")?
                .ok_or_else(|| self.missing(*t, p, "bandwidth", RATE_HELP))?;
            let bandwidth = self
                .positive(Some(bw), p, "bandwidth", "the bandwidth")?
                .unwrap_or(0);
            let seek_ns = self.duration(*t, p, "seek")?.map_or(8_000_000, |(v, _)| v);
            let nr_requests = self
                .uint::<u32>(*t, p, "nr_requests", 4, 100_000)?
                .unwrap_or(128);
            let latency_ns = self.duration(*t, p, "latency")?.map_or(0, |(v, _)| v);
            let queue_depth = self
                .uint::<u32>(*t, p, "queue_depth", 1, 4096)?
                .unwrap_or(1);
            let random_write_iops = self
                .uint::<u64>(*t, p, "random_write_iops", 1, 100_000_000)?
                .unwrap_or(0);
            disks.push(DiskSpec {
                name: (*dname).to_string(),
                bandwidth_bytes_per_sec: bandwidth,
                seek_ns,
                nr_requests,
                latency_ns,
                queue_depth,
                random_write_iops,
            });
        }
        Ok((disks, disk_names))
    }

    /// `[vm]` (the kernel's defaults when absent), with `min_free_kbytes` below the memory.
    fn vm_of(&self, root: &Node, machine: &MachineSpec) -> Result<VmSpec, Diag> {
        let Some(t) = self.table(root, "", "vm")? else {
            return Ok(VmSpec::default());
        };
        let vm = self.vm(t)?;
        if let Some(kib) = vm.min_free_kbytes {
            if kib.saturating_mul(1024) >= machine.memory_bytes {
                let loc = t
                    .node
                    .get("min_free_kbytes")
                    .map_or(Loc::None, |n| n.loc.clone());
                return Err(self.err(
                    &loc,
                    "vm.min_free_kbytes",
                    format!(
                        "found {kib}; the reserve must be smaller than machine.memory ({} KiB)",
                        machine.memory_bytes / 1024
                    ),
                ));
            }
        }
        Ok(vm)
    }

    /// What is pinned must leave memory for everything else. The error is located at the
    /// `size` of the task that pins the most (the value a reader would shrink).
    fn pinned_fits(
        &self,
        tasks: &[TaskSpec],
        machine: &MachineSpec,
        task_tables: &[(&str, Tbl<'_>)],
    ) -> Result<(), Diag> {
        let pinned: u64 = tasks
            .iter()
            .map(|t| t.kind.workload().pinned_bytes())
            .fold(0u64, u64::saturating_add);
        if pinned.saturating_add(machine.kernel_reserved_bytes) >= machine.memory_bytes {
            let largest = (0..tasks.len())
                .max_by_key(|&i| (tasks[i].kind.workload().pinned_bytes(), usize::MAX - i))
                .filter(|&i| tasks[i].kind.workload().pinned_bytes() > 0);
            let (loc, key) = match largest {
                Some(i) => {
                    let (name, t) = &task_tables[i];
                    let loc = t.node.get("size").map_or(Loc::None, |n| n.loc.clone());
                    (loc, format!("task.{name}.size"))
                }
                None => (Loc::None, "machine.kernel_reserved".to_string()),
            };
            return Err(self.err(
                &loc,
                &key,
                format!(
                    "pinned memory ({} bytes, hugetlb rounded to 2MiB pages) plus machine.kernel_reserved ({} bytes) must be less than machine.memory ({} bytes)",
                    pinned, machine.kernel_reserved_bytes, machine.memory_bytes
                ),
            ));
        }
        Ok(())
    }

    /// hugetlb pools are carved from the highest zone of each node (after its share of kernel
    /// memory), not from anywhere in memory: they must fit there.
    fn hugetlb_fits(
        &self,
        tasks: &[TaskSpec],
        machine: &MachineSpec,
        task_tables: &[(&str, Tbl<'_>)],
    ) -> Result<(), Diag> {
        let huge: Vec<(usize, u64)> = tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (i, t.kind.workload().hugetlb_bytes() / machine.page_bytes))
            .filter(|&(_, pages)| pages > 0)
            .collect();
        let Some(&(first, _)) = huge.first() else {
            return Ok(());
        };
        // In simulated pages, as the engine carves them; the message in 4 KiB pages.
        let page = machine.page_bytes;
        let need: u64 = huge.iter().map(|h| h.1).sum();
        let extents =
            crate::mm::zone::layout_zones(&machine.layout, machine.memory_bytes / page, page);
        let total: u64 = extents.iter().flatten().map(|e| e.2).sum::<u64>().max(1);
        let reserved = machine.kernel_reserved_bytes / page;
        let room: u64 = extents
            .iter()
            .filter_map(|n| n.last())
            .map(|e| e.2 - reserved * e.2 / total)
            .sum();
        if need <= room {
            return Ok(());
        }
        let (need, room) = (need * (page / PAGE), room * (page / PAGE));
        let (name, t) = &task_tables[first];
        let loc = t.node.get("size").map_or(Loc::None, |n| n.loc.clone());
        Err(self.err(
            &loc,
            &format!("task.{name}.size"),
            format!(
                "the hugetlb pools need {need} pages ({} bytes) but they come from the highest zone of each node, which hold {room} pages ({} bytes) after kernel memory; expected hugetlb sizes adding up to at most {}",
                need * PAGE,
                room * PAGE,
                human_size(room / 512 * HUGE_PAGE)
            ),
        ))
    }

    /// `[kernel]`: each key a switch of `crate::kernel`, valued by its TOML name (`true`/`false`
    /// for the boolean ones).
    fn kernel(&self, t: Tbl<'_>, kernel: &mut Kernel) -> Result<(), Diag> {
        let p = "kernel";
        let keys = schema::kernel_keys();
        self.check_keys(t, p, &keys, "`[kernel]`")?;
        for info in crate::kernel::SWITCHES {
            let Some(n) = t.node.get(info.key) else {
                continue;
            };
            let value = match &n.value {
                Value::Bool(b) if info.values[0] == "true" || info.values[0] == "false" => {
                    if *b {
                        "true"
                    } else {
                        "false"
                    }
                }
                Value::Str(_) => {
                    self.choice(t, p, info.key, info.values)?
                        .expect("present")
                        .0
                }
                _ => {
                    return Err(self.type_err(
                        n,
                        &join(p, info.key),
                        &format!("one of {}", one_of(info.values)),
                    ))
                }
            };
            kernel
                .set(info.key, value)
                .map_err(|m| self.err(&n.loc, &join(p, info.key), m))?;
        }
        Ok(())
    }

    /// A coarse page rounds each zone's watermarks down to whole simulated pages; it must not
    /// merge two of min/low/high that the kernel keeps apart in the zone each node's allocations
    /// are served from (its highest; the lower ones are fallbacks behind `lowmem_reserve`).
    /// Otherwise kswapd would wake (low) where direct reclaim starts (min), or balance (high)
    /// where it wakes.
    fn watermarks_apart(
        &self,
        m: &MachineSpec,
        vm: &VmSpec,
        scale_factor: Option<u64>,
        mt: Tbl<'_>,
    ) -> Result<(), Diag> {
        if m.page_bytes == PAGE {
            return Ok(());
        }
        // Zones are whole simulated pages, so their 4 KiB extents are the engine's exactly.
        let extents = crate::mm::zone::layout_zones(&m.layout, m.memory_bytes / PAGE, PAGE);
        let total: u64 = extents.iter().flatten().map(|e| e.2).sum();
        let mfk = vm
            .min_free_kbytes
            .unwrap_or_else(|| crate::mm::zone::default_min_free_kbytes(total));
        let merged = |g: u64| {
            extents.iter().enumerate().find_map(|(node, zones)| {
                let &(ztype, _, present) = zones.last()?;
                let w = crate::mm::zone::zone_wmarks(mfk, present, total, scale_factor);
                let s = w.map(|x| x / g);
                ((w[1] > w[0] && s[1] == s[0]) || (w[2] > w[1] && s[2] == s[1]))
                    .then_some((node, ztype, present, w, s))
            })
        };
        let g = m.page_bytes / PAGE;
        let Some((node, ztype, present, w, s)) = merged(g) else {
            return Ok(());
        };
        let mut fits = g / 2;
        while fits > 1 && merged(fits).is_some() {
            fits /= 2;
        }
        let n = mt.node.get("page_granularity");
        let (loc, found) = n.map_or((Loc::None, human_size(m.page_bytes)), |n| {
            (n.loc.clone(), n.value.toml())
        });
        let which = if w[1] > w[0] && s[1] == s[0] {
            "kswapd would wake (low) only where direct reclaim starts (min)"
        } else {
            "kswapd would stop (high) where it wakes (low)"
        };
        Err(self.err(
            &loc,
            "machine.page_granularity",
            format!(
                "found {found}; node {node}'s {} zone ({}) has min/low/high watermarks of {}/{}/{} kernel pages, which simulated pages of {} ({g} kernel pages) round down to {}/{}/{}: {which}, which the kernel keeps apart. Expected at most \"{}\" for this machine (docs/MODEL.md, simplification 21), or larger nodes or a larger vm.min_free_kbytes",
                ztype.name(),
                human_size(present * PAGE),
                w[0],
                w[1],
                w[2],
                human_size(m.page_bytes),
                s[0],
                s[1],
                s[2],
                human_size(fits * PAGE)
            ),
        ))
    }

    /// `machine.page_granularity`: a power of two from 4 KiB to 128 KiB (default 4 KiB).
    fn page_granularity(&self, t: Tbl<'_>) -> Result<u64, Diag> {
        let Some((b, n)) = self.size(t, "machine", "page_granularity")? else {
            return Ok(PAGE);
        };
        if !b.is_power_of_two() || !(PAGE..=MAX_PAGE_GRANULARITY).contains(&b) {
            let mut accepted = vec![];
            let mut g = PAGE;
            while g <= MAX_PAGE_GRANULARITY {
                accepted.push(human_size(g));
                g *= 2;
            }
            return Err(self.err(
                &n.loc,
                "machine.page_granularity",
                format!(
                    "found {} ({b} bytes); expected the size of one simulated page: a power of two from 4KiB (every kernel page simulated, the default) to 128KiB (SWAP_CLUSTER_MAX kernel pages, reclaim's batch): {}",
                    n.value.toml(),
                    accepted.join(", ")
                ),
            ));
        }
        Ok(b)
    }

    /// `[machine]`, and the number of nodes it lays out.
    fn machine(&self, t: Tbl<'_>, disks: &[&str]) -> Result<(MachineSpec, u64), Diag> {
        let p = "machine";
        self.check_keys(t, p, schema::MACHINE, "`[machine]`")?;
        let page = self.page_granularity(t)?;
        let memory = self.memory(t, page)?;
        let reserved = self.size(t, p, "kernel_reserved")?;
        self.page_multiple(reserved, p, "kernel_reserved")?;
        let kernel_reserved = reserved.map_or(memory / 64 / PAGE * PAGE, |(v, _)| v);
        if let Some((r, n)) = reserved {
            if r >= memory {
                return Err(self.err(&n.loc, "machine.kernel_reserved", format!("found {} ({r} bytes); it must be less than machine.memory ({memory} bytes)", n.value.toml())));
            }
        }
        let layout = self.layout(t, memory, page)?;
        let node_count = match &layout {
            NodeLayout::X86_64 { .. } => 1,
            NodeLayout::FakeNuma { node_bytes } => memory.div_ceil(*node_bytes),
            NodeLayout::Explicit { node_bytes } => node_bytes.len() as u64,
        };
        let (swap_bytes, swap_disk) = self.swap(t, disks)?;
        let hz = match self.int(t, p, "hz", i64::MIN, i64::MAX)? {
            None => 1000,
            Some(v @ (100 | 250 | 300 | 1000)) => v as u32,
            Some(v) => {
                let n = t.node.get("hz").map_or(Loc::None, |n| n.loc.clone());
                return Err(self.err(
                    &n,
                    "machine.hz",
                    format!("found {v}; expected one of 100, 250, 300 or 1000 (CONFIG_HZ)"),
                ));
            }
        };
        let cpus = self.uint::<u32>(t, p, "cpus", 1, 4096)?.unwrap_or(2);
        let slab = self.machine_slab(t.node)?;
        let machine = MachineSpec {
            memory_bytes: memory,
            kernel_reserved_bytes: kernel_reserved,
            layout,
            swap_bytes,
            swap_disk,
            hz,
            cpus,
            page_bytes: page,
            slab,
        };
        self.slab_fits(t.node, &machine)?;
        Ok((machine, node_count))
    }

    /// `[machine.slab]`: counts of objects (at most 2^32 each, about 800 GiB of dentries).
    fn machine_slab(&self, machine: &Node) -> Result<SlabSpec, Diag> {
        let p = "machine.slab";
        let Some(t) = self.table(machine, "machine", "slab")? else {
            return Ok(SlabSpec::default());
        };
        self.check_keys(t, p, schema::MACHINE_SLAB, "`[machine.slab]`")?;
        let max = 1i64 << 32;
        Ok(SlabSpec {
            dentries: self.uint(t, p, "dentries", 0, max)?.unwrap_or(0),
            inodes: self.uint(t, p, "inodes", 0, max)?.unwrap_or(0),
        })
    }

    /// The boot slab plus `kernel_reserved` must leave memory free (the caches are allocated
    /// from the free lists at boot, `Machine::boot_slab`).
    fn slab_fits(&self, machine_node: &Node, m: &MachineSpec) -> Result<(), Diag> {
        let bytes = crate::mm::slab::boot_slab_bytes(&m.slab, m.page_bytes);
        if bytes == 0 || bytes.saturating_add(m.kernel_reserved_bytes) < m.memory_bytes {
            return Ok(());
        }
        let slab = machine_node.get("slab");
        let key = if m.slab.inodes > 0 {
            "inodes"
        } else {
            "dentries"
        };
        let loc = slab
            .and_then(|s| s.get(key))
            .map_or(Loc::None, |n| n.loc.clone());
        Err(self.err(
            &loc,
            &format!("machine.slab.{key}"),
            format!(
                "found {} dentries and {} inodes, whose slab pages ({bytes} bytes) plus machine.kernel_reserved ({} bytes) must be less than machine.memory ({} bytes)",
                m.slab.dentries, m.slab.inodes, m.kernel_reserved_bytes, m.memory_bytes
            ),
        ))
    }

    /// `machine.memory`: whole pages and whole simulated pages of `page` bytes, at most 64 TiB
    /// and `MAX_PAGES` simulated pages.
    fn memory(&self, t: Tbl<'_>, page: u64) -> Result<u64, Diag> {
        let p = "machine";
        let mem = self
            .size(t, p, "memory")?
            .ok_or_else(|| self.missing(t, p, "memory", SIZE_HELP))?;
        self.positive(Some(mem), p, "memory", "the memory size")?;
        self.page_multiple(Some(mem), p, "memory")?;
        let memory = mem.0;
        if memory > MAX_MEMORY {
            return Err(self.err(
                &mem.1.loc,
                "machine.memory",
                format!(
                    "found {} ({memory} bytes); the x86_64 kernels modelled address at most 64TiB (MAX_PHYSMEM_BITS = 46). S{}",
                    mem.1.value.toml(),
                    &scale_advice(memory, page)[1..]
                ),
            ));
        }
        if memory / page > MAX_PAGES {
            return Err(self.err(
                &mem.1.loc,
                "machine.memory",
                too_many_pages(mem.1.value.toml(), memory, page),
            ));
        }
        self.granule_multiple(memory, mem.1, "machine.memory", page)?;
        Ok(memory)
    }

    /// The node layout: `fake_numa_node_size`, `nodes`, or one x86_64 node.
    fn layout(&self, t: Tbl<'_>, memory: u64, page: u64) -> Result<NodeLayout, Diag> {
        let p = "machine";
        let fake = self.size(t, p, "fake_numa_node_size")?;
        self.positive(fake, p, "fake_numa_node_size", "the node size")?;
        self.page_multiple(fake, p, "fake_numa_node_size")?;
        if let Some((b, n)) = fake {
            self.granule_multiple(b, n, "machine.fake_numa_node_size", page)?;
        }
        if let (Some(h), true) = (
            t.node.get("pci_hole"),
            fake.is_some() || t.node.get("nodes").is_some(),
        ) {
            return Err(self.err(&h.loc, "machine.pci_hole", "`machine.pci_hole` applies to the one-node x86_64 layout; it cannot be combined with `machine.nodes` or `machine.fake_numa_node_size` (numa=fake=<size> cuts address ranges, and nodes inside the hole are not modelled)"));
        }
        match (fake, t.node.get("nodes")) {
            (Some(_), Some(n)) => Err(self.err(&n.loc, "machine.nodes", "`machine.nodes` and `machine.fake_numa_node_size` are two ways to lay out nodes; give one of them")),
            (Some((size, n)), None) => {
                if size > memory {
                    return Err(self.err(&n.loc, "machine.fake_numa_node_size", format!("found {size} bytes; a node cannot be larger than machine.memory ({memory} bytes)")));
                }
                if memory.div_ceil(size) > MAX_NODES {
                    return Err(self.err(
                        &n.loc,
                        "machine.fake_numa_node_size",
                        format!(
                            "{} nodes of {size} bytes; at most {MAX_NODES} nodes (MAX_NUMNODES)",
                            memory.div_ceil(size)
                        ),
                    ));
                }
                Ok(NodeLayout::FakeNuma { node_bytes: size })
            }
            (None, Some(n)) => self.explicit_nodes(n, memory, page),
            (None, None) => Ok(NodeLayout::X86_64 {
                pci_hole_bytes: self.pci_hole(t, page)?,
            }),
        }
    }

    /// `machine.pci_hole`: bytes of addresses below 4 GiB without memory (default 0), whole
    /// simulated pages, leaving DMA32 at least one page above 16 MiB.
    fn pci_hole(&self, t: Tbl<'_>, page: u64) -> Result<u64, Diag> {
        let p = "machine";
        let Some((hole, n)) = self.size(t, p, "pci_hole")? else {
            return Ok(0);
        };
        self.page_multiple(Some((hole, n)), p, "pci_hole")?;
        self.granule_multiple(hole, n, "machine.pci_hole", page)?;
        let max = (4 << 30) - (16 << 20) - page;
        if hole > max {
            return Err(self.err(&n.loc, "machine.pci_hole", format!("found {} ({hole} bytes); the hole is below 4GiB and above the 16MiB DMA zone: at most {max} bytes", n.value.toml())));
        }
        Ok(hole)
    }

    /// `machine.nodes`: node sizes in whole (simulated) pages adding up to the memory.
    fn explicit_nodes(&self, n: &Node, memory: u64, page: u64) -> Result<NodeLayout, Diag> {
        let Value::Array(items) = &n.value else {
            return Err(self.type_err(
                n,
                "machine.nodes",
                "an array of node sizes such as [\"2GiB\", \"2GiB\"]",
            ));
        };
        if items.is_empty() || items.len() as u64 > MAX_NODES {
            return Err(self.err(
                &n.loc,
                "machine.nodes",
                format!(
                    "found {} nodes; expected 1..={MAX_NODES} node sizes",
                    items.len()
                ),
            ));
        }
        let mut sizes = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let key = format!("machine.nodes[{i}]");
            let b = self.parsed(item, &key, SIZE_HELP, true, units::parse_size)?;
            if b == 0 {
                return Err(self.err(&item.loc, &key, "a node must have memory (found 0)"));
            }
            if b % PAGE != 0 {
                return Err(self.err(
                    &item.loc,
                    &key,
                    format!("found {b} bytes, not a multiple of the 4096-byte page"),
                ));
            }
            self.granule_multiple(b, item, &key, page)?;
            sizes.push(b);
        }
        let sum = sizes.iter().fold(0u64, |a, b| a.saturating_add(*b));
        if sum != memory {
            return Err(self.err(&n.loc, "machine.nodes", format!("the node sizes add up to {sum} bytes but machine.memory is {memory} bytes; they must be equal")));
        }
        Ok(NodeLayout::Explicit { node_bytes: sizes })
    }

    /// `machine.swap` and `machine.swap_disk` (required exactly when there is swap).
    fn swap(&self, t: Tbl<'_>, disks: &[&str]) -> Result<(u64, Option<usize>), Diag> {
        let p = "machine";
        let swap = self.size(t, p, "swap")?;
        self.at_most(
            swap,
            p,
            "swap",
            MAX_SWAP_BYTES,
            "a swap area holds at most 2^32 pages (the swap header's `last_page` is 32-bit, \
             sys_swapon() in mm/swapfile.c): expected a size up to `16TiB`",
        )?;
        self.page_multiple(swap, p, "swap")?;
        let swap_bytes = swap.map_or(0, |(v, _)| v);
        let swap_disk = self.reference(t, p, "swap_disk", disks, "disk (`[disk.NAME]`)")?;
        let swap_disk = match (swap_bytes, swap_disk) {
            (0, Some((_, n))) => {
                return Err(self.err(&n.loc, "machine.swap_disk", "a swap disk is given but machine.swap is 0; set machine.swap or remove swap_disk"));
            }
            (0, None) => None,
            (_, Some((i, _))) => Some(i),
            (_, None) => {
                let loc = swap.map_or(Loc::None, |(_, n)| n.loc.clone());
                return Err(self.err(&loc, "machine.swap_disk", format!("machine.swap is {swap_bytes} bytes, so machine.swap_disk is required: the name of a [disk.*] table; declared disks: {}", if disks.is_empty() { "none".into() } else { list_of(disks) })));
            }
        };
        Ok((swap_bytes, swap_disk))
    }

    fn vm(&self, t: Tbl<'_>) -> Result<VmSpec, Diag> {
        let p = "vm";
        self.check_keys(t, p, schema::VM, "`[vm]`")?;
        let d = VmSpec::default();
        let u32max = i64::from(u32::MAX);
        let oom_kill_allocating_task = match t.node.get("oom_kill_allocating_task") {
            None => d.oom_kill_allocating_task,
            Some(n) => match n.value {
                Value::Bool(b) => b,
                Value::Int(0) => false,
                Value::Int(1) => true,
                _ => {
                    return Err(self.err(
                        &n.loc,
                        "vm.oom_kill_allocating_task",
                        format!("found {}; expected 0, 1, `true` or `false`", n.value.toml()),
                    ))
                }
            },
        };
        Ok(VmSpec {
            dirty_ratio: self
                .uint(t, p, "dirty_ratio", 0, 100)?
                .unwrap_or(d.dirty_ratio),
            dirty_background_ratio: self
                .uint(t, p, "dirty_background_ratio", 0, 100)?
                .unwrap_or(d.dirty_background_ratio),
            dirty_bytes: self
                .size(t, p, "dirty_bytes")?
                .map_or(d.dirty_bytes, |(v, _)| v),
            dirty_background_bytes: self
                .size(t, p, "dirty_background_bytes")?
                .map_or(d.dirty_background_bytes, |(v, _)| v),
            dirty_expire_centisecs: self
                .uint(t, p, "dirty_expire_centisecs", 0, u32max)?
                .unwrap_or(d.dirty_expire_centisecs),
            dirty_writeback_centisecs: self
                .uint(t, p, "dirty_writeback_centisecs", 0, u32max)?
                .unwrap_or(d.dirty_writeback_centisecs),
            min_free_kbytes: self
                .uint(t, p, "min_free_kbytes", 0, i64::MAX)?
                .or(d.min_free_kbytes),
            swappiness: self
                .uint(t, p, "swappiness", 0, 100)?
                .unwrap_or(d.swappiness),
            panic_on_oom: self
                .uint(t, p, "panic_on_oom", 0, 2)?
                .unwrap_or(d.panic_on_oom),
            oom_kill_allocating_task,
            vfs_cache_pressure: self
                .uint(t, p, "vfs_cache_pressure", 0, u32max)?
                .unwrap_or(d.vfs_cache_pressure),
            // 1..=1000 in 4.6 (`proc_dointvec_minmax`, one .. one_thousand); 3000 later.
            watermark_scale_factor: self
                .uint(t, p, "watermark_scale_factor", 1, 3000)?
                .unwrap_or(d.watermark_scale_factor),
        })
    }

    fn mount(&self, name: &str, t: Tbl<'_>, disks: &[&str]) -> Result<MountSpec, Diag> {
        let p = &join("mount", name);
        self.check_keys(t, p, schema::MOUNT, &format!("`[{p}]`"))?;
        let fs_names: Vec<&str> = FsType::ALL.iter().map(|f| f.name()).collect();
        let fs = self
            .choice(t, p, "fs", &fs_names)?
            .and_then(|(s, _)| FsType::from_name(s))
            .ok_or_else(|| self.missing(t, p, "fs", &format!("one of {}", one_of(&fs_names))))?;
        let disk = self.reference(t, p, "disk", disks, "disk (`[disk.NAME]`)")?;
        let disk = match (fs.ops().backing(), disk) {
            (Backing::Swap, Some((_, n))) => {
                return Err(self.err(
                    &n.loc,
                    &join(p, "disk"),
                    format!(
                        "a {} mount has no disk (it is swap-backed); remove `disk`",
                        fs.name()
                    ),
                ));
            }
            (Backing::Swap, None) => None,
            (Backing::Disk, Some((i, _))) => Some(i),
            (Backing::Disk, None) => {
                return Err(self.missing(
                    t,
                    p,
                    "disk",
                    &format!(
                        "the name of a [disk.*] table; declared disks: {}",
                        if disks.is_empty() {
                            "none".into()
                        } else {
                            list_of(disks)
                        }
                    ),
                ));
            }
        };
        let mut spec = MountSpec {
            name: name.to_string(),
            disk,
            ..MountSpec::default_for(fs)
        };
        if let Some(opts) = t.node.get("options") {
            self.mount_options(opts, &join(p, "options"), &mut spec)?;
        }
        Ok(spec)
    }

    /// `[mount.*] options`: each one applied by the mount's filesystem
    /// (`fs::Filesystem::mount_option`).
    fn mount_options(&self, opts: &Node, key: &str, spec: &mut MountSpec) -> Result<(), Diag> {
        let accepted = crate::fs::mount_options();
        let Value::Array(items) = &opts.value else {
            return Err(self.type_err(opts, key, "an array of mount options such as [\"nodelalloc\", \"data=writeback\", \"commit=30\"]"));
        };
        let fs = spec.fs;
        for item in items {
            let Value::Str(o) = &item.value else {
                return Err(self.type_err(
                    item,
                    key,
                    &format!("a mount option: {}", one_of(&accepted)),
                ));
            };
            match fs.ops().mount_option(o, spec) {
                MountOption::Applied => {}
                MountOption::Invalid(m) => return Err(self.err(&item.loc, key, m)),
                MountOption::NotMine => {
                    let owners = crate::fs::owners_of_option(o);
                    if !owners.is_empty() {
                        return Err(self.err(
                            &item.loc,
                            key,
                            format!(
                                "`{o}` is an option of {}, not of {}",
                                owners.join(" and "),
                                fs.name()
                            ),
                        ));
                    }
                    let cands: Vec<&str> = accepted
                        .iter()
                        .map(|a| a.trim_end_matches("SECONDS"))
                        .collect();
                    return Err(self
                        .err(
                            &item.loc,
                            key,
                            format!(
                                "unknown mount option `{o}`; accepted: {}",
                                one_of(&accepted)
                            ),
                        )
                        .help(did_you_mean(o, cands)));
                }
            }
        }
        Ok(())
    }

    fn tasks(
        &self,
        tables: &[(&str, Tbl<'_>)],
        mounts: &[&str],
        mount_specs: &[MountSpec],
        node_count: u64,
    ) -> Result<Vec<TaskSpec>, Diag> {
        let names: Vec<&str> = tables.iter().map(|(n, _)| *n).collect();
        let kinds: Vec<&str> = workload::KINDS.iter().map(|k| k.kind).collect();
        // First pass: every task's kind name (references need the kinds of other tasks).
        let mut task_kinds = Vec::new();
        for (name, t) in tables {
            let p = &join("task", name);
            let kind = self
                .choice(*t, p, "kind", &kinds)?
                .ok_or_else(|| self.missing(*t, p, "kind", &format!("one of {}", one_of(&kinds))))?
                .0;
            task_kinds.push(kind);
        }
        // Second pass: each kind reads its own keys.
        let mut kind_specs = Vec::new();
        for ((name, t), kind) in tables.iter().zip(&task_kinds) {
            let p = &join("task", name);
            self.task_keys_of_kind(*t, p, kind)?;
            let mut keys = TaskTable {
                v: self,
                t: *t,
                path: p,
                mounts,
                mount_specs,
                names: &names,
                kinds: &task_kinds,
            };
            kind_specs.push(workload::parse(kind, &mut keys).expect("kind was checked")?);
        }
        self.truncate_targets(tables, &names, &kind_specs, mount_specs)?;
        // Third pass: the keys every task takes.
        let mut specs = Vec::new();
        for ((name, t), kind) in tables.iter().zip(&kind_specs) {
            specs.push(self.task_common(name, *t, *kind, &names, &kind_specs, node_count)?);
        }
        self.parent_cycles(tables, &names, &specs)?;
        Ok(specs)
    }

    /// Rejects a key that is neither common to every task nor one of `kind`'s, naming the kinds
    /// it belongs to when it is another kind's.
    fn task_keys_of_kind(&self, t: Tbl<'_>, p: &str, kind: &str) -> Result<(), Diag> {
        let kind_keys = workload::kind(kind).expect("kind was checked");
        for e in t.node.entries().unwrap_or_default() {
            let k = e.key.as_str();
            if schema::TASK_COMMON.contains(&k) || kind_keys.keys().any(|x| x == k) {
                continue;
            }
            let allowed = schema::task_keys(Some(kind));
            let owners: Vec<&str> = workload::KINDS
                .iter()
                .filter(|x| x.keys().any(|y| y == k))
                .map(|x| x.kind)
                .collect();
            if owners.is_empty() {
                return Err(self.unknown_key(
                    e,
                    p,
                    &allowed,
                    &format!("`[{p}]` (a `{kind}` task)"),
                ));
            }
            return Err(self
                .err(&e.key_loc, &join(p, k), format!("`{k}` is not a key of a `{kind}` task (it belongs to {} tasks); `{kind}` tasks take: {}", one_of(&owners), allowed.join(", ")))
                .help(did_you_mean(k, allowed.iter().copied()).filter(|h| !h.contains(&format!("`{k}`")))));
        }
        Ok(())
    }

    /// The keys every task takes: `start`, `cpuset`, `cpuset_hardwall`, `oom_score_adj`,
    /// `parent`, `attach`, `extra_vm`.
    fn task_common(
        &self,
        name: &str,
        t: Tbl<'_>,
        kind: TaskKind,
        names: &[&str],
        kinds: &[TaskKind],
        node_count: u64,
    ) -> Result<TaskSpec, Diag> {
        let p = &join("task", name);
        let start_ns = self.duration(t, p, "start")?.map_or(0, |(v, _)| v);
        let cpuset_nodes = match t.node.get("cpuset") {
            None => None,
            Some(n) => Some(self.cpuset(n, &join(p, "cpuset"), node_count)?),
        };
        let cpuset_hardwall = self.bool(t, p, "cpuset_hardwall")?.unwrap_or(false);
        let membind = match t.node.get("membind") {
            None => None,
            Some(n) => {
                let key = join(p, "membind");
                let nodes = self.cpuset(n, &key, node_count)?;
                if let Some(cs) = &cpuset_nodes {
                    if !nodes.iter().any(|x| cs.contains(x)) {
                        // set_mempolicy() refuses it (mpol_set_nodemask(): no node of the
                        // cpuset's mems_allowed), and the kernel would ignore it at allocation
                        // (cpuset_nodemask_valid_mems_allowed()).
                        return Err(self.err(
                            &n.loc,
                            &key,
                            "`membind` shares no node with the task's `cpuset`; expected at \
                             least one node of the cpuset",
                        ));
                    }
                }
                Some(nodes)
            }
        };
        let oom_score_adj = self
            .uint::<i32>(t, p, "oom_score_adj", -1000, 1000)?
            .unwrap_or(0);
        let parent = match self.reference(t, p, "parent", names, "task (`[task.NAME]`)")? {
            Some((i, n)) if names[i] == name => {
                return Err(self.err(
                    &n.loc,
                    &join(p, "parent"),
                    "a task cannot be its own parent",
                ));
            }
            other => other.map(|(i, _)| i),
        };
        let attach = match t.node.get("attach") {
            None => Vec::new(),
            Some(n) => self.attach(n, &join(p, "attach"), names, kinds)?,
        };
        let extra_vm = self.size(t, p, "extra_vm")?;
        self.at_most(
            extra_vm,
            p,
            "extra_vm",
            MAX_VM_BYTES,
            "a task's address space is at most 128TiB (x86_64 TASK_SIZE)",
        )?;
        Ok(TaskSpec {
            name: name.to_string(),
            kind,
            cpuset_nodes,
            cpuset_hardwall,
            membind,
            oom_score_adj,
            start_ns,
            parent,
            attach,
            extra_vm_bytes: extra_vm.map_or(0, |(v, _)| v),
        })
    }

    /// `attach`: names of tasks whose kind creates a shared segment (a `pin` of method `shm` or
    /// `shm_lock`).
    fn attach(
        &self,
        n: &Node,
        key: &str,
        names: &[&str],
        kinds: &[TaskKind],
    ) -> Result<Vec<usize>, Diag> {
        let Value::Array(items) = &n.value else {
            return Err(self.type_err(n, key, "an array of pin task names, e.g. [\"sga\"]"));
        };
        let mut attach = Vec::new();
        for item in items {
            let Value::Str(s) = &item.value else {
                return Err(self.type_err(item, key, "the name of a pin task"));
            };
            let Some(i) = names.iter().position(|x| x == s) else {
                return Err(self
                    .err(
                        &item.loc,
                        key,
                        format!("there is no task `{s}`; declared: {}", list_of(names)),
                    )
                    .help(did_you_mean(s, names.iter().copied())));
            };
            if kinds[i].workload().shared_segment_bytes().is_none() {
                return Err(self.err(&item.loc, key, format!("`{s}` is not a shared segment; attach names pin tasks whose method is `shm` or `shm_lock`")));
            }
            attach.push(i);
        }
        Ok(attach)
    }

    /// A truncate's target must write on a mount with a disk: a tmpfs file is a shmem segment,
    /// and `shmem_truncate_range()` is not modelled (docs/MODEL.md).
    fn truncate_targets(
        &self,
        tables: &[(&str, Tbl<'_>)],
        names: &[&str],
        kinds: &[TaskKind],
        mount_specs: &[MountSpec],
    ) -> Result<(), Diag> {
        for ((name, t), kind) in tables.iter().zip(kinds) {
            let TaskKind::Truncate(tr) = kind else {
                continue;
            };
            let TaskKind::StreamWrite(w) = kinds[tr.target] else {
                continue; // task_of_kind refused it
            };
            let mount = &mount_specs[w.mount];
            if mount.disk.is_none() {
                let loc = t.node.get("target").map_or(Loc::None, |n| n.loc.clone());
                return Err(self.err(
                    &loc,
                    &format!("task.{name}.target"),
                    format!(
                        "`{}` writes on `{}`, a {} mount; truncating a file on a mount without a \
                         disk (shmem_truncate_range) is not modelled, so a truncate target must \
                         write on a mount with a disk",
                        names[tr.target],
                        mount.name,
                        mount.fs.name()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Parent links must not form a cycle. Each task is walked once (a task whose ancestry was
    /// already walked ends the walk): linear in the tasks, where a walk per task with a list of
    /// the seen ones was cubic (4096 tasks in a chain × 100 seeds took minutes).
    fn parent_cycles(
        &self,
        tables: &[(&str, Tbl<'_>)],
        names: &[&str],
        specs: &[TaskSpec],
    ) -> Result<(), Diag> {
        #[derive(Clone, Copy, PartialEq)]
        enum Walk {
            Unseen,
            OnPath,
            Done,
        }
        let mut walk = vec![Walk::Unseen; specs.len()];
        for (i, (name, t)) in tables.iter().enumerate() {
            let mut path = Vec::new();
            let mut cur = Some(i);
            while let Some(c) = cur {
                match walk[c] {
                    Walk::Done => break,
                    Walk::OnPath => {
                        let n = t.node.get("parent").map_or(Loc::None, |n| n.loc.clone());
                        let chain: Vec<&str> =
                            path.iter().map(|&j| names[j]).chain([names[c]]).collect();
                        return Err(self.err(
                            &n,
                            &format!("task.{name}.parent"),
                            format!("parent links form a cycle: {}", chain.join(" → ")),
                        ));
                    }
                    Walk::Unseen => {
                        walk[c] = Walk::OnPath;
                        path.push(c);
                        cur = specs[c].parent;
                    }
                }
            }
            for j in path {
                walk[j] = Walk::Done;
            }
        }
        Ok(())
    }

    fn cpuset(&self, n: &Node, key: &str, node_count: u64) -> Result<Vec<u32>, Diag> {
        let expected = format!(
            "an array of node ids in 0..{node_count} (the machine has {node_count} node{})",
            if node_count == 1 { "" } else { "s" }
        );
        let Value::Array(items) = &n.value else {
            return Err(self.type_err(n, key, &expected));
        };
        if items.is_empty() {
            return Err(self.err(
                &n.loc,
                key,
                format!("the cpuset is empty; expected {expected}"),
            ));
        }
        let mut ids = Vec::new();
        for item in items {
            match item.value {
                Value::Int(i) if i >= 0 && (i as u64) < node_count => {
                    let id = i as u32;
                    if ids.contains(&id) {
                        return Err(self.err(&item.loc, key, format!("node {id} is listed twice")));
                    }
                    ids.push(id);
                }
                Value::Int(i) => {
                    return Err(self.err(
                        &item.loc,
                        key,
                        format!("there is no node {i}; expected {expected}"),
                    ))
                }
                _ => return Err(self.type_err(item, key, &expected)),
            }
        }
        Ok(ids)
    }
}

/// One `[task.NAME]` table as its kind reads it ([`workload::TaskKeys`]): the validator's
/// checks and messages, located at the table's keys.
struct TaskTable<'a, 'n> {
    v: &'a Validator<'a>,
    t: Tbl<'n>,
    path: &'a str,
    mounts: &'a [&'a str],
    mount_specs: &'a [MountSpec],
    names: &'a [&'a str],
    kinds: &'a [&'a str],
}

impl workload::TaskKeys for TaskTable<'_, '_> {
    type Error = Diag;

    fn working_set(
        &mut self,
        region: u64,
        refused: Option<&str>,
    ) -> Result<Option<workload::WorkingSet>, Diag> {
        let (v, t, p) = (self.v, self.t, self.path);
        let interval = v.duration(t, p, "touch_interval")?;
        let hot = v.size(t, p, "hot_size")?;
        let Some((interval_ns, n)) = interval else {
            if let Some((_, n)) = hot {
                return Err(v.err(
                    &n.loc,
                    &join(p, "hot_size"),
                    "`hot_size` is the part of the region swept every `touch_interval`; \
                     expected a `touch_interval` beside it"
                        .to_string(),
                ));
            }
            return Ok(None);
        };
        if let Some(why) = refused {
            return Err(v.err(&n.loc, &join(p, "touch_interval"), why.to_string()));
        }
        v.positive(interval, p, "touch_interval", "`touch_interval`")?;
        v.positive(hot, p, "hot_size", "`hot_size`")?;
        v.at_most(
            hot,
            p,
            "hot_size",
            region,
            &format!("the hot part of a region is at most its size ({region} bytes)"),
        )?;
        Ok(Some(workload::WorkingSet {
            touch_interval_ns: interval_ns,
            hot_bytes: hot.map_or(region, |(b, _)| b),
        }))
    }

    fn required_size(&mut self, key: &str) -> Result<u64, Diag> {
        let (v, t, p) = (self.v, self.t, self.path);
        let size = v
            .size(t, p, key)?
            .ok_or_else(|| v.missing(t, p, key, SIZE_HELP))?;
        v.positive(Some(size), p, key, &format!("`{key}`"))?
            .ok_or_else(|| v.missing(t, p, key, "a value"))
    }

    fn optional_size(&mut self, key: &str, what: &str) -> Result<Option<u64>, Diag> {
        let size = self.v.size(self.t, self.path, key)?;
        self.v.at_most(
            size,
            self.path,
            key,
            MAX_RW_COUNT,
            &format!(
                "{what} is at most MAX_RW_COUNT ({MAX_RW_COUNT} bytes, 2GiB less a page): \
                 rw_verify_area() (fs/read_write.c) caps one read()/write() call there; \
                 expected a size up to `2097148KiB`"
            ),
        )?;
        self.v.positive(size, self.path, key, what)
    }

    fn size_and_rate(&mut self, max: u64, max_why: &str) -> Result<(u64, u64), Diag> {
        self.v.sized_and_paced(self.t, self.path, max, max_why)
    }

    fn duration(&mut self, key: &str) -> Result<Option<u64>, Diag> {
        Ok(self.v.duration(self.t, self.path, key)?.map(|(v, _)| v))
    }

    fn flag(&mut self, key: &str) -> Result<Option<bool>, Diag> {
        self.v.bool(self.t, self.path, key)
    }

    fn choice(&mut self, key: &str, choices: &[&str]) -> Result<Option<usize>, Diag> {
        Ok(self
            .v
            .choice(self.t, self.path, key, choices)?
            .and_then(|(s, _)| choices.iter().position(|c| *c == s)))
    }

    fn required_choice(&mut self, key: &str, choices: &[&str]) -> Result<usize, Diag> {
        let expected = format!("one of {}", one_of(choices));
        self.choice(key, choices)?
            .ok_or_else(|| self.v.missing(self.t, self.path, key, &expected))
    }

    fn mount(&mut self, key: &str, on_disk: Option<&str>) -> Result<usize, Diag> {
        let (v, t, p) = (self.v, self.t, self.path);
        let (mount, node) = v
            .reference(t, p, key, self.mounts, "mount (`[mount.NAME]`)")?
            .ok_or_else(|| v.missing(t, p, key, "the name of a [mount.*] table"))?;
        if let Some(why) = on_disk.filter(|_| self.mount_specs[mount].disk.is_none()) {
            let on_disk: Vec<&str> = self
                .mount_specs
                .iter()
                .filter(|m| m.disk.is_some())
                .map(|m| m.name.as_str())
                .collect();
            return Err(v.err(
                &node.loc,
                &join(p, key),
                format!(
                    "`{}` is a {} mount; {why}, so it needs a mount with a disk ({})",
                    self.mounts[mount],
                    self.mount_specs[mount].fs.name(),
                    if on_disk.is_empty() {
                        "there is none".into()
                    } else {
                        one_of(&on_disk)
                    }
                ),
            ));
        }
        Ok(mount)
    }

    fn task_of_kind(&mut self, key: &str, kind: &str, role: &str) -> Result<usize, Diag> {
        let (v, t, p) = (self.v, self.t, self.path);
        let (target, n) = v
            .reference(t, p, key, self.names, "task (`[task.NAME]`)")?
            .ok_or_else(|| v.missing(t, p, key, &format!("the name of a {kind} task")))?;
        if self.kinds[target] != kind {
            let of_kind: Vec<&str> = self
                .names
                .iter()
                .zip(self.kinds)
                .filter(|(_, k)| **k == kind)
                .map(|(n, _)| *n)
                .collect();
            return Err(v.err(
                &n.loc,
                &join(p, key),
                format!(
                    "`{}` is a `{}` task; {role} must be a {kind} task ({})",
                    self.names[target],
                    self.kinds[target],
                    if of_kind.is_empty() {
                        "there is none".into()
                    } else {
                        one_of(&of_kind)
                    }
                ),
            ));
        }
        Ok(target)
    }
}

/// `MAX_RW_COUNT` (`INT_MAX & PAGE_CACHE_MASK`, include/linux/fs.h): the most one `read()` or
/// `write()` call transfers (`rw_verify_area()`).
pub const MAX_RW_COUNT: u64 = (i32::MAX as u64) & !4095;

/// The largest swap area: 2^32 pages of 4 KiB.
pub const MAX_SWAP_BYTES: u64 = 4096 << 32;

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// How to shrink a machine to fit [`MAX_PAGES`] pages of `page` bytes by scaling it down (a
/// clause starting in lower case).
fn scale_advice(memory: u64, page: u64) -> String {
    let factor = (memory / page).div_ceil(MAX_PAGES).next_power_of_two();
    format!(
        "scale the machine and its workload down together: divide memory, node sizes, pinned and \
         task sizes, dirty_bytes and min_free_kbytes by one factor and keep rates and ratios \
         (a factor of {factor} gives memory = \"{}\")",
        human_size(memory / factor)
    )
}

/// The finest `machine.page_granularity` at which `memory` fits in [`MAX_PAGES`] simulated
/// pages, if one is accepted.
pub fn fitting_granularity(memory: u64) -> Option<u64> {
    let g = memory.div_ceil(MAX_PAGES).next_power_of_two().max(PAGE);
    (g <= MAX_PAGE_GRANULARITY).then_some(g)
}

/// The message for a machine of more than [`MAX_PAGES`] simulated pages: the granularity that
/// would fit, and how to scale it down instead.
fn too_many_pages(found: String, memory: u64, page: u64) -> String {
    let of = if page == PAGE {
        String::new()
    } else {
        format!(" of {}", human_size(page))
    };
    let mut m = format!(
        "found {found} ({} pages{of}); wbsim simulates at most {MAX_PAGES} pages ({}) per run at machine.page_granularity = \"{}\".",
        memory / page,
        human_size(MAX_PAGES * page),
        human_size(page)
    );
    if let Some(g) = fitting_granularity(memory) {
        m.push_str(&format!(
            " Set machine.page_granularity = \"{}\" (or coarser) to simulate it in {} pages of {} kernel pages each (docs/MODEL.md, simplification 21; memory and node sizes must be multiples of it), or ",
            human_size(g),
            memory / g,
            g / PAGE
        ));
    } else {
        m.push_str(" No accepted machine.page_granularity fits it; ");
    }
    m.push_str(&scale_advice(memory, page));
    m
}

/// A size as a scenario would write it: the largest binary unit that divides it.
fn human_size(bytes: u64) -> String {
    for (unit, shift) in [("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)] {
        if bytes >= 1 << shift && bytes % (1 << shift) == 0 {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    bytes.to_string()
}

/// Disk, mount and task names: letters, digits, `-`, `_`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}
