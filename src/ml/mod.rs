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
//! - [`progress`]: the training progress bar and cancellation.

pub mod functions;
pub mod generators;
pub mod input;
pub mod progress;
pub mod registry;
pub mod sample;
pub mod statements;
