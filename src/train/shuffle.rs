//! Seeded shuffling: the Fisher–Yates shuffle over a caller's random number generator.

use rand_core::Rng;

/// A uniform draw from `{0, 1, …, n − 1}`, by Lemire's multiply-and-reject method.
///
/// For a random 64-bit word `x`, the 128-bit product `x·n` has a high word `⌊x·n / 2⁶⁴⌋` in
/// `[0, n)`. Each value is reached by `⌊2⁶⁴/n⌋` or `⌈2⁶⁴/n⌉` words; rejecting the words whose low
/// word is below `2⁶⁴ mod n` leaves exactly `⌊2⁶⁴/n⌋` for each, so the draw is exactly uniform
/// (Lemire, 2019, "Fast random integer generation in an interval"). A word is rejected with
/// probability `(2⁶⁴ mod n)/2⁶⁴ < n/2⁶⁴`, so almost always one `next_u64` is consumed.
///
/// # Panics
///
/// If `n = 0`.
///
/// ```
/// use rand_pcg::Pcg64Mcg;
/// use static_rnn::rand_core::SeedableRng;
/// use static_rnn::train::below;
/// let mut rng = Pcg64Mcg::seed_from_u64(3);
/// assert!((0..1000).all(|_| below(&mut rng, 6) < 6));
/// assert_eq!(below(&mut rng, 1), 0);
/// ```
pub fn below<R: Rng + ?Sized>(rng: &mut R, n: u64) -> u64 {
    assert!(n > 0, "below: the range {{0, …, n − 1}} is empty for n = 0");
    let mut product = u128::from(rng.next_u64()) * u128::from(n);
    if (product as u64) < n {
        // 2⁶⁴ mod n, computed without 128-bit division: (2⁶⁴ − n) mod n.
        let threshold = n.wrapping_neg() % n;
        while (product as u64) < threshold {
            product = u128::from(rng.next_u64()) * u128::from(n);
        }
    }
    (product >> 64) as u64
}

/// Shuffles `items` in place, every one of the `n!` orders equally likely: the Fisher–Yates
/// shuffle (Durstenfeld's version).
///
/// ```text
/// for i = n − 1 down to 1:   j ← uniform in {0, …, i};   swap items[i] and items[j]
/// ```
///
/// It consumes `n − 1` draws of [`below`] (about `n − 1` words of `rng`) and nothing else, so the
/// same generator state gives the same order on every platform, with or without `std`; no heap.
/// The training loop shuffles the indices of the training set with it at the start of every
/// epoch; a `#![no_std]` loop can do the same with an array of indices.
///
/// ```
/// use rand_pcg::Pcg64Mcg;
/// use static_rnn::rand_core::SeedableRng;
/// use static_rnn::train::shuffle;
///
/// let mut order: [usize; 8] = core::array::from_fn(|i| i);
/// shuffle(&mut Pcg64Mcg::seed_from_u64(1), &mut order);
/// let mut sorted = order;
/// sorted.sort();
/// assert_eq!(sorted, [0, 1, 2, 3, 4, 5, 6, 7]); // a permutation
///
/// // The same seed gives the same order.
/// let mut again: [usize; 8] = core::array::from_fn(|i| i);
/// shuffle(&mut Pcg64Mcg::seed_from_u64(1), &mut again);
/// assert_eq!(order, again);
/// ```
pub fn shuffle<R: Rng + ?Sized, X>(rng: &mut R, items: &mut [X]) {
    for i in (1..items.len()).rev() {
        // `i + 1 ≤ items.len() ≤ usize::MAX`, and a usize fits in a u64 on every target Rust has.
        let j = below(rng, i as u64 + 1) as usize;
        items.swap(i, j);
    }
}
