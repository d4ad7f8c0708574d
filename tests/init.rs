//! Initialization: every scheme against the distribution it documents, orthogonality, the Haar
//! property, determinism, and the samplers against hand-computed values.
//!
//! Tolerances. A sample statistic is compared with its exact expectation to within 5 standard
//! errors, each standard error derived from the sampled distribution and stated beside its check
//! (for `n` independent draws: the mean `σ/√n`; the variance `√((μ₄ − σ⁴)/n)`; a proportion `p`
//! `√(p(1 − p)/n)`). A correct sampler passes such a check with probability about `1 − 6·10⁻⁷`;
//! the seeds are fixed, so each test is deterministic. Bounds of uniform draws are exact.

use rand_pcg::Pcg64Mcg;
use static_rnn::init::{BiasInit, Init, RecurrentInit, Scheme};
use static_rnn::rand_core::{Infallible, SeedableRng, TryRng};
use static_rnn::random;
use static_rnn::{Identity, Params, Relu, Rnn, SMatrix, Softmax, Tanh, Tensors};

/// The number of standard errors a statistic may be from its expectation.
const Z: f64 = 5.0;

/// Runs `f` on a thread with a stack large enough for the `H = 256` matrices of these tests (a
/// 256 × 256 `f64` matrix is 512 KiB, and debug builds copy values freely).
fn on_big_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(f)
        .expect("spawn a test thread")
        .join()
        .expect("the test thread's assertions hold");
}

/// Sample moments of a stream of draws.
#[derive(Debug)]
struct Moments {
    n: f64,
    mean: f64,
    /// `Σ (x − mean)² / n`
    variance: f64,
    /// `Σ (x − mean)⁴ / n`
    fourth: f64,
}

fn moments(xs: impl Iterator<Item = f64> + Clone) -> Moments {
    let (n, sum) = xs.clone().fold((0.0, 0.0), |(n, s), x| (n + 1.0, s + x));
    let mean = sum / n;
    let (m2, m4) = xs.fold((0.0, 0.0), |(m2, m4), x| {
        let d = (x - mean) * (x - mean);
        (m2 + d, m4 + d * d)
    });
    Moments {
        n,
        mean,
        variance: m2 / n,
        fourth: m4 / n,
    }
}

/// `|statistic − expected| ≤ Z · standard_error`.
fn assert_within(what: &str, statistic: f64, expected: f64, standard_error: f64) {
    assert!(
        (statistic - expected).abs() <= Z * standard_error,
        "{what}: {statistic} is not within {Z} standard errors ({standard_error:e}) of {expected}"
    );
}

/// Checks draws from `U(−a, a)`: bounds, both ends reached, mean and variance.
fn check_uniform(what: &str, xs: &[f64], a: f64) {
    let n = xs.len() as f64;
    assert!(
        xs.iter().all(|x| x.abs() <= a),
        "{what}: a draw outside [−{a}, {a}]"
    );
    // P(max < a(1 − δ)) = (1 − δ/2)ⁿ ≈ e^{−20} for δ = 40/n: the draws fill the interval.
    let near = a * (1.0 - 40.0 / n);
    assert!(xs.iter().any(|&x| x > near), "{what}: no draw near +{a}");
    assert!(xs.iter().any(|&x| x < -near), "{what}: no draw near −{a}");
    let m = moments(xs.iter().copied());
    // U(−a, a): σ² = a²/3, μ₄ = a⁴/5, so SE(mean) = σ/√n and SE(variance) = √((μ₄ − σ⁴)/n).
    let sigma2 = a * a / 3.0;
    let mu4 = a.powi(4) / 5.0;
    assert_within(what, m.mean, 0.0, (sigma2 / n).sqrt());
    assert_within(
        what,
        m.variance,
        sigma2,
        ((mu4 - sigma2 * sigma2) / n).sqrt(),
    );
}

