//! Models of binary vectors x ∈ {0,1}^n, all autoregressive in the order x_0, x_1, …:
//! p(x) = ∏ p(x_i | x_<i), so log-likelihoods are exact and samples are drawn bit by bit.

mod bernoulli;
mod fvsbn;
mod nade;

use std::ops::Range;

use rand_chacha::rand_core::RngCore;

pub(crate) use bernoulli::Bernoulli;
pub(crate) use fvsbn::Fvsbn;
pub(crate) use nade::Nade;

use crate::bits::{BitMatrix, check_bits};
use crate::error::{ModelError, Result};
use crate::math::log_prob_of_bit;
use crate::options::{ModelType, TrainOptions};
use crate::sampling::{SampleRng, sample_rng};
use crate::train::TrainReport;

/// Largest number of parameters a model may have (200 MB of f32 weights; training holds five
/// copies: weights, gradient, two AdamW moments and the best epoch's weights).
pub const MAX_PARAMS: usize = 50_000_000;

/// Largest input length accepted by any model type (smaller ones may still exceed
/// [`MAX_PARAMS`]).
pub const MAX_INPUT_LEN: usize = 1 << 20;

/// The network of a binary model, one variant per model type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Net {
    Bernoulli(Bernoulli),
    Fvsbn(Fvsbn),
    Nade(Nade),
}

impl Net {
    /// Parameters of a `model_type` model on `n` bits, or an error naming why it is refused.
    pub(crate) fn check_size(
        model_type: ModelType,
        n: usize,
        hidden: Option<usize>,
    ) -> Result<usize> {
        let refuse = |reason: String| ModelError::BadInputLength {
            model_type: model_type.to_string(),
            n,
            reason,
        };
        if n == 0 {
            return Err(refuse("vectors must have at least one value".to_string()));
        }
        if n > MAX_INPUT_LEN {
            return Err(refuse(format!("the longest input is {MAX_INPUT_LEN}")));
        }
        let count = match model_type {
            ModelType::Bernoulli => Bernoulli::param_count(n),
            ModelType::Fvsbn => Fvsbn::param_count(n),
            ModelType::Nade => Nade::param_count(n, hidden.unwrap_or(1)),
            ModelType::Bigram | ModelType::Transformer => {
                return Err(refuse(
                    "it trains on sequences, not binary vectors".to_string(),
                ));
            }
        };
        if count > MAX_PARAMS {
            return Err(refuse(format!(
                "the model would have {count} parameters, more than the limit of {MAX_PARAMS}"
            )));
        }
        Ok(count)
    }

    /// A freshly initialised network (see each model's `init`), drawn from `rng`.
    pub(crate) fn init(options: &TrainOptions, n: usize, rng: &mut dyn RngCore) -> Result<Self> {
        Self::check_size(options.model_type, n, options.hidden)?;
        Ok(match options.model_type {
            ModelType::Bernoulli => Net::Bernoulli(Bernoulli::zeros(n)),
            ModelType::Fvsbn => Net::Fvsbn(Fvsbn::init(n, rng)),
            ModelType::Nade => Net::Nade(Nade::init(n, options.hidden.unwrap_or(1), rng)),
            // Refused by `check_size` above.
            ModelType::Bigram | ModelType::Transformer => {
                return Err(ModelError::BadInput(format!(
                    "model type {} trains on sequences",
                    options.model_type
                )));
            }
        })
    }

    pub(crate) fn model_type(&self) -> ModelType {
        match self {
            Net::Bernoulli(_) => ModelType::Bernoulli,
            Net::Fvsbn(_) => ModelType::Fvsbn,
            Net::Nade(_) => ModelType::Nade,
        }
    }

    pub(crate) fn n(&self) -> usize {
        match self {
            Net::Bernoulli(m) => m.n,
            Net::Fvsbn(m) => m.n,
            Net::Nade(m) => m.n,
        }
    }

    /// Trained parameters (FVSBN stores some padding besides, see `fvsbn.rs`).
    pub(crate) fn param_count(&self) -> usize {
        match self {
            Net::Bernoulli(m) => Bernoulli::param_count(m.n),
            Net::Fvsbn(m) => Fvsbn::param_count(m.n),
            Net::Nade(m) => Nade::param_count(m.n, m.hidden),
        }
    }

