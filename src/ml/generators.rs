//! The model generators: `logprobs(model, x)` (one row per position) and
//! `generate(model, prefix, n [, temperature [, seed]])` (n completions per row). They plug
//! into the engine's `Generate` operator like `explode`: LATERAL VIEW, the SELECT list, OUTER.

use std::sync::{Arc, LazyLock, Weak};

use apiary_models::{BinaryModel, sample_rng};
use apiary_udfs::generator::{GenerateCursor, GeneratedRows, Generator, GeneratorArg};
use datafusion::arrow::array::{ArrayRef, Float64Array, Int32Array, Int64Array, UInt32Array};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::Documentation;
use parking_lot::RwLock;

use super::functions::DOC_SECTION_MODELS;
use super::input::{bits_to_list, column_bits, int_list_type, is_bit_list};
use super::registry::{LoadedModel, load, scalar_name};
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
        Arc::new(Generate(context)),
    ]
}

/// Where a generator finds its models.
#[derive(Debug, Clone)]
struct ModelContext {
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

    /// The binary model a constant name argument names.
    fn binary(&self, what: &str, name: &ScalarValue) -> Result<(LoadedModel, Arc<BinaryModelRef>)> {
        let name = scalar_name(what, name)?;
        let loaded = load(&self.warehouse, &name, &self.current_database(), what)?;
        let model = Arc::clone(&loaded.model);
        model.as_binary().map_err(|e| {
            DataFusionError::Plan(format!(
                "{what}: model {}.{}: {e}",
                loaded.entry.db, loaded.entry.name
            ))
        })?;
        Ok((loaded, Arc::new(BinaryModelRef(model))))
    }
}

impl ModelContext {
    /// The binary model a batch's (constant) first argument names, and the name errors give
    /// the call.
    fn batch_model(&self, what: &str, args: &[ArrayRef]) -> Result<(Arc<BinaryModelRef>, String)> {
        let name = args
            .first()
            .ok_or_else(|| DataFusionError::Plan(format!("{what}: no model argument")))?;
        let (loaded, model) = self.binary(what, &ScalarValue::try_from_array(name, 0)?)?;
        let what = format!(
            "{what} with model {}.{}",
            loaded.entry.db, loaded.entry.name
        );
        Ok((model, what))
    }
}

/// A loaded model known to be binary.
struct BinaryModelRef(Arc<apiary_models::Model>);

impl BinaryModelRef {
    fn get(&self) -> Result<&BinaryModel> {
        self.0
            .as_binary()
            .map_err(|e| DataFusionError::Internal(e.to_string()))
    }
}

