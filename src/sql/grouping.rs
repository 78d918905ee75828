//! Hive's GROUP BY modifiers, rewritten into the forms DataFusion plans.
//!
//! * `GROUP BY a, b WITH ROLLUP` → `GROUP BY ROLLUP(a, b)`, `WITH CUBE` → `CUBE(a, b)`.
//! * `GROUP BY a, b GROUPING SETS ((a, b), a, ())` → `GROUP BY GROUPING SETS ((a, b), (a), ())`.
//! * `GROUP BY rollup(a, b)` / `cube(a, b)` (which Hive's dialect parses as function calls) →
//!   DataFusion's `ROLLUP` / `CUBE`.
//! * The virtual column `GROUPING__ID` → `grouping(k1, ..., kn)` over every GROUP BY key: Hive
//!   (≥ 2.3, HIVE-16102) sets a key's bit when the key is aggregated away in that row, the
//!   first key in the highest bit, as the SQL standard's grouping function does.
//!
//! sqlparser keeps the modifiers beside the GROUP BY list and DataFusion's planner drops them
//! without a word; a modifier that cannot be rewritten (`WITH TOTALS`, two modifiers at once,
//! `GROUP BY ALL WITH ROLLUP`) is an error here, never ignored.

use std::ops::ControlFlow;

use datafusion::common::{DataFusionError, Result};
use datafusion::sql::sqlparser::ast::{
    Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList, FunctionArguments,
    GroupByExpr, GroupByWithModifier, Ident, ObjectName, OrderByKind, Query, Select, SelectItem,
    SetExpr, VisitMut, VisitorMut,
};

/// The name of Hive's virtual grouping column.
const GROUPING_ID: &str = "grouping__id";

/// Rewrites Hive's GROUP BY modifiers and `GROUPING__ID` in `query`'s own SELECTs (not in
/// its subqueries, which are queries of their own) and in its ORDER BY.
pub fn rewrite_hive_grouping(query: &mut Query) -> Result<()> {
    let keys = rewrite_set_expr(query.body.as_mut())?;
    if let (Some(keys), Some(order_by)) = (keys, query.order_by.as_mut())
        && let OrderByKind::Expressions(items) = &mut order_by.kind
    {
        for item in items {
            replace_grouping_id(&mut item.expr, &keys)?;
        }
    }
    Ok(())
}

/// Rewrites every SELECT of a set expression; returns the GROUP BY keys when the body is one
/// SELECT (the ORDER BY of the query may then name `GROUPING__ID`).
fn rewrite_set_expr(body: &mut SetExpr) -> Result<Option<Vec<Expr>>> {
    match body {
        SetExpr::Select(select) => rewrite_select(select.as_mut()),
        SetExpr::SetOperation { left, right, .. } => {
            rewrite_set_expr(left.as_mut())?;
            rewrite_set_expr(right.as_mut())?;
            Ok(None)
        }
        _ => Ok(None),
    }
}

/// Rewrites one SELECT's GROUP BY; returns its keys (before the rewrite), if it groups.
fn rewrite_select(select: &mut Select) -> Result<Option<Vec<Expr>>> {
    let keys = match &mut select.group_by {
        GroupByExpr::All(modifiers) => {
            if let Some(m) = modifiers.first() {
                return Err(unsupported(&format!("GROUP BY ALL {m}")));
            }
            return Ok(None);
        }
        GroupByExpr::Expressions(exprs, modifiers) => {
            let keys = exprs.clone();
            let modifiers = std::mem::take(modifiers);
            let grouped = match modifiers.as_slice() {
                [] => exprs
                    .iter()
                    .cloned()
                    .map(function_call_to_grouping)
                    .collect(),
                [GroupByWithModifier::Rollup] => vec![Expr::Rollup(singletons(exprs))],
                [GroupByWithModifier::Cube] => vec![Expr::Cube(singletons(exprs))],
                [GroupByWithModifier::GroupingSets(Expr::GroupingSets(sets))] => {
                    vec![Expr::GroupingSets(sets.clone())]
                }
                [one] => return Err(unsupported(&one.to_string())),
                _ => {
                    let all: Vec<String> = modifiers.iter().map(ToString::to_string).collect();
                    return Err(unsupported(&all.join(" ")));
                }
            };
            *exprs = grouped;
            keys
        }
    };
    if keys.is_empty() {
        return Ok(None);
    }
    for item in &mut select.projection {
        match item {
            SelectItem::UnnamedExpr(expr) if is_grouping_id(expr) => {
                *item = SelectItem::ExprWithAlias {
                    expr: grouping_call(&keys)?,
                    alias: Ident::new(GROUPING_ID),
                };
            }
            SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. } => {
                replace_grouping_id(expr, &keys)?;
            }
            _ => {}
        }
    }
    if let Some(having) = select.having.as_mut() {
        replace_grouping_id(having, &keys)?;
    }
    Ok(Some(keys))
}