    pub(crate) fn params(&self) -> &[f32] {
        match self {
            Net::Bernoulli(m) => &m.params,
            Net::Fvsbn(m) => &m.params,
            Net::Nade(m) => &m.params,
        }
    }

    pub(crate) fn params_mut(&mut self) -> &mut [f32] {
        match self {
            Net::Bernoulli(m) => &mut m.params,
            Net::Fvsbn(m) => &mut m.params,
            Net::Nade(m) => &mut m.params,
        }
    }

    /// The parameters under weight decay: the weight matrices (Bernoulli: its logits).
    pub(crate) fn decayed(&self) -> Range<usize> {
        match self {
            Net::Bernoulli(m) => 0..m.params.len(),
            Net::Fvsbn(m) => m.n..m.params.len(),
            Net::Nade(m) => m.hidden + m.n..m.params.len(),
        }
    }

    /// The per-position output biases, which training starts at the data's marginal logits.
    pub(crate) fn output_bias_mut(&mut self) -> &mut [f32] {
        match self {
            Net::Bernoulli(m) => &mut m.params,
            Net::Fvsbn(m) => &mut m.params[..m.n],
            Net::Nade(m) => m.output_bias_mut(),
        }
    }

    /// log p(row) for every row of `rows` (valid bits, whole rows) into `out`.
    pub(crate) fn loglik_rows(&self, rows: &[u8], out: &mut [f64]) {
        match self {
            Net::Bernoulli(m) => m.loglik_rows(rows, out),
            Net::Fvsbn(m) => m.loglik_rows(rows, out),
            Net::Nade(m) => m.loglik_rows(rows, out),
        }
    }

    /// The conditional logits of a valid row.
    pub(crate) fn logits(&self, x: &[u8], z: &mut [f32]) {
        match self {
            Net::Bernoulli(m) => m.logits(x, z),
            Net::Fvsbn(m) => m.logits(x, z),
            Net::Nade(m) => m.logits(x, z),
        }
    }

    /// Samples x[k..] given x[..k] at temperature t.
    pub(crate) fn complete(&self, x: &mut [u8], k: usize, t: f64, rng: &mut dyn RngCore) {
        match self {
            Net::Bernoulli(m) => m.complete(x, k, t, rng),
            Net::Fvsbn(m) => m.complete(x, k, t, rng),
            Net::Nade(m) => m.complete(x, k, t, rng),
        }
    }

    pub(crate) fn embed_len(&self) -> usize {
        match self {
            Net::Bernoulli(m) => m.n,
            Net::Fvsbn(m) => m.n,
            Net::Nade(m) => m.hidden,
        }
    }

    pub(crate) fn embed(&self, x: &[u8], out: &mut [f32]) {
        match self {
            Net::Bernoulli(m) => m.embed(x, out),
            Net::Fvsbn(m) => m.embed(x, out),
            Net::Nade(m) => m.embed(x, out),
        }
    }

    /// Adds Σ_rows ∂(−log p)/∂θ to `grad` (the parameters' layout); returns Σ_rows −log p.
    pub(crate) fn grad_rows(&self, rows: &[u8], grad: &mut [f32]) -> f64 {
        match self {
            Net::Bernoulli(m) => m.grad_rows(rows, grad),
            Net::Fvsbn(m) => m.grad_rows(rows, grad),
            Net::Nade(m) => m.grad_rows(rows, grad),
        }
    }
}

/// A trained (or freshly initialised) model of binary vectors of one length n, with the options
/// and training report it was made with.
///
/// All functions check their input (length n, values 0/1) and return
/// [`ModelError`] rather than panic.
#[derive(Debug, Clone, PartialEq)]
pub struct BinaryModel {
    pub(crate) net: Net,
    pub(crate) options: TrainOptions,
    pub(crate) report: Option<TrainReport>,
}

