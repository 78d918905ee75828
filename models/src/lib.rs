//! Apiary's generative models, pure Rust: autoregressive density models that give exact
//! log-likelihoods, ancestral samples and completions, trained with AdamW and stored as
//! safetensors. The SQL side (`CREATE MODEL`, `loglik`, `logprobs`, `sample`, `generate`,
//! `embed`) calls this crate; it knows nothing of DataFusion.
//!
//! Part 1: binary vectors x ∈ {0,1}^n ([`BinaryModel`]: `bernoulli`, `fvsbn`, `nade`).
//! Part 2: sequences — strings and token-id arrays ([`SequenceModel`]: `bigram`,
//! `transformer` with RoPE attention), trained by [`train_sequences`].
//!
//! ```
//! use apiary_models::{BitMatrix, NoProgress, TrainOptions, train};
//!
//! let mut data = BitMatrix::new(4);
//! for row in [[1, 1, 0, 0], [0, 0, 1, 1], [1, 1, 0, 0], [0, 0, 1, 1]] {
//!     data.push_row(&row)?;
//! }
//! let options = TrainOptions::from_options("nade", &[("hidden".into(), "8".into())])?;
//! let (model, report) = train(&options, &data, &mut NoProgress)?;
//! let model = model.as_binary()?;
//! let ll = model.loglik(&[1, 1, 0, 0])?;
//! assert!(ll < 0.0 && report.epochs_run >= 1);
//! let samples = model.sample(10, 1.0, 42)?;
//! assert_eq!(samples.rows(), 10);
//! # Ok::<(), apiary_models::ModelError>(())
//! ```

mod binary;
mod bits;
mod error;
mod math;
mod memory;
mod model;
mod optim;
mod options;
mod safetensors;
mod sampling;
mod sequence;
mod train;

pub use binary::{BinaryModel, MAX_INPUT_LEN, MAX_PARAMS};
pub use bits::BitMatrix;
pub use error::{ModelError, Result};
pub use math::log_sigmoid;
pub use memory::{binary_training_bytes, sequence_training_bytes};
pub use model::{FORMAT, FORMAT_VERSION, Model};
pub use options::{MAX_BATCH_SIZE, MAX_EPOCHS, MAX_HIDDEN, ModelType, TrainOptions};
pub use sampling::{SampleRng, sample_rng};
pub use sequence::options::{
    MAX_CONTEXT, MAX_LAYERS, MAX_STEPS, MAX_WIDTH, RopeStyle, SequenceOptions,
};
pub use sequence::train::{MAX_TRANSFORMER_PARAMS, TrainingRows, train_sequences};
pub use sequence::vocab::{END, MAX_VOCAB, UNKNOWN, Vocab};
pub use sequence::{SampleOptions, SequenceModel};
pub use train::{EpochProgress, NoProgress, TrainProgress, TrainReport, train};

/// The random-number trait that [`BinaryModel::complete`] draws from (`rand_core` 0.9).
pub use rand_chacha::rand_core::RngCore;
