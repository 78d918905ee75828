//! FVSBN, the fully visible sigmoid belief network: each conditional is a logistic regression
//! on the bits before it, p(x_i = 1 | x_<i) = σ(b_i + Σ_{j<i} W_ij x_j).
//!
//! Parameters `[b (n) | W by columns]`. Column j holds the weights W_ij of the later positions
//! i > j contiguously, so that a 1 at position j adds one contiguous slice to the logits: the
//! bits pick the columns, a 0 costs nothing. Each column is padded to whole blocks of 8 (it
//! starts at the multiple of 8 at or below j + 1 and ends at n rounded up to 8), so that the add
//! is whole AVX registers; the padding holds zeros that training never changes.

use rand_chacha::rand_core::RngCore;

use crate::math::{add_assign, prob_one, sigmoid_f32, sigmoid_slice, with_avx2};
use crate::sampling::{uniform, uniform_f32};

/// Columns are padded to multiples of this many floats.
const BLOCK: usize = 8;

/// The FVSBN's sizes and weights.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fvsbn {
    pub(crate) n: usize,
    /// `[b (n) | padded columns]`.
    pub(crate) params: Vec<f32>,
    /// The layout of the padded columns.
    layout: Layout,
}

/// Where column j lies: positions `first[j]..padded_n` at `offset[j]..offset[j + 1]` of the
/// weights (the parameters after the n biases).
#[derive(Debug, Clone, PartialEq)]
struct Layout {
    padded_n: usize,
    first: Vec<usize>,
    offset: Vec<usize>,
}

impl Layout {
    fn new(n: usize) -> Self {
        let padded_n = n.next_multiple_of(BLOCK);
        let first: Vec<usize> = (0..n).map(|j| (j + 1) / BLOCK * BLOCK).collect();
        let mut offset = Vec::with_capacity(n + 1);
        let mut at = 0;
        offset.push(at);
        for &f in &first {
            at += padded_n - f;
            offset.push(at);
        }
        Self {
            padded_n,
            first,
            offset,
        }
    }

    /// Stored weights (real and padding).
    fn len(&self) -> usize {
        self.offset.last().copied().unwrap_or(0)
    }
}

impl Fvsbn {
    /// Parameters of a model on `n` bits: n biases and n(n−1)/2 weights.
    pub(crate) fn param_count(n: usize) -> usize {
        n + n * (n - 1) / 2
    }

    /// Biases zero, weights uniform in ±1/√n (PyTorch's `Linear` initialisation), drawn column
    /// by column.
    pub(crate) fn init(n: usize, rng: &mut dyn RngCore) -> Self {
        let scale = 1.0 / (n as f32).sqrt();
        let mut dense = vec![0.0; n * n];
        for j in 0..n {
            for i in j + 1..n {
                dense[i * n + j] = uniform_f32(rng, scale);
            }
        }
        Self::from_parts(n, vec![0.0; n], &dense)
    }

    fn from_parts(n: usize, bias: Vec<f32>, dense: &[f32]) -> Self {
        let layout = Layout::new(n);
        let mut params = bias;
        params.resize(n + layout.len(), 0.0);
        for j in 0..n {
            let col = &mut params[n + layout.offset[j]..n + layout.offset[j + 1]];
            for (k, w) in col.iter_mut().enumerate() {
                let i = layout.first[j] + k;
                if i > j && i < n {
                    *w = dense[i * n + j];
                }
            }
        }
        Self { n, params, layout }
    }

    /// Sets the padding back to zero (for tests that write every parameter).
    #[cfg(test)]
    pub(crate) fn zero_padding(&mut self) {
        *self = Self::from_parts(self.n, self.params[..self.n].to_vec(), &self.dense_weight());
    }

    /// Weights W_ij (j < i), row-major in a dense n × n matrix with zeros on and above the
    /// diagonal (the layout stored in files).
    pub(crate) fn dense_weight(&self) -> Vec<f32> {
        let (n, l) = (self.n, &self.layout);
        let mut dense = vec![0.0; n * n];
        for j in 0..n {
            let col = &self.params[n + l.offset[j]..n + l.offset[j + 1]];
            for (k, &w) in col.iter().enumerate() {
                let i = l.first[j] + k;
                if i > j && i < n {
                    dense[i * n + j] = w;
                }
            }
        }
        dense
    }

    /// The model from biases and a dense weight matrix; `None` if an entry on or above the
    /// diagonal is not zero.
    pub(crate) fn from_dense(n: usize, bias: Vec<f32>, dense: &[f32]) -> Option<Self> {
        let upper_is_zero = (0..n).all(|i| dense[i * n + i..(i + 1) * n].iter().all(|&w| w == 0.0));
        upper_is_zero.then(|| Self::from_parts(n, bias, dense))
    }

    pub(crate) fn loglik_rows(&self, rows: &[u8], out: &mut [f64]) {
        let l = &self.layout;
        fvsbn_loglik_rows(
            self.n,
            l.padded_n,
            &l.first,
            &l.offset,
            &self.params,
            rows,
            out,
        );
    }

    pub(crate) fn logits(&self, x: &[u8], z: &mut [f32]) {
        let l = &self.layout;
        let mut padded = vec![0.0f32; l.padded_n];
        let mut ones = vec![0u32; self.n];
        logits_into(
            self.n,
            &l.first,
            &l.offset,
            &self.params,
            x,
            &mut padded,
            &mut ones,
        );
        z.copy_from_slice(&padded[..self.n]);
    }

