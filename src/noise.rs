//! Replicas and run-to-run noise: what varies between two runs of the same experiment on one box,
//! drawn from the run's seed, so that `--replicas N` gives odds instead of one knife-edge answer.
//!
//! Real reproducers of the seed's bug were intermittent ("OOMed one time in five"): two runs of
//! one script on one machine differ in when each task really starts, in the short-term rate of a
//! producer, and in the disk's service time. A [`Noise`] sets how much; [`perturb`] applies it to
//! a validated [`RunSpec`] before the engine sees it, one seeded, portable stream per component
//! ([`SimRng::split`] with the run's seed and the component's number), so:
//!
//! - every replica is reproducible alone from its seed (`--seed S --replicas 1 --noise on`);
//! - policy twins of a replica share its noise (the policy is not an input of [`perturb`]), and
//!   the runner's twin reuse, which compares whole specs, stays correct;
//! - zero noise leaves the spec untouched: `--replicas 1` is the deterministic run.
//!
//! The defaults and why (docs/MODEL.md, "Replicas and noise"):
//! - `start = "250ms"`: each task starts up to 250 ms after its nominal start (uniform). A task
//!   launched by cron or a script starts after `fork()`/`exec()`, the dynamic loader and its own
//!   set-up (opening files, connecting to the database); on a loaded 2010 server that spread is a
//!   few hundred milliseconds. It is also the perturbation issue 15 saw flip cells.
//! - `rate_percent = 5`: each producer's and allocator's rate is scaled by a factor uniform in
//!   ±5 %: `write()`/page-fault throughput depends on CPU frequency, cache state and whatever else
//!   runs; a few percent between runs is what a `dd` benchmark repeated on an idle box shows.
//!   (Simplification: one factor per run, not a rate that wanders within the run.)
//! - `disk_percent = 5`: each disk's bandwidth and seek time are scaled by a factor uniform in
//!   ±5 %: the same file lands on different tracks (outer tracks of a 2010 SATA disk stream up to
//!   twice as fast as inner ones), and the write cache and command queue reorder differently.
//!
//! - `wakeup_order = true`: events due at the same later simulated nanosecond (tasks whose
//!   sleeps end together, a disk completion and a timer on one jiffy) pop in an order drawn from
//!   the run's seed (`EventQueue::shuffle_wakeups`, its own stream) instead of FIFO: which of
//!   several tasks woken at once runs first depends on which CPU each wakes on and on the
//!   scheduler, not on the order of the `wake_up()` calls. Events scheduled for the current
//!   instant (an actor going on, a wake-up done now) keep FIFO order.

use crate::sim::{SimRng, MSEC};
use crate::spec::{RunSpec, TaskKind};

/// How much each varying quantity varies between replicas.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Noise {
    /// The most a task's start is delayed, ns (uniform in `0..=start_ns`).
    pub start_ns: u64,
    /// Producer and allocation rates vary by up to ± this percentage.
    pub rate_percent: u32,
    /// Disk bandwidth and seek time vary by up to ± this percentage.
    pub disk_percent: u32,
    /// Events due at the same later instant (tasks woken together) pop in a seeded order
    /// (`EventQueue::shuffle_wakeups`) instead of the order they were scheduled.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub wakeup_order: bool,
}

/// The random stream of each component, apart from the engine's (which uses small numbers).
const STREAM_START: u64 = 0x6e6f_6973_0001;
const STREAM_RATE: u64 = 0x6e6f_6973_0002;
const STREAM_DISK: u64 = 0x6e6f_6973_0003;

impl Noise {
    /// No noise: the deterministic run.
    pub const ZERO: Noise = Noise {
        start_ns: 0,
        rate_percent: 0,
        disk_percent: 0,
        wakeup_order: false,
    };

    /// The defaults (see the module header for why each).
    pub const DEFAULT: Noise = Noise {
        start_ns: 250 * MSEC,
        rate_percent: 5,
        disk_percent: 5,
        wakeup_order: true,
    };

    /// Whether it changes nothing.
    pub fn is_zero(&self) -> bool {
        *self == Noise::ZERO
    }

    /// `start 250ms, rate ±5%, disk ±5%`.
    pub fn describe(&self) -> String {
        if self.is_zero() {
            return "none".into();
        }
        format!(
            "start +0–{}ms, rate ±{}%, disk ±{}%{}",
            self.start_ns / MSEC,
            self.rate_percent,
            self.disk_percent,
            if self.wakeup_order {
                ", wake-up order"
            } else {
                ""
            }
        )
    }
}

/// The seed of replica `k` of a run whose seed is `seed`: replica 0 keeps the seed (so one
/// replica is the plain run), the others are spread over 63 bits (a TOML integer holds them).
pub fn replica_seed(seed: u64, k: u32) -> u64 {
    if k == 0 {
        return seed;
    }
    let mut rng = SimRng::split(seed, 0x7265_706c_0000 + u64::from(k));
    rng.below(1 << 63)
}

