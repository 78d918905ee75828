//! The model generators: `logprobs(model, x)` (one row per position) and
//! `generate(model, prefix, n [, temperature [, seed [, max_len [, top_k [, top_p]]]]])` (n
//! completions per row), for binary and sequence models alike, and the model-backed form of
//! `rope_embed` ([`super::rope_embed`]). They plug into the engine's `Generate` operator like
//! `explode`: LATERAL VIEW, the SELECT list, OUTER.

use std::sync::{Arc, LazyLock, Weak};

use apiary_models::{BinaryModel, Model, SequenceModel, sample_rng};
use apiary_udfs::generator::{GenerateCursor, GeneratedRows, Generator, GeneratorArg};
use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int32Array, Int64Array, StringBuilder, UInt32Array,
};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::Documentation;
use parking_lot::RwLock;

use super::functions::DOC_SECTION_MODELS;
use super::input::{bits_to_list, column_bits, int_list_type, is_bit_list};
use super::registry::{LoadedModel, load, scalar_name};
use super::sequences::{
    SeqColumnBuilder, SeqKind, as_utf8, check_input, encode_column, input_description, model_kind,
    sample_options, seq_type, sql_type, token_type,
};
use crate::warehouse::Warehouse;

/// The model generators for a session (`state` gives the current database).
pub fn generators(
    warehouse: &Arc<Warehouse>,
    state: Weak<RwLock<SessionState>>,
) -> Vec<Arc<dyn Generator>> {
    let context = ModelContext {
        warehouse: Arc::clone(warehouse),
        state,
    };
    vec![
        Arc::new(LogProbs(context.clone())),
        Arc::new(Generate(context.clone())),
        Arc::new(super::rope_embed::ModelRopeEmbed::new(context)),
    ]
}

/// Where a generator finds its models.
#[derive(Debug, Clone)]
pub(crate) struct ModelContext {
    warehouse: Arc<Warehouse>,
    state: Weak<RwLock<SessionState>>,
}

impl ModelContext {
    fn current_database(&self) -> String {
        self.state.upgrade().map_or_else(
            || "default".to_string(),
            |s| s.read().config_options().catalog.default_schema.clone(),
        )
    }

    /// The model a constant name argument names, and `what` naming it for errors
    /// (`logprobs(model, x) with model db.name`).
    pub(crate) fn model(&self, what: &str, name: &ScalarValue) -> Result<(LoadedModel, String)> {
        let name = scalar_name(what, name)?;
        let loaded = load(&self.warehouse, &name, &self.current_database(), what)?;
        let named = format!(
            "{what} with model {}.{}",
            loaded.entry.db, loaded.entry.name
        );
        Ok((loaded, named))
    }

    /// The model a batch's (constant) first argument names, and the name errors give the call.
    pub(crate) fn batch_model(
        &self,
        what: &str,
        args: &[ArrayRef],
    ) -> Result<(Arc<Model>, String)> {
        let name = args
            .first()
            .ok_or_else(|| DataFusionError::Plan(format!("{what}: no model argument")))?;
        let (loaded, named) = self.model(what, &ScalarValue::try_from_array(name, 0)?)?;
        Ok((loaded.model, named))
    }
}

/// The error for a binary model given something other than 0/1 vectors.
fn not_bits(named: &str, argument: &str, model: &Model, t: &DataType) -> DataFusionError {
    DataFusionError::Plan(format!(
        "{named}: {argument} must be an ARRAY<INT|TINYINT|BOOLEAN> of 0/1, not {} (the model \
         takes {})",
        sql_type(t),
        input_description(model)
    ))
}

pub(crate) fn model_arg(what: &str, args: &[GeneratorArg]) -> Result<ScalarValue> {
    args.first().and_then(|a| a.literal.clone()).ok_or_else(|| {
        DataFusionError::Plan(format!(
            "{what}: the model must be named by a constant string, e.g. 'digits_nade'"
        ))
    })
}

fn doc(description: &str, syntax: &str, example: &str) -> Documentation {
    Documentation::builder(DOC_SECTION_MODELS, description, syntax)
        .with_sql_example(example)
        .build()
}

