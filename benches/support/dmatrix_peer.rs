//! The peer: the same Elman RNN (tanh hidden layer, softmax output, cross-entropy summed over
//! steps) written as a user of nalgebra's dynamic `DMatrix`/`DVector` would write it — operators
//! for the forward pass, `tr_mul` for the transposed products and `ger` for the outer-product
//! accumulations of BPTT, a `Vec` of states for the trace. Every vector is a heap allocation,
//! every dimension a run-time value.
//!
//! It computes exactly what `Rnn::forward` + `Rnn::backward` compute (`tests/dmatrix_peer.rs`
//! checks it against the crate), so the benches compare like with like.

use nalgebra::{DMatrix, DVector, RealField, SMatrix, SVector};
use static_rnn::{HiddenActivation, Rnn, Softmax};

/// `W_x`, `W_h`, `b_h`, `W_y`, `b_y`, heap-allocated.
#[derive(Clone, Debug)]
pub struct DynParams<T: RealField + Copy> {
    pub w_x: DMatrix<T>,
    pub w_h: DMatrix<T>,
    pub b_h: DVector<T>,
    pub w_y: DMatrix<T>,
    pub b_y: DVector<T>,
}

impl<T: RealField + Copy> DynParams<T> {
    /// All zeros, shaped for `input` inputs, `hidden` hidden units and `output` outputs.
    pub fn zeros(input: usize, hidden: usize, output: usize) -> Self {
        Self {
            w_x: DMatrix::zeros(hidden, input),
            w_h: DMatrix::zeros(hidden, hidden),
            b_h: DVector::zeros(hidden),
            w_y: DMatrix::zeros(output, hidden),
            b_y: DVector::zeros(output),
        }
    }
}

/// The recorded forward pass: `h_0 … h_T` and `ŷ_1 … ŷ_T`.
pub struct DynTrace<T: RealField + Copy> {
    pub hs: Vec<DVector<T>>,
    pub y_hats: Vec<DVector<T>>,
    pub logits: Vec<DVector<T>>,
}

fn dynamic<T: RealField + Copy, const R: usize, const C: usize>(
    m: &SMatrix<T, R, C>,
) -> DMatrix<T> {
    DMatrix::from_column_slice(R, C, m.as_slice())
}

/// Converts a static vector to a dynamic one.
pub fn dvector<T: RealField + Copy, const N: usize>(v: &SVector<T, N>) -> DVector<T> {
    DVector::from_column_slice(v.as_slice())
}

/// The dynamic copy of a static model's parameters.
pub fn from_static<const I: usize, const H: usize, const O: usize, F, T>(
    rnn: &Rnn<I, H, O, F, Softmax, T>,
) -> DynParams<T>
where
    F: HiddenActivation<T>,
    T: static_rnn::Real,
{
    let p = &rnn.params;
    DynParams {
        w_x: dynamic(&p.w_x),
        w_h: dynamic(&p.w_h),
        b_h: dvector(&p.b_h),
        w_y: dynamic(&p.w_y),
        b_y: dvector(&p.b_y),
    }
}

fn softmax<T: RealField + Copy>(a: &DVector<T>) -> DVector<T> {
    let m = a.max();
    let e = a.map(|v| (v - m).exp());
    let s = e.sum();
    e / s
}

impl<T: RealField + Copy> DynParams<T> {
    /// One streaming step: `h_t = tanh(W_h h_{t−1} + W_x x_t + b_h)`, `ŷ_t = softmax(W_y h_t + b_y)`.
    pub fn step(&self, h: &DVector<T>, x: &DVector<T>) -> (DVector<T>, DVector<T>) {
        let z = &self.w_h * h + &self.w_x * x + &self.b_h;
        let h = z.map(|v| v.tanh());
        let y_hat = softmax(&(&self.w_y * &h + &self.b_y));
        (h, y_hat)
    }

    /// The forward pass over `xs` from `h0`, recording states, logits and outputs.
    pub fn forward(&self, h0: &DVector<T>, xs: &[DVector<T>]) -> DynTrace<T> {
        let mut hs = Vec::with_capacity(xs.len() + 1);
        let mut logits = Vec::with_capacity(xs.len());
        let mut y_hats = Vec::with_capacity(xs.len());
        hs.push(h0.clone());
        for x in xs {
            let z = &self.w_h * hs.last().unwrap() + &self.w_x * x + &self.b_h;
            let h = z.map(|v| v.tanh());
            let a = &self.w_y * &h + &self.b_y;
            y_hats.push(softmax(&a));
            logits.push(a);
            hs.push(h);
        }
        DynTrace { hs, y_hats, logits }
    }

    /// BPTT with a target at every step: adds `∂L/∂θ` to `grads`, returns `L` and `∂L/∂h_0`.
    pub fn backward(
        &self,
        xs: &[DVector<T>],
        trace: &DynTrace<T>,
        ys: &[DVector<T>],
        grads: &mut DynParams<T>,
    ) -> (T, DVector<T>) {
        let one = T::one();
        let mut loss = T::zero();
        let mut dh_next = DVector::zeros(self.w_h.nrows());
        for t in (0..xs.len()).rev() {
            let (h, h_prev) = (&trace.hs[t + 1], &trace.hs[t]);
            // Softmax + cross-entropy from the logits: L_t = lse(a) Σy − y·a, δa = ŷ Σy − y.
            let a = &trace.logits[t];
            let m = a.max();
            let lse = m + a.map(|v| (v - m).exp()).sum().ln();
            loss += ys[t].sum() * lse - ys[t].dot(a);
            let da = &trace.y_hats[t] * ys[t].sum() - &ys[t];
            grads.w_y.ger(one, &da, h, one);
            grads.b_y += &da;
            let dh = self.w_y.tr_mul(&da) + &dh_next;
            let dz = dh.component_mul(&h.map(|v| one - v * v));
            grads.w_x.ger(one, &dz, &xs[t], one);
            grads.w_h.ger(one, &dz, h_prev, one);
            grads.b_h += &dz;
            dh_next = self.w_h.tr_mul(&dz);
        }
        (loss, dh_next)
    }
}
