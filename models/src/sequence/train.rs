//! Training sequence models: counting for the bigram; AdamW steps for the transformer, with
//! warm-up and a cosine schedule, global gradient clipping, validation passes that keep the
//! best weights and stop early, and the batch split across two threads.

use std::time::Instant;

use rand_chacha::rand_core::RngCore;

use super::bigram::Bigram;
use super::options::SequenceOptions;
use super::transformer::tape::{Batch, Tape};
use super::transformer::{Config, Layout, Transformer};
use super::vocab::{MAX_VOCAB, Vocab};
use super::{SeqNet, SequenceModel};
use crate::error::{ModelError, Result};
use crate::model::Model;
use crate::optim::AdamW;
use crate::options::ModelType;
use crate::sampling::sample_rng;
use crate::train::{EpochProgress, TrainProgress, TrainReport, shuffle};

/// The largest transformer accepted (parameters).
pub const MAX_TRANSFORMER_PARAMS: usize = 1 << 28;
/// Shards of every batch; always this many, whatever the CPU, so the sums (and the weights)
/// do not depend on the thread count.
const SHARDS: usize = 2;
/// Steps between progress reports.
const REPORT_EVERY: usize = 10;

/// The rows a sequence model trains on.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainingRows {
    /// Strings: their characters are the tokens.
    Strings(Vec<String>),
    /// Arrays of token ids (≥ 0).
    Ids(Vec<Vec<i64>>),
}

impl TrainingRows {
    fn len(&self) -> usize {
        match self {
            TrainingRows::Strings(r) => r.len(),
            TrainingRows::Ids(r) => r.len(),
        }
    }
}

/// Rows as token ids, flat.
struct Encoded {
    tokens: Vec<u32>,
    offsets: Vec<usize>,
}

impl Encoded {
    fn row(&self, i: usize) -> &[u32] {
        &self.tokens[self.offsets[i]..self.offsets[i + 1]]
    }
    fn rows(&self) -> usize {
        self.offsets.len() - 1
    }
}

/// The vocabulary and token ids of the rows.
fn encode(options: &SequenceOptions, rows: &TrainingRows) -> Result<(Vocab, Encoded)> {
    let vocab = match rows {
        TrainingRows::Strings(r) => Vocab::from_strings(r.iter().map(String::as_str))?,
        TrainingRows::Ids(r) => {
            let mut max = -1i64;
            for (i, row) in r.iter().enumerate() {
                for (position, &id) in row.iter().enumerate() {
                    if id < 0 || options.vocab_size.is_some_and(|n| id as u64 >= n as u64) {
                        return Err(ModelError::BadInput(format!(
                            "row {}: token id {id} at position {position} is outside the \
                             vocabulary (0 to {})",
                            i + 1,
                            options
                                .vocab_size
                                .map_or("vocab_size − 1".to_string(), |n| (n - 1).to_string())
                        )));
                    }
                    max = max.max(id);
                }
            }
            let size = options.vocab_size.unwrap_or((max + 1).max(1) as usize);
            if size >= MAX_VOCAB {
                return Err(ModelError::BadInput(format!(
                    "token id {max} is too large: at most {} distinct ids",
                    MAX_VOCAB - 1
                )));
            }
            Vocab::Ids(size)
        }
    };
    let mut enc = Encoded {
        tokens: Vec::new(),
        offsets: vec![0],
    };
    match rows {
        TrainingRows::Strings(r) => {
            for s in r {
                vocab.encode_str(s, &mut enc.tokens)?;
                enc.offsets.push(enc.tokens.len());
            }
        }
        TrainingRows::Ids(r) => {
            for ids in r {
                vocab.encode_ids(ids, &mut enc.tokens)?;
                enc.offsets.push(enc.tokens.len());
            }
        }
    }
    Ok((vocab, enc))
}