/// `logprobs(model, x)` → `pos INT, value INT, logprob DOUBLE` (binary models) or
/// `pos INT, token STRING|BIGINT, logprob DOUBLE` (sequence models).
#[derive(Debug)]
struct LogProbs(ModelContext);

static LOGPROBS_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    doc(
        "One row per position i of x (from 0): the value x_i and its conditional \
         log-probability log p(x_i | x_<i) under the model, in nats; the rows of one x sum to \
         loglik(model, x). Binary models: pos, value, logprob. Sequence models: pos, token, \
         logprob with n + 1 rows for n tokens, the token the character (STRING) or the id \
         (BIGINT), and a last row with a NULL token for the end of the sequence. No rows for a \
         NULL x.",
        "LATERAL VIEW logprobs(model, x) l AS pos, value, logprob",
        "SELECT l.pos, l.logprob FROM digits_test LATERAL VIEW logprobs('digits_nade', pixels) l \
         AS pos, value, logprob WHERE id = 5;",
    )
});

impl Generator for LogProbs {
    fn name(&self) -> &str {
        "logprobs"
    }

    fn documentation(&self) -> &Documentation {
        &LOGPROBS_DOC
    }

    fn output_fields(&self, args: &[GeneratorArg]) -> Result<Vec<Field>> {
        const WHAT: &str = "logprobs(model, x)";
        if args.len() != 2 {
            return Err(DataFusionError::Plan(format!(
                "{WHAT} takes 2 arguments, got {}",
                args.len()
            )));
        }
        // Fails at plan time for an unknown model; the model decides the fields.
        let (loaded, named) = self.0.model(WHAT, &model_arg(WHAT, args)?)?;
        let model = loaded.model.as_ref();
        let t = args[1].data_type();
        let token = match model {
            Model::Binary(_) => {
                if !is_bit_list(t) {
                    return Err(not_bits(&named, "x", model, t));
                }
                Field::new("value", DataType::Int32, true)
            }
            Model::Sequence(seq) => {
                check_input(&named, model, seq, t)?;
                Field::new("token", token_type(model_kind(seq)), true)
            }
        };
        Ok(vec![
            Field::new("pos", DataType::Int32, true),
            token,
            Field::new("logprob", DataType::Float64, true),
        ])
    }

    fn generate(
        &self,
        args: &[ArrayRef],
        num_rows: usize,
        cursor: &mut GenerateCursor,
        max_rows: usize,
    ) -> Result<GeneratedRows> {
        const WHAT: &str = "logprobs(model, x)";
        let (model, what) = self.0.batch_model(WHAT, args)?;
        match model.as_ref() {
            Model::Binary(b) => binary_logprobs(b, &what, args, num_rows, cursor, max_rows),
            Model::Sequence(s) => {
                sequence_logprobs(&model, s, &what, args, num_rows, cursor, max_rows)
            }
        }
    }
}

/// `logprobs` of a binary model: n rows per vector.
fn binary_logprobs(
    model: &BinaryModel,
    what: &str,
    args: &[ArrayRef],
    num_rows: usize,
    cursor: &mut GenerateCursor,
    max_rows: usize,
) -> Result<GeneratedRows> {
    let n = model.input_len();
    // The rows from the cursor on, read once; `k` counts the non-NULL ones.
    let first = cursor.row;
    let rest = args[1].slice(first, num_rows - first);
    let bits = column_bits(what, &rest, Some(n))?;
    let mut k = 0;
    let mut row_ids = Vec::new();
    let mut pos = Vec::new();
    let mut values = Vec::new();
    let mut logprobs = Vec::new();
    let mut lp = vec![0.0f64; n];
    let limit = max_rows.max(1);
    while cursor.row < num_rows && row_ids.len() < limit {
        let i = cursor.row - first;
        if !bits.valid[i] {
            cursor.row += 1;
            cursor.offset = 0;
            continue;
        }
        let x = &bits.bits[k * n..(k + 1) * n];
        model
            .logprobs_into(x, &mut lp)
            .map_err(|e| DataFusionError::Execution(format!("{what}: {e}")))?;
        let from = cursor.offset;
        let take = (n - from).min(limit - row_ids.len());
        for p in from..from + take {
            row_ids.push(cursor.row as u32);
            pos.push(p as i32);
            values.push(i32::from(x[p]));
            logprobs.push(lp[p]);
        }
        cursor.offset += take;
        if cursor.offset == n {
            cursor.row += 1;
            cursor.offset = 0;
            k += 1;
        }
    }
    Ok(GeneratedRows {
        row_ids: UInt32Array::from(row_ids),
        columns: vec![
            Arc::new(Int32Array::from(pos)),
            Arc::new(Int32Array::from(values)),
            Arc::new(Float64Array::from(logprobs)),
        ],
    })
}

