//! Position encodings and the vector functions around them.
//!
//! - [`rope`](RopeFunc): Rotary Position Embedding (Su et al., "RoFormer", 2021) of a float
//!   vector at a position, in the interleaved (RoFormer, GPT-J) or half (GPT-NeoX, Llama)
//!   pairing.
//! - [`sinusoidal_position`](SinusoidalPositionFunc): the encoding of Vaswani et al. (2017).
//! - [`token_vector`](TokenVectorFunc): a deterministic unit vector for a token (seeded XXH64 →
//!   Gaussian), identical on every run and machine.
//! - `vec_dot`, `vec_cosine`, `vec_norm`, `vec_add`, `vec_scale`, `vec_normalize`
//!   ([`VectorFunc`]): float vector arithmetic that keeps the element type and list layout.
//! - [`RopeEmbed`]: the `rope_embed` generator, one row per position of a sequence.
//!
//! Vectors are `ARRAY<FLOAT>` or `ARRAY<DOUBLE>` in any Arrow list layout (`List`,
//! `LargeList`, `FixedSizeList`); other numeric element types are widened to `DOUBLE`.
//! A NULL vector (or position) gives NULL; a NULL *element* inside a vector is an error.
//! Angles are computed in float64 with a portable libm, so results are identical on every
//! machine.

mod angle_table;
mod float_vectors;
mod rope;
mod rope_embed;
mod sinusoidal;
mod token_vector;
mod vector;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{Result, ScalarValue};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{ColumnarValue, DocSection, Documentation, ScalarUDF};

pub use rope::{RopeFunc, RopeStyle};
pub use rope_embed::RopeEmbed;
pub use sinusoidal::SinusoidalPositionFunc;
pub use token_vector::{SeededTokenVectors, Token, TokenVectorFunc, TokenVectors};
pub use vector::{VectorFunc, VectorOp};

use crate::generator::Generator;

/// The RoPE and sinusoidal base when none is given.
pub const DEFAULT_BASE: f64 = 10_000.0;

/// The largest vector length the functions that make vectors (`sinusoidal_position`,
/// `token_vector`, `rope_embed`) accept.
pub const MAX_DIM: i64 = 65_536;

/// The position-encoding and vector functions.
pub fn all_scalar_functions() -> Vec<Arc<ScalarUDF>> {
    let mut functions = vec![
        Arc::new(ScalarUDF::from(RopeFunc::new())),
        Arc::new(ScalarUDF::from(SinusoidalPositionFunc::new())),
        Arc::new(ScalarUDF::from(TokenVectorFunc::new())),
    ];
    functions.extend(
        VectorOp::ALL
            .iter()
            .map(|&op| Arc::new(ScalarUDF::from(VectorFunc::new(op)))),
    );
    functions
}

/// The generators of this family.
pub fn all_generators() -> Vec<Arc<dyn Generator>> {
    vec![Arc::new(RopeEmbed)]
}

/// The documentation section of this family.
const DOC_SECTION: DocSection = DocSection {
    include: true,
    label: "Position encodings and vector functions",
    description: Some(
        "RoPE, sinusoidal encodings, token vectors and float vector arithmetic \
         (ARRAY<FLOAT> / ARRAY<DOUBLE>).",
    ),
};

/// The `Documentation` of a function of this family, with its arguments.
pub(crate) fn position_doc(
    description: &str,
    syntax: &str,
    example: &str,
    arguments: &[(&str, &str)],
) -> Documentation {
    let mut builder = Documentation::builder(DOC_SECTION, description, syntax);
    for (name, text) in arguments {
        builder = builder.with_argument(*name, *text);
    }
    builder.with_sql_example(example).build()
}

/// A planning error that names the function: `rope: argument 2 (pos) must be ...`.
pub(crate) fn plan_error(function: &str, message: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Plan(format!("{function}: {message}"))
}

/// An error found in the data, naming the function.
pub(crate) fn execution_error(function: &str, message: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Execution(format!("{function}: {message}"))
}

/// The type a vector argument is cast to: its list layout kept, `Float32` and `Float64`
/// elements kept, other numbers widened to `Float64` (`NULL` becomes `ARRAY<DOUBLE>`).
pub(crate) fn vector_type(
    function: &str,
    argument: &str,
    data_type: &DataType,
) -> Result<DataType> {
    let element = |f: &Field| -> Result<Field> {
        match f.data_type() {
            DataType::Float32 | DataType::Float64 => Ok(f.clone()),
            t if t.is_numeric() || t.is_null() => Ok(f.clone().with_data_type(DataType::Float64)),
            t => Err(plan_error(
                function,
                format!("{argument} must be an array of FLOAT or DOUBLE, got an array of {t}"),
            )),
        }
    };
    match data_type {
        DataType::List(f) => Ok(DataType::List(Arc::new(element(f)?))),
        DataType::LargeList(f) => Ok(DataType::LargeList(Arc::new(element(f)?))),
        DataType::FixedSizeList(f, n) => Ok(DataType::FixedSizeList(Arc::new(element(f)?), *n)),
        DataType::Null => Ok(DataType::new_list(DataType::Float64, true)),
        t => Err(plan_error(
            function,
            format!("{argument} must be an array of FLOAT or DOUBLE, got {t}"),
        )),
    }
}

