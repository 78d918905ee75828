//! Hive's form of a table function that plans SQL: `SELECT get_sql_schema('SELECT ...')`, a
//! UDTF alone in a SELECT without FROM, is `SELECT * FROM get_sql_schema('SELECT ...')`.

use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArguments, Select, SelectItem, TableFactor, TableFunctionArgs, TableWithJoins,
    WildcardAdditionalOptions,
};

/// The table functions Hive calls in a SELECT list.
const TABLE_FUNCTIONS: &[&str] = &["get_sql_schema"];

/// Rewrites `SELECT f(args)` (no FROM, one item, `f` one of [`TABLE_FUNCTIONS`]) to
/// `SELECT * FROM f(args)` in place; any other SELECT is left as it is.
pub fn select_list_table_function(select: &mut Select) {
    if !select.from.is_empty() || select.projection.len() != 1 {
        return;
    }
    let SelectItem::UnnamedExpr(Expr::Function(f)) = &select.projection[0] else {
        return;
    };
    let name = f.name.to_string().to_ascii_lowercase();
    if !TABLE_FUNCTIONS.contains(&name.as_str()) {
        return;
    }
    let FunctionArguments::List(list) = &f.args else {
        return;
    };
    let relation = TableFactor::Table {
        name: f.name.clone(),
        alias: None,
        args: Some(TableFunctionArgs {
            args: list.args.clone(),
            settings: None,
        }),
        with_hints: vec![],
        version: None,
        with_ordinality: false,
        partitions: vec![],
        json_path: None,
        sample: None,
        index_hints: vec![],
    };
    select.from = vec![TableWithJoins {
        relation,
        joins: vec![],
    }];
    select.projection = vec![SelectItem::Wildcard(WildcardAdditionalOptions::default())];
}
