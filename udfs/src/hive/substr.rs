//! Hive's `substr(str, pos[, len])` / `substring`: 1-based, position 0 is the start, a
//! negative position counts from the end, anything out of range is the empty string.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::Result;
use datafusion::common::cast::as_string_array;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_STRING;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::{evaluate_rowwise, hive_arg_error, hive_doc};

/// `substr(str, pos[, len])` with Hive's positions.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SubstrFunc {
    signature: Signature,
    aliases: Vec<String>,
}

impl Default for SubstrFunc {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
            aliases: vec!["substring".to_string()],
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_STRING,
        "The substring of str from pos (1-based; 0 is the start too; negative counts from the \
         end) for len characters (to the end without len); empty when out of range.",
        "substr(str, pos[, len])",
        "SELECT substr('hello', 0, 2), substr('hello', -3)",
    )
});

/// The character range `substr(pos, len)` selects from a string of `n` characters.
fn range(n: i64, pos: i64, len: Option<i64>) -> Option<(usize, usize)> {
    let start = if pos > 0 {
        pos - 1
    } else if pos < 0 {
        n + pos
    } else {
        0
    };
    if start < 0 || start >= n || len.is_some_and(|l| l <= 0) {
        return None;
    }
    let end = len.map_or(n, |l| (start.saturating_add(l)).min(n));
    Some((start as usize, end as usize))
}

impl ScalarUDFImpl for SubstrFunc {
    fn name(&self) -> &str {
        "substr"
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types.len() {
            2 => Ok(vec![DataType::Utf8, DataType::Int64]),
            3 => Ok(vec![DataType::Utf8, DataType::Int64, DataType::Int64]),
            n => Err(hive_arg_error(
                "substr",
                format!("takes 2 or 3 arguments (str, pos[, len]), got {n}"),
            )),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        evaluate_rowwise(&args.args, |arrays| {
            let text = cast(arrays[0].as_ref(), &DataType::Utf8)?;
            let text = as_string_array(&text)?;
            let pos = cast(arrays[1].as_ref(), &DataType::Int64)?;
            let pos = pos.as_primitive::<Int64Type>();
            let len = match arrays.get(2) {
                Some(a) => Some(cast(a.as_ref(), &DataType::Int64)?),
                None => None,
            };
            let len = len.as_ref().map(|l| l.as_primitive::<Int64Type>());
            let mut out = StringBuilder::new();
            for row in 0..text.len() {
                if text.is_null(row) || pos.is_null(row) || len.is_some_and(|l| l.is_null(row)) {
                    out.append_null();
                    continue;
                }
                let s = text.value(row);
                let n = s.chars().count() as i64;
                match range(n, pos.value(row), len.map(|l| l.value(row))) {
                    Some((a, b)) => {
                        out.append_value(s.chars().skip(a).take(b - a).collect::<String>())
                    }
                    None => out.append_value(""),
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
    use super::range;

    #[test]
    fn hive_positions() {
        assert_eq!(range(5, 1, Some(2)), Some((0, 2)));
        assert_eq!(range(5, 0, Some(2)), Some((0, 2)));
        assert_eq!(range(5, -3, None), Some((2, 5)));
        assert_eq!(range(5, 6, None), None);
        assert_eq!(range(5, -6, None), None);
        assert_eq!(range(5, 2, Some(0)), None);
        assert_eq!(range(5, 4, Some(100)), Some((3, 5)));
    }
}
