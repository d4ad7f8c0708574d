//! Firmware export: a trained model as Rust source that a `#![no_std]` program `include!`s, so the
//! model is built at compile time and lives in flash.
//!
//! [`Rnn::to_rust_source`] writes one `pub const` item:
//!
//! ```text
//! pub const MODEL: static_rnn::Rnn<3, 8, 2, static_rnn::Tanh, static_rnn::Softmax, f32> =
//!     static_rnn::Rnn::from_params(static_rnn::Params {
//!         w_x: static_rnn::SMatrix::from_array_storage(static_rnn::nalgebra::ArrayStorage([
//!             [
//!                 f32::from_bits(0x3e4ccccd), // 0.2
//!                 …
//! ```
//!
//! - **Exact.** Every scalar is written as its IEEE 754 bit pattern, `f32::from_bits(0x…)` or
//!   `f64::from_bits(0x…)` (both `const fn` since Rust 1.83), with its shortest round-tripping decimal in a
//!   comment for the reader. The compiled model equals the exported one bit for bit, including
//!   `−0.0`, subnormals and non-finite values.
//! - **Compile-time.** [`Rnn::from_params`] and nalgebra's `SMatrix::from_array_storage` are
//!   `const fn`s; `ArrayStorage` holds a matrix column-major, as `[[T; ROWS]; COLS]`, one inner
//!   array per column. The firmware writes `static MODEL_IN_FLASH: … = MODEL;` or uses `MODEL`
//!   directly.
//! - **Self-describing.** Types are named by full paths (`static_rnn::Tanh`), so the file needs no
//!   `use`; a header comment says what wrote it, the model's type and size, and the caller's
//!   provenance lines (what was trained on what, and the command that regenerates the file). The
//!   layout is the one rustfmt gives, so formatting the file changes nothing.
//!
//! Activations and scalars name themselves through [`RustPath`]; implement it for an activation of
//! your own to export a model that uses it.
//!
//! ```
//! use rand_pcg::Pcg64Mcg;
//! use static_rnn::init::Scheme;
//! use static_rnn::rand_core::SeedableRng;
//! use static_rnn::Rnn;
//!
//! let rnn = Rnn::<2, 3, 1>::init(&mut Pcg64Mcg::seed_from_u64(1), Scheme::pytorch());
//! let source = rnn.to_rust_source("MODEL", "Untrained: PyTorch's initialization, seed 1.");
//! assert!(source.contains(
//!     "pub const MODEL: static_rnn::Rnn<2, 3, 1, static_rnn::Tanh, static_rnn::Softmax, f32> ="
//! ));
//! let first = format!("f32::from_bits({:#010x})", rnn.params.w_x[(0, 0)].to_bits());
//! assert!(source.contains(&first));
//! ```

use crate::activation::{
    HiddenActivation, Identity, OutputActivation, Relu, Sigmoid, Softmax, Tanh,
};
use crate::model::Rnn;
use crate::params::Params;
use crate::scalar::Real;
use crate::tensors::Tensors;
use alloc::string::String;
use core::fmt::Write;

/// A type's path as exported source names it, valid from any crate that depends on static-rnn
/// (`static_rnn::Tanh`, `f32`).
///
/// ```
/// use static_rnn::export::RustPath;
/// use static_rnn::{HiddenActivation, Real};
///
/// #[derive(Clone, Copy, Debug, Default)]
/// struct Softsign;
/// impl<T: Real> HiddenActivation<T> for Softsign {
///     fn activate(z: T) -> T { z / (T::one() + z.abs()) }
///     fn derivative(z: T, _h: T) -> T { let d = T::one() + z.abs(); T::one() / (d * d) }
/// }
/// impl RustPath for Softsign {
///     const PATH: &'static str = "my_firmware::Softsign";
/// }
/// ```
pub trait RustPath {
    /// The full path of the type.
    const PATH: &'static str;
}

/// A scalar that exported source writes exactly, as its bit pattern.
pub trait ExportScalar: Real + RustPath {
    /// A constant expression equal to `self` bit for bit: `f32::from_bits(0x3e4ccccd)`.
    fn bits_expression(self) -> String;
}

macro_rules! rust_path {
    ($($ty:ty => $path:literal),* $(,)?) => {$(
        impl RustPath for $ty {
            const PATH: &'static str = $path;
        }
    )*};
}

rust_path! {
    Tanh => "static_rnn::Tanh",
    Relu => "static_rnn::Relu",
    Sigmoid => "static_rnn::Sigmoid",
    Identity => "static_rnn::Identity",
    Softmax => "static_rnn::Softmax",
    f32 => "f32",
    f64 => "f64",
}

