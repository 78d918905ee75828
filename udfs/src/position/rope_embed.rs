//! `rope_embed`: one row per position of a sequence, with its RoPE embedding.
//!
//! - `rope_embed(tokens, dim [, base [, style [, seed]]])` → `pos`, `token`, `embedding`:
//!   `tokens` is an `ARRAY<STRING>`, an `ARRAY<INT|BIGINT>` or a `STRING` (its characters);
//!   `embedding` is `rope(v, pos, base, style)` of the token's vector `v` from a
//!   [`TokenVectors`] source — today the seeded hash of [`SeededTokenVectors`], exactly what
//!   `token_vector(token, dim, seed)` returns.
//! - `rope_embed(vectors [, base [, style]])` → `pos`, `embedding` for an
//!   `ARRAY<ARRAY<FLOAT|DOUBLE>>`: each position's vector rotated (same type).
//!
//! A trained model's token embeddings come in as another [`TokenVectors`] source: a
//! `rope_embed(model, seq)` form (a model name, then tokens) is told apart from the token
//! form by its second argument, which is never an integer there. The engine, which knows the
//! models, provides that form (a generator of the same name that hands the other forms to
//! this one) and produces its rows with [`RopeEmbed::generate_tokens`]: the same token rows
//! and the same RoPE kernel as the token form, only the vectors' source differs.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Int32Array, Int64Array, StringBuilder, UInt32Array, UInt64Array,
};
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::Documentation;

use super::rope::{ArgNames, Positions, RopeSpec, RopeStyle, parse_style, rope_array};
use super::token_vector::{SeededTokenVectors, TokenVectors, column_tokens, token_vector_column};
use super::{DEFAULT_BASE, parse_base, parse_dim, parse_seed, vector_type};
use crate::generator::{
    GenerateCursor, GeneratedRows, Generator, GeneratorArg, arg_error, generator_doc,
};

const NAME: &str = "rope_embed";
const USAGE: &str =
    "rope_embed(tokens, dim [, base [, style [, seed]]]) or rope_embed(vectors [, base [, style]])";

/// `rope_embed(tokens, dim [, base [, style [, seed]]])` → `pos`, `token`, `embedding`;
/// `rope_embed(vectors [, base [, style]])` → `pos`, `embedding`.
#[derive(Debug, Default)]
pub struct RopeEmbed;

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    generator_doc(
        "One row per position of a sequence (pos from 0) with its Rotary Position Embedding. \
         rope_embed(tokens, dim [, base [, style [, seed]]]) takes an ARRAY<STRING>, an \
         ARRAY<INT|BIGINT> or a STRING (its characters) and returns pos, token and embedding = \
         rope(token_vector(token, dim, seed), pos, base, style), an ARRAY<FLOAT> (dim even, \
         base default 10000, style 'interleaved' or 'half', seed default 0; all constants). \
         rope_embed(vectors [, base [, style]]) takes an ARRAY<ARRAY<FLOAT|DOUBLE>> and returns \
         pos and each vector rotated at its position. A NULL or empty sequence yields no rows \
         (OUTER: one NULL row); a NULL token or vector gives a NULL embedding.",
        USAGE,
        "SELECT e.pos, e.token, vec_norm(e.embedding) FROM words_train \
         LATERAL VIEW rope_embed(word, 8) e AS pos, token, embedding WHERE word = 'bee'",
    )
});

/// What a call means, read from its argument types and constants.
#[derive(Debug)]
enum Form {
    /// Tokens (strings or integers, or the characters of a string) and where their vectors
    /// come from.
    Tokens {
        source: Box<dyn TokenVectors>,
        spec: RopeSpec,
        /// The type of the `token` column.
        token_type: DataType,
        /// The sequence is one string, its characters the tokens.
        characters: bool,
    },
    /// A sequence of vectors of this type.
    Vectors {
        spec: RopeSpec,
        vector_type: DataType,
    },
}

/// The type a token sequence's elements are cast to, `None` when they cannot be tokens.
fn token_type(data_type: &DataType) -> Option<DataType> {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => {
            Some(DataType::Utf8)
        }
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::UInt8 | DataType::UInt16 => {
            Some(DataType::Int32)
        }
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => Some(DataType::Int64),
        _ => None,
    }
}

