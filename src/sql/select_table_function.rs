//! Hive's form of a table function that plans SQL: `SELECT get_sql_schema('SELECT ...')`, a
//! UDTF alone in a SELECT without FROM, is `SELECT * FROM get_sql_schema('SELECT ...')`.

use datafusion::common::{DataFusionError, Result};
use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArguments, Select, SelectItem, TableFactor, TableFunctionArgs, TableWithJoins,
    WildcardAdditionalOptions,
};

/// The table functions Hive calls in a SELECT list.
const TABLE_FUNCTIONS: &[&str] = &["get_sql_schema"];

/// The table function an item of a SELECT list calls, if any.
fn table_function(
    item: &SelectItem,
) -> Option<(&datafusion::sql::sqlparser::ast::Function, String)> {
    let (SelectItem::UnnamedExpr(Expr::Function(f))
    | SelectItem::ExprWithAlias {
        expr: Expr::Function(f),
        ..
    }) = item
    else {
        return None;
    };
    let name = f.name.to_string().to_ascii_lowercase();
    TABLE_FUNCTIONS
        .contains(&name.as_str())
        .then_some((f, name))
}

/// Rewrites `SELECT f(args)` (no FROM, one item, `f` one of [`TABLE_FUNCTIONS`]) to
/// `SELECT * FROM f(args)` in place; any other SELECT is left as it is, except one where such
/// a function stands beside other items or over a FROM, which is an error (as in Hive).
pub fn select_list_table_function(select: &mut Select) -> Result<()> {
    let Some(position) = select
        .projection
        .iter()
        .position(|i| table_function(i).is_some())
    else {
        return Ok(());
    };
    let Some((f, name)) = table_function(&select.projection[position]) else {
        return Ok(());
    };
    if !select.from.is_empty() || select.projection.len() != 1 {
        return Err(DataFusionError::Plan(format!(
            "{name} is a table function: call it alone in a SELECT without FROM \
             (SELECT {name}('...')) or in FROM (SELECT * FROM {name}('...'))"
        )));
    }
    let FunctionArguments::List(list) = &f.args else {
        return Ok(());
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
    Ok(())
}
