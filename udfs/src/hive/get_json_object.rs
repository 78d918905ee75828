//! `get_json_object(json, path)`: Hive's JSON extraction with its limited JSONPath.
//!
//! Supported: `$` (the root), `.key`, `['key']`, `[n]` and `[*]`. Following Hive:
//! - a key applied to an array is applied to each of its objects, and array values found that
//!   way are flattened into the result;
//! - a run of subscripts (`[*][0]`) is applied element-wise, and a result of one value is
//!   that value, not a one-element array;
//! - strings come back without quotes, numbers as Java prints them, objects and arrays as
//!   compact JSON text (keys in input order), JSON `null` as NULL;
//! - invalid JSON, an invalid path or a path that matches nothing gives NULL.

use std::fmt::Write;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_STRING;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use serde_json::{Number, Value};

use super::split::{coerce_to_utf8, scalar_string};
use super::{evaluate_on_first, hive_arg_error, hive_doc};

/// `get_json_object(json, path)` → `string`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct GetJsonObjectFunc {
    signature: Signature,
}

impl Default for GetJsonObjectFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl GetJsonObjectFunc {
    /// Creates the `get_json_object` function.
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_STRING,
        "Extracts the value at path from the JSON text json. path supports $ (the root), \
         .key, ['key'], [n] and [*]. Strings are returned without quotes, objects and arrays \
         as JSON text; NULL if the JSON is invalid or nothing matches.",
        "get_json_object(json, path)",
        "SELECT get_json_object('{\"a\": {\"b\": [1, 2]}}', '$.a.b[1]');\n-- 2",
    )
});

/// One subscript of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subscript {
    /// `[n]`
    At(usize),
    /// `[*]`
    All,
}

/// One step of a parsed path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// `.key` or `['key']`
    Key(String),
    /// A run of subscripts, applied together as Hive does.
    Subscripts(Vec<Subscript>),
}

/// Parses a path; `None` if it is not one this function understands.
fn parse_path(path: &str) -> Option<Vec<Step>> {
    let mut rest = path.strip_prefix('$')?;
    let mut steps: Vec<Step> = Vec::new();
    while let Some(c) = rest.chars().next() {
        match c {
            '.' => {
                let name_end = rest[1..].find(['.', '[']).map_or(rest.len(), |i| i + 1);
                let name = &rest[1..name_end];
                if name.is_empty() {
                    return None;
                }
                steps.push(Step::Key(name.to_owned()));
                rest = &rest[name_end..];
            }
            '[' => {
                let inner = &rest[1..];
                if let Some(quote) = inner.chars().next().filter(|q| *q == '\'' || *q == '"') {
                    let closing = inner[1..].find(quote)? + 1;
                    let after = inner[closing + 1..].strip_prefix(']')?;
                    let key = &inner[1..closing];
                    if key.is_empty() {
                        return None;
                    }
                    steps.push(Step::Key(key.to_owned()));
                    rest = after;
                } else {
                    let close = inner.find(']')?;
                    let subscript = match inner[..close].trim() {
                        "*" => Subscript::All,
                        digits => Subscript::At(digits.parse().ok()?),
                    };
                    match steps.last_mut() {
                        Some(Step::Subscripts(run)) => run.push(subscript),
                        _ => steps.push(Step::Subscripts(vec![subscript])),
                    }
                    rest = &inner[close + 1..];
                }
            }
            _ => return None,
        }
    }
    Some(steps)
}

/// A value reached by a path: a value of the document, or a list that the path built
/// (from `[*]` or from a key applied to an array).
#[derive(Debug)]
enum Node<'a> {
    Value(&'a Value),
    Built(Vec<&'a Value>),
}

impl<'a> Node<'a> {
    /// The elements when this is an array.
    fn elements(&self) -> Option<Vec<&'a Value>> {
        match self {
            Node::Value(Value::Array(items)) => Some(items.iter().collect()),
            Node::Built(items) => Some(items.clone()),
            Node::Value(_) => None,
        }
    }
}

fn apply_key<'a>(node: Node<'a>, key: &str) -> Option<Node<'a>> {
    let items = match node {
        Node::Value(Value::Object(fields)) => {
            return fields.get(key).filter(|v| !v.is_null()).map(Node::Value);
        }
        Node::Value(Value::Array(items)) => items.iter().collect(),
        Node::Built(items) => items,
        Node::Value(_) => return None,
    };
    let mut found = Vec::new();
    for item in items {
        if let Value::Object(fields) = item {
            match fields.get(key) {
                Some(Value::Array(inner)) => found.extend(inner.iter()),
                Some(Value::Null) | None => {}
                Some(value) => found.push(value),
            }
        }
    }
    (!found.is_empty()).then_some(Node::Built(found))
}

