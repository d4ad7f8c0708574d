//! Dense kernels on static matrices, written for the auto-vectorizer.
//!
//! Every dimension is a const generic and nalgebra stores an `R × C` static matrix as `C` columns
//! of `[T; R]`, so the loops below have trip counts known at compile time and no bounds checks:
//! the compiler unrolls and vectorizes them for whatever vector width the target has, keeps
//! short accumulators in registers, and needs no `unsafe`.
//!
//! | kernel | computes | loop |
//! |---|---|---|
//! | [`gemv_add`] | `y ← y + W x` | an `axpy` per column of `W` into one of four partial sums (column `j` into sum `j mod 4`), per block of rows |
//! | [`ger_add`] | `G ← G + u vᵀ` | an `axpy` per column of `G` |
//! | [`ger_k_add`] | `G ← G + Σ_k u_k v_kᵀ` | the register tiles of [`gemm_add`], starting from `G`'s entries, the `K` terms added in order of `k` |
//! | [`gemm_add`] | `C ← C + A B` | register tiles of `C`: per `p`, a block of column `p` of `A` times [`TILE_COLUMNS`] scalars of row `p` of `B` |
//! | [`gemm_biased`] | `C ← b 1ᵀ + A B` | the same tiles, each writing `b` into its block first |
//! | [`gemm_add_then`] | `C ← C + A B`, `D ← f(C)` | the same tiles, each block of `D` computed as the tile of `C` is stored |
//! | [`gemm_nt_add`] | `G ← G + α A Bᵀ` | the same tiles, reading row `p` of `Bᵀ` (column `p` of `B`) |
//!
//! The matrix–matrix kernels serve minibatches (`B` columns) and BPTT's outer products (`K` steps
//! at a time); their operands on the stack are [`CacheAligned`], as parameters and traces are on
//! x86-64, so that no whole-register load or store straddles two cache lines. A tile of `C` — two vector
//! registers of rows by [`TILE_COLUMNS`] columns — stays in registers while the inner dimension
//! runs, so each element of `A` that is loaded feeds `TILE_COLUMNS` multiply–adds; tiles walk down
//! the rows of `C` in the outer loop, so the block of rows of `A` a tile reads stays in L1 across
//! the columns. The register width is a property of the instruction set `V` that
//! [`dispatch`](crate::dispatch) picks for the copy that runs (16 bytes for SSE2, 64 for AVX-512);
//! rows a full tile leaves go through half-height tiles, and the columns a tile of
//! [`WIDE_TILE_COLUMNS`] leaves through a tile of [`TILE_COLUMNS`], then one at a time. Each entry
//! is summed in the same order whatever the width, so the results do not depend on it; `V` also
//! says whether each `a·b + c` is one fused multiply–add (the `fma` feature, in the AVX2 and
//! AVX-512 copies) or a product and a sum.

use crate::dispatch::InstructionSet;
use crate::scalar::Real;
use core::mem::size_of;
use nalgebra::{SMatrix, SVector};

/// `y ← y + W x` for `W` of `R × C`, as four interleaved partial sums per entry:
/// `y_i ← (s₀ + s₁) + (s₂ + s₃)` where `s_k = Σ_{j ≡ k (mod 4)} w_ij x_j`, each sum in order of
/// `j`, `s₀` starting from `y_i` and the others from zero. Rows go in blocks of [`BLOCK_BYTES`]
/// whose partial sums stay in registers over all columns, the rows left over in blocks of 16, 8,
/// 4, 2 and 1 rows. Each `w_ij x_j` is added by [`multiply_add`], fused where `V` says so; the
/// order does not depend on the register width.
///
/// Why four sums: one sum is a chain of `C` additions, each waiting for the one before (at
/// `(16, 32, 8)` the step's `W_h h + W_x x` is a chain of 48, and BPTT's `W_hᵀ δz` one of 32, on
/// the path every later step waits on); four chains of `C / 4` run side by side.
#[inline(always)]
pub(crate) fn gemv_add<V: InstructionSet, T: Real, const R: usize, const C: usize>(
    y: &mut SVector<T, R>,
    w: &SMatrix<T, R, C>,
    x: &SVector<T, C>,
) {
    let (y, w, x) = (&mut y.data.0[0], &w.data.0, &x.data.0[0]);
    let mut done = 0;
    if size_of::<T>() == 4 {
        done = gemv_add_blocks::<V, T, R, C, { BLOCK_BYTES / 4 }>(y, w, x, done);
    }
    done = gemv_add_blocks::<V, T, R, C, 16>(y, w, x, done);
    done = gemv_add_blocks::<V, T, R, C, 8>(y, w, x, done);
    done = gemv_add_blocks::<V, T, R, C, 4>(y, w, x, done);
    done = gemv_add_blocks::<V, T, R, C, 2>(y, w, x, done);
    gemv_add_blocks::<V, T, R, C, 1>(y, w, x, done);
}

