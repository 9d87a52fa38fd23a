#!/usr/bin/env bash
# The user's command under hyperfine: builds the release binary, then times
#   wbsim run scenarios/oracle-backup.toml --jobs 1    (one core)
#   wbsim run scenarios/oracle-backup.toml --jobs 2    (both cores of the 2-core machine)
# and every shipped scenario with the default --jobs (every core), printing hyperfine's summary
# of each (mean ± σ, min … max, and the --jobs 1 / --jobs 2 comparison); then, once each,
#   wbsim run scenarios/oracle-backup.toml --replicas 32   and   wbsim study scenarios/oracle-backup.toml
#
# hyperfine is Debian's `hyperfine` package (`apt-get install hyperfine`); it is not a Rust
# dependency of wbsim and is not installed by anything in this repository.
#
# Usage: benches/hyperfine.sh [EXTRA HYPERFINE ARGS...]   e.g. --runs 3, --export-markdown F
# Output goes to the terminal (hyperfine's stdout); wbsim's own output is discarded.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v hyperfine >/dev/null 2>&1; then
    echo "benches/hyperfine.sh: hyperfine is not installed." >&2
    echo "It is Debian's 'hyperfine' package: apt-get install hyperfine" >&2
    exit 1
fi

cargo build --release --quiet
wbsim=target/release/wbsim

echo "== oracle-backup (the README's command), --jobs 1 vs --jobs 2"
hyperfine --warmup 1 --style basic "$@" \
    "$wbsim run scenarios/oracle-backup.toml --jobs 1" \
    "$wbsim run scenarios/oracle-backup.toml --jobs 2"

echo
echo "== every shipped scenario, default --jobs"
scenarios=()
for f in scenarios/*.toml; do
    scenarios+=("$wbsim run $f")
done
hyperfine --warmup 1 --style basic "$@" "${scenarios[@]}"

echo
echo "== replicas and study (issue 15 targets: under 20 s and under 60 s on the 2-core machine)"
hyperfine --warmup 0 --runs 1 --style basic "$@" \
    "$wbsim run scenarios/oracle-backup.toml --replicas 32" \
    "$wbsim study scenarios/oracle-backup.toml"
