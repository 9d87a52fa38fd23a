//! `wbsim list`: every name a scenario may use, read from the tables that define them (releases,
//! later kernels and their switches, filesystems, policies, pin methods, mount options, page
//! granularities, task kinds and their keys).

use serde::Serialize;

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

/// The schema tag of `wbsim list --format json`.
pub const SCHEMA: &str = "wbsim/list/1";

/// `wbsim list --format json` (`schemas/list.schema.json`).
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct ListDocument {
    /// [`SCHEMA`].
    pub schema: String,
    /// The modelled 2.6.3x releases.
    pub releases: Vec<String>,
    /// The later kernel profiles.
    pub later_kernels: Vec<String>,
    /// Every profile, with the switch settings it adds to the one before.
    pub kernel_profiles: Vec<ProfileRecord>,
    /// Every `[kernel]` switch.
    pub kernel_switches: Vec<SwitchRecord>,
    /// Filesystem names.
    pub filesystems: Vec<String>,
    /// Policy names, in run order.
    pub policies: Vec<String>,
    /// Pin methods.
    pub pin_methods: Vec<String>,
    /// Mount options.
    pub mount_options: Vec<String>,
    /// `machine.page_granularity` values.
    pub page_granularities: Vec<String>,
    /// Task kinds and their keys.
    pub task_kinds: Vec<TaskKindRecord>,
    /// Keys every task kind accepts.
    pub task_common_keys: Vec<String>,
}

/// A kernel profile.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct ProfileRecord {
    /// Its name.
    pub name: String,
    /// Switch key → value, added to the profile before.
    pub changes: serde_json::Map<String, serde_json::Value>,
}

/// A `[kernel]` switch.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct SwitchRecord {
    /// The key.
    pub key: String,
    /// What it changes.
    pub what: String,
    /// Its values, the 2.6.32.0 one first.
    pub values: Vec<SwitchValue>,
}

/// One value of a switch.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct SwitchValue {
    /// The value.
    pub value: String,
    /// The release it came in.
    pub since: String,
    /// The commit or function it mirrors (empty for the first modelled kernel).
    pub cite: String,
}

/// A task kind.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct TaskKindRecord {
    /// `kind = "…"`.
    pub kind: String,
    /// Keys it requires.
    pub required: Vec<String>,
    /// Keys it accepts besides.
    pub optional: Vec<String>,
}

/// Owned strings of `names`.
fn owned<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    names.into_iter().map(str::to_string).collect()
}

/// The document of `wbsim list --format json`.
pub fn document() -> ListDocument {
    let kernel_switches = crate::kernel::SWITCHES
        .iter()
        .map(|s| SwitchRecord {
            key: s.key.to_string(),
            what: s.what.to_string(),
            values: s
                .values
                .iter()
                .zip(s.since)
                .zip(s.cites)
                .map(|((v, since), cite)| SwitchValue {
                    value: v.to_string(),
                    since: since.to_string(),
                    cite: cite.to_string(),
                })
                .collect(),
        })
        .collect();
    let kernel_profiles = crate::kernel::profiles()
        .map(|p| ProfileRecord {
            name: p.name.to_string(),
            changes: p
                .changes
                .iter()
                .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
                .collect(),
        })
        .collect();
    let task_kinds = schema::TASK_KINDS
        .iter()
        .map(|k| TaskKindRecord {
            kind: k.kind.to_string(),
            required: owned(k.required.iter().copied()),
            optional: owned(k.optional.iter().copied()),
        })
        .collect();
    ListDocument {
        schema: SCHEMA.to_string(),
        releases: owned(Release::ALL.iter().map(|r| r.name())),
        later_kernels: owned(crate::kernel::LATER.iter().map(|l| l.name)),
        kernel_profiles,
        kernel_switches,
        filesystems: owned(FsType::ALL.iter().map(|f| f.name())),
        policies: owned(Policy::ALL.iter().map(|p| p.name())),
        pin_methods: owned(PinMethod::ALL.iter().map(|m| m.name())),
        mount_options: owned(crate::fs::mount_options()),
        page_granularities: granularity_names(),
        task_kinds,
        task_common_keys: owned(schema::TASK_COMMON.iter().copied()),
    }
}

/// `wbsim list --format json`: the same names as one JSON document (`wbsim/list/1`).
pub fn json() -> String {
    serde_json::to_string_pretty(&document()).expect("JSON") + "\n"
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
