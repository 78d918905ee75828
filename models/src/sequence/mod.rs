//! Part 2: sequence models — strings (their characters) and arrays of token ids — learned
//! self-supervised by predicting each next token from the ones before: [`SequenceModel`]
//! with a `bigram` baseline or a `transformer` whose attention uses RoPE.
//!
//! Every sequence t_1..t_n is scored as p(t_1..t_n, end) = Π p(t_i | t_<i) · p(end | t_≤n):
//! its log-likelihood counts n + 1 tokens.

pub(crate) mod bigram;
pub(crate) mod gemm;
pub(crate) mod options;
mod persist;
pub(crate) mod rope;
pub(crate) mod train;
pub(crate) mod transformer;
pub(crate) mod vocab;

use rand_chacha::rand_core::RngCore;

use crate::error::{ModelError, Result};
use crate::options::ModelType;
use crate::sampling::uniform;
use crate::train::TrainReport;
use bigram::Bigram;
use options::{RopeStyle, SequenceOptions};
use transformer::Transformer;
use transformer::decode::{KvCache, StepScratch};
use transformer::tape::{Batch, Tape};
use vocab::{END, Vocab};

/// Sequences from which scoring splits a batch across two threads.
const PARALLEL_MIN_SEQUENCES: usize = 1024;
/// Positions per forward pass when scoring many sequences.
const SCORE_CHUNK_POSITIONS: usize = 8192;
/// The default `max_len` of a bigram's samples (it has no context to fill).
pub const BIGRAM_DEFAULT_SAMPLE_LEN: usize = 256;
/// The largest `max_len` of a bigram's samples.
pub const BIGRAM_MAX_SAMPLE_LEN: usize = 1 << 16;

/// The network behind a sequence model.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SeqNet {
    Bigram(Bigram),
    Transformer(Box<Transformer>),
}

/// A trained sequence model: its vocabulary, network, options and training report.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceModel {
    pub(crate) vocab: Vocab,
    pub(crate) net: SeqNet,
    pub(crate) options: SequenceOptions,
    pub(crate) report: Option<TrainReport>,
}

/// How samples and completions are drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampleOptions {
    /// Softmax temperature (> 0): below 1 sharper, above 1 flatter.
    pub temperature: f64,
    /// Most tokens in a result, a completion's prefix included; `None`: the model's most
    /// (context − 1 for a transformer, 256 for a bigram).
    pub max_len: Option<usize>,
    /// Draw only among the k most likely tokens.
    pub top_k: Option<usize>,
    /// Draw only among the most likely tokens whose probabilities add up to p (nucleus).
    pub top_p: Option<f64>,
}

impl Default for SampleOptions {
    fn default() -> Self {
        Self {
            temperature: 1.0,
            max_len: None,
            top_k: None,
            top_p: None,
        }
    }
}

/// The decoding state of one sequence: the last token (bigram) or a key/value cache.
#[derive(Debug, Clone)]
enum DecodeState {
    Bigram,
    Transformer(Box<(KvCache, StepScratch)>),
}

impl SequenceModel {
    /// The model type (`bigram` or `transformer`).
    pub fn model_type(&self) -> ModelType {
        self.options.model_type
    }

    /// The vocabulary.
    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    /// The options the model was trained with.
    pub fn options(&self) -> &SequenceOptions {
        &self.options
    }

    /// The training report, `None` for an untrained model.
    pub fn report(&self) -> Option<&TrainReport> {
        self.report.as_ref()
    }

    /// Most tokens in a sequence, its end token counted (`None`: no limit, a bigram).
    pub fn context(&self) -> Option<usize> {
        match &self.net {
            SeqNet::Bigram(_) => None,
            SeqNet::Transformer(t) => Some(t.config.context),
        }
    }

    /// Whether two models have the same vocabulary, options and weights (bit for bit),
    /// whatever their training reports (which hold the training time).
    pub fn same_weights(&self, other: &SequenceModel) -> bool {
        self.vocab == other.vocab && self.options == other.options && self.net == other.net
    }