/// The (cast) type of the first argument, and whether it is a sequence of vectors.
fn sequence_type(data_type: &DataType) -> Result<(DataType, bool)> {
    let bad = || {
        arg_error(
            NAME,
            format!(
                "argument 1 must be an ARRAY<STRING>, an ARRAY<INT|BIGINT>, a STRING or an \
                 ARRAY<ARRAY<FLOAT|DOUBLE>>, got {data_type}"
            ),
        )
    };
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Ok((DataType::Utf8, false)),
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            match f.data_type() {
                DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _) => {
                    let inner = vector_type(NAME, "argument 1 (vectors)", f.data_type())?;
                    Ok((DataType::new_list(inner, true), true))
                }
                t => Ok((
                    DataType::new_list(token_type(t).ok_or_else(bad)?, true),
                    false,
                )),
            }
        }
        _ => Err(bad()),
    }
}

/// Reads the call: `types` are the argument types, `constant(i)` the value of constant
/// argument i (an error when it is not a constant).
fn read_form(
    types: &[DataType],
    constant: impl Fn(usize, &str) -> Result<ScalarValue>,
) -> Result<Form> {
    let Some(first) = types.first() else {
        return Err(arg_error(NAME, format!("takes {USAGE}, got no arguments")));
    };
    let (sequence, vectors) = sequence_type(first)?;
    let (max, base_at) = if vectors { (3, 1) } else { (5, 2) };
    if types.len() > max || (!vectors && types.len() < 2) {
        return Err(arg_error(
            NAME,
            format!(
                "takes {USAGE}, got {} argument{}",
                types.len(),
                if types.len() == 1 { "" } else { "s" }
            ),
        ));
    }
    let argument = |i: usize, what: &str| format!("argument {} ({what})", i + 1);
    let base = if types.len() > base_at {
        let a = argument(base_at, "base");
        parse_base(NAME, &a, &constant(base_at, &a)?)?
    } else {
        DEFAULT_BASE
    };
    let style = if types.len() > base_at + 1 {
        let a = argument(base_at + 1, "style");
        parse_style(NAME, &a, &constant(base_at + 1, &a)?)?
    } else {
        RopeStyle::default()
    };
    let spec = RopeSpec { base, style };
    match sequence {
        DataType::List(f) if vectors => Ok(Form::Vectors {
            spec,
            vector_type: f.data_type().clone(),
        }),
        sequence => {
            let a = argument(1, "dim");
            let dim = parse_dim(NAME, &a, &constant(1, &a)?, true)?;
            let seed = if types.len() > 4 {
                let a = argument(4, "seed");
                parse_seed(NAME, &a, &constant(4, &a)?)?
            } else {
                0
            };
            let (token_type, characters) = match sequence {
                DataType::List(f) => (f.data_type().clone(), false),
                other => (other, true),
            };
            Ok(Form::Tokens {
                source: Box::new(SeededTokenVectors::new(dim, seed)),
                spec,
                token_type,
                characters,
            })
        }
    }
}

impl Generator for RopeEmbed {
    fn name(&self) -> &str {
        NAME
    }

    fn documentation(&self) -> &Documentation {
        &DOC
    }

    fn coerce_arguments(&self, args: &[GeneratorArg]) -> Result<Vec<DataType>> {
        let Some(first) = args.first() else {
            return Err(arg_error(NAME, format!("takes {USAGE}, got no arguments")));
        };
        let (sequence, vectors) = sequence_type(first.data_type())?;
        let mut types = vec![sequence];
        let rest = if vectors {
            &[(DataType::Float64, "base"), (DataType::Utf8, "style")][..]
        } else {
            &[
                (DataType::Int64, "dim"),
                (DataType::Float64, "base"),
                (DataType::Utf8, "style"),
                (DataType::Int64, "seed"),
            ][..]
        };
        for (i, a) in args.iter().enumerate().skip(1) {
            let (want, label) = rest.get(i - 1).cloned().unwrap_or((DataType::Null, ""));
            let ok = match want {
                DataType::Int64 => a.data_type().is_integer(),
                DataType::Float64 => a.data_type().is_numeric(),
                DataType::Utf8 => matches!(
                    a.data_type(),
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                ),
                _ => true,
            };
            if !ok && !a.data_type().is_null() {
                return Err(arg_error(
                    NAME,
                    format!(
                        "argument {} ({label}) must be {}, got {}",
                        i + 1,
                        match want {
                            DataType::Int64 => "an integer",
                            DataType::Float64 => "a number",
                            _ => "a string",
                        },
                        a.data_type()
                    ),
                ));
            }
            types.push(if want.is_null() {
                a.data_type().clone()
            } else {
                want
            });
        }
        Ok(types)
    }

