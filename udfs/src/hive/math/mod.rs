//! Hive's mathematical functions (`ln`, `log`, `greatest`/`least`, `pmod`, `conv`, `bround`, ...).
//!
//! DataFusion's `abs`, `acos`, `asin`, `atan`, `cos`, `sin`, `tan`, `exp`, `cbrt`, `degrees`,
//! `radians` and `pi` answer as Hive's (NaN outside the domain, as Java's `Math` does) and
//! stay; the functions here replace DataFusion's where Hive answers differently.

mod abs;
mod conv;
mod e;
mod factorial;
mod floor_ceil;
mod greatest;
mod logarithm;
mod modulo;
mod power;
mod rand;
mod round;
mod shift;
mod sign;
mod spark_wrapped;
mod unary_double;
mod unary_minus;
mod width_bucket;

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::common::cast::as_float64_array;
use datafusion::logical_expr::ScalarUDF;

/// This family's scalar functions, registered over DataFusion's of the same names.
pub(crate) fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    let mut out: Vec<Arc<ScalarUDF>> = vec![
        Arc::new(ScalarUDF::from(abs::AbsFunc::default())),
        Arc::new(ScalarUDF::from(conv::ConvFunc::default())),
        Arc::new(ScalarUDF::from(e::EFunc::default())),
        Arc::new(ScalarUDF::from(factorial::FactorialFunc::default())),
        Arc::new(ScalarUDF::from(floor_ceil::FloorCeilFunc::floor())),
        Arc::new(ScalarUDF::from(floor_ceil::FloorCeilFunc::ceil())),
        Arc::new(ScalarUDF::from(greatest::GreatestFunc::greatest())),
        Arc::new(ScalarUDF::from(greatest::GreatestFunc::least())),
        Arc::new(ScalarUDF::from(logarithm::LogFunc::default())),
        Arc::new(ScalarUDF::from(modulo::ModFunc::pmod())),
        Arc::new(ScalarUDF::from(modulo::ModFunc::modulo())),
        Arc::new(ScalarUDF::from(power::PowerFunc::default())),
        Arc::new(ScalarUDF::from(rand::RandFunc::default())),
        Arc::new(ScalarUDF::from(round::RoundFunc::round())),
        Arc::new(ScalarUDF::from(round::RoundFunc::bround())),
        Arc::new(ScalarUDF::from(sign::SignFunc::default())),
        Arc::new(ScalarUDF::from(unary_minus::SignedFunc::positive())),
        Arc::new(ScalarUDF::from(unary_minus::SignedFunc::negative())),
        Arc::new(ScalarUDF::from(width_bucket::WidthBucketFunc::default())),
    ];
    // Spark's `bin`, `hex` and `unhex` answer as Hive's (two's complement of a bigint,
    // upper-case hex of a string's bytes, NULL for a non-hex digit).
    out.extend(spark_wrapped::all());
    out.extend(unary_double::all());
    out.extend(shift::all());
    out
}

/// The argument as `Float64` (strings that are not numbers become NULL, as Hive's do).
pub(super) fn as_doubles(array: &ArrayRef) -> Result<Float64Array> {
    let doubles = cast(array.as_ref(), &DataType::Float64)?;
    Ok(as_float64_array(&doubles)?.clone())
}

/// Whether Hive takes a value of this type where it wants a number (strings convert).
pub(super) fn is_numeric_or_string(data_type: &DataType) -> bool {
    data_type.is_numeric() || super::is_string_or_null(data_type) || *data_type == DataType::Boolean
}
