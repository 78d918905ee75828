//! [`train`]: AdamW on mini-batches, early stopping on a validation slice of the training rows,
//! the best epoch's weights kept; [`TrainProgress`] to watch and cancel it.

use std::time::{Duration, Instant};

use rand_chacha::rand_core::RngCore;

use crate::binary::{BinaryModel, Net};
use crate::bits::BitMatrix;
use crate::error::{ModelError, Result};
use crate::model::Model;
use crate::optim::AdamW;
use crate::options::TrainOptions;
use crate::sampling::sample_rng;

/// What training reports after each epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochProgress {
    /// This epoch, from 1.
    pub epoch: usize,
    /// The most epochs training will run (`epochs`; early stopping may end it sooner).
    pub epochs: usize,
    /// Mean −log p over this epoch's training rows (nats per vector), as the weights moved.
    pub train_loss: f64,
    /// Mean −log p of the validation rows after this epoch; `None` without validation rows.
    pub validation_nll: Option<f64>,
    /// The epoch with the best validation NLL so far (the weights that will be kept).
    pub best_epoch: usize,
    /// Time since training started.
    pub elapsed: Duration,
    /// Training throughput since the last report (sequence models; `None` for binary ones,
    /// whose `epoch` counts epochs — for sequence models it counts AdamW steps).
    pub tokens_per_second: Option<f64>,
    /// The share of the training budget spent, 0 to 1 (steps, or time with `max_minutes`).
    pub done: f64,
}

/// Watches a training run: a progress bar, a log, or nothing ([`NoProgress`]).
pub trait TrainProgress {
    /// Called after every epoch.
    fn epoch_done(&mut self, _progress: &EpochProgress) {}

    /// Checked before every mini-batch; `true` stops training with [`ModelError::Cancelled`].
    fn is_cancelled(&mut self) -> bool {
        false
    }
}

/// A [`TrainProgress`] that shows nothing and never cancels.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl TrainProgress for NoProgress {}

/// The outcome of a training run, stored with the model.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainReport {
    /// Mean −log p of the training rows (those not held out), nats per vector, kept weights.
    pub train_nll: f64,
    /// Mean −log p of the validation rows, kept weights; `None` without validation rows.
    pub validation_nll: Option<f64>,
    /// Epochs run (fewer than `epochs` when early stopping ended training).
    pub epochs_run: usize,
    /// The epoch whose weights were kept (the best validation NLL; the last without validation).
    pub best_epoch: usize,
    /// Wall-clock training time in seconds.
    pub seconds: f64,
    /// Trained parameters.
    pub param_count: usize,
    /// Rows trained on.
    pub train_rows: usize,
    /// Rows held out for validation.
    pub validation_rows: usize,
}