    /// The number of trained parameters.
    pub fn param_count(&self) -> usize {
        match &self.net {
            SeqNet::Bigram(b) => b.log_probs.len(),
            SeqNet::Transformer(t) => t.params.len(),
        }
    }

    /// The ids of a string's characters (unknown characters → the unknown token).
    pub fn encode_str(&self, s: &str) -> Result<Vec<u32>> {
        let mut out = Vec::with_capacity(s.len());
        self.vocab.encode_str(s, &mut out)?;
        Ok(out)
    }

    /// The ids of an array of token ids; an id outside the vocabulary is an error.
    pub fn encode_ids(&self, ids: &[i64]) -> Result<Vec<u32>> {
        let mut out = Vec::with_capacity(ids.len());
        self.vocab.encode_ids(ids, &mut out)?;
        Ok(out)
    }

    fn check_len(&self, tokens: &[u32]) -> Result<()> {
        match self.context() {
            Some(context) if tokens.len() + 1 > context => Err(ModelError::SequenceTooLong {
                tokens: tokens.len() + 1,
                context,
            }),
            _ => Ok(()),
        }
    }

    /// log p(tokens, end) in nats.
    pub fn loglik(&self, tokens: &[u32]) -> Result<f64> {
        let mut out = [0.0];
        self.loglik_batch(&[tokens], &mut out)?;
        Ok(out[0])
    }

    /// [`loglik`](Self::loglik) of many sequences, scored together (one dense pass per few
    /// thousand positions).
    pub fn loglik_batch(&self, seqs: &[&[u32]], out: &mut [f64]) -> Result<()> {
        if out.len() != seqs.len() {
            return Err(ModelError::WrongOutputLength {
                expected: seqs.len(),
                found: out.len(),
            });
        }
        for s in seqs {
            self.check_len(s)?;
        }
        match &self.net {
            SeqNet::Bigram(b) => {
                for (o, s) in out.iter_mut().zip(seqs) {
                    *o = bigram_logprobs(b, s).sum();
                }
            }
            SeqNet::Transformer(t) => {
                score_parallel(t, seqs, |i, lp| out[i] = lp.iter().sum());
            }
        }
        Ok(())
    }

    /// log p(token_i | tokens before it) at every position: n + 1 values, the last one the
    /// end token's.
    pub fn logprobs(&self, tokens: &[u32]) -> Result<Vec<f64>> {
        Ok(self.logprobs_batch(&[tokens])?.pop().unwrap_or_default())
    }

    /// [`logprobs`](Self::logprobs) of many sequences, scored together.
    pub fn logprobs_batch(&self, seqs: &[&[u32]]) -> Result<Vec<Vec<f64>>> {
        for s in seqs {
            self.check_len(s)?;
        }
        Ok(match &self.net {
            SeqNet::Bigram(b) => seqs
                .iter()
                .map(|s| bigram_logprobs(b, s).collect())
                .collect(),
            SeqNet::Transformer(t) => {
                let mut out = vec![Vec::new(); seqs.len()];
                score_parallel(t, seqs, |i, lp| out[i] = lp.to_vec());
                out
            }
        })
    }

    /// The mean of the last block's hidden states over the positions after each token (the
    /// start position alone for an empty sequence): a `d_model`-float summary of the sequence.
    pub fn embed(&self, tokens: &[u32]) -> Result<Vec<f32>> {
        let mut out = Vec::new();
        self.embed_batch(&[tokens], &mut out)?;
        Ok(out)
    }

    /// [`embed`](Self::embed) of many sequences, appended to `out` (`d_model` values each),
    /// run through the model together.
    pub fn embed_batch(&self, seqs: &[&[u32]], out: &mut Vec<f32>) -> Result<()> {
        for s in seqs {
            self.check_len(s)?;
        }
        let t = self.transformer("embeddings")?;
        let d = t.config.d;
        for_each_chunk(t, seqs, |batch, tape, _| {
            for &(start, len) in &batch.seqs {
                // Positions 1..len follow the tokens; an empty sequence has position 0 only.
                let rows = if len == 1 {
                    start..start + 1
                } else {
                    start + 1..start + len
                };
                let count = rows.len() as f32;
                let at = out.len();
                out.resize(at + d, 0.0);
                for r in rows {
                    for (m, &x) in out[at..].iter_mut().zip(&tape.x[r * d..(r + 1) * d]) {
                        *m += x;
                    }
                }
                for m in &mut out[at..] {
                    *m /= count;
                }
            }
        });
        Ok(())
    }

