//! [`SequenceOptions`]: what `CREATE MODEL … OPTIONS (model_type = 'bigram' | 'transformer',
//! …)` asks for.

use crate::error::{ModelError, Result};
use crate::options::{ModelType, bad, parse_float, parse_int};
use crate::sequence::vocab::MAX_VOCAB;

/// Which coordinates RoPE rotates together (the same styles as the `rope` SQL function).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RopeStyle {
    /// Pairs (x[2i], x[2i+1]), as in the RoFormer paper and GPT-J.
    Interleaved,
    /// Pairs (x[i], x[i+d/2]), as in GPT-NeoX and Llama.
    Half,
}

impl RopeStyle {
    /// The name used in SQL.
    pub fn as_str(self) -> &'static str {
        match self {
            RopeStyle::Interleaved => "interleaved",
            RopeStyle::Half => "half",
        }
    }
}

/// Largest `layers`.
pub const MAX_LAYERS: usize = 64;
/// Largest `d_model` and `mlp`.
pub const MAX_WIDTH: usize = 4096;
/// Largest `context` (positions of one sequence, its end token included).
pub const MAX_CONTEXT: usize = 4096;
/// Largest `steps`.
pub const MAX_STEPS: usize = 10_000_000;

/// Everything that decides how a sequence model is trained. Same options, same rows → same
/// weights (with `max_minutes`, training also stops at a time limit, which depends on the
/// machine).
///
/// | option                | bigram | transformer | meaning                                          |
/// |-----------------------|--------|-------------|--------------------------------------------------|
/// | `vocab_size`          | max+1  | max+1       | token ids 0..vocab_size (ARRAY input only)        |
/// | `smoothing`           | 1      | —           | pseudo-count added to every bigram (add-one)      |
/// | `layers`              | —      | 2           | transformer blocks                               |
/// | `d_model`             | —      | 64          | width of the hidden states                       |
/// | `heads`               | —      | 4           | attention heads (divide d_model, even head dim)  |
/// | `mlp`                 | —      | 256         | hidden units of each block's MLP                 |
/// | `context`             | —      | 32          | most tokens in a sequence, its end token counted |
/// | `truncate`            | —      | false       | cut longer training rows instead of refusing     |
/// | `rope_base`           | —      | 10000       | RoPE's base                                      |
/// | `rope_style`          | —      | 'half'      | 'half' or 'interleaved'                          |
/// | `dropout`             | —      | 0           | dropout on each block's two residual branches    |
/// | `steps`               | —      | 4000        | AdamW steps                                      |
/// | `max_minutes`         | —      | 0 (none)    | also stop after this long                        |
/// | `batch_size`          | —      | 128         | sequences per step                               |
/// | `learning_rate`       | —      | 3e-3        | peak AdamW step size                             |
/// | `warmup`              | —      | 100         | steps of linear warm-up, then cosine to 10%      |
/// | `weight_decay`        | —      | 0.01        | AdamW decay of the weight matrices               |
/// | `grad_clip`           | —      | 1           | largest global gradient norm (0: no clipping)    |
/// | `validation_fraction` | 0      | 0.1         | training rows held out                           |
/// | `eval_every`          | —      | 250         | steps between validation passes                  |
/// | `patience`            | —      | 8           | validation passes without improvement, then stop |
/// | `seed`                | 0      | 0           | initialisation, split, batches, dropout          |
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceOptions {
    /// `bigram` or `transformer`.
    pub model_type: ModelType,
    /// The number of token ids of an ARRAY input; `None`: the largest id seen + 1.
    pub vocab_size: Option<usize>,
    /// The bigram's pseudo-count.
    pub smoothing: f64,
    /// Transformer blocks.
    pub layers: usize,
    /// Hidden width.
    pub d_model: usize,
    /// Attention heads.
    pub heads: usize,
    /// MLP hidden units.
    pub mlp: usize,
    /// Most tokens per sequence, end token included.
    pub context: usize,
    /// Cut training rows longer than `context` instead of refusing them.
    pub truncate: bool,
    /// RoPE base.
    pub rope_base: f64,
    /// RoPE style.
    pub rope_style: RopeStyle,
    /// Residual dropout probability.
    pub dropout: f64,
    /// AdamW steps.
    pub steps: usize,
    /// Wall-clock limit in minutes; 0 for none.
    pub max_minutes: f64,
    /// Sequences per step.
    pub batch_size: usize,
    /// Peak learning rate.
    pub learning_rate: f64,
    /// Warm-up steps.
    pub warmup: usize,
    /// AdamW decoupled weight decay of the weight matrices.
    pub weight_decay: f64,
    /// Global gradient-norm clip; 0 for none.
    pub grad_clip: f64,
    /// Share of the rows held out for validation.
    pub validation_fraction: f64,
    /// Steps between validation passes.
    pub eval_every: usize,
    /// Validation passes without a better loss before training stops.
    pub patience: usize,
    /// Seed of everything random in training.
    pub seed: u64,
}