/// Trains a model of `options.model_type` on the rows of `data` (their length is the model's
/// n), calling `progress` after each epoch and checking it for cancellation before each
/// mini-batch.
///
/// Same options and rows (in the same order) → the same weights, bit for bit, on any machine:
/// the initial weights come from `sample_rng(seed, 0)`, the validation split and the
/// per-epoch shuffles from `sample_rng(seed, 1)`, and every sum runs in a fixed order on one
/// thread.
///
/// `round(validation_fraction × rows)` rows (at least 1 and at most rows − 1 when the fraction
/// is above 0 and there are 2 rows or more) are held out; the output biases start at the
/// smoothed log-odds of the other rows' bits.
pub fn train(
    options: &TrainOptions,
    data: &BitMatrix,
    progress: &mut dyn TrainProgress,
) -> Result<(Model, TrainReport)> {
    let start = Instant::now();
    if data.is_empty() {
        return Err(ModelError::EmptyTrainingSet);
    }
    let n = data.n();
    let mut net = Net::init(options, n, &mut sample_rng(options.seed, 0))?;
    let mut rng = sample_rng(options.seed, 1);

    let (train_rows, valid_rows) = split_rows(data, options.validation_fraction, &mut rng);
    init_output_bias(&mut net, &train_rows);

    let len = net.params().len();
    let mut grad = vec![0.0f32; len];
    let mut adam = AdamW::new(len);
    let decayed = net.decayed();
    let mut best = net.params().to_vec();
    let mut best_nll = f64::INFINITY;
    let mut best_epoch = 0;
    let mut epochs_run = 0;
    let mut order: Vec<usize> = (0..train_rows.rows()).collect();
    let mut batch = Vec::with_capacity(options.batch_size.min(order.len()) * n);
    let mut scores = vec![0.0f64; valid_rows.rows()];

    for epoch in 1..=options.epochs {
        shuffle(&mut order, &mut rng);
        let mut loss = 0.0;
        for ids in order.chunks(options.batch_size) {
            if progress.is_cancelled() {
                return Err(ModelError::Cancelled);
            }
            batch.clear();
            for &i in ids {
                batch.extend_from_slice(train_rows.row(i));
            }
            grad.fill(0.0);
            loss += net.grad_rows(&batch, &mut grad);
            let scale = 1.0 / ids.len() as f32;
            for g in &mut grad {
                *g *= scale;
            }
            adam.step_ranges(
                net.params_mut(),
                &grad,
                options.learning_rate,
                options.weight_decay,
                std::slice::from_ref(&decayed),
            );
        }
        epochs_run = epoch;
        let train_loss = loss / order.len() as f64;
        let validation_nll = mean_nll(&net, &valid_rows, &mut scores);
        let watched = validation_nll.unwrap_or(train_loss);
        if !watched.is_finite() || !net.params().iter().all(|p| p.is_finite()) {
            return Err(ModelError::Diverged { epoch });
        }
        // Without validation rows the last epoch is kept.
        if validation_nll.is_none() || watched < best_nll {
            best_nll = watched;
            best_epoch = epoch;
            best.copy_from_slice(net.params());
        }
        progress.epoch_done(&EpochProgress {
            epoch,
            epochs: options.epochs,
            train_loss,
            validation_nll,
            best_epoch,
            elapsed: start.elapsed(),
            tokens_per_second: None,
            done: epoch as f64 / options.epochs as f64,
        });
        if epoch - best_epoch >= options.patience {
            break;
        }
    }

    net.params_mut().copy_from_slice(&best);
    let mut train_scores = vec![0.0f64; train_rows.rows()];
    let report = TrainReport {
        train_nll: mean_nll(&net, &train_rows, &mut train_scores).unwrap_or(f64::NAN),
        validation_nll: mean_nll(&net, &valid_rows, &mut scores),
        epochs_run,
        best_epoch,
        seconds: start.elapsed().as_secs_f64(),
        param_count: net.param_count(),
        train_rows: train_rows.rows(),
        validation_rows: valid_rows.rows(),
    };
    let model = BinaryModel {
        net,
        options: options.clone(),
        report: Some(report.clone()),
    };
    Ok((Model::Binary(model), report))
}

/// Splits `data` into (training rows, validation rows) by a seeded shuffle.
fn split_rows(data: &BitMatrix, fraction: f64, rng: &mut dyn RngCore) -> (BitMatrix, BitMatrix) {
    let rows = data.rows();
    let n_valid = if fraction > 0.0 && rows >= 2 {
        ((fraction * rows as f64).round() as usize).clamp(1, rows - 1)
    } else {
        0
    };
    let mut order: Vec<usize> = (0..rows).collect();
    shuffle(&mut order, rng);
    let mut valid = BitMatrix::with_capacity(data.n(), n_valid);
    let mut train = BitMatrix::with_capacity(data.n(), rows - n_valid);
    for (k, &i) in order.iter().enumerate() {
        let target = if k < n_valid { &mut valid } else { &mut train };
        // Rows of `data` are valid bits of the right length: this cannot fail.
        let _ = target.push_row(data.row(i));
    }
    (train, valid)
}

/// Sets the output biases to log((k_i + 1) / (N − k_i + 1)), the smoothed log-odds of bit i.
fn init_output_bias(net: &mut Net, rows: &BitMatrix) {
    let mut ones = vec![0u32; rows.n()];
    for row in rows.iter_rows() {
        for (k, &x) in ones.iter_mut().zip(row) {
            *k += u32::from(x);
        }
    }
    let total = rows.rows() as f64;
    for (b, &k) in net.output_bias_mut().iter_mut().zip(&ones) {
        let k = f64::from(k);
        *b = libm::log((k + 1.0) / (total - k + 1.0)) as f32;
    }
}

