//! The transformer's mathematics: gradients against finite differences, causality, RoPE's
//! relative positions, the key/value cache against the packed forward pass, and the exact
//! normalisation of the distribution over sequences.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::decode::{KvCache, StepScratch};
use super::tape::{Batch, Tape, log_softmax_at};
use super::{Config, Transformer};
use crate::sampling::sample_rng;
use crate::sequence::options::RopeStyle;
use crate::sequence::vocab::END;

fn tiny(style: RopeStyle, seed: u64) -> Transformer {
    let config = Config {
        vocab: 5,
        layers: 2,
        d: 8,
        heads: 2,
        mlp: 12,
        context: 24,
        rope_base: 100.0,
        rope_style: style,
    };
    let mut net = Transformer::init(config, &mut sample_rng(seed, 0));
    // Weights far from the initial scale, so that every path carries a real gradient.
    let mut rng = sample_rng(seed, 9);
    for p in &mut net.params {
        *p += (super::gaussian(&mut rng) * 0.3) as f32;
    }
    net
}

fn batch(seqs: &[&[u32]], context: usize) -> Batch {
    let mut b = Batch::default();
    for s in seqs {
        b.push(s, context);
    }
    b
}

/// Σ −log p(targets) of a batch, in f64 from the f32 forward pass; with `dropout`, the masks
/// drawn from a generator seeded the same way every time.
fn loss_with(net: &Transformer, b: &Batch, dropout: Option<f32>) -> f64 {
    let mut tape = Tape::default();
    let mut rng = sample_rng(11, 3);
    tape.forward(
        net,
        b,
        dropout.map(|p| (p, &mut rng as &mut dyn rand_chacha::rand_core::RngCore)),
    );
    let mut lp = vec![0.0; b.positions()];
    tape.target_logprobs(b, net.config.vocab, &mut lp);
    -lp.iter().sum::<f64>()
}

fn loss(net: &Transformer, b: &Batch) -> f64 {
    loss_with(net, b, None)
}

fn logprobs(net: &Transformer, tokens: &[u32], offset: usize) -> Vec<f64> {
    let mut b = batch(&[tokens], net.config.context);
    b.offset = offset;
    let mut tape = Tape::default();
    tape.forward(net, &b, None);
    let mut lp = vec![0.0; b.positions()];
    tape.target_logprobs(&b, net.config.vocab, &mut lp);
    lp
}

#[test]
fn gradients_match_finite_differences() {
    for (style, dropout) in [
        (RopeStyle::Half, None),
        (RopeStyle::Interleaved, None),
        (RopeStyle::Half, Some(0.3)),
    ] {
        let mut net = tiny(style, 3);
        let b = batch(&[&[2, 3, 4, 2], &[4], &[], &[3, 3, 2, 4, 4, 1]], 24);
        let mut tape = Tape::default();
        let mut rng = sample_rng(11, 3);
        let masks = dropout.map(|p| (p, &mut rng as &mut dyn rand_chacha::rand_core::RngCore));
        tape.forward(&net, &b, masks);
        let total = tape.loss(&b, net.config.vocab, 1.0);
        assert!((total - loss_with(&net, &b, dropout)).abs() < 1e-3);
        if dropout.is_some() {
            assert!(
                (total - loss(&net, &b)).abs() > 1e-3,
                "dropout changes the loss"
            );
        }
        let mut grad = vec![0.0f32; net.params.len()];
        tape.backward(&net, &b, &mut grad);

        // Every tensor, a few entries each: central differences in f32 with h = 1e-2.
        let mut checked = 0;
        for (name, at, shape) in net.layout.tensors(&net.config) {
            let len: usize = shape.iter().product();
            for k in [0, len / 3, len - 1] {
                let i = at + k;
                let h = 1e-2f32;
                let keep = net.params[i];
                net.params[i] = keep + h;
                let up = loss_with(&net, &b, dropout);
                net.params[i] = keep - h;
                let down = loss_with(&net, &b, dropout);
                net.params[i] = keep;
                let numeric = (up - down) / (2.0 * f64::from(h));
                let analytic = f64::from(grad[i]);
                let tolerance = 2e-3 + 2e-2 * numeric.abs().max(analytic.abs());
                assert!(
                    (numeric - analytic).abs() < tolerance,
                    "{style:?} {dropout:?} {name}[{k}]: numeric {numeric}, backward {analytic}"
                );
                checked += 1;
            }
        }
        assert!(checked > 60);
        assert!(grad.iter().any(|g| g.abs() > 1e-2));
    }
}