impl SequenceOptions {
    /// The defaults of a sequence model type.
    pub fn defaults(model_type: ModelType) -> Self {
        Self {
            model_type,
            vocab_size: None,
            smoothing: 1.0,
            layers: 2,
            d_model: 64,
            heads: 4,
            mlp: 256,
            context: 32,
            truncate: false,
            rope_base: 10_000.0,
            rope_style: RopeStyle::Half,
            dropout: 0.0,
            steps: 4000,
            max_minutes: 0.0,
            batch_size: 128,
            learning_rate: 3e-3,
            warmup: 100,
            weight_decay: 0.01,
            grad_clip: 1.0,
            validation_fraction: if model_type == ModelType::Bigram {
                0.0
            } else {
                0.1
            },
            eval_every: 250,
            patience: 8,
            seed: 0,
        }
    }

    /// The defaults of `model_type` overridden by SQL `OPTIONS` pairs (names ignore ASCII
    /// case; values are the literals' text). An option the type does not take, a repeated
    /// option, a value out of range or an inconsistent shape is an error naming it.
    pub fn from_options(model_type: &str, options: &[(String, String)]) -> Result<Self> {
        let model_type: ModelType = model_type.parse()?;
        if !model_type.is_sequence() {
            return Err(ModelError::BadInput(format!(
                "model type {model_type} trains on binary vectors, not sequences"
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
            if !model_type.option_names().contains(&key.as_str()) && key != "model_type" {
                return Err(ModelError::UnknownOption {
                    model_type: model_type.to_string(),
                    option: name.trim().to_string(),
                    known: model_type.option_names().join(", "),
                });
            }
            let int = |min, max| parse_int(&key, value, min, max);
            match key.as_str() {
                "model_type" if value.parse::<ModelType>()? != model_type => {
                    return Err(bad(&key, value, model_type.as_str()));
                }
                "vocab_size" => o.vocab_size = Some(int(1, MAX_VOCAB - 1)?),
                "smoothing" => {
                    o.smoothing = parse_float(&key, value, "a number > 0 and ≤ 1e6", |v| {
                        v > 0.0 && v <= 1e6
                    })?
                }
                "layers" => o.layers = int(1, MAX_LAYERS)?,
                "d_model" => o.d_model = int(2, MAX_WIDTH)?,
                "heads" => o.heads = int(1, MAX_WIDTH)?,
                "mlp" => o.mlp = int(1, MAX_WIDTH)?,
                "context" => o.context = int(1, MAX_CONTEXT)?,
                "truncate" => {
                    o.truncate = match value.to_ascii_lowercase().as_str() {
                        "true" | "1" => true,
                        "false" | "0" => false,
                        _ => return Err(bad(&key, value, "true or false")),
                    }
                }
                "rope_base" => {
                    o.rope_base = parse_float(&key, value, "a number > 1", |v| v > 1.0 && v < 1e30)?
                }
                "rope_style" => {
                    o.rope_style = match value.to_ascii_lowercase().as_str() {
                        "half" => RopeStyle::Half,
                        "interleaved" => RopeStyle::Interleaved,
                        _ => return Err(bad(&key, value, "'half' or 'interleaved'")),
                    }
                }
                "dropout" => {
                    o.dropout = parse_float(&key, value, "a number ≥ 0 and < 1", |v| {
                        (0.0..1.0).contains(&v)
                    })?
                }
                "steps" => o.steps = int(1, MAX_STEPS)?,
                "max_minutes" => {
                    o.max_minutes = parse_float(&key, value, "a number of minutes ≥ 0", |v| {
                        (0.0..=1e7).contains(&v)
                    })?
                }
                "batch_size" => o.batch_size = int(1, 1 << 16)?,
                "learning_rate" => {
                    o.learning_rate = parse_float(&key, value, "a number > 0 and ≤ 10", |v| {
                        v > 0.0 && v <= 10.0
                    })?
                }
                "warmup" => o.warmup = int(0, MAX_STEPS)?,
                "weight_decay" => {
                    o.weight_decay =
                        parse_float(&key, value, "a number ≥ 0", |v| (0.0..1e6).contains(&v))?
                }
                "grad_clip" => {
                    o.grad_clip =
                        parse_float(&key, value, "a number ≥ 0", |v| (0.0..1e12).contains(&v))?
                }
                "validation_fraction" => {
                    o.validation_fraction =
                        parse_float(&key, value, "a number ≥ 0 and < 1", |v| {
                            (0.0..1.0).contains(&v)
                        })?
                }
                "eval_every" => o.eval_every = int(1, MAX_STEPS)?,
                "patience" => o.patience = int(1, MAX_STEPS)?,
                "seed" => {
                    o.seed = value
                        .parse::<u64>()
                        .map_err(|_| bad(&key, value, "an integer from 0 to 2^64-1"))?
                }
                _ => {}
            }
        }
        o.check()?;
        Ok(o)
    }

    /// The shape rules that involve several options.
    fn check(&self) -> Result<()> {
        if self.model_type != ModelType::Transformer {
            return Ok(());
        }
        if !self.d_model.is_multiple_of(self.heads) {
            return Err(bad(
                "heads",
                &self.heads.to_string(),
                &format!("a divisor of d_model = {}", self.d_model),
            ));
        }
        if !(self.d_model / self.heads).is_multiple_of(2) {
            return Err(bad(
                "heads",
                &self.heads.to_string(),
                &format!(
                    "a head dimension d_model / heads = {} that is even (RoPE turns pairs)",
                    self.d_model / self.heads
                ),
            ));
        }
        if self.learning_rate * self.weight_decay >= 1.0 {
            return Err(bad(
                "weight_decay",
                &self.weight_decay.to_string(),
                "learning_rate × weight_decay < 1",
            ));
        }
        Ok(())
    }

    /// Every option of this model type with its value (`vocab_size` only when set), as
    /// `from_options` reads them back.
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        self.model_type
            .option_names()
            .iter()
            .filter_map(|&name| {
                let value = match name {
                    "vocab_size" => self.vocab_size?.to_string(),
                    "smoothing" => self.smoothing.to_string(),
                    "layers" => self.layers.to_string(),
                    "d_model" => self.d_model.to_string(),
                    "heads" => self.heads.to_string(),
                    "mlp" => self.mlp.to_string(),
                    "context" => self.context.to_string(),
                    "truncate" => self.truncate.to_string(),
                    "rope_base" => self.rope_base.to_string(),
                    "rope_style" => self.rope_style.as_str().to_string(),
                    "dropout" => self.dropout.to_string(),
                    "steps" => self.steps.to_string(),
                    "max_minutes" => self.max_minutes.to_string(),
                    "batch_size" => self.batch_size.to_string(),
                    "learning_rate" => self.learning_rate.to_string(),
                    "warmup" => self.warmup.to_string(),
                    "weight_decay" => self.weight_decay.to_string(),
                    "grad_clip" => self.grad_clip.to_string(),
                    "validation_fraction" => self.validation_fraction.to_string(),
                    "eval_every" => self.eval_every.to_string(),
                    "patience" => self.patience.to_string(),
                    _ => self.seed.to_string(),
                };
                Some((name.to_string(), value))
            })
            .collect()
    }

    /// The head dimension.
    pub fn head_dim(&self) -> usize {
        self.d_model / self.heads
    }
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
    fn options_round_trip() {
        let o = SequenceOptions::from_options(
            "Transformer",
            &pairs(&[
                ("layers", "3"),
                ("rope_style", "Interleaved"),
                ("vocab_size", "50"),
            ]),
        )
        .unwrap();
        assert_eq!(o.layers, 3);
        assert_eq!(o.rope_style, RopeStyle::Interleaved);
        let back = SequenceOptions::from_options("transformer", &o.to_pairs()).unwrap();
        assert_eq!(back, o);
        let b = SequenceOptions::from_options("bigram", &[]).unwrap();
        assert_eq!(
            SequenceOptions::from_options("bigram", &b.to_pairs()).unwrap(),
            b
        );
    }

    #[test]
    fn absurd_options_are_named() {
        let err = |t: &str, p: &[(&str, &str)]| {
            SequenceOptions::from_options(t, &pairs(p))
                .unwrap_err()
                .to_string()
        };
        assert!(err("transformer", &[("layers", "0")]).contains("layers = '0'"));
        let e = err("transformer", &[("heads", "3")]);
        assert!(
            e.contains("heads = '3'") && e.contains("divisor of d_model = 64"),
            "{e}"
        );
        let e = err("transformer", &[("d_model", "24"), ("heads", "8")]);
        assert!(e.contains("even"), "{e}");
        let e = err("bigram", &[("layers", "2")]);
        assert!(
            e.contains("unknown option 'layers' for model type bigram"),
            "{e}"
        );
        let e = err("transformer", &[("rope_style", "spiral")]);
        assert!(e.contains("rope_style"), "{e}");
        let e = err("transformer", &[("dropout", "1")]);
        assert!(e.contains("dropout"), "{e}");
        let e = err("nade", &[]);
        assert!(e.contains("binary vectors"), "{e}");
    }
}
