//! `wbsim list`: every name a scenario may use, read from the tables that define them (releases,
//! later kernels and their switches, filesystems, policies, pin methods, mount options, page
//! granularities, task kinds and their keys).

use crate::scenario::schema;
use crate::spec::{FsType, PinMethod, Policy, Release};

/// The text of `wbsim list`.
pub fn text() -> String {
    let mut s = String::new();
    s += &kernels();
    s += &format!(
        "filesystems:  {}\n",
        words(FsType::ALL.iter().map(|f| f.name()))
    );
    s += &format!(
        "policies:     {} (both, in this order, unless restricted)\n",
        words(Policy::ALL.iter().map(|p| p.name()))
    );
    s += &format!(
        "pin methods:  {}\n",
        words(PinMethod::ALL.iter().map(|m| m.name()))
    );
    s += &format!(
        "mount options: {}\n",
        words(crate::fs::mount_options().into_iter())
    );
    s += &page_granularities();
    s += &task_kinds();
    s
}

/// `wbsim list --format json`: the same names as one JSON document (`wbsim/list/1`).
pub fn json() -> String {
    use serde_json::json;
    let switches: Vec<_> = crate::kernel::SWITCHES
        .iter()
        .map(|s| {
            let values: Vec<_> = s
                .values
                .iter()
                .zip(s.since)
                .zip(s.cites)
                .map(|((v, since), cite)| json!({ "value": v, "since": since, "cite": cite }))
                .collect();
            json!({ "key": s.key, "what": s.what, "values": values })
        })
        .collect();
    let profiles: Vec<_> = crate::kernel::profiles()
        .map(|p| {
            let changes: serde_json::Map<String, serde_json::Value> = p
                .changes
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect();
            json!({ "name": p.name, "changes": changes })
        })
        .collect();
    let kinds: Vec<_> = schema::TASK_KINDS
        .iter()
        .map(|k| json!({ "kind": k.kind, "required": k.required, "optional": k.optional }))
        .collect();
    let doc = json!({
        "schema": "wbsim/list/1",
        "releases": Release::ALL.iter().map(|r| r.name()).collect::<Vec<_>>(),
        "later_kernels": crate::kernel::LATER.iter().map(|l| l.name).collect::<Vec<_>>(),
        "kernel_profiles": profiles,
        "kernel_switches": switches,
        "filesystems": FsType::ALL.iter().map(|f| f.name()).collect::<Vec<_>>(),
        "policies": Policy::ALL.iter().map(|p| p.name()).collect::<Vec<_>>(),
        "pin_methods": PinMethod::ALL.iter().map(|m| m.name()).collect::<Vec<_>>(),
        "mount_options": crate::fs::mount_options(),
        "page_granularities": granularity_names(),
        "task_kinds": kinds,
        "task_common_keys": schema::TASK_COMMON,
    });
    serde_json::to_string_pretty(&doc).expect("JSON") + "\n"
}

/// Names joined by spaces.
fn words<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(" ")
}

/// The releases, the later kernels with their switch settings, and every switch with its values.
fn kernels() -> String {
    let mut s = format!(
        "releases:     {} (default 2.6.32; 2.6.32.0 is mainline before the -stable shrink_list() fix)\n",
        words(Release::ALL.iter().map(|r| r.name()))
    );
    s += &format!(
        "later kernels: {} (2.6.36's rules plus the switches below, cumulatively)\n",
        words(crate::kernel::LATER.iter().map(|l| l.name))
    );
    s += "kernel profiles (each adds these switch settings to the one before):\n";
    for profile in crate::kernel::profiles() {
        let changes: Vec<String> = profile
            .changes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let first = crate::kernel::profiles().next().map(|p| p.name) == Some(profile.name);
        let changes = if changes.is_empty() && first {
            "(every switch at its first value)".to_string()
        } else if changes.is_empty() {
            "(the release before it, under its own name)".to_string()
        } else {
            changes.join(" ")
        };
        s += &format!("  {:<9} {changes}\n", profile.name);
    }
    s += "kernel switches ([kernel] keys; the 2.6.32.0 value first):\n";
    for switch in crate::kernel::SWITCHES {
        s += &format!("  {:<34} {}\n", switch.key, switch.what);
        let values = switch.values.iter().zip(switch.since).zip(switch.cites);
        for ((value, release), cite) in values {
            let cite = if cite.is_empty() {
                "(the first modelled kernel)"
            } else {
                cite
            };
            s += &format!("      {value:<24} {release:<9} {cite}\n");
        }
    }
    s
}

/// `machine.page_granularity`'s accepted sizes.
fn page_granularities() -> String {
    format!(
        "page granularities: {} (machine.page_granularity; default 4KiB, coarser for machines past 64GiB)\n",
        granularity_names().join(" ")
    )
}

/// Every accepted `machine.page_granularity`, finest first.
fn granularity_names() -> Vec<String> {
    use crate::mm::granularity::{Granularity, BASE_PAGE, MAX_PAGE_GRANULARITY};
    let mut pages = vec![];
    let mut g = BASE_PAGE;
    while g <= MAX_PAGE_GRANULARITY {
        pages.push(Granularity::of_bytes(g).name().to_string());
        g *= 2;
    }
    pages
}

/// Each task kind with its required and `[optional]` keys, then the keys of every task.
fn task_kinds() -> String {
    let mut s = String::from("task kinds (required keys, [optional keys]):\n");
    for k in schema::TASK_KINDS {
        let required = k.required.iter().map(|x| x.to_string());
        let optional = k.optional.iter().map(|o| format!("[{o}]"));
        let keys: Vec<String> = required.chain(optional).collect();
        s += &format!("  {:<13} {}\n", k.kind, keys.join(" "));
    }
    let common: Vec<String> = schema::TASK_COMMON
        .iter()
        .map(|k| {
            if *k == "kind" {
                (*k).to_string()
            } else {
                format!("[{k}]")
            }
        })
        .collect();
    s += &format!("  (every task)  {}\n", common.join(" "));
    s
}
