//! The expression planner that gives `map(k1, v1, …)` and `struct(v1, …)` their Hive
//! meaning.
//!
//! DataFusion's SQL planner never looks these up by name: `map` with anything but two array
//! arguments, and `make_map`, go to `ExprPlanner::plan_make_map`; a `STRUCT(...)` literal
//! (in dialects that parse one) goes to `ExprPlanner::plan_struct_literal`. The first
//! planner that answers wins, so this one must come before DataFusion's defaults.
//!
//! `EXTRACT(field FROM x)` is Hive's function of that field (`year(x)`, `weekofyear(x)` for
//! WEEK, `dayofweek(x)` for DOW/DAYOFWEEK, ...), as Hive's parser makes it: a string that is
//! not a date is NULL, not an error. Other fields (EPOCH, DOY, ...) are DataFusion's
//! `date_part`.

use std::sync::{Arc, LazyLock};

use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult};
use datafusion::logical_expr::{Expr, ScalarUDF};

use super::{ArrayFunc, MapFunc, StructFunc};

static ARRAY: LazyLock<Arc<ScalarUDF>> =
    LazyLock::new(|| Arc::new(ScalarUDF::from(ArrayFunc::new())));
static MAP: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| Arc::new(ScalarUDF::from(MapFunc::new())));
static STRUCT: LazyLock<Arc<ScalarUDF>> =
    LazyLock::new(|| Arc::new(ScalarUDF::from(StructFunc::new())));

/// Plans `map(k1, v1, …)` as Hive's map and unnamed struct literals as Hive's struct.
#[derive(Debug, Default, Clone, Copy)]
pub struct HiveExprPlanner;

impl ExprPlanner for HiveExprPlanner {
    fn plan_make_map(&self, args: Vec<Expr>) -> Result<PlannerResult<Vec<Expr>>> {
        if !args.len().is_multiple_of(2) {
            return plan_err!(
                "map: takes key/value pairs (an even number of arguments), got {}",
                args.len()
            );
        }
        let mut keys = Vec::with_capacity(args.len() / 2);
        let mut values = Vec::with_capacity(args.len() / 2);
        for (i, arg) in args.into_iter().enumerate() {
            if i % 2 == 0 {
                keys.push(arg);
            } else {
                values.push(arg);
            }
        }
        Ok(PlannerResult::Planned(
            MAP.call(vec![ARRAY.call(keys), ARRAY.call(values)]),
        ))
    }

    fn plan_struct_literal(
        &self,
        args: Vec<Expr>,
        is_named_struct: bool,
    ) -> Result<PlannerResult<Vec<Expr>>> {
        if is_named_struct {
            // `struct(a AS x, …)`: DataFusion's named_struct already does what Hive does.
            return Ok(PlannerResult::Original(args));
        }
        Ok(PlannerResult::Planned(STRUCT.call(args)))
    }

    fn plan_extract(&self, args: Vec<Expr>) -> Result<PlannerResult<Vec<Expr>>> {
        let field = match args.first() {
            Some(Expr::Literal(ScalarValue::Utf8(Some(f)), _)) => f.to_ascii_lowercase(),
            _ => return Ok(PlannerResult::Original(args)),
        };
        let Some(function) = extract_function(&field) else {
            return Ok(PlannerResult::Original(args));
        };
        let Some(udf) = super::date::scalar_functions()
            .into_iter()
            .find(|f| f.name() == function || f.aliases().iter().any(|a| a == function))
        else {
            return Ok(PlannerResult::Original(args));
        };
        let source: Vec<Expr> = args.into_iter().skip(1).collect();
        Ok(PlannerResult::Planned(udf.call(source)))
    }
}

/// The Hive function an EXTRACT field names (Hive's parser maps them so).
fn extract_function(field: &str) -> Option<&'static str> {
    Some(match field {
        "year" | "years" => "year",
        "quarter" => "quarter",
        "month" | "months" => "month",
        "week" | "weeks" => "weekofyear",
        "day" | "days" => "day",
        "dow" | "dayofweek" => "dayofweek",
        "hour" | "hours" => "hour",
        "minute" | "minutes" => "minute",
        "second" | "seconds" => "second",
        _ => return None,
    })
}
