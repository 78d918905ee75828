//! NADE (Larochelle & Murray, 2011): one hidden layer shared by every conditional,
//!
//! ```text
//! a_0 = c,   a_{i+1} = a_i + x_i W_i        (pre-activation, updated incrementally)
//! h_i = σ(a_i)                              (H sigmoid hidden units)
//! p(x_i = 1 | x_<i) = σ(b_i + V_i · h_i)
//! ```
//!
//! so a whole vector costs O(nH), and a 1 at position i adds one row W_i (only where x_i = 1).
//! Parameters `[c (H) | b (n) | W ((n−1) × H) | V (n × H)]`, row-major; W has no row for the
//! last position, which conditions nothing.

use rand_chacha::rand_core::RngCore;

use crate::math::{
    add_assign, add_scaled, prob_one, sigmoid_f32, sigmoid_into, sigmoid_slice, with_avx2,
};
use crate::sampling::{uniform, uniform_f32};

/// The NADE's sizes and weights.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Nade {
    pub(crate) n: usize,
    pub(crate) hidden: usize,
    pub(crate) params: Vec<f32>,
}

/// The four parameter blocks of a flat NADE parameter (or gradient) vector.
struct Parts<T> {
    c: T,
    b: T,
    w: T,
    v: T,
}

fn split(n: usize, hd: usize, p: &[f32]) -> Parts<&[f32]> {
    let (c, rest) = p.split_at(hd);
    let (b, rest) = rest.split_at(n);
    let (w, v) = rest.split_at((n - 1) * hd);
    Parts { c, b, w, v }
}

fn split_mut(n: usize, hd: usize, p: &mut [f32]) -> Parts<&mut [f32]> {
    let (c, rest) = p.split_at_mut(hd);
    let (b, rest) = rest.split_at_mut(n);
    let (w, v) = rest.split_at_mut((n - 1) * hd);
    Parts { c, b, w, v }
}

impl Nade {
    /// Parameters of a model on `n` bits with `hidden` units: H + n + (2n − 1)H.
    pub(crate) fn param_count(n: usize, hidden: usize) -> usize {
        hidden + n + (2 * n - 1) * hidden
    }

    /// Biases zero; W uniform in ±1/√n and V in ±1/√H (PyTorch's `Linear` initialisation).
    pub(crate) fn init(n: usize, hidden: usize, rng: &mut dyn RngCore) -> Self {
        let mut params = vec![0.0; Self::param_count(n, hidden)];
        let p = split_mut(n, hidden, &mut params);
        let sw = 1.0 / (n as f32).sqrt();
        for w in p.w.iter_mut() {
            *w = uniform_f32(rng, sw);
        }
        let sv = 1.0 / (hidden as f32).sqrt();
        for v in p.v.iter_mut() {
            *v = uniform_f32(rng, sv);
        }
        Self { n, hidden, params }
    }

    /// The blocks `(c, b, W, V)` of the parameters.
    pub(crate) fn blocks(&self) -> [&[f32]; 4] {
        let p = split(self.n, self.hidden, &self.params);
        [p.c, p.b, p.w, p.v]
    }

    /// The output biases b (one per position).
    pub(crate) fn output_bias_mut(&mut self) -> &mut [f32] {
        split_mut(self.n, self.hidden, &mut self.params).b
    }

    pub(crate) fn loglik_rows(&self, rows: &[u8], out: &mut [f64]) {
        let p = split(self.n, self.hidden, &self.params);
        nade_loglik_rows(self.n, self.hidden, p.c, p.b, p.w, p.v, rows, out);
    }

    pub(crate) fn logits(&self, x: &[u8], z: &mut [f32]) {
        let p = split(self.n, self.hidden, &self.params);
        nade_logits(self.n, self.hidden, p.c, p.b, p.w, p.v, x, z);
    }

    /// Samples x[k..] given x[..k].
    pub(crate) fn complete(&self, x: &mut [u8], k: usize, t: f64, rng: &mut dyn RngCore) {
        let p = split(self.n, self.hidden, &self.params);
        nade_complete(self.n, self.hidden, p.c, p.b, p.w, p.v, x, k, t, rng);
    }

    /// h_{n−1} = σ(c + Σ_{j<n−1} x_j W_j): the hidden units that predict the last bit, i.e.
    /// the representation of every bit but the last (W has no row for the last one).
    pub(crate) fn embed(&self, x: &[u8], out: &mut [f32]) {
        let p = split(self.n, self.hidden, &self.params);
        let mut a = p.c.to_vec();
        for (j, &xj) in x.iter().enumerate().take(self.n - 1) {
            if xj == 1 {
                add_assign(&mut a, &p.w[j * self.hidden..(j + 1) * self.hidden]);
            }
        }
        sigmoid_slice(&a, out);
    }

    /// Adds Σ_rows ∂(−log p)/∂θ to `grad`; returns Σ_rows −log p.
    pub(crate) fn grad_rows(&self, rows: &[u8], grad: &mut [f32]) -> f64 {
        let (n, hd) = (self.n, self.hidden);
        let p = split(n, hd, &self.params);
        let g = split_mut(n, hd, grad);
        nade_grad_rows(n, hd, p.c, p.b, p.w, p.v, rows, g.c, g.b, g.w, g.v)
    }
}

