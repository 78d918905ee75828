//! Hive 4's `width_bucket(expr, min_value, max_value, num_buckets)`: the bucket of expr among
//! `num_buckets` equal ranges of [min_value, max_value) — 0 below, num_buckets + 1 above (a
//! range may run downwards); integer arithmetic when expr, min and max are integers, as Hive's.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int32Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_MATH;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::super::{evaluate_rowwise, hive_arg_error, hive_doc};

/// `width_bucket(expr, min_value, max_value, num_buckets)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct WidthBucketFunc {
    signature: Signature,
}

impl Default for WidthBucketFunc {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_MATH,
        "width_bucket(expr, min_value, max_value, num_buckets) - Returns an integer between 0 \
         and num_buckets+1 by mapping the expr into buckets defined by the range [min_value, \
         max_value]",
        "width_bucket(expr, min_value, max_value, num_buckets)",
        "SELECT width_bucket(20, 5, 25, 4); -- 4",
    )
});

/// The bucket, in `T`'s arithmetic (`div` is integer or real division).
fn bucket<T: PartialOrd + Copy>(
    e: T,
    min: T,
    max: T,
    n: i64,
    scaled: impl Fn(T, T) -> i64,
) -> Result<i32> {
    if n <= 0 {
        return exec_err!("width_bucket: num_buckets must be above 0, got {n}");
    }
    if min == max {
        return exec_err!("width_bucket: max_value cannot be equal to min_value");
    }
    let b = if max > min {
        if e < min {
            0
        } else if e >= max {
            n + 1
        } else {
            scaled(e, min) + 1
        }
    } else if e > min {
        0
    } else if e <= max {
        n + 1
    } else {
        scaled(min, e) + 1
    };
    Ok(b as i32)
}

impl ScalarUDFImpl for WidthBucketFunc {
    fn name(&self) -> &str {
        "width_bucket"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != 4 {
            return Err(hive_arg_error(
                self.name(),
                "takes 4 arguments (expr, min_value, max_value, num_buckets)",
            ));
        }
        if let Some(t) = arg_types.iter().find(|t| !(t.is_numeric() || t.is_null())) {
            return Err(hive_arg_error(
                self.name(),
                format!("takes numbers, got {t}"),
            ));
        }
        let integers = arg_types[..3].iter().all(|t| t.is_integer() || t.is_null());
        let t = if integers {
            DataType::Int64
        } else {
            DataType::Float64
        };
        Ok(vec![t.clone(), t.clone(), t, DataType::Int64])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        evaluate_rowwise(&args.args, |arrays| {
            let n = cast(arrays[3].as_ref(), &DataType::Int64)?;
            let n = n.as_primitive::<Int64Type>();
            let mut out = Int32Array::builder(n.len());
            if arrays[0].data_type() == &DataType::Int64 {
                let (e, lo, hi) = (
                    arrays[0].as_primitive::<Int64Type>(),
                    arrays[1].as_primitive::<Int64Type>(),
                    arrays[2].as_primitive::<Int64Type>(),
                );
                for i in 0..n.len() {
                    match (e.is_valid(i), lo.is_valid(i), hi.is_valid(i), n.is_valid(i)) {
                        (true, true, true, true) => {
                            let (min, max, k) = (lo.value(i), hi.value(i), n.value(i));
                            let width = (max - min).wrapping_abs();
                            out.append_value(bucket(e.value(i), min, max, k, |a, b| {
                                (k.wrapping_mul(a - b)).div_euclid(width.max(1))
                            })?)
                        }
                        _ => out.append_null(),
                    }
                }
            } else {
                let (e, lo, hi) = (
                    arrays[0].as_primitive::<Float64Type>(),
                    arrays[1].as_primitive::<Float64Type>(),
                    arrays[2].as_primitive::<Float64Type>(),
                );
                for i in 0..n.len() {
                    match (e.is_valid(i), lo.is_valid(i), hi.is_valid(i), n.is_valid(i)) {
                        (true, true, true, true) => {
                            let (min, max, k) = (lo.value(i), hi.value(i), n.value(i));
                            let width = (max - min).abs();
                            out.append_value(bucket(e.value(i), min, max, k, |a, b| {
                                (k as f64 * (a - b) / width).floor() as i64
                            })?)
                        }
                        _ => out.append_null(),
                    }
                }
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
