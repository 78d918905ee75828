//! `split(str, regex)`: Hive's split, which keeps trailing empty strings.
//!
//! Hive calls Java's `str.split(regex, -1)`; patterns are compiled with the `regex` crate,
//! whose syntax matches Java's for everything but look-around and back-references.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, ListBuilder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_STRING;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::java_split::java_split;
use super::regex_cache::{PatternArg, RegexCache};
use super::{evaluate_on_first, hive_arg_error, hive_doc};

/// `split(str, regex)` → `array<string>`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SplitFunc {
    signature: Signature,
    patterns: RegexCache,
}

impl Default for SplitFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl SplitFunc {
    /// Creates the `split` function.
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
            patterns: RegexCache::default(),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_STRING,
        "Splits str around matches of the regular expression regex and returns the pieces \
         as an array of strings. Empty pieces are kept, trailing ones included. \
         Returns NULL if either argument is NULL.",
        "split(str, regex)",
        "SELECT split('a,b,,c,', ',');\n-- [a, b, , c, ]",
    )
});

/// Coerces every argument of a string function to `Utf8`: strings and other primitive
/// values are accepted (Hive converts them to text), arrays, maps and structs are not.
pub(crate) fn coerce_to_utf8(name: &str, arg_types: &[DataType]) -> Result<Vec<DataType>> {
    arg_types
        .iter()
        .enumerate()
        .map(|(i, arg_type)| match arg_type {
            t if !t.is_nested() => Ok(DataType::Utf8),
            other => Err(hive_arg_error(
                name,
                format!("argument {} must be a string, got {other}", i + 1),
            )),
        })
        .collect()
}

impl SplitFunc {
    /// Splits every row of `text` (a `Utf8` array) by `pattern` (a `Utf8` scalar or array).
    fn split_arrays(&self, text: &ArrayRef, pattern: &ColumnarValue) -> Result<ArrayRef> {
        let Some(text) = text.as_string_opt::<i32>() else {
            return exec_err!("split: argument 1 must be a string");
        };
        let pattern = PatternArg::new(&self.patterns, "split", pattern)?;
        let mut builder = ListBuilder::with_capacity(StringBuilder::new(), text.len())
            .with_field(Arc::new(Field::new_list_field(DataType::Utf8, true)));
        for (row, value) in text.iter().enumerate() {
            let Some(value) = value else {
                builder.append_null();
                continue;
            };
            match pattern.at(&self.patterns, "split", row)? {
                Some(re) => {
                    for piece in java_split(value, &re, -1) {
                        builder.values().append_value(piece);
                    }
                    builder.append(true);
                }
                None => builder.append_null(),
            }
        }
        Ok(Arc::new(builder.finish()))
    }
}

/// The string inside a string scalar (`None` for NULL or a non-string).
pub(crate) fn scalar_string(scalar: &ScalarValue) -> Option<&str> {
    match scalar {
        ScalarValue::Utf8(s) | ScalarValue::LargeUtf8(s) | ScalarValue::Utf8View(s) => s.as_deref(),
        _ => None,
    }
}

impl ScalarUDFImpl for SplitFunc {
    fn name(&self) -> &str {
        "split"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != 2 {
            return Err(hive_arg_error(
                self.name(),
                format!("takes 2 arguments (str, regex), got {}", arg_types.len()),
            ));
        }
        coerce_to_utf8(self.name(), arg_types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::new_list(DataType::Utf8, true))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [_, pattern] = args.args.as_slice() else {
            return Err(hive_arg_error(
                self.name(),
                "takes 2 arguments (str, regex)",
            ));
        };
        evaluate_on_first(&args.args, args.number_rows, |text| {
            self.split_arrays(text, pattern)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use datafusion::arrow::array::StringArray;

    use super::*;

    fn split_all(texts: Vec<Option<&str>>, pattern: &str) -> Vec<Option<Vec<String>>> {
        let texts: ArrayRef = Arc::new(StringArray::from(texts));
        let pattern = ColumnarValue::Scalar(ScalarValue::from(pattern));
        let lists = SplitFunc::new().split_arrays(&texts, &pattern).unwrap();
        let lists = lists.as_list::<i32>();
        (0..lists.len())
            .map(|i| {
                lists.is_valid(i).then(|| {
                    let row = lists.value(i);
                    row.as_string::<i32>()
                        .iter()
                        .map(|s| s.unwrap_or_default().to_owned())
                        .collect()
                })
            })
            .collect()
    }

    #[test]
    fn keeps_trailing_empty_strings() {
        let rows = split_all(vec![Some("a,b,,"), Some(""), None, Some("x")], ",");
        assert_eq!(rows[0].as_deref().unwrap(), ["a", "b", "", ""]);
        assert_eq!(rows[1].as_deref().unwrap(), [""]);
        assert!(rows[2].is_none());
        assert_eq!(rows[3].as_deref().unwrap(), ["x"]);
    }

    #[test]
    fn per_row_patterns() {
        let texts: ArrayRef =
            Arc::new(StringArray::from(vec![Some("a-b"), Some("a.b"), Some("q")]));
        let patterns: ArrayRef = Arc::new(StringArray::from(vec![Some("-"), Some("\\."), None]));
        let lists = SplitFunc::new()
            .split_arrays(&texts, &ColumnarValue::Array(patterns))
            .unwrap();
        let lists = lists.as_list::<i32>();
        assert_eq!(lists.value(0).len(), 2);
        assert_eq!(lists.value(1).len(), 2);
        assert!(lists.is_null(2));
    }

    #[test]
    fn null_pattern_gives_nulls_and_bad_pattern_an_error() {
        let texts: ArrayRef = Arc::new(StringArray::from(vec!["a"]));
        let null = ColumnarValue::Scalar(ScalarValue::Utf8(None));
        let lists = SplitFunc::new().split_arrays(&texts, &null).unwrap();
        assert!(lists.is_null(0));
        let bad = ColumnarValue::Scalar(ScalarValue::from("[a"));
        let err = SplitFunc::new()
            .split_arrays(&texts, &bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains("split: invalid regular expression"), "{err}");
    }

    #[test]
    fn non_string_arguments_are_rejected() {
        let err = SplitFunc::new()
            .coerce_types(&[DataType::new_list(DataType::Utf8, true), DataType::Utf8])
            .unwrap_err()
            .to_string();
        assert!(err.contains("split: argument 1 must be a string"), "{err}");
    }
}