/// Rows per block of [`gemv_add`]: 128 bytes, two AVX-512 registers per partial sum (32 `f32`
/// or 16 `f64`), eight for the four sums.
const BLOCK_BYTES: usize = 128;

/// [`gemv_add`] on as many blocks of `B` rows as fit from row `start`; returns the first row
/// after them.
///
/// Not forced inline in debug builds (`debug_assertions`): the test builds instantiate the
/// forward and backward passes for many models, each in three instruction-set copies, and this
/// function five or six times per product (once per block size); inlined at every call site,
/// compiling the property tests (then one target of 36 models) took 18.8 GB of memory and 15
/// minutes. Release builds inline it into each copy, where its loops are compiled with the copy's
/// instructions.
#[cfg_attr(not(debug_assertions), inline(always))]
fn gemv_add_blocks<V: InstructionSet, T: Real, const R: usize, const C: usize, const B: usize>(
    y: &mut [T; R],
    w: &[[T; R]; C],
    x: &[T; C],
    start: usize,
) -> usize {
    let blocks = (R - start) / B;
    for first in (start..start + blocks * B).step_by(B) {
        let y_block = y[first..].first_chunk_mut::<B>().unwrap();
        // Four named sums, not an array indexed by `j mod 4`: in BPTT's loop such an array was
        // kept in memory, every multiply–add a load and a store.
        let mut s0 = *y_block;
        let mut s1 = [T::zero(); B];
        let mut s2 = [T::zero(); B];
        let mut s3 = [T::zero(); B];
        let (groups, rest) = w.as_chunks::<4>();
        let (x_groups, x_rest) = x.as_chunks::<4>();
        for ([w0, w1, w2, w3], [x0, x1, x2, x3]) in groups.iter().zip(x_groups) {
            add_column::<V, T, R, B>(&mut s0, w0, *x0, first);
            add_column::<V, T, R, B>(&mut s1, w1, *x1, first);
            add_column::<V, T, R, B>(&mut s2, w2, *x2, first);
            add_column::<V, T, R, B>(&mut s3, w3, *x3, first);
        }
        if let ([w0, ..], [x0, ..]) = (rest, x_rest) {
            add_column::<V, T, R, B>(&mut s0, w0, *x0, first);
        }
        if let ([_, w1, ..], [_, x1, ..]) = (rest, x_rest) {
            add_column::<V, T, R, B>(&mut s1, w1, *x1, first);
        }
        if let ([_, _, w2], [_, _, x2]) = (rest, x_rest) {
            add_column::<V, T, R, B>(&mut s2, w2, *x2, first);
        }
        for i in 0..B {
            y_block[i] = (s0[i] + s1[i]) + (s2[i] + s3[i]);
        }
    }
    start + blocks * B
}

/// `s ← s + w_j[first..first + B] x_j`: one column's terms added to a block's partial sum.
/// (Inlined as [`gemv_add_blocks`] is.)
#[cfg_attr(not(debug_assertions), inline(always))]
fn add_column<V: InstructionSet, T: Real, const R: usize, const B: usize>(
    s: &mut [T; B],
    column: &[T; R],
    x_j: T,
    first: usize,
) {
    let w_block = column[first..].first_chunk::<B>().unwrap();
    for i in 0..B {
        s[i] = multiply_add::<V, T>(w_block[i], x_j, s[i]);
    }
}

/// `G ← G + u vᵀ` for `G` of `R × C`: column `j` of `G` gets `u v_j`.
#[inline(always)]
pub(crate) fn ger_add<T: Real, const R: usize, const C: usize>(
    g: &mut SMatrix<T, R, C>,
    u: &SVector<T, R>,
    v: &SVector<T, C>,
) {
    let u = &u.data.0[0];
    for (column, &v_j) in g.data.0.iter_mut().zip(&v.data.0[0]) {
        for (g_ij, &u_i) in column.iter_mut().zip(u) {
            *g_ij += u_i * v_j;
        }
    }
}

/// `G ← G + Σ_k u_k v_kᵀ` for `G` of `R × C`: `K` rank-one updates in one pass over `G`, in the
/// register tiles of [`gemm_add`], each tile of `G` loaded once, the `K` terms of its entries
/// added to it in registers, and stored once (`K` rank-one updates load and store `G` `K` times).
/// Each entry gets its terms `u_ik v_kj` in order of `k`, starting from `g_ij`, by
/// [`multiply_add`] (fused where `V` says so): the same numbers as `K` rank-one updates in
/// order, whatever the tile.
#[inline(always)]
pub(crate) fn ger_k_add<
    V: InstructionSet,
    T: Real,
    const R: usize,
    const C: usize,
    const K: usize,
