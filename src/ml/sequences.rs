//! Arrow columns of sequences in and out of the sequence models (`bigram`, `transformer`).
//!
//! A sequence is a `STRING` (its characters are the tokens; a character the model never saw
//! is its unknown token) or an `ARRAY<INT|BIGINT|SMALLINT|TINYINT>` of token ids (an id
//! outside the model's vocabulary is an error). Which one a model takes was fixed by its
//! training column; the other kind, or a binary model's 0/1 vectors, is an error that names
//! the function, the model and what it takes.

use std::sync::Arc;

use apiary_models::{Model, SequenceModel, Vocab};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Int64Builder, ListArray, ListBuilder, StringArray, StringBuilder,
};
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type};
use datafusion::common::{DataFusionError, Result};

/// What kind of sequence a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqKind {
    /// Strings: characters are the tokens.
    Chars,
    /// Arrays of integer token ids.
    Ids,
}

/// The kind of sequence a column of type `t` holds; `None` for a type that is no sequence.
/// A `NULL`-typed column fits either kind.
pub fn seq_kind(t: &DataType) -> Option<SeqKind> {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Some(SeqKind::Chars),
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _)
            if is_id_type(f.data_type()) =>
        {
            Some(SeqKind::Ids)
        }
        _ => None,
    }
}

fn is_id_type(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Null
    )
}

/// The kind of sequence a model takes.
pub fn model_kind(model: &SequenceModel) -> SeqKind {
    if model.vocab().is_chars() {
        SeqKind::Chars
    } else {
        SeqKind::Ids
    }
}

/// A type in SQL words: `STRING`, `ARRAY<BIGINT>`, ...
pub fn sql_type(t: &DataType) -> String {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "STRING".into(),
        DataType::Boolean => "BOOLEAN".into(),
        DataType::Int8 => "TINYINT".into(),
        DataType::Int16 => "SMALLINT".into(),
        DataType::Int32 => "INT".into(),
        DataType::Int64 => "BIGINT".into(),
        DataType::Float32 => "FLOAT".into(),
        DataType::Float64 => "DOUBLE".into(),
        DataType::Null => "NULL".into(),
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            format!("ARRAY<{}>", sql_type(f.data_type()))
        }
        other => other.to_string(),
    }
}

/// What a model takes, as `SHOW MODELS` and errors say it: `ARRAY<INT> of 64 bits`,
/// `STRING (26 characters)`, `ARRAY<BIGINT> token ids (vocab 500)`.
pub fn input_description(model: &Model) -> String {
    match model {
        Model::Binary(b) => format!("ARRAY<INT> of {} bits", b.input_len()),
        Model::Sequence(s) => match s.vocab() {
            Vocab::Chars(chars) => format!(
                "STRING ({} character{})",
                chars.len(),
                if chars.len() == 1 { "" } else { "s" }
            ),
            Vocab::Ids(n) => format!("ARRAY<BIGINT> token ids (vocab {n})"),
        },
    }
}

/// The error for a column of the wrong kind: `what` names the function and model.
pub fn wrong_input(what: &str, model: &Model, t: &DataType) -> DataFusionError {
    DataFusionError::Plan(format!(
        "{what}: the model takes {}, not {}",
        input_description(model),
        sql_type(t)
    ))
}

/// Checks that a column of type `t` fits the sequence model.
pub fn check_input(what: &str, model: &Model, seq: &SequenceModel, t: &DataType) -> Result<()> {
    match seq_kind(t) {
        Some(kind) if kind == model_kind(seq) => Ok(()),
        None if t.is_null() => Ok(()),
        _ => Err(wrong_input(what, model, t)),
    }
}

/// The type of a generated sequence column: `STRING` or `ARRAY<BIGINT>`.
pub fn seq_type(kind: SeqKind) -> DataType {
    match kind {
        SeqKind::Chars => DataType::Utf8,
        SeqKind::Ids => DataType::new_list(DataType::Int64, true),
    }
}

/// The type of a `token` column: the character as `STRING` or the id as `BIGINT`.
pub fn token_type(kind: SeqKind) -> DataType {
    match kind {
        SeqKind::Chars => DataType::Utf8,
        SeqKind::Ids => DataType::Int64,
    }
}