/// `logprobs` of a sequence model: n + 1 rows per sequence of n tokens, the end token last.
fn sequence_logprobs(
    model: &Model,
    seq: &SequenceModel,
    what: &str,
    args: &[ArrayRef],
    num_rows: usize,
    cursor: &mut GenerateCursor,
    max_rows: usize,
) -> Result<GeneratedRows> {
    let x = &args[1];
    check_input(what, model, seq, x.data_type())?;
    let kind = model_kind(seq);
    let encoded = encode_column(what, seq, x)?;
    encoded.check_context(what, seq)?;
    let text = match kind {
        SeqKind::Chars if !x.data_type().is_null() => Some(as_utf8(x)?),
        _ => None,
    };
    // `k`: the non-NULL rows before the cursor's row.
    let mut k = encoded.valid[..cursor.row].iter().filter(|v| **v).count();
    let limit = max_rows.max(1);
    let mut row_ids = Vec::new();
    let mut pos = Vec::new();
    let mut chars = StringBuilder::new();
    let mut ids = Vec::new();
    let mut logprobs = Vec::new();
    let mut buf = [0u8; 4];
    // The rows this call reaches, scored in one pass: from the cursor's row until their
    // positions fill `limit` output rows.
    let mut window = Vec::new();
    let (mut row, mut j, mut positions) = (cursor.row, k, 0usize);
    while row < num_rows && positions < limit + cursor.offset {
        if encoded.valid[row] {
            window.push(encoded.seq(j));
            positions += encoded.seq(j).len() + 1;
            j += 1;
        }
        row += 1;
    }
    let scored = seq
        .logprobs_batch(&window)
        .map_err(|e| DataFusionError::Execution(format!("{what}: {e}")))?;
    let mut scored = scored.iter();
    while cursor.row < num_rows && row_ids.len() < limit {
        let row = cursor.row;
        if !encoded.valid[row] {
            cursor.row += 1;
            cursor.offset = 0;
            continue;
        }
        let tokens = encoded.seq(k);
        let Some(lp) = scored.next() else {
            break;
        };
        let rows = tokens.len() + 1;
        let from = cursor.offset;
        let take = (rows - from).min(limit - row_ids.len());
        let mut characters = text
            .as_ref()
            .map(|t| t.value(row).chars().skip(from))
            .into_iter()
            .flatten();
        for (p, &l) in lp.iter().enumerate().skip(from).take(take) {
            row_ids.push(row as u32);
            pos.push(p as i32);
            logprobs.push(l);
            match kind {
                SeqKind::Chars => match characters.next() {
                    Some(c) if p < tokens.len() => chars.append_value(c.encode_utf8(&mut buf)),
                    _ => chars.append_null(),
                },
                SeqKind::Ids => ids.push(tokens.get(p).and_then(|&t| seq.vocab().id_of(t))),
            }
        }
        cursor.offset += take;
        if cursor.offset == rows {
            cursor.row += 1;
            cursor.offset = 0;
            k += 1;
        }
    }
    let token: ArrayRef = match kind {
        SeqKind::Chars => Arc::new(chars.finish()),
        SeqKind::Ids => Arc::new(Int64Array::from(ids)),
    };
    Ok(GeneratedRows {
        row_ids: UInt32Array::from(row_ids),
        columns: vec![
            Arc::new(Int32Array::from(pos)),
            token,
            Arc::new(Float64Array::from(logprobs)),
        ],
    })
}

/// `generate(model, prefix, n [, temperature [, seed [, max_len [, top_k [, top_p]]]]])` →
/// `sample_id BIGINT, x ARRAY<INT>` (binary models) or `sample_id BIGINT, seq STRING|ARRAY<BIGINT>`
/// (sequence models).
#[derive(Debug)]
struct Generate(ModelContext);

