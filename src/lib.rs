//! wbsim: a deterministic, page-granular model of Linux 2.6.32–2.6.36 page reclaim, writeback and
//! the OOM killer, run once per writepage-refusal policy to answer "would this change turn this OOM
//! into survival?".
//!
//! Module map:
//! - [`spec`]: the validated input of one run (what the engine sees);
//! - [`outcome`]: what one run produced;
//! - [`engine`]: `simulate(&RunSpec) -> RunResult`, the event loop;
//! - [`sim`]: the generic discrete-event core (time, queue, RNG);
//! - [`mm`]: the kernel model (zones, allocator, vmscan, kswapd, writeback, OOM killer);
//! - [`fs`]: each filesystem's `->writepage` / `->writepages` behaviour;
//! - [`block`]: the request queue and the disk;
//! - [`scenario`]: TOML scenarios, validation, matrix expansion;
//! - [`report`]: the results document and its renderers (table, JSON, CSV, Markdown, JUnit);
//! - [`exec`]: running many simulations in parallel; [`shard`]: `--shard` and `merge`;
//! - [`sweep`]: `--vary`, `--find-threshold`, `--plot`; [`verdict`]: comparisons and `--fail-on`;
//! - [`cli`] and [`app`]: the command line.

pub mod app;
pub mod block;
pub mod cli;
pub mod engine;
pub mod exec;
pub mod fs;
pub mod history;
pub mod kernel;
pub mod mm;
pub mod observe;
pub mod outcome;
pub mod report;
pub mod scenario;
pub mod shard;
pub mod sim;
pub mod spec;
pub mod sweep;
pub mod verdict;
