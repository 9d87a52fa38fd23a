//! Task kinds: one file each, holding everything that kind is — its `[task.NAME]` keys and their
//! validation, its share of `mm->total_vm`, and what each of its slices does to the kernel (the
//! system calls and faults a real process would make) — behind the [`Workload`] trait, and the
//! registry ([`workloads!`]) that names them.
//!
//! | kind | file | what it drives |
//! |------|------|----------------|
//! | `pin` | `pin.rs` | `mlock()`, `shmget()` + `SHM_LOCK`, plain shm, hugetlb pools |
//! | `stream-write` | `stream_write.rs` | buffered `write()`: `generic_perform_write()`, `balance_dirty_pages_ratelimited()` |
//! | `stream-read` | `stream_read.rs` | buffered `read()`: readahead-sized reads, `do_generic_file_read()` |
//! | `anon` | `anon.rs` | anonymous page faults (or `GFP_KERNEL` buffers), freed and refaulted in cycles |
//! | `truncate` | `truncate.rs` | `ftruncate()`/unlink of another task's file: `truncate_inode_pages()` |
//!
//! The task itself (its cpuset, pid, pacing clock, allocation and exit) is `mm/task.rs`.
//!
//! **Adding a task kind** touches exactly: a new `src/mm/workload/<kind>.rs` with its spec struct
//! (implementing [`Workload`]), its progress `State`, its `KIND` keys and `parse`; its
//! `pub mod <kind>;` line and one arm of the [`workloads!`] table below; and a scenario that uses
//! it. `[task.*] kind`, `wbsim list`, the fuzz target and the engine's dispatch follow.

use serde::Serialize;

use super::task::Slice;
use super::Machine;

pub mod anon;
pub mod pin;
pub mod stream_read;
pub mod stream_write;
pub mod truncate;

pub use anon::{Anon, AnonGfp};
pub use pin::{Pin, PinMethod};
pub use stream_read::StreamRead;
pub use stream_write::StreamWrite;
pub use truncate::Truncate;

/// The keys of one task kind (`wbsim list`, validation, "did you mean").
pub struct KindInfo {
    /// The `kind` value.
    pub kind: &'static str,
    /// Keys it requires.
    pub required: &'static [&'static str],
    /// Keys it may have (with their defaults described in docs/SCENARIO_FORMAT.md).
    pub optional: &'static [&'static str],
}

impl KindInfo {
    /// Every key of this kind (not the common ones).
    pub fn keys(&self) -> impl Iterator<Item = &'static str> {
        self.required.iter().chain(self.optional).copied()
    }
}

/// A `[task.NAME]` table as a task kind reads its own keys. Scenario validation implements it and
/// turns every error into a located diagnostic (`Error`); the messages are the validator's.
pub trait TaskKeys {
    /// A located diagnostic.
    type Error;
    /// A required size, greater than zero.
    fn required_size(&mut self, key: &str) -> Result<u64, Self::Error>;
    /// An optional size of one `read()`/`write()` call: greater than zero and at most
    /// `MAX_RW_COUNT` when given (`what` names it in the message).
    fn optional_size(&mut self, key: &str, what: &str) -> Result<Option<u64>, Self::Error>;
    /// The required `size` (> 0, at most `max`; `max_why` says why) and `rate` (> 0, fast
    /// enough that the size takes at most the longest run): `(bytes, bytes per second)`.
    fn size_and_rate(&mut self, max: u64, max_why: &str) -> Result<(u64, u64), Self::Error>;
    /// An optional duration, ns.
    fn duration(&mut self, key: &str) -> Result<Option<u64>, Self::Error>;
    /// An optional boolean.
    fn flag(&mut self, key: &str) -> Result<Option<bool>, Self::Error>;
    /// An optional string, one of `choices`: its index.
    fn choice(&mut self, key: &str, choices: &[&str]) -> Result<Option<usize>, Self::Error>;
    /// A required string, one of `choices`: its index.
    fn required_choice(&mut self, key: &str, choices: &[&str]) -> Result<usize, Self::Error>;
    /// A required mount name: its index. With `on_disk = Some(why)`, the mount must have a disk
    /// (`why` says what the task does with it).
    fn mount(&mut self, key: &str, on_disk: Option<&str>) -> Result<usize, Self::Error>;
    /// A required task name whose kind is `kind`: its index (`role` names it in the message).
    fn task_of_kind(&mut self, key: &str, kind: &str, role: &str) -> Result<usize, Self::Error>;
    /// The optional working set of a region of `region` bytes: `touch_interval` (> 0) and
    /// `hot_size` (> 0, at most `region`, default `region`; only with `touch_interval`). With
    /// `refused = Some(why)` the region cannot be touched again (`why` says so in the message).
    fn working_set(
        &mut self,
        region: u64,
        refused: Option<&str>,
    ) -> Result<Option<WorkingSet>, Self::Error>;
}