const GENERATE: &str =
    "generate(model, prefix, n [, temperature [, seed [, max_len [, top_k [, top_p]]]]])";

static GENERATE_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    doc(
        "For each input row, n completions of its prefix, the prefix included. Binary models: \
         the first k values of x are the prefix's (k = its length, 0 ≤ k ≤ the model's \
         length), the rest are sampled from p(x_>k | x_≤k). Sequence models: the prefix (a \
         STRING or an ARRAY<INT|BIGINT> of token ids, as the model takes) is continued token \
         by token until the end token or max_len tokens in all (default and most: a \
         transformer's context − 1, 256 for a bigram; a longer prefix is an error); top_k \
         draws only among the k likeliest tokens, top_p among the likeliest whose \
         probabilities add up to p; the unknown token is never drawn. sample_id counts from 0. \
         temperature (default 1) divides every logit: below 1 sharpens, above 1 flattens. With \
         a seed, a row's completions depend only on (seed, prefix, sample_id) — the same on \
         every run; without one they differ each run. No rows for a NULL prefix or n.",
        "LATERAL VIEW generate(model, prefix, n [, temperature [, seed [, max_len [, top_k [, \
         top_p]]]]]) g AS sample_id, x",
        "SELECT g.sample_id, g.x FROM (VALUES ('qu'), ('pre')) t(prefix) \
         LATERAL VIEW generate('words_tf', prefix, 3, 0.8, 7) g AS sample_id, x;",
    )
});

/// A constant or per-row argument of `generate`, as f64.
fn number_at(what: &str, name: &str, array: Option<&ArrayRef>, row: usize) -> Result<Option<f64>> {
    let Some(array) = array else {
        return Ok(None);
    };
    let v = ScalarValue::try_from_array(array, row)?;
    if v.is_null() {
        return Ok(None);
    }
    match v.cast_to(&DataType::Float64)? {
        ScalarValue::Float64(Some(x)) => Ok(Some(x)),
        _ => Err(DataFusionError::Execution(format!(
            "{what}: {name} must be a number"
        ))),
    }
}