>(
    g: &mut SMatrix<T, R, C>,
    us: [&SVector<T, R>; K],
    vs: [&SVector<T, C>; K],
) {
    // The `u_k` copied into a local: the compiler then keeps each block of them in registers
    // (borrowed, they might alias `G`, and were reloaded after every store to it).
    let mut local = [[T::zero(); R]; K];
    for (l, u) in local.iter_mut().zip(us) {
        *l = u.data.0[0];
    }
    let vs = vs.map(|v| &v.data.0[0]);
    tiled_add::<V, T, R, K, C>(&mut g.data.0, &local, Sums::InOrder, |k, j| vs[k][j]);
}

/// Columns per tile of [`gemm_add`] and [`gemm_nt_add`]: `2 × 4` accumulator registers, the
/// two of a column of `A`, and the broadcast scalar fit the 16 vector registers of x86-64.
const TILE_COLUMNS: usize = 4;

/// Columns per full-height tile where the registers are 64 bytes (AVX-512: 32 of them) and the
/// multiply–adds fused: `2 × 8` accumulators, twice the FMA latency × units of the core, so a
/// stall of one chain leaves others to issue (1.2–1.3× faster than 4 columns on an Emerald Rapids
/// Xeon, `BENCHMARKS.md`; unfused on Zen 5 it did not help).
const WIDE_TILE_COLUMNS: usize = 8;

/// `C ← C + A B` for `A` of `R × K`, `B` of `K × N`, in tiles sized for the vector registers of
/// `V` (the result does not depend on their width).
#[inline(always)]
pub(crate) fn gemm_add<
    V: InstructionSet,
    T: Real,
    const R: usize,
    const K: usize,
    const N: usize,
>(
    c: &mut SMatrix<T, R, N>,
    a: &SMatrix<T, R, K>,
    b: &SMatrix<T, K, N>,
) {
    let b = &b.data.0;
    tiled_add::<V, T, R, K, N>(&mut c.data.0, &a.data.0, Sums::Scaled(T::one()), |p, j| {
        b[j][p]
    });
}

/// `C ← b 1ᵀ + A B` for `A` of `R × K`, `B` of `K × N`: each entry `b_i + Σ_p a_ip b_pj`, the
/// sum formed in the tiles of [`gemm_add`], each tile writing `b` into its block of `C` as it
/// starts and adding its sums as it ends (what `C` held before is never read). The same
/// numbers as `C` set to `b 1ᵀ`, then [`gemm_add`], without the pass over `C` that sets it.
#[inline(always)]
pub(crate) fn gemm_biased<
    V: InstructionSet,
    T: Real,
    const R: usize,
    const K: usize,
    const N: usize,
>(
    c: &mut SMatrix<T, R, N>,
    bias: &SVector<T, R>,
    a: &SMatrix<T, R, K>,
    b: &SMatrix<T, K, N>,
) {
    let b = &b.data.0;
    let bias = &bias.data.0[0];
    tiled_add::<V, T, R, K, N>(&mut c.data.0, &a.data.0, Sums::Biased(bias), |p, j| b[j][p]);
}

/// [`gemm_add`], then `D ← f(C)` entry by entry: each entry of `D` computed from the entry of
/// `C` as the tile that holds it is stored, not in a second pass over `C`. The same numbers as
/// [`gemm_add`] followed by that pass.
#[inline(always)]
pub(crate) fn gemm_add_then<
    V: InstructionSet,
    T: Real,
    const R: usize,
    const K: usize,
    const N: usize,
>(
    c: &mut SMatrix<T, R, N>,
    a: &SMatrix<T, R, K>,
    b: &SMatrix<T, K, N>,
    d: &mut SMatrix<T, R, N>,
    f: impl Fn(T) -> T,
) {
    let b = &b.data.0;
    let sums = Sums::Scaled(T::one());
    Tiles {
        c: &mut c.data.0,
        a: &a.data.0,
        sums,
        s: |p: usize, j: usize| b[j][p],
        then: Some((&mut d.data.0, f)),
    }
    .run::<V>();
}

/// `G ← G + α A Bᵀ` for `A` of `R × N`, `B` of `C × N`: the sum over the `N` columns of `α`
/// times their outer products, `Σ_p α a_p b_pᵀ` (in a minibatch, the sum over the sequences).
/// Tiles as [`gemm_add`].
#[inline(always)]
pub(crate) fn gemm_nt_add<
    V: InstructionSet,
    T: Real,
    const R: usize,
    const C: usize,
    const N: usize,
>(
    g: &mut SMatrix<T, R, C>,
    alpha: T,
    a: &SMatrix<T, R, N>,
    b: &SMatrix<T, C, N>,
) {
    let b = &b.data.0;
    tiled_add::<V, T, R, N, C>(&mut g.data.0, &a.data.0, Sums::Scaled(alpha), |p, j| {
        b[p][j]
    });
}

