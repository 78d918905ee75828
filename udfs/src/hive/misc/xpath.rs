//! Hive's XPath functions: `xpath(xml, path)` (the values of the nodes `path` selects, as a
//! string array), `xpath_string`, `xpath_boolean`, `xpath_int`, `xpath_long`, `xpath_short`,
//! `xpath_float`, `xpath_double` and `xpath_number` (the expression's value converted as
//! XPath 1.0's `string()`, `boolean()` and `number()` convert it, then narrowed as Java casts a
//! double: NaN is 0, out-of-range values saturate, `xpath_short` wraps as Java's `(short)`).
//!
//! XPath 1.0 is sxd-xpath's. As Hive's (a DOM parser that is not namespace-aware), element
//! names are matched without their namespace: `a/b` selects `<a xmlns="urn:x"><b/></a>`'s `b`.
//! An invalid expression gives NULL (an empty array for `xpath`), as Hive's does; invalid XML
//! is an error naming the function, as in Hive. A NULL or empty argument gives NULL (an empty
//! array for `xpath`): Hive 2.3 answers so for `xpath_string` and fails with a
//! NullPointerException for several others.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Float32Array, Float64Array, Int16Array, Int32Array, Int64Array,
    ListBuilder, StringArray, StringBuilder,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::Result;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_STRING;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use sxd_document::dom::{ChildOfElement, ChildOfRoot, Element};
use sxd_xpath::nodeset::Node;
use sxd_xpath::{Context, Factory, Value, XPath};

use crate::hive::{evaluate_rowwise, hive_arg_error, hive_doc, is_string_or_null};

/// What one XPath function returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Answer {
    /// `xpath`: the selected nodes' values.
    Values,
    /// `xpath_string`.
    Text,
    /// `xpath_boolean`.
    Boolean,
    /// `xpath_short`.
    Short,
    /// `xpath_int`.
    Int,
    /// `xpath_long`.
    Long,
    /// `xpath_float`.
    Float,
    /// `xpath_double` and `xpath_number`.
    Double,
}

/// One of Hive's XPath functions.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct XPathFunc {
    name: &'static str,
    answer: Answer,
    signature: Signature,
}

impl XPathFunc {
    fn new(name: &'static str, answer: Answer) -> Self {
        Self {
            name,
            answer,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }

    /// Every XPath function.
    pub(crate) fn all() -> Vec<Self> {
        vec![
            Self::new("xpath", Answer::Values),
            Self::new("xpath_string", Answer::Text),
            Self::new("xpath_boolean", Answer::Boolean),
            Self::new("xpath_short", Answer::Short),
            Self::new("xpath_int", Answer::Int),
            Self::new("xpath_long", Answer::Long),
            Self::new("xpath_float", Answer::Float),
            Self::new("xpath_double", Answer::Double),
            Self::new("xpath_number", Answer::Double),
        ]
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_STRING,
        "Evaluates an XPath 1.0 expression on an XML string, as Hive's xpath functions: xpath \
         returns the values of the nodes it selects (text, attributes, comments) as a string \
         array; xpath_string, xpath_boolean, xpath_int, xpath_long, xpath_short, xpath_float \
         and xpath_double (xpath_number) return its value converted to that type.",
        "xpath(xml, xpath)",
        "SELECT xpath('<a><b>b1</b><b>b2</b></a>', 'a/b/text()');\n-- [b1, b2]\n\
         SELECT xpath_int('<a><b>1</b><b>4</b></a>', 'sum(a/b)');\n-- 5",
    )
});

/// XPath 1.0's `number()` of a string: optional whitespace, an optional minus, digits with an
/// optional fraction; anything else (exponents included) is NaN.
fn xpath_number(text: &str) -> f64 {
    let t = text.trim_matches([' ', '\t', '\n', '\r']);
    let digits = t.strip_prefix('-').unwrap_or(t);
    let valid = !digits.is_empty()
        && digits != "."
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.chars().filter(|&c| c == '.').count() <= 1;
    if valid {
        t.parse().unwrap_or(f64::NAN)
    } else {
        f64::NAN
    }
}

