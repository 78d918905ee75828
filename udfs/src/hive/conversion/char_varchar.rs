//! Hive's `varchar(x, n)` and `char(x, n)`, what `CAST(x AS VARCHAR(n))` and
//! `CAST(x AS CHAR(n))` become: x as a string (Hive's conversion), cut to n characters, and for
//! `char` padded with spaces to n.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_STRING;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::super::{evaluate_on_first, hive_arg_error, hive_doc};
use super::cast::hive_cast;

/// The most characters Hive allows in a `VARCHAR` (65535) or a `CHAR` (255).
const VARCHAR_MAX: i64 = 65_535;
const CHAR_MAX: i64 = 255;

/// `varchar(x, n)` or `char(x, n)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct CharFunc {
    pad: bool,
    signature: Signature,
    doc: Documentation,
}

impl CharFunc {
    /// `varchar(x, n)`: at most n characters.
    pub(super) fn varchar() -> Self {
        Self {
            pad: false,
            signature: Signature::any(2, Volatility::Immutable),
            doc: hive_doc(
                DOC_SECTION_STRING,
                "varchar(x, n) - CAST(x AS VARCHAR(n)): x as a string of at most n characters",
                "varchar(x, n)",
                "SELECT CAST('abcdef' AS VARCHAR(3)); -- abc",
            ),
        }
    }

    /// `char(x, n)`: exactly n characters, padded with spaces.
    pub(super) fn char() -> Self {
        Self {
            pad: true,
            signature: Signature::any(2, Volatility::Immutable),
            doc: hive_doc(
                DOC_SECTION_STRING,
                "char(x, n) - CAST(x AS CHAR(n)): x as a string of n characters (cut, or padded \
                 with spaces)",
                "char(x, n)",
                "SELECT concat('[', CAST('ab' AS CHAR(4)), ']'); -- [ab  ]",
            ),
        }
    }

    fn max(&self) -> i64 {
        if self.pad { CHAR_MAX } else { VARCHAR_MAX }
    }
}

impl ScalarUDFImpl for CharFunc {
    fn name(&self) -> &str {
        if self.pad { "char" } else { "varchar" }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let length = match args.args.get(1) {
            Some(ColumnarValue::Scalar(s)) => match s.cast_to(&DataType::Int64) {
                Ok(ScalarValue::Int64(Some(n))) if (1..=self.max()).contains(&n) => n as usize,
                _ => {
                    return Err(hive_arg_error(
                        self.name(),
                        format!("the length must be a constant from 1 to {}", self.max()),
                    ));
                }
            },
            _ => {
                return Err(hive_arg_error(
                    self.name(),
                    "takes 2 arguments (x, n) with n a constant",
                ));
            }
        };
        let pad = self.pad;
        evaluate_on_first(&args.args, args.number_rows, |x| {
            let text = hive_cast(x, &DataType::Utf8)?;
            let text = text.as_string::<i32>();
            let mut out = StringBuilder::new();
            for v in text.iter() {
                match v {
                    None => out.append_null(),
                    Some(s) => {
                        let mut cut: String = s.chars().take(length).collect();
                        if pad {
                            let n = cut.chars().count();
                            cut.extend(std::iter::repeat_n(' ', length - n));
                        }
                        out.append_value(cut);
                    }
                }
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.doc)
    }
}
