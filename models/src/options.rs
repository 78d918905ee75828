//! [`ModelType`] and [`TrainOptions`]: what `CREATE MODEL … OPTIONS (…)` asks for.

use std::fmt;
use std::str::FromStr;

use crate::error::{ModelError, Result};

/// The kinds of model this crate trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelType {
    /// Independent pixels: p(x) = ∏ p(x_i), one logit per position.
    Bernoulli,
    /// Fully visible sigmoid belief network: p(x_i | x_<i) = σ(b_i + Σ_{j<i} W_ij x_j).
    Fvsbn,
    /// Neural autoregressive density estimator (Larochelle & Murray, 2011): a shared sigmoid
    /// hidden layer h_i = σ(c + Σ_{j<i} W_j x_j), p(x_i | x_<i) = σ(b_i + V_i · h_i).
    Nade,
    /// Sequences: p(t_i | t_{i−1}) from add-one-smoothed counts of adjacent token pairs.
    Bigram,
    /// Sequences: a decoder-only transformer whose attention rotates queries and keys by RoPE.
    Transformer,
}

impl ModelType {
    /// Every model type, in the order error messages list them.
    pub const ALL: [ModelType; 5] = [
        ModelType::Bernoulli,
        ModelType::Fvsbn,
        ModelType::Nade,
        ModelType::Bigram,
        ModelType::Transformer,
    ];

    /// The model types of binary vectors (part 1).
    pub const BINARY: [ModelType; 3] = [ModelType::Bernoulli, ModelType::Fvsbn, ModelType::Nade];

    /// The model types of sequences (part 2).
    pub const SEQUENCE: [ModelType; 2] = [ModelType::Bigram, ModelType::Transformer];

    /// Whether the model type learns sequences (strings, token-id arrays) rather than binary
    /// vectors.
    pub fn is_sequence(self) -> bool {
        matches!(self, ModelType::Bigram | ModelType::Transformer)
    }

    /// The name used in SQL (`model_type = 'nade'`) and in stored files.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelType::Bernoulli => "bernoulli",
            ModelType::Fvsbn => "fvsbn",
            ModelType::Nade => "nade",
            ModelType::Bigram => "bigram",
            ModelType::Transformer => "transformer",
        }
    }

    /// The options this model type takes, besides `model_type`.
    pub fn option_names(self) -> &'static [&'static str] {
        match self {
            ModelType::Nade => &[
                "hidden",
                "epochs",
                "batch_size",
                "learning_rate",
                "weight_decay",
                "validation_fraction",
                "patience",
                "seed",
            ],
            ModelType::Bigram => &["vocab_size", "smoothing", "validation_fraction", "seed"],
            ModelType::Transformer => &[
                "vocab_size",
                "layers",
                "d_model",
                "heads",
                "mlp",
                "context",
                "truncate",
                "rope_base",
                "rope_style",
                "dropout",
                "steps",
                "max_minutes",
                "batch_size",
                "learning_rate",
                "warmup",
                "weight_decay",
                "grad_clip",
                "validation_fraction",
                "eval_every",
                "patience",
                "seed",
            ],
            ModelType::Bernoulli | ModelType::Fvsbn => &[
                "epochs",
                "batch_size",
                "learning_rate",
                "weight_decay",
                "validation_fraction",
                "patience",
                "seed",
            ],
        }
    }
}

impl fmt::Display for ModelType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ModelType {
    type Err = ModelError;

    /// Parses a model type name, ignoring ASCII case and surrounding spaces.
    fn from_str(s: &str) -> Result<Self> {
        let name = s.trim();
        ModelType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| ModelError::UnknownModelType(name.to_string()))
    }
}

/// Largest `hidden` accepted.
pub const MAX_HIDDEN: usize = 1 << 16;
/// Largest `epochs` accepted.
pub const MAX_EPOCHS: usize = 1_000_000;
/// Largest `batch_size` accepted.
pub const MAX_BATCH_SIZE: usize = 1 << 20;

