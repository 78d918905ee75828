//! `str_to_map(text [, pair_delimiter [, key_value_delimiter]])`: parses `k:v,k:v` text
//! into a `map<string, string>`, as Hive does.
//!
//! Both delimiters are regular expressions (Java `String.split` semantics: trailing empty
//! pairs are dropped, a pair is cut at its first key/value delimiter). A pair without the
//! key/value delimiter maps its whole text to NULL; a repeated key keeps its last value.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, MapBuilder, MapFieldNames, StringBuilder,
};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_MAP;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::java_split::java_split;
use super::map::map_type;
use super::regex_cache::{PatternArg, RegexCache};
use super::{evaluate_on_first, hive_arg_error, hive_doc, is_string_or_null};

/// `str_to_map(text [, pair_delimiter [, key_value_delimiter]])` → `map<string, string>`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct StrToMapFunc {
    signature: Signature,
    patterns: RegexCache,
}

impl Default for StrToMapFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl StrToMapFunc {
    /// Creates the `str_to_map` function.
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
            patterns: RegexCache::default(),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_MAP,
        "Splits text into key/value pairs with two regular expressions: pair_delimiter \
         (default ',') between pairs and key_value_delimiter (default ':') between a key and \
         its value. A pair without key_value_delimiter gets a NULL value; a repeated key keeps \
         its last value. Returns NULL if any argument is NULL. All arguments must be strings.",
        "str_to_map(text [, pair_delimiter [, key_value_delimiter]])",
        "SELECT str_to_map('a:1,b:2,a:3');\n-- {a: 3, b: 2}",
    )
});

/// The builder of `map<string, string>` rows with DataFusion's field names.
fn string_map_builder(capacity: usize) -> MapBuilder<StringBuilder, StringBuilder> {
    let names = MapFieldNames {
        entry: "entries".to_owned(),
        key: "key".to_owned(),
        value: "value".to_owned(),
    };
    MapBuilder::with_capacity(
        Some(names),
        StringBuilder::new(),
        StringBuilder::new(),
        capacity,
    )
}

impl StrToMapFunc {
    /// Parses every row of `text` (a `Utf8` array) with the given delimiters.
    fn parse(
        &self,
        text: &ArrayRef,
        pair_delimiter: &ColumnarValue,
        key_value_delimiter: &ColumnarValue,
    ) -> Result<ArrayRef> {
        let name = self.name();
        let Some(text) = text.as_string_opt::<i32>() else {
            return exec_err!("{name}: argument 1 must be a string");
        };
        let pair_delimiter = PatternArg::new(&self.patterns, name, pair_delimiter)?;
        let key_value_delimiter = PatternArg::new(&self.patterns, name, key_value_delimiter)?;
        let mut builder = string_map_builder(text.len());
        let mut entries: Vec<(&str, Option<&str>)> = Vec::new();
        let mut positions: HashMap<&str, usize> = HashMap::new();
        for (row, value) in text.iter().enumerate() {
            let pair_re = pair_delimiter.at(&self.patterns, name, row)?;
            let key_value_re = key_value_delimiter.at(&self.patterns, name, row)?;
            let (Some(value), Some(pair_re), Some(key_value_re)) = (value, pair_re, key_value_re)
            else {
                builder.append(false)?;
                continue;
            };
            entries.clear();
            positions.clear();
            for pair in java_split(value, &pair_re, 0) {
                let (key, val) = match java_split(pair, &key_value_re, 2).as_slice() {
                    [key, val] => (*key, Some(*val)),
                    _ => (pair, None),
                };
                match positions.entry(key) {
                    Entry::Occupied(slot) => entries[*slot.get()].1 = val,
                    Entry::Vacant(slot) => {
                        slot.insert(entries.len());
                        entries.push((key, val));
                    }
                }
            }
            for (key, val) in &entries {
                builder.keys().append_value(key);
                builder.values().append_option(*val);
            }
            builder.append(true)?;
        }
        Ok(Arc::new(builder.finish()))
    }
}

