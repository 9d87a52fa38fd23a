//! What the command-line modules share: the `wbsim` binary as a user runs it, its output, and a
//! scratch directory per test.

use assert_cmd::Command;

/// The `wbsim` binary, run from the crate root (the tests name files relative to it), without
/// colour.
pub fn wbsim() -> Command {
    let mut cmd = Command::cargo_bin("wbsim").expect("the wbsim binary");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1");
    cmd
}

/// The stdout of `wbsim ARGS`, which must exit with `code`.
pub fn stdout_of(args: &[&str], code: i32) -> String {
    let out = wbsim()
        .args(args)
        .assert()
        .code(code)
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).expect("UTF-8 output")
}

/// The JSON document `wbsim ARGS` prints, which must exit 0.
pub fn json_of(args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&stdout_of(args, 0)).expect("stdout is one JSON document")
}

/// `wbsim run` on fake-numa-128m's shared-disk ext4 cell (20 MB/s), the cell whose policy verdict
/// is a `fix`; callers add their options.
pub const FAKE_NUMA_SHARED_DISK_EXT4: [&str; 6] = [
    "run",
    "scenarios/fake-numa-128m.toml",
    "--set",
    "disk.sda.bandwidth=20MB/s",
    "--set",
    "mount.data.fs=ext4",
];

/// A scratch directory for one test (removed by [`Scratch`]'s drop).
pub struct Scratch(pub std::path::PathBuf);

impl Scratch {
    /// `$TMPDIR/wbsim-NAME-PID`, created empty.
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("wbsim-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        Scratch(dir)
    }

    /// A path in it.
    pub fn path(&self, file: &str) -> std::path::PathBuf {
        self.0.join(file)
    }

    /// A path in it, as a string for an argument list.
    pub fn arg(&self, file: &str) -> String {
        self.path(file).display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