impl BinaryModel {
    /// An untrained model on `n` bits with `options`' type, size and seed. Bernoulli starts at
    /// p = 1/2 everywhere; FVSBN and NADE draw their weights uniformly in ±1/√fan-in (as
    /// PyTorch's `Linear`) with zero biases. For tests and benchmarks.
    pub fn init(options: &TrainOptions, n: usize) -> Result<Self> {
        let mut rng = sample_rng(options.seed, 0);
        Ok(Self {
            net: Net::init(options, n, &mut rng)?,
            options: options.clone(),
            report: None,
        })
    }

    /// The model type.
    pub fn model_type(&self) -> ModelType {
        self.net.model_type()
    }

    /// The input length n.
    pub fn input_len(&self) -> usize {
        self.net.n()
    }

    /// The number of trained parameters (weights and biases).
    pub fn param_count(&self) -> usize {
        self.net.param_count()
    }

    /// The options the model was trained with.
    pub fn options(&self) -> &TrainOptions {
        &self.options
    }

    /// The training report, `None` for an untrained model.
    pub fn report(&self) -> Option<&TrainReport> {
        self.report.as_ref()
    }

    fn check_row(&self, x: &[u8]) -> Result<()> {
        let n = self.input_len();
        if x.len() != n {
            return Err(ModelError::WrongInputLength {
                expected: n,
                found: x.len(),
            });
        }
        check_bits(x, n)
    }

    fn check_matrix(&self, x: &BitMatrix) -> Result<()> {
        if x.n() == self.input_len() || x.is_empty() {
            Ok(())
        } else {
            Err(ModelError::WrongInputLength {
                expected: self.input_len(),
                found: x.n(),
            })
        }
    }

    /// log p(x) in nats, exact (up to f64 rounding) for the model's f32 weights.
    pub fn loglik(&self, x: &[u8]) -> Result<f64> {
        self.check_row(x)?;
        let mut out = [0.0];
        self.net.loglik_rows(x, &mut out);
        Ok(out[0])
    }

    /// log p(row) for every row of `x` into `out[..x.rows()]`, with no allocation per row.
    /// Bits are used as bits: a 1 adds a weight row or column, a 0 adds nothing.
    pub fn loglik_batch(&self, x: &BitMatrix, out: &mut [f64]) -> Result<()> {
        self.check_matrix(x)?;
        let out_len = out.len();
        let out = out
            .get_mut(..x.rows())
            .ok_or(ModelError::WrongOutputLength {
                expected: x.rows(),
                found: out_len,
            })?;
        self.net.loglik_rows(x.as_slice(), out);
        Ok(())
    }

    /// log p(x_i | x_<i) for every position i (they sum to [`loglik`](Self::loglik)).
    pub fn logprobs(&self, x: &[u8]) -> Result<Vec<f64>> {
        let mut out = vec![0.0; self.input_len()];
        self.logprobs_into(x, &mut out)?;
        Ok(out)
    }

    /// [`logprobs`](Self::logprobs) into `out` (length n).
    pub fn logprobs_into(&self, x: &[u8], out: &mut [f64]) -> Result<()> {
        self.check_row(x)?;
        check_out(out.len(), x.len())?;
        let mut z = vec![0.0f32; x.len()];
        self.net.logits(x, &mut z);
        for ((o, &zi), &xi) in out.iter_mut().zip(&z).zip(x) {
            *o = log_prob_of_bit(f64::from(zi), xi);
        }
        Ok(())
    }

    /// `count` independent samples, sample k drawn from [`sample_rng`]`(seed, k)`; each
    /// conditional's logit is divided by `temperature` (see [`complete`](Self::complete)).
    pub fn sample(&self, count: usize, temperature: f64, seed: u64) -> Result<BitMatrix> {
        self.sample_range(0, count, temperature, seed)
    }

    /// Samples number `first..first + count` of `sample(…, temperature, seed)`: the same rows
    /// as one large call, for producing samples batch by batch or on several threads.
    pub fn sample_range(
        &self,
        first: u64,
        count: usize,
        temperature: f64,
        seed: u64,
    ) -> Result<BitMatrix> {
        check_temperature(temperature)?;
        let n = self.input_len();
        let mut out = BitMatrix::zeros(n, count);
        for (k, x) in (first..).zip(out.as_mut_slice().chunks_exact_mut(n)) {
            let mut rng: SampleRng = sample_rng(seed, k);
            self.net.complete(x, 0, temperature, &mut rng);
        }
        Ok(out)
    }