/// A region's working set, touched again after its fault (`touch_interval`, `hot_size`; see
/// `mm/hot.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct WorkingSet {
    /// The sweep period, ns.
    pub touch_interval_ns: u64,
    /// Bytes of the region swept (its first bytes).
    pub hot_bytes: u64,
}

impl WorkingSet {
    /// Registers the working set of task `t`'s private memory (`seg = None`) or of segment
    /// `seg` with the machine's hot memory.
    pub fn register(&self, m: &mut Machine, t: usize, seg: Option<usize>) {
        let touch = super::hot::Touch {
            interval_ns: self.touch_interval_ns,
            hot_pages: m.granularity.pages_ceil(self.hot_bytes).max(1),
        };
        let pages = m.mem.pages.len();
        match seg {
            Some(s) => m.mem.hot.set_segment(s, touch, pages),
            None => m.mem.hot.set_task(t, touch, pages),
        }
    }
}

/// What a task kind is to the engine. Implemented by each kind's spec struct (a `TaskKind`
/// variant's payload), which the engine copies out of the task before calling.
pub trait Workload {
    /// Whether the run waits for it to finish (a writer, a reader, a truncate).
    fn is_finite(&self) -> bool {
        false
    }

    /// Bytes of its whole work, for progress and reports.
    fn total_bytes(&self) -> Option<u64> {
        None
    }

    /// Its share of `mm->total_vm`, 4 KiB pages, given `anon` pages of private memory
    /// (resident) it holds: its own mappings (a buffer, a pinned region) plus the anon pages
    /// they do not already count.
    fn total_vm(&self, anon: u64) -> u64 {
        anon
    }

    /// Bytes it pins (never reclaimable): validation checks they leave memory to the rest.
    fn pinned_bytes(&self) -> u64 {
        0
    }

    /// Bytes of hugetlb pool it needs, carved at boot.
    fn hugetlb_bytes(&self) -> u64 {
        0
    }

    /// The bytes of the shared segment it creates, which other tasks may `attach`.
    fn shared_segment_bytes(&self) -> Option<u64> {
        None
    }

    /// Creates what its work needs (its file, its segment) when it first runs.
    fn start(&self, m: &mut Machine, t: usize) -> Progress;

    /// One bounded slice of its work (at most `Machine::slice_pages` pages).
    fn slice(&self, m: &mut Machine, t: usize) -> Slice;
}

/// The registry: one arm per kind, `Variant(Spec) => module`, in `wbsim list` order. It declares
/// the [`TaskKind`] and [`Progress`] variants, the dispatch to the kind's [`Workload`], its keys
/// ([`KINDS`]) and its parser ([`parse`]).
macro_rules! workloads {
    ($( $(#[$meta:meta])* $variant:ident($spec:ident) => $module:ident, )+) => {
        /// What a task does (`task.NAME.kind` and its kind's keys).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
        pub enum TaskKind {
            $( $(#[$meta])* $variant($module::$spec), )+
        }

        /// Where a task's work stands.
        #[derive(Clone, Debug)]
        pub enum Progress {
            /// Not started yet.
            NotStarted,
            $(
                #[doc = concat!("A `", stringify!($module), "` task's progress.")]
                $variant($module::State),
            )+
            /// Finished (holding whatever it holds).
            Done,
            /// Exited (killed).
            Dead,
        }

        impl TaskKind {
            /// Its behaviour.
            pub fn workload(&self) -> &dyn Workload {
                match self {
                    $( TaskKind::$variant(w) => w, )+
                }
            }

            /// The `kind` value of a scenario file.
            pub fn name(&self) -> &'static str {
                match self {
                    $( TaskKind::$variant(_) => $module::KIND.kind, )+
                }
            }
        }

        /// Every kind's keys, in registry order.
        pub const KINDS: &[KindInfo] = &[$( $module::KIND, )+];

        /// Reads a task of kind `kind` from `keys`; `None` for an unknown kind.
        pub fn parse<K: TaskKeys + ?Sized>(
            kind: &str,
            keys: &mut K,
        ) -> Option<Result<TaskKind, K::Error>> {
            $(
                if kind == $module::KIND.kind {
                    return Some($module::parse(keys).map(TaskKind::$variant));
                }
            )+
            None
        }
    };
}

workloads! {
    /// Pins `bytes` at its start time and holds them.
    Pin(Pin) => pin,
    /// A buffered streaming writer of one new file.
    StreamWrite(StreamWrite) => stream_write,
    /// A buffered sequential reader of an existing, uncached file.
    StreamRead(StreamRead) => stream_read,
    /// Private memory faulted in at a rate, held, and (in cycles) freed and faulted again.
    Anon(Anon) => anon,
    /// Truncates (unlinks) the file another task writes.
    Truncate(Truncate) => truncate,
}

/// The keys of kind `kind`.
pub fn kind(kind: &str) -> Option<&'static KindInfo> {
    KINDS.iter().find(|k| k.kind == kind)
}