/// FNV-1a over a prefix's values (bits, or token ids): a row's completion seed mixes this
/// with the user's seed.
fn prefix_hash(values: impl ExactSizeIterator<Item = u64>) -> u64 {
    let len = values.len() as u64;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for v in values {
        h ^= v;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= len;
    h.wrapping_mul(0x0000_0100_0000_01b3)
}

/// The most completions one input row may ask for.
const MAX_COMPLETIONS: f64 = 1e8;

/// A row's number of completions, checked.
fn completions(what: &str, count: f64) -> Result<usize> {
    if !(count.is_finite() && count >= 0.0 && count.fract() == 0.0) || count > MAX_COMPLETIONS {
        return Err(DataFusionError::Execution(format!(
            "{what}: n must be a whole number from 0 to {MAX_COMPLETIONS}, got {count}"
        )));
    }
    Ok(count as usize)
}

/// The seed of a row's completions: the user's seed mixed with the prefix, or (no seed) a
/// per-run random one mixed with the row.
fn row_seed(seed: Option<f64>, hash: u64, unseeded: u64, row: usize) -> u64 {
    match seed {
        Some(s) => (s as i64 as u64) ^ hash,
        None => unseeded ^ (row as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
    }
}

impl Generator for Generate {
    fn name(&self) -> &str {
        "generate"
    }

    fn documentation(&self) -> &Documentation {
        &GENERATE_DOC
    }

    fn coerce_arguments(&self, args: &[GeneratorArg]) -> Result<Vec<DataType>> {
        let mut types: Vec<DataType> = args.iter().map(|a| a.data_type().clone()).collect();
        for t in types.iter_mut().skip(2) {
            if t.is_numeric() || t.is_null() {
                *t = DataType::Float64;
            }
        }
        Ok(types)
    }

    fn output_fields(&self, args: &[GeneratorArg]) -> Result<Vec<Field>> {
        if !(3..=8).contains(&args.len()) {
            return Err(DataFusionError::Plan(format!(
                "{GENERATE} takes 3 to 8 arguments, got {}",
                args.len()
            )));
        }
        let names = ["n", "temperature", "seed", "max_len", "top_k", "top_p"];
        for (i, name) in names.iter().enumerate() {
            if let Some(a) = args.get(i + 2)
                && !(a.data_type().is_numeric() || a.data_type().is_null())
            {
                return Err(DataFusionError::Plan(format!(
                    "{GENERATE}: {name} must be a number, not {}",
                    a.data_type()
                )));
            }
        }
        let (loaded, named) = self.0.model(GENERATE, &model_arg(GENERATE, args)?)?;
        let model = loaded.model.as_ref();
        let t = args[1].data_type();
        let x = match model {
            Model::Binary(_) => {
                if !is_bit_list(t) {
                    return Err(not_bits(&named, "prefix", model, t));
                }
                if args.len() > 5 {
                    return Err(DataFusionError::Plan(format!(
                        "{named}: max_len, top_k and top_p are for sequence models; a binary \
                         model's completions have its length ({} bits)",
                        model.input_len()
                    )));
                }
                Field::new("x", int_list_type(), true)
            }
            Model::Sequence(seq) => {
                check_input(&named, model, seq, t)?;
                Field::new("seq", seq_type(model_kind(seq)), true)
            }
        };
        Ok(vec![Field::new("sample_id", DataType::Int64, true), x])
    }

    fn generate(
        &self,
        args: &[ArrayRef],
        num_rows: usize,
        cursor: &mut GenerateCursor,
        max_rows: usize,
    ) -> Result<GeneratedRows> {
        let (model, what) = self.0.batch_model(GENERATE, args)?;
        match model.as_ref() {
            Model::Binary(b) => binary_generate(b, &what, args, num_rows, cursor, max_rows),
            Model::Sequence(s) => {
                sequence_generate(&model, s, &what, args, num_rows, cursor, max_rows)
            }
        }
    }
}

/// `generate` with a binary model.
fn binary_generate(
    model: &BinaryModel,
    what: &str,
    args: &[ArrayRef],
    num_rows: usize,
    cursor: &mut GenerateCursor,
    max_rows: usize,
) -> Result<GeneratedRows> {
    let width = model.input_len();
    let unseeded: u64 = rand::random();
    let mut row_ids = Vec::new();
    let mut sample_ids = Vec::new();
    let mut bits = Vec::new();
    let mut out = vec![0u8; width];
    let mut prefix = Vec::new();
    while cursor.row < num_rows && row_ids.len() < max_rows.max(1) {
        let row = cursor.row;
        let one = column_bits(what, &args[1].slice(row, 1), None)?;
        let count = number_at(what, "n", args.get(2), row)?;
        let Some(count) = count.filter(|_| one.valid.first().copied().unwrap_or(false)) else {
            cursor.row += 1;
            cursor.offset = 0;
            continue;
        };
        let count = completions(what, count)?;
        let temperature = number_at(what, "temperature", args.get(3), row)?.unwrap_or(1.0);
        let seed = number_at(what, "seed", args.get(4), row)?;
        prefix.clear();
        prefix.extend_from_slice(&one.bits);
        if prefix.len() > width {
            return Err(DataFusionError::Execution(format!(
                "{what}: row {}: the prefix has {} values; the model takes {width}",
                row + 1,
                prefix.len()
            )));
        }
        let base = row_seed(
            seed,
            prefix_hash(prefix.iter().map(|&b| u64::from(b))),
            unseeded,
            row,
        );
        while cursor.offset < count && row_ids.len() < max_rows.max(1) {
            let j = cursor.offset as u64;
            let mut rng = sample_rng(base, j);
            model
                .complete_into(&prefix, temperature, &mut rng, &mut out)
                .map_err(|e| DataFusionError::Execution(format!("{what}: {e}")))?;
            bits.extend_from_slice(&out);
            row_ids.push(row as u32);
            sample_ids.push(j as i64);
            cursor.offset += 1;
        }
        if cursor.offset >= count {
            cursor.row += 1;
            cursor.offset = 0;
        }
    }
    Ok(GeneratedRows {
        row_ids: UInt32Array::from(row_ids),
        columns: vec![
            Arc::new(Int64Array::from(sample_ids)),
            bits_to_list(width, &bits, None)?,
        ],
    })
}

/// `generate` with a sequence model: each row's prefix primed once per call (its KV cache
/// shared by the completions drawn in that call).
fn sequence_generate(
    model: &Model,
    seq: &SequenceModel,
    what: &str,
    args: &[ArrayRef],
    num_rows: usize,
    cursor: &mut GenerateCursor,
    max_rows: usize,
) -> Result<GeneratedRows> {
    let prefixes = &args[1];
    check_input(what, model, seq, prefixes.data_type())?;
    let kind = model_kind(seq);
    let encoded = encode_column(what, seq, prefixes)?;
    let text = match kind {
        SeqKind::Chars if !prefixes.data_type().is_null() => Some(as_utf8(prefixes)?),
        _ => None,
    };
    let unseeded: u64 = rand::random();
    let limit = max_rows.max(1);
    let mut k = encoded.valid[..cursor.row].iter().filter(|v| **v).count();
    let mut row_ids = Vec::new();
    let mut sample_ids = Vec::new();
    let mut column = SeqColumnBuilder::new(kind);
    let number = |name: &str, i: usize, row: usize| number_at(what, name, args.get(i), row);
    while cursor.row < num_rows && row_ids.len() < limit {
        let row = cursor.row;
        let count = number("n", 2, row)?;
        let valid = encoded.valid[row];
        let prefix = if valid { encoded.seq(k) } else { &[][..] };
        let Some(count) = count.filter(|_| valid) else {
            k += usize::from(valid);
            cursor.row += 1;
            cursor.offset = 0;
            continue;
        };
        let count = completions(what, count)?;
        let options = sample_options(
            what,
            number("temperature", 3, row)?,
            number("max_len", 5, row)?,
            number("top_k", 6, row)?,
            number("top_p", 7, row)?,
        )?;
        let most = options.max_len.unwrap_or_else(|| seq.default_sample_len());
        if prefix.len() > most {
            return Err(DataFusionError::Execution(format!(
                "{what}: row {}: the prefix has {} tokens, more than {}",
                row + 1,
                prefix.len(),
                match options.max_len {
                    Some(m) => format!("max_len = {m}"),
                    None => format!("the {most} tokens this model generates at most"),
                }
            )));
        }
        let seed = number("seed", 4, row)?;
        let base = row_seed(
            seed,
            prefix_hash(prefix.iter().map(|&t| u64::from(t))),
            unseeded,
            row,
        );
        let first = cursor.offset;
        let take = (count - first).min(limit - row_ids.len());
        let drawn = seq
            .complete(prefix, take, &options, |j| {
                Box::new(sample_rng(base, (first + j) as u64))
            })
            .map_err(|e| DataFusionError::Execution(format!("{what}: row {}: {e}", row + 1)))?;
        let prefix_text = text.as_ref().map_or("", |t| t.value(row));
        for (j, tokens) in drawn.iter().enumerate() {
            column.push(seq.vocab(), prefix_text, prefix.len(), tokens);
            row_ids.push(row as u32);
            sample_ids.push((first + j) as i64);
        }
        cursor.offset += take;
        if cursor.offset >= count {
            cursor.row += 1;
            cursor.offset = 0;
            k += 1;
        }
    }
    Ok(GeneratedRows {
        row_ids: UInt32Array::from(row_ids),
        columns: vec![Arc::new(Int64Array::from(sample_ids)), column.finish()],
    })
}

#[cfg(test)]
mod tests {
    use super::prefix_hash;

    fn hash(values: &[u64]) -> u64 {
        prefix_hash(values.iter().copied())
    }

    #[test]
    fn prefix_hash_tells_prefixes_apart() {
        assert_ne!(hash(&[0, 1]), hash(&[1, 0]));
        assert_ne!(hash(&[]), hash(&[0]));
        assert_eq!(hash(&[1, 1, 0]), hash(&[1, 1, 0]));
        // The value part 1 of the models issue fixed (binary completions keep their seeds).
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in [1u64, 0] {
            h ^= b;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h ^= 2;
        assert_eq!(hash(&[1, 0]), h.wrapping_mul(0x0000_0100_0000_01b3));
    }
}