    /// Samples x[k..] given x[..k].
    pub(crate) fn complete(&self, x: &mut [u8], k: usize, t: f64, rng: &mut dyn RngCore) {
        let l = &self.layout;
        fvsbn_complete(
            self.n,
            l.padded_n,
            &l.first,
            &l.offset,
            &self.params,
            x,
            k,
            t,
            rng,
        );
    }

    /// p(x_i = 1 | x_<i) for every i.
    pub(crate) fn embed(&self, x: &[u8], out: &mut [f32]) {
        let mut z = vec![0.0f32; self.n];
        self.logits(x, &mut z);
        sigmoid_slice(&z, out);
    }

    /// Adds Σ_rows ∂(−log p)/∂θ to `grad`; returns Σ_rows −log p. The padding's gradient is 0.
    pub(crate) fn grad_rows(&self, rows: &[u8], grad: &mut [f32]) -> f64 {
        let l = &self.layout;
        fvsbn_grad_rows(
            self.n,
            l.padded_n,
            &l.first,
            &l.offset,
            &self.params,
            rows,
            grad,
        )
    }
}

/// Writes the conditional logits of `x` into `z` (length padded n); `ones` is scratch of
/// length n. Returns how many ones `x` has (their positions are `ones[..count]`).
#[inline(always)]
fn logits_into(
    n: usize,
    first: &[usize],
    offset: &[usize],
    params: &[f32],
    x: &[u8],
    z: &mut [f32],
    ones: &mut [u32],
) -> usize {
    let (b, w) = params.split_at(n);
    z[..n].copy_from_slice(b);
    z[n..].fill(0.0);
    // The positions of the ones, without a branch per bit.
    let mut count = 0;
    for (j, &xj) in x.iter().enumerate() {
        ones[count] = j as u32;
        count += usize::from(xj);
    }
    for &j in &ones[..count] {
        let j = j as usize;
        add_blocks(&mut z[first[j]..], &w[offset[j]..offset[j + 1]]);
    }
    count
}

/// dst += src for slices of whole blocks of 8.
#[inline(always)]
fn add_blocks(dst: &mut [f32], src: &[f32]) {
    for (d, s) in dst.chunks_exact_mut(BLOCK).zip(src.chunks_exact(BLOCK)) {
        for k in 0..BLOCK {
            d[k] += s[k];
        }
    }
}

with_avx2! {
    /// log p(row) for each row of `rows` into `out`.
    fn fvsbn_loglik_rows<S>(
        n: usize,
        padded_n: usize,
        first: &[usize],
        offset: &[usize],
        params: &[f32],
        rows: &[u8],
        out: &mut [f64],
    ) {
        let mut z = vec![0.0f32; padded_n];
        let mut ones = vec![0u32; n];
        for (row, o) in rows.chunks_exact(n).zip(out.iter_mut()) {
            logits_into(n, first, offset, params, row, &mut z, &mut ones);
            *o = S::bits_loglik(&z[..n], row);
        }
    }
}

with_avx2! {
    /// Ancestral sampling of x[k..] given x[..k] at temperature t.
    fn fvsbn_complete<S>(
        n: usize,
        padded_n: usize,
        first: &[usize],
        offset: &[usize],
        params: &[f32],
        x: &mut [u8],
        k: usize,
        t: f64,
        rng: &mut dyn RngCore,
    ) {
        let (b, w) = params.split_at(n);
        let mut z = vec![0.0f32; padded_n];
        z[..n].copy_from_slice(b);
        for j in 0..n {
            if j >= k {
                x[j] = u8::from(uniform(rng) < prob_one(f64::from(z[j]), t));
            }
            if x[j] == 1 {
                add_blocks(&mut z[first[j]..], &w[offset[j]..offset[j + 1]]);
            }
        }
    }
}

with_avx2! {
    /// Adds Σ_rows ∂(−log p)/∂θ to `grad` (same layout as the parameters); returns Σ −log p.
    fn fvsbn_grad_rows<S>(
        n: usize,
        padded_n: usize,
        first: &[usize],
        offset: &[usize],
        params: &[f32],
        rows: &[u8],
        grad: &mut [f32],
    ) -> f64 {
        let mut z = vec![0.0f32; padded_n];
        let mut ones = vec![0u32; n];
        let mut nll = 0.0;
        let (gb, gw) = grad.split_at_mut(n);
        for row in rows.chunks_exact(n) {
            let count = logits_into(n, first, offset, params, row, &mut z, &mut ones);
            nll -= S::bits_loglik(&z[..n], row);
            // ∂(−log p)/∂z_i = σ(z_i) − x_i, reused in z (0 in the padding).
            for (zi, &xi) in z.iter_mut().zip(row) {
                *zi = sigmoid_f32(*zi) - f32::from(xi);
            }
            z[n..].fill(0.0);
            add_assign(gb, &z[..n]);
            for &j in &ones[..count] {
                let j = j as usize;
                add_blocks(&mut gw[offset[j]..offset[j + 1]], &z[first[j]..]);
            }
        }
        // Positions first[j]..=j of column j are padding: keep their gradient at 0.
        for j in 0..n {
            let pad = j + 1 - first[j];
            gw[offset[j]..offset[j] + pad].fill(0.0);
        }
        nll
    }
}
