//! The transformer over a packed batch: the forward pass, keeping what the backward pass
//! needs (a "tape"), the cross-entropy loss and the backward pass into a flat gradient.
//!
//! A batch's sequences sit back to back (no padding): T positions in all, each sequence
//! attending only within itself. Dense layers are one sgemm over all T rows.

use rand_chacha::rand_core::RngCore;

use super::Transformer;
use super::kernels::{
    HeadSlots, attend, attend_back, gelu, gelu_back, layer_norm, layer_norm_back,
};
use crate::math::{exp_f32, exp_neg_f64};
use crate::sequence::gemm::{matmul_nn, matmul_nt, matmul_tn_acc};
use crate::sequence::vocab::END;

/// Sequences packed for one pass: a sequence t_1..t_n is read as [end, t_1..t_n] and
/// predicts [t_1..t_n, end] (n + 1 positions).
#[derive(Debug, Default, Clone)]
pub(crate) struct Batch {
    pub(crate) inputs: Vec<u32>,
    pub(crate) targets: Vec<u32>,
    /// (first position, positions) of each sequence.
    pub(crate) seqs: Vec<(usize, usize)>,
    /// The RoPE position of every sequence's first token (0; tests shift it).
    pub(crate) offset: usize,
}

impl Batch {
    pub(crate) fn clear(&mut self) {
        self.inputs.clear();
        self.targets.clear();
        self.seqs.clear();
    }

    /// Appends a sequence; one longer than `context` positions keeps its first `context`
    /// (the caller decides whether that is allowed).
    pub(crate) fn push(&mut self, tokens: &[u32], context: usize) {
        let start = self.inputs.len();
        let positions = (tokens.len() + 1).min(context);
        self.inputs.push(END);
        self.inputs.extend_from_slice(&tokens[..positions - 1]);
        if positions == tokens.len() + 1 {
            self.targets.extend_from_slice(tokens);
            self.targets.push(END);
        } else {
            self.targets.extend_from_slice(&tokens[..positions]);
        }
        self.seqs.push((start, positions));
    }

    pub(crate) fn positions(&self) -> usize {
        self.inputs.len()
    }
}

/// What one block keeps for the backward pass.
#[derive(Debug, Default)]
struct LayerTape {
    xhat1: Vec<f32>,
    rstd1: Vec<f32>,
    a1: Vec<f32>,
    /// Queries and keys after RoPE, values.
    qkv: Vec<f32>,
    probs: Vec<f32>,
    y: Vec<f32>,
    xhat2: Vec<f32>,
    rstd2: Vec<f32>,
    a2: Vec<f32>,
    h1: Vec<f32>,
    g: Vec<f32>,
    /// Dropout multipliers (0 or 1/(1−p)) of the two residual branches; empty without.
    mask1: Vec<f32>,
    mask2: Vec<f32>,
}

/// Activations and scratch, reused from batch to batch.
#[derive(Debug, Default)]
pub(crate) struct Tape {
    /// The residual stream; after `forward`, the last block's output.
    pub(crate) x: Vec<f32>,
    layers: Vec<LayerTape>,
    xhat_f: Vec<f32>,
    rstd_f: Vec<f32>,
    a_f: Vec<f32>,
    /// [T, V] logits; `loss` turns them into their gradient.
    pub(crate) logits: Vec<f32>,
    tmp: Vec<f32>,
    dx: Vec<f32>,
    da: Vec<f32>,
    dy: Vec<f32>,
    dqkv: Vec<f32>,
    dh: Vec<f32>,
    dp: Vec<f32>,
    /// One head's keys or values, transposed.
    transposed: Vec<f32>,
}

/// `v` resized to `len`, its old values left in place (the caller overwrites them all).
fn sized(v: &mut Vec<f32>, len: usize) -> &mut [f32] {
    v.resize(len, 0.0);
    v
}

/// `v` resized to `len` and zeroed (the caller adds into it).
fn zeroed(v: &mut Vec<f32>, len: usize) -> &mut [f32] {
    v.clear();
    v.resize(len, 0.0);
    v
}

/// Every row of `m` (width `b.len()`) set to `b`.
fn fill_rows(m: &mut [f32], b: &[f32]) {
    for row in m.chunks_exact_mut(b.len()) {
        row.copy_from_slice(b);
    }
}

/// out += the column sums of `m` (width `out.len()`).
fn add_column_sums(m: &[f32], out: &mut [f32]) {
    for row in m.chunks_exact(out.len()) {
        for (o, &x) in out.iter_mut().zip(row) {
            *o += x;
        }
    }
}

