//! Seeded shuffling: `below` and `shuffle` by hand on scripted generators, then their
//! distributions against the uniform ones they promise (counts within 5 standard errors, so a
//! correct implementation fails about once in 3·10⁶ per count; a biased one fails at once).

use rand_pcg::Pcg64Mcg;
use static_rnn::rand_core::{Infallible, SeedableRng, TryRng};
use static_rnn::train::{below, shuffle};

/// A generator that returns the given words in turn, then panics.
struct Scripted<'a>(&'a [u64]);

impl TryRng for Scripted<'_> {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        unreachable!("below and shuffle draw 64-bit words only")
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let (&first, rest) = self.0.split_first().expect("the script ran out of words");
        self.0 = rest;
        Ok(first)
    }

    fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), Infallible> {
        unreachable!("below and shuffle draw 64-bit words only")
    }
}

#[test]
fn below_is_the_high_word_of_the_product() {
    // ⌊x·n / 2⁶⁴⌋ by hand: x = 2⁶³ + 2⁶⁰ is 9/16, so ⌊90/16⌋ = 5 for n = 10 (low word
    // 10·2⁶⁰ > 2⁶⁴ mod 10, kept); x = 2⁶⁴ − 1 gives n − 1.
    assert_eq!(below(&mut Scripted(&[(1 << 63) + (1 << 60)]), 10), 5);
    assert_eq!(below(&mut Scripted(&[u64::MAX]), 10), 9);
    assert_eq!(below(&mut Scripted(&[u64::MAX]), u64::MAX), u64::MAX - 1);
    // x = 2⁶⁴/3 rounded up (0x5555…56) times 3 just passes 2⁶⁴: high word 1.
    assert_eq!(below(&mut Scripted(&[0x5555_5555_5555_5556]), 3), 1);
}

#[test]
fn below_rejects_the_words_that_would_bias_it() {
    // n = 3: 2⁶⁴ mod 3 = 1 (2⁶⁴ = 4³² ≡ 1), so only x with x·3 ≡ 0 (mod 2⁶⁴), i.e. x = 0, is
    // rejected. 0 would give 0; the next word, 2⁶⁴ − 1, gives 2.
    assert_eq!(below(&mut Scripted(&[0, u64::MAX]), 3), 2);
    // n = 6: 2⁶⁴ mod 6 = 4. x = 0 (low word 0) is rejected; x = 1 (low word 6 ≥ 4) is kept.
    assert_eq!(below(&mut Scripted(&[0, 1]), 6), 0);
    // n = 2⁶³ + 1: 2⁶⁴ mod n = 2⁶³ − 1. x = 1 has low word n ≥ 2⁶³ − 1, kept, high word 0;
    // x = 2 has low word 2n mod 2⁶⁴ = 2 < 2⁶³ − 1, rejected.
    let n = (1 << 63) + 1;
    assert_eq!(below(&mut Scripted(&[1]), n), 0);
    assert_eq!(below(&mut Scripted(&[2, u64::MAX]), n), n - 1);
}

#[test]
#[should_panic(expected = "empty for n = 0")]
fn below_zero_panics() {
    below(&mut Pcg64Mcg::seed_from_u64(0), 0);
}

#[test]
fn shuffle_is_durstenfeld_by_hand() {
    // Every draw 0 (x = 1: high word 0, low word n, kept, for every n):
    // i = 3 swaps with 0, then i = 2, then i = 1: [0 1 2 3] → [3 1 2 0] → [2 1 3 0] → [1 2 3 0].
    let mut items = [0, 1, 2, 3];
    shuffle(&mut Scripted(&[1, 1, 1]), &mut items);
    assert_eq!(items, [1, 2, 3, 0]);
    // Every draw the largest (x = 2⁶⁴ − 1 gives i): each i swaps with itself.
    let mut items = [0, 1, 2, 3];
    shuffle(&mut Scripted(&[u64::MAX; 3]), &mut items);
    assert_eq!(items, [0, 1, 2, 3]);
    // Draws j = 1 (for i = 3, n = 4: x = 2⁶²), j = 2 (i = 2, n = 3: x = 2⁶⁴ − 1), j = 0 (i = 1):
    // [a b c d] → swap(3, 1) → [a d c b] → swap(2, 2) → [a d c b] → swap(1, 0) → [d a c b].
    let mut items = ['a', 'b', 'c', 'd'];
    shuffle(&mut Scripted(&[1 << 62, u64::MAX, 1]), &mut items);
    assert_eq!(items, ['d', 'a', 'c', 'b']);
}

