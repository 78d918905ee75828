//! Hive's `current_date` and `current_timestamp` (also written without parentheses): the
//! date and the timestamp (UTC wall time, to the millisecond, no time zone) at the start of
//! the query, the same for every row and every call in it.

use std::sync::{Arc, LazyLock};

use chrono::{DateTime, Utc};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_DATETIME;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::super::hive_doc;
use super::input::days_of;

/// `current_date` or `current_timestamp`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct CurrentFunc {
    timestamp: bool,
    signature: Signature,
}

static DATE_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_DATETIME,
        "The current date at the start of query evaluation; all calls in a query give the same.",
        "current_date()",
        "SELECT current_date",
    )
});

static TIMESTAMP_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_DATETIME,
        "The current timestamp (UTC) at the start of query evaluation; all calls in a query \
         give the same.",
        "current_timestamp()",
        "SELECT current_timestamp",
    )
});

impl CurrentFunc {
    /// The value at `now`.
    fn value(&self, now: DateTime<Utc>) -> ScalarValue {
        let wall = now.naive_utc();
        if self.timestamp {
            let millis = wall.and_utc().timestamp_millis();
            ScalarValue::TimestampNanosecond(millis.checked_mul(1_000_000), None)
        } else {
            ScalarValue::Date32(Some(days_of(wall.date())))
        }
    }
}

impl ScalarUDFImpl for CurrentFunc {
    fn name(&self) -> &str {
        if self.timestamp {
            "current_timestamp"
        } else {
            "current_date"
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(if self.timestamp {
            DataType::Timestamp(TimeUnit::Nanosecond, None)
        } else {
            DataType::Date32
        })
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        match info.query_execution_start_time() {
            Some(now) => Ok(ExprSimplifyResult::Simplified(Expr::Literal(
                self.value(now),
                None,
            ))),
            None => Ok(ExprSimplifyResult::Original(args)),
        }
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(ColumnarValue::Scalar(self.value(Utc::now())))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(if self.timestamp {
            &TIMESTAMP_DOC
        } else {
            &DATE_DOC
        })
    }
}

/// `current_date`, `current_timestamp`.
pub(crate) fn functions() -> Vec<Arc<ScalarUDF>> {
    [false, true]
        .into_iter()
        .map(|timestamp| {
            Arc::new(ScalarUDF::from(CurrentFunc {
                timestamp,
                signature: Signature::nullary(Volatility::Stable),
            }))
        })
        .collect()
}