impl Tape {
    /// The forward pass over `batch`, keeping activations; with `dropout` = (p, rng) the two
    /// residual branches of every block are dropped with probability p (training only).
    pub(crate) fn forward(
        &mut self,
        net: &Transformer,
        batch: &Batch,
        mut dropout: Option<(f32, &mut dyn RngCore)>,
    ) {
        let c = &net.config;
        let (d, m, v, heads, hd) = (c.d, c.mlp, c.vocab, c.heads, c.head_dim());
        let t = batch.positions();
        let p = &net.params;
        let lay = &net.layout;
        self.layers.resize_with(c.layers, LayerTape::default);

        let x = sized(&mut self.x, t * d);
        for (row, &tok) in x.chunks_exact_mut(d).zip(&batch.inputs) {
            let at = lay.embedding + tok as usize * d;
            row.copy_from_slice(&p[at..at + d]);
        }
        let probs_len: usize = batch.seqs.iter().map(|&(_, n)| n * n).sum::<usize>() * heads;
        let scale = 1.0 / (hd as f32).sqrt();

        for (b, lt) in lay.blocks.iter().zip(&mut self.layers) {
            // Attention branch.
            layer_norm(
                &self.x,
                d,
                &p[b.ln1_w..b.ln1_w + d],
                &p[b.ln1_b..b.ln1_b + d],
                sized(&mut lt.xhat1, t * d),
                sized(&mut lt.rstd1, t),
                sized(&mut lt.a1, t * d),
            );
            let qkv = sized(&mut lt.qkv, t * 3 * d);
            fill_rows(qkv, &p[b.qkv_b..b.qkv_b + 3 * d]);
            matmul_nt(
                t,
                d,
                3 * d,
                &lt.a1,
                &p[b.qkv_w..b.qkv_w + 3 * d * d],
                1.0,
                qkv,
            );
            for &(start, len) in &batch.seqs {
                for pos in 0..len {
                    let row = &mut qkv[(start + pos) * 3 * d..(start + pos + 1) * 3 * d];
                    for h in 0..2 * heads {
                        net.rope
                            .rotate(&mut row[h * hd..(h + 1) * hd], batch.offset + pos, false);
                    }
                }
            }
            let probs = sized(&mut lt.probs, probs_len);
            let y = sized(&mut lt.y, t * d);
            let mut at = 0;
            for &(start, len) in &batch.seqs {
                let rows = start * 3 * d..(start + len) * 3 * d;
                for h in 0..heads {
                    let slots = HeadSlots::new(d, hd, h);
                    attend(
                        &lt.qkv[rows.clone()],
                        slots,
                        len,
                        scale,
                        &mut probs[at..at + len * len],
                        &mut y[start * d..(start + len) * d],
                        d,
                        h * hd,
                        sized(&mut self.transposed, hd * len.next_multiple_of(8)),
                    );
                    at += len * len;
                }
            }
            let tmp = sized(&mut self.tmp, t * d);
            fill_rows(tmp, &p[b.o_b..b.o_b + d]);
            matmul_nt(t, d, d, &lt.y, &p[b.o_w..b.o_w + d * d], 1.0, tmp);
            residual_add(&mut self.x, tmp, &mut lt.mask1, &mut dropout);

            // MLP branch.
            layer_norm(
                &self.x,
                d,
                &p[b.ln2_w..b.ln2_w + d],
                &p[b.ln2_b..b.ln2_b + d],
                sized(&mut lt.xhat2, t * d),
                sized(&mut lt.rstd2, t),
                sized(&mut lt.a2, t * d),
            );
            let h1 = sized(&mut lt.h1, t * m);
            fill_rows(h1, &p[b.fc1_b..b.fc1_b + m]);
            matmul_nt(t, d, m, &lt.a2, &p[b.fc1_w..b.fc1_w + m * d], 1.0, h1);
            gelu(&lt.h1, sized(&mut lt.g, t * m));
            let tmp = sized(&mut self.tmp, t * d);
            fill_rows(tmp, &p[b.fc2_b..b.fc2_b + d]);
            matmul_nt(t, m, d, &lt.g, &p[b.fc2_w..b.fc2_w + d * m], 1.0, tmp);
            residual_add(&mut self.x, tmp, &mut lt.mask2, &mut dropout);
        }

        layer_norm(
            &self.x,
            d,
            &p[lay.lnf_w..lay.lnf_w + d],
            &p[lay.lnf_b..lay.lnf_b + d],
            sized(&mut self.xhat_f, t * d),
            sized(&mut self.rstd_f, t),
            sized(&mut self.a_f, t * d),
        );
        let logits = sized(&mut self.logits, t * v);
        fill_rows(logits, &p[lay.head_b..lay.head_b + v]);
        matmul_nt(
            t,
            d,
            v,
            &self.a_f,
            &p[lay.head_w..lay.head_w + v * d],
            1.0,
            logits,
        );
    }

