//! The integration tests, in one binary (each test binary links the whole crate once: thirteen
//! of them took most of a cold `cargo test`). One module per theme:
//!
//! | module | what it holds |
//! |---|---|
//! | `kernel_facts`, `history_facts`, `io_facts`, `journal_facts`, `memory_facts`, `slab_facts` | kernel facts named like sentences, on tiny machines driven event by event (`common`) |
//! | `golden` | every shipped scenario's committed outputs and its `[expect]`, from one run of each |
//! | `cli`, `checks_cli`, `errors`, `formats`, `sweep`, `history_cli` | the command line as a user runs it (`support`: the binary and its output) |
//! | `reports`, `granularity`, `reuse`, `properties` | reports, page granularity, policy-twin reuse, property tests |
//! | `trust` | issue 16: provenance and merge refusals, the panics the attack found, bounded work around a run |
//! | `replicas`, `margin`, `readme` | replicas and noise: odds at the edge of OOM, seeds that reproduce, twins, verdicts |
//! | `html` | `study --html`: the page parses, every table and plot, no script; a headless browser's screenshot (`WBSIM_BROWSER`) |

mod checks_cli;
mod cli;
mod common;
mod errors;
mod formats;
mod golden;
mod granularity;
mod history_cli;
mod history_facts;
mod html;
mod io_facts;
mod journal_facts;
mod kernel_facts;
mod margin;
mod matrix;
mod memory_facts;
mod modern_facts;
mod properties;
mod readme;
mod replicas;
mod reports;
mod reuse;
mod schemas;
mod slab_facts;
mod support;
mod sweep;
mod trust;
mod writeback_memory_facts;