/// A value's number, as XPath 1.0's `number()` (strings by [`xpath_number`]).
fn number_of(value: &Value<'_>) -> f64 {
    match value {
        Value::Number(n) => *n,
        Value::Boolean(b) => f64::from(u8::from(*b)),
        Value::String(_) | Value::Nodeset(_) => xpath_number(&value.string()),
    }
}

/// The value of a node as Java's DOM gives it (`getNodeValue`): text, attributes, comments and
/// processing instructions have one; elements and the document do not.
fn node_value(node: Node<'_>) -> Option<String> {
    match node {
        Node::Text(t) => Some(t.text().to_string()),
        Node::Attribute(a) => Some(a.value().to_string()),
        Node::Comment(c) => Some(c.text().to_string()),
        Node::ProcessingInstruction(p) => Some(p.value().unwrap_or_default().to_string()),
        Node::Root(_) | Node::Element(_) | Node::Namespace(_) => None,
    }
}

/// Element names without their namespace, as a DOM that is not namespace-aware has them.
fn drop_namespaces(element: Element<'_>) {
    let mut pending = vec![element];
    while let Some(e) = pending.pop() {
        let local = e.name().local_part().to_string();
        e.set_name(local.as_str());
        e.set_default_namespace_uri(None);
        for child in e.children() {
            if let ChildOfElement::Element(c) = child {
                pending.push(c);
            }
        }
    }
}

/// An expression compiled once for as long as the path stays the same (a constant path is
/// compiled once per batch), as Hive keeps its last one.
struct Compiled {
    path: String,
    xpath: Option<XPath>,
}

impl Compiled {
    fn get(&mut self, path: &str) -> Option<&XPath> {
        if self.path != path {
            self.path = path.to_string();
            self.xpath = Factory::new().build(path).ok().flatten();
        }
        self.xpath.as_ref()
    }
}

/// What one row gives.
enum RowAnswer {
    Values(Vec<String>),
    Number(f64),
    Text(String),
    Boolean(bool),
}

impl XPathFunc {
    /// Evaluates `path` on `xml`; `None` for a NULL answer.
    fn evaluate(
        &self,
        compiled: &mut Compiled,
        xml: &str,
        path: &str,
    ) -> Result<Option<RowAnswer>> {
        if xml.is_empty() || path.is_empty() {
            return Ok(None);
        }
        let Some(xpath) = compiled.get(path) else {
            return Ok(None);
        };
        let package = sxd_document::parser::parse(xml).map_err(|e| {
            let shown: String = xml.chars().take(80).collect();
            hive_arg_error(
                self.name,
                format!(
                    "invalid XML document ({e}) at byte {}: {shown}",
                    e.location()
                ),
            )
        })?;
        let document = package.as_document();
        for child in document.root().children() {
            if let ChildOfRoot::Element(e) = child {
                drop_namespaces(e);
            }
        }
        let value = xpath
            .evaluate(&Context::new(), document.root())
            .map_err(|e| hive_arg_error(self.name, format!("cannot evaluate '{path}': {e}")))?;
        Ok(Some(match self.answer {
            Answer::Values => match value {
                Value::Nodeset(nodes) => RowAnswer::Values(
                    nodes
                        .document_order()
                        .into_iter()
                        .filter_map(node_value)
                        .collect(),
                ),
                _ => {
                    return Err(hive_arg_error(
                        self.name,
                        format!(
                            "'{path}' is not an expression that selects nodes; use \
                             xpath_string, xpath_int, ... for its value"
                        ),
                    ));
                }
            },
            Answer::Text => RowAnswer::Text(value.string()),
            Answer::Boolean => RowAnswer::Boolean(value.boolean()),
            _ => RowAnswer::Number(number_of(&value)),
        }))
    }