/// The logits of every position, [positions × vocab].
fn logits(net: &Transformer, tokens: &[u32]) -> Vec<f32> {
    let b = batch(&[tokens], net.config.context);
    let mut tape = Tape::default();
    tape.forward(net, &b, None);
    tape.logits.clone()
}

#[test]
fn changing_a_token_never_changes_earlier_positions() {
    let net = tiny(RopeStyle::Half, 4);
    let v = net.config.vocab;
    let base = [2u32, 3, 4, 2, 3, 4, 4, 2];
    let before = logits(&net, &base);
    for j in 0..base.len() {
        let mut changed = base;
        changed[j] = if base[j] == 2 { 3 } else { 2 };
        let after = logits(&net, &changed);
        // Position p predicts token p (0-based) from the start token and tokens < p: the
        // distributions at positions ≤ j cannot see token j, bit for bit.
        assert_eq!(before[..(j + 1) * v], after[..(j + 1) * v], "token {j}");
        assert_ne!(
            before[(j + 1) * v..],
            after[(j + 1) * v..],
            "token {j} is seen"
        );
    }
}

#[test]
fn logits_depend_on_relative_positions_only() {
    for style in [RopeStyle::Half, RopeStyle::Interleaved] {
        let net = tiny(style, 5);
        let tokens = [4u32, 2, 3, 3, 2];
        let at0 = logprobs(&net, &tokens, 0);
        for shift in [1, 7, 18] {
            let shifted = logprobs(&net, &tokens, shift);
            for (a, b) in at0.iter().zip(&shifted) {
                assert!((a - b).abs() < 1e-4, "{style:?} shift {shift}: {a} vs {b}");
            }
        }
    }
}

#[test]
fn cached_decoding_matches_the_packed_pass() {
    let net = tiny(RopeStyle::Interleaved, 6);
    let tokens = [3u32, 2, 4, 4, 1, 2, 3];
    let b = batch(&[&tokens], 24);
    let mut tape = Tape::default();
    tape.forward(&net, &b, None);
    let v = net.config.vocab;
    let mut cache = KvCache::new(&net);
    let mut scratch = StepScratch::default();
    let mut logits = vec![0.0f32; v];
    for (p, &t) in std::iter::once(&END).chain(&tokens).enumerate() {
        net.step(t, &mut cache, &mut scratch, &mut logits);
        for (a, b) in logits.iter().zip(&tape.logits[p * v..(p + 1) * v]) {
            assert!((a - b).abs() < 1e-4, "position {p}: {a} vs {b}");
        }
    }
}

#[test]
fn sequences_up_to_the_context_sum_to_one() {
    // Tokens 1..=3 besides the end token, context 4: a sequence ends (end token) after at
    // most 3 tokens, or its first 4 tokens fill the context. The probabilities of all these
    // outcomes add up to one.
    let config = Config {
        vocab: 4,
        context: 4,
        ..tiny(RopeStyle::Half, 7).config
    };
    let net = Transformer::init(config, &mut sample_rng(8, 0));
    let mut total = 0.0f64;
    let mut prefixes: Vec<Vec<u32>> = vec![vec![]];
    for len in 0..=4 {
        let mut next = Vec::new();
        for p in &prefixes {
            // Up to 3 tokens: p(tokens, end); 4 tokens: p(t_1..t_4) (the batch keeps the
            // first 4 positions, which predict the 4 tokens and not the end).
            total += libm::exp(logprobs(&net, p, 0).iter().sum());
            for t in 1..4 {
                let mut q = p.clone();
                q.push(t);
                next.push(q);
            }
        }
        prefixes = next;
        let _ = len;
    }
    assert!((total - 1.0).abs() < 1e-5, "{total}");
}

#[test]
fn log_softmax_is_normalised() {
    let row = [1.0f32, -2.0, 0.5, 3.0];
    let sum: f64 = (0..4).map(|i| libm::exp(log_softmax_at(&row, i))).sum();
    assert!((sum - 1.0).abs() < 1e-12);
}