fn apply_subscripts<'a>(node: Node<'a>, subscripts: &[Subscript]) -> Option<Node<'a>> {
    let mut current = vec![node];
    for subscript in subscripts {
        let mut next = Vec::new();
        for node in &current {
            let Some(items) = node.elements() else {
                continue;
            };
            match subscript {
                Subscript::All => next.extend(items.into_iter().map(Node::Value)),
                Subscript::At(i) => {
                    if let Some(item) = items.get(*i) {
                        next.push(Node::Value(item));
                    }
                }
            }
        }
        if next.is_empty() {
            return None;
        }
        current = next;
    }
    if current.len() == 1 {
        return current.pop();
    }
    let mut values = Vec::with_capacity(current.len());
    for node in current {
        match node {
            Node::Value(v) => values.push(v),
            Node::Built(vs) => values.extend(vs),
        }
    }
    Some(Node::Built(values))
}

/// The value at `steps` in `json`, rendered as Hive renders it; `None` for NULL.
fn extract(json: &str, steps: &[Step]) -> Option<String> {
    let document: Value = serde_json::from_str(json).ok()?;
    if !matches!(document, Value::Object(_) | Value::Array(_)) {
        return None;
    }
    let mut node = Node::Value(&document);
    for step in steps {
        node = match step {
            Step::Key(key) => apply_key(node, key)?,
            Step::Subscripts(subscripts) => apply_subscripts(node, subscripts)?,
        };
    }
    match node {
        Node::Value(Value::Null) => None,
        Node::Value(Value::String(s)) => Some(s.clone()),
        Node::Value(Value::Bool(b)) => Some(b.to_string()),
        Node::Value(Value::Number(n)) => Some(java_number(n)),
        Node::Value(value) => {
            let mut out = String::new();
            write_json(&mut out, value);
            Some(out)
        }
        Node::Built(values) => {
            let mut out = String::from("[");
            for (i, value) in values.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(&mut out, value);
            }
            out.push(']');
            Some(out)
        }
    }
}

/// A JSON number as Java prints it (Jackson reads integers as `long`, others as `double`).
fn java_number(n: &Number) -> String {
    match n.as_f64() {
        Some(d) if !n.is_i64() && !n.is_u64() => java_double(d),
        _ => n.to_string(),
    }
}

/// `Double.toString`: plain notation in [1e-3, 1e7), `1.0E10` style outside it.
fn java_double(d: f64) -> String {
    if d == 0.0 {
        return if d.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    if (1e-3..1e7).contains(&d.abs()) {
        let plain = d.to_string();
        return if plain.contains('.') {
            plain
        } else {
            format!("{plain}.0")
        };
    }
    let scientific = format!("{d:e}");
    match scientific.split_once('e') {
        Some((mantissa, exponent)) if mantissa.contains('.') => format!("{mantissa}E{exponent}"),
        Some((mantissa, exponent)) => format!("{mantissa}.0E{exponent}"),
        None => scientific,
    }
}

/// Writes `value` as compact JSON, the way Jackson writes Hive's results.
fn write_json(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&java_number(n)),
        Value::String(s) => write_json_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, item);
            }
            out.push(']');
        }
        Value::Object(fields) => {
            out.push('{');
            for (i, (key, item)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(out, key);
                out.push(':');
                write_json(out, item);
            }
            out.push('}');
        }
    }
}

fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Evaluates `get_json_object` over a column of JSON texts and a path column or constant.
fn get_json_objects(json: &ArrayRef, path: &ColumnarValue) -> Result<ArrayRef> {
    let Some(json) = json.as_string_opt::<i32>() else {
        return exec_err!("get_json_object: argument 1 must be a string");
    };
    let mut builder = StringBuilder::with_capacity(json.len(), 0);
    match path {
        ColumnarValue::Scalar(path) => {
            let steps = scalar_string(path).and_then(parse_path);
            for text in json.iter() {
                match (text, &steps) {
                    (Some(text), Some(steps)) => builder.append_option(extract(text, steps)),
                    _ => builder.append_null(),
                }
            }
        }
        ColumnarValue::Array(paths) => {
            let Some(paths) = paths.as_string_opt::<i32>() else {
                return exec_err!("get_json_object: argument 2 must be a string");
            };
            for (text, path) in json.iter().zip(paths.iter()) {
                let value = match (text, path.and_then(parse_path)) {
                    (Some(text), Some(steps)) => extract(text, &steps),
                    _ => None,
                };
                builder.append_option(value);
            }
        }
    }
    Ok(Arc::new(builder.finish()))
}

