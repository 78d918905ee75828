//! [`Model`]: any trained model, as the SQL functions and the warehouse see it.

use serde_json::{Map, Value};

use crate::binary::{Bernoulli, BinaryModel, Fvsbn, Nade, Net};
use crate::error::{ModelError, Result};
use crate::options::{ModelType, TrainOptions};
use crate::safetensors::{Archive, Tensor};
use crate::sequence::SequenceModel;
use crate::train::TrainReport;

/// The format tag of stored models (metadata key `format`).
pub const FORMAT: &str = "apiary-model";
/// The version of the stored layout (metadata key `format_version`).
pub const FORMAT_VERSION: &str = "1";

/// A model of any family: binary vectors (part 1) or sequences (part 2).
#[derive(Debug, Clone, PartialEq)]
pub enum Model {
    /// Bernoulli, FVSBN or NADE over vectors of n bits.
    Binary(BinaryModel),
    /// A bigram or a transformer over strings or token-id arrays.
    Sequence(SequenceModel),
}

impl From<BinaryModel> for Model {
    fn from(m: BinaryModel) -> Self {
        Model::Binary(m)
    }
}

impl Model {
    /// The model type.
    pub fn model_type(&self) -> ModelType {
        match self {
            Model::Binary(m) => m.model_type(),
            Model::Sequence(m) => m.model_type(),
        }
    }

    /// The input length a binary model was trained on; a transformer's context (most
    /// tokens, the end token counted); 0 for a bigram (no limit).
    pub fn input_len(&self) -> usize {
        match self {
            Model::Binary(m) => m.input_len(),
            Model::Sequence(m) => m.context().unwrap_or(0),
        }
    }

    /// The number of trained parameters.
    pub fn param_count(&self) -> usize {
        match self {
            Model::Binary(m) => m.param_count(),
            Model::Sequence(m) => m.param_count(),
        }
    }

    /// The options the model was trained with, as `(name, value)` pairs that `OPTIONS` reads.
    pub fn option_pairs(&self) -> Vec<(String, String)> {
        match self {
            Model::Binary(m) => m.options().to_pairs(),
            Model::Sequence(m) => m.options().to_pairs(),
        }
    }

    /// The training report, `None` for an untrained model.
    pub fn report(&self) -> Option<&TrainReport> {
        match self {
            Model::Binary(m) => m.report(),
            Model::Sequence(m) => m.report(),
        }
    }

    /// The binary-vector model, or an error naming the model type for a family that is not one.
    pub fn as_binary(&self) -> Result<&BinaryModel> {
        match self {
            Model::Binary(m) => Ok(m),
            Model::Sequence(m) => Err(ModelError::Unsupported {
                model_type: m.model_type().to_string(),
                what: "binary-vector input (it takes strings or token-id arrays)".into(),
            }),
        }
    }

    /// The sequence model, or an error naming the model type for a binary one.
    pub fn as_sequence(&self) -> Result<&SequenceModel> {
        match self {
            Model::Sequence(m) => Ok(m),
            Model::Binary(m) => Err(ModelError::Unsupported {
                model_type: m.model_type().to_string(),
                what: "sequence input (it takes ARRAY<INT> vectors of 0/1)".into(),
            }),
        }
    }

    /// The model as a safetensors file: its weights as F32 tensors, and string metadata
    /// `format`, `format_version`, `model_type`, `input_len`, `options` (a JSON object of the
    /// options as `from_options` reads them) and, for a trained model, the [`TrainReport`]:
    /// `train_nll`, `validation_nll` (absent without validation rows), `epochs_run`,
    /// `best_epoch`, `train_seconds`, `param_count`, `train_rows`, `validation_rows`.
    ///
    /// Tensors: `bernoulli` — `logits` [n]; `fvsbn` — `bias` [n], `weight` [n, n] (row i the
    /// weights of conditional i, zero on and above the diagonal); `nade` — `hidden_bias` c [H],
    /// `output_bias` b [n], `input_weight` W [n−1, H] (row j is added to the hidden
    /// pre-activation when x_j = 1), `output_weight` V [n, H].
    pub fn to_safetensors(&self) -> Vec<u8> {
        let m = match self {
            Model::Binary(m) => m,
            Model::Sequence(m) => return m.to_archive().to_bytes(),
        };
        let n = m.input_len();
        let tensor = |name: &str, shape: Vec<usize>, values: &[f32]| Tensor {
            name: name.to_string(),
            shape,
            values: values.to_vec(),
        };
        let tensors = match &m.net {
            Net::Bernoulli(b) => vec![tensor("logits", vec![n], &b.params)],
            Net::Fvsbn(f) => vec![
                tensor("bias", vec![n], &f.params[..n]),
                tensor("weight", vec![n, n], &f.dense_weight()),
            ],
            Net::Nade(d) => {
                let [c, b, w, v] = d.blocks();
                let h = d.hidden;
                vec![
                    tensor("hidden_bias", vec![h], c),
                    tensor("output_bias", vec![n], b),
                    tensor("input_weight", vec![n - 1, h], w),
                    tensor("output_weight", vec![n, h], v),
                ]
            }
        };
        let mut metadata = header_metadata(m.model_type(), &m.options.to_pairs());
        metadata.push(("input_len".to_string(), n.to_string()));
        if let Some(r) = &m.report {
            metadata.extend(report_to_metadata(r));
        }
        Archive { metadata, tensors }.to_bytes()
    }