/// Mean −log p over `rows`, `None` when there are none.
fn mean_nll(net: &Net, rows: &BitMatrix, scores: &mut [f64]) -> Option<f64> {
    if rows.is_empty() {
        return None;
    }
    net.loglik_rows(rows.as_slice(), scores);
    Some(-scores.iter().sum::<f64>() / rows.rows() as f64)
}

/// Fisher–Yates with an unbiased bounded draw.
pub(crate) fn shuffle(items: &mut [usize], rng: &mut dyn RngCore) {
    for i in (1..items.len()).rev() {
        let j = below(rng, i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

/// A uniform integer in [0, bound) (Lemire's method with rejection).
fn below(rng: &mut dyn RngCore, bound: u64) -> u64 {
    let threshold = bound.wrapping_neg() % bound;
    loop {
        let m = u128::from(rng.next_u64()) * u128::from(bound);
        if (m as u64) >= threshold {
            return (m >> 64) as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::options::ModelType;

    fn data(n: usize, rows: usize, seed: u64) -> BitMatrix {
        let mut rng = sample_rng(seed, 7);
        let mut m = BitMatrix::new(n);
        for _ in 0..rows {
            // Correlated bits: a random "class" decides the odds of each bit.
            let class = rng.next_u32() % 2;
            let row: Vec<u8> = (0..n)
                .map(|i| {
                    let p = if (i as u32 + class).is_multiple_of(2) {
                        200
                    } else {
                        40
                    };
                    u8::from(rng.next_u32() % 256 < p)
                })
                .collect();
            m.push_row(&row).unwrap();
        }
        m
    }

    #[test]
    fn same_seed_same_weights_bit_for_bit() {
        let rows = data(9, 120, 1);
        for t in ModelType::BINARY {
            let mut o = TrainOptions::defaults(t);
            o.epochs = 5;
            o.hidden = o.hidden.map(|_| 6);
            let (a, _) = train(&o, &rows, &mut NoProgress).unwrap();
            let (b, _) = train(&o, &rows, &mut NoProgress).unwrap();
            let (Model::Binary(a), Model::Binary(b)) = (a, b) else {
                panic!("binary models")
            };
            assert_eq!(a.net, b.net, "{t}");
            o.seed = 1;
            let (c, _) = train(&o, &rows, &mut NoProgress).unwrap();
            let Model::Binary(c) = c else {
                panic!("a binary model")
            };
            assert_ne!(a.net, c.net, "{t}: another seed, other weights");
        }
    }

    #[test]
    fn early_stopping_keeps_the_best_epoch() {
        let rows = data(8, 60, 2);
        let mut o = TrainOptions::defaults(ModelType::Fvsbn);
        o.learning_rate = 0.3; // overfits quickly
        o.weight_decay = 0.0;
        o.validation_fraction = 0.3;
        o.patience = 3;
        o.epochs = 100;
        struct Log(Vec<EpochProgress>);
        impl TrainProgress for Log {
            fn epoch_done(&mut self, p: &EpochProgress) {
                self.0.push(p.clone());
            }
        }
        let mut log = Log(vec![]);
        let (model, report) = train(&o, &rows, &mut log).unwrap();
        assert_eq!(log.0.len(), report.epochs_run);
        assert!(report.epochs_run < 100, "stopped early");
        assert_eq!(report.epochs_run - report.best_epoch, 3);
        let best = log.0[report.best_epoch - 1].validation_nll.unwrap();
        let min = log
            .0
            .iter()
            .filter_map(|p| p.validation_nll)
            .fold(f64::INFINITY, f64::min);
        assert_eq!(best, min);
        assert!(
            (report.validation_nll.unwrap() - best).abs() < 1e-12,
            "best weights kept"
        );
        assert_eq!(report.validation_rows, 18);
        assert_eq!(report.train_rows, 42);
        assert_eq!(report.param_count, model.param_count());
    }

    #[test]
    fn cancelling_stops_training() {
        struct CancelAfter(usize);
        impl TrainProgress for CancelAfter {
            fn is_cancelled(&mut self) -> bool {
                self.0 = self.0.saturating_sub(1);
                self.0 == 0
            }
        }
        let rows = data(5, 50, 3);
        let o = TrainOptions::defaults(ModelType::Bernoulli);
        let r = train(&o, &rows, &mut CancelAfter(3));
        assert!(matches!(r, Err(ModelError::Cancelled)));
    }
}
