//! Hive's rules for two SQL operators where DataFusion's differ:
//! * `arr[i]` counts from 0 (DataFusion counts from 1);
//! * `a / b` on integers or floats is a DOUBLE division, and NULL when `b` is 0 (DataFusion
//!   divides integers as integers and fails on a zero divisor). Decimals keep DataFusion's rule;
//! * `substr(s, pos, len)` / `SUBSTRING(s FROM pos FOR len)`, which sqlparser turns into its
//!   own syntax node, use Hive's positions (`apiary_udfs::hive::SubstrFunc`).

use apiary_udfs::hive::SubstrFunc;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, Result};
use datafusion::functions::expr_fn::nullif;
use datafusion::functions_nested::expr_fn::array_element;
use datafusion::logical_expr::expr::GetFieldAccess;
use datafusion::logical_expr::planner::{
    ExprPlanner, PlannerResult, RawBinaryExpr, RawFieldAccessExpr,
};
use datafusion::logical_expr::{Expr, ExprSchemable, ScalarUDF, cast, lit};
use datafusion::sql::sqlparser::ast::BinaryOperator;

/// Plans Hive's array subscripts and division.
#[derive(Debug, Default)]
pub struct HiveExprPlanner;

fn is_integer_or_float(t: &DataType) -> bool {
    t.is_integer() || t.is_floating() || matches!(t, DataType::Null)
}

impl ExprPlanner for HiveExprPlanner {
    fn plan_substring(&self, args: Vec<Expr>) -> Result<PlannerResult<Vec<Expr>>> {
        Ok(PlannerResult::Planned(
            ScalarUDF::from(SubstrFunc::default()).call(args),
        ))
    }

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

    fn plan_binary_op(
        &self,
        expr: RawBinaryExpr,
        schema: &DFSchema,
    ) -> Result<PlannerResult<RawBinaryExpr>> {
        if expr.op == BinaryOperator::Divide
            && is_integer_or_float(&expr.left.get_type(schema)?)
            && is_integer_or_float(&expr.right.get_type(schema)?)
        {
            let left = cast(expr.left, DataType::Float64);
            let right = nullif(cast(expr.right, DataType::Float64), lit(0.0_f64));
            return Ok(PlannerResult::Planned(left / right));
        }
        Ok(PlannerResult::Original(expr))
    }
}
