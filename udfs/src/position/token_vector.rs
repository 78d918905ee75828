//! Token vectors: where the vector of a token comes from ([`TokenVectors`]), the seeded-hash
//! source that needs no model ([`SeededTokenVectors`]) and the `token_vector` function.
//!
//! The seeded-hash vector of a token is fixed by this algorithm, on every machine:
//!
//! 1. key = the token's UTF-8 bytes (a string), or its 8 little-endian bytes (an integer,
//!    INT and BIGINT alike); h = XXH64(key, seed).
//! 2. SplitMix64 seeded with h gives 64-bit words w; each becomes u = ((w >> 11) + 1)·2^−53,
//!    uniform in (0, 1].
//! 3. For k = 0, 1, ...: u1, u2 (in that order), r = sqrt(−2·ln u1), z[2k] = r·cos(2π·u2),
//!    z[2k+1] = r·sin(2π·u2) (Box–Muller, float64, `libm`), up to dim values.
//! 4. v = z / ‖z‖ (float64, summed in order), rounded to float32.

use std::fmt::Debug;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Int64Type};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    Volatility,
};

use super::float_vectors::list_from_lengths;
use super::{constant, parse_dim, parse_seed, plan_error, position_doc};

/// One token of a sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token<'a> {
    /// A string token (a word, a character).
    Text(&'a str),
    /// An integer token (a token id).
    Id(i64),
}

/// Where the vector of a token comes from: a seeded hash ([`SeededTokenVectors`]) needs no
/// model; a trained model's embedding table will be another source (the `rope_embed(model,
/// seq)` form).
pub trait TokenVectors: Debug + Send + Sync {
    /// The length of every vector.
    fn dim(&self) -> usize;

    /// Appends the vector of each token to `out`, [`Self::dim`] values per token, in order.
    fn append_vectors(&self, tokens: &[Token<'_>], out: &mut Vec<f32>) -> Result<()>;
}

/// Unit-norm Gaussian vectors from a seeded hash of the token (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeededTokenVectors {
    dim: usize,
    seed: u64,
}

impl SeededTokenVectors {
    /// Vectors of length `dim` (> 0) for hash seed `seed`.
    pub fn new(dim: usize, seed: u64) -> Self {
        Self { dim, seed }
    }

    /// Appends the vector of `token`, using `z` as scratch space.
    fn append_one(&self, token: Token<'_>, z: &mut Vec<f64>, out: &mut Vec<f32>) {
        let int_key;
        let key: &[u8] = match token {
            Token::Text(s) => s.as_bytes(),
            Token::Id(id) => {
                int_key = id.to_le_bytes();
                &int_key
            }
        };
        let mut words = SplitMix64(twox_hash::XxHash64::oneshot(self.seed, key));
        z.clear();
        while z.len() < self.dim {
            let u1 = words.next_unit();
            let u2 = words.next_unit();
            let r = libm::sqrt(-2.0 * libm::log(u1));
            let (s, c) = libm::sincos(std::f64::consts::TAU * u2);
            z.push(r * c);
            if z.len() < self.dim {
                z.push(r * s);
            }
        }
        let norm = libm::sqrt(z.iter().map(|v| v * v).sum::<f64>());
        if norm > 0.0 {
            out.extend(z.iter().map(|v| (v / norm) as f32));
        } else {
            // Only when every u1 is exactly 1 (probability 2^-53 per pair): a fixed unit vector.
            out.push(1.0);
            out.extend(std::iter::repeat_n(0.0, self.dim - 1));
        }
    }
}

impl TokenVectors for SeededTokenVectors {
    fn dim(&self) -> usize {
        self.dim
    }