/// Everything that decides how a model is trained. Same options, same data → same weights.
///
/// Defaults, chosen by the mean validation NLL over three seeded validation splits of the
/// `digits` training rows (never the test rows; `examples/digits.rs sweep`); NADE's are the
/// best for 32 and 128 hidden units together:
///
/// | option                | bernoulli | fvsbn | nade  | meaning                                    |
/// |-----------------------|-----------|-------|-------|--------------------------------------------|
/// | `hidden`              | —         | —     | 128   | hidden units (NADE only)                   |
/// | `epochs`              | 500       | 500   | 500   | at most this many passes over the rows     |
/// | `batch_size`          | 100       | 100   | 100   | rows per AdamW step                        |
/// | `learning_rate`       | 0.05      | 0.01  | 0.01  | AdamW step size                            |
/// | `weight_decay`        | 0         | 0.05  | 0.1   | AdamW decoupled decay of the weights       |
/// | `validation_fraction` | 0.1       | 0.1   | 0.1   | training rows held out for early stopping  |
/// | `patience`            | 20        | 20    | 20    | epochs without a better validation NLL     |
/// | `seed`                | 0         | 0     | 0     | initialisation, validation split, shuffles |
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    /// The kind of model.
    pub model_type: ModelType,
    /// NADE's hidden units; `None` for the other model types.
    pub hidden: Option<usize>,
    /// Largest number of passes over the training rows.
    pub epochs: usize,
    /// Rows per AdamW step (the last batch of an epoch may be smaller).
    pub batch_size: usize,
    /// AdamW's step size (β1 = 0.9, β2 = 0.999, ε = 1e-8).
    pub learning_rate: f64,
    /// AdamW's decoupled weight decay, applied to the weight matrices (to the logits for
    /// `bernoulli`, which has no other weights), never to the other biases.
    pub weight_decay: f64,
    /// Share of the training rows (chosen by `seed`) held out to pick the best epoch and stop
    /// early; 0 trains on every row for `epochs` epochs and keeps the last weights.
    pub validation_fraction: f64,
    /// Training stops after this many epochs without a better validation NLL.
    pub patience: usize,
    /// Seed of the initial weights, the validation split and the per-epoch shuffles.
    pub seed: u64,
}

impl TrainOptions {
    /// The defaults of a model type (see the table on [`TrainOptions`]).
    pub fn defaults(model_type: ModelType) -> Self {
        let (learning_rate, weight_decay) = match model_type {
            ModelType::Bernoulli => (0.05, 0.0),
            ModelType::Fvsbn => (0.01, 0.05),
            ModelType::Nade | ModelType::Bigram | ModelType::Transformer => (0.01, 0.1),
        };
        Self {
            model_type,
            hidden: (model_type == ModelType::Nade).then_some(128),
            epochs: 500,
            batch_size: 100,
            learning_rate,
            weight_decay,
            validation_fraction: 0.1,
            patience: 20,
            seed: 0,
        }
    }

    /// The defaults of `model_type` (a name such as `'nade'`) overridden by SQL `OPTIONS`
    /// pairs. Names ignore ASCII case; values are the literals' text (`"128"`, `"1e-3"`). A
    /// `model_type` pair is accepted if it names the same type. An option the type does not
    /// take, a repeated option, or a value out of range is an error naming it.
    pub fn from_options(model_type: &str, options: &[(String, String)]) -> Result<Self> {
        let model_type: ModelType = model_type.parse()?;
        if model_type.is_sequence() {
            return Err(ModelError::BadInput(format!(
                "model type {model_type} trains on sequences, not binary vectors"
            )));
        }
        let mut o = Self::defaults(model_type);
        let mut seen: Vec<String> = Vec::new();
        for (name, value) in options {
            let key = name.trim().to_ascii_lowercase();
            if seen.contains(&key) {
                return Err(bad(&key, value, "the option given once"));
            }
            seen.push(key.clone());
            let value = value.trim();
            match key.as_str() {
                "model_type" => {
                    if value.parse::<ModelType>()? != model_type {
                        return Err(bad(&key, value, model_type.as_str()));
                    }
                }
                "hidden" if model_type == ModelType::Nade => {
                    o.hidden = Some(parse_int(&key, value, 1, MAX_HIDDEN)?);
                }
                "epochs" => o.epochs = parse_int(&key, value, 1, MAX_EPOCHS)?,
                "batch_size" => o.batch_size = parse_int(&key, value, 1, MAX_BATCH_SIZE)?,
                "patience" => o.patience = parse_int(&key, value, 1, MAX_EPOCHS)?,
                "seed" => {
                    o.seed = value
                        .parse::<u64>()
                        .map_err(|_| bad(&key, value, "an integer from 0 to 2^64-1"))?;
                }
                "learning_rate" => {
                    o.learning_rate = parse_float(&key, value, "a number > 0 and ≤ 10", |v| {
                        v > 0.0 && v <= 10.0
                    })?;
                }
                "weight_decay" => {
                    o.weight_decay =
                        parse_float(&key, value, "a number ≥ 0", |v| (0.0..1e6).contains(&v))?;
                }
                "validation_fraction" => {
                    o.validation_fraction =
                        parse_float(&key, value, "a number ≥ 0 and < 1", |v| {
                            (0.0..1.0).contains(&v)
                        })?;
                }
                _ => {
                    return Err(ModelError::UnknownOption {
                        model_type: model_type.to_string(),
                        option: name.trim().to_string(),
                        known: model_type.option_names().join(", "),
                    });
                }
            }
        }
        if o.learning_rate * o.weight_decay >= 1.0 {
            return Err(bad(
                "weight_decay",
                &o.weight_decay.to_string(),
                "learning_rate × weight_decay < 1",
            ));
        }
        Ok(o)
    }

