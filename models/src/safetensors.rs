//! The safetensors file format (<https://github.com/huggingface/safetensors>), written by hand
//! for f32 tensors: the `safetensors` crate (0.8) would add a second `hashbrown` version to the
//! build.
//!
//! ```text
//! u64 little-endian N | N bytes of JSON header, space-padded to a multiple of 8 | tensor data
//! header: {"__metadata__": {"key": "value", …},
//!          "name": {"dtype": "F32", "shape": [d0, d1], "data_offsets": [start, end]}, …}
//! ```
//!
//! Offsets are relative to the data section; tensors tile it without gaps or overlaps. Files
//! written here load in Python (`safetensors.torch.load_file`) and candle.

use serde_json::{Map, Value, json};

use crate::error::{ModelError, Result};

/// Largest header accepted (the reference implementation's limit).
const MAX_HEADER_LEN: usize = 100_000_000;

/// One f32 tensor: its name, shape and values (row-major).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tensor {
    pub(crate) name: String,
    pub(crate) shape: Vec<usize>,
    pub(crate) values: Vec<f32>,
}

/// The contents of a safetensors file: string metadata and f32 tensors.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Archive {
    pub(crate) metadata: Vec<(String, String)>,
    pub(crate) tensors: Vec<Tensor>,
}

impl Archive {
    /// The value of metadata key `key`.
    pub(crate) fn meta(&self, key: &str) -> Result<&str> {
        self.metadata
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| ModelError::Corrupt(format!("metadata key '{key}' is missing")))
    }

    /// The values of tensor `name`, which must have shape `shape`.
    pub(crate) fn take(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let i = self
            .tensors
            .iter()
            .position(|t| t.name == name)
            .ok_or_else(|| ModelError::Corrupt(format!("tensor '{name}' is missing")))?;
        let t = self.tensors.swap_remove(i);
        if t.shape != shape {
            return Err(ModelError::Corrupt(format!(
                "tensor '{name}' has shape {:?}, expected {shape:?}",
                t.shape
            )));
        }
        if let Some(bad) = t.values.iter().position(|v| !v.is_finite()) {
            return Err(ModelError::Corrupt(format!(
                "tensor '{name}' holds a non-finite value at index {bad}"
            )));
        }
        Ok(t.values)
    }

    /// The file's bytes. Tensors are laid out in order; the header is deterministic.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut header = Map::new();
        let meta: Map<String, Value> = self
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        header.insert("__metadata__".to_string(), Value::Object(meta));
        let mut offset = 0usize;
        for t in &self.tensors {
            let end = offset + 4 * t.values.len();
            header.insert(
                t.name.clone(),
                json!({"dtype": "F32", "shape": t.shape, "data_offsets": [offset, end]}),
            );
            offset = end;
        }
        let mut header = Value::Object(header).to_string().into_bytes();
        header.resize(header.len().next_multiple_of(8), b' ');
        let mut out = Vec::with_capacity(8 + header.len() + offset);
        out.extend_from_slice(&(header.len() as u64).to_le_bytes());
        out.extend_from_slice(&header);
        for t in &self.tensors {
            for v in &t.values {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        out
    }

    /// Reads a file's bytes, checking every length and offset; never panics.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let corrupt = |what: String| ModelError::Corrupt(what);
        let len_bytes: [u8; 8] = bytes
            .get(..8)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| corrupt(format!("{} bytes, too short for a header", bytes.len())))?;
        let header_len = usize::try_from(u64::from_le_bytes(len_bytes))
            .ok()
            .filter(|&n| n <= MAX_HEADER_LEN && n <= bytes.len() - 8)
            .ok_or_else(|| corrupt("the header length is beyond the end of the file".into()))?;
        let header: Value = serde_json::from_slice(&bytes[8..8 + header_len])
            .map_err(|e| corrupt(format!("the header is not JSON: {e}")))?;
        let data = &bytes[8 + header_len..];
        let Value::Object(entries) = header else {
            return Err(corrupt("the header is not a JSON object".into()));
        };
        let mut archive = Archive::default();
        let mut spans = Vec::new();
        for (name, entry) in entries {
            if name == "__metadata__" {
                let Value::Object(meta) = entry else {
                    return Err(corrupt("__metadata__ is not an object".into()));
                };
                for (k, v) in meta {
                    let Value::String(v) = v else {
                        return Err(corrupt(format!("metadata '{k}' is not a string")));
                    };
                    archive.metadata.push((k, v));
                }
                continue;
            }
            let bad = |why: &str| corrupt(format!("tensor '{name}': {why}"));
            if entry.get("dtype").and_then(Value::as_str) != Some("F32") {
                return Err(bad("dtype is not F32"));
            }
            let shape: Vec<usize> = entry
                .get("shape")
                .and_then(Value::as_array)
                .and_then(|dims| {
                    dims.iter()
                        .map(|d| d.as_u64().and_then(|d| usize::try_from(d).ok()))
                        .collect()
                })
                .ok_or_else(|| bad("shape is not a list of sizes"))?;
            let offsets: Vec<usize> = entry
                .get("data_offsets")
                .and_then(Value::as_array)
                .and_then(|o| {
                    o.iter()
                        .map(|d| d.as_u64().and_then(|d| usize::try_from(d).ok()))
                        .collect()
                })
                .filter(|o: &Vec<usize>| o.len() == 2 && o[0] <= o[1] && o[1] <= data.len())
                .ok_or_else(|| bad("data_offsets are not a range inside the file"))?;
            let (start, end) = (offsets[0], offsets[1]);
            let count = shape
                .iter()
                .try_fold(1usize, |acc, &d| acc.checked_mul(d))
                .filter(|&c| c.checked_mul(4) == Some(end - start))
                .ok_or_else(|| bad("shape and data_offsets disagree"))?;
            let values: Vec<f32> = data[start..end]
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            debug_assert_eq!(values.len(), count);
            spans.push((start, end));
            archive.tensors.push(Tensor {
                name,
                shape,
                values,
            });
        }
        // The tensors must tile the data section exactly.
        spans.sort_unstable();
        let mut at = 0;
        for (start, end) in spans {
            if start != at {
                return Err(corrupt("tensor data overlaps or leaves gaps".into()));
            }
            at = end;
        }
        if at != data.len() {
            return Err(corrupt(format!(
                "{} bytes after the last tensor",
                data.len() - at
            )));
        }
        Ok(archive)
    }
}