    /// The most tokens a sample or completion may have (its prefix counted): a transformer's
    /// context − 1 (the end token takes the last position); 65,536 for a bigram.
    pub fn max_sample_len(&self) -> usize {
        self.context().map_or(BIGRAM_MAX_SAMPLE_LEN, |c| c - 1)
    }

    /// The `max_len` of samples and completions when none is given: a transformer's
    /// context − 1, 256 for a bigram.
    pub fn default_sample_len(&self) -> usize {
        self.context().map_or(BIGRAM_DEFAULT_SAMPLE_LEN, |c| c - 1)
    }

    /// The embedding row of token id `id` (before any rotation).
    pub fn token_embedding(&self, id: u32) -> Result<&[f32]> {
        let t = self.transformer("token embeddings")?;
        if id as usize >= t.config.vocab {
            return Err(ModelError::BadInput(format!(
                "token {id} is outside the vocabulary"
            )));
        }
        Ok(t.token_embedding(id))
    }

    /// RoPE's base and style inside the model's attention.
    pub fn rope(&self) -> Result<(f64, RopeStyle)> {
        let t = self.transformer("RoPE")?;
        Ok((t.config.rope_base, t.config.rope_style))
    }

    fn transformer(&self, what: &str) -> Result<&Transformer> {
        match &self.net {
            SeqNet::Transformer(t) => Ok(t),
            SeqNet::Bigram(_) => Err(ModelError::Unsupported {
                model_type: "bigram".into(),
                what: what.into(),
            }),
        }
    }

    /// The checked `max_len`.
    fn max_len(&self, options: &SampleOptions) -> Result<usize> {
        let most = self.max_sample_len();
        match options.max_len {
            None => Ok(self.default_sample_len()),
            Some(n) if n <= most => Ok(n),
            Some(n) => Err(ModelError::BadInput(format!(
                "max_len {n} is more than the {most} tokens this model can generate"
            ))),
        }
    }

    fn check_sampling(&self, options: &SampleOptions) -> Result<usize> {
        if !(options.temperature.is_finite() && options.temperature > 0.0) {
            return Err(ModelError::BadTemperature(options.temperature));
        }
        if options.top_k == Some(0) {
            return Err(ModelError::BadInput("top_k must be at least 1".into()));
        }
        if let Some(p) = options.top_p
            && !(p > 0.0 && p <= 1.0)
        {
            return Err(ModelError::BadInput(format!(
                "top_p {p} is invalid: expected a number > 0 and ≤ 1"
            )));
        }
        self.max_len(options)
    }

    fn new_state(&self) -> DecodeState {
        match &self.net {
            SeqNet::Bigram(_) => DecodeState::Bigram,
            SeqNet::Transformer(t) => {
                DecodeState::Transformer(Box::new((KvCache::new(t), StepScratch::default())))
            }
        }
    }

    /// Feeds `token` and writes the next token's logits.
    fn feed(&self, state: &mut DecodeState, token: u32, logits: &mut [f32]) {
        match (&self.net, state) {
            (SeqNet::Bigram(b), _) => logits.copy_from_slice(b.row(token)),
            (SeqNet::Transformer(t), DecodeState::Transformer(state)) => {
                let (cache, scratch) = &mut **state;
                t.step(token, cache, scratch, logits)
            }
            (SeqNet::Transformer(_), DecodeState::Bigram) => {}
        }
    }

    /// The state after the start token and `prefix`, and the logits of the next token.
    fn prime(&self, prefix: &[u32]) -> (DecodeState, Vec<f32>) {
        let mut state = self.new_state();
        let mut logits = vec![0.0f32; self.vocab.len()];
        self.feed(&mut state, END, &mut logits);
        for &t in prefix {
            self.feed(&mut state, t, &mut logits);
        }
        (state, logits)
    }