    /// Every option of this model type with its value, in [`ModelType::option_names`] order, as
    /// `from_options` reads them back (for `DESCRIBE MODEL` and the stored metadata).
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        self.model_type
            .option_names()
            .iter()
            .map(|&name| {
                let value = match name {
                    "hidden" => self.hidden.unwrap_or(0).to_string(),
                    "epochs" => self.epochs.to_string(),
                    "batch_size" => self.batch_size.to_string(),
                    "learning_rate" => self.learning_rate.to_string(),
                    "weight_decay" => self.weight_decay.to_string(),
                    "validation_fraction" => self.validation_fraction.to_string(),
                    "patience" => self.patience.to_string(),
                    _ => self.seed.to_string(),
                };
                (name.to_string(), value)
            })
            .collect()
    }
}

pub(crate) fn bad(option: &str, value: &str, expected: &str) -> ModelError {
    ModelError::BadOptionValue {
        option: option.to_string(),
        value: value.to_string(),
        expected: expected.to_string(),
    }
}

pub(crate) fn parse_int(option: &str, value: &str, min: usize, max: usize) -> Result<usize> {
    value
        .parse::<usize>()
        .ok()
        .filter(|v| (min..=max).contains(v))
        .ok_or_else(|| bad(option, value, &format!("an integer from {min} to {max}")))
}

pub(crate) fn parse_float(
    option: &str,
    value: &str,
    expected: &str,
    ok: impl Fn(f64) -> bool,
) -> Result<f64> {
    value
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && ok(*v))
        .ok_or_else(|| bad(option, value, expected))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn options_override_defaults() {
        let o = TrainOptions::from_options(
            "NADE",
            &pairs(&[
                ("Hidden", "32"),
                ("learning_rate", "1e-3"),
                ("seed", "7"),
                ("model_type", "nade"),
            ]),
        )
        .unwrap();
        assert_eq!(o.hidden, Some(32));
        assert_eq!(o.learning_rate, 1e-3);
        assert_eq!(o.seed, 7);
        assert_eq!(o.epochs, TrainOptions::defaults(ModelType::Nade).epochs);
        let back = TrainOptions::from_options("nade", &o.to_pairs()).unwrap();
        assert_eq!(back, o);
    }

    #[test]
    fn bad_options_are_named() {
        let e = TrainOptions::from_options("fvsbn", &pairs(&[("hidden", "3")])).unwrap_err();
        assert!(
            e.to_string()
                .contains("unknown option 'hidden' for model type fvsbn")
        );
        let e = TrainOptions::from_options("nade", &pairs(&[("hiden", "3")])).unwrap_err();
        assert!(e.to_string().contains("'hiden'"), "{e}");
        let e = TrainOptions::from_options("nade", &pairs(&[("hidden", "0")])).unwrap_err();
        assert!(e.to_string().contains("hidden = '0'"), "{e}");
        let e = TrainOptions::from_options("nade", &pairs(&[("epochs", "ten")])).unwrap_err();
        assert!(e.to_string().contains("epochs = 'ten'"), "{e}");
        let e = TrainOptions::from_options("fvsbn", &pairs(&[("learning_rate", "-1")]));
        assert!(e.unwrap_err().to_string().contains("learning_rate"));
        let e = TrainOptions::from_options("fvsbn", &pairs(&[("validation_fraction", "1")]));
        assert!(e.unwrap_err().to_string().contains("validation_fraction"));
        let e = TrainOptions::from_options("fvsbn", &pairs(&[("learning_rate", "NaN")]));
        assert!(e.unwrap_err().to_string().contains("learning_rate"));
        let e = TrainOptions::from_options("fvsbn", &pairs(&[("seed", "1"), ("SEED", "2")]));
        assert!(e.unwrap_err().to_string().contains("seed"));
        let e = TrainOptions::from_options("fvsbn", &pairs(&[("model_type", "nade")]));
        assert!(e.unwrap_err().to_string().contains("model_type"));
        let e = TrainOptions::from_options("gan", &[]).unwrap_err();
        assert!(matches!(e, ModelError::UnknownModelType(t) if t == "gan"));
    }
}
