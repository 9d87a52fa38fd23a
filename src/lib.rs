//! wbsim: a deterministic, page-granular model of Linux 2.6.32–2.6.36 page reclaim, writeback and
//! the OOM killer, run once per writepage-refusal policy to answer "would this change turn this OOM
//! into survival?".
//!
//! Module map:
//! - [`spec`]: the validated input of one run (what the engine sees);
//! - [`outcome`]: what one run produced (typed: outcome kinds, counters, OOM reports);
//! - [`engine`]: the event loop, `execute(&RunSpec, Setup) -> RunResult`;
//! - [`probe`]: the observer interface the engine and the `mm/` hooks call;
//! - [`sim`]: the generic discrete-event core (time, queue, RNG);
//! - [`mm`]: the kernel model (zones, allocator, vmscan, kswapd, writeback, OOM killer);
//! - [`kernel`]: the later kernels' switches and profiles;
//! - [`fs`]: each filesystem's `->writepage` / `->writepages` behaviour;
//! - [`block`]: the request queue and the disk;
//! - [`scenario`]: TOML scenarios, validation, matrix expansion;
//! - [`run`]: the one runner every command uses (threads, checks, observation, policy twins,
//!   progress), on [`exec`]'s threads;
//! - [`observe`]: the recorder (a probe) and what it renders: timelines, plots, traces, `explain`;
//! - [`report`]: the typed results document and one renderer per output format;
//! - [`noise`]: replicas' seeds and run-to-run noise, Wilson intervals and medians;
//! - [`compare`]: redirty/activate comparisons (rates and verdicts) and `--fail-on`;
//! - [`margin`]: `--margin`, where the OOM rate crosses 50 % per cell and policy, by bisection
//!   over replicas;
//! - [`study`]: `wbsim study`, every kernel's OOM rates, verdicts, margins and history's causes;
//! - [`sweep`]: `--vary`, `--find-threshold`, `--plot`; [`history`]: kernels over time;
//!   [`shard`]: `--shard` and `merge`;
//! - [`cli`], [`app`] and [`list`]: the command line.
//!
//! `docs/ARCHITECTURE.md` has the data flow and what adding a filesystem, a switch, a task kind, an
//! output format or a counter touches.

pub mod app;
pub mod block;
pub mod cli;
pub mod compare;
pub mod engine;
pub mod exec;
pub mod fs;
pub mod history;
pub mod kernel;
pub mod list;
pub mod margin;
pub mod mm;
pub mod noise;
pub mod observe;
pub mod outcome;
pub mod probe;
pub mod report;
pub mod run;
pub mod scenario;
pub mod schemas;
pub mod shard;
pub mod sim;
pub mod spec;
pub mod study;
pub mod sweep;