    /// Reads [`to_safetensors`](Self::to_safetensors)'s bytes back, checking the format tag,
    /// the options, every tensor's presence, shape and finiteness: a corrupt or foreign file is
    /// an error ([`ModelError::Corrupt`] mostly), never a panic.
    pub fn from_safetensors(bytes: &[u8]) -> Result<Model> {
        let mut a = Archive::from_bytes(bytes)?;
        if a.meta("format")? != FORMAT {
            return Err(ModelError::Corrupt(
                "not an Apiary model (format tag)".into(),
            ));
        }
        let version = a.meta("format_version")?;
        if version != FORMAT_VERSION {
            return Err(ModelError::Corrupt(format!(
                "format version {version}, this build reads {FORMAT_VERSION}"
            )));
        }
        let model_type = a.meta("model_type")?.to_string();
        let pairs = option_pairs(&a)?;
        if model_type
            .parse::<ModelType>()
            .is_ok_and(ModelType::is_sequence)
        {
            return SequenceModel::from_archive(a, &model_type, &pairs).map(Model::Sequence);
        }
        let n: usize = a
            .meta("input_len")?
            .parse()
            .map_err(|_| ModelError::Corrupt("input_len is not an integer".into()))?;
        let options = TrainOptions::from_options(&model_type, &pairs)?;
        let report = report_from_metadata(&a)?;
        Net::check_size(options.model_type, n, options.hidden)?;
        let net = match options.model_type {
            ModelType::Bernoulli => Net::Bernoulli(Bernoulli {
                n,
                params: a.take("logits", &[n])?,
            }),
            ModelType::Fvsbn => {
                let bias = a.take("bias", &[n])?;
                let dense = a.take("weight", &[n, n])?;
                Net::Fvsbn(Fvsbn::from_dense(n, bias, &dense).ok_or_else(|| {
                    ModelError::Corrupt("fvsbn weight is not strictly lower-triangular".into())
                })?)
            }
            ModelType::Nade => {
                let h = options.hidden.unwrap_or(0);
                let mut params = a.take("hidden_bias", &[h])?;
                params.extend(a.take("output_bias", &[n])?);
                params.extend(a.take("input_weight", &[n - 1, h])?);
                params.extend(a.take("output_weight", &[n, h])?);
                Net::Nade(Nade {
                    n,
                    hidden: h,
                    params,
                })
            }
            // Sequence models were read above; `from_options` refuses them here.
            ModelType::Bigram | ModelType::Transformer => {
                return Err(ModelError::Corrupt(format!(
                    "unexpected model type {model_type}"
                )));
            }
        };
        if let Some(extra) = a.tensors.first() {
            return Err(ModelError::Corrupt(format!(
                "unexpected tensor '{}'",
                extra.name
            )));
        }
        Ok(Model::Binary(BinaryModel {
            net,
            options,
            report,
        }))
    }
}

/// The metadata every stored model starts with: format tag and version, model type, options.
pub(crate) fn header_metadata(
    model_type: ModelType,
    options: &[(String, String)],
) -> Vec<(String, String)> {
    let options: Map<String, Value> = options
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    vec![
        ("format".to_string(), FORMAT.to_string()),
        ("format_version".to_string(), FORMAT_VERSION.to_string()),
        ("model_type".to_string(), model_type.to_string()),
        ("options".to_string(), Value::Object(options).to_string()),
    ]
}

/// The stored options as `(name, value)` pairs.
fn option_pairs(a: &Archive) -> Result<Vec<(String, String)>> {
    let options: Value = serde_json::from_str(a.meta("options")?)
        .map_err(|e| ModelError::Corrupt(format!("options are not JSON: {e}")))?;
    options
        .as_object()
        .ok_or_else(|| ModelError::Corrupt("options are not a JSON object".into()))?
        .iter()
        .map(|(k, v)| {
            let v = v
                .as_str()
                .ok_or_else(|| ModelError::Corrupt("an option value is not a string".into()))?;
            Ok((k.clone(), v.to_string()))
        })
        .collect()
}

/// The report as metadata pairs (numbers in Rust's shortest round-trip form).
pub(crate) fn report_to_metadata(r: &TrainReport) -> Vec<(String, String)> {
    let mut pairs = vec![
        ("train_nll", r.train_nll.to_string()),
        ("epochs_run", r.epochs_run.to_string()),
        ("best_epoch", r.best_epoch.to_string()),
        ("train_seconds", r.seconds.to_string()),
        ("param_count", r.param_count.to_string()),
        ("train_rows", r.train_rows.to_string()),
        ("validation_rows", r.validation_rows.to_string()),
    ];
    if let Some(v) = r.validation_nll {
        pairs.push(("validation_nll", v.to_string()));
    }
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// The report from its metadata pairs; `None` when the model was stored untrained.
pub(crate) fn report_from_metadata(a: &Archive) -> Result<Option<TrainReport>> {
    if a.meta("epochs_run").is_err() {
        return Ok(None);
    }
    fn num<T: std::str::FromStr>(a: &Archive, key: &str) -> Result<T> {
        a.meta(key)?
            .parse()
            .map_err(|_| ModelError::Corrupt(format!("metadata '{key}' is not a number")))
    }
    Ok(Some(TrainReport {
        train_nll: num(a, "train_nll")?,
        validation_nll: match a.meta("validation_nll") {
            Ok(_) => Some(num(a, "validation_nll")?),
            Err(_) => None,
        },
        epochs_run: num(a, "epochs_run")?,
        best_epoch: num(a, "best_epoch")?,
        seconds: num(a, "train_seconds")?,
        param_count: num(a, "param_count")?,
        train_rows: num(a, "train_rows")?,
        validation_rows: num(a, "validation_rows")?,
    }))
}