    fn append_vectors(&self, tokens: &[Token<'_>], out: &mut Vec<f32>) -> Result<()> {
        out.reserve(tokens.len() * self.dim);
        let mut z = Vec::with_capacity(self.dim + 1);
        for &token in tokens {
            self.append_one(token, &mut z, out);
        }
        Ok(())
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny generator whose output is fixed by its seed.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_word(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1]: never 0, so ln u is finite.
    fn next_unit(&mut self) -> f64 {
        ((self.next_word() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// The tokens of a column of strings or integers; `None` for NULL rows.
pub(crate) fn column_tokens(column: &ArrayRef) -> Result<Vec<Option<Token<'_>>>> {
    Ok(match column.data_type() {
        DataType::Utf8 => column
            .as_string::<i32>()
            .iter()
            .map(|t| t.map(Token::Text))
            .collect(),
        DataType::Int64 => column
            .as_primitive::<Int64Type>()
            .iter()
            .map(|t| t.map(Token::Id))
            .collect(),
        DataType::Int32 => column
            .as_primitive::<datafusion::arrow::datatypes::Int32Type>()
            .iter()
            .map(|t| t.map(|v| Token::Id(i64::from(v))))
            .collect(),
        DataType::Null => vec![None; column.len()],
        other => return exec_err!("tokens must be strings or integers, got {other}"),
    })
}

/// The vectors of `tokens` from `source` as an `ARRAY<FLOAT>` column; NULL tokens give NULL.
pub(crate) fn token_vector_column(
    source: &dyn TokenVectors,
    tokens: &[Option<Token<'_>>],
) -> Result<ArrayRef> {
    let present: Vec<Token<'_>> = tokens.iter().flatten().copied().collect();
    let mut values = Vec::with_capacity(present.len() * source.dim());
    source.append_vectors(&present, &mut values)?;
    let lengths: Vec<Option<usize>> = tokens.iter().map(|t| t.map(|_| source.dim())).collect();
    list_from_lengths(values, &lengths)
}

const NAME: &str = "token_vector";
const TOKEN: &str = "argument 1 (token)";
const DIM: &str = "argument 2 (dim)";
const SEED: &str = "argument 3 (seed)";

/// `token_vector(token, dim [, seed])` → `ARRAY<FLOAT>`, the seeded-hash vector of a token.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct TokenVectorFunc {
    signature: Signature,
}

impl Default for TokenVectorFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl TokenVectorFunc {
    /// Creates the `token_vector` function.
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    position_doc(
        "A deterministic unit-norm vector for a token: the token (a string's UTF-8 bytes, or an \
         integer's 8 little-endian bytes) is hashed with XXH64 and the seed, the hash seeds \
         SplitMix64, and Box-Muller turns its output into Gaussian values, normalized to \
         length 1 in float64 and returned as ARRAY<FLOAT>. The same token, dim and seed give \
         the same vector on every run and machine. A NULL token gives NULL. These are the \
         vectors rope_embed rotates.",
        "token_vector(token, dim [, seed])",
        "SELECT round(vec_norm(token_vector('bee', 8)), 6), cardinality(token_vector(42, 16, 7));\n-- 1.0, 16",
        &[
            ("token", "a STRING or an integer (column or constant)"),
            ("dim", "constant integer, 1 to 65536"),
            ("seed", "constant integer, default 0"),
        ],
    )
});

impl ScalarUDFImpl for TokenVectorFunc {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if !(2..=3).contains(&arg_types.len()) {
            return Err(plan_error(
                NAME,
                format!(
                    "takes 2 or 3 arguments (token, dim [, seed]), got {}",
                    arg_types.len()
                ),
            ));
        }
        let token = match &arg_types[0] {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => {
                DataType::Utf8
            }
            t if t.is_integer() => DataType::Int64,
            t => {
                return Err(plan_error(
                    NAME,
                    format!("{TOKEN} must be a string or an integer, got {t}"),
                ));
            }
        };
        let mut types = vec![token, super::integer_type(NAME, DIM, &arg_types[1])?];
        if let Some(t) = arg_types.get(2) {
            types.push(super::integer_type(NAME, SEED, t)?);
        }
        Ok(types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::new_list(DataType::Float32, true))
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        if let Some(Some(dim)) = args.scalar_arguments.get(1) {
            parse_dim(NAME, DIM, dim, false)?;
        }
        if let Some(Some(seed)) = args.scalar_arguments.get(2) {
            parse_seed(NAME, SEED, seed)?;
        }
        Ok(Arc::new(Field::new(
            NAME,
            DataType::new_list(DataType::Float32, true),
            true,
        )))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let dim = match constant(NAME, DIM, args.args.get(1))? {
            Some(v) => parse_dim(NAME, DIM, v, false)?,
            None => return Err(plan_error(NAME, "takes 2 or 3 arguments")),
        };
        let seed = match constant(NAME, SEED, args.args.get(2))? {
            Some(v) => parse_seed(NAME, SEED, v)?,
            None => 0,
        };
        let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let tokens = args.args[0].to_array(if scalar { 1 } else { args.number_rows })?;
        let tokens = match tokens.data_type() {
            DataType::Utf8 | DataType::Int64 | DataType::Null => tokens,
            DataType::LargeUtf8 | DataType::Utf8View => {
                datafusion::arrow::compute::cast(&tokens, &DataType::Utf8)?
            }
            _ => datafusion::arrow::compute::cast(&tokens, &DataType::Int64)?,
        };
        let result = token_vector_column(
            &SeededTokenVectors::new(dim, seed),
            &column_tokens(&tokens)?,
        )?;
        if scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &result, 0,
            )?))
        } else {
            Ok(ColumnarValue::Array(result))
        }
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
