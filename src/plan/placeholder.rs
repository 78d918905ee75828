//! Generators registered as scalar-function names, so that a generator used where only a
//! scalar can stand gets a clear error (and misspellings get "did you mean explode?").

use std::sync::Arc;

use apiary_udfs::Generator;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// The scalar-function face of a generator: planning it is always an error.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct GeneratorPlaceholder {
    name: String,
    signature: Signature,
    doc: DocHolder,
}

#[derive(Debug)]
struct DocHolder(Documentation);

impl PartialEq for DocHolder {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for DocHolder {}
impl std::hash::Hash for DocHolder {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

impl GeneratorPlaceholder {
    /// The placeholder for `generator`.
    pub fn new(generator: &Arc<dyn Generator>) -> Self {
        Self {
            name: generator.name().to_string(),
            signature: Signature::variadic_any(Volatility::Volatile),
            doc: DocHolder(generator.documentation().clone()),
        }
    }
}

impl ScalarUDFImpl for GeneratorPlaceholder {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        plan_err!(
            "generator {} can only be used alone in the SELECT list, in FROM, or in LATERAL VIEW; \
             it cannot stand inside an expression or in this clause",
            self.name
        )
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        plan_err!(
            "generator {} cannot be evaluated as a scalar function",
            self.name
        )
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.doc.0)
    }
}
