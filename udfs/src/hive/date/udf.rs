//! The one `ScalarUDFImpl` behind most of Hive's date functions: a name, how arguments are
//! coerced, the return type and a row-wise kernel, each function supplying its own.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_DATETIME;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    TypeSignature, Volatility,
};

use super::super::{hive_arg_error, hive_doc};

/// How a function's argument types become the types its kernel reads.
pub(crate) type Coerce = fn(&str, &[DataType]) -> Result<Vec<DataType>>;
/// The return type for the (coerced) argument types.
pub(crate) type Returns = fn(&[DataType]) -> Result<DataType>;
/// The row-wise kernel: arguments as arrays of one length, result of that length.
pub(crate) type Kernel = fn(&[ArrayRef], usize) -> Result<ArrayRef>;

/// A Hive date function described by its parts.
#[derive(Debug)]
pub(crate) struct DateFunc {
    name: &'static str,
    aliases: Vec<String>,
    arity: (usize, usize),
    signature: Signature,
    coerce: Coerce,
    returns: Returns,
    kernel: Kernel,
    doc: Documentation,
}

impl PartialEq for DateFunc {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.aliases == other.aliases
    }
}

impl Eq for DateFunc {}

impl Hash for DateFunc {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.aliases.hash(state);
    }
}

/// The parts of a [`DateFunc`]'s documentation: what it does, its syntax and an example.
pub(crate) struct Doc<'a> {
    /// What the function returns.
    pub description: &'a str,
    /// Its call syntax.
    pub syntax: &'a str,
    /// A query that calls it.
    pub example: &'a str,
}

/// A signature whose types `coerce_types` decides; one that may take no arguments says so.
fn signature(arity: (usize, usize), volatility: Volatility) -> Signature {
    if arity.0 == 0 {
        Signature::one_of(
            vec![TypeSignature::Nullary, TypeSignature::UserDefined],
            volatility,
        )
    } else {
        Signature::user_defined(volatility)
    }
}

impl DateFunc {
    /// A deterministic function taking `arity.0` to `arity.1` arguments.
    pub(crate) fn new(
        name: &'static str,
        arity: (usize, usize),
        coerce: Coerce,
        returns: Returns,
        kernel: Kernel,
        doc: Doc<'_>,
    ) -> Self {
        Self {
            name,
            aliases: Vec::new(),
            arity,
            signature: signature(arity, Volatility::Immutable),
            coerce,
            returns,
            kernel,
            doc: hive_doc(
                DOC_SECTION_DATETIME,
                doc.description,
                doc.syntax,
                doc.example,
            ),
        }
    }

    /// The same function under other names too.
    pub(crate) fn with_aliases(mut self, aliases: &[&str]) -> Self {
        self.aliases = aliases.iter().map(|a| a.to_string()).collect();
        self
    }

    /// The same function, evaluated anew for every call (it reads the clock).
    pub(crate) fn volatile(mut self) -> Self {
        self.signature = signature(self.arity, Volatility::Volatile);
        self
    }

    /// As a registrable UDF.
    pub(crate) fn udf(self) -> Arc<ScalarUDF> {
        Arc::new(ScalarUDF::from(self))
    }
}

impl ScalarUDFImpl for DateFunc {
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
        let (low, high) = self.arity;
        let n = arg_types.len();
        if n < low || n > high {
            let expected = if low == high {
                format!("{low}")
            } else {
                format!("{low} to {high}")
            };
            return Err(hive_arg_error(
                self.name,
                format!(
                    "takes {expected} arguments ({}), got {n}",
                    self.doc.syntax_example
                ),
            ));
        }
        (self.coerce)(self.name, arg_types)
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        (self.returns)(arg_types)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        let arrays = args
            .args
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<Result<Vec<_>>>()?;
        let result = (self.kernel)(&arrays, rows)?;
        if all_scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &result, 0,
            )?))
        } else {
            Ok(ColumnarValue::Array(result))
        }
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.doc)
    }
}