/// How [`tiled_add`] adds a tile's terms to `C`.
#[derive(Clone, Copy)]
enum Sums<'b, T, const R: usize> {
    /// `c_ij + α (Σ_p a_ip s_pj)`: the sum over `p` formed in registers from zero, scaled,
    /// and added to `C` once ([`gemm_add`], [`gemm_nt_add`]).
    Scaled(T),
    /// `(…(c_ij + a_i0 s_0j) + …) + a_i,K−1 s_K−1,j`: the terms added one after the other to
    /// the entry of `C`, held in a register meanwhile ([`ger_k_add`]).
    InOrder,
    /// `b_i + Σ_p a_ip s_pj`: `b_i` written into the tile's block of `C` as the tile starts,
    /// the sum over `p` formed in registers from zero and added to it as the tile ends (what `C`
    /// held before is never read; [`gemm_biased`]).
    Biased(&'b [T; R]),
}

/// `C[:, j] ← C[:, j] + Σ_p A[:, p] s(p, j)` as `sums` says: the body of [`gemm_add`]
/// (`s(p, j) = B[p, j]`), [`gemm_nt_add`] (`s(p, j) = B[j, p]`) and [`ger_k_add`]
/// (`s(k, j) = v_kj`), in tiles of two vector registers of rows by [`TILE_COLUMNS`] columns
/// (full-height tiles of [`WIDE_TILE_COLUMNS`] in fused AVX-512 copies) held in registers while
/// the terms of every `p` are added, `C` loaded and stored once per tile. The rows a full tile
/// does not cover go through tiles of half the height, and so on down to one row. Every entry is
/// the same sum, with `p` in order, whatever the tile it falls in: the result does not depend on
/// `V::VECTOR_BYTES`. Each term `a_ip s_pj` is added by [`multiply_add`].
#[inline(always)]
fn tiled_add<V: InstructionSet, T: Real, const R: usize, const K: usize, const N: usize>(
    c: &mut [[T; R]; N],
    a: &[[T; R]; K],
    sums: Sums<T, R>,
    s: impl Fn(usize, usize) -> T,
) {
    // No second output: the function's type is never called.
    let then = None::<(&mut [[T; R]; N], fn(T) -> T)>;
    Tiles {
        c,
        a,
        sums,
        s,
        then,
    }
    .run::<V>();
}

/// The operands of [`tiled_add`]: `C` (`R × N`), `A` (`R × K`), how the sums are added,
/// `s(p, j)`, the entry of the right-hand factor, and optionally a second output `D` with the
/// function that fills it from `C` ([`gemm_add_then`]).
struct Tiles<'a, T, const R: usize, const K: usize, const N: usize, S, M> {
    c: &'a mut [[T; R]; N],
    a: &'a [[T; R]; K],
    sums: Sums<'a, T, R>,
    s: S,
    then: Option<(&'a mut [[T; R]; N], M)>,
}