/// The element type of a vector type made by [`vector_type`].
pub(crate) fn element_type(data_type: &DataType) -> Option<&DataType> {
    match data_type {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            Some(f.data_type())
        }
        _ => None,
    }
}

/// `data_type` with its elements made `element` (same list layout).
pub(crate) fn with_element_type(data_type: &DataType, element: &DataType) -> DataType {
    let retype = |f: &Arc<Field>| Arc::new(f.as_ref().clone().with_data_type(element.clone()));
    match data_type {
        DataType::List(f) => DataType::List(retype(f)),
        DataType::LargeList(f) => DataType::LargeList(retype(f)),
        DataType::FixedSizeList(f, n) => DataType::FixedSizeList(retype(f), *n),
        other => other.clone(),
    }
}

/// Checks that an argument is an integer (or NULL) and asks for `Int64`.
pub(crate) fn integer_type(
    function: &str,
    argument: &str,
    data_type: &DataType,
) -> Result<DataType> {
    if data_type.is_integer() || data_type.is_null() {
        Ok(DataType::Int64)
    } else {
        Err(plan_error(
            function,
            format!("{argument} must be an integer, got {data_type}"),
        ))
    }
}

/// Checks that an argument is a number (or NULL) and asks for `Float64`.
pub(crate) fn double_type(
    function: &str,
    argument: &str,
    data_type: &DataType,
) -> Result<DataType> {
    if data_type.is_numeric() || data_type.is_null() {
        Ok(DataType::Float64)
    } else {
        Err(plan_error(
            function,
            format!("{argument} must be a number, got {data_type}"),
        ))
    }
}

/// Checks that an argument is a string (or NULL) and asks for `Utf8`.
pub(crate) fn string_type(
    function: &str,
    argument: &str,
    data_type: &DataType,
) -> Result<DataType> {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => {
            Ok(DataType::Utf8)
        }
        t => Err(plan_error(
            function,
            format!("{argument} must be a string, got {t}"),
        )),
    }
}

/// The value of an argument that must be a constant (`None` when the call leaves it out).
pub(crate) fn constant<'a>(
    function: &str,
    argument: &str,
    value: Option<&'a ColumnarValue>,
) -> Result<Option<&'a ScalarValue>> {
    match value {
        None => Ok(None),
        Some(ColumnarValue::Scalar(v)) => Ok(Some(v)),
        Some(ColumnarValue::Array(_)) => Err(execution_error(
            function,
            format!("{argument} must be a constant"),
        )),
    }
}

/// A RoPE or sinusoidal base: a finite number > 0.
pub(crate) fn parse_base(function: &str, argument: &str, value: &ScalarValue) -> Result<f64> {
    let base = match value.cast_to(&DataType::Float64) {
        Ok(ScalarValue::Float64(Some(b))) => b,
        Ok(ScalarValue::Float64(None)) => {
            return Err(plan_error(function, format!("{argument} must not be NULL")));
        }
        _ => {
            return Err(plan_error(
                function,
                format!("{argument} must be a number, got {value}"),
            ));
        }
    };
    if base.is_finite() && base > 0.0 {
        Ok(base)
    } else {
        Err(plan_error(
            function,
            format!("{argument} must be a finite number > 0, got {base}"),
        ))
    }
}

/// A vector length: an integer in 1..=[`MAX_DIM`], or an even one in 2..=[`MAX_DIM`].
pub(crate) fn parse_dim(
    function: &str,
    argument: &str,
    value: &ScalarValue,
    even: bool,
) -> Result<usize> {
    let dim = match value.cast_to(&DataType::Int64) {
        Ok(ScalarValue::Int64(Some(d))) => d,
        Ok(ScalarValue::Int64(None)) => {
            return Err(plan_error(function, format!("{argument} must not be NULL")));
        }
        _ => {
            return Err(plan_error(
                function,
                format!("{argument} must be an integer, got {value}"),
            ));
        }
    };
    let least = if even { 2 } else { 1 };
    if dim < least || dim > MAX_DIM {
        return Err(plan_error(
            function,
            format!("{argument} must be between {least} and {MAX_DIM}, got {dim}"),
        ));
    }
    if even && dim % 2 != 0 {
        return Err(plan_error(
            function,
            format!("{argument} must be even (coordinates are rotated in pairs), got {dim}"),
        ));
    }
    usize::try_from(dim).map_err(|_| plan_error(function, format!("{argument} is too large")))
}

/// A seed: any integer (NULL is refused).
pub(crate) fn parse_seed(function: &str, argument: &str, value: &ScalarValue) -> Result<u64> {
    match value.cast_to(&DataType::Int64) {
        Ok(ScalarValue::Int64(Some(s))) => Ok(s as u64),
        Ok(ScalarValue::Int64(None)) => {
            Err(plan_error(function, format!("{argument} must not be NULL")))
        }
        _ => Err(plan_error(
            function,
            format!("{argument} must be an integer, got {value}"),
        )),
    }
}