with_avx2! {
    /// log p(row) for each row of `rows` into `out`, by the incremental update. A 0 at
    /// position i leaves a (and so h) as it was: the H sigmoids are recomputed only after a 1.
    fn nade_loglik_rows<S>(
        n: usize,
        hd: usize,
        c: &[f32],
        b: &[f32],
        w: &[f32],
        v: &[f32],
        rows: &[u8],
        out: &mut [f64],
    ) {
        let mut a = vec![0.0f32; hd];
        let mut h = vec![0.0f32; hd];
        let mut z = vec![0.0f32; n];
        for (row, o) in rows.chunks_exact(n).zip(out.iter_mut()) {
            a.copy_from_slice(c);
            sigmoid_into(&a, &mut h);
            for i in 0..n {
                z[i] = b[i] + S::dot(&v[i * hd..(i + 1) * hd], &h);
                if row[i] == 1 && i + 1 < n {
                    add_sigmoid(&mut a, &w[i * hd..(i + 1) * hd], &mut h);
                }
            }
            *o = S::bits_loglik(&z, row);
        }
    }
}

/// a += w, then h = σ(a), in one pass.
#[inline(always)]
fn add_sigmoid(a: &mut [f32], w: &[f32], h: &mut [f32]) {
    for ((a, &w), h) in a.iter_mut().zip(w).zip(h.iter_mut()) {
        *a += w;
        *h = sigmoid_f32(*a);
    }
}

with_avx2! {
    /// The conditional logits b_i + V_i · h_i of `x` into `z`.
    fn nade_logits<S>(
        n: usize,
        hd: usize,
        c: &[f32],
        b: &[f32],
        w: &[f32],
        v: &[f32],
        x: &[u8],
        z: &mut [f32],
    ) {
        let mut a = c.to_vec();
        let mut h = vec![0.0f32; hd];
        sigmoid_into(&a, &mut h);
        for i in 0..n {
            z[i] = b[i] + S::dot(&v[i * hd..(i + 1) * hd], &h);
            if x[i] == 1 && i + 1 < n {
                add_sigmoid(&mut a, &w[i * hd..(i + 1) * hd], &mut h);
            }
        }
    }
}

with_avx2! {
    /// Ancestral sampling of x[k..] given x[..k] at temperature t.
    fn nade_complete<S>(
        n: usize,
        hd: usize,
        c: &[f32],
        b: &[f32],
        w: &[f32],
        v: &[f32],
        x: &mut [u8],
        k: usize,
        t: f64,
        rng: &mut dyn RngCore,
    ) {
        let mut a = c.to_vec();
        for (j, &xj) in x[..k].iter().enumerate() {
            if xj == 1 && j + 1 < n {
                add_assign(&mut a, &w[j * hd..(j + 1) * hd]);
            }
        }
        let mut h = vec![0.0f32; hd];
        sigmoid_into(&a, &mut h);
        for i in k..n {
            let z = b[i] + S::dot(&v[i * hd..(i + 1) * hd], &h);
            x[i] = u8::from(uniform(rng) < prob_one(f64::from(z), t));
            if x[i] == 1 && i + 1 < n {
                add_sigmoid(&mut a, &w[i * hd..(i + 1) * hd], &mut h);
            }
        }
    }
}

with_avx2! {
    /// Adds Σ_rows ∂(−log p)/∂θ to the gradient blocks; returns Σ_rows −log p.
    ///
    /// Positions between two 1s share one hidden vector h (a changes only after a 1), so the
    /// forward pass keeps one h per such segment and the backward pass sums g_i V_i over a
    /// segment before multiplying by σ'(a) = h(1 − h) once.
    fn nade_grad_rows<S>(
        n: usize,
        hd: usize,
        c: &[f32],
        b: &[f32],
        w: &[f32],
        v: &[f32],
        rows: &[u8],
        gc: &mut [f32],
        gb: &mut [f32],
        gw: &mut [f32],
        gv: &mut [f32],
    ) -> f64 {
        let mut a = vec![0.0f32; hd];
        // One hidden vector per segment: at most n of them.
        let mut hs = vec![0.0f32; n * hd];
        let mut z = vec![0.0f32; n];
        let mut da = vec![0.0f32; hd];
        let mut u = vec![0.0f32; hd];
        let mut nll = 0.0;
        for row in rows.chunks_exact(n) {
            // Forward: segment s holds h for the positions after the s-th 1.
            a.copy_from_slice(c);
            sigmoid_into(&a, &mut hs[..hd]);
            let mut seg = 0;
            for i in 0..n {
                z[i] = b[i] + S::dot(&v[i * hd..(i + 1) * hd], &hs[seg * hd..(seg + 1) * hd]);
                if row[i] == 1 && i + 1 < n {
                    seg += 1;
                    add_sigmoid(&mut a, &w[(i) * hd..(i + 1) * hd], &mut hs[seg * hd..(seg + 1) * hd]);
                }
            }
            nll -= S::bits_loglik(&z, row);
            // Backward: da accumulates ∂/∂a_k over k ≥ i, which is ∂/∂W_{i−1} when x_{i−1} = 1.
            da.fill(0.0);
            u.fill(0.0);
            for i in (0..n).rev() {
                let g = sigmoid_f32(z[i]) - f32::from(row[i]);
                gb[i] += g;
                let h = &hs[seg * hd..(seg + 1) * hd];
                add_scaled(&mut gv[i * hd..(i + 1) * hd], g, h);
                add_scaled(&mut u, g, &v[i * hd..(i + 1) * hd]);
                // Position i starts its segment: fold the segment's Σ g V into da.
                if i == 0 || row[i - 1] == 1 {
                    for ((d, uk), &hk) in da.iter_mut().zip(u.iter_mut()).zip(h) {
                        *d += *uk * (hk * (1.0 - hk));
                        *uk = 0.0;
                    }
                    if i > 0 {
                        add_assign(&mut gw[(i - 1) * hd..i * hd], &da);
                        seg -= 1;
                    }
                }
            }
            add_assign(gc, &da);
        }
        nll
    }
}
