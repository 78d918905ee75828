//! A Hive function written as a kernel over one row of typed argument values.
//!
//! Most of Hive's string functions are simple per-row computations whose only differences are
//! the types they take, what they return and what they do with NULL. [`RowFn`] holds that
//! description; the kernel sees each row's arguments as [`Val`]s and returns an [`Out`].

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BinaryBuilder, BooleanBuilder, Int32Builder, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_STRING;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::super::{evaluate_rowwise, hive_arg_error, hive_doc};

// Two functions are the same when their names and aliases are (the kernel is a function
// pointer, whose address says nothing).
impl PartialEq for RowFn {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.aliases == other.aliases
    }
}

impl Eq for RowFn {}

impl std::hash::Hash for RowFn {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.aliases.hash(state);
    }
}

/// The type an argument is converted to before the kernel sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Arg {
    /// A string (numbers and other scalars are cast to their text, as Hive converts them).
    Str,
    /// A 64-bit integer.
    Int,
    /// Bytes (strings are taken as their UTF-8 bytes).
    Bin,
    /// Integers stay integers, floating and decimal numbers become doubles, the rest strings.
    Any,
    /// Bytes stay bytes, anything else becomes a string.
    StrOrBin,
}

/// One argument value of one row.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Val<'a> {
    /// SQL NULL.
    Null,
    /// A string.
    S(&'a str),
    /// An integer.
    I(i64),
    /// A double.
    F(f64),
    /// Bytes.
    B(&'a [u8]),
}

impl<'a> Val<'a> {
    /// The string, if the value is one.
    pub(crate) fn str(self) -> Option<&'a str> {
        match self {
            Val::S(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if the value is one.
    pub(crate) fn int(self) -> Option<i64> {
        match self {
            Val::I(i) => Some(i),
            _ => None,
        }
    }

    /// Whether the value is NULL.
    pub(crate) fn is_null(self) -> bool {
        matches!(self, Val::Null)
    }
}

/// A kernel's answer for one row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Out {
    /// SQL NULL.
    Null,
    /// A string.
    S(String),
    /// An integer.
    I(i64),
    /// A boolean.
    Bool(bool),
    /// Bytes.
    B(Vec<u8>),
}

/// The type a function returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Ret {
    /// `string`.
    Str,
    /// `int`.
    Int32,
    /// `boolean`.
    Bool,
    /// `binary`.
    Bin,
}

impl Ret {
    fn data_type(self) -> DataType {
        match self {
            Ret::Str => DataType::Utf8,
            Ret::Int32 => DataType::Int32,
            Ret::Bool => DataType::Boolean,
            Ret::Bin => DataType::Binary,
        }
    }
}

/// The kernel: one row's arguments to its answer.
pub(crate) type Kernel = fn(&[Val<'_>]) -> Result<Out>;

/// A Hive function defined by its argument types, return type and per-row kernel.
#[derive(Debug)]
pub(crate) struct RowFn {
    name: &'static str,
    aliases: Vec<String>,
    /// The argument types; when the function takes more arguments than listed, the last
    /// one repeats.
    args: &'static [Arg],
    min_args: usize,
    max_args: usize,
    ret: Ret,
    /// Whether a NULL argument makes the answer NULL without calling the kernel.
    strict: bool,
    kernel: Kernel,
    signature: Signature,
    doc: Documentation,
}

impl RowFn {
    /// A function `name` taking `min_args..=max_args` arguments of the types `args` (the last
    /// repeats), answering NULL for any NULL argument.
    pub(crate) fn new(
        name: &'static str,
        args: &'static [Arg],
        (min_args, max_args): (usize, usize),
        ret: Ret,
        kernel: Kernel,
    ) -> Self {
        Self {
            name,
            aliases: Vec::new(),
            args,
            min_args,
            max_args,
            ret,
            strict: true,
            kernel,
            signature: Signature::user_defined(Volatility::Immutable),
            doc: hive_doc(DOC_SECTION_STRING, name, name, name),
        }
    }

    /// The same function under other names too.
    pub(crate) fn aliases(mut self, aliases: &[&str]) -> Self {
        self.aliases = aliases.iter().map(|a| (*a).to_owned()).collect();
        self
    }

    /// The kernel sees NULL arguments itself.
    pub(crate) fn sees_nulls(mut self) -> Self {
        self.strict = false;
        self
    }

    /// Its documentation: what it does, its syntax (starting with the name) and an example.
    pub(crate) fn doc(mut self, description: &str, syntax: &str, example: &str) -> Self {
        self.doc = hive_doc(DOC_SECTION_STRING, description, syntax, example);
        self
    }

    /// As a DataFusion scalar function.
    pub(crate) fn udf(self) -> Arc<ScalarUDF> {
        Arc::new(ScalarUDF::from(self))
    }
}

fn is_integer(t: &DataType) -> bool {
    t.is_integer()
}

fn is_floating(t: &DataType) -> bool {
    t.is_floating() || matches!(t, DataType::Decimal128(..) | DataType::Decimal256(..))
}

fn is_stringy(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => is_stringy(v),
        _ => false,
    }
}

fn is_binary(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::FixedSizeBinary(_)
    )
}

fn coerce(name: &str, position: usize, arg: Arg, t: &DataType) -> Result<DataType> {
    let refuse = || {
        Err(hive_arg_error(
            name,
            format!("argument {} cannot be of type {t}", position + 1),
        ))
    };
    if matches!(
        t,
        DataType::List(_)
            | DataType::LargeList(_)
            | DataType::FixedSizeList(..)
            | DataType::Map(..)
            | DataType::Struct(_)
    ) {
        return refuse();
    }
    Ok(match arg {
        Arg::Str => DataType::Utf8,
        Arg::Int if is_integer(t) || is_stringy(t) || t.is_null() => DataType::Int64,
        Arg::Int if is_floating(t) => DataType::Int64,
        Arg::Int => return refuse(),
        Arg::Bin => DataType::Binary,
        Arg::Any if is_integer(t) => DataType::Int64,
        Arg::Any if is_floating(t) => DataType::Float64,
        Arg::Any => DataType::Utf8,
        Arg::StrOrBin if is_binary(t) => DataType::Binary,
        Arg::StrOrBin => DataType::Utf8,
    })
}

impl ScalarUDFImpl for RowFn {
    fn name(&self) -> &str {
        self.name
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let n = arg_types.len();
        if n < self.min_args || n > self.max_args {
            let expected = if self.min_args == self.max_args {
                format!("{}", self.min_args)
            } else if self.max_args == usize::MAX {
                format!("at least {}", self.min_args)
            } else {
                format!("{} to {}", self.min_args, self.max_args)
            };
            return Err(hive_arg_error(
                self.name,
                format!("takes {expected} argument(s), got {n}"),
            ));
        }
        arg_types
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let arg = self
                    .args
                    .get(i)
                    .or(self.args.last())
                    .copied()
                    .unwrap_or(Arg::Str);
                coerce(self.name, i, arg, t)
            })
            .collect()
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.ret.data_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        evaluate_rowwise(&args.args, |columns| self.run(columns))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.doc)
    }
}

