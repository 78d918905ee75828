//! The Hive functions seen through SQL: a session with the Hive dialect, the functions
//! registered and the Hive expression planner ahead of DataFusion's, as the engine sets it
//! up. (`tests/sqllogictest/hive_functions.slt` runs through the whole engine, in the
//! `apiary` crate's sqllogictest harness.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

use super::{all_aggregate_functions, all_scalar_functions, expr_planner};

/// A session set up the way the engine sets one up.
fn hive_context() -> SessionContext {
    let config = SessionConfig::new().set_str("datafusion.sql_parser.dialect", "hive");
    let mut builder = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features();
    builder
        .expr_planners()
        .get_or_insert_with(Vec::new)
        .insert(0, expr_planner());
    let ctx = SessionContext::new_with_state(builder.build());
    for udf in all_scalar_functions() {
        ctx.register_udf(udf.as_ref().clone());
    }
    for udaf in all_aggregate_functions() {
        ctx.register_udaf(udaf.as_ref().clone());
    }
    ctx
}

/// One value as sqllogictest files show it: NULL as `NULL`, an empty string as `(empty)`,
/// everything else as DataFusion displays it.
fn cell(column: &dyn Array, row: usize) -> String {
    if column.is_null(row) {
        return "NULL".to_owned();
    }
    let options = FormatOptions::default().with_null("NULL");
    let text = ArrayFormatter::try_new(column, &options)
        .and_then(|f| f.value(row).try_to_string())
        .unwrap();
    let is_string = matches!(
        column.data_type(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    );
    if is_string && text.is_empty() {
        "(empty)".to_owned()
    } else {
        text
    }
}

fn rows(batches: &[RecordBatch]) -> Vec<String> {
    let mut out = Vec::new();
    for batch in batches {
        for row in 0..batch.num_rows() {
            let cells: Vec<String> = batch
                .columns()
                .iter()
                .map(|c| cell(c.as_ref(), row))
                .collect();
            out.push(cells.join(" "));
        }
    }
    out
}

async fn run(ctx: &SessionContext, sql: &str) -> datafusion::common::Result<Vec<String>> {
    let batches = ctx.sql(sql).await?.collect().await?;
    Ok(rows(&batches))
}

/// Runs `sql` and returns its rows, one string per row.
async fn query(sql: &str) -> Vec<String> {
    run(&hive_context(), sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Runs `sql` and returns its error message.
async fn query_error(sql: &str) -> String {
    match run(&hive_context(), sql).await {
        Ok(rows) => panic!("{sql}: expected an error, got {rows:?}"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn constructors() {
    assert_eq!(
        query("SELECT array(1, 2, 3), array()").await,
        ["[1, 2, 3] []"]
    );
    assert_eq!(
        query("SELECT map('a', 1, 'b', 2, 'a', 3)").await,
        ["{a: 3, b: 2}"]
    );
    assert_eq!(query("SELECT map(array('x'), array(1))").await, ["{x: 1}"]);
    assert_eq!(query("SELECT struct(1, 'a')").await, ["{col1: 1, col2: a}"]);
    assert_eq!(
        query("SELECT named_struct('a', 1, 'b', 'x')").await,
        ["{a: 1, b: x}"]
    );
    assert_eq!(
        query("SELECT arrow_typeof(struct(1, 'a'))").await,
        ["Struct(\"col1\": Int64, \"col2\": Utf8)"]
    );
}

#[tokio::test]
async fn if_is_lazy_and_parses_as_a_function() {
    assert_eq!(
        query("SELECT if(x = 0, 0, 10 / x) FROM (VALUES (0), (5)) t(x)").await,
        ["0", "2"]
    );
    assert_eq!(
        query("SELECT if(NULL, 'a', 'b'), nvl(NULL, 1)").await,
        ["b 1"]
    );
}

#[tokio::test]
async fn planning_errors_name_the_function() {
    let err = query_error("SELECT split('a')").await;
    assert!(err.contains("split"), "{err}");
    let err = query_error("SELECT map('a', 1, 'b')").await;
    assert!(err.contains("even number of arguments"), "{err}");
}

#[tokio::test]
async fn hive_type_rules_for_string_functions() {
    let err = query_error("SELECT concat_ws(',', 1, 'a')").await;
    assert!(
        err.contains("concat_ws: argument 2 must be a string or an array of strings, got Int64"),
        "{err}"
    );
    let err = query_error("SELECT concat_ws('|', array(1, 2))").await;
    assert!(
        err.contains("argument 2 must be a string or an array"),
        "{err}"
    );
    let err = query_error("SELECT str_to_map(1)").await;
    assert!(
        err.contains("str_to_map: argument 1 must be a string"),
        "{err}"
    );
    assert_eq!(
        query(
            "SELECT concat_ws(arrow_cast('-', 'Utf8View'), arrow_cast('a', 'LargeUtf8'), NULL, 'b')"
        )
        .await,
        ["a-b"]
    );
}

#[tokio::test]
async fn map_keys_and_values_of_a_null_map_are_empty() {
    let sql = "SELECT map_keys(m), map_values(m) FROM (VALUES (map('a', 1)), (NULL)) t(m)";
    assert_eq!(query(sql).await, ["[a] [1]", "[] []"]);
    assert_eq!(
        query("SELECT arrow_typeof(map_keys(map('a', 1))), arrow_typeof(map_values(map('a', 1)))")
            .await,
        ["List(Utf8) List(Int64)"]
    );
    let err = query_error("SELECT map_values(array(1))").await;
    assert!(
        err.contains("map_values: argument 1 must be a map"),
        "{err}"
    );
}

#[tokio::test]
async fn the_map_planner_takes_no_pairs_as_an_empty_string_map() {
    // `map()` itself is refused by DataFusion's SQL planner before any ExprPlanner runs;
    // `make_map()` reaches the same planner hook with no arguments.
    assert_eq!(
        query("SELECT make_map(), arrow_typeof(make_map())").await,
        ["{} Map(\"entries\": non-null Struct(\"key\": non-null Utf8, \"value\": Utf8), unsorted)"]
    );
}

#[tokio::test]
async fn every_function_is_documented() {
    // A Hive function listed in the catalog with Hive's usage line is documented by it (checked
    // through the engine by tests/it/functions.rs); the others document themselves.
    let in_catalog =
        |name: &str| super::catalog::hive_function(name).is_some_and(|f| !f.usage.is_empty());
    for udf in all_scalar_functions() {
        // `hive_cast` is the planner's target for CAST, never written by users.
        if in_catalog(udf.name()) || udf.name() == "hive_cast" {
            continue;
        }
        let doc = udf
            .documentation()
            .unwrap_or_else(|| panic!("{}", udf.name()));
        assert!(doc.syntax_example.starts_with(udf.name()), "{}", udf.name());
        assert!(doc.sql_example.is_some(), "{}", udf.name());
    }
    for udaf in all_aggregate_functions() {
        if in_catalog(udaf.name()) {
            continue;
        }
        let doc = udaf
            .documentation()
            .unwrap_or_else(|| panic!("{}", udaf.name()));
        assert!(
            doc.syntax_example.starts_with(udaf.name()),
            "{}",
            udaf.name()
        );
        assert!(doc.sql_example.is_some(), "{}", udaf.name());
    }
}
