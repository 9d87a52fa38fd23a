//! Fuzz target: arbitrary bytes as a scenario file. The loader must answer every input with a
//! scenario or a located error, never a panic; a `--set` taken from the input's first line
//! exercises the override paths too.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use wbsim::scenario::error::{utf8_error, Source};
use wbsim::scenario::{load_source, Overrides};

fuzz_target!(|data: &[u8]| {
    let text = match std::str::from_utf8(data) {
        Ok(t) => t,
        Err(e) => {
            // The message for a non-UTF-8 file is built from the bytes: it must not panic either.
            let _ = utf8_error("fuzz.toml", data, &e);
            return;
        }
    };
    let src = Arc::new(Source {
        name: "fuzz.toml".into(),
        text: text.into(),
    });
    let plain = load_source(&src, &Overrides::default());
    if let Err(e) = &plain {
        let _ = e.to_string(); // rendering the caret excerpt must not panic
    }
    // `# set PATH=VALUE` on the first line: the same file with that override.
    if let Some((path, value)) = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# set "))
        .and_then(|l| l.split_once('='))
    {
        let ov = Overrides {
            sets: vec![(path.to_string(), value.to_string())],
            ..Overrides::default()
        };
        if let Err(e) = load_source(&src, &ov) {
            let _ = e.to_string();
        }
    }
});