/// Trains a `bigram` or `transformer` on `rows`; NULL rows are the caller's to leave out.
/// Same options and rows (in the same order) → the same weights on the same machine.
pub fn train_sequences(
    options: &SequenceOptions,
    rows: &TrainingRows,
    progress: &mut dyn TrainProgress,
) -> Result<(Model, TrainReport)> {
    let start = Instant::now();
    if rows.len() == 0 {
        return Err(ModelError::EmptyTrainingSet);
    }
    let (vocab, data) = encode(options, rows)?;
    let mut rng = sample_rng(options.seed, 1);
    let mut order: Vec<usize> = (0..data.rows()).collect();
    shuffle(&mut order, &mut rng);
    let n_valid = if options.validation_fraction > 0.0 && order.len() >= 2 {
        ((options.validation_fraction * order.len() as f64).round() as usize)
            .clamp(1, order.len() - 1)
    } else {
        0
    };
    let (valid, train): (Vec<usize>, Vec<usize>) =
        (order[..n_valid].to_vec(), order[n_valid..].to_vec());

    let (net, report) = match options.model_type {
        ModelType::Bigram => {
            let b = Bigram::fit(
                vocab.len(),
                train.iter().map(|&i| data.row(i)),
                options.smoothing,
            );
            let nll = |ids: &[usize]| {
                (!ids.is_empty()).then(|| {
                    let (mut total, mut tokens) = (0.0, 0usize);
                    for &i in ids {
                        let row = data.row(i);
                        total -= super::bigram_logprobs(&b, row).sum::<f64>();
                        tokens += row.len() + 1;
                    }
                    total / tokens as f64
                })
            };
            let report = TrainReport {
                train_nll: nll(&train).unwrap_or(f64::NAN),
                validation_nll: nll(&valid),
                epochs_run: 1,
                best_epoch: 1,
                seconds: start.elapsed().as_secs_f64(),
                param_count: b.log_probs.len(),
                train_rows: train.len(),
                validation_rows: valid.len(),
            };
            (SeqNet::Bigram(b), report)
        }
        ModelType::Transformer => {
            let (t, report) =
                train_transformer(options, &vocab, &data, &train, &valid, progress, start)?;
            (SeqNet::Transformer(Box::new(t)), report)
        }
        other => {
            return Err(ModelError::BadInput(format!(
                "model type {other} does not train on sequences"
            )));
        }
    };
    let model = SequenceModel {
        vocab,
        net,
        options: options.clone(),
        report: Some(report.clone()),
    };
    Ok((Model::Sequence(model), report))
}

/// One shard's batch, activations and gradient.
#[derive(Default)]
struct Shard {
    batch: Batch,
    tape: Tape,
    grad: Vec<f32>,
    loss: f64,
}

impl Shard {
    fn run(&mut self, net: &Transformer, scale: f32, dropout: Option<(f32, &mut dyn RngCore)>) {
        self.grad.iter_mut().for_each(|g| *g = 0.0);
        self.loss = 0.0;
        if self.batch.positions() == 0 {
            return;
        }
        self.tape.forward(net, &self.batch, dropout);
        self.loss = self.tape.loss(&self.batch, net.config.vocab, scale);
        self.tape.backward(net, &self.batch, &mut self.grad);
    }
}