#[test]
fn short_slices_draw_nothing() {
    // The scripted generator panics on any draw.
    shuffle::<_, u8>(&mut Scripted(&[]), &mut []);
    let mut one = [7];
    shuffle(&mut Scripted(&[]), &mut one);
    assert_eq!(one, [7]);
}

#[test]
fn shuffle_is_a_deterministic_permutation() {
    for seed in 0..20 {
        let mut order: Vec<usize> = (0..50).collect();
        shuffle(&mut Pcg64Mcg::seed_from_u64(seed), &mut order);
        let mut again: Vec<usize> = (0..50).collect();
        shuffle(&mut Pcg64Mcg::seed_from_u64(seed), &mut again);
        assert_eq!(order, again);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert_ne!(order, sorted, "50 items left in order: probability 1/50!");
    }
}

/// Whether `count` out of `trials` is within 5 standard errors of probability `p`.
fn plausible(count: usize, trials: usize, p: f64) -> bool {
    let mean = trials as f64 * p;
    let standard_error = (trials as f64 * p * (1.0 - p)).sqrt();
    (count as f64 - mean).abs() <= 5.0 * standard_error
}

#[test]
fn below_is_uniform() {
    let mut rng = Pcg64Mcg::seed_from_u64(11);
    for n in [2_u64, 3, 6, 7, 10] {
        let trials = 60_000;
        let mut counts = vec![0; n as usize];
        for _ in 0..trials {
            counts[below(&mut rng, n) as usize] += 1;
        }
        for (value, &count) in counts.iter().enumerate() {
            assert!(
                plausible(count, trials, 1.0 / n as f64),
                "n = {n}: {value} drawn {count} times in {trials}"
            );
        }
    }
    // A range so large that about half of all words are rejected: the result must still be
    // uniform, so its top half must hold half the draws.
    let n = (1_u64 << 63) + 1;
    let trials = 20_000;
    let upper = (0..trials).filter(|_| below(&mut rng, n) >= n / 2).count();
    assert!(
        plausible(upper, trials, 0.5),
        "{upper} of {trials} draws in the upper half"
    );
}

#[test]
fn every_order_is_equally_likely() {
    let mut rng = Pcg64Mcg::seed_from_u64(12);
    // 4 items: 24 orders, each with probability 1/24.
    let trials = 48_000;
    let mut counts = std::collections::HashMap::new();
    for _ in 0..trials {
        let mut items = [0_u8, 1, 2, 3];
        shuffle(&mut rng, &mut items);
        *counts.entry(items).or_insert(0) += 1;
    }
    assert_eq!(counts.len(), 24);
    for (order, &count) in &counts {
        assert!(
            plausible(count, trials, 1.0 / 24.0),
            "{order:?} came {count} times in {trials}"
        );
    }
    // 10 items: item i lands at position j with probability 1/10, for every i and j.
    let trials = 20_000;
    let mut at = [[0_usize; 10]; 10];
    for _ in 0..trials {
        let mut items: [usize; 10] = core::array::from_fn(|i| i);
        shuffle(&mut rng, &mut items);
        for (position, &item) in items.iter().enumerate() {
            at[item][position] += 1;
        }
    }
    for (item, row) in at.iter().enumerate() {
        for (position, &count) in row.iter().enumerate() {
            assert!(
                plausible(count, trials, 0.1),
                "item {item} at {position}: {count} of {trials}"
            );
        }
    }
}