    /// The answers for arrays of XML documents and paths.
    fn evaluate_arrays(&self, xml: &StringArray, paths: &StringArray) -> Result<ArrayRef> {
        let mut compiled = Compiled {
            path: String::new(),
            xpath: None,
        };
        let mut answers = Vec::with_capacity(xml.len());
        for row in 0..xml.len() {
            answers.push(if xml.is_null(row) || paths.is_null(row) {
                None
            } else {
                self.evaluate(&mut compiled, xml.value(row), paths.value(row))?
            });
        }
        let number = |a: &Option<RowAnswer>| match a {
            Some(RowAnswer::Number(n)) => Some(*n),
            _ => None,
        };
        Ok(match self.answer {
            Answer::Values => {
                let mut builder = ListBuilder::new(StringBuilder::new());
                for a in answers {
                    if let Some(RowAnswer::Values(values)) = a {
                        for v in values {
                            builder.values().append_value(v);
                        }
                    }
                    // Hive's xpath never answers NULL: no document is an empty list.
                    builder.append(true);
                }
                Arc::new(builder.finish())
            }
            Answer::Text => Arc::new(StringArray::from_iter(answers.iter().map(|a| match a {
                Some(RowAnswer::Text(t)) => Some(t.as_str()),
                _ => None,
            }))),
            Answer::Boolean => Arc::new(BooleanArray::from_iter(answers.iter().map(|a| match a {
                Some(RowAnswer::Boolean(b)) => Some(*b),
                _ => None,
            }))),
            // Java's narrowing of a double: NaN is 0, out of range saturates (Rust's `as`
            // does the same); `(short)` narrows through `int`, so it wraps.
            Answer::Short => Arc::new(Int16Array::from_iter(
                answers.iter().map(|a| number(a).map(|n| n as i32 as i16)),
            )),
            Answer::Int => Arc::new(Int32Array::from_iter(
                answers.iter().map(|a| number(a).map(|n| n as i32)),
            )),
            Answer::Long => Arc::new(Int64Array::from_iter(
                answers.iter().map(|a| number(a).map(|n| n as i64)),
            )),
            Answer::Float => Arc::new(Float32Array::from_iter(
                answers.iter().map(|a| number(a).map(|n| n as f32)),
            )),
            Answer::Double => Arc::new(Float64Array::from_iter(answers.iter().map(number))),
        })
    }
}

impl ScalarUDFImpl for XPathFunc {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [xml, path] if is_string_or_null(xml) && is_string_or_null(path) => {
                Ok(vec![DataType::Utf8, DataType::Utf8])
            }
            [xml, path] => Err(hive_arg_error(
                self.name,
                format!("takes two strings (xml, xpath), got {xml} and {path}"),
            )),
            _ => Err(hive_arg_error(
                self.name,
                format!("takes 2 arguments (xml, xpath), got {}", arg_types.len()),
            )),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self.answer {
            Answer::Values => DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
            Answer::Text => DataType::Utf8,
            Answer::Boolean => DataType::Boolean,
            Answer::Short => DataType::Int16,
            Answer::Int => DataType::Int32,
            Answer::Long => DataType::Int64,
            Answer::Float => DataType::Float32,
            Answer::Double => DataType::Float64,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        evaluate_rowwise(&args.args, |columns| {
            let [xml, paths] = columns else {
                return Err(hive_arg_error(self.name, "takes 2 arguments (xml, xpath)"));
            };
            let xml = cast(xml, &DataType::Utf8)?;
            let paths = cast(paths, &DataType::Utf8)?;
            let (Some(xml), Some(paths)) = (
                xml.as_any().downcast_ref::<StringArray>(),
                paths.as_any().downcast_ref::<StringArray>(),
            ) else {
                return Err(hive_arg_error(self.name, "takes two strings (xml, xpath)"));
            };
            self.evaluate_arrays(xml, paths)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_xpath_one_not_rust() {
        assert_eq!(xpath_number(" 12.5 "), 12.5);
        assert_eq!(xpath_number("-3"), -3.0);
        assert!(xpath_number("1e3").is_nan());
        assert!(xpath_number("+1").is_nan());
        assert!(xpath_number("").is_nan());
        assert!(xpath_number("1.2.3").is_nan());
        assert_eq!(xpath_number(".5"), 0.5);
    }
}