/// A column of strings as Utf8, whatever its string type (`NULL` becomes all NULL).
pub fn as_utf8(array: &ArrayRef) -> Result<StringArray> {
    let cast = match array.data_type() {
        DataType::Utf8 => Arc::clone(array),
        _ => datafusion::arrow::compute::cast(array.as_ref(), &DataType::Utf8)?,
    };
    Ok(cast.as_string::<i32>().clone())
}

/// A column of integer arrays as `List<Int64>` (an unsigned value above 2^63 − 1 is an error).
pub fn as_id_lists(what: &str, array: &ArrayRef) -> Result<ListArray> {
    let target = DataType::new_list(DataType::Int64, true);
    let cast = if array.data_type() == &target {
        Arc::clone(array)
    } else {
        let options = CastOptions {
            safe: false,
            ..CastOptions::default()
        };
        cast_with_options(array.as_ref(), &target, &options).map_err(|e| {
            DataFusionError::Execution(format!("{what}: token ids must fit a BIGINT: {e}"))
        })?
    };
    Ok(cast.as_list::<i32>().clone())
}

/// A column's sequences as a model's token ids.
#[derive(Debug, Clone, Default)]
pub struct EncodedColumn {
    /// The tokens of the non-NULL rows, one after another.
    pub tokens: Vec<u32>,
    /// Where each non-NULL row's tokens start, and the end: `rows + 1` values.
    pub offsets: Vec<usize>,
    /// Per row of the column: false for a NULL row.
    pub valid: Vec<bool>,
}

impl EncodedColumn {
    /// The tokens of the `k`-th non-NULL row.
    pub fn seq(&self, k: usize) -> &[u32] {
        &self.tokens[self.offsets[k]..self.offsets[k + 1]]
    }

    /// How many rows are not NULL.
    pub fn rows(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// The non-NULL rows' tokens.
    pub fn seqs(&self) -> Vec<&[u32]> {
        (0..self.rows()).map(|k| self.seq(k)).collect()
    }

    /// Errors for the first row longer than the model's context (its end token counted).
    pub fn check_context(&self, what: &str, model: &SequenceModel) -> Result<()> {
        let Some(context) = model.context() else {
            return Ok(());
        };
        let mut k = 0;
        for (row, &valid) in self.valid.iter().enumerate() {
            if !valid {
                continue;
            }
            let tokens = self.seq(k).len() + 1;
            if tokens > context {
                return Err(DataFusionError::Execution(format!(
                    "{what}: row {}: the sequence has {tokens} tokens with its end token, more \
                     than the model's context of {context}",
                    row + 1
                )));
            }
            k += 1;
        }
        Ok(())
    }
}

/// The model's token ids of every row of `array` (a STRING or an integer-array column; the
/// caller checked the kind). A NULL element inside an array, or an id outside the
/// vocabulary, is an error naming `what` and the row.
pub fn encode_column(what: &str, model: &SequenceModel, array: &ArrayRef) -> Result<EncodedColumn> {
    let mut out = EncodedColumn {
        tokens: Vec::new(),
        offsets: vec![0],
        valid: Vec::with_capacity(array.len()),
    };
    let vocab = model.vocab();
    if array.data_type().is_null() {
        out.valid = vec![false; array.len()];
        return Ok(out);
    }
    let bad = |row: usize, e: &dyn std::fmt::Display| {
        DataFusionError::Execution(format!("{what}: row {}: {e}", row + 1))
    };
    match model_kind(model) {
        SeqKind::Chars => {
            let strings = as_utf8(array)?;
            out.tokens.reserve(strings.value_data().len());
            for (row, s) in strings.iter().enumerate() {
                let Some(s) = s else {
                    out.valid.push(false);
                    continue;
                };
                vocab
                    .encode_str(s, &mut out.tokens)
                    .map_err(|e| bad(row, &e))?;
                out.offsets.push(out.tokens.len());
                out.valid.push(true);
            }
        }
        SeqKind::Ids => {
            let lists = as_id_lists(what, array)?;
            let values = lists.values().as_primitive::<Int64Type>();
            out.tokens.reserve(values.len());
            for row in 0..lists.len() {
                if lists.is_null(row) {
                    out.valid.push(false);
                    continue;
                }
                let (start, end) = (
                    lists.value_offsets()[row] as usize,
                    lists.value_offsets()[row + 1] as usize,
                );
                if values.null_count() > 0 && (start..end).any(|i| values.is_null(i)) {
                    return Err(bad(row, &"the sequence has NULL token ids"));
                }
                vocab
                    .encode_ids(&values.values()[start..end], &mut out.tokens)
                    .map_err(|e| bad(row, &e))?;
                out.offsets.push(out.tokens.len());
                out.valid.push(true);
            }
        }
    }
    Ok(out)
}

/// Builds a generated sequence column: `STRING` (a completion's prefix as the user wrote it,
/// then the decoded tokens after it) or `ARRAY<BIGINT>` (the user's ids of every token).
pub enum SeqColumnBuilder {
    /// Strings.
    Chars(StringBuilder),
    /// Arrays of token ids.
    Ids(ListBuilder<Int64Builder>),
}

impl SeqColumnBuilder {
    /// An empty column of `kind`.
    pub fn new(kind: SeqKind) -> Self {
        match kind {
            SeqKind::Chars => SeqColumnBuilder::Chars(StringBuilder::new()),
            SeqKind::Ids => SeqColumnBuilder::Ids(
                ListBuilder::new(Int64Builder::new())
                    .with_field(Arc::new(Field::new_list_field(DataType::Int64, true))),
            ),
        }
    }

