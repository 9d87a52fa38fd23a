//! Issue 17 item 7: the JSON Schemas under `schemas/` are what the code generates (a drift
//! fails; `WBSIM_BLESS=1` rewrites them), every shipped scenario (read as JSON) satisfies the
//! scenario schema, every golden results document the run schema, and each schema refuses what
//! wbsim refuses.

use serde_json::{json, Value};
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn schema(file: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join(file)).expect("a shipped schema");
    let value: Value = serde_json::from_str(&text).expect("JSON");
    jsonschema::validator_for(&value).expect("a valid JSON Schema")
}

fn errors(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

/// A scenario file as JSON.
fn scenario_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("a scenario");
    toml::from_str(&text).expect("TOML")
}

#[test]
fn the_shipped_schemas_are_the_generated_ones() {
    let bless = std::env::var_os("WBSIM_BLESS").is_some();
    for (file, text) in wbsim::schemas::all() {
        let path = root().join(file);
        if bless {
            std::fs::create_dir_all(path.parent().expect("schemas/")).expect("mkdir");
            std::fs::write(&path, &text).expect("write");
            continue;
        }
        let shipped = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            shipped == text,
            "{file} differs from what the code generates; re-record with WBSIM_BLESS=1 cargo test --test suite schemas"
        );
    }
}

#[test]
fn every_shipped_scenario_satisfies_the_scenario_schema() {
    let v = schema("schemas/scenario.schema.json");
    let mut files: Vec<_> = std::fs::read_dir(root().join("scenarios"))
        .expect("scenarios/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.push(root().join("tests/fixtures/lab-study.toml"));
    assert!(files.len() >= 9, "{files:?}");
    for f in &files {
        let errs = errors(&v, &scenario_json(f));
        assert!(errs.is_empty(), "{}: {errs:#?}", f.display());
    }
}

#[test]
fn the_scenario_schema_refuses_what_wbsim_refuses() {
    let v = schema("schemas/scenario.schema.json");
    let good = scenario_json(&root().join("scenarios/oracle-backup.toml"));
    let broken = |edit: &dyn Fn(&mut Value)| {
        let mut doc = good.clone();
        edit(&mut doc);
        doc
    };
    for (what, doc) in [
        ("an unknown table", broken(&|d| d["shedule"] = json!({}))),
        (
            "an unknown [vm] key",
            broken(&|d| d["vm"] = json!({ "swapiness": 60 })),
        ),
        (
            "a task without its kind",
            broken(&|d| d["task"]["x"] = json!({ "size": "1GiB" })),
        ),
        (
            "a key of another task kind",
            broken(&|d| {
                d["task"]["x"] =
                    json!({ "kind": "anon", "size": "1GiB", "rate": "1GB/s", "mount": "m" })
            }),
        ),
        (
            "an unknown filesystem",
            broken(&|d| d["mount"]["m"] = json!({ "fs": "ext5", "disk": "d" })),
        ),
        (
            "a bad policy axis",
            broken(&|d| d["matrix"] = json!({ "policy": ["writeback"] })),
        ),
        (
            "an exclude that is not a table",
            broken(&|d| d["matrix"] = json!({ "exclude": [3] })),
        ),
        (
            "an unknown outcome",
            broken(&|d| d["expect"] = json!({ "*/redirty": "crashed" })),
        ),
    ] {
        assert!(!v.is_valid(&doc), "the schema accepts {what}");
    }
    assert!(v.is_valid(&good));
}

#[test]
fn every_golden_results_document_satisfies_the_run_schema() {
    let v = schema("schemas/run.schema.json");
    let mut n = 0;
    for e in std::fs::read_dir(root().join("tests/golden")).expect("tests/golden/") {
        let path = e.expect("entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            let doc: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("JSON");
            let errs = errors(&v, &doc);
            assert!(errs.is_empty(), "{}: {errs:#?}", path.display());
            n += 1;
        }
    }
    assert!(n >= 8);
    let mut doc: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/golden/oracle-backup.json")).expect("read"),
    )
    .expect("JSON");
    doc["scenarios"][0]["runs"][0]["outcome"]["kind"] = json!("exploded");
    assert!(!v.is_valid(&doc), "an unknown outcome kind is refused");
}

#[test]
fn the_documents_of_history_study_sweep_and_list_satisfy_their_schemas() {
    use crate::support::json_of;
    let f = "tests/fixtures/minimal.toml";
    let history = json_of(&["history", f, "--releases", "2.6.32,3.2", "--format", "json"]);
    let study = json_of(&[
        "study",
        f,
        "--releases",
        "2.6.36,6.1",
        "--replicas",
        "2",
        "--format",
        "json",
    ]);
    let list = json_of(&["list", "--format", "json"]);
    let sweep = json_of(&[
        "sweep",
        f,
        "--vary",
        "vm.dirty_ratio=10,20",
        "--format",
        "json",
    ]);
    for (file, doc) in [
        ("schemas/history.schema.json", &history),
        ("schemas/study.schema.json", &study),
        ("schemas/list.schema.json", &list),
        ("schemas/run.schema.json", &sweep),
    ] {
        let errs = errors(&schema(file), doc);
        assert!(errs.is_empty(), "{file}: {errs:#?}");
    }
    // Each schema holds the document's shape: a missing or mistyped field is refused.
    let mut bad = history.clone();
    bad["cells"][0]["outcomes"][0]["at_s"] = json!("soon");
    assert!(!schema("schemas/history.schema.json").is_valid(&bad));
    let mut bad = study.clone();
    bad["scenarios"][0]
        .as_object_mut()
        .unwrap()
        .remove("provenance");
    assert!(!schema("schemas/study.schema.json").is_valid(&bad));
    let mut bad = list.clone();
    bad["kernel_switches"][0]["values"] = json!("many");
    assert!(!schema("schemas/list.schema.json").is_valid(&bad));
}
