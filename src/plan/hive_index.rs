//! Hive's 0-based array subscripts: `arr[0]` is the first element (DataFusion counts from 1).

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, Result};
use datafusion::functions_nested::expr_fn::array_element;
use datafusion::logical_expr::expr::GetFieldAccess;
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawFieldAccessExpr};
use datafusion::logical_expr::{ExprSchemable, lit};

/// Plans `list[i]` as `array_element(list, i + 1)`; maps and structs go to DataFusion.
#[derive(Debug, Default)]
pub struct HiveIndexPlanner;

impl ExprPlanner for HiveIndexPlanner {
    fn plan_field_access(
        &self,
        expr: RawFieldAccessExpr,
        schema: &DFSchema,
    ) -> Result<PlannerResult<RawFieldAccessExpr>> {
        let RawFieldAccessExpr { expr, field_access } = expr;
        match field_access {
            GetFieldAccess::ListIndex { key }
                if matches!(
                    expr.get_type(schema)?,
                    DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _)
                ) =>
            {
                Ok(PlannerResult::Planned(array_element(
                    expr,
                    *key + lit(1_i64),
                )))
            }
            field_access => Ok(PlannerResult::Original(RawFieldAccessExpr {
                expr,
                field_access,
            })),
        }
    }
}
