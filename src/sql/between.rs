//! Hive's `[NOT] BETWEEN` with a NULL bound. With `L = a >= b` and `R = a <= c`, SQL's
//! `a BETWEEN b AND c` is `L AND R` and `NOT BETWEEN` is `NOT L OR NOT R`; Hive's
//! (GenericUDFBetween) answers NULL whenever `L` is NULL, and for NOT BETWEEN whenever either is
//! NULL. The two differ only when a bound can be NULL: `5 BETWEEN NULL AND 3` is NULL in Hive
//! (SQL: false), `5 NOT BETWEEN 6 AND NULL` is NULL (SQL: true).
//!
//! Bounds that are non-NULL literals (the common case, which Parquet pruning relies on) keep
//! DataFusion's BETWEEN: `L` and `R` are then NULL exactly when `a` is, where both answers
//! agree. Any other bound gets Hive's answer:
//! `a BETWEEN b AND c` → `L AND (R OR L IS NULL)`,
//! `a NOT BETWEEN b AND c` → `CASE WHEN L IS NULL OR R IS NULL THEN NULL ELSE NOT L OR NOT R END`.

use datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken;
use datafusion::sql::sqlparser::ast::{BinaryOperator, CaseWhen, Expr, UnaryOperator, Value};

/// Whether `e` is a literal that is not NULL (a number, string, boolean, typed literal, or a
/// signed number).
fn non_null_literal(e: &Expr) -> bool {
    match e {
        Expr::Value(v) => !matches!(v.value, Value::Null),
        Expr::TypedString { .. } => true,
        Expr::UnaryOp {
            op: UnaryOperator::Minus | UnaryOperator::Plus,
            expr,
        } => matches!(expr.as_ref(), Expr::Value(v) if !matches!(v.value, Value::Null)),
        Expr::Nested(inner) => non_null_literal(inner),
        _ => false,
    }
}

fn nested(e: Expr) -> Box<Expr> {
    Box::new(Expr::Nested(Box::new(e)))
}

fn binary(left: Expr, op: BinaryOperator, right: Expr) -> Expr {
    Expr::BinaryOp {
        left: nested(left),
        op,
        right: nested(right),
    }
}

fn is_null(e: Expr) -> Expr {
    Expr::IsNull(nested(e))
}

fn not(e: Expr) -> Expr {
    Expr::UnaryOp {
        op: UnaryOperator::Not,
        expr: nested(e),
    }
}

/// Rewrites `a [NOT] BETWEEN b AND c` with a bound that may be NULL to Hive's answer, in
/// place; any other expression is left as it is.
pub fn hive_between(expr: &mut Expr) {
    let Expr::Between {
        expr: subject,
        negated,
        low,
        high,
    } = expr
    else {
        return;
    };
    if non_null_literal(low) && non_null_literal(high) {
        return;
    }
    let subject = subject.as_ref().clone();
    let l = binary(subject.clone(), BinaryOperator::GtEq, low.as_ref().clone());
    let r = binary(subject, BinaryOperator::LtEq, high.as_ref().clone());
    *expr = if *negated {
        Expr::Case {
            case_token: AttachedToken::empty(),
            end_token: AttachedToken::empty(),
            operand: None,
            conditions: vec![CaseWhen {
                condition: binary(is_null(l.clone()), BinaryOperator::Or, is_null(r.clone())),
                result: Expr::Value(Value::Null.into()),
            }],
            else_result: Some(nested(binary(not(l), BinaryOperator::Or, not(r)))),
        }
    } else {
        Expr::Nested(Box::new(binary(
            l.clone(),
            BinaryOperator::And,
            binary(r, BinaryOperator::Or, is_null(l)),
        )))
    };
}
