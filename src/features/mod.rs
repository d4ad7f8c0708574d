//! Trait impls for optional dependencies, one file per cargo feature (as glam lays them out).

#[cfg(feature = "serde")]
mod impl_serde;