    /// log p(target) at every position of the last `forward`, into `out` (T values).
    pub(crate) fn target_logprobs(&self, batch: &Batch, vocab: usize, out: &mut [f64]) {
        for ((row, &target), o) in self.logits.chunks_exact(vocab).zip(&batch.targets).zip(out) {
            *o = log_softmax_at(row, target as usize);
        }
    }

    /// The summed cross-entropy of the last `forward` (nats); the logits become ∂L/∂logits
    /// for L = `scale` · Σ −log p(target).
    pub(crate) fn loss(&mut self, batch: &Batch, vocab: usize, scale: f32) -> f64 {
        let mut total = 0.0;
        for (row, &target) in self.logits.chunks_exact_mut(vocab).zip(&batch.targets) {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0.0f64;
            for z in row.iter_mut() {
                *z = exp_f32(*z - max);
                sum += f64::from(*z);
            }
            let target = target as usize;
            total += libm::log(sum) - libm::log(f64::from(row[target]));
            let inv = (1.0 / sum) as f32 * scale;
            for z in row.iter_mut() {
                *z *= inv;
            }
            row[target] -= scale;
        }
        total
    }

    /// The backward pass of the last `forward` after `loss`: adds every parameter's gradient
    /// into `grad` (laid out like the parameters).
    pub(crate) fn backward(&mut self, net: &Transformer, batch: &Batch, grad: &mut [f32]) {
        let c = &net.config;
        let (d, m, v, heads, hd) = (c.d, c.mlp, c.vocab, c.heads, c.head_dim());
        let t = batch.positions();
        let p = &net.params;
        let lay = &net.layout;
        let scale = 1.0 / (hd as f32).sqrt();

        // Output layer and final LayerNorm.
        add_column_sums(&self.logits, &mut grad[lay.head_b..lay.head_b + v]);
        matmul_tn_acc(
            v,
            t,
            d,
            &self.logits,
            &self.a_f,
            &mut grad[lay.head_w..lay.head_w + v * d],
        );
        let da = sized(&mut self.da, t * d);
        matmul_nn(
            t,
            v,
            d,
            &self.logits,
            &p[lay.head_w..lay.head_w + v * d],
            0.0,
            da,
        );
        let dx = zeroed(&mut self.dx, t * d);
        let (gw, gb) = grad.split_at_mut(lay.lnf_b);
        layer_norm_back(
            &self.da,
            d,
            &p[lay.lnf_w..lay.lnf_w + d],
            &self.xhat_f,
            &self.rstd_f,
            &mut gw[lay.lnf_w..lay.lnf_w + d],
            &mut gb[..d],
            dx,
        );

        for (b, lt) in lay.blocks.iter().zip(&self.layers).rev() {
            // MLP branch: x += drop(W2·g + b2).
            let dbranch = masked(&self.dx, &lt.mask2, &mut self.tmp);
            add_column_sums(dbranch, &mut grad[b.fc2_b..b.fc2_b + d]);
            matmul_tn_acc(d, t, m, dbranch, &lt.g, &mut grad[b.fc2_w..b.fc2_w + d * m]);
            let dh = sized(&mut self.dh, t * m);
            matmul_nn(t, d, m, dbranch, &p[b.fc2_w..b.fc2_w + d * m], 0.0, dh);
            gelu_back(&lt.h1, dh);
            add_column_sums(dh, &mut grad[b.fc1_b..b.fc1_b + m]);
            matmul_tn_acc(m, t, d, dh, &lt.a2, &mut grad[b.fc1_w..b.fc1_w + m * d]);
            let da = sized(&mut self.da, t * d);
            matmul_nn(t, m, d, &self.dh, &p[b.fc1_w..b.fc1_w + m * d], 0.0, da);
            let (gw, gb) = grad.split_at_mut(b.ln2_b);
            layer_norm_back(
                &self.da,
                d,
                &p[b.ln2_w..b.ln2_w + d],
                &lt.xhat2,
                &lt.rstd2,
                &mut gw[b.ln2_w..b.ln2_w + d],
                &mut gb[..d],
                &mut self.dx,
            );

            // Attention branch: x += drop(Wo·y + bo).
            let dbranch = masked(&self.dx, &lt.mask1, &mut self.tmp);
            add_column_sums(dbranch, &mut grad[b.o_b..b.o_b + d]);
            matmul_tn_acc(d, t, d, dbranch, &lt.y, &mut grad[b.o_w..b.o_w + d * d]);
            let dy = sized(&mut self.dy, t * d);
            matmul_nn(t, d, d, dbranch, &p[b.o_w..b.o_w + d * d], 0.0, dy);
            let dqkv = zeroed(&mut self.dqkv, t * 3 * d);
            self.dp.resize(c.context.max(1), 0.0);
            let mut at = 0;
            for &(start, len) in &batch.seqs {
                let rows = start * 3 * d..(start + len) * 3 * d;
                for h in 0..heads {
                    let slots = HeadSlots::new(d, hd, h);
                    attend_back(
                        &lt.qkv[rows.clone()],
                        slots,
                        len,
                        scale,
                        &lt.probs[at..at + len * len],
                        &self.dy[start * d..(start + len) * d],
                        d,
                        h * hd,
                        &mut dqkv[rows.clone()],
                        &mut self.dp,
                        sized(&mut self.transposed, hd * len.next_multiple_of(8)),
                    );
                    at += len * len;
                }
                // Back through RoPE: the gradients of the unrotated queries and keys.
                for pos in 0..len {
                    let row = &mut dqkv[(start + pos) * 3 * d..(start + pos + 1) * 3 * d];
                    for h in 0..2 * heads {
                        net.rope
                            .rotate(&mut row[h * hd..(h + 1) * hd], batch.offset + pos, true);
                    }
                }
            }
            add_column_sums(dqkv, &mut grad[b.qkv_b..b.qkv_b + 3 * d]);
            matmul_tn_acc(
                3 * d,
                t,
                d,
                dqkv,
                &lt.a1,
                &mut grad[b.qkv_w..b.qkv_w + 3 * d * d],
            );
            let da = sized(&mut self.da, t * d);
            matmul_nn(
                t,
                3 * d,
                d,
                &self.dqkv,
                &p[b.qkv_w..b.qkv_w + 3 * d * d],
                0.0,
                da,
            );
            let (gw, gb) = grad.split_at_mut(b.ln1_b);
            layer_norm_back(
                &self.da,
                d,
                &p[b.ln1_w..b.ln1_w + d],
                &lt.xhat1,
                &lt.rstd1,
                &mut gw[b.ln1_w..b.ln1_w + d],
                &mut gb[..d],
                &mut self.dx,
            );
        }

        for (row, &tok) in self.dx.chunks_exact(d).zip(&batch.inputs) {
            let at = lay.embedding + tok as usize * d;
            for (g, &x) in grad[at..at + d].iter_mut().zip(row) {
                *g += x;
            }
        }
    }
}