impl ScalarUDFImpl for GetJsonObjectFunc {
    fn name(&self) -> &str {
        "get_json_object"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != 2 {
            return Err(hive_arg_error(
                self.name(),
                format!("takes 2 arguments (json, path), got {}", arg_types.len()),
            ));
        }
        coerce_to_utf8(self.name(), arg_types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [_, path] = args.args.as_slice() else {
            return Err(hive_arg_error(
                self.name(),
                "takes 2 arguments (json, path)",
            ));
        };
        evaluate_on_first(&args.args, args.number_rows, |json| {
            get_json_objects(json, path)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn get(json: &str, path: &str) -> Option<String> {
        extract(json, &parse_path(path)?)
    }

    const STORE: &str = r#"{"store":{"fruit":[{"weight":8,"type":"apple"},{"weight":9,"type":"pear"}],
        "bicycle":{"price":19.95,"color":"red"}},"email":"amy@example.net","owner":"amy",
        "tags":["a","b"],"none":null,"flag":true}"#;

    #[test]
    fn keys_indexes_and_wildcards() {
        assert_eq!(get(STORE, "$.owner").as_deref(), Some("amy"));
        assert_eq!(
            get(STORE, "$.store.bicycle.price").as_deref(),
            Some("19.95")
        );
        assert_eq!(
            get(STORE, "$.store.fruit[0]").as_deref(),
            Some(r#"{"weight":8,"type":"apple"}"#)
        );
        assert_eq!(get(STORE, "$.store.fruit[1].type").as_deref(), Some("pear"));
        assert_eq!(
            get(STORE, "$.store.fruit[*].weight").as_deref(),
            Some("[8,9]")
        );
        assert_eq!(
            get(STORE, "$.store.fruit.type").as_deref(),
            Some(r#"["apple","pear"]"#)
        );
        assert_eq!(get(STORE, "$.tags[*]").as_deref(), Some(r#"["a","b"]"#));
        assert_eq!(get(STORE, "$['owner']").as_deref(), Some("amy"));
        assert_eq!(
            get(STORE, "$[\"store\"]['bicycle'].color").as_deref(),
            Some("red")
        );
        assert_eq!(get(STORE, "$.flag").as_deref(), Some("true"));
    }

    #[test]
    fn whole_documents_keep_key_order_and_are_compact() {
        assert_eq!(
            get(r#"{"b": 1, "a": [1, {"z": null}]}"#, "$").as_deref(),
            Some(r#"{"b":1,"a":[1,{"z":null}]}"#)
        );
        assert_eq!(get("[1, 2, 3]", "$[1]").as_deref(), Some("2"));
        assert_eq!(get("[[1, 2], [3, 4]]", "$[*][0]").as_deref(), Some("[1,3]"));
        assert_eq!(get("[[1, 2], [3, 4]]", "$[1][*]").as_deref(), Some("[3,4]"));
        assert_eq!(get(r#"{"a":[{"b":1}]}"#, "$.a.b").as_deref(), Some("[1]"));
        assert_eq!(get(r#"{"a":[{"b":1}]}"#, "$.a[*].b").as_deref(), Some("1"));
    }

    #[test]
    fn nulls_for_missing_invalid_and_json_null() {
        assert_eq!(get(STORE, "$.missing"), None);
        assert_eq!(get(STORE, "$.none"), None);
        assert_eq!(get(STORE, "$.tags[5]"), None);
        assert_eq!(get(STORE, "$.owner[0]"), None);
        assert_eq!(get("{not json", "$.a"), None);
        assert_eq!(get("", "$"), None);
        assert_eq!(get("42", "$"), None);
        assert_eq!(get(STORE, "owner"), None);
        assert_eq!(get(STORE, "$..owner"), None);
        assert_eq!(get(STORE, "$.tags[x]"), None);
        assert_eq!(get(STORE, "$.tags[0"), None);
    }

    #[test]
    fn numbers_print_like_java() {
        assert_eq!(get(r#"{"a": 1.0}"#, "$.a").as_deref(), Some("1.0"));
        assert_eq!(get(r#"{"a": 1e10}"#, "$.a").as_deref(), Some("1.0E10"));
        assert_eq!(get(r#"{"a": 1.5e-5}"#, "$.a").as_deref(), Some("1.5E-5"));
        assert_eq!(
            get(r#"{"a": 123456789012}"#, "$.a").as_deref(),
            Some("123456789012")
        );
        assert_eq!(get(r#"{"a": -0.5}"#, "$.a").as_deref(), Some("-0.5"));
        assert_eq!(
            get(r#"{"a": [2.50, "x\"y\n"]}"#, "$.a").as_deref(),
            Some(r#"[2.5,"x\"y\n"]"#)
        );
    }

    #[test]
    fn path_parsing() {
        assert_eq!(parse_path("$"), Some(vec![]));
        assert_eq!(
            parse_path("$.a[0][*].b"),
            Some(vec![
                Step::Key("a".into()),
                Step::Subscripts(vec![Subscript::At(0), Subscript::All]),
                Step::Key("b".into()),
            ])
        );
        assert_eq!(parse_path("$.a."), None);
        assert_eq!(parse_path("$['']"), None);
        assert_eq!(parse_path("$x"), None);
    }

    #[test]
    fn columns_of_paths() {
        let json: ArrayRef = Arc::new(datafusion::arrow::array::StringArray::from(vec![
            Some(r#"{"a":1,"b":"x"}"#),
            Some(r#"{"a":1,"b":"x"}"#),
            None,
        ]));
        let paths: ArrayRef = Arc::new(datafusion::arrow::array::StringArray::from(vec![
            Some("$.a"),
            Some("$.b"),
            Some("$.a"),
        ]));
        let out = get_json_objects(&json, &ColumnarValue::Array(paths)).unwrap();
        let out = out.as_string::<i32>();
        assert_eq!(
            out.iter().collect::<Vec<_>>(),
            vec![Some("1"), Some("x"), None]
        );
    }
}