/// `rollup(a, b)` or `cube(a, b)` written as a function call (Hive's dialect does not parse
/// them as grouping constructs) → DataFusion's `ROLLUP` / `CUBE`; anything else unchanged.
fn function_call_to_grouping(expr: Expr) -> Expr {
    let Expr::Function(f) = &expr else {
        return expr;
    };
    let name = f.name.to_string().to_ascii_lowercase();
    if name != "rollup" && name != "cube" || f.over.is_some() {
        return expr;
    }
    let FunctionArguments::List(list) = &f.args else {
        return expr;
    };
    let mut args = Vec::with_capacity(list.args.len());
    for arg in &list.args {
        match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => args.push(e.clone()),
            _ => return expr,
        }
    }
    if name == "rollup" {
        Expr::Rollup(singletons(&args))
    } else {
        Expr::Cube(singletons(&args))
    }
}

fn singletons(exprs: &[Expr]) -> Vec<Vec<Expr>> {
    exprs.iter().map(|e| vec![e.clone()]).collect()
}

fn unsupported(modifier: &str) -> DataFusionError {
    DataFusionError::Plan(format!(
        "GROUP BY ... {modifier} is not supported: use WITH ROLLUP, WITH CUBE or one \
         GROUPING SETS (...) clause"
    ))
}

fn is_grouping_id(expr: &Expr) -> bool {
    matches!(expr, Expr::Identifier(i) if i.value.eq_ignore_ascii_case(GROUPING_ID))
}

/// `grouping(k1, ..., kn)`: Hive's `GROUPING__ID` for a GROUP BY over `keys`.
fn grouping_call(keys: &[Expr]) -> Result<Expr> {
    let mut args = Vec::with_capacity(keys.len());
    for key in keys {
        if matches!(key, Expr::Rollup(_) | Expr::Cube(_) | Expr::GroupingSets(_)) {
            return Err(DataFusionError::Plan(format!(
                "GROUPING__ID: use it with Hive's GROUP BY a, b WITH ROLLUP|WITH CUBE|GROUPING \
                 SETS (...) form, not with {key}"
            )));
        }
        args.push(FunctionArg::Unnamed(FunctionArgExpr::Expr(key.clone())));
    }
    Ok(Expr::Function(Function {
        name: ObjectName::from(vec![Ident::new("grouping")]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args,
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    }))
}

/// Replaces every `GROUPING__ID` inside `expr` (but not inside its subqueries).
fn replace_grouping_id(expr: &mut Expr, keys: &[Expr]) -> Result<()> {
    struct Replace<'a> {
        keys: &'a [Expr],
        depth: usize,
    }
    impl VisitorMut for Replace<'_> {
        type Break = DataFusionError;

        fn pre_visit_query(&mut self, _query: &mut Query) -> ControlFlow<Self::Break> {
            self.depth += 1;
            ControlFlow::Continue(())
        }

        fn post_visit_query(&mut self, _query: &mut Query) -> ControlFlow<Self::Break> {
            self.depth -= 1;
            ControlFlow::Continue(())
        }

        fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<Self::Break> {
            if self.depth == 0 && is_grouping_id(expr) {
                match grouping_call(self.keys) {
                    Ok(call) => *expr = call,
                    Err(e) => return ControlFlow::Break(e),
                }
            }
            ControlFlow::Continue(())
        }
    }
    match expr.visit(&mut Replace { keys, depth: 0 }) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use datafusion::sql::sqlparser::parser::Parser;

    use super::*;
    use crate::sql::dialect::ApiaryDialect;

    fn rewritten(sql: &str) -> Result<String> {
        let mut statements = Parser::parse_sql(&ApiaryDialect::default(), sql)
            .unwrap_or_else(|e| unreachable!("{e}"));
        let Some(datafusion::sql::sqlparser::ast::Statement::Query(query)) = statements.first_mut()
        else {
            unreachable!("not a query: {sql}");
        };
        rewrite_hive_grouping(query.as_mut())?;
        Ok(query.to_string())
    }

    #[test]
    fn modifiers_become_datafusion_grouping_constructs() {
        let ok = |sql: &str| rewritten(sql).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            ok("SELECT a, b FROM t GROUP BY a, b WITH ROLLUP"),
            "SELECT a, b FROM t GROUP BY ROLLUP (a, b)"
        );
        assert_eq!(
            ok("SELECT a FROM t GROUP BY a, b WITH CUBE"),
            "SELECT a FROM t GROUP BY CUBE (a, b)"
        );
        assert_eq!(
            ok("SELECT a FROM t GROUP BY a, b GROUPING SETS ((a, b), a, ())"),
            "SELECT a FROM t GROUP BY GROUPING SETS ((a, b), (a), ())"
        );
        assert_eq!(
            ok("SELECT a, GROUPING__ID FROM t GROUP BY a, b WITH ROLLUP ORDER BY grouping__id"),
            "SELECT a, grouping(a, b) AS grouping__id FROM t GROUP BY ROLLUP (a, b) \
             ORDER BY grouping(a, b)"
        );
    }

    #[test]
    fn modifiers_it_cannot_rewrite_are_errors() {
        for sql in [
            "SELECT a FROM t GROUP BY a WITH TOTALS",
            "SELECT a FROM t GROUP BY a WITH ROLLUP WITH CUBE",
            "SELECT a FROM t GROUP BY ALL WITH ROLLUP",
        ] {
            let err = rewritten(sql)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains("is not supported"), "{sql}: {err}");
        }
    }
}
