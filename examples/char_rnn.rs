//! Karpathy's min-char-rnn, on *Macbeth*: a character-level language model that learns to write
//! something that looks like Shakespeare, one character at a time.
//!
//! ```text
//! cargo run --release --example char_rnn                     # the full run, about 40 s
//! cargo run --release --example char_rnn -- --quick          # a second
//! cargo run --release --example char_rnn -- --help           # iterations, seed, sample length, …
//! ```
//!
//! The experiment is min-char-rnn's, with its numbers: `H = 100` tanh hidden units, a softmax
//! over the `V` characters with cross-entropy, windows of 25 characters trained by truncated BPTT
//! with the hidden state carried from one window to the next (and reset to zero at the start of
//! each pass over the text), every gradient clamped to `[−5, 5]`, Adagrad with learning rate
//! `0.1`, weights drawn from `N(0, 0.01²)` and zero biases. The loss printed is min-char-rnn's
//! smoothed loss, `0.999·old + 0.001·new`, starting from `−ln(1/V)·25`, the loss of a window
//! under a uniform guess. (Adagrad is PyTorch's, `θ ← θ − γ g / (√G + ε)`; see
//! `static_rnn::Adagrad` for how that differs from min-char-rnn's `ε` inside the root.)
//!
//! # The vocabulary
//!
//! Fixed at compile time: [`CHARS`] lists, in byte order, the characters of the bundled text
//! (newline and the 66 printable ASCII characters *Macbeth* uses), and one more index, `V − 1`,
//! catches every other character (of a text you pass with `--text`), printed as `�`. Character
//! `c` is index `INDEX[c]`, its position in `CHARS`; its input is the one-hot vector `e_{INDEX[c]}`
//! of length `V`, and so is its target as the next character. `V` is a `const`, so the model is
//! `Rnn<V, 100, V>`, every matrix sized by the compiler.
//!
//! The text is `examples/data/macbeth.txt`, public domain; `examples/data/README.md` says where it
//! comes from.

mod common;

use clap::Parser;
use common::{Series, line_chart, output_path, progress_bar};
use rand_pcg::Pcg64Mcg;
use static_rnn::init::{BiasInit, Init, RecurrentInit, Scheme};
use static_rnn::rand_core::SeedableRng;
use static_rnn::random::uniform01;
use static_rnn::{
    Adagrad, AdagradConfig, CrossEntropy, Params, Rnn, SVector, Stateful, TruncatedBptt,
    clip_grad_value,
};
use std::time::Instant;

/// The characters of the vocabulary, in byte order: newline, then every printable ASCII
/// character that `examples/data/macbeth.txt` contains.
const CHARS: &[u8] = b"\n !\"&'(),-.:;?ABCDEFGHIJKLMNOPQRSTUVWXY[]abcdefghijklmnopqrstuvwxyz";
/// The vocabulary size: the characters of [`CHARS`] and the catch-all.
const V: usize = CHARS.len() + 1;
/// The index of every other character.
const CATCH_ALL: usize = V - 1;
/// `INDEX[b]`: the index of the ASCII byte `b` (its position in [`CHARS`], or [`CATCH_ALL`]).
const INDEX: [u8; 128] = index_table();

/// Hidden units, as min-char-rnn.
const H: usize = 100;
/// Characters per truncated-BPTT window, as min-char-rnn.
const SEQ: usize = 25;

/// min-char-rnn's model: tanh hidden layer, softmax output, single precision.
type Model = Rnn<V, H, V>;

/// The bundled text, compiled into the binary.
const MACBETH: &str = include_str!("data/macbeth.txt");

#[derive(Parser)]
#[command(about = "min-char-rnn on Macbeth: a character-level RNN language model")]
struct Args {
    /// Training iterations (windows of 25 characters, one Adagrad step each).
    #[arg(long, default_value_t = 150_000)]
    iterations: u64,
    /// Seed of the initial weights and of the sampling.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Characters per sample.
    #[arg(long, default_value_t = 200)]
    length: usize,
    /// Print a sample every this many iterations.
    #[arg(long, default_value_t = 25_000)]
    sample_every: u64,
    /// Sampling temperature: `p_k^(1/τ)`, renormalized (below 1: safer, above 1: wilder).
    #[arg(long, default_value_t = 1.0)]
    temperature: f64,
    /// Train on this text file instead of Macbeth (characters outside the vocabulary become `�`).
    #[arg(long)]
    text: Option<std::path::PathBuf>,
    /// A short run for CI: 1 000 iterations.
    #[arg(long)]
    quick: bool,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let iterations = if args.quick { 1_000 } else { args.iterations };
    let sample_every = if args.quick {
        500
    } else {
        args.sample_every.max(1)
    };
    let text = match &args.text {
        Some(path) => String::from_utf8_lossy(&std::fs::read(path)?).into_owned(),
        None => MACBETH.to_string(),
    };
    let data: Vec<usize> = text.chars().map(index).collect();
    if data.len() <= SEQ {
        return Err(format!("the text needs more than {SEQ} characters").into());
    }
    if args.temperature.is_nan() || args.temperature <= 0.0 {
        return Err("the temperature must be positive".into());
    }
    let unknown = data.iter().filter(|&&i| i == CATCH_ALL).count();
    println!(
        "{} characters, V = {V} ({} known characters + the catch-all; {unknown} characters of the \
         text fall to it), H = {H}, windows of {SEQ}, {iterations} iterations, seed {}",
        data.len(),
        CHARS.len(),
        args.seed
    );