impl<T, const R: usize, const K: usize, const N: usize, S, M> Tiles<'_, T, R, K, N, S, M>
where
    T: Real,
    S: Fn(usize, usize) -> T,
    M: Fn(T) -> T,
{
    /// Every tile of `C`: full-height tiles (two registers of rows), then tiles of half the
    /// height, and so on down to one row.
    #[inline(always)]
    fn run<V: InstructionSet>(mut self) {
        // Rows per full tile: two registers (a generic const expression cannot divide by
        // size_of::<T>()).
        let lanes = V::VECTOR_BYTES / size_of::<T>();
        let wide = V::FUSED_MULTIPLY_ADD && V::VECTOR_BYTES >= 64;
        let mut row = 0;
        if 2 * lanes >= 32 {
            row = if wide {
                self.rows::<V, 32, WIDE_TILE_COLUMNS>(row)
            } else {
                self.rows::<V, 32, TILE_COLUMNS>(row)
            };
        }
        if 2 * lanes >= 16 {
            // Full height for f64 in AVX-512 (two registers of 8), half height for f32.
            row = if wide && 2 * lanes == 16 {
                self.rows::<V, 16, WIDE_TILE_COLUMNS>(row)
            } else {
                self.rows::<V, 16, TILE_COLUMNS>(row)
            };
        }
        row = self.rows::<V, 8, TILE_COLUMNS>(row);
        row = self.rows::<V, 4, TILE_COLUMNS>(row);
        self.rows::<V, 1, TILE_COLUMNS>(row);
    }

    /// The rows from `start` in tiles of `RB` rows by `CB` columns, as many as fit; the columns
    /// they leave in tiles of [`TILE_COLUMNS`] (where `CB` is wider), then one at a time. Returns
    /// the first row left.
    ///
    /// This and [`tile`](Self::tile) are not forced inline in debug builds, as
    /// `gemv_add_blocks`: BPTT's outer products of every model of the property tests, in three
    /// instruction-set copies, go through them (forced, the property-test targets did not
    /// compile on a VM of 23 GB, the build failing after 13 minutes; not forced, one compiles in
    /// 78 s and 4.3 GB).
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn rows<V: InstructionSet, const RB: usize, const CB: usize>(&mut self, start: usize) -> usize {
        let blocks = (R - start) / RB;
        for block in 0..blocks {
            let mut j0 = 0;
            while j0 + CB <= N {
                self.tile::<V, RB, CB>(start, block, j0);
                j0 += CB;
            }
            if CB > TILE_COLUMNS {
                while j0 + TILE_COLUMNS <= N {
                    self.tile::<V, RB, TILE_COLUMNS>(start, block, j0);
                    j0 += TILE_COLUMNS;
                }
            }
            while j0 < N {
                self.tile::<V, RB, 1>(start, block, j0);
                j0 += 1;
            }
        }
        start + blocks * RB
    }

    /// One tile: rows `start + RB·block ..` of columns `j0 .. j0 + CB` of `C`, `RB × CB`
    /// accumulators in registers over every `p`, `C` loaded (for [`Sums::InOrder`]) and stored
    /// once, and `D`'s entries from it (if there is a `D`).
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn tile<V: InstructionSet, const RB: usize, const CB: usize>(
        &mut self,
        start: usize,
        block: usize,
        j0: usize,
    ) {
        let mut tile = [[T::zero(); RB]; CB];
        // The bias is stored here and added to below as `C` is: taking it in the loop that
        // stores the tile (`c_ij = b_i + t`) made the compiler keep the tile on the stack, one
        // scalar at a time (4–5× slower; BENCHMARKS.md, lever 44).
        if let Sums::Biased(bias) = self.sums {
            let b_block = &bias[start..].as_chunks::<RB>().0[block];
            for jj in 0..CB {
                self.c[j0 + jj][start..].as_chunks_mut::<RB>().0[block] = *b_block;
            }
        }
        if let Sums::InOrder = self.sums {
            for (jj, column) in tile.iter_mut().enumerate() {
                *column = self.c[j0 + jj][start..].as_chunks::<RB>().0[block];
            }
        }
        for (p, a_p) in self.a.iter().enumerate() {
            let a_p = &a_p[start..].as_chunks::<RB>().0[block];
            for (jj, column) in tile.iter_mut().enumerate() {
                let s_pj = (self.s)(p, j0 + jj);
                for (t, &a_ip) in column.iter_mut().zip(a_p) {
                    *t = multiply_add::<V, T>(a_ip, s_pj, *t);
                }
            }
        }
        for (jj, column) in tile.iter().enumerate() {
            let c_block = &mut self.c[j0 + jj][start..].as_chunks_mut::<RB>().0[block];
            match self.sums {
                Sums::Scaled(alpha) => {
                    for (c_ij, &t) in c_block.iter_mut().zip(column) {
                        *c_ij += alpha * t;
                    }
                }
                Sums::InOrder => *c_block = *column,
                Sums::Biased(_) => {
                    for (c_ij, &t) in c_block.iter_mut().zip(column) {
                        *c_ij += t;
                    }
                }
            }
        }
        // A loop of its own, reading back the block just stored: `f` in the loop above made the
        // compiler keep the tile on the stack, one scalar at a time (lever 44, as for the bias).
        if let Some((d, f)) = &mut self.then {
            for j in j0..j0 + CB {
                let c_block = &self.c[j][start..].as_chunks::<RB>().0[block];
                let d_block = &mut d[j][start..].as_chunks_mut::<RB>().0[block];
                for (d_ij, &c_ij) in d_block.iter_mut().zip(c_block) {
                    *d_ij = f(c_ij);
                }
            }
        }
    }
}

/// A value aligned to a cache line on x86-64 (64 bytes, an AVX-512 register), as
/// [`Params`](crate::Params) is: for the kernels' operands that live on the stack.
#[derive(Clone, Copy)]
#[cfg_attr(target_arch = "x86_64", repr(align(64)))]
pub(crate) struct CacheAligned<T>(pub(crate) T);

