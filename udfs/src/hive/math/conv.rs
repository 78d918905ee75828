//! Hive's `conv(num, from_base, to_base)`: a number's digits converted between bases 2..36,
//! through an unsigned 64-bit value exactly as Hive's `UDFConv` does (digits are read up to the
//! first one invalid in `from_base`; a negative `to_base` gives a signed result; a negative
//! number with a positive `to_base` is its two's complement).

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::Result;
use datafusion::common::cast::as_string_array;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_MATH;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::super::{evaluate_rowwise, hive_arg_error, hive_doc};
use super::is_numeric_or_string;

/// `conv(num, from_base, to_base)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct ConvFunc {
    signature: Signature,
}

impl Default for ConvFunc {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_MATH,
        "conv(num, from_base, to_base) - convert num from from_base to to_base; a negative \
         to_base gives a signed result",
        "conv(num, from_base, to_base)",
        "SELECT conv('100', 2, 10), conv(-10, 16, -10); -- 4, -16",
    )
});

/// Java's unsigned division of two longs.
fn unsigned_div(dividend: i64, divisor: i64) -> i64 {
    ((dividend as u64) / (divisor as u64)) as i64
}

/// Hive's `UDFConv` on one value; None where Hive answers NULL.
fn conv(num: &str, from: i64, to: i64) -> Option<String> {
    if !(2..=36).contains(&from) || !(2..=36).contains(&to.abs()) {
        return None;
    }
    let bytes = num.as_bytes();
    if bytes.is_empty() || bytes.len() > 64 {
        return None;
    }
    let mut negative = bytes[0] == b'-';
    let digits = if negative { &bytes[1..] } else { bytes };
    // encode: stops at the first invalid digit; the overflow check is Hive's (signed compares).
    let radix = from;
    let bound = unsigned_div(-1 - radix, radix);
    let mut val: i64 = 0;
    for &c in digits {
        let Some(d) = (c as char).to_digit(radix as u32) else {
            break;
        };
        let d = i64::from(d);
        if val >= bound && unsigned_div(-1 - d, radix) < val {
            val = -1;
            break;
        }
        val = val.wrapping_mul(radix).wrapping_add(d);
    }
    if negative && to > 0 {
        val = if val < 0 { -1 } else { val.wrapping_neg() };
    }
    if to < 0 && val < 0 {
        val = val.wrapping_neg();
        negative = true;
    }
    let radix = to.unsigned_abs();
    let mut v = val as u64;
    let mut out = Vec::new();
    loop {
        let d = (v % radix) as u32;
        out.push(char::from_digit(d, radix as u32)?.to_ascii_uppercase());
        v /= radix;
        if v == 0 {
            break;
        }
    }
    if negative && to < 0 {
        out.push('-');
    }
    Some(out.into_iter().rev().collect())
}

impl ScalarUDFImpl for ConvFunc {
    fn name(&self) -> &str {
        "conv"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [n, f, t]
                if is_numeric_or_string(n)
                    && is_numeric_or_string(f)
                    && is_numeric_or_string(t) =>
            {
                Ok(vec![DataType::Utf8, DataType::Int64, DataType::Int64])
            }
            _ => Err(hive_arg_error(
                "conv",
                "takes 3 arguments (num, from_base, to_base)",
            )),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        evaluate_rowwise(&args.args, |arrays| {
            let nums = cast(arrays[0].as_ref(), &DataType::Utf8)?;
            let nums = as_string_array(&nums)?;
            let from = cast(arrays[1].as_ref(), &DataType::Int64)?;
            let to = cast(arrays[2].as_ref(), &DataType::Int64)?;
            let mut out = StringBuilder::new();
            for ((n, f), t) in nums
                .iter()
                .zip(from.as_primitive::<Int64Type>().iter())
                .zip(to.as_primitive::<Int64Type>().iter())
            {
                match (n, f, t) {
                    (Some(n), Some(f), Some(t)) => out.append_option(conv(n, f, t)),
                    _ => out.append_null(),
                }
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}

#[cfg(test)]
mod tests {
    use super::conv;

    #[test]
    fn answers_of_hive() {
        let c = |n: &str, f, t| conv(n, f, t).unwrap_or_else(|| "NULL".to_string());
        assert_eq!(c("100", 2, 10), "4");
        assert_eq!(c("-10", 16, -10), "-16");
        assert_eq!(c("-10", 16, 10), "18446744073709551600");
        assert_eq!(c("ff", 16, 10), "255");
        assert_eq!(c("zz", 36, 10), "1295");
        assert_eq!(c("12", 40, 10), "NULL");
        assert_eq!(c("9", 2, 10), "0");
        assert_eq!(c("1a", 10, 16), "1");
        assert_eq!(c("-1", 10, 16), "FFFFFFFFFFFFFFFF");
        assert_eq!(c("18446744073709551615", 10, 10), "18446744073709551615");
        assert_eq!(c("99999999999999999999", 10, 10), "7766279631452241919");
        assert_eq!(c(" 12", 10, 10), "0");
        assert_eq!(c("-ff", 16, 10), "18446744073709551361");
        assert_eq!(c("8000000000000000", 16, -10), "-9223372036854775808");
        assert_eq!(c("7fffffffffffffff", 16, -10), "9223372036854775807");
    }
}
