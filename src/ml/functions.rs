//! The model functions of the SELECT list: `loglik(model, x)` and `embed(model, x)`, and
//! `render_bits(x, width)`, which draws a vector.

use std::sync::{Arc, LazyLock};

use apiary_models::{BitMatrix, Model, SequenceModel};
use datafusion::arrow::array::{
    Array, ArrayRef, Float32Array, Float64Array, ListArray, StringBuilder,
};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, DocSection, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature, Volatility,
};

use super::input::{column_bits, is_bit_list};
use super::registry::{LoadedModel, load, model_name};
use super::sequences::{check_input, encode_column, input_description, seq_kind, sql_type};
use crate::warehouse::Warehouse;

/// The documentation section of the model functions.
pub(crate) const DOC_SECTION_MODELS: DocSection = DocSection {
    include: true,
    label: "Model functions",
    description: Some("Query a trained generative model (CREATE MODEL) like a table."),
};

fn doc(description: &str, syntax: &str, example: &str) -> Documentation {
    Documentation::builder(DOC_SECTION_MODELS, description, syntax)
        .with_sql_example(example)
        .build()
}

/// The model functions for a session on `warehouse`.
pub fn scalar_functions(warehouse: &Arc<Warehouse>) -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::new_from_impl(ModelFunction::new(ModelFunctionKind::Loglik, warehouse)),
        ScalarUDF::new_from_impl(ModelFunction::new(ModelFunctionKind::Embed, warehouse)),
        ScalarUDF::new_from_impl(RenderBits::default()),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ModelFunctionKind {
    Loglik,
    Embed,
}

/// `loglik(model, x)` or `embed(model, x)`.
#[derive(Debug)]
struct ModelFunction {
    kind: ModelFunctionKind,
    warehouse: Arc<Warehouse>,
    signature: Signature,
}

impl PartialEq for ModelFunction {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && Arc::ptr_eq(&self.warehouse, &other.warehouse)
    }
}

impl Eq for ModelFunction {}

impl std::hash::Hash for ModelFunction {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.kind.hash(state);
    }
}

static LOGLIK_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    doc(
        "log p(x) under a trained model, in nats, exact: the sum over positions of \
         log p(x_i | x_<i). NULL for a NULL x. The model is a constant string, 'name' (current \
         database) or 'db.name'. Binary models: x is a 0/1 vector of the model's length (values \
         other than 0/1 or NULL elements are an error). Sequence models (bigram, transformer): \
         x is a STRING (its characters; one the model never saw is its unknown token) or an \
         ARRAY<INT|BIGINT> of token ids, as the model was trained on, and the log-likelihood \
         counts its n tokens and the end token: perplexity = exp(-loglik / (n + 1)). A sequence \
         longer than a transformer's context (n + 1 > context) or an id outside the \
         vocabulary is an error.",
        "loglik(model, x)",
        "SELECT id, loglik('digits_nade', pixels) AS ll FROM digits_test ORDER BY ll LIMIT 5;",
    )
});

static EMBED_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    doc(
        "A vector representation of x under a model, ARRAY<FLOAT>. NADE: its hidden layer for \
         the last position, σ(c + Σ_{j<n−1} x_j W_j), H values in (0, 1). FVSBN: p(x_i = 1 | \
         x_<i) for every i. Bernoulli: p(x_i = 1), the same for every x. Transformer: the mean \
         of the last block's hidden states over the positions after each token of the \
         sequence (the start position alone for an empty one), d_model values; a bigram has no \
         embedding (an error). NULL for a NULL x.",
        "embed(model, x)",
        "SELECT label, embed('digits_nade', pixels) FROM digits_test LIMIT 3;",
    )
});

impl ModelFunction {
    fn new(kind: ModelFunctionKind, warehouse: &Arc<Warehouse>) -> Self {
        Self {
            kind,
            warehouse: Arc::clone(warehouse),
            signature: Signature::any(2, Volatility::Stable),
        }
    }