#[allow(clippy::too_many_arguments)]
fn train_transformer(
    o: &SequenceOptions,
    vocab: &Vocab,
    data: &Encoded,
    train: &[usize],
    valid: &[usize],
    progress: &mut dyn TrainProgress,
    start: Instant,
) -> Result<(Transformer, TrainReport)> {
    let config = Config::new(o, vocab.len());
    match Layout::count(&config) {
        Some(n) if n <= MAX_TRANSFORMER_PARAMS => {}
        _ => {
            return Err(ModelError::BadInput(format!(
                "the transformer would have more than {MAX_TRANSFORMER_PARAMS} parameters"
            )));
        }
    }
    if train.is_empty() {
        return Err(ModelError::EmptyTrainingSet);
    }
    if !o.truncate
        && let Some(i) = (0..data.rows()).find(|&i| data.row(i).len() + 1 > o.context)
    {
        return Err(ModelError::BadInput(format!(
            "row {} has {} tokens with its end token, more than context = {} (raise context, \
             or set truncate = true to cut long rows)",
            i + 1,
            data.row(i).len() + 1,
            o.context
        )));
    }
    let mut net = Transformer::init(config, &mut sample_rng(o.seed, 0));
    let len = net.params.len();
    let decayed = net.layout.decayed(&net.config);
    let mut adam = AdamW::new(len);
    let mut shards: Vec<Shard> = (0..SHARDS)
        .map(|_| Shard {
            grad: vec![0.0; len],
            ..Shard::default()
        })
        .collect();
    let mut dropout_rngs: Vec<_> = (0..SHARDS)
        .map(|k| sample_rng(o.seed, 2 + k as u64))
        .collect();
    let mut order_rng = sample_rng(o.seed, 1);
    let mut order = train.to_vec();
    shuffle(&mut order, &mut order_rng);
    let mut next = 0usize;
    let mut grad = vec![0.0f32; len];
    let parallel = std::thread::available_parallelism().map_or(1, |n| n.get()) >= 2;
    let limit = (o.max_minutes > 0.0).then_some(o.max_minutes * 60.0);

    let mut best = net.params.clone();
    let mut best_nll = f64::INFINITY;
    let mut best_step = 0usize;
    let mut since_best = 0usize;
    let mut validation_nll = None;
    let mut window = (0.0f64, 0usize, Instant::now());
    let mut step = 0usize;
    let mut tokens_per_second = None;

    while step < o.steps {
        if progress.is_cancelled() {
            return Err(ModelError::Cancelled);
        }
        step += 1;
        for s in shards.iter_mut() {
            s.batch.clear();
        }
        for k in 0..o.batch_size.min(order.len()) {
            if next == order.len() {
                shuffle(&mut order, &mut order_rng);
                next = 0;
            }
            shards[k % SHARDS]
                .batch
                .push(data.row(order[next]), o.context);
            next += 1;
        }
        let tokens: usize = shards.iter().map(|s| s.batch.positions()).sum();
        let scale = 1.0 / tokens as f32;
        let p = o.dropout as f32;
        {
            let net = &net;
            let mut jobs: Vec<(&mut Shard, &mut _)> =
                shards.iter_mut().zip(dropout_rngs.iter_mut()).collect();
            let run = |(s, rng): &mut (&mut Shard, &mut rand_chacha::ChaCha8Rng)| {
                let dropout = (p > 0.0).then_some((p, &mut **rng as &mut dyn RngCore));
                s.run(net, scale, dropout);
            };
            if parallel {
                std::thread::scope(|scope| {
                    let (first, rest) = jobs.split_at_mut(1);
                    scope.spawn(|| rest.iter_mut().for_each(run));
                    first.iter_mut().for_each(run);
                });
            } else {
                jobs.iter_mut().for_each(run);
            }
        }
        grad.copy_from_slice(&shards[0].grad);
        for s in &shards[1..] {
            for (g, &x) in grad.iter_mut().zip(&s.grad) {
                *g += x;
            }
        }
        let loss: f64 = shards.iter().map(|s| s.loss).sum();
        if !loss.is_finite() {
            return Err(ModelError::DivergedAtStep { step });
        }
        if o.grad_clip > 0.0 {
            let norm = grad
                .iter()
                .map(|&g| f64::from(g) * f64::from(g))
                .sum::<f64>()
                .sqrt();
            if norm > o.grad_clip {
                let k = (o.grad_clip / norm) as f32;
                grad.iter_mut().for_each(|g| *g *= k);
            }
        }
        let elapsed = start.elapsed().as_secs_f64();
        let done = (step as f64 / o.steps as f64).max(limit.map_or(0.0, |l| elapsed / l));
        let lr = learning_rate(o, step, done);
        adam.step_ranges(&mut net.params, &grad, lr, o.weight_decay, &decayed);

        window.0 += loss;
        window.1 += tokens;
        let last = step == o.steps || done >= 1.0;
        let evaluate = !valid.is_empty() && (step.is_multiple_of(o.eval_every) || last);
        if evaluate {
            let evaluating = Instant::now();
            let nll = mean_nll(&net, data, valid);
            // Throughput counts training time only.
            window.2 += evaluating.elapsed();
            if !nll.is_finite() {
                return Err(ModelError::DivergedAtStep { step });
            }
            validation_nll = Some(nll);
            if nll < best_nll {
                best_nll = nll;
                best_step = step;
                best.copy_from_slice(&net.params);
                since_best = 0;
            } else {
                since_best += 1;
            }
        }
        if step.is_multiple_of(REPORT_EVERY) || evaluate || last {
            let secs = window.2.elapsed().as_secs_f64();
            if secs > 0.0 {
                tokens_per_second = Some(window.1 as f64 / secs);
            }
            progress.epoch_done(&EpochProgress {
                epoch: step,
                epochs: o.steps,
                train_loss: window.0 / window.1.max(1) as f64,
                validation_nll,
                best_epoch: best_step.max(usize::from(valid.is_empty()) * step),
                elapsed: start.elapsed(),
                tokens_per_second,
                done,
            });
            window = (0.0, 0, Instant::now());
        }
        if last || since_best >= o.patience {
            break;
        }
    }
    if valid.is_empty() {
        best_step = step;
    } else {
        net.params.copy_from_slice(&best);
    }
    if !net.params.iter().all(|p| p.is_finite()) {
        return Err(ModelError::DivergedAtStep { step });
    }
    let report = TrainReport {
        train_nll: mean_nll(&net, data, train),
        validation_nll: (!valid.is_empty()).then(|| mean_nll(&net, data, valid)),
        epochs_run: step,
        best_epoch: best_step,
        seconds: start.elapsed().as_secs_f64(),
        param_count: len,
        train_rows: train.len(),
        validation_rows: valid.len(),
    };
    Ok((net, report))
}

