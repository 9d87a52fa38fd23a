//! The JSON Schemas shipped under `schemas/` (issue 17 item 7), generated, never written by hand:
//! the results document (`wbsim/run/1`, what `run`, `check`, `sweep` and `merge` print with
//! `--format json`) and the documents of `history`, `study` and `list` (`wbsim/history/1`,
//! `wbsim/study/1`, `wbsim/list/1`) from their types with `schemars`, and the scenario format (a scenario file read as JSON) from the key lists that
//! validation itself uses ([`crate::scenario::schema`], the task kinds, the filesystems, the
//! kernel switches and releases). A test regenerates them and fails on any drift.
//!
//! The scenario schema checks the structure: which tables and keys exist, the required ones, the
//! task kinds, filesystems, policies, releases and switch values, and the shape of `[matrix]`
//! and `[expect]`. The forms of sizes, rates and durations are left to wbsim's own parser, whose
//! messages name the line and what is accepted.

use serde_json::{json, Map, Value};

use crate::scenario::schema;

/// Every shipped schema: its path under the crate root and its text.
pub fn all() -> Vec<(&'static str, String)> {
    let pretty = |v: Value| serde_json::to_string_pretty(&v).expect("a schema is JSON") + "\n";
    vec![
        ("schemas/scenario.schema.json", pretty(scenario())),
        ("schemas/run.schema.json", pretty(run_document())),
        ("schemas/history.schema.json", pretty(history_document())),
        ("schemas/study.schema.json", pretty(study_document())),
        ("schemas/list.schema.json", pretty(list_document())),
    ]
}

/// `schema_for!(T)` with its `$id` and title.
fn generated(schema: schemars::schema::RootSchema, file: &str, title: &str) -> Value {
    let mut schema = serde_json::to_value(schema).expect("a schema is JSON");
    schema["$id"] = json!(format!("https://wbsim.invalid/schemas/{file}"));
    schema["title"] = json!(title);
    schema
}

/// `history --format json`.
pub fn history_document() -> Value {
    generated(
        schemars::schema_for!(crate::history::HistoryDocument),
        "history.schema.json",
        "wbsim history document (wbsim/history/1)",
    )
}

/// `study --format json`.
pub fn study_document() -> Value {
    generated(
        schemars::schema_for!(crate::study::StudyDocument),
        "study.schema.json",
        "wbsim study document (wbsim/study/1)",
    )
}

/// `list --format json`.
pub fn list_document() -> Value {
    generated(
        schemars::schema_for!(crate::list::ListDocument),
        "list.schema.json",
        "wbsim list document (wbsim/list/1)",
    )
}

/// The results document's schema.
pub fn run_document() -> Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(crate::report::document::Document))
        .expect("a schema is JSON");
    schema["$id"] = json!("https://wbsim.invalid/schemas/run.schema.json");
    schema["title"] = json!("wbsim results document (wbsim/run/1)");
    schema
}

/// A table of `keys`, each any value (`{}`), nothing else, `required` among them.
fn table(keys: &[&str], required: &[&str]) -> Value {
    let properties: Map<String, Value> = keys.iter().map(|k| (k.to_string(), json!({}))).collect();
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// An object whose every value (a named table) is `each`.
fn named(each: Value) -> Value {
    json!({ "type": "object", "additionalProperties": each })
}

/// `[task.NAME]`: the common keys plus its kind's, by `kind`.
fn task() -> Value {
    let kinds: Vec<&str> = schema::TASK_KINDS.iter().map(|k| k.kind).collect();
    let per_kind: Vec<Value> = schema::TASK_KINDS
        .iter()
        .map(|k| {
            let mut keys: Vec<&str> = schema::TASK_COMMON.to_vec();
            keys.extend(k.keys());
            let mut required = vec!["kind"];
            required.extend(k.required);
            json!({
                "if": { "properties": { "kind": { "const": k.kind } } },
                "then": table(&keys, &required),
            })
        })
        .collect();
    json!({
        "type": "object",
        "properties": { "kind": { "enum": kinds } },
        "required": ["kind"],
        "allOf": per_kind,
    })
}

/// `[matrix]`: axes (dotted paths, or `policy`) with arrays of values; `tied`, `exclude` and
/// `include` as arrays of tables.
fn matrix() -> Value {
    let policies: Vec<&str> = crate::spec::Policy::ALL.iter().map(|p| p.name()).collect();
    let entries = json!({ "type": "array", "items": { "type": "object", "minProperties": 1 } });
    json!({
        "type": "object",
        "properties": {
            "policy": { "type": "array", "minItems": 1, "items": { "enum": policies } },
            "tied": {
                "type": "array",
                "items": {
                    "type": "object",
                    "minProperties": 1,
                    "additionalProperties": { "type": "array", "minItems": 1 },
                },
            },
            "exclude": entries,
            "include": entries,
        },
        "patternProperties": {
            "^[a-z_]+\\.[A-Za-z0-9_.-]+$": { "type": "array", "minItems": 1 },
        },
        "additionalProperties": false,
    })
}

/// `[expect]`: cell patterns to an outcome, or a table of outcome, victim and invoker.
fn expect() -> Value {
    let mut expectation = table(schema::EXPECT_KEYS, &["outcome"]);
    expectation["properties"]["outcome"] = json!({ "enum": schema::OUTCOMES });
    json!({
        "type": "object",
        "additionalProperties": {
            "oneOf": [{ "enum": schema::OUTCOMES }, expectation],
        },
    })
}

/// The scenario format's schema.
pub fn scenario() -> Value {
    let mut sc = table(schema::SCENARIO, &["name", "duration"]);
    let releases = crate::kernel::Kernel::profile_names();
    sc["properties"]["release"] = json!({ "oneOf": [{ "enum": releases }, { "type": "number" }] });
    let mut kernel = table(&schema::kernel_keys(), &[]);
    for s in crate::kernel::SWITCHES {
        kernel["properties"][s.key] = json!({ "enum": s.values });
    }
    let mut machine = table(schema::MACHINE, &["memory"]);
    machine["properties"]["slab"] = table(schema::MACHINE_SLAB, &[]);
    let mut mount = table(schema::MOUNT, &["fs"]);
    let filesystems: Vec<&str> = crate::fs::FsType::ALL.iter().map(|f| f.name()).collect();
    mount["properties"]["fs"] = json!({ "enum": filesystems });
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://wbsim.invalid/schemas/scenario.schema.json",
        "title": "wbsim scenario (docs/SCENARIO_FORMAT.md), a TOML file read as JSON",
        "type": "object",
        "properties": {
            "scenario": sc,
            "machine": machine,
            "vm": table(schema::VM, &[]),
            "kernel": kernel,
            "noise": table(schema::NOISE, &[]),
            "disk": named(table(schema::DISK, &["bandwidth"])),
            "mount": named(mount),
            "task": named(task()),
            "matrix": matrix(),
            "expect": expect(),
        },
        "required": ["scenario", "machine"],
        "additionalProperties": false,
    })
}