impl ExportScalar for f32 {
    fn bits_expression(self) -> String {
        alloc::format!("f32::from_bits({:#010x})", self.to_bits())
    }
}

impl ExportScalar for f64 {
    fn bits_expression(self) -> String {
        alloc::format!("f64::from_bits({:#018x})", self.to_bits())
    }
}

impl<const I: usize, const H: usize, const O: usize, F, G, T> Rnn<I, H, O, F, G, T>
where
    F: HiddenActivation<T> + RustPath,
    G: OutputActivation<T> + RustPath,
    T: ExportScalar,
{
    /// The model as Rust source of one item, `pub const {name}: static_rnn::Rnn<…> = …;`, that
    /// rebuilds it bit for bit at compile time (see the [module documentation](self)).
    ///
    /// `provenance` is copied into the header comment, one `// ` line per line: say what the model
    /// was trained on, when, by what, and the command that regenerates the file.
    ///
    /// # Panics
    ///
    /// If `name` is not a Rust identifier (ASCII letters, digits and `_`, not starting with a
    /// digit).
    pub fn to_rust_source(&self, name: &str, provenance: &str) -> String {
        assert!(
            is_identifier(name),
            "the exported item's name must be a Rust identifier, got {name:?}"
        );
        let model_type = alloc::format!(
            "static_rnn::Rnn<{I}, {H}, {O}, {}, {}, {}>",
            F::PATH,
            G::PATH,
            T::PATH
        );
        let mut out = String::new();
        write_header(&mut out, &model_type, Self::PARAMETERS, provenance);
        // `fmt::Write` for `String` never fails.
        let _ = writeln!(
            out,
            "/// The exported model; see the header comment for its provenance."
        );
        let _ = writeln!(out, "pub const {name}: {model_type} =");
        out.push_str("    static_rnn::Rnn::from_params(static_rnn::Params {\n");
        let p: &Params<I, H, O, T> = &self.params;
        let rows = [H, H, H, O, O];
        for ((tensor, values), rows) in Params::<I, H, O, T>::names()
            .iter()
            .zip(p.tensors())
            .zip(rows)
        {
            write_matrix(&mut out, tensor, values, rows);
        }
        out.push_str("    });\n");
        out
    }
}

/// The header comment: what wrote the file, the model, the caller's provenance, the encoding.
fn write_header(out: &mut String, model_type: &str, parameters: usize, provenance: &str) {
    let _ = writeln!(
        out,
        "// Generated by static-rnn {} (`Rnn::to_rust_source`). Do not edit by hand.",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(out, "// Model: {model_type}, {parameters} parameters.");
    let _ = writeln!(out, "//");
    for line in provenance.lines() {
        let _ = writeln!(out, "//{}{line}", if line.is_empty() { "" } else { " " });
    }
    if !provenance.is_empty() {
        let _ = writeln!(out, "//");
    }
    out.push_str(
        "// Every scalar is its IEEE 754 bit pattern (`from_bits`), so the model built at compile\n\
         // time equals the exported one bit for bit; the comment beside it is its decimal value.\n\
         // Matrices are column-major, as nalgebra's `ArrayStorage` holds them: one inner array per\n\
         // column.\n\n",
    );
}

/// `name: static_rnn::SMatrix::from_array_storage(static_rnn::nalgebra::ArrayStorage([…])),` for
/// a column-major tensor of `rows` rows, laid out as rustfmt would.
fn write_matrix<T: ExportScalar>(out: &mut String, name: &str, values: &[T], rows: usize) {
    let prefix = "static_rnn::SMatrix::from_array_storage(static_rnn::nalgebra::ArrayStorage";
    let write_scalars = |out: &mut String, column: &[T], indent: &str| {
        for &x in column {
            let _ = writeln!(out, "{indent}{}, // {:?}", x.bits_expression(), x);
        }
    };
    if values.len() == rows {
        // A vector (one column): rustfmt joins the brackets, `([[ … ]])`.
        let _ = writeln!(out, "        {name}: {prefix}([[");
        write_scalars(out, values, "            ");
        out.push_str("        ]])),\n");
    } else {
        let _ = writeln!(out, "        {name}: {prefix}([");
        // `rows` is positive whenever `values` is not empty, so `chunks` gets a valid size.
        for column in values.chunks(rows.max(1)) {
            out.push_str("            [\n");
            write_scalars(out, column, "                ");
            out.push_str("            ],\n");
        }
        out.push_str("        ])),\n");
    }
}

/// Whether `name` is an ASCII Rust identifier: letters, digits and `_`, not starting with a digit,
/// and not `_` alone.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) if first.is_ascii_alphabetic() || first == '_' => {
            name != "_" && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        _ => false,
    }
}
