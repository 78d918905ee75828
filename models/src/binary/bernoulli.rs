//! Independent pixels: p(x) = ∏ σ(±b_i), the baseline every other model must beat.

use rand_chacha::rand_core::RngCore;

use crate::math::{prob_one, sigmoid_f32, sigmoid_slice, with_avx2};
use crate::sampling::uniform;

/// One logit per position; parameters `[b (n)]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bernoulli {
    pub(crate) n: usize,
    pub(crate) params: Vec<f32>,
}

impl Bernoulli {
    /// Parameters of a model on `n` bits.
    pub(crate) fn param_count(n: usize) -> usize {
        n
    }

    /// All logits zero (every p = 1/2); training starts from the data's marginals instead.
    pub(crate) fn zeros(n: usize) -> Self {
        Self {
            n,
            params: vec![0.0; n],
        }
    }

    pub(crate) fn loglik_rows(&self, rows: &[u8], out: &mut [f64]) {
        bernoulli_loglik_rows(self.n, &self.params, rows, out);
    }

    pub(crate) fn logits(&self, _x: &[u8], z: &mut [f32]) {
        z.copy_from_slice(&self.params);
    }

    /// Samples x[k..] (the logits do not depend on x[..k]).
    pub(crate) fn complete(&self, x: &mut [u8], k: usize, t: f64, rng: &mut dyn RngCore) {
        bernoulli_complete(&self.params, x, k, t, rng);
    }

    /// p(x_i = 1) for every i: the same vector for every input.
    pub(crate) fn embed(&self, _x: &[u8], out: &mut [f32]) {
        sigmoid_slice(&self.params, out);
    }

    /// Adds Σ_rows ∂(−log p)/∂θ to `grad`; returns Σ_rows −log p.
    pub(crate) fn grad_rows(&self, rows: &[u8], grad: &mut [f32]) -> f64 {
        bernoulli_grad_rows(self.n, &self.params, rows, grad)
    }
}

with_avx2! {
    /// Samples x[k..] at temperature t.
    fn bernoulli_complete<S>(b: &[f32], x: &mut [u8], k: usize, t: f64, rng: &mut dyn RngCore) {
        for (xi, &z) in x.iter_mut().zip(b).skip(k) {
            *xi = u8::from(uniform(rng) < prob_one(f64::from(z), t));
        }
    }
}

with_avx2! {
    /// Adds Σ_rows ∂(−log p)/∂b = Σ_rows (σ(b) − x) to `grad`; returns Σ_rows −log p.
    fn bernoulli_grad_rows<S>(n: usize, b: &[f32], rows: &[u8], grad: &mut [f32]) -> f64 {
        let mut nll = 0.0;
        let p: Vec<f32> = b.iter().map(|&z| sigmoid_f32(z)).collect();
        for row in rows.chunks_exact(n) {
            nll -= S::bits_loglik(b, row);
            for ((g, &pi), &xi) in grad.iter_mut().zip(&p).zip(row) {
                *g += pi - f32::from(xi);
            }
        }
        nll
    }
}

with_avx2! {
    /// log p(row) for each row of `rows` into `out`.
    fn bernoulli_loglik_rows<S>(n: usize, b: &[f32], rows: &[u8], out: &mut [f64]) {
        for (row, o) in rows.chunks_exact(n).zip(out.iter_mut()) {
            *o = S::bits_loglik(b, row);
        }
    }
}
