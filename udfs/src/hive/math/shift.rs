//! Hive's `shiftleft(a, b)`, `shiftright(a, b)` and `shiftrightunsigned(a, b)`: Java's `<<`,
//! `>>` and `>>>` on an int (tinyint, smallint and int: the shift count taken mod 32) or a
//! bigint (mod 64).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, Int32Array, Int64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int32Type, Int64Type};
use datafusion::common::Result;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_MATH;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::super::{evaluate_rowwise, hive_arg_error, hive_doc};

/// Which shift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Shift {
    Left,
    Right,
    RightUnsigned,
}

/// One of Hive's bit shift functions.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct ShiftFunc {
    shift: Shift,
    signature: Signature,
    doc: Documentation,
}

/// The three shift functions.
pub(super) fn all() -> Vec<Arc<ScalarUDF>> {
    [
        (
            Shift::Left,
            "shiftleft(a, b) - Bitwise left shift (a << b) of an int or a bigint",
            "SELECT shiftleft(2, 1); -- 4",
        ),
        (
            Shift::Right,
            "shiftright(a, b) - Bitwise right shift (a >> b) of an int or a bigint",
            "SELECT shiftright(4, 1); -- 2",
        ),
        (
            Shift::RightUnsigned,
            "shiftrightunsigned(a, b) - Bitwise unsigned right shift (a >>> b) of an int or a bigint",
            "SELECT shiftrightunsigned(4, 1); -- 2",
        ),
    ]
    .into_iter()
    .map(|(shift, description, example)| {
        let syntax = description.split(" - ").next().unwrap_or(description);
        Arc::new(ScalarUDF::from(ShiftFunc {
            shift,
            signature: Signature::user_defined(Volatility::Immutable),
            doc: hive_doc(DOC_SECTION_MATH, description, syntax, example),
        }))
    })
    .collect()
}

impl Shift {
    fn int(self, a: i32, b: i32) -> i32 {
        let b = (b & 31) as u32;
        match self {
            Shift::Left => a.wrapping_shl(b),
            Shift::Right => a >> b,
            Shift::RightUnsigned => ((a as u32) >> b) as i32,
        }
    }

    fn long(self, a: i64, b: i32) -> i64 {
        let b = (b & 63) as u32;
        match self {
            Shift::Left => a.wrapping_shl(b),
            Shift::Right => a >> b,
            Shift::RightUnsigned => ((a as u64) >> b) as i64,
        }
    }
}

impl ScalarUDFImpl for ShiftFunc {
    fn name(&self) -> &str {
        match self.shift {
            Shift::Left => "shiftleft",
            Shift::Right => "shiftright",
            Shift::RightUnsigned => "shiftrightunsigned",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [a, b] = arg_types else {
            return Err(hive_arg_error(self.name(), "takes 2 arguments (a, b)"));
        };
        if !(b.is_integer() || b.is_null()) {
            return Err(hive_arg_error(
                self.name(),
                format!("the shift count must be an int, got {b}"),
            ));
        }
        let a = match a {
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::UInt8
            | DataType::UInt16
            | DataType::Null => DataType::Int32,
            DataType::Int64 | DataType::UInt32 | DataType::UInt64 => DataType::Int64,
            other => {
                return Err(hive_arg_error(
                    self.name(),
                    format!("shifts an integer, got {other}"),
                ));
            }
        };
        Ok(vec![a, DataType::Int32])
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types.first().cloned().unwrap_or(DataType::Int32))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let shift = self.shift;
        evaluate_rowwise(&args.args, |arrays| {
            let b = cast(arrays[1].as_ref(), &DataType::Int32)?;
            let b = b.as_primitive::<Int32Type>();
            Ok(match arrays[0].data_type() {
                DataType::Int64 => Arc::new(
                    arrays[0]
                        .as_primitive::<Int64Type>()
                        .iter()
                        .zip(b.iter())
                        .map(|(a, b)| Some(shift.long(a?, b?)))
                        .collect::<Int64Array>(),
                ) as ArrayRef,
                _ => {
                    let a = cast(arrays[0].as_ref(), &DataType::Int32)?;
                    Arc::new(
                        a.as_primitive::<Int32Type>()
                            .iter()
                            .zip(b.iter())
                            .map(|(a, b)| Some(shift.int(a?, b?)))
                            .collect::<Int32Array>(),
                    )
                }
            })
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.doc)
    }
}

#[cfg(test)]
mod tests {
    use super::Shift;

    #[test]
    fn java_shifts() {
        assert_eq!(Shift::Left.int(1, 31), i32::MIN);
        assert_eq!(Shift::Left.int(1, 32), 1);
        assert_eq!(Shift::Left.long(1, 32), 4_294_967_296);
        assert_eq!(Shift::Right.int(-16, 2), -4);
        assert_eq!(Shift::RightUnsigned.int(-16, 2), 1_073_741_820);
        assert_eq!(Shift::RightUnsigned.long(-16, 2), 4_611_686_018_427_387_900);
    }
}
