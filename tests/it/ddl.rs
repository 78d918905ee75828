//! Data as tables: Hive's and DataFusion's CREATE EXTERNAL TABLE, CTAS, views.

use apiary::{ApiaryContext, StatementOutput};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;
use futures::TryStreamExt;

async fn run(ctx: &mut ApiaryContext, sql: &str) -> String {
    match ctx.execute(sql).await.unwrap() {
        StatementOutput::Rows(s) => {
            let batches: Vec<RecordBatch> = s.try_collect().await.unwrap();
            pretty_format_batches(&batches).unwrap().to_string()
        }
        _ => String::new(),
    }
}

#[tokio::test]
async fn hive_external_text_table_with_delimiter_and_hive_types() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("part-0.txt"), "1|ann|a,b\n2|bob|\n3|cy|c\n").unwrap();
    let mut ctx = ApiaryContext::new().await.unwrap();
    run(
        &mut ctx,
        &format!(
            "CREATE EXTERNAL TABLE people (id INT COMMENT 'key', name STRING, tags STRING) \
             COMMENT 'people' ROW FORMAT DELIMITED FIELDS TERMINATED BY '|' \
             STORED AS TEXTFILE LOCATION '{}' TBLPROPERTIES ('creator' = 'test')",
            dir.path().display()
        ),
    )
    .await;
    let out = run(
        &mut ctx,
        "SELECT id, name, t FROM people LATERAL VIEW explode(split(tags, ',')) x AS t ORDER BY id, t",
    )
    .await;
    assert_eq!(
        out,
        "+----+------+---+\n\
         | id | name | t |\n\
         +----+------+---+\n\
         | 1  | ann  | a |\n\
         | 1  | ann  | b |\n\
         | 3  | cy   | c |\n\
         +----+------+---+"
    );
}

#[tokio::test]
async fn hive_default_ctrl_a_and_octal_delimiters() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "1\u{1}x\n2\u{1}y\n").unwrap();
    let mut ctx = ApiaryContext::new().await.unwrap();
    for (name, clause) in [
        ("plain", ""),
        ("octal", "ROW FORMAT DELIMITED FIELDS TERMINATED BY '\\001'"),
    ] {
        run(
            &mut ctx,
            &format!(
                "CREATE EXTERNAL TABLE {name} (id INT, s STRING) {clause} STORED AS TEXTFILE LOCATION '{}'",
                dir.path().display()
            ),
        )
        .await;
        let out = run(&mut ctx, &format!("SELECT s FROM {name} ORDER BY id")).await;
        assert!(
            out.contains("| x |") && out.contains("| y |"),
            "{name}: {out}"
        );
    }
}

#[tokio::test]
async fn datafusion_external_parquet_table_and_copy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ads.parquet");
    let mut ctx = ApiaryContext::new().await.unwrap();
    run(
        &mut ctx,
        &format!(
            "COPY (SELECT pageid, adid FROM pageads LATERAL VIEW explode(adid_list) v AS adid) \
             TO '{}' STORED AS PARQUET",
            path.display()
        ),
    )
    .await;
    run(
        &mut ctx,
        &format!(
            "CREATE EXTERNAL TABLE ads STORED AS PARQUET LOCATION '{}'",
            path.display()
        ),
    )
    .await;
    let out = run(&mut ctx, "SELECT count(*) AS n, sum(adid) AS s FROM ads").await;
    assert!(out.contains("| 6 | 18 |"), "{out}");
}

#[tokio::test]
async fn unsupported_storage_is_a_clear_error() {
    let mut ctx = ApiaryContext::new().await.unwrap();
    let err = ctx
        .execute("CREATE EXTERNAL TABLE x (a INT) STORED AS ORC LOCATION '/tmp/x'")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("STORED AS ORC is not supported"), "{err}");
}