fn model_arg(what: &str, args: &[GeneratorArg]) -> Result<ScalarValue> {
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

/// `logprobs(model, x)` → `pos INT, value INT, logprob DOUBLE`.
#[derive(Debug)]
struct LogProbs(ModelContext);

static LOGPROBS_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    doc(
        "One row per position i of x (from 0): the value x_i and its conditional \
         log-probability log p(x_i | x_<i) under the model, in nats; the rows of one x sum to \
         loglik(model, x). No rows for a NULL x.",
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
        if !is_bit_list(args[1].data_type()) {
            return Err(DataFusionError::Plan(format!(
                "{WHAT}: x must be an ARRAY<INT|TINYINT|BOOLEAN> of 0/1, not {}",
                args[1].data_type()
            )));
        }
        // Fails at plan time for an unknown model.
        self.0.binary(WHAT, &model_arg(WHAT, args)?)?;
        Ok(vec![
            Field::new("pos", DataType::Int32, true),
            Field::new("value", DataType::Int32, true),
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
        let model = model.get()?;
        let n = model.input_len();
        // The rows from the cursor on, read once; `k` counts the non-NULL ones.
        let first = cursor.row;
        let rest = args[1].slice(first, num_rows - first);
        let bits = column_bits(&what, &rest, Some(n))?;
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
}

/// `generate(model, prefix, n [, temperature [, seed]])` → `sample_id BIGINT, x ARRAY<INT>`.
#[derive(Debug)]
struct Generate(ModelContext);

static GENERATE_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    doc(
        "For each input row, n completions of its prefix: the first k values of x are the \
         prefix's (k = its length, 0 ≤ k ≤ the model's length), the rest are sampled from \
         p(x_>k | x_≤k). sample_id counts from 0. temperature (default 1) divides every logit: \
         below 1 sharpens, above 1 flattens. With a seed, a row's completions depend only on \
         (seed, prefix, sample_id) — the same on every run; without one they differ each run. \
         No rows for a NULL prefix.",
        "LATERAL VIEW generate(model, prefix, n [, temperature [, seed]]) g AS sample_id, x",
        "SELECT g.sample_id, render_bits(g.x, 8) FROM digits_test \
         LATERAL VIEW generate('digits_nade', slice(pixels, 1, 32), 3, 1.0, 7) g \
         AS sample_id, x WHERE id = 5;",
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

/// FNV-1a over the prefix bits: a row's completion seed mixes this with the user's seed.
fn prefix_hash(bits: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bits {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= bits.len() as u64;
    h.wrapping_mul(0x0000_0100_0000_01b3)
}

/// The most completions one input row may ask for.
const MAX_COMPLETIONS: f64 = 1e8;

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
        const WHAT: &str = "generate(model, prefix, n [, temperature [, seed]])";
        if !(3..=5).contains(&args.len()) {
            return Err(DataFusionError::Plan(format!(
                "{WHAT} takes 3 to 5 arguments, got {}",
                args.len()
            )));
        }
        if !is_bit_list(args[1].data_type()) {
            return Err(DataFusionError::Plan(format!(
                "{WHAT}: prefix must be an ARRAY<INT|TINYINT|BOOLEAN> of 0/1, not {}",
                args[1].data_type()
            )));
        }
        for (i, name) in [(2, "n"), (3, "temperature"), (4, "seed")] {
            if let Some(a) = args.get(i)
                && !(a.data_type().is_numeric() || a.data_type().is_null())
            {
                return Err(DataFusionError::Plan(format!(
                    "{WHAT}: {name} must be a number, not {}",
                    a.data_type()
                )));
            }
        }
        self.0.binary(WHAT, &model_arg(WHAT, args)?)?;
        Ok(vec![
            Field::new("sample_id", DataType::Int64, true),
            Field::new("x", int_list_type(), true),
        ])
    }

    fn generate(
        &self,
        args: &[ArrayRef],
        num_rows: usize,
        cursor: &mut GenerateCursor,
        max_rows: usize,
    ) -> Result<GeneratedRows> {
        const WHAT: &str = "generate(model, prefix, n [, temperature [, seed]])";
        let (model, what) = self.0.batch_model(WHAT, args)?;
        let model = model.get()?;
        let width = model.input_len();
        let unseeded: u64 = rand::random();
        let mut row_ids = Vec::new();
        let mut sample_ids = Vec::new();
        let mut bits = Vec::new();
        let mut out = vec![0u8; width];
        let mut prefix = Vec::new();
        while cursor.row < num_rows && row_ids.len() < max_rows.max(1) {
            let row = cursor.row;
            let one = column_bits(&what, &args[1].slice(row, 1), None)?;
            let count = number_at(&what, "n", args.get(2), row)?;
            if !one.valid.first().copied().unwrap_or(false) || count.is_none() {
                cursor.row += 1;
                cursor.offset = 0;
                continue;
            }
            let count = count.unwrap_or(0.0);
            if !(count.is_finite() && count >= 0.0 && count.fract() == 0.0)
                || count > MAX_COMPLETIONS
            {
                return Err(DataFusionError::Execution(format!(
                    "{what}: n must be a whole number from 0 to {MAX_COMPLETIONS}, got {count}"
                )));
            }
            let count = count as usize;
            let temperature = number_at(&what, "temperature", args.get(3), row)?.unwrap_or(1.0);
            let seed = number_at(&what, "seed", args.get(4), row)?;
            prefix.clear();
            prefix.extend_from_slice(&one.bits);
            if prefix.len() > width {
                return Err(DataFusionError::Execution(format!(
                    "{what}: row {}: the prefix has {} values; the model takes {width}",
                    row + 1,
                    prefix.len()
                )));
            }
            let base = match seed {
                Some(s) => (s as i64 as u64) ^ prefix_hash(&prefix),
                None => unseeded ^ (row as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
            };
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
}

#[cfg(test)]
mod tests {
    use super::prefix_hash;

    #[test]
    fn prefix_hash_tells_prefixes_apart() {
        assert_ne!(prefix_hash(&[0, 1]), prefix_hash(&[1, 0]));
        assert_ne!(prefix_hash(&[]), prefix_hash(&[0]));
        assert_eq!(prefix_hash(&[1, 1, 0]), prefix_hash(&[1, 1, 0]));
    }
}