    /// The checked sampling options' `max_len`, after checking that `prefix` fits in it and
    /// holds only ids of the vocabulary.
    fn check_prefix(&self, prefix: &[u32], options: &SampleOptions) -> Result<usize> {
        let max_len = self.check_sampling(options)?;
        if prefix.len() > max_len {
            return Err(ModelError::SequencePrefixTooLong {
                tokens: prefix.len(),
                max_len,
            });
        }
        if let Some(bad) = prefix.iter().find(|&&t| t as usize >= self.vocab.len()) {
            return Err(ModelError::BadInput(format!(
                "token {bad} is outside the vocabulary"
            )));
        }
        Ok(max_len)
    }

    /// `n` completions of `prefix` (the prefix included in each), completion k drawing from
    /// `rng(k)`; the prefix is run through the model once and its cache shared.
    pub fn complete(
        &self,
        prefix: &[u32],
        n: usize,
        options: &SampleOptions,
        mut rng: impl FnMut(usize) -> Box<dyn RngCore>,
    ) -> Result<Vec<Vec<u32>>> {
        let max_len = self.check_prefix(prefix, options)?;
        let (primed, first) = self.prime(prefix);
        let mut draws = Draws::default();
        let mut out = Vec::with_capacity(n);
        for k in 0..n {
            let mut rng = rng(k);
            let mut state = primed.clone();
            let mut logits = first.clone();
            let mut seq = prefix.to_vec();
            while seq.len() < max_len {
                let next = draws.draw(&logits, options, self.vocab.never_sampled(), &mut *rng);
                if next == END {
                    break;
                }
                seq.push(next);
                self.feed(&mut state, next, &mut logits);
            }
            out.push(seq);
        }
        Ok(out)
    }

    /// [`complete`](Self::complete) without the cache: before each new token the whole
    /// sequence so far is run through the model again. The same draws, much slower; kept to
    /// measure and test the cache.
    pub fn complete_uncached(
        &self,
        prefix: &[u32],
        n: usize,
        options: &SampleOptions,
        mut rng: impl FnMut(usize) -> Box<dyn RngCore>,
    ) -> Result<Vec<Vec<u32>>> {
        let max_len = self.check_prefix(prefix, options)?;
        let mut draws = Draws::default();
        let mut out = Vec::with_capacity(n);
        for k in 0..n {
            let mut rng = rng(k);
            let mut seq = prefix.to_vec();
            while seq.len() < max_len {
                let (_, logits) = self.prime(&seq);
                let next = draws.draw(&logits, options, self.vocab.never_sampled(), &mut *rng);
                if next == END {
                    break;
                }
                seq.push(next);
            }
            out.push(seq);
        }
        Ok(out)
    }
}

/// The bigram's log p of each next token, the end token last.
fn bigram_logprobs<'a>(b: &'a Bigram, tokens: &'a [u32]) -> impl Iterator<Item = f64> + 'a {
    let prev = std::iter::once(END).chain(tokens.iter().copied());
    let next = tokens.iter().copied().chain(std::iter::once(END));
    prev.zip(next).map(|(p, n)| f64::from(b.row(p)[n as usize]))
}

/// [`score_chunks`] with the second half of a large batch scored on another thread (the
/// scores do not depend on how the sequences are split: each position's row of every matrix
/// product is computed on its own).
fn score_parallel(t: &Transformer, seqs: &[&[u32]], mut each: impl FnMut(usize, &[f64])) {
    let parallel = seqs.len() >= PARALLEL_MIN_SEQUENCES
        && std::thread::available_parallelism().map_or(1, |n| n.get()) >= 2;
    if !parallel {
        return score_chunks(t, seqs, each);
    }
    let (first, second) = seqs.split_at(seqs.len() / 2);
    std::thread::scope(|scope| {
        let other = scope.spawn(|| {
            let mut flat = Vec::new();
            let mut lens = Vec::with_capacity(second.len());
            score_chunks(t, second, |_, lp| {
                flat.extend_from_slice(lp);
                lens.push(lp.len());
            });
            (flat, lens)
        });
        score_chunks(t, first, &mut each);
        // The other half's scores, or (should its thread have failed) this thread's.
        match other.join() {
            Ok((flat, lens)) => {
                let mut at = 0;
                for (k, len) in lens.into_iter().enumerate() {
                    each(first.len() + k, &flat[at..at + len]);
                    at += len;
                }
            }
            Err(_) => score_chunks(t, second, |k, lp| each(first.len() + k, lp)),
        }
    });
}

