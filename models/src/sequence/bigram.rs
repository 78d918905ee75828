//! The bigram baseline: p(t_i | t_{i−1}) = (count(t_{i−1}, t_i) + α) / (count(t_{i−1}) + α·V),
//! the start token before the first token, the end token after the last.

use crate::sequence::vocab::END;

/// log p(next | previous) for every pair, [previous × next].
#[derive(Debug, Clone, PartialEq)]
pub struct Bigram {
    pub(crate) vocab: usize,
    pub(crate) log_probs: Vec<f32>,
}

impl Bigram {
    /// Counts the pairs of `rows` with pseudo-count `smoothing`.
    pub(crate) fn fit<'a>(
        vocab: usize,
        rows: impl IntoIterator<Item = &'a [u32]>,
        smoothing: f64,
    ) -> Self {
        let mut counts = vec![0u64; vocab * vocab];
        for row in rows {
            let mut prev = END as usize;
            for &t in row.iter().chain(std::iter::once(&END)) {
                counts[prev * vocab + t as usize] += 1;
                prev = t as usize;
            }
        }
        let mut log_probs = vec![0.0f32; vocab * vocab];
        for (lp, c) in log_probs
            .chunks_exact_mut(vocab)
            .zip(counts.chunks_exact(vocab))
        {
            let total = c.iter().sum::<u64>() as f64 + smoothing * vocab as f64;
            for (l, &k) in lp.iter_mut().zip(c) {
                *l = libm::log((k as f64 + smoothing) / total) as f32;
            }
        }
        Self { vocab, log_probs }
    }

    /// The log-probabilities of the token after `prev`.
    pub(crate) fn row(&self, prev: u32) -> &[f32] {
        let at = prev as usize * self.vocab;
        &self.log_probs[at..at + self.vocab]
    }
}