    /// x with x_≤k = `prefix` (k = its length, 0 ≤ k ≤ n) and x_>k drawn from
    /// p(x_>k | x_≤k) by ancestral sampling: each conditional is σ(z_i / T) for its logit z_i.
    /// T = 1 samples the model itself, T < 1 sharpens it towards the likelier bit at each step
    /// (greedy as T → 0), T > 1 flattens it (uniform as T → ∞); T must be finite and > 0.
    pub fn complete(
        &self,
        prefix: &[u8],
        temperature: f64,
        rng: &mut dyn RngCore,
    ) -> Result<Vec<u8>> {
        let mut out = vec![0; self.input_len()];
        self.complete_into(prefix, temperature, rng, &mut out)?;
        Ok(out)
    }

    /// [`complete`](Self::complete) into `out` (length n).
    pub fn complete_into(
        &self,
        prefix: &[u8],
        temperature: f64,
        rng: &mut dyn RngCore,
        out: &mut [u8],
    ) -> Result<()> {
        check_temperature(temperature)?;
        let n = self.input_len();
        if prefix.len() > n {
            return Err(ModelError::PrefixTooLong {
                n,
                found: prefix.len(),
            });
        }
        check_bits(prefix, n)?;
        check_out(out.len(), n)?;
        out[..prefix.len()].copy_from_slice(prefix);
        self.net.complete(out, prefix.len(), temperature, rng);
        Ok(())
    }

    /// The length of [`embed`](Self::embed)'s vectors: H for NADE, n otherwise.
    pub fn embed_len(&self) -> usize {
        self.net.embed_len()
    }

    /// A vector representation of x.
    ///
    /// - NADE: its hidden layer for the last position, h = σ(c + Σ_{j<n−1} x_j W_j), the
    ///   features from which it predicts x_{n−1}: it reads every bit but the last (H values in
    ///   (0, 1)).
    /// - FVSBN: p(x_i = 1 | x_<i) for every i (n values in (0, 1)).
    /// - Bernoulli: p(x_i = 1) for every i, the same vector whatever x.
    pub fn embed(&self, x: &[u8]) -> Result<Vec<f32>> {
        let mut out = vec![0.0; self.embed_len()];
        self.embed_into(x, &mut out)?;
        Ok(out)
    }

    /// [`embed`](Self::embed) into `out` (length [`embed_len`](Self::embed_len)).
    pub fn embed_into(&self, x: &[u8], out: &mut [f32]) -> Result<()> {
        self.check_row(x)?;
        check_out(out.len(), self.embed_len())?;
        self.net.embed(x, out);
        Ok(())
    }
}

fn check_out(found: usize, expected: usize) -> Result<()> {
    if found == expected {
        Ok(())
    } else {
        Err(ModelError::WrongOutputLength { expected, found })
    }
}

