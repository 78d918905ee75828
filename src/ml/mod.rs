//! Generative models in SQL: `CREATE MODEL` and the functions that query a model.
//!
//! The models themselves (training, exact log-likelihoods, sampling) are the `apiary-models`
//! crate; this module binds them to SQL:
//! - [`statements`]: `CREATE [OR REPLACE] MODEL ... AS SELECT`, `SHOW MODELS`,
//!   `DESCRIBE MODEL`, `DROP MODEL` (models are stored in the warehouse);
//! - [`functions`]: `loglik(model, x)`, `embed(model, x)`, `render_bits(x, width)`;
//! - [`generators`]: `logprobs(model, x)` and `generate(model, prefix, n, ...)`;
//! - [`sample`]: the table function `sample(model, n, ...)`;
//! - [`registry`]: finding a model by name and loading it once per process;
//! - [`input`]: Arrow columns of 0/1 vectors in and out of the models' bit matrices;
//! - [`sequences`]: Arrow columns of strings and token-id arrays in and out of the sequence
//!   models (`bigram`, `transformer`);
//! - [`rope_embed`]: `rope_embed(model, seq)`, the model-backed form of the `rope_embed`
//!   generator (its other forms are the function library's);
//! - [`progress`]: the training progress bar and cancellation.
//!
//! Every statement and function takes both families: binary models (`bernoulli`, `fvsbn`,
//! `nade`) over 0/1 vectors, and sequence models (`bigram`, `transformer`) over strings or
//! arrays of token ids.

pub mod functions;
pub mod generators;
pub mod input;
pub mod progress;
pub mod registry;
pub mod rope_embed;
pub mod sample;
pub mod sequences;
pub mod statements;
