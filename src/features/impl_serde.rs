//! `serde`: [`Serialize`] and [`Deserialize`] for [`Params`] and [`Rnn`].
//!
//! `Params` is a struct of its five tensors, `w_x`, `w_h`, `b_h`, `w_y`, `b_y`, each a flat
//! sequence of its scalars in nalgebra's column-major order (`W_x`'s first `H` numbers are its
//! first column). An `Rnn` is written exactly as its `Params`: the activations are part of the
//! type, not of the data, so the reader names them (`Rnn<I, H, O, F, G, T>`) and nothing checks
//! that they are the ones the model was trained with. A tensor of the wrong length is an error.

use crate::activation::{HiddenActivation, OutputActivation};
use crate::model::Rnn;
use crate::params::Params;
use crate::scalar::Real;
use nalgebra::{SMatrix, SVector};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The serialized form of [`Params`], borrowing the tensors.
#[derive(Serialize)]
#[serde(rename = "Params")]
struct ParamsRef<'a, const I: usize, const H: usize, const O: usize, T: Real + Serialize> {
    w_x: &'a SMatrix<T, H, I>,
    w_h: &'a SMatrix<T, H, H>,
    b_h: &'a SVector<T, H>,
    w_y: &'a SMatrix<T, O, H>,
    b_y: &'a SVector<T, O>,
}

/// The deserialized form of [`Params`], owning the tensors.
#[derive(Deserialize)]
#[serde(rename = "Params", deny_unknown_fields)]
struct ParamsOwned<const I: usize, const H: usize, const O: usize, T: Real> {
    w_x: SMatrix<T, H, I>,
    w_h: SMatrix<T, H, H>,
    b_h: SVector<T, H>,
    w_y: SMatrix<T, O, H>,
    b_y: SVector<T, O>,
}

/// A struct of the five tensors, each a flat column-major sequence.
impl<const I: usize, const H: usize, const O: usize, T> Serialize for Params<I, H, O, T>
where
    T: Real + Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ParamsRef {
            w_x: &self.w_x,
            w_h: &self.w_h,
            b_h: &self.b_h,
            w_y: &self.w_y,
            b_y: &self.b_y,
        }
        .serialize(serializer)
    }
}

/// The five tensors, each of exactly its length (otherwise an error).
impl<'de, const I: usize, const H: usize, const O: usize, T> Deserialize<'de> for Params<I, H, O, T>
where
    T: Real + Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let p = ParamsOwned::<I, H, O, T>::deserialize(deserializer)?;
        Ok(Params {
            w_x: p.w_x,
            w_h: p.w_h,
            b_h: p.b_h,
            w_y: p.w_y,
            b_y: p.b_y,
        })
    }
}

/// Exactly as its [`Params`]: the activations `F` and `G` are in the type, not in the data.
impl<const I: usize, const H: usize, const O: usize, F, G, T> Serialize for Rnn<I, H, O, F, G, T>
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    T: Real + Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.params.serialize(serializer)
    }
}

/// From its [`Params`]; the activations are the ones the reader's type names.
impl<'de, const I: usize, const H: usize, const O: usize, F, G, T> Deserialize<'de>
    for Rnn<I, H, O, F, G, T>
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    T: Real + Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Params::deserialize(deserializer).map(Self::from_params)
    }
}