/// Linear warm-up over `warmup` steps, then a cosine from the peak to 10% of it as training
/// goes from the end of warm-up to `done` = 1 (the larger of the step and time fractions).
fn learning_rate(o: &SequenceOptions, step: usize, done: f64) -> f64 {
    let warmup = o.warmup.min(o.steps);
    if step <= warmup {
        return o.learning_rate * step as f64 / warmup.max(1) as f64;
    }
    let warm = warmup as f64 / o.steps as f64;
    let q = ((done - warm) / (1.0 - warm).max(1e-12)).clamp(0.0, 1.0);
    o.learning_rate * (0.1 + 0.9 * 0.5 * (1.0 + libm::cos(std::f64::consts::PI * q)))
}

/// Mean −log p per token (end tokens counted) of the rows `ids`, on two threads.
fn mean_nll(net: &Transformer, data: &Encoded, ids: &[usize]) -> f64 {
    if ids.is_empty() {
        return f64::NAN;
    }
    let half = ids.len().div_ceil(SHARDS);
    let score = |part: &[usize]| -> (f64, usize) {
        let seqs: Vec<&[u32]> = part.iter().map(|&i| data.row(i)).collect();
        let mut total = 0.0;
        let mut tokens = 0;
        super::score_chunks(net, &seqs, |_, lp| {
            total -= lp.iter().sum::<f64>();
            tokens += lp.len();
        });
        (total, tokens)
    };
    let parts: Vec<&[usize]> = ids.chunks(half.max(1)).collect();
    let results: Vec<(f64, usize)> = std::thread::scope(|scope| {
        let handles: Vec<_> = parts[1..]
            .iter()
            .map(|&p| scope.spawn(move || score(p)))
            .collect();
        let mut r = vec![score(parts[0])];
        r.extend(
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or((f64::NAN, 1))),
        );
        r
    });
    let (total, tokens) = results
        .iter()
        .fold((0.0, 0), |(a, b), &(t, n)| (a + t, b + n));
    total / tokens.max(1) as f64
}