    fn what(&self) -> &'static str {
        match self.kind {
            ModelFunctionKind::Loglik => "loglik(model, x)",
            ModelFunctionKind::Embed => "embed(model, x)",
        }
    }

    /// `loglik` or `embed` of a sequence model: the whole batch encoded, scored in one call.
    fn invoke_sequence(
        &self,
        what: &str,
        model: &Model,
        seq: &SequenceModel,
        x: &ArrayRef,
    ) -> Result<ColumnarValue> {
        check_input(what, model, seq, x.data_type())?;
        if self.kind == ModelFunctionKind::Embed && seq.context().is_none() {
            return Err(DataFusionError::Plan(format!(
                "{what}: a {} model has no embeddings (embed needs a transformer)",
                seq.model_type()
            )));
        }
        let encoded = encode_column(what, seq, x)?;
        encoded.check_context(what, seq)?;
        let seqs = encoded.seqs();
        let nulls = NullBuffer::from(encoded.valid.clone());
        let error =
            |e: apiary_models::ModelError| DataFusionError::Execution(format!("{what}: {e}"));
        let out: ArrayRef = match self.kind {
            ModelFunctionKind::Loglik => {
                let mut scores = vec![0.0f64; seqs.len()];
                seq.loglik_batch(&seqs, &mut scores).map_err(error)?;
                Arc::new(Float64Array::new(
                    spread(&scores, &encoded.valid, 0.0).into(),
                    Some(nulls),
                ))
            }
            ModelFunctionKind::Embed => {
                let len = seq.options().d_model;
                let mut values = Vec::with_capacity(seqs.len() * len);
                seq.embed_batch(&seqs, &mut values).map_err(error)?;
                if values.len() != seqs.len() * len {
                    return Err(DataFusionError::Internal(format!(
                        "{what}: {} embedding values for {} rows of d_model = {len}",
                        values.len(),
                        seqs.len()
                    )));
                }
                float_lists(values, &encoded.valid, len, nulls)?
            }
        };
        Ok(ColumnarValue::Array(out))
    }
}