/// Checks draws from `N(0, σ²)`: mean, variance, kurtosis and the mass beyond 1, 2 and 3 σ.
fn check_normal(what: &str, xs: impl Iterator<Item = f64> + Clone, sigma: f64) {
    let m = moments(xs.clone());
    let n = m.n;
    let sigma2 = sigma * sigma;
    // Normal: SE(mean) = σ/√n; μ₄ = 3σ⁴, so SE(variance) = σ²√(2/n); SE(kurtosis) ≈ √(24/n).
    assert_within(what, m.mean, 0.0, sigma / n.sqrt());
    assert_within(what, m.variance, sigma2, sigma2 * (2.0 / n).sqrt());
    let kurtosis = m.fourth / (m.variance * m.variance);
    assert_within(what, kurtosis, 3.0, (24.0 / n).sqrt());
    // P(|Z| > k) for k = 1, 2, 3, from tables of the normal distribution (2·(1 − Φ(k))).
    for (k, p) in [
        (1.0, 0.317_310_507_862_914),
        (2.0, 0.045_500_263_896_358),
        (3.0, 0.002_699_796_063_260),
    ] {
        let beyond = xs.clone().filter(|x| x.abs() > k * sigma).count() as f64 / n;
        assert_within(what, beyond, p, (p * (1.0 - p) / n).sqrt());
    }
}

// ---------------------------------------------------------------------------------------------
// The samplers, by hand.

/// A generator that returns the 64-bit words it was given, in order.
struct Scripted<const N: usize> {
    words: [u64; N],
    next: usize,
}

impl<const N: usize> Scripted<N> {
    fn new(words: [u64; N]) -> Self {
        Self { words, next: 0 }
    }
}

impl<const N: usize> TryRng for Scripted<N> {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        unreachable!("the samplers draw 64-bit words")
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let word = self.words[self.next];
        self.next += 1;
        Ok(word)
    }

    fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), Infallible> {
        unreachable!("the samplers draw 64-bit words")
    }
}

/// The word whose top 53 bits make `uniform01` return `u` (a multiple of `2⁻⁵³`).
fn word_for(u: f64) -> u64 {
    ((u * 2f64.powi(53)) as u64) << 11
}

#[test]
fn uniform01_takes_the_top_53_bits() {
    let mut rng = Scripted::new([0, u64::MAX, 1 << 63, (1 << 11) - 1, 1 << 11]);
    assert_eq!(random::uniform01(&mut rng), 0.0);
    assert_eq!(random::uniform01(&mut rng), 1.0 - 2f64.powi(-53));
    assert_eq!(random::uniform01(&mut rng), 0.5);
    assert_eq!(random::uniform01(&mut rng), 0.0); // the low 11 bits are dropped
    assert_eq!(random::uniform01(&mut rng), 2f64.powi(-53));
}

#[test]
fn uniform_scales_to_the_interval() {
    let mut rng = Scripted::new([0, word_for(0.75), word_for(0.5)]);
    assert_eq!(random::uniform(&mut rng, 3.0), -3.0);
    assert_eq!(random::uniform(&mut rng, 3.0), 1.5);
    assert_eq!(random::uniform(&mut rng, 3.0), 0.0);
}

#[test]
fn polar_method_by_hand() {
    // u = v = 2·0.75 − 1 = 0.5: s = 0.5, factor = √(−2 ln 0.5 / 0.5) = 2√(ln 2), so both draws
    // are 0.5 · 2√(ln 2) = √(ln 2).
    let mut rng = Scripted::new([word_for(0.75), word_for(0.75)]);
    let (z1, z2) = random::standard_normal_pair(&mut rng);
    let expected = std::f64::consts::LN_2.sqrt();
    assert!(
        (z1 - expected).abs() <= 4.0 * f64::EPSILON,
        "{z1} vs {expected}"
    );
    assert_eq!(z1, z2);

    // Rejected: (−1, −1) has s = 2 ≥ 1; (0, 0) has s = 0. Then u = 0.5, v = 0: s = 0.25,
    // factor = √(−2 ln 0.25 / 0.25) = 4√(ln 2), draws (2√(ln 2), 0).
    let mut rng = Scripted::new([0, 0, 1 << 63, 1 << 63, word_for(0.75), 1 << 63]);
    let (z1, z2) = random::standard_normal_pair(&mut rng);
    assert!(
        (z1 - 2.0 * expected).abs() <= 8.0 * f64::EPSILON,
        "{z1} vs {}",
        2.0 * expected
    );
    assert_eq!(z2, 0.0);
    assert_eq!(rng.next, 6, "two rejected pairs and one accepted pair");
}

