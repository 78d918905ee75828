//! Decoding one position at a time with a key/value cache: each new token costs one pass
//! through the layers for that position only, its keys and values appended to the cache, and
//! attention reading the cached ones (no recomputation of the prefix).

use super::Transformer;
use super::kernels::{attend_one, gelu, layer_norm, matvec};

/// The keys (after RoPE) and values of every position decoded so far, per layer.
#[derive(Debug, Clone)]
pub(crate) struct KvCache {
    keys: Vec<Vec<f32>>,
    values: Vec<Vec<f32>>,
    len: usize,
}

/// Per-position scratch of [`Transformer::step`].
#[derive(Debug, Clone, Default)]
pub(crate) struct StepScratch {
    x: Vec<f32>,
    a: Vec<f32>,
    xhat: Vec<f32>,
    qkv: Vec<f32>,
    y: Vec<f32>,
    branch: Vec<f32>,
    h: Vec<f32>,
    g: Vec<f32>,
    scores: Vec<f32>,
}

impl KvCache {
    /// An empty cache for `net`.
    pub(crate) fn new(net: &Transformer) -> Self {
        let c = &net.config;
        let capacity = c.context.min(64) * c.d;
        Self {
            keys: (0..c.layers)
                .map(|_| Vec::with_capacity(capacity))
                .collect(),
            values: (0..c.layers)
                .map(|_| Vec::with_capacity(capacity))
                .collect(),
            len: 0,
        }
    }
}

impl Transformer {
    /// Feeds `token` at the next position of `cache` and writes the logits of the token after
    /// it into `logits` (V values). The caller keeps positions below `context`.
    pub(crate) fn step(
        &self,
        token: u32,
        cache: &mut KvCache,
        s: &mut StepScratch,
        logits: &mut [f32],
    ) {
        let c = &self.config;
        let (d, m, heads, hd) = (c.d, c.mlp, c.heads, c.head_dim());
        let p = &self.params;
        let lay = &self.layout;
        let pos = cache.len;
        let scale = 1.0 / (hd as f32).sqrt();
        s.x.clear();
        s.x.extend_from_slice(self.token_embedding(token));
        for buf in [&mut s.a, &mut s.xhat, &mut s.y, &mut s.branch] {
            buf.resize(d, 0.0);
        }
        s.qkv.resize(3 * d, 0.0);
        s.h.resize(m, 0.0);
        s.g.resize(m, 0.0);
        s.scores.resize(pos + 1, 0.0);
        let mut rstd = [0.0f32];

        for (l, b) in lay.blocks.iter().enumerate() {
            layer_norm(
                &s.x,
                d,
                &p[b.ln1_w..b.ln1_w + d],
                &p[b.ln1_b..b.ln1_b + d],
                &mut s.xhat,
                &mut rstd,
                &mut s.a,
            );
            matvec(
                &p[b.qkv_w..b.qkv_w + 3 * d * d],
                &s.a,
                &p[b.qkv_b..b.qkv_b + 3 * d],
                &mut s.qkv,
            );
            for h in 0..2 * heads {
                self.rope
                    .rotate(&mut s.qkv[h * hd..(h + 1) * hd], pos, false);
            }
            let (keys, values) = (&mut cache.keys[l], &mut cache.values[l]);
            keys.extend_from_slice(&s.qkv[d..2 * d]);
            values.extend_from_slice(&s.qkv[2 * d..]);
            for h in 0..heads {
                attend_one(
                    &s.qkv[h * hd..(h + 1) * hd],
                    keys,
                    values,
                    d,
                    h * hd,
                    pos + 1,
                    scale,
                    &mut s.scores,
                    &mut s.y[h * hd..(h + 1) * hd],
                );
            }
            matvec(
                &p[b.o_w..b.o_w + d * d],
                &s.y,
                &p[b.o_b..b.o_b + d],
                &mut s.branch,
            );
            add(&mut s.x, &s.branch);

            layer_norm(
                &s.x,
                d,
                &p[b.ln2_w..b.ln2_w + d],
                &p[b.ln2_b..b.ln2_b + d],
                &mut s.xhat,
                &mut rstd,
                &mut s.a,
            );
            matvec(
                &p[b.fc1_w..b.fc1_w + m * d],
                &s.a,
                &p[b.fc1_b..b.fc1_b + m],
                &mut s.h,
            );
            gelu(&s.h, &mut s.g);
            matvec(
                &p[b.fc2_w..b.fc2_w + d * m],
                &s.g,
                &p[b.fc2_b..b.fc2_b + d],
                &mut s.branch,
            );
            add(&mut s.x, &s.branch);
        }
        cache.len += 1;
        layer_norm(
            &s.x,
            d,
            &p[lay.lnf_w..lay.lnf_w + d],
            &p[lay.lnf_b..lay.lnf_b + d],
            &mut s.xhat,
            &mut rstd,
            &mut s.a,
        );
        let v = c.vocab;
        matvec(
            &p[lay.head_w..lay.head_w + v * d],
            &s.a,
            &p[lay.head_b..lay.head_b + v],
            logits,
        );
    }
}

fn add(x: &mut [f32], y: &[f32]) {
    for (a, &b) in x.iter_mut().zip(y) {
        *a += b;
    }
}
