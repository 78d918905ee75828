//! The Generate operator inside DataFusion's optimizer and executor.

use apiary::{ApiaryContext, StatementOutput};
use datafusion::arrow::array::RecordBatch;
use datafusion::physical_plan::displayable;
use datafusion::prelude::SessionConfig;
use futures::{StreamExt, TryStreamExt};

async fn physical_plan_text(ctx: &ApiaryContext, sql: &str) -> String {
    let plan = ctx.plan_sql(sql).await.unwrap().remove(0);
    let df = ctx.session().execute_logical_plan(plan).await.unwrap();
    let physical = df.create_physical_plan().await.unwrap();
    displayable(physical.as_ref()).indent(true).to_string()
}

async fn logical_plan_text(ctx: &ApiaryContext, sql: &str) -> String {
    let plan = ctx.plan_sql(sql).await.unwrap().remove(0);
    let optimized = ctx.session().state().optimize(&plan).unwrap();
    optimized.display_indent().to_string()
}

#[tokio::test]
async fn predicates_on_input_columns_go_below_generate() {
    let ctx = ApiaryContext::new().await.unwrap();
    let plan = logical_plan_text(
        &ctx,
        "SELECT pageid, adid FROM pageads LATERAL VIEW explode(adid_list) v AS adid \
         WHERE pageid = 'front_page' AND adid > 1",
    )
    .await;
    let generate = plan.find("Generate").unwrap();
    let input_filter = plan.find("pageads.pageid = ").unwrap();
    let generated_filter = plan.find("v.adid > ").unwrap();
    assert!(generated_filter < generate, "{plan}");
    assert!(input_filter > generate, "{plan}");
}

#[tokio::test]
async fn the_exploded_list_is_not_copied_into_every_row() {
    let ctx = ApiaryContext::new().await.unwrap();
    let plan = physical_plan_text(
        &ctx,
        "SELECT pageid, adid FROM pageads LATERAL VIEW explode(adid_list) v AS adid",
    )
    .await;
    // The Generate operator outputs only pageid and adid: adid_list stays below it.
    let generate_line = plan.lines().find(|l| l.contains("GenerateExec")).unwrap();
    let scan_line = plan.lines().find(|l| l.contains("DataSourceExec")).unwrap();
    assert!(plan.matches("ProjectionExec").count() <= 1, "{plan}");
    assert!(generate_line.contains("explode(adid_list"), "{plan}");
    let _ = scan_line;
    let ctx2 = ApiaryContext::new().await.unwrap();
    let batches = collect(
        &ctx2,
        "SELECT pageid, adid FROM pageads LATERAL VIEW explode(adid_list) v AS adid",
    )
    .await;
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 6);
    assert_eq!(batches[0].num_columns(), 2);
}

async fn collect(ctx: &ApiaryContext, sql: &str) -> Vec<RecordBatch> {
    let plan = ctx.plan_sql(sql).await.unwrap().remove(0);
    ctx.session()
        .execute_logical_plan(plan)
        .await
        .unwrap()
        .collect()
        .await
        .unwrap()
}

#[tokio::test]
async fn one_huge_row_streams_in_batch_size_chunks() {
    let mut ctx = ApiaryContext::with_config(SessionConfig::new().with_batch_size(1000))
        .await
        .unwrap();
    let StatementOutput::Rows(mut stream) = ctx
        .execute("SELECT x FROM (SELECT range(0, 3000000) AS r) q LATERAL VIEW explode(r) v AS x")
        .await
        .unwrap()
    else {
        panic!("expected rows")
    };
    let mut total = 0usize;
    let mut batches = 0usize;
    while let Some(batch) = stream.next().await {
        let batch = batch.unwrap();
        assert!(
            batch.num_rows() <= 1000,
            "batch of {} rows",
            batch.num_rows()
        );
        total += batch.num_rows();
        batches += 1;
    }
    assert_eq!(total, 3_000_000);
    assert!(batches >= 3000);
}

#[tokio::test]
async fn dropping_the_stream_cancels() {
    let mut ctx = ApiaryContext::new().await.unwrap();
    let StatementOutput::Rows(stream) = ctx
        .execute("SELECT x FROM (SELECT range(0, 2000000) AS r) q LATERAL VIEW explode(r) v AS x")
        .await
        .unwrap()
    else {
        panic!("expected rows")
    };
    let first: Vec<RecordBatch> = stream.take(2).try_collect().await.unwrap();
    assert_eq!(first.len(), 2);
}

#[tokio::test]
async fn plan_sql_is_the_single_entry_point() {
    let ctx = ApiaryContext::new().await.unwrap();
    let plans = ctx
        .plan_sql("SELECT 1; SELECT col FROM pageads LATERAL VIEW explode(adid_list) v")
        .await
        .unwrap();
    assert_eq!(plans.len(), 2);
    assert!(
        plans[1]
            .display_indent()
            .to_string()
            .contains("Generate: explode")
    );
}

/// Placeholders (`$1`, `?`) plan with their types inferred, for prepared statements.
#[tokio::test]
async fn placeholders_plan_and_bind() {
    use datafusion::common::ScalarValue;
    let ctx = ApiaryContext::new().await.unwrap();
    for sql in [
        "SELECT word FROM words_test WHERE length(word) > $1 AND word LIKE $2 ORDER BY word LIMIT 2",
        "SELECT word FROM words_test WHERE length(word) > ? AND word LIKE ? ORDER BY word LIMIT 2",
    ] {
        let plan = ctx.plan_sql(sql).await.unwrap().remove(0);
        let types = plan.get_parameter_types().unwrap();
        assert_eq!(types.len(), 2, "{sql}: {types:?}");
        let bound = plan
            .with_param_values(vec![ScalarValue::Int64(Some(20)), ScalarValue::from("c%")])
            .unwrap();
        let batches = ctx
            .session()
            .execute_logical_plan(bound)
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let n: usize = batches.iter().map(|b| b.num_rows()).sum();
        assert_eq!(n, 1, "{sql}");
    }
}