/// `a·b + c`, fused (one rounding) where `V` says so, else a product then a sum.
#[inline(always)]
fn multiply_add<V: InstructionSet, T: Real>(a: T, b: T, c: T) -> T {
    if V::FUSED_MULTIPLY_ADD {
        a.mul_add(b, c)
    } else {
        c + a * b
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::Separate;

    /// `y + W x` by [`gemv_add`] with the kernels of `V`: against nalgebra's own product to
    /// `tolerance` (normwise), and bit for bit against the documented order, the four partial
    /// sums `s_k` over the columns `j ≡ k (mod 4)`, combined as `(s₀ + s₁) + (s₂ + s₃)`,
    /// written out plainly here.
    fn gemv_product<V: InstructionSet, T: Real, const R: usize, const C: usize>(
        tolerance: f64,
    ) -> SVector<T, R> {
        let w =
            SMatrix::<T, R, C>::from_fn(|i, j| crate::scalar::constant(((i * 5 + j) as f64).sin()));
        let x = SVector::<T, C>::from_fn(|j, _| crate::scalar::constant((j as f64).cos()));
        let y0 = SVector::<T, R>::from_fn(|i, _| crate::scalar::constant(i as f64));
        let mut y = y0;
        gemv_add::<V, _, _, _>(&mut y, &w, &x);
        let expected = y0 + w * x;
        let error = crate::scalar::to_f64((y - expected).amax());
        let scale = crate::scalar::to_f64(expected.amax());
        let fused = V::FUSED_MULTIPLY_ADD;
        assert!(
            error <= tolerance * scale,
            "{R}×{C}, fused {fused}: error {error:e}"
        );
        for i in 0..R {
            let mut sums = [y0[i], T::zero(), T::zero(), T::zero()];
            for j in 0..C {
                let s = &mut sums[j % 4];
                *s = if fused {
                    w[(i, j)].mul_add(x[j], *s)
                } else {
                    *s + w[(i, j)] * x[j]
                };
            }
            let in_order = (sums[0] + sums[1]) + (sums[2] + sums[3]);
            assert!(
                y[i] == in_order,
                "{R}×{C}, fused {fused}, row {i}: not in the documented order"
            );
        }
        y
    }

    /// [`gemv_product`] for every register width, separate and (with the `fma` feature) fused:
    /// the same bits at every width.
    fn check_gemv<T: Real, const R: usize, const C: usize>(tolerance: f64) {
        let separate = [
            gemv_product::<Separate<16>, T, R, C>(tolerance),
            gemv_product::<Separate<32>, T, R, C>(tolerance),
            gemv_product::<Separate<64>, T, R, C>(tolerance),
        ];
        assert!(
            separate.iter().all(|y| *y == separate[0]),
            "{R}×{C}: widths differ"
        );
        #[cfg(all(feature = "fma", target_arch = "x86_64"))]
        {
            use crate::dispatch::Fused;
            let fused = [
                gemv_product::<Fused<16>, T, R, C>(tolerance),
                gemv_product::<Fused<32>, T, R, C>(tolerance),
                gemv_product::<Fused<64>, T, R, C>(tolerance),
            ];
            assert!(
                fused.iter().all(|y| *y == fused[0]),
                "{R}×{C}: fused widths differ"
            );
        }
    }

    #[test]
    fn gemv_add_equals_the_matrix_product() {
        check_gemv::<f64, 1, 1>(1e-14);
        check_gemv::<f64, 5, 3>(1e-14);
        check_gemv::<f64, 16, 16>(1e-14);
        check_gemv::<f64, 37, 11>(1e-14);
        check_gemv::<f64, 130, 64>(1e-14);
        check_gemv::<f32, 8, 32>(1e-6);
        check_gemv::<f32, 32, 2>(1e-6);
        check_gemv::<f32, 32, 48>(1e-6);
        check_gemv::<f32, 45, 7>(1e-6);
        check_gemv::<f32, 63, 13>(1e-6);
        check_gemv::<f32, 128, 128>(1e-6);
    }

    /// `G + Σ_k u_k v_kᵀ` by [`ger_k_add`] with the kernels of `V`: against nalgebra's products
    /// to `tolerance` (normwise), and bit for bit against the terms added in order of `k`.
    fn ger_k_product<V: InstructionSet, T: Real, const R: usize, const C: usize>(
        tolerance: f64,
    ) -> SMatrix<T, R, C> {
        let c = crate::scalar::constant::<T>;
        let g0 = SMatrix::<T, R, C>::from_fn(|i, j| c((i + 2 * j) as f64 * 0.01));
        let us: [SVector<T, R>; 3] =
            core::array::from_fn(|k| SVector::from_fn(|i, _| c(((i + 3 * k) as f64).sin())));
        let vs: [SVector<T, C>; 3] =
            core::array::from_fn(|k| SVector::from_fn(|j, _| c(((j * 2 + k) as f64).cos())));
        let mut g = g0;
        ger_k_add::<V, _, _, _, _>(&mut g, [&us[0], &us[1], &us[2]], [&vs[0], &vs[1], &vs[2]]);
        let expected =
            g0 + us[0] * vs[0].transpose() + us[1] * vs[1].transpose() + us[2] * vs[2].transpose();
        let error = crate::scalar::to_f64((g - expected).amax());
        let scale = crate::scalar::to_f64(expected.amax());
        let fused = V::FUSED_MULTIPLY_ADD;
        assert!(
            error <= tolerance * scale,
            "{R}×{C}, fused {fused}: error {error:e}"
        );
        let in_order = SMatrix::<T, R, C>::from_fn(|i, j| {
            (0..3).fold(g0[(i, j)], |sum, k| {
                let (u, v) = (us[k][i], vs[k][j]);
                if fused {
                    u.mul_add(v, sum)
                } else {
                    sum + u * v
                }
            })
        });
        assert!(g == in_order, "{R}×{C}, fused {fused}: not in order of k");
        g
    }

    /// [`ger_k_product`] for every register width, separate and (with the `fma` feature) fused.
    fn check_ger_k<T: Real, const R: usize, const C: usize>(tolerance: f64) {
        let separate = [
            ger_k_product::<Separate<16>, T, R, C>(tolerance),
            ger_k_product::<Separate<32>, T, R, C>(tolerance),
            ger_k_product::<Separate<64>, T, R, C>(tolerance),
        ];
        assert!(
            separate.iter().all(|g| *g == separate[0]),
            "{R}×{C}: widths differ"
        );
        #[cfg(all(feature = "fma", target_arch = "x86_64"))]
        {
            use crate::dispatch::Fused;
            let fused = [
                ger_k_product::<Fused<16>, T, R, C>(tolerance),
                ger_k_product::<Fused<32>, T, R, C>(tolerance),
                ger_k_product::<Fused<64>, T, R, C>(tolerance),
            ];
            assert!(
                fused.iter().all(|g| *g == fused[0]),
                "{R}×{C}: fused widths differ"
            );
        }
    }

    #[test]
    fn ger_k_add_adds_the_outer_products() {
        check_ger_k::<f64, 1, 1>(1e-14);
        check_ger_k::<f64, 8, 32>(1e-14);
        check_ger_k::<f64, 37, 5>(1e-14);
        check_ger_k::<f64, 64, 16>(1e-14);
        check_ger_k::<f32, 32, 32>(1e-6);
        check_ger_k::<f32, 45, 3>(1e-6);
        check_ger_k::<f32, 32, 13>(1e-6); // a wide tile of 8 columns, one of 4, one column
        check_ger_k::<f32, 128, 64>(1e-6);
    }

    /// The operands of the matrix–matrix kernel tests: `A`, `B`, `C₀`, `α`.
    #[allow(clippy::type_complexity)]
    fn gemm_operands<T: Real, const R: usize, const K: usize, const N: usize>()
    -> (SMatrix<T, R, K>, SMatrix<T, K, N>, SMatrix<T, R, N>, T) {
        let c = crate::scalar::constant::<T>;
        (
            SMatrix::from_fn(|i, p| c(((i * 7 + p * 3) as f64).sin())),
            SMatrix::from_fn(|p, j| c(((p * 5 + j) as f64).cos())),
            SMatrix::from_fn(|i, j| c((i + 2 * j) as f64 * 0.01)),
            c(-0.375),
        )
    }

    /// `C₀ + A B` by [`gemm_add`] and `C₀ + α A Bᵀ` by [`gemm_nt_add`] (given `Bᵀ`), with the
    /// kernels of `V`, each checked against nalgebra's product to `tolerance` (normwise); and
    /// `b 1ᵀ + A B` by [`gemm_biased`], and `C₀ + A B` with `f` of it by [`gemm_add_then`], each
    /// checked bit for bit against the passes they replace (`C` set to `b 1ᵀ`, then
    /// [`gemm_add`]; [`gemm_add`], then `f` entry by entry).
    fn gemm_products<V: InstructionSet, T: Real, const R: usize, const K: usize, const N: usize>(
        tolerance: f64,
    ) -> (SMatrix<T, R, N>, SMatrix<T, R, N>) {
        let (a, b, c0, alpha) = gemm_operands::<T, R, K, N>();
        let size = |m: SMatrix<T, R, N>| crate::scalar::to_f64(m.amax());
        let check = |product: SMatrix<T, R, N>, expected: SMatrix<T, R, N>, what: &str| {
            let error = size(product - expected);
            assert!(
                error <= tolerance * size(expected),
                "{what}, {R}×{K}×{N}, {} bytes, fused {}: error {error:e}",
                V::VECTOR_BYTES,
                V::FUSED_MULTIPLY_ADD
            );
            product
        };
        let (mut nn, mut nt) = (c0, c0);
        gemm_add::<V, _, _, _, _>(&mut nn, &a, &b);
        gemm_nt_add::<V, _, _, _, _>(&mut nt, alpha, &a, &b.transpose());

        let bias = c0.column(N / 2).into_owned();
        let mut biased = SMatrix::repeat(crate::scalar::constant::<T>(f64::NAN));
        gemm_biased::<V, _, _, _, _>(&mut biased, &bias, &a, &b);
        let mut two_passes = SMatrix::from_fn(|i, _| bias[i]);
        gemm_add::<V, _, _, _, _>(&mut two_passes, &a, &b);
        assert!(same_bits(&biased, &two_passes), "b 1ᵀ + A B, {R}×{K}×{N}");

        let f = |x: T| x * x - x.abs();
        let (mut then, mut d) = (c0, SMatrix::repeat(crate::scalar::constant::<T>(f64::NAN)));
        gemm_add_then::<V, _, _, _, _>(&mut then, &a, &b, &mut d, f);
        assert!(same_bits(&then, &nn), "C + A B with f after, {R}×{K}×{N}");
        assert!(same_bits(&d, &nn.map(f)), "f(C + A B), {R}×{K}×{N}");
        (
            check(nn, c0 + a * b, "A B"),
            check(nt, c0 + a * b * alpha, "α A Bᵀ"),
        )
    }

    /// Whether two matrices hold the same numbers bit for bit.
    fn same_bits<T: Real, const R: usize, const N: usize>(
        x: &SMatrix<T, R, N>,
        y: &SMatrix<T, R, N>,
    ) -> bool {
        x.iter().zip(y.iter()).all(|(x, y)| {
            crate::scalar::to_f64(*x).to_bits() == crate::scalar::to_f64(*y).to_bits()
        })
    }

    /// `C + A B` and `G + α A Bᵀ` against nalgebra's products, for shapes on, off and below the
    /// tile sizes (rows: two vector registers; columns: `TILE_COLUMNS`), and the same bits for
    /// every register width the tiles are sized for — separate, and (with the `fma` feature)
    /// fused.
    fn check_gemm<T: Real, const R: usize, const K: usize, const N: usize>(tolerance: f64) {
        let separate = [
            gemm_products::<Separate<16>, T, R, K, N>(tolerance),
            gemm_products::<Separate<32>, T, R, K, N>(tolerance),
            gemm_products::<Separate<64>, T, R, K, N>(tolerance),
        ];
        assert!(
            separate.iter().all(|r| *r == separate[0]),
            "{R}×{K}×{N}: widths differ"
        );
        #[cfg(all(feature = "fma", target_arch = "x86_64"))]
        {
            use crate::dispatch::Fused;
            let fused = [
                gemm_products::<Fused<16>, T, R, K, N>(tolerance),
                gemm_products::<Fused<32>, T, R, K, N>(tolerance),
                gemm_products::<Fused<64>, T, R, K, N>(tolerance),
            ];
            assert!(
                fused.iter().all(|r| *r == fused[0]),
                "{R}×{K}×{N}: fused widths differ"
            );
        }
    }

    /// The fused kernels really fuse: on a product of 64 terms per entry some entries round
    /// differently from the separate ones, and each differs by at most the rounding of the
    /// products it skips, `|fused − separate| ≤ 2 K u Σ_p |a_ip b_pj| + u |c|` entrywise.
    #[test]
    #[cfg(all(feature = "fma", target_arch = "x86_64"))]
    fn fused_kernels_round_each_term_once() {
        use crate::dispatch::Fused;
        const R: usize = 128;
        const K: usize = 64;
        const N: usize = 32;
        let (separate, _) = gemm_products::<Separate<64>, f32, R, K, N>(1e-6);
        let (fused, _) = gemm_products::<Fused<64>, f32, R, K, N>(1e-6);
        assert!(separate != fused, "no entry rounds differently: not fused");
        let (a, b, _, _) = gemm_operands::<f32, R, K, N>();
        let magnitude = a.abs() * b.abs();
        let u = f32::EPSILON / 2.0;
        for ((f, s), m) in fused.iter().zip(separate.iter()).zip(magnitude.iter()) {
            let bound = 2.0 * K as f32 * u * m + u * s.abs();
            assert!((f - s).abs() <= bound, "{f} vs {s}: beyond {bound:e}");
        }
    }

    #[test]
    fn gemm_kernels_equal_the_matrix_products() {
        check_gemm::<f64, 1, 1, 1>(1e-14);
        check_gemm::<f64, 3, 5, 2>(1e-14);
        check_gemm::<f64, 8, 8, 8>(1e-14);
        check_gemm::<f64, 17, 9, 7>(1e-14);
        check_gemm::<f64, 64, 33, 32>(1e-14);
        check_gemm::<f32, 2, 8, 4>(1e-6);
        check_gemm::<f32, 16, 16, 5>(1e-6);
        check_gemm::<f32, 35, 12, 33>(1e-6);
        // 8-column tiles (fused AVX-512), then a 4-column tile, then one column: 8 + 4 + 1.
        check_gemm::<f32, 40, 12, 13>(1e-6);
        check_gemm::<f32, 32, 7, 12>(1e-6);
        check_gemm::<f32, 128, 64, 32>(1e-6);
    }

    #[test]
    fn ger_add_adds_the_outer_product() {
        let mut g = SMatrix::<f64, 19, 6>::from_fn(|i, j| (i + j) as f64);
        let before = g;
        let u = SVector::<f64, 19>::from_fn(|i, _| (i as f64).sin());
        let v = SVector::<f64, 6>::from_fn(|j, _| (j as f64).cos());
        ger_add(&mut g, &u, &v);
        let expected = before + u * v.transpose();
        assert!((g - expected).amax() <= 1e-14 * expected.amax());
    }
}
