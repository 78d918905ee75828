//! The model crate's tests through its public API: one binary, one module per property.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bad_input;
mod normalization;
mod persistence;
mod quality;
mod sampling;
mod sequences;

use apiary_models::{BinaryModel, BitMatrix, Model, ModelType, NoProgress, TrainOptions, train};

/// Every vector of `n` bits, row k holding the bits of k (least significant first).
pub fn all_vectors(n: usize) -> BitMatrix {
    let bits = (0..1u32 << n)
        .flat_map(|v| (0..n).map(move |i| ((v >> i) & 1) as u8))
        .collect();
    BitMatrix::from_vec(n, bits).unwrap()
}

/// Rows with structure worth learning: two "classes" with opposite odds on alternate bits, and
/// bit i copying bit i − 1 a third of the time.
pub fn toy_data(n: usize, rows: usize, seed: u64) -> BitMatrix {
    let mut rng = apiary_models::sample_rng(seed, 99);
    let mut m = BitMatrix::new(n);
    use apiary_models::RngCore;
    for _ in 0..rows {
        let class = rng.next_u32() % 2;
        let mut row = vec![0u8; n];
        for i in 0..n {
            let r = rng.next_u32() % 300;
            row[i] = if i > 0 && r < 100 {
                row[i - 1]
            } else {
                let p = if (i as u32 + class).is_multiple_of(2) {
                    230
                } else {
                    100
                };
                u8::from(r % 256 < p)
            };
        }
        m.push_row(&row).unwrap();
    }
    m
}

/// Small, fast options for `model_type` (NADE with 8 hidden units).
pub fn small_options(model_type: ModelType, epochs: usize) -> TrainOptions {
    let mut o = TrainOptions::defaults(model_type);
    o.epochs = epochs;
    o.hidden = o.hidden.map(|_| 8);
    o
}

/// A model of each type trained a few epochs on toy data with n bits.
pub fn trained_models(n: usize) -> Vec<BinaryModel> {
    let data = toy_data(n, 300, 1);
    ModelType::BINARY
        .into_iter()
        .map(|t| {
            let (m, _) = train(&small_options(t, 15), &data, &mut NoProgress).unwrap();
            binary(m)
        })
        .collect()
}

/// A freshly initialised model of each type on n bits.
pub fn untrained_models(n: usize) -> Vec<BinaryModel> {
    ModelType::BINARY
        .into_iter()
        .map(|t| BinaryModel::init(&small_options(t, 1), n).unwrap())
        .collect()
}

pub fn binary(m: Model) -> BinaryModel {
    m.as_binary().unwrap().clone()
}