fn value(array: &ArrayRef, row: usize) -> Result<Val<'_>> {
    if array.is_null(row) {
        return Ok(Val::Null);
    }
    Ok(match array.data_type() {
        DataType::Null => Val::Null,
        DataType::Utf8 => Val::S(array.as_string::<i32>().value(row)),
        DataType::Int64 => Val::I(array.as_primitive::<Int64Type>().value(row)),
        DataType::Float64 => Val::F(array.as_primitive::<Float64Type>().value(row)),
        DataType::Binary => Val::B(array.as_binary::<i32>().value(row)),
        other => return exec_err!("unexpected argument type {other}"),
    })
}

enum Builder {
    S(StringBuilder),
    I32(Int32Builder),
    Bool(BooleanBuilder),
    B(BinaryBuilder),
}

impl RowFn {
    fn run(&self, columns: &[ArrayRef]) -> Result<ArrayRef> {
        let rows = columns.first().map_or(1, |c| c.len());
        let mut builder = match self.ret {
            Ret::Str => Builder::S(StringBuilder::with_capacity(rows, rows * 8)),
            Ret::Int32 => Builder::I32(Int32Builder::with_capacity(rows)),
            Ret::Bool => Builder::Bool(BooleanBuilder::with_capacity(rows)),
            Ret::Bin => Builder::B(BinaryBuilder::with_capacity(rows, rows * 8)),
        };
        let mut vals = Vec::with_capacity(columns.len());
        for row in 0..rows {
            vals.clear();
            for c in columns {
                vals.push(value(c, row)?);
            }
            let out = if self.strict && vals.iter().any(|v| v.is_null()) {
                Out::Null
            } else {
                (self.kernel)(&vals)?
            };
            let ok = match (&mut builder, out) {
                (Builder::S(b), Out::Null) => {
                    b.append_null();
                    true
                }
                (Builder::I32(b), Out::Null) => {
                    b.append_null();
                    true
                }
                (Builder::Bool(b), Out::Null) => {
                    b.append_null();
                    true
                }
                (Builder::B(b), Out::Null) => {
                    b.append_null();
                    true
                }
                (Builder::S(b), Out::S(s)) => {
                    b.append_value(s);
                    true
                }
                (Builder::I32(b), Out::I(i)) => match i32::try_from(i) {
                    Ok(i) => {
                        b.append_value(i);
                        true
                    }
                    Err(_) => false,
                },
                (Builder::Bool(b), Out::Bool(v)) => {
                    b.append_value(v);
                    true
                }
                (Builder::B(b), Out::B(v)) => {
                    b.append_value(v);
                    true
                }
                _ => false,
            };
            if !ok {
                return exec_err!("{}: internal error: answer of the wrong type", self.name);
            }
        }
        Ok(match builder {
            Builder::S(mut b) => Arc::new(b.finish()),
            Builder::I32(mut b) => Arc::new(b.finish()),
            Builder::Bool(mut b) => Arc::new(b.finish()),
            Builder::B(mut b) => Arc::new(b.finish()),
        })
    }
}