fn check_temperature(t: f64) -> Result<()> {
    if t.is_finite() && t > 0.0 {
        Ok(())
    } else {
        Err(ModelError::BadTemperature(t))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    /// A network with large random weights (so every conditional is far from 1/2).
    fn random_net(t: ModelType, n: usize, seed: u64) -> Net {
        random_net_hidden(t, n, 5, seed)
    }

    fn random_net_hidden(t: ModelType, n: usize, hidden: usize, seed: u64) -> Net {
        let mut o = TrainOptions::defaults(t);
        o.hidden = o.hidden.map(|_| hidden);
        let mut rng = sample_rng(seed, 3);
        let mut net = Net::init(&o, n, &mut rng).unwrap();
        for p in net.params_mut() {
            *p = crate::sampling::uniform_f32(&mut rng, 3.0);
        }
        repair(&mut net);
        net
    }

    /// Zeroes FVSBN's padding after a test wrote every parameter.
    fn repair(net: &mut Net) {
        if let Net::Fvsbn(f) = net {
            f.zero_padding();
        }
    }

    fn all_vectors(n: usize) -> Vec<u8> {
        (0..1u32 << n)
            .flat_map(|v| (0..n).map(move |i| ((v >> i) & 1) as u8))
            .collect()
    }

    #[test]
    fn large_weights_stay_normalised() {
        let n = 10;
        let rows = all_vectors(n);
        for t in ModelType::BINARY {
            let net = random_net(t, n, 11);
            let mut ll = vec![0.0; 1 << n];
            net.loglik_rows(&rows, &mut ll);
            let total: f64 = ll.iter().map(|l| l.exp()).sum();
            assert!((total - 1.0).abs() < 1e-9, "{t}: Σ p = {total}");
        }
    }

    /// −Σ log p(row) as a function of the parameters, against `grad_rows` by central differences.
    #[test]
    fn gradient_matches_finite_differences() {
        let n = 6;
        let rows: Vec<u8> = [
            [1, 0, 1, 1, 0, 0],
            [0, 0, 1, 0, 1, 1],
            [1, 1, 1, 0, 0, 1],
            [0, 1, 0, 0, 1, 0],
        ]
        .concat();
        for t in ModelType::BINARY {
            let mut net = random_net(t, n, 5);
            for p in net.params_mut() {
                *p *= 0.3;
            }
            repair(&mut net);
            let mut grad = vec![0.0f32; net.params().len()];
            let nll = net.grad_rows(&rows, &mut grad);
            let loss = |net: &Net| {
                let mut ll = vec![0.0; 4];
                net.loglik_rows(&rows, &mut ll);
                -ll.iter().sum::<f64>()
            };
            assert!((nll - loss(&net)).abs() < 1e-9, "{t}: grad_rows' loss");
            for (k, &analytic) in grad.iter().enumerate() {
                let theta = net.params()[k];
                let eps = 1e-2f32;
                net.params_mut()[k] = theta + eps;
                repair(&mut net);
                let up = loss(&net);
                net.params_mut()[k] = theta - eps;
                repair(&mut net);
                let down = loss(&net);
                net.params_mut()[k] = theta;
                let step = f64::from(theta + eps) - f64::from(theta - eps);
                let numeric = (up - down) / step;
                let analytic = f64::from(analytic);
                assert!(
                    (numeric - analytic).abs() < 2e-3 + 1e-2 * analytic.abs(),
                    "{t}: parameter {k}: finite differences {numeric}, gradient {analytic}"
                );
            }
        }
    }

    /// The AVX2 and portable copies of every kernel give the same bits (run on a machine with
    /// AVX2; elsewhere both sides are the portable copy).
    #[test]
    fn avx2_and_portable_kernels_agree_bit_for_bit() {
        let portable = |f: &mut dyn FnMut()| {
            crate::math::FORCE_PORTABLE.with(|p| p.set(true));
            f();
            crate::math::FORCE_PORTABLE.with(|p| p.set(false));
        };
        // 37 bits: a tail after the 8-lane chunks; 300: more than one 256-position product.
        for n in [37, 300] {
            let mut rng = sample_rng(9, 9);
            let rows: Vec<u8> = (0..n * 50)
                .map(|_| u8::from(rng.next_u32().is_multiple_of(3)))
                .collect();
            for t in ModelType::BINARY {
                // 45 hidden units: one full chunk of dot lanes and a tail.
                let net = random_net_hidden(t, n, 45, 2);
                let run = || {
                    let mut ll = vec![0.0; 50];
                    net.loglik_rows(&rows, &mut ll);
                    let mut grad = vec![0.0f32; net.params().len()];
                    let nll = net.grad_rows(&rows, &mut grad);
                    let mut x = vec![0u8; n];
                    net.complete(&mut x, 3, 0.7, &mut sample_rng(1, 2));
                    let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                    let gbits = grad.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                    (bits(&ll), nll.to_bits(), gbits, x)
                };
                let fast = run();
                let mut slow = None;
                portable(&mut || slow = Some(run()));
                assert!(slow.as_ref() == Some(&fast), "{t}, n = {n}");
            }
        }
    }
}