/// x += branch, the branch first dropped by a fresh mask when `dropout` is given (the mask
/// is kept for the backward pass; without dropout it is left empty).
fn residual_add(
    x: &mut [f32],
    branch: &mut [f32],
    mask: &mut Vec<f32>,
    dropout: &mut Option<(f32, &mut dyn RngCore)>,
) {
    mask.clear();
    if let Some((p, rng)) = dropout
        && *p > 0.0
    {
        let keep = 1.0 / (1.0 - *p);
        let threshold = (f64::from(*p) * 4_294_967_296.0) as u64;
        mask.extend((0..branch.len()).map(|_| {
            if u64::from(rng.next_u32()) < threshold {
                0.0
            } else {
                keep
            }
        }));
        for (b, &k) in branch.iter_mut().zip(mask.iter()) {
            *b *= k;
        }
    }
    for (x, &b) in x.iter_mut().zip(branch.iter()) {
        *x += b;
    }
}

/// The gradient of a branch: `dx` through its dropout mask (into `scratch`), or `dx` itself.
fn masked<'a>(dx: &'a [f32], mask: &[f32], scratch: &'a mut Vec<f32>) -> &'a [f32] {
    if mask.is_empty() {
        return dx;
    }
    scratch.clear();
    scratch.extend(dx.iter().zip(mask).map(|(g, k)| g * k));
    scratch
}

/// log softmax(row)[target], in f64.
pub(crate) fn log_softmax_at(row: &[f32], target: usize) -> f64 {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f64 = row.iter().map(|&z| exp_neg_f64(f64::from(z - max))).sum();
    f64::from(row[target] - max) - libm::log(sum)
}