    /// Appends `tokens`, whose first `prefix_len` are the prefix written as `prefix_text`.
    pub fn push(&mut self, vocab: &Vocab, prefix_text: &str, prefix_len: usize, tokens: &[u32]) {
        match self {
            SeqColumnBuilder::Chars(b) => {
                let tail = tokens.get(prefix_len..).unwrap_or_default();
                let mut s = String::with_capacity(prefix_text.len() + tail.len());
                s.push_str(prefix_text);
                s.push_str(&vocab.decode_str(tail));
                b.append_value(s);
            }
            SeqColumnBuilder::Ids(b) => {
                b.append_value(tokens.iter().map(|&t| vocab.id_of(t)));
            }
        }
    }

    /// The column.
    pub fn finish(self) -> ArrayRef {
        match self {
            SeqColumnBuilder::Chars(mut b) => Arc::new(b.finish()),
            SeqColumnBuilder::Ids(mut b) => Arc::new(b.finish()),
        }
    }
}

/// An optional whole-number argument (`max_len`, `top_k`) of at least `min`.
pub fn whole(what: &str, name: &str, value: Option<f64>, min: usize) -> Result<Option<usize>> {
    match value {
        None => Ok(None),
        Some(v) if v.is_finite() && v.fract() == 0.0 && v >= min as f64 && v <= 1e15 => {
            Ok(Some(v as usize))
        }
        Some(v) => Err(DataFusionError::Plan(format!(
            "{what}: {name} must be a whole number ≥ {min}, got {v}"
        ))),
    }
}

/// The sampling options of `sample` and `generate`, checked: temperature > 0, max_len ≥ 0,
/// top_k ≥ 1, 0 < top_p ≤ 1.
pub fn sample_options(
    what: &str,
    temperature: Option<f64>,
    max_len: Option<f64>,
    top_k: Option<f64>,
    top_p: Option<f64>,
) -> Result<apiary_models::SampleOptions> {
    let temperature = temperature.unwrap_or(1.0);
    if !(temperature.is_finite() && temperature > 0.0) {
        return Err(DataFusionError::Plan(format!(
            "{what}: temperature must be a number above 0, got {temperature}"
        )));
    }
    if let Some(p) = top_p
        && !(p > 0.0 && p <= 1.0)
    {
        return Err(DataFusionError::Plan(format!(
            "{what}: top_p must be a number above 0 and at most 1, got {p}"
        )));
    }
    Ok(apiary_models::SampleOptions {
        temperature,
        max_len: whole(what, "max_len", max_len, 0)?,
        top_k: whole(what, "top_k", top_k, 1)?,
        top_p,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use apiary_models::{NoProgress, SequenceOptions, TrainingRows, train_sequences};
    use datafusion::arrow::array::Int32Array;

    fn bigram(rows: TrainingRows, options: &[(&str, &str)]) -> Result<Model> {
        let pairs: Vec<(String, String)> = options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let options = SequenceOptions::from_options("bigram", &pairs)
            .map_err(|e| DataFusionError::Plan(e.to_string()))?;
        let (model, _) = train_sequences(&options, &rows, &mut NoProgress)
            .map_err(|e| DataFusionError::Plan(e.to_string()))?;
        Ok(model)
    }

    #[test]
    fn strings_encode_with_unknown_characters_and_nulls() -> Result<()> {
        let model = bigram(TrainingRows::Strings(vec!["ab".into(), "ba".into()]), &[])?;
        let seq = model
            .as_sequence()
            .map_err(|e| DataFusionError::Plan(e.to_string()))?;
        assert_eq!(input_description(&model), "STRING (2 characters)");
        let column: ArrayRef = Arc::new(StringArray::from(vec![
            Some("ab"),
            None,
            Some("zü"),
            Some(""),
        ]));
        let enc = encode_column("f", seq, &column)?;
        assert_eq!(enc.valid, vec![true, false, true, true]);
        assert_eq!(enc.rows(), 3);
        assert_eq!(enc.seq(0), &[2, 3]);
        // Unknown characters are the unknown token (1).
        assert_eq!(enc.seq(1), &[1, 1]);
        assert!(enc.seq(2).is_empty());
        Ok(())
    }

    #[test]
    fn ids_encode_and_refuse_ids_outside_the_vocabulary() -> Result<()> {
        let model = bigram(
            TrainingRows::Ids(vec![vec![0, 1, 2], vec![2, 1]]),
            &[("vocab_size", "5")],
        )?;
        let seq = model
            .as_sequence()
            .map_err(|e| DataFusionError::Plan(e.to_string()))?;
        assert_eq!(
            input_description(&model),
            "ARRAY<BIGINT> token ids (vocab 5)"
        );
        let mut b = ListBuilder::new(datafusion::arrow::array::Int32Builder::new());
        b.append_value([Some(4), Some(0)]);
        b.append_null();
        let column: ArrayRef = Arc::new(b.finish());
        let enc = encode_column("f", seq, &column)?;
        assert_eq!(enc.seqs(), vec![&[5u32, 1][..]]);
        let mut b = ListBuilder::new(datafusion::arrow::array::Int32Builder::new());
        b.append_value([Some(1)]);
        b.append_value([Some(5)]);
        let column: ArrayRef = Arc::new(b.finish());
        let err = encode_column("f", seq, &column)
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("f: row 2: token id 5 at position 0")),
            "{err:?}"
        );
        // Strings are the wrong kind for an id model.
        let strings: ArrayRef = Arc::new(StringArray::from(vec!["a"]));
        let err = check_input("f", &model, seq, strings.data_type())
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(
                |e| e.contains("the model takes ARRAY<BIGINT> token ids (vocab 5), not STRING")
            ),
            "{err:?}"
        );
        let ints: ArrayRef = Arc::new(Int32Array::from(vec![1]));
        assert!(check_input("f", &model, seq, ints.data_type()).is_err());
        Ok(())
    }

    #[test]
    fn sequences_decode_after_the_prefix() -> Result<()> {
        let model = bigram(TrainingRows::Strings(vec!["ab".into()]), &[])?;
        let seq = model
            .as_sequence()
            .map_err(|e| DataFusionError::Plan(e.to_string()))?;
        let mut b = SeqColumnBuilder::new(SeqKind::Chars);
        // The prefix 'ü' (one unknown token) is kept as written.
        b.push(seq.vocab(), "ü", 1, &[1, 2, 3]);
        let column = b.finish();
        assert_eq!(column.as_string::<i32>().value(0), "üab");
        Ok(())
    }
}
