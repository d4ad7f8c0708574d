//! What the bench targets share: the models and data they run on, FLOP counts, the DMatrix peer,
//! and the ratio table printed after a run.
#![allow(dead_code)] // each bench target uses a part of it

pub mod dmatrix_peer;

use criterion::Criterion;
use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use static_rnn::{HiddenActivation, Real, Rnn, SMatrix, SVector, Softmax, scalar::constant};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

/// The clock the benches read: by default the CPU time of the benchmarking thread
/// (`CLOCK_THREAD_CPUTIME_ID`), which does not count the time the thread waits while the
/// (shared, 2-core) machine runs something else; `BENCH_CLOCK=wall` selects wall time.
pub struct BenchClock {
    thread_cpu: bool,
    origin: Instant,
}

impl BenchClock {
    /// The clock `BENCH_CLOCK` selects.
    pub fn from_env() -> Self {
        let thread_cpu = std::env::var("BENCH_CLOCK").map_or(true, |v| v != "wall");
        Self {
            thread_cpu,
            origin: Instant::now(),
        }
    }

    /// `"thread CPU time"` or `"wall time"`.
    pub fn name(&self) -> &'static str {
        if self.thread_cpu {
            "thread CPU time"
        } else {
            "wall time"
        }
    }

    fn now(&self) -> Duration {
        if self.thread_cpu {
            let mut ts = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant Linux knows.
            let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
            assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
            Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
        } else {
            self.origin.elapsed()
        }
    }
}

impl Measurement for BenchClock {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        self.now()
    }
    fn end(&self, start: Duration) -> Duration {
        self.now().saturating_sub(start)
    }
    fn add(&self, v1: &Duration, v2: &Duration) -> Duration {
        *v1 + *v2
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        static WALL: WallTime = WallTime;
        WALL.formatter()
    }
}

/// Criterion with the benches' settings (1 s warm-up, 3 s of `samples` samples), reading
/// [`BenchClock`], configured from the command line.
pub fn criterion(samples: usize) -> Criterion<BenchClock> {
    let clock = BenchClock::from_env();
    println!("clock: {}", clock.name());
    Criterion::default()
        .with_measurement(clock)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(samples)
        .configure_from_args()
}

/// A deterministic weight in `[−scale/2, scale/2)`: the cost does not depend on the values, but
/// the states should neither saturate nor vanish, as in a trained network.
fn weight<T: Real>(i: usize, j: usize, scale: f64) -> T {
    constant(scale * ((i * 31 + j * 17) % 13) as f64 / 13.0 - scale / 2.0)
}

/// The benchmarked model: `W_h` scaled by `1/√H` so that `h_t` stays in tanh's linear-ish range.
pub fn model<const I: usize, const H: usize, const O: usize, F, T>() -> Rnn<I, H, O, F, Softmax, T>
where
    F: HiddenActivation<T>,
    T: Real,
{
    Rnn::new(
        SMatrix::from_fn(|i, j| weight(i, j, 1.0 / (I as f64).sqrt())),
        SMatrix::from_fn(|i, j| weight(i + 7, j, 2.0 / (H as f64).sqrt())),
        SVector::from_fn(|i, _| weight(i, 3, 0.2)),
        SMatrix::from_fn(|i, j| weight(i + 5, j, 2.0 / (H as f64).sqrt())),
        SVector::from_fn(|i, _| weight(i, 1, 0.2)),
    )
}

/// `steps` inputs in `{−1, 0, 1}`.
pub fn inputs<T: Real, const I: usize>(steps: usize) -> Vec<SVector<T, I>> {
    (0..steps)
        .map(|t| SVector::from_fn(|i, _| constant(((t + i) % 3) as f64 - 1.0)))
        .collect()
}

/// One-hot targets, one at every step.
pub fn targets<T: Real, const O: usize>(steps: usize) -> Vec<SVector<T, O>> {
    (0..steps)
        .map(|t| SVector::from_fn(|k, _| constant(f64::from(k == (3 * t) % O))))
        .collect()
}

/// A batch of `B` sequences of `steps` inputs: sequence `b` is [`inputs`] shifted by `b`,
/// `x_t⁽ᵇ⁾[i] = ((t + i + b) mod 3) − 1`; column `b` of step `t`'s matrix is `x_t⁽ᵇ⁾`.
pub fn batch_inputs<T: Real, const I: usize, const B: usize>(
    steps: usize,
) -> Vec<SMatrix<T, I, B>> {
    (0..steps)
        .map(|t| SMatrix::from_fn(|i, b| constant(((t + i + b) % 3) as f64 - 1.0)))
        .collect()
}

/// One-hot batch targets at every step: sequence `b` has class `(3t + b) mod O` at step `t`.
pub fn batch_targets<T: Real, const O: usize, const B: usize>(
    steps: usize,
) -> Vec<SMatrix<T, O, B>> {
    (0..steps)
        .map(|t| SMatrix::from_fn(|k, b| constant(f64::from(k == (3 * t + b) % O))))
        .collect()
}

/// Floating-point operations of the matrix products of one streaming step (2 per multiply–add):
/// `W_h h`, `W_x x`, `W_y h`.
pub const fn step_flops(i: usize, h: usize, o: usize) -> u64 {
    2 * (h * h + h * i + o * h) as u64
}

/// Floating-point operations of the matrix products of forward + backward over `t` steps with a
/// target at every step: the forward's `H² + HI + OH` multiply–adds per step, and the backward's
/// `W_yᵀ δa`, `W_hᵀ δz` and the three outer products `δa hᵀ`, `δz xᵀ`, `δz h_{t−1}ᵀ`
/// (`2H² + HI + 2OH`).
pub const fn forward_backward_flops(i: usize, h: usize, o: usize, t: usize) -> u64 {
    2 * (t * (3 * h * h + 2 * h * i + 3 * o * h)) as u64
}

/// Where criterion writes its results (its own rule: `$CRITERION_HOME`, else
/// `$CARGO_TARGET_DIR/criterion`, else `target/criterion` of this package).
pub fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("criterion")
}

/// The median (ns) and its 95 % confidence interval of a benchmark `group/function/parameter`,
/// if it was measured after `since` (by this run, not an earlier one).
pub fn median_ns(id: &str, since: SystemTime) -> Option<(f64, f64, f64)> {
    let path = criterion_dir().join(id).join("new/estimates.json");
    let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
    if modified < since {
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    let median = &json["median"];
    Some((
        median["point_estimate"].as_f64()?,
        median["confidence_interval"]["lower_bound"].as_f64()?,
        median["confidence_interval"]["upper_bound"].as_f64()?,
    ))
}

/// Prints `numerator / denominator` medians for each pair measured by this run.
pub fn print_ratios(title: &str, pairs: &[(String, String)], since: SystemTime) {
    let rows: Vec<String> = pairs
        .iter()
        .filter_map(|(slow, fast)| {
            let (s, s_lo, s_hi) = median_ns(slow, since)?;
            let (f, f_lo, f_hi) = median_ns(fast, since)?;
            Some(format!(
                "  {fast:<48} {f:>12.1} ns  [{f_lo:.1}, {f_hi:.1}]\n  {slow:<48} {s:>12.1} ns  [{s_lo:.1}, {s_hi:.1}]\n  {:<48} {:>12.2}×  (range {:.2}–{:.2})\n",
                "ratio",
                s / f,
                s_lo / f_hi,
                s_hi / f_lo
            ))
        })
        .collect();
    if !rows.is_empty() {
        println!(
            "\n{title} (medians, 95 % confidence intervals)\n{}",
            rows.join("\n")
        );
    }
}