#[test]
fn standard_normal_draws_are_gaussian() {
    // 100 000 pairs = 200 000 draws, streamed: each statistic re-runs the same seeded stream.
    let pairs = {
        let mut rng = Pcg64Mcg::seed_from_u64(0x5eed);
        (0..100_000).map(move |_| random::standard_normal_pair(&mut rng))
    };
    check_normal("N(0, 1)", pairs.clone().flat_map(|(z1, z2)| [z1, z2]), 1.0);
    // The two draws of a pair are independent: E[z₁z₂] = 0, with SE 1/√n.
    let correlation = pairs.clone().map(|(z1, z2)| z1 * z2).sum::<f64>() / 100_000.0;
    assert_within("E[z₁ z₂]", correlation, 0.0, (1.0_f64 / 100_000.0).sqrt());
}

#[test]
fn odd_length_normal_fill_discards_the_last_second_draw() {
    let mut rng = Pcg64Mcg::seed_from_u64(9);
    let mut out = [0.0_f64; 3];
    random::fill_normal(&mut rng, &mut out, 2.0);

    let mut reference = Pcg64Mcg::seed_from_u64(9);
    let (a, b) = random::standard_normal_pair(&mut reference);
    let (c, _) = random::standard_normal_pair(&mut reference);
    assert_eq!(out, [2.0 * a, 2.0 * b, 2.0 * c]);
    // Both generators are at the same point of their streams.
    assert_eq!(rng, reference);
}

// ---------------------------------------------------------------------------------------------
// Glorot, PyTorch, identity: each against its documented distribution.

#[test]
fn glorot_uniform_matches_its_distribution() {
    on_big_stack(|| {
        let gain = 1.5;
        let w: SMatrix<f64, 256, 128> =
            Init::GlorotUniform { gain }.sample(&mut Pcg64Mcg::seed_from_u64(1), 256);
        // fan_in = 128 columns, fan_out = 256 rows.
        let a = gain * (6.0_f64 / (128.0 + 256.0)).sqrt();
        check_uniform("Glorot uniform", w.as_slice(), a);
    });
}

#[test]
fn glorot_normal_matches_its_distribution() {
    on_big_stack(|| {
        let gain = 5.0 / 3.0;
        let w: SMatrix<f64, 256, 128> =
            Init::GlorotNormal { gain }.sample(&mut Pcg64Mcg::seed_from_u64(2), 256);
        let sigma = gain * (2.0_f64 / (128.0 + 256.0)).sqrt();
        check_normal("Glorot normal", w.iter().copied(), sigma);
    });
}

#[test]
fn explicit_uniform_and_normal_match_their_parameters() {
    on_big_stack(|| {
        let w: SMatrix<f64, 128, 128> =
            Init::Uniform { bound: 0.3 }.sample(&mut Pcg64Mcg::seed_from_u64(3), 128);
        check_uniform("U(−0.3, 0.3)", w.as_slice(), 0.3);
        let w: SMatrix<f64, 128, 128> =
            Init::Normal { std: 0.02 }.sample(&mut Pcg64Mcg::seed_from_u64(4), 128);
        check_normal("N(0, 0.02²)", w.iter().copied(), 0.02);
    });
}

