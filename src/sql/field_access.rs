//! Field access on any struct-valued expression, as Hive allows it:
//! `named_struct('a', named_struct('b', 1)).a.b`, `items[0].sku`, `(s).f`.
//!
//! sqlparser parses `.name` after a subscript or a call as a dot access holding an
//! identifier, which DataFusion's planner refuses (it only takes a dotted chain of names
//! starting at a column, `s.a.b`, or a quoted name). Such accesses are rewritten to the quoted
//! form, which DataFusion plans as a struct field access.

use datafusion::sql::sqlparser::ast::{AccessExpr, Expr, Value};

/// Rewrites the dot accesses of `expr` (a compound field access) that DataFusion's planner
/// cannot take into struct field accesses by name.
pub fn hive_field_access(expr: &mut Expr) {
    let Expr::CompoundFieldAccess { root, access_chain } = expr else {
        return;
    };
    // A chain of names right after a column (`s.a.b`) is resolved by DataFusion itself, as a
    // qualified column or a column's fields.
    let skip = if matches!(root.as_ref(), Expr::Identifier(_)) {
        access_chain
            .iter()
            .position(|a| !matches!(a, AccessExpr::Dot(Expr::Identifier(_))))
            .unwrap_or(access_chain.len())
    } else {
        0
    };
    for access in access_chain.iter_mut().skip(skip) {
        if let AccessExpr::Dot(Expr::Identifier(field)) = access {
            let name = field.value.clone();
            *access = AccessExpr::Dot(Expr::value(Value::SingleQuotedString(name)));
        }
    }
}

/// The field an expression ends by selecting (`x.f`, `x[0].f`), which Hive names its column
/// after.
pub fn last_field_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::CompoundFieldAccess { access_chain, .. } => match access_chain.last()? {
            AccessExpr::Dot(Expr::Identifier(field)) => Some(field.value.clone()),
            AccessExpr::Dot(Expr::Value(v)) => match &v.value {
                Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => Some(s.clone()),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}