impl ScalarUDFImpl for ModelFunction {
    fn name(&self) -> &str {
        match self.kind {
            ModelFunctionKind::Loglik => "loglik",
            ModelFunctionKind::Embed => "embed",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        let what = self.what();
        if !matches!(
            arg_types.first(),
            Some(DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null)
        ) {
            return Err(DataFusionError::Plan(format!(
                "{what}: the model must be named by a constant string, e.g. 'digits_nade'"
            )));
        }
        if !arg_types
            .get(1)
            .is_some_and(|t| is_bit_list(t) || seq_kind(t).is_some() || t.is_null())
        {
            return Err(DataFusionError::Plan(format!(
                "{what}: x must be an ARRAY<INT|TINYINT|BOOLEAN> of 0/1 (binary models), or a \
                 STRING or an ARRAY<INT|BIGINT> of token ids (sequence models), not {}",
                arg_types.get(1).map_or("nothing".into(), sql_type)
            )));
        }
        Ok(match self.kind {
            ModelFunctionKind::Loglik => DataType::Float64,
            ModelFunctionKind::Embed => {
                DataType::List(Arc::new(Field::new_list_field(DataType::Float32, true)))
            }
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let what = self.what();
        let [name, x] = args.args.as_slice() else {
            return Err(DataFusionError::Plan(format!("{what} takes two arguments")));
        };
        let name = model_name(what, name)?;
        let db = &args.config_options.catalog.default_schema;
        let LoadedModel { entry, model } = load(&self.warehouse, &name, db, what)?;
        let x = x.to_array(args.number_rows)?;
        let named = format!("{what} with model {}.{}", entry.db, entry.name);
        let binary = match model.as_ref() {
            Model::Binary(b) => b,
            Model::Sequence(seq) => return self.invoke_sequence(&named, &model, seq, &x),
        };
        if !(is_bit_list(x.data_type()) || x.data_type().is_null()) {
            return Err(DataFusionError::Plan(format!(
                "{named}: x must be an ARRAY<INT|TINYINT|BOOLEAN> of 0/1, not {} (the model \
                 takes {})",
                sql_type(x.data_type()),
                input_description(&model)
            )));
        }
        let n = binary.input_len();
        let bits = column_bits(&named, &x, Some(n))?;
        let rows = bits.rows();
        let matrix = BitMatrix::from_vec(n, bits.bits)
            .map_err(|e| DataFusionError::Execution(format!("{what}: {e}")))?;
        let nulls = NullBuffer::from(bits.valid.clone());
        let out: ArrayRef = match self.kind {
            ModelFunctionKind::Loglik => {
                let mut scores = vec![0.0f64; rows];
                binary
                    .loglik_batch(&matrix, &mut scores)
                    .map_err(|e| DataFusionError::Execution(format!("{what}: {e}")))?;
                Arc::new(Float64Array::new(
                    spread(&scores, &bits.valid, 0.0).into(),
                    Some(nulls),
                ))
            }
            ModelFunctionKind::Embed => {
                let len = binary.embed_len();
                let mut values = vec![0.0f32; rows * len];
                for (row, out) in matrix.iter_rows().zip(values.chunks_exact_mut(len.max(1))) {
                    binary
                        .embed_into(row, out)
                        .map_err(|e| DataFusionError::Execution(format!("{what}: {e}")))?;
                }
                float_lists(values, &bits.valid, len, nulls)?
            }
        };
        Ok(ColumnarValue::Array(out))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(match self.kind {
            ModelFunctionKind::Loglik => &LOGLIK_DOC,
            ModelFunctionKind::Embed => &EMBED_DOC,
        })
    }
}

/// A column of `len`-float lists, one per valid row of `values` (empty and NULL elsewhere).
fn float_lists(
    values: Vec<f32>,
    valid: &[bool],
    len: usize,
    nulls: NullBuffer,
) -> Result<ArrayRef> {
    let lengths = valid.iter().map(|&v| if v { len } else { 0 });
    Ok(Arc::new(ListArray::try_new(
        Arc::new(Field::new_list_field(DataType::Float32, true)),
        OffsetBuffer::from_lengths(lengths),
        Arc::new(Float32Array::from(values)),
        Some(nulls),
    )?))
}

/// Values of the valid rows, spread over all rows (`fill` where a row is NULL).
fn spread<T: Copy>(values: &[T], valid: &[bool], fill: T) -> Vec<T> {
    let mut it = values.iter();
    valid
        .iter()
        .map(|&v| {
            if v {
                it.next().copied().unwrap_or(fill)
            } else {
                fill
            }
        })
        .collect()
}

/// `render_bits(x, width)` → `STRING`: a 0/1 vector drawn with Unicode half blocks.
#[derive(Debug, PartialEq, Eq, Hash)]
struct RenderBits {
    signature: Signature,
}

impl Default for RenderBits {
    fn default() -> Self {
        Self {
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

static RENDER_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    doc(
        "Draws a 0/1 vector as a picture, `width` pixels per row (row-major), two pixel rows \
         per text line with the half blocks ▀ ▄ █ and spaces; lines end with a newline except \
         the last. A length that is not a multiple of width pads the last row with 0. NULL \
         for a NULL x or width.",
        "render_bits(x, width)",
        "SELECT render_bits(x, 8) FROM sample('digits_nade', 4);",
    )
});

/// The picture of `bits` (row-major, `width` wide).
pub fn render(bits: &[u8], width: usize) -> String {
    let width = width.max(1);
    let rows = bits.len().div_ceil(width);
    let pixel = |r: usize, c: usize| bits.get(r * width + c).is_some_and(|&b| b == 1);
    let mut out = String::new();
    for top in (0..rows).step_by(2) {
        if top > 0 {
            out.push('\n');
        }
        for c in 0..width {
            out.push(match (pixel(top, c), pixel(top + 1, c)) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
    }
    out
}

impl ScalarUDFImpl for RenderBits {
    fn name(&self) -> &str {
        "render_bits"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        if !arg_types.first().is_some_and(is_bit_list) {
            return Err(DataFusionError::Plan(format!(
                "render_bits(x, width): x must be an ARRAY of 0/1, not {}",
                arg_types
                    .first()
                    .map_or("nothing".into(), |t| t.to_string())
            )));
        }
        if !arg_types
            .get(1)
            .is_some_and(|t| t.is_integer() || t.is_null())
        {
            return Err(DataFusionError::Plan(
                "render_bits(x, width): width must be an integer".into(),
            ));
        }
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [x, width] = args.args.as_slice() else {
            return Err(DataFusionError::Plan(
                "render_bits(x, width) takes two arguments".into(),
            ));
        };
        let x = x.to_array(args.number_rows)?;
        let width = width.to_array(args.number_rows)?;
        // Rows may differ in length here: each is read on its own.
        let mut out = StringBuilder::new();
        let mut row_bits = Vec::new();
        for i in 0..x.len() {
            let w = ScalarValue::try_from_array(&width, i)?;
            let w = match w {
                ScalarValue::Null => None,
                other => match other.cast_to(&DataType::Int64)? {
                    ScalarValue::Int64(v) => v,
                    _ => None,
                },
            };
            let Some(w) = w else {
                out.append_null();
                continue;
            };
            if w <= 0 || w > 4096 {
                return Err(DataFusionError::Execution(format!(
                    "render_bits(x, width): width must be between 1 and 4096, not {w}"
                )));
            }
            let one = column_bits("render_bits(x, width)", &x.slice(i, 1), None)?;
            if !one.valid.first().copied().unwrap_or(false) {
                out.append_null();
                continue;
            }
            row_bits.clear();
            row_bits.extend_from_slice(&one.bits);
            out.append_value(render(&row_bits, w as usize));
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&RENDER_DOC)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_draws_two_rows_per_line() {
        // 4 wide, 3 rows: the third row pairs with an empty fourth.
        let bits = [1, 0, 1, 0, 1, 1, 0, 0, 0, 1, 1, 0];
        assert_eq!(render(&bits, 4), "█▄▀ \n ▀▀ ");
        assert_eq!(render(&[1, 1, 1], 2), "█▀");
        assert_eq!(render(&[1, 0, 0, 1, 1, 1], 2), "▀▄\n▀▀");
    }

    #[test]
    fn spread_puts_nulls_back() {
        assert_eq!(spread(&[1, 2], &[true, false, true], 0), vec![1, 0, 2]);
    }
}