#[test]
fn pytorch_scheme_draws_every_parameter_from_u_of_one_over_sqrt_h() {
    on_big_stack(|| {
        let rnn = Rnn::<64, 256, 32, Tanh, Softmax, f64>::init(
            &mut Pcg64Mcg::seed_from_u64(5),
            Scheme::pytorch(),
        );
        let k = 1.0 / 16.0; // 1/√256
        let p = &rnn.params;
        check_uniform("PyTorch W_x", p.w_x.as_slice(), k);
        check_uniform("PyTorch W_h", p.w_h.as_slice(), k);
        check_uniform("PyTorch W_y", p.w_y.as_slice(), k);
        check_uniform("PyTorch b_h", p.b_h.as_slice(), k);
        // b_y has only 32 draws: the exact bound, and at least one beyond k/2
        // (P(all |b| ≤ k/2) = 2⁻³²).
        assert!(p.b_y.iter().all(|b| b.abs() <= k));
        assert!(p.b_y.iter().any(|b| b.abs() > k / 2.0));
    });
}

#[test]
fn pytorch_scheme_in_f32_stays_within_the_rounded_bound() {
    let p = Params::<8, 16, 4, f32>::init(&mut Pcg64Mcg::seed_from_u64(6), Scheme::pytorch());
    let k = 0.25_f32; // 1/√16, exact
    for (name, tensor) in Params::<8, 16, 4, f32>::names().iter().zip(p.tensors()) {
        assert!(tensor.iter().all(|w| w.abs() <= k), "{name}");
    }
}

#[test]
fn irnn_scheme_is_scaled_identity_with_zero_biases() {
    for scale in [1.0, 0.01] {
        let rnn = Rnn::<3, 10, 2, Relu, Identity, f64>::init(
            &mut Pcg64Mcg::seed_from_u64(7),
            Scheme::irnn(scale),
        );
        let p = &rnn.params;
        for i in 0..10 {
            for j in 0..10 {
                assert_eq!(p.w_h[(i, j)], if i == j { scale } else { 0.0 });
            }
        }
        assert!(p.b_h.iter().chain(p.b_y.iter()).all(|&b| b == 0.0));
        // Glorot uniform, gain 1: W_x is 10 × 3, W_y is 2 × 10.
        let a_x = (6.0_f64 / 13.0).sqrt();
        let a_y = (6.0_f64 / 12.0).sqrt();
        assert!(p.w_x.iter().all(|w| w.abs() <= a_x) && p.w_x.iter().any(|&w| w != 0.0));
        assert!(p.w_y.iter().all(|w| w.abs() <= a_y) && p.w_y.iter().any(|&w| w != 0.0));
    }
}

#[test]
fn keras_scheme_is_glorot_orthogonal_zero_biases() {
    let rnn =
        Rnn::<5, 12, 3, Tanh, Softmax, f64>::init(&mut Pcg64Mcg::seed_from_u64(8), Scheme::keras());
    let p = &rnn.params;
    let gram = p.w_h.transpose() * p.w_h;
    assert!((gram - SMatrix::<f64, 12, 12>::identity()).amax() <= 1e-5);
    assert!(p.b_h.iter().chain(p.b_y.iter()).all(|&b| b == 0.0));
    let a_x = (6.0_f64 / 17.0).sqrt();
    let a_y = (6.0_f64 / 15.0).sqrt();
    assert!(p.w_x.iter().all(|w| w.abs() <= a_x));
    assert!(p.w_y.iter().all(|w| w.abs() <= a_y));
}

#[test]
fn zeros_and_uniform_biases() {
    let mut rng = Pcg64Mcg::seed_from_u64(10);
    let zeros: SMatrix<f64, 4, 3> = Init::Zeros.sample(&mut rng, 4);
    assert!(zeros.iter().all(|&w| w == 0.0));
    let b = BiasInit::Uniform { bound: 0.1 }.sample::<1000, _>(&mut rng, 4);
    check_uniform("U(−0.1, 0.1) bias", b.as_slice(), 0.1);
    // Zeros and identities draw nothing: the generator is where it was.
    let before = rng.clone();
    let _ = RecurrentInit::Identity { scale: 2.0 }.sample::<4, _>(&mut rng);
    let _ = BiasInit::<f64>::Zeros.sample::<4, _>(&mut rng, 4);
    let _: SMatrix<f64, 4, 3> = Init::Zeros.sample(&mut rng, 4);
    assert_eq!(rng, before);
}

// ---------------------------------------------------------------------------------------------
// Orthogonal W_h.

