//! Hive's `first_value(x, skip_nulls)` and `last_value(x, skip_nulls)`: the constant second
//! argument becomes the SQL standard's `IGNORE NULLS`, which DataFusion's window functions
//! take (DataFusion has no second argument and would refuse the call).

use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, NullTreatment, Value,
};

/// Rewrites `first_value(x, true|false)` / `last_value(x, true|false)` in place; any other
/// expression is left as it is.
pub fn hive_skip_nulls(expr: &mut Expr) {
    let Expr::Function(f) = expr else {
        return;
    };
    let name = f.name.to_string().to_ascii_lowercase();
    if name != "first_value" && name != "last_value" {
        return;
    }
    let FunctionArguments::List(list) = &mut f.args else {
        return;
    };
    let skip = match list.args.get(1) {
        Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v)))) => match &v.value {
            Value::Boolean(b) => *b,
            _ => return,
        },
        _ => return,
    };
    if list.args.len() != 2 || f.null_treatment.is_some() {
        return;
    }
    list.args.truncate(1);
    if skip {
        f.null_treatment = Some(NullTreatment::IgnoreNulls);
    }
}

#[cfg(test)]
mod tests {
    use datafusion::sql::sqlparser::ast::{SelectItem, SetExpr, Statement};
    use datafusion::sql::sqlparser::parser::Parser;

    use super::*;
    use crate::sql::dialect::ApiaryDialect;

    fn rewritten(item: &str) -> String {
        let sql = format!("SELECT {item} FROM t");
        let statements = Parser::parse_sql(&ApiaryDialect::default(), &sql)
            .unwrap_or_else(|e| unreachable!("{e}"));
        let Some(Statement::Query(query)) = statements.into_iter().next() else {
            unreachable!("not a query");
        };
        let SetExpr::Select(select) = *query.body else {
            unreachable!("not a select");
        };
        let Some(SelectItem::UnnamedExpr(mut expr)) = select.projection.into_iter().next() else {
            unreachable!("no item");
        };
        hive_skip_nulls(&mut expr);
        expr.to_string()
    }

    #[test]
    fn a_constant_second_argument_becomes_ignore_nulls() {
        assert_eq!(
            rewritten("first_value(v, true) OVER (ORDER BY id)"),
            "first_value(v) IGNORE NULLS OVER (ORDER BY id)"
        );
        assert_eq!(
            rewritten("last_value(v, false) OVER (ORDER BY id)"),
            "last_value(v) OVER (ORDER BY id)"
        );
        assert_eq!(
            rewritten("last_value(v, w) OVER (ORDER BY id)"),
            "last_value(v, w) OVER (ORDER BY id)"
        );
    }
}