    fn output_fields(&self, args: &[GeneratorArg]) -> Result<Vec<Field>> {
        let types: Vec<DataType> = args.iter().map(|a| a.data_type().clone()).collect();
        let form = read_form(&types, |i, what| {
            args.get(i)
                .and_then(|a| a.literal.clone())
                .ok_or_else(|| arg_error(NAME, format!("{what} must be a constant")))
        })?;
        let pos = Field::new("pos", DataType::Int32, true);
        Ok(match form {
            Form::Tokens { token_type, .. } => vec![
                pos,
                Field::new("token", token_type, true),
                Field::new(
                    "embedding",
                    DataType::new_list(DataType::Float32, true),
                    true,
                ),
            ],
            Form::Vectors { vector_type, .. } => {
                vec![pos, Field::new("embedding", vector_type, true)]
            }
        })
    }

    fn generate(
        &self,
        args: &[ArrayRef],
        num_rows: usize,
        cursor: &mut GenerateCursor,
        max_rows: usize,
    ) -> Result<GeneratedRows> {
        let Some(sequences) = args.first().filter(|_| num_rows > 0) else {
            cursor.row = num_rows;
            return Ok(GeneratedRows {
                row_ids: UInt32Array::from(Vec::<u32>::new()),
                columns: Vec::new(),
            });
        };
        let types: Vec<DataType> = args.iter().map(|a| a.data_type().clone()).collect();
        let form = read_form(&types, |i, what| match args.get(i) {
            Some(a) => ScalarValue::try_from_array(a, 0),
            None => Err(arg_error(NAME, format!("{what} is missing"))),
        })?;
        match form {
            Form::Tokens {
                source,
                spec,
                characters: true,
                ..
            } => {
                let text = crate::generator::utf8(sequences)?;
                let (row_ids, positions, tokens) =
                    characters(text.as_string::<i32>(), num_rows, cursor, max_rows)?;
                embed_tokens(row_ids, positions, tokens, source.as_ref(), spec)
            }
            Form::Tokens { source, spec, .. } => {
                let spans = Spans::collect(sequences, num_rows, cursor, max_rows)?;
                let tokens = spans.gather(sequences.as_list::<i32>().values())?;
                embed_tokens(
                    spans.row_ids(),
                    spans.positions(),
                    tokens,
                    source.as_ref(),
                    spec,
                )
            }
            Form::Vectors { spec, .. } => {
                let spans = Spans::collect(sequences, num_rows, cursor, max_rows)?;
                let vectors = spans.gather(sequences.as_list::<i32>().values())?;
                let positions = spans.positions();
                let embedding =
                    rope_array(&vectors, Positions::Column(&positions), spec, EMBED_ARGS)?;
                Ok(GeneratedRows {
                    row_ids: spans.row_ids(),
                    columns: vec![int32_positions(&positions)?, embedding],
                })
            }
        }
    }
}

impl RopeEmbed {
    /// The rows of the token form — `pos`, `token`, `embedding` = rope(v, pos, base, style) —
    /// with each token's vector v from `source`. `sequences` is a `STRING` column (its
    /// characters are the tokens) or a `List` of `Utf8`, `Int32` or `Int64` tokens; the
    /// `token` column has the element type (`Utf8` for characters). A NULL or empty sequence
    /// yields no rows; a NULL token gives a NULL embedding. Streams like [`Generator::generate`]:
    /// at most `max_rows` rows from `cursor`, which it advances.
    pub fn generate_tokens(
        source: &dyn TokenVectors,
        base: f64,
        style: RopeStyle,
        sequences: &ArrayRef,
        num_rows: usize,
        cursor: &mut GenerateCursor,
        max_rows: usize,
    ) -> Result<GeneratedRows> {
        let spec = RopeSpec { base, style };
        match sequences.data_type() {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                let text = crate::generator::utf8(sequences)?;
                let (row_ids, positions, tokens) =
                    characters(text.as_string::<i32>(), num_rows, cursor, max_rows)?;
                embed_tokens(row_ids, positions, tokens, source, spec)
            }
            DataType::List(f) if token_type(f.data_type()).is_some() => {
                let spans = Spans::collect(sequences, num_rows, cursor, max_rows)?;
                let tokens = spans.gather(sequences.as_list::<i32>().values())?;
                embed_tokens(spans.row_ids(), spans.positions(), tokens, source, spec)
            }
            other => Err(arg_error(
                NAME,
                format!("the tokens must be a STRING or an ARRAY of tokens, got {other}"),
            )),
        }
    }
}

const EMBED_ARGS: ArgNames = ArgNames {
    function: NAME,
    vec: "argument 1 (vectors)",
    pos: "pos",
};