#[test]
fn orthogonal_is_orthogonal_in_f64_at_h_256() {
    on_big_stack(|| {
        let gain = 1.1;
        let w: SMatrix<f64, 256, 256> =
            RecurrentInit::Orthogonal { gain }.sample(&mut Pcg64Mcg::seed_from_u64(11));
        let error =
            (w.transpose() * w - SMatrix::<f64, 256, 256>::identity() * (gain * gain)).amax();
        assert!(error <= 1e-5, "‖WᵀW − gain²I‖ = {error:e}");
        // Each entry has mean 0 and variance gain²/H (Σ w² = gain²·H exactly, by orthogonality).
        // Σ_ij w_ij = 1ᵀW1, and W1 is uniform on the sphere of radius gain·√H, so 1ᵀW1 has
        // standard deviation gain·√H and the entries' mean has SE gain·√H / H².
        let mean = w.sum() / (256.0 * 256.0);
        assert_within("orthogonal mean", mean, 0.0, gain * 16.0 / (256.0 * 256.0));
    });
}

#[test]
fn orthogonal_is_orthogonal_in_f32() {
    // f32 Householder QR: ‖QᵀQ − I‖ grows like H·ε₃₂ ≈ H·1.2·10⁻⁷, well below 10⁻⁵ at H = 64.
    let w: SMatrix<f32, 64, 64> =
        RecurrentInit::Orthogonal { gain: 1.0 }.sample(&mut Pcg64Mcg::seed_from_u64(12));
    let error = (w.transpose() * w - SMatrix::<f32, 64, 64>::identity()).amax();
    assert!(error <= 1e-5, "‖WᵀW − I‖ = {error:e}");
}

#[test]
fn orthogonal_is_haar_distributed() {
    // For Haar-distributed Q on O(H), H ≥ 4: E[tr Q] = 0, E[(tr Q)²] = 1, E[(tr Q)⁴] = 3
    // (Diaconis & Shahshahani, 1994: the low moments of tr Q are those of N(0, 1)). Over N
    // draws, mean(tr Q) has SE 1/√N and mean((tr Q)²) has SE √(2/N). A QR whose R has a
    // diagonal of fixed sign biases tr Q (without the sign correction, mean tr Q is −2.6 here).
    let mut rng = Pcg64Mcg::seed_from_u64(13);
    let n = 400;
    let (mut sum, mut sum_of_squares) = (0.0, 0.0);
    for _ in 0..n {
        let trace = RecurrentInit::Orthogonal { gain: 1.0 }
            .sample::<16, _>(&mut rng)
            .trace();
        sum += trace;
        sum_of_squares += trace * trace;
    }
    let n = n as f64;
    assert_within("mean tr Q", sum / n, 0.0, (1.0 / n).sqrt());
    assert_within("mean (tr Q)²", sum_of_squares / n, 1.0, (2.0 / n).sqrt());

    // H = 1: O(1) = {−1, +1} (to rounding), each with probability 1/2; a count of N draws has
    // SE √(N/4).
    let n = 1000;
    let mut plus = 0;
    for _ in 0..n {
        let q: f64 = RecurrentInit::Orthogonal { gain: 1.0 }.sample::<1, _>(&mut rng)[(0, 0)];
        assert!((q.abs() - 1.0).abs() <= 4.0 * f64::EPSILON, "Q = {q}");
        plus += usize::from(q > 0.0);
    }
    assert_within(
        "count of Q = +1, H = 1",
        plus as f64,
        n as f64 / 2.0,
        (n as f64 / 4.0).sqrt(),
    );
}

// ---------------------------------------------------------------------------------------------
// Determinism.

/// Whether two parameter sets are equal bit for bit (`==` would also equate `0.0` and `−0.0`).
fn bitwise_eq<const I: usize, const H: usize, const O: usize>(
    a: &Params<I, H, O, f64>,
    b: &Params<I, H, O, f64>,
) -> bool {
    a.tensors()
        .iter()
        .zip(b.tensors())
        .all(|(x, y)| x.iter().zip(y).all(|(x, y)| x.to_bits() == y.to_bits()))
}