impl ScalarUDFImpl for StrToMapFunc {
    fn name(&self) -> &str {
        "str_to_map"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if !(1..=3).contains(&arg_types.len()) {
            return Err(hive_arg_error(
                self.name(),
                format!(
                    "takes 1 to 3 arguments (text, pair_delimiter, key_value_delimiter), got {}",
                    arg_types.len()
                ),
            ));
        }
        // Hive: "All argument should be string/character type"; numbers are not converted.
        arg_types
            .iter()
            .enumerate()
            .map(|(i, arg_type)| {
                if is_string_or_null(arg_type) {
                    Ok(DataType::Utf8)
                } else {
                    Err(hive_arg_error(
                        self.name(),
                        format!("argument {} must be a string, got {arg_type}", i + 1),
                    ))
                }
            })
            .collect()
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(map_type(DataType::Utf8, DataType::Utf8))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let default_pair = ColumnarValue::Scalar(ScalarValue::from(","));
        let default_key_value = ColumnarValue::Scalar(ScalarValue::from(":"));
        let (pair, key_value) = match args.args.as_slice() {
            [_] => (&default_pair, &default_key_value),
            [_, pair] => (pair, &default_key_value),
            [_, pair, key_value] => (pair, key_value),
            _ => return Err(hive_arg_error(self.name(), "takes 1 to 3 arguments")),
        };
        evaluate_on_first(&args.args, args.number_rows, |text| {
            self.parse(text, pair, key_value)
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

    /// The entries of one parsed map; `None` for a NULL map.
    type Entries = Option<Vec<(String, Option<String>)>>;

    fn parse(texts: Vec<Option<&str>>, pair: &str, kv: &str) -> Vec<Entries> {
        let texts: ArrayRef = Arc::new(StringArray::from(texts));
        let maps = StrToMapFunc::new()
            .parse(
                &texts,
                &ColumnarValue::Scalar(ScalarValue::from(pair)),
                &ColumnarValue::Scalar(ScalarValue::from(kv)),
            )
            .unwrap();
        assert_eq!(maps.data_type(), &map_type(DataType::Utf8, DataType::Utf8));
        let maps = maps.as_map();
        (0..maps.len())
            .map(|i| {
                maps.is_valid(i).then(|| {
                    let entries = maps.value(i);
                    let keys = entries.column(0).as_string::<i32>();
                    let values = entries.column(1).as_string::<i32>();
                    keys.iter()
                        .zip(values.iter())
                        .map(|(k, v)| (k.unwrap_or_default().to_owned(), v.map(str::to_owned)))
                        .collect()
                })
            })
            .collect()
    }

    fn pairs(items: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.map(str::to_owned)))
            .collect()
    }

    #[test]
    fn default_delimiters_and_last_value_wins() {
        let rows = parse(vec![Some("a:1,b:2,a:3")], ",", ":");
        assert_eq!(
            rows[0].as_ref().unwrap(),
            &pairs(&[("a", Some("3")), ("b", Some("2"))])
        );
    }

    #[test]
    fn missing_values_trailing_pairs_and_empty_text() {
        let rows = parse(
            vec![Some("a,b:,c:x:y,,"), Some(""), None, Some(",")],
            ",",
            ":",
        );
        assert_eq!(
            rows[0].as_ref().unwrap(),
            &pairs(&[("a", None), ("b", Some("")), ("c", Some("x:y"))])
        );
        assert_eq!(rows[1].as_ref().unwrap(), &pairs(&[("", None)]));
        assert!(rows[2].is_none());
        assert!(rows[3].as_ref().unwrap().is_empty());
    }

    #[test]
    fn only_string_arguments_are_taken() {
        let f = StrToMapFunc::new();
        assert_eq!(
            f.coerce_types(&[DataType::Utf8View, DataType::Null, DataType::LargeUtf8])
                .unwrap(),
            vec![DataType::Utf8; 3]
        );
        let err = f.coerce_types(&[DataType::Int64]).unwrap_err().to_string();
        assert!(
            err.contains("str_to_map: argument 1 must be a string, got Int64"),
            "{err}"
        );
        let err = f
            .coerce_types(&[DataType::Utf8, DataType::Utf8, DataType::Boolean])
            .unwrap_err()
            .to_string();
        assert!(err.contains("argument 3 must be a string"), "{err}");
    }

    #[test]
    fn delimiters_are_regular_expressions() {
        let rows = parse(vec![Some("a=1; b=2;c = 3")], ";\\s*", "\\s*=\\s*");
        assert_eq!(
            rows[0].as_ref().unwrap(),
            &pairs(&[("a", Some("1")), ("b", Some("2")), ("c", Some("3"))])
        );
    }
}
