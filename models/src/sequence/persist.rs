//! Sequence models as safetensors: the common header (see [`crate::Model::to_safetensors`]),
//! the vocabulary (`vocab_chars`: the characters in id order from id 2, or `vocab_size`),
//! the report, and the weights — the bigram's `log_probs` [V, V] (row: previous token), or the
//! transformer's tensors under PyTorch-style names (`tok_emb.weight`, `blocks.0.attn.qkv.weight`
//! [3·d_model, d_model] with rows q|k|v, …, `head.weight`), each [out, in].

use super::bigram::Bigram;
use super::options::SequenceOptions;
use super::transformer::{Config, Layout, Transformer};
use super::vocab::Vocab;
use super::{SeqNet, SequenceModel};
use crate::error::{ModelError, Result};
use crate::model::{header_metadata, report_from_metadata, report_to_metadata};
use crate::safetensors::{Archive, Tensor};

impl SequenceModel {
    /// The model as a safetensors archive.
    pub(crate) fn to_archive(&self) -> Archive {
        let mut metadata = header_metadata(self.model_type(), &self.options.to_pairs());
        metadata.push(self.vocab.to_metadata());
        if let Some(r) = &self.report {
            metadata.extend(report_to_metadata(r));
        }
        let tensors = match &self.net {
            SeqNet::Bigram(b) => vec![Tensor {
                name: "log_probs".into(),
                shape: vec![b.vocab, b.vocab],
                values: b.log_probs.clone(),
            }],
            SeqNet::Transformer(t) => t
                .layout
                .tensors(&t.config)
                .into_iter()
                .map(|(name, at, shape)| {
                    let len: usize = shape.iter().product();
                    Tensor {
                        name,
                        shape,
                        values: t.params[at..at + len].to_vec(),
                    }
                })
                .collect(),
        };
        Archive { metadata, tensors }
    }

    /// Reads [`to_archive`](Self::to_archive)'s form back, checking every tensor.
    pub(crate) fn from_archive(
        mut a: Archive,
        model_type: &str,
        pairs: &[(String, String)],
    ) -> Result<Self> {
        let options = SequenceOptions::from_options(model_type, pairs)?;
        let vocab = Vocab::from_metadata(a.meta("vocab_chars").ok(), a.meta("vocab_size").ok())?;
        let report = report_from_metadata(&a)?;
        let v = vocab.len();
        let net = if options.model_type == crate::ModelType::Bigram {
            SeqNet::Bigram(Bigram {
                vocab: v,
                log_probs: a.take("log_probs", &[v, v])?,
            })
        } else {
            let config = Config::new(&options, v);
            if Layout::count(&config).is_none_or(|n| n > super::train::MAX_TRANSFORMER_PARAMS) {
                return Err(ModelError::Corrupt("the transformer is too large".into()));
            }
            let layout = Layout::new(&config);
            let mut params = vec![0.0f32; layout.len];
            for (name, at, shape) in layout.tensors(&config) {
                let values = a.take(&name, &shape)?;
                params[at..at + values.len()].copy_from_slice(&values);
            }
            SeqNet::Transformer(Box::new(Transformer::from_params(config, params)))
        };
        if let Some(extra) = a.tensors.first() {
            return Err(ModelError::Corrupt(format!(
                "unexpected tensor '{}'",
                extra.name
            )));
        }
        Ok(SequenceModel {
            vocab,
            net,
            options,
            report,
        })
    }
}
