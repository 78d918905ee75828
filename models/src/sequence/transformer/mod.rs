//! The decoder-only transformer: token embeddings (no learned positions), `layers` pre-norm
//! blocks — x += Wo·attn(RoPE(q), RoPE(k), v) of LN1(x); x += W2·GELU(W1·LN2(x) + b1) + b2 —
//! a final LayerNorm and an untied output layer. Causal attention, scale 1/√(head dim).
//!
//! All weights live in one flat `Vec<f32>` ([`Layout`] gives each tensor's offset), laid out
//! [out, in] as PyTorch's `nn.Linear` stores them, so a stored model reads straight into
//! PyTorch. Training ([`tape`]) packs a batch's sequences back to back without padding;
//! decoding ([`decode`]) keeps a key/value cache.

pub(crate) mod decode;
pub(crate) mod kernels;
pub(crate) mod tape;
#[cfg(test)]
mod tests;

use std::ops::Range;

use rand_chacha::rand_core::RngCore;

use crate::sampling::uniform;
use crate::sequence::options::{RopeStyle, SequenceOptions};
use crate::sequence::rope::Rope;

/// The shape of a transformer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Config {
    pub(crate) vocab: usize,
    pub(crate) layers: usize,
    pub(crate) d: usize,
    pub(crate) heads: usize,
    pub(crate) mlp: usize,
    pub(crate) context: usize,
    pub(crate) rope_base: f64,
    pub(crate) rope_style: RopeStyle,
}

impl Config {
    pub(crate) fn new(options: &SequenceOptions, vocab: usize) -> Self {
        Self {
            vocab,
            layers: options.layers,
            d: options.d_model,
            heads: options.heads,
            mlp: options.mlp,
            context: options.context,
            rope_base: options.rope_base,
            rope_style: options.rope_style,
        }
    }

    pub(crate) fn head_dim(&self) -> usize {
        self.d / self.heads
    }
}

/// Offsets of one block's tensors in the flat parameter vector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Block {
    pub(crate) ln1_w: usize,
    pub(crate) ln1_b: usize,
    /// [3d, d]: the query, key and value projections stacked.
    pub(crate) qkv_w: usize,
    pub(crate) qkv_b: usize,
    pub(crate) o_w: usize,
    pub(crate) o_b: usize,
    pub(crate) ln2_w: usize,
    pub(crate) ln2_b: usize,
    pub(crate) fc1_w: usize,
    pub(crate) fc1_b: usize,
    pub(crate) fc2_w: usize,
    pub(crate) fc2_b: usize,
}

/// Where every tensor lives in the flat parameter vector.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Layout {
    pub(crate) embedding: usize,
    pub(crate) blocks: Vec<Block>,
    pub(crate) lnf_w: usize,
    pub(crate) lnf_b: usize,
    pub(crate) head_w: usize,
    pub(crate) head_b: usize,
    pub(crate) len: usize,
}

impl Layout {
    pub(crate) fn new(c: &Config) -> Self {
        let (d, m, v) = (c.d, c.mlp, c.vocab);
        let mut at = 0usize;
        let mut take = |n: usize| {
            let start = at;
            at += n;
            start
        };
        let embedding = take(v * d);
        let blocks = (0..c.layers)
            .map(|_| Block {
                ln1_w: take(d),
                ln1_b: take(d),
                qkv_w: take(3 * d * d),
                qkv_b: take(3 * d),
                o_w: take(d * d),
                o_b: take(d),
                ln2_w: take(d),
                ln2_b: take(d),
                fc1_w: take(m * d),
                fc1_b: take(m),
                fc2_w: take(d * m),
                fc2_b: take(d),
            })
            .collect();
        let lnf_w = take(d);
        let lnf_b = take(d);
        let head_w = take(v * d);
        let head_b = take(v);
        Self {
            embedding,
            blocks,
            lnf_w,
            lnf_b,
            head_w,
            head_b,
            len: at,
        }
    }

    /// The parameter count of a configuration, without building it (checked arithmetic).
    pub(crate) fn count(c: &Config) -> Option<usize> {
        let (d, m, v) = (c.d, c.mlp, c.vocab);
        let block = d
            .checked_mul(d)?
            .checked_mul(4)?
            .checked_add(d.checked_mul(m)?.checked_mul(2)?)?
            .checked_add(9 * d + m)?;
        block
            .checked_mul(c.layers)?
            .checked_add(v.checked_mul(d)?.checked_mul(2)?)?
            .checked_add(2 * d + v)
    }