fn schemes() -> [Scheme<f64>; 4] {
    [
        Scheme::keras(),
        Scheme::pytorch(),
        Scheme::irnn(1.0),
        Scheme {
            w_x: Init::GlorotNormal { gain: 1.0 },
            w_y: Init::Normal { std: 0.1 },
            b_h: BiasInit::Uniform { bound: 0.5 },
            ..Scheme::keras()
        },
    ]
}

#[test]
fn same_seed_gives_the_same_model_bit_for_bit() {
    for scheme in schemes() {
        let a = Params::<4, 9, 3, f64>::init(&mut Pcg64Mcg::seed_from_u64(99), scheme);
        let b = Params::<4, 9, 3, f64>::init(&mut Pcg64Mcg::seed_from_u64(99), scheme);
        assert!(bitwise_eq(&a, &b), "{scheme:?}");
    }
}

#[test]
fn different_seeds_give_different_models() {
    for scheme in schemes() {
        let a = Params::<4, 9, 3, f64>::init(&mut Pcg64Mcg::seed_from_u64(1), scheme);
        let b = Params::<4, 9, 3, f64>::init(&mut Pcg64Mcg::seed_from_u64(2), scheme);
        // Every random tensor differs; the deterministic ones (zeros, identity) do not.
        assert_ne!(a.w_x, b.w_x, "{scheme:?}");
        assert_ne!(a.w_y, b.w_y, "{scheme:?}");
        assert_eq!(
            a.w_h == b.w_h,
            matches!(scheme.w_h, RecurrentInit::Identity { .. }),
            "{scheme:?}"
        );
        assert_eq!(a.b_h == b.b_h, scheme.b_h == BiasInit::Zeros, "{scheme:?}");
    }
}

#[test]
fn tensors_are_drawn_in_the_documented_order() {
    let scheme = schemes()[3];
    let p = Params::<4, 9, 3, f64>::init(&mut Pcg64Mcg::seed_from_u64(5), scheme);
    let mut rng = Pcg64Mcg::seed_from_u64(5);
    let w_x: SMatrix<f64, 9, 4> = scheme.w_x.sample(&mut rng, 9);
    let w_h: SMatrix<f64, 9, 9> = scheme.w_h.sample(&mut rng);
    let b_h = scheme.b_h.sample::<9, _>(&mut rng, 9);
    let w_y: SMatrix<f64, 3, 9> = scheme.w_y.sample(&mut rng, 9);
    let b_y = scheme.b_y.sample::<3, _>(&mut rng, 9);
    assert_eq!(
        p,
        Params {
            w_x,
            w_h,
            b_h,
            w_y,
            b_y
        }
    );
}

#[test]
fn an_f32_model_is_its_f64_twin_rounded() {
    // Every preset except the orthogonal W_h (QR in T): the draws are made in f64.
    let glorot_normal = Scheme {
        w_x: Init::GlorotNormal { gain: 1.0 },
        w_h: RecurrentInit::Matrix(Init::GlorotNormal { gain: 1.0 }),
        ..Scheme::keras()
    };
    for (wide, narrow) in [
        (Scheme::<f64>::pytorch(), Scheme::<f32>::pytorch()),
        (Scheme::irnn(1.0), Scheme::irnn(1.0)),
        (
            glorot_normal,
            Scheme {
                w_x: Init::GlorotNormal { gain: 1.0 },
                w_h: RecurrentInit::Matrix(Init::GlorotNormal { gain: 1.0 }),
                ..Scheme::keras()
            },
        ),
    ] {
        let p64 = Params::<4, 9, 3, f64>::init(&mut Pcg64Mcg::seed_from_u64(3), wide);
        let p32 = Params::<4, 9, 3, f32>::init(&mut Pcg64Mcg::seed_from_u64(3), narrow);
        for (t64, t32) in p64.tensors().iter().zip(p32.tensors()) {
            for (&x64, &x32) in t64.iter().zip(t32) {
                assert_eq!((x64 as f32).to_bits(), x32.to_bits(), "{wide:?}");
            }
        }
    }
}