/// Applies `noise` to `spec`, drawing from `spec.seed` (never from the policy).
pub fn perturb(spec: &mut RunSpec, noise: &Noise) {
    if noise.is_zero() {
        return;
    }
    spec.shuffle_wakeups = noise.wakeup_order;
    let mut start = SimRng::split(spec.seed, STREAM_START);
    let mut rate = SimRng::split(spec.seed, STREAM_RATE);
    let mut disk = SimRng::split(spec.seed, STREAM_DISK);
    for task in &mut spec.tasks {
        task.start_ns = task
            .start_ns
            .saturating_add(start.below(noise.start_ns + 1));
        let factor = scale(&mut rate, noise.rate_percent);
        if let Some(r) = rate_of(&mut task.kind) {
            *r = factor(*r).max(1);
        }
    }
    for d in &mut spec.disks {
        let factor = scale(&mut disk, noise.disk_percent);
        d.bandwidth_bytes_per_sec = factor(d.bandwidth_bytes_per_sec).max(1);
        // A faster disk seeks faster too: the inverse factor, to first order.
        d.seek_ns = d.seek_ns.saturating_mul(d.seek_ns.max(1)) / factor(d.seek_ns).max(1);
    }
}

/// A factor uniform in `1 ± percent/100`, in steps of 1/10000, as a function on integers.
fn scale(rng: &mut SimRng, percent: u32) -> impl Fn(u64) -> u64 {
    let span = u64::from(percent) * 100;
    let step = 10_000 - span as i64 + rng.below(2 * span + 1) as i64;
    move |x: u64| (u128::from(x) * step as u128 / 10_000) as u64
}

/// The rate of a task that has one (allocators and streams).
fn rate_of(kind: &mut TaskKind) -> Option<&mut u64> {
    match kind {
        TaskKind::Anon(a) => Some(&mut a.rate_bytes_per_sec),
        TaskKind::StreamWrite(w) => Some(&mut w.rate_bytes_per_sec),
        TaskKind::StreamRead(r) => Some(&mut r.rate_bytes_per_sec),
        _ => None,
    }
}

/// The Wilson score interval at 95 % (z = 1.96) for `k` successes in `n` trials: `(low, high)`.
/// `(0, 1)` for no trials.
pub fn wilson(k: u32, n: u32) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let z = 1.959_963_984_540_054_f64;
    let (k, n) = (f64::from(k), f64::from(n));
    let p = k / n;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// The median (mean of the two middle values for an even count), minimum and maximum.
pub fn median_range(values: &[f64]) -> Option<(f64, f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Some((median, v[0], v[n - 1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_bounds_match_published_values() {
        // Reference values: Newcombe (1998), Statistics in Medicine 17:857, table I (Wilson score
        // without continuity correction), and the closed form at the extremes.
        let close = |(a, b): (f64, f64), (x, y): (f64, f64)| {
            assert!((a - x).abs() < 5e-5 && (b - y).abs() < 5e-5, "{a} {b}")
        };
        close(wilson(81, 263), (0.2553, 0.3662));
        close(wilson(15, 148), (0.0624, 0.1605));
        close(wilson(0, 20), (0.0, 0.1611));
        close(wilson(1, 29), (0.0061, 0.1718));
        let (lo, hi) = wilson(32, 32);
        assert!(
            (hi - 1.0).abs() < 1e-12 && (lo - 0.8928).abs() < 5e-5,
            "{lo}"
        );
        assert_eq!(wilson(0, 0), (0.0, 1.0));
    }

    #[test]
    fn median_of_even_and_odd_counts() {
        assert_eq!(median_range(&[3.0, 1.0, 2.0]), Some((2.0, 1.0, 3.0)));
        assert_eq!(median_range(&[4.0, 1.0, 2.0, 3.0]), Some((2.5, 1.0, 4.0)));
        assert_eq!(median_range(&[]), None);
    }

    #[test]
    fn replica_zero_is_the_plain_run_and_the_others_differ() {
        assert_eq!(replica_seed(7, 0), 7);
        let seeds: Vec<u64> = (0..64).map(|k| replica_seed(7, k)).collect();
        let mut unique = seeds.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), 64);
        assert!(seeds.iter().all(|&s| s < 1 << 63));
    }

    #[test]
    fn the_scale_stays_within_its_percentage() {
        let mut rng = SimRng::split(1, 2);
        for _ in 0..1000 {
            let f = scale(&mut rng, 5);
            let x = f(1_000_000);
            assert!((950_000..=1_050_000).contains(&x), "{x}");
        }
        let f = scale(&mut rng, 0);
        assert_eq!(f(123_456), 123_456);
    }
}
