//! Hive's `count(DISTINCT a, b, ...)`: the number of distinct rows of the expressions among the
//! rows where none of them is NULL. DataFusion counts distinct values of one expression only,
//! so several become one struct, NULL when any of them is:
//! `count(DISTINCT CASE WHEN a IS NULL OR b IS NULL THEN NULL ELSE named_struct('c0', a, 'c1',
//! b) END)`.

use datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken;
use datafusion::sql::sqlparser::ast::{
    BinaryOperator, CaseWhen, DuplicateTreatment, Expr, FunctionArg, FunctionArgExpr,
    FunctionArguments, Value,
};

use super::dialect::call;

/// Rewrites `count(DISTINCT a, b, ...)` (two or more expressions) in place; any other
/// expression is left as it is.
pub fn hive_count_distinct(expr: &mut Expr) {
    let Expr::Function(f) = expr else {
        return;
    };
    if !f.name.to_string().eq_ignore_ascii_case("count") {
        return;
    }
    let FunctionArguments::List(list) = &mut f.args else {
        return;
    };
    if list.duplicate_treatment != Some(DuplicateTreatment::Distinct) || list.args.len() < 2 {
        return;
    }
    let mut values = Vec::with_capacity(list.args.len());
    for arg in &list.args {
        match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => values.push(e.clone()),
            _ => return,
        }
    }
    let any_null = values
        .iter()
        .map(|v| Expr::IsNull(Box::new(Expr::Nested(Box::new(v.clone())))))
        .reduce(|a, b| Expr::BinaryOp {
            left: Box::new(a),
            op: BinaryOperator::Or,
            right: Box::new(b),
        });
    let Some(any_null) = any_null else {
        return;
    };
    let mut fields = Vec::with_capacity(values.len() * 2);
    for (i, v) in values.into_iter().enumerate() {
        fields.push(Expr::Value(
            Value::SingleQuotedString(format!("c{i}")).into(),
        ));
        fields.push(v);
    }
    let row = Expr::Case {
        case_token: AttachedToken::empty(),
        end_token: AttachedToken::empty(),
        operand: None,
        conditions: vec![CaseWhen {
            condition: any_null,
            result: Expr::Value(Value::Null.into()),
        }],
        else_result: Some(Box::new(call("named_struct", fields))),
    };
    list.args = vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(row))];
}