    /// The weight matrices, which AdamW decays (not embeddings, biases or LayerNorm).
    pub(crate) fn decayed(&self, c: &Config) -> Vec<Range<usize>> {
        let (d, m, v) = (c.d, c.mlp, c.vocab);
        let mut r: Vec<Range<usize>> = Vec::new();
        for b in &self.blocks {
            r.push(b.qkv_w..b.qkv_w + 3 * d * d);
            r.push(b.o_w..b.o_w + d * d);
            r.push(b.fc1_w..b.fc1_w + m * d);
            r.push(b.fc2_w..b.fc2_w + d * m);
        }
        r.push(self.head_w..self.head_w + v * d);
        r
    }

    /// Every tensor as (name, offset, shape), in storage order; names as a PyTorch module
    /// would give them.
    pub(crate) fn tensors(&self, c: &Config) -> Vec<(String, usize, Vec<usize>)> {
        let (d, m, v) = (c.d, c.mlp, c.vocab);
        let mut t = vec![("tok_emb.weight".to_string(), self.embedding, vec![v, d])];
        for (l, b) in self.blocks.iter().enumerate() {
            let p = |n: &str| format!("blocks.{l}.{n}");
            t.push((p("ln1.weight"), b.ln1_w, vec![d]));
            t.push((p("ln1.bias"), b.ln1_b, vec![d]));
            t.push((p("attn.qkv.weight"), b.qkv_w, vec![3 * d, d]));
            t.push((p("attn.qkv.bias"), b.qkv_b, vec![3 * d]));
            t.push((p("attn.out.weight"), b.o_w, vec![d, d]));
            t.push((p("attn.out.bias"), b.o_b, vec![d]));
            t.push((p("ln2.weight"), b.ln2_w, vec![d]));
            t.push((p("ln2.bias"), b.ln2_b, vec![d]));
            t.push((p("mlp.fc1.weight"), b.fc1_w, vec![m, d]));
            t.push((p("mlp.fc1.bias"), b.fc1_b, vec![m]));
            t.push((p("mlp.fc2.weight"), b.fc2_w, vec![d, m]));
            t.push((p("mlp.fc2.bias"), b.fc2_b, vec![d]));
        }
        t.push(("ln_f.weight".to_string(), self.lnf_w, vec![d]));
        t.push(("ln_f.bias".to_string(), self.lnf_b, vec![d]));
        t.push(("head.weight".to_string(), self.head_w, vec![v, d]));
        t.push(("head.bias".to_string(), self.head_b, vec![v]));
        t
    }
}

/// A transformer's shape, weights and RoPE tables.
#[derive(Debug, Clone, PartialEq)]
pub struct Transformer {
    pub(crate) config: Config,
    pub(crate) layout: Layout,
    pub(crate) params: Vec<f32>,
    pub(crate) rope: Rope,
}

impl Transformer {
    /// A transformer with the given weights (their length must match the layout).
    pub(crate) fn from_params(config: Config, params: Vec<f32>) -> Self {
        let layout = Layout::new(&config);
        debug_assert_eq!(layout.len, params.len());
        let rope = Rope::new(
            config.head_dim(),
            config.rope_base,
            config.rope_style,
            config.context,
        );
        Self {
            config,
            layout,
            params,
            rope,
        }
    }

    /// Initial weights as in GPT-2: N(0, 0.02) for the embedding and every weight matrix,
    /// zero biases, LayerNorm gains of one.
    pub(crate) fn init(config: Config, rng: &mut dyn RngCore) -> Self {
        let layout = Layout::new(&config);
        let mut params = vec![0.0f32; layout.len];
        let (d, m, v) = (config.d, config.mlp, config.vocab);
        let mut normal = |range: Range<usize>| {
            for p in &mut params[range] {
                *p = (gaussian(rng) * 0.02) as f32;
            }
        };
        normal(layout.embedding..layout.embedding + v * d);
        for b in &layout.blocks {
            normal(b.qkv_w..b.qkv_w + 3 * d * d);
            normal(b.o_w..b.o_w + d * d);
            normal(b.fc1_w..b.fc1_w + m * d);
            normal(b.fc2_w..b.fc2_w + d * m);
        }
        normal(layout.head_w..layout.head_w + v * d);
        for b in &layout.blocks {
            params[b.ln1_w..b.ln1_w + d].fill(1.0);
            params[b.ln2_w..b.ln2_w + d].fill(1.0);
        }
        params[layout.lnf_w..layout.lnf_w + d].fill(1.0);
        Self::from_params(config, params)
    }

    /// The embedding row of token `id`.
    pub(crate) fn token_embedding(&self, id: u32) -> &[f32] {
        let d = self.config.d;
        let at = self.layout.embedding + id as usize * d;
        &self.params[at..at + d]
    }
}

/// A standard normal draw (Box–Muller on two uniform draws).
fn gaussian(rng: &mut dyn RngCore) -> f64 {
    let u1 = 1.0 - uniform(rng); // (0, 1]
    let u2 = uniform(rng);
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(std::f64::consts::TAU * u2)
}