    // min-char-rnn: W ~ 0.01·N(0, 1), b = 0.
    let small = Init::Normal { std: 0.01 };
    let scheme = Scheme {
        w_x: small,
        w_h: RecurrentInit::Matrix(small),
        b_h: BiasInit::Zeros,
        w_y: small,
        b_y: BiasInit::Zeros,
    };
    let mut rng = Pcg64Mcg::seed_from_u64(args.seed);
    let mut rnn = Model::init(&mut rng, scheme);
    let mut adagrad = Adagrad::new(AdagradConfig {
        lr: 0.1,
        ..AdagradConfig::default()
    });
    let mut tbptt = TruncatedBptt::<H, V, SEQ>::new();
    let mut grads = Params::zeros();

    let initial_loss = -(1.0 / V as f64).ln() * SEQ as f64;
    let mut smooth_loss = initial_loss;
    let mut curve = vec![(0.0, smooth_loss)];
    let bar = progress_bar(iterations, "char-rnn", "it");
    let start = Instant::now();
    let mut p = 0;
    for n in 0..iterations {
        // A new pass over the text starts from h = 0, as min-char-rnn's `hprev` does.
        if p + SEQ + 1 > data.len() {
            p = 0;
            tbptt.reset();
        }
        let xs: [SVector<f32, V>; SEQ] = core::array::from_fn(|t| one_hot(data[p + t]));
        let ys: [SVector<f32, V>; SEQ] = core::array::from_fn(|t| one_hot(data[p + t + 1]));

        if n % sample_every == 0 {
            // Sample from where training stands: the carried state, the window's first character.
            let sample = sample(&rnn, tbptt.state(), data[p], &args, &mut rng);
            bar.suspend(|| {
                println!("---- iteration {n}, smoothed loss {smooth_loss:.2}\n{sample}\n----");
            });
        }

        grads.set_zero();
        let loss = tbptt.next_window(&rnn, CrossEntropy, &xs, &ys, &mut grads);
        smooth_loss = 0.999 * smooth_loss + 0.001 * f64::from(loss);
        clip_grad_value(&mut grads, 5.0)?; // min-char-rnn's np.clip(dparam, -5, 5)
        rnn.update(&mut adagrad, &grads)?;
        p += SEQ;

        if (n + 1) % 100 == 0 {
            curve.push(((n + 1) as f64, smooth_loss));
            bar.set_message(format!("smoothed loss {smooth_loss:.2}"));
            bar.set_position(n + 1);
        }
    }
    bar.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();

    let sample = sample(&rnn, &SVector::zeros(), index('\n'), &args, &mut rng);
    println!("---- after {iterations} iterations, from h = 0 and a newline\n{sample}\n----");
    println!(
        "smoothed loss {initial_loss:.2} → {smooth_loss:.2} ({:.3} nats per character) in \
         {iterations} iterations, {seconds:.1} s, {:.0} iterations/s, {:.2} passes over the text",
        smooth_loss / SEQ as f64,
        iterations as f64 / seconds,
        (iterations * SEQ as u64) as f64 / data.len() as f64
    );

    let path = output_path("char_rnn_loss.svg");
    line_chart(
        &path,
        "min-char-rnn on Macbeth: smoothed loss per window of 25 characters",
        ("iteration", "smoothed cross-entropy (nats per window)"),
        &[Series {
            label: format!("H = {H}, V = {V}, Adagrad 0.1, seed {}", args.seed),
            points: curve,
            colour: 0,
            dashed: false,
        }],
        false,
    )?;
    println!("loss curve: {}", path.display());
    Ok(())
}

/// `args.length` characters drawn from the model, starting from state `h` and input `first`:
/// each step feeds the character just drawn back in.
fn sample(
    rnn: &Model,
    h: &SVector<f32, H>,
    first: usize,
    args: &Args,
    rng: &mut Pcg64Mcg,
) -> String {
    let mut live = Stateful::starting_from(rnn, *h);
    let mut ix = first;
    (0..args.length)
        .map(|_| {
            let p = live.step(&one_hot(ix));
            ix = draw(&p, args.temperature, rng);
            character(ix)
        })
        .collect()
}

/// An index drawn from the distribution `p^(1/τ)` (renormalized), by inverting its cumulative sum
/// at a uniform draw.
fn draw(p: &SVector<f32, V>, temperature: f64, rng: &mut Pcg64Mcg) -> usize {
    let ln_max = f64::from(p.max()).ln();
    let weights: [f64; V] =
        core::array::from_fn(|k| ((f64::from(p[k]).ln() - ln_max) / temperature).exp());
    let mut u = uniform01(rng) * weights.iter().sum::<f64>();
    for (k, w) in weights.iter().enumerate() {
        if u < *w {
            return k;
        }
        u -= w;
    }
    // Rounding left a sliver past the last weight: the last index with any weight.
    weights.iter().rposition(|&w| w > 0.0).unwrap_or(0)
}

/// The one-hot vector `e_i`.
fn one_hot(i: usize) -> SVector<f32, V> {
    let mut x = SVector::zeros();
    x[i] = 1.0;
    x
}

/// The index of a character: its position in [`CHARS`], or [`CATCH_ALL`].
fn index(c: char) -> usize {
    if c.is_ascii() {
        usize::from(INDEX[c as usize])
    } else {
        CATCH_ALL
    }
}

/// The character of an index (`�` for the catch-all).
fn character(i: usize) -> char {
    CHARS.get(i).map_or('\u{FFFD}', |&b| char::from(b))
}

/// [`INDEX`], built by the compiler.
const fn index_table() -> [u8; 128] {
    const { assert!(V <= 256, "indices are stored as u8") };
    let mut table = [CATCH_ALL as u8; 128];
    let mut i = 0;
    while i < CHARS.len() {
        table[CHARS[i] as usize] = i as u8;
        i += 1;
    }
    table
}