/// The rows of the token form: `pos`, `token`, `embedding`.
fn embed_tokens(
    row_ids: UInt32Array,
    positions: Int64Array,
    tokens: ArrayRef,
    source: &dyn TokenVectors,
    spec: RopeSpec,
) -> Result<GeneratedRows> {
    let vectors = token_vector_column(source, &column_tokens(&tokens)?)?;
    let embedding = rope_array(&vectors, Positions::Column(&positions), spec, EMBED_ARGS)?;
    Ok(GeneratedRows {
        row_ids,
        columns: vec![int32_positions(&positions)?, tokens, embedding],
    })
}

/// The `pos` column.
fn int32_positions(positions: &Int64Array) -> Result<ArrayRef> {
    let values = positions
        .values()
        .iter()
        .map(|&p| i32::try_from(p))
        .collect::<std::result::Result<Vec<i32>, _>>()
        .map_err(|_| arg_error(NAME, "a sequence has more than 2^31 positions"))?;
    Ok(Arc::new(Int32Array::from(values)))
}

/// The characters of each string, one row each, from the cursor on (at most `max_rows`).
fn characters(
    text: &datafusion::arrow::array::StringArray,
    num_rows: usize,
    cursor: &mut GenerateCursor,
    max_rows: usize,
) -> Result<(UInt32Array, Int64Array, ArrayRef)> {
    let max_rows = max_rows.max(1);
    let mut ids = Vec::new();
    let mut positions = Vec::new();
    let mut tokens = StringBuilder::new();
    while cursor.row < num_rows && ids.len() < max_rows {
        let row = cursor.row;
        if text.is_valid(row) {
            let s = text.value(row);
            let mut chars = s.char_indices().skip(cursor.offset).peekable();
            while ids.len() < max_rows {
                let Some((at, c)) = chars.next() else { break };
                tokens.append_value(&s[at..at + c.len_utf8()]);
                ids.push(row as u32);
                positions.push(cursor.offset as i64);
                cursor.offset += 1;
            }
            if chars.peek().is_some() {
                break;
            }
        }
        cursor.row += 1;
        cursor.offset = 0;
    }
    Ok((
        UInt32Array::from(ids),
        Int64Array::from(positions),
        Arc::new(tokens.finish()),
    ))
}

/// The element ranges of one chunk of a `List` column: (input row, first child index, end
/// child index, position of the first element).
struct Spans {
    spans: Vec<(u32, usize, usize, usize)>,
    total: usize,
}

impl Spans {
    fn collect(
        array: &ArrayRef,
        num_rows: usize,
        cursor: &mut GenerateCursor,
        max_rows: usize,
    ) -> Result<Self> {
        let max_rows = max_rows.max(1);
        let Some(list) = array.as_list_opt::<i32>() else {
            return Err(arg_error(
                NAME,
                format!("expected an array, got {}", array.data_type()),
            ));
        };
        let offsets = list.value_offsets();
        let mut spans = Vec::new();
        let mut total = 0;
        while cursor.row < num_rows && total < max_rows {
            let row = cursor.row;
            if list.is_valid(row) {
                let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
                let first = start + cursor.offset;
                let take = (end - first).min(max_rows - total);
                if take > 0 {
                    spans.push((row as u32, first, first + take, cursor.offset));
                    total += take;
                }
                if first + take < end {
                    cursor.offset += take;
                    break;
                }
            }
            cursor.row += 1;
            cursor.offset = 0;
        }
        Ok(Self { spans, total })
    }

    fn row_ids(&self) -> UInt32Array {
        let mut ids = Vec::with_capacity(self.total);
        for &(row, start, end, _) in &self.spans {
            ids.extend(std::iter::repeat_n(row, end - start));
        }
        UInt32Array::from(ids)
    }

    fn positions(&self) -> Int64Array {
        let mut pos = Vec::with_capacity(self.total);
        for &(_, start, end, first) in &self.spans {
            pos.extend((first..first + (end - start)).map(|p| p as i64));
        }
        Int64Array::from(pos)
    }

    /// The child values of the spans: a zero-copy slice when they are contiguous.
    fn gather(&self, values: &ArrayRef) -> Result<ArrayRef> {
        if self.spans.windows(2).all(|w| w[0].2 == w[1].1) {
            let start = self.spans.first().map_or(0, |s| s.1);
            return Ok(values.slice(start, self.total));
        }
        let mut idx = Vec::with_capacity(self.total);
        for &(_, start, end, _) in &self.spans {
            idx.extend((start..end).map(|i| i as u64));
        }
        Ok(take(values.as_ref(), &UInt64Array::from(idx), None)?)
    }
}