/// Runs `seqs` through the model in packed chunks of a few thousand positions, calling
/// `each(batch, tape, first)` after each forward pass (`first`: the index of the chunk's first
/// sequence). Lengths are checked by the caller.
fn for_each_chunk(t: &Transformer, seqs: &[&[u32]], mut each: impl FnMut(&Batch, &Tape, usize)) {
    let mut batch = Batch::default();
    let mut tape = Tape::default();
    let mut first = 0;
    while first < seqs.len() {
        batch.clear();
        let mut end = first;
        while end < seqs.len()
            && (end == first || batch.positions() + seqs[end].len() < SCORE_CHUNK_POSITIONS)
        {
            batch.push(seqs[end], t.config.context);
            end += 1;
        }
        tape.forward(t, &batch, None);
        each(&batch, &tape, first);
        first = end;
    }
}

/// Scores `seqs`, calling `each(i, logprobs)` with the per-position log-probabilities of
/// sequence i. Lengths are checked by the caller.
fn score_chunks(t: &Transformer, seqs: &[&[u32]], mut each: impl FnMut(usize, &[f64])) {
    let mut lp = Vec::new();
    for_each_chunk(t, seqs, |batch, tape, first| {
        lp.clear();
        lp.resize(batch.positions(), 0.0);
        tape.target_logprobs(batch, t.config.vocab, &mut lp);
        for (k, &(start, len)) in batch.seqs.iter().enumerate() {
            each(first + k, &lp[start..start + len]);
        }
    });
}

/// Scratch of the categorical draws.
#[derive(Debug, Default)]
struct Draws {
    weights: Vec<f64>,
    order: Vec<u32>,
}

impl Draws {
    /// Draws a token from softmax(logits / temperature), restricted by top-k and top-p,
    /// never `excluded`: one uniform draw walked through the kept weights in id order.
    fn draw(
        &mut self,
        logits: &[f32],
        options: &SampleOptions,
        excluded: Option<u32>,
        rng: &mut dyn RngCore,
    ) -> u32 {
        let inv_t = 1.0 / options.temperature;
        let allowed = |i: usize| excluded != Some(i as u32);
        let max = logits
            .iter()
            .enumerate()
            .filter(|&(i, _)| allowed(i))
            .map(|(_, &z)| f64::from(z))
            .fold(f64::NEG_INFINITY, f64::max);
        self.weights.clear();
        self.weights
            .extend(logits.iter().enumerate().map(|(i, &z)| {
                if allowed(i) {
                    libm::exp((f64::from(z) - max) * inv_t)
                } else {
                    0.0
                }
            }));
        if options.top_k.is_some() || options.top_p.is_some() {
            let w = &self.weights;
            self.order.clear();
            self.order.extend(0..w.len() as u32);
            self.order
                .sort_by(|&a, &b| w[b as usize].total_cmp(&w[a as usize]).then(a.cmp(&b)));
            let total: f64 = w.iter().sum();
            let mut keep = options.top_k.unwrap_or(w.len()).min(w.len());
            if let Some(p) = options.top_p {
                let mut acc = 0.0;
                for (k, &i) in self.order.iter().enumerate().take(keep) {
                    acc += w[i as usize];
                    if acc >= p * total {
                        keep = k + 1;
                        break;
                    }
                }
            }
            for &i in &self.order[keep..] {
                self.weights[i as usize] = 0.0;
            }
        }
        let total: f64 = self.weights.iter().sum();
        let mut u = uniform(rng) * total;
        let mut last = END;
        for (i, &w) in self.weights.iter().enumerate() {
            if w > 0.0 {
                last = i as u32;
                if u < w {
                    return last;
                }
                u -= w;
            }
        }
        last
    }
}
