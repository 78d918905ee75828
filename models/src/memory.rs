//! How much memory training takes, estimated from the options and the rows before training
//! starts, so that the engine can reserve it from its memory pool (or refuse) first.
//!
//! The estimates count what training allocates, in bytes: the weights and the copies training
//! keeps of them (gradients, AdamW's two moments, the best weights), the encoded rows, and the
//! activations of a batch. They are upper bounds within a few percent (buffers of a few
//! kilobytes are left out).

use crate::binary::Net;
use crate::error::Result;
use crate::options::{ModelType, TrainOptions};
use crate::sequence::options::SequenceOptions;
use crate::sequence::train::TrainingRows;
use crate::sequence::transformer::{Config, Layout};
use crate::sequence::vocab::Vocab;

const F32: u128 = 4;

/// Bytes to train a binary model (`bernoulli`, `fvsbn`, `nade`) on `rows` vectors of `n`
/// values: weights, gradient, AdamW's moments and the best weights (5 copies), the rows split
/// into training and validation copies, one mini-batch and the network's scratch.
pub fn binary_training_bytes(options: &TrainOptions, n: usize, rows: usize) -> Result<u128> {
    let params = Net::check_size(options.model_type, n, options.hidden)? as u128;
    let (n, rows) = (n as u128, rows as u128);
    let batch = (options.batch_size as u128).min(rows.max(1));
    let scratch = match options.model_type {
        // The hidden activations at every position of one row, and a few vectors.
        ModelType::Nade => {
            let hidden = options.hidden.unwrap_or(1) as u128;
            (n * hidden + 4 * hidden + 2 * n) * F32
        }
        _ => 4 * (n + 64) * F32,
    };
    Ok(5 * params * F32 + rows * n + batch * n + rows * 8 + scratch)
}

/// Bytes to train a sequence model on `rows`.
///
/// A `bigram` counts every pair of its vocabulary (8 bytes a pair) and keeps their
/// log-probabilities (4 bytes). A `transformer` keeps 7 copies of its weights (weights,
/// AdamW's moments, the gradient of each of the two shards, their sum, the best weights),
/// the encoded rows, and for each shard the activations of half a batch of full-context
/// sequences: per position and layer ten vectors of `d_model`, two of `mlp`, the attention
/// probabilities (`heads × context` per position), and the logits over the vocabulary.
pub fn sequence_training_bytes(options: &SequenceOptions, rows: &TrainingRows) -> Result<u128> {
    let (vocab, tokens, count) = match rows {
        TrainingRows::Strings(r) => (
            Vocab::from_strings(r.iter().map(String::as_str))?.len(),
            r.iter().map(|s| s.chars().count()).sum::<usize>(),
            r.len(),
        ),
        TrainingRows::Ids(r) => {
            let max = r.iter().flatten().copied().max().unwrap_or(0).max(0) as usize;
            let size = options.vocab_size.unwrap_or(max.saturating_add(1));
            (
                Vocab::Ids(size).len(),
                r.iter().map(Vec::len).sum::<usize>(),
                r.len(),
            )
        }
    };
    let encoded = (tokens as u128 + count as u128) * F32 + count as u128 * 8;
    let vocab = vocab as u128;
    match options.model_type {
        // Saturating: with no vocab_size the vocabulary is the largest id + 1, up to 2^63.
        ModelType::Bigram => {
            Ok(encoded.saturating_add(vocab.saturating_mul(vocab).saturating_mul(8 + F32)))
        }
        _ => {
            let config = Config::new(options, vocab as usize);
            let params = Layout::count(&config).map_or(u128::MAX / 2, |p| p as u128);
            let (d, m, heads, layers) = (
                options.d_model as u128,
                options.mlp as u128,
                options.heads as u128,
                options.layers as u128,
            );
            let context = options.context as u128;
            let sequences = (options.batch_size as u128).min(count as u128).div_ceil(2);
            let positions = sequences * context;
            let per_layer =
                positions * (10 * d + 2 * m + 2) + heads * sequences * context * context;
            let head = positions * (vocab + 10 * d + m) + context * d;
            let shard = (layers * per_layer + head) * F32;
            Ok(encoded
                .saturating_add(7u128.saturating_mul(params).saturating_mul(F32))
                .saturating_add(2u128.saturating_mul(shard)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_estimates_follow_the_size() {
        let nade = TrainOptions::from_options("nade", &[("hidden".into(), "100".into())])
            .unwrap_or_else(|e| unreachable!("{e}"));
        let small = binary_training_bytes(&nade, 64, 1000).unwrap_or_else(|e| unreachable!("{e}"));
        let large =
            binary_training_bytes(&nade, 6400, 1000).unwrap_or_else(|e| unreachable!("{e}"));
        assert!(small < 1 << 20, "{small}");
        // Parameters grow with n: 100 times the weights.
        assert!(large > 90 * small, "{large} vs {small}");
    }

    #[test]
    fn sequence_estimates_follow_the_options() {
        let rows = TrainingRows::Strings(vec!["hello".into(), "world".into()]);
        let bigram =
            SequenceOptions::from_options("bigram", &[]).unwrap_or_else(|e| unreachable!("{e}"));
        // 9 ids (7 characters + end + unknown): 81 pairs.
        assert_eq!(
            sequence_training_bytes(&bigram, &rows).unwrap_or_else(|e| unreachable!("{e}")),
            (10 + 2) * 4 + 2 * 8 + 81 * 12
        );
        let ids = TrainingRows::Ids(vec![vec![1, 2, 3]]);
        let huge =
            SequenceOptions::from_options("bigram", &[("vocab_size".into(), "1000000".into())])
                .unwrap_or_else(|e| unreachable!("{e}"));
        assert!(
            sequence_training_bytes(&huge, &ids).unwrap_or_else(|e| unreachable!("{e}")) > 1 << 43
        );
        let small = SequenceOptions::from_options("transformer", &[])
            .unwrap_or_else(|e| unreachable!("{e}"));
        let wide = SequenceOptions::from_options(
            "transformer",
            &[
                ("d_model".into(), "1024".into()),
                ("mlp".into(), "4096".into()),
                ("layers".into(), "24".into()),
                ("context".into(), "1024".into()),
            ],
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        let small = sequence_training_bytes(&small, &rows).unwrap_or_else(|e| unreachable!("{e}"));
        let wide = sequence_training_bytes(&wide, &rows).unwrap_or_else(|e| unreachable!("{e}"));
        assert!(small < 64 << 20, "{small}");
        // 300M weights × 28 bytes, at least.
        assert!(wide > 8 << 30, "{wide}");
    }
}
