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
    // `2|bob|`: an empty field is '' in a Hive text table (split gives one empty tag).
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
         | 2  | bob  |   |\n\
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

/// DESCRIBE FORMATTED names the table's place, kind, statistics and storage (checked here,
/// where the warehouse's path is known; the .slt files cannot match a temporary path).
#[tokio::test]
async fn describe_formatted_shows_location_kind_statistics_and_storage() {
    let dir = tempfile::tempdir().unwrap();
    let warehouse = std::sync::Arc::new(apiary::warehouse::Warehouse::open(dir.path()).unwrap());
    let root = warehouse.root().to_path_buf();
    let mut ctx = ApiaryContext::with_warehouse(
        datafusion::prelude::SessionConfig::new(),
        std::sync::Arc::clone(&warehouse),
    )
    .await
    .unwrap();
    run(&mut ctx, "CREATE DATABASE d").await;
    run(
        &mut ctx,
        "CREATE TABLE d.t (a INT, b STRING) PARTITIONED BY (p STRING) \
         ROW FORMAT DELIMITED FIELDS TERMINATED BY ';' STORED AS TEXTFILE \
         TBLPROPERTIES ('team' = 'data')",
    )
    .await;
    run(
        &mut ctx,
        "INSERT INTO d.t PARTITION (p) VALUES (1, 'x', 'one'), (2, 'y', 'two'), (3, 'z', 'two')",
    )
    .await;
    let out = run(&mut ctx, "DESCRIBE FORMATTED d.t").await;
    let row = |name: &str| described_row(&out, name);
    assert_eq!(row("Database:")[2], "d");
    assert_eq!(row("Table:")[2], "t");
    assert_eq!(
        row("Location:")[2],
        format!("file:{}", root.join("d.db").join("t").display())
    );
    assert_eq!(row("Table Type:")[2], "MANAGED_TABLE");
    assert!(row("CreateTime:")[2].ends_with(" UTC"), "{out}");
    assert_eq!(
        row("SerDe Library:")[2],
        "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
    );
    let stat = |key: &str| table_parameter(&out, key);
    assert_eq!(stat("numFiles"), "2");
    assert_eq!(stat("numPartitions"), "2");
    assert_eq!(stat("team"), "data");
    assert_eq!(stat("field.delim"), ";");
    // Row counts come from the Parquet files written, per file (several partitions here).
    run(
        &mut ctx,
        "CREATE TABLE d.pq PARTITIONED BY (k) AS \
         SELECT value AS v, CAST(value % 3 AS STRING) AS k FROM range(100)",
    )
    .await;
    let pq = run(&mut ctx, "DESCRIBE FORMATTED d.pq").await;
    assert_eq!(table_parameter(&pq, "numRows"), "100");
    assert_eq!(table_parameter(&pq, "numPartitions"), "3");
    // Text files honour their delimiter, in Hive's layout.
    let part = root.join("d.db").join("t").join("p=two");
    let files: Vec<_> = std::fs::read_dir(&part).unwrap().flatten().collect();
    assert_eq!(files.len(), 1, "{part:?}");
    let mut text = std::fs::read_to_string(files[0].path()).unwrap();
    text = text.lines().collect::<Vec<_>>().join("\n");
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort();
    assert_eq!(lines, vec!["2;y", "3;z"]);
}

/// DESCRIBE FORMATTED of a view: Hive's VIRTUAL_VIEW, its comment, properties and query
/// text (as written, across lines).
#[tokio::test]
async fn describe_formatted_shows_a_views_kind_and_query() {
    let mut ctx = ApiaryContext::new().await.unwrap();
    run(&mut ctx, "CREATE TABLE base (a INT, b STRING)").await;
    run(
        &mut ctx,
        "CREATE VIEW v (x COMMENT 'the a') COMMENT 'small' TBLPROPERTIES ('team' = 'data') AS\n\
         SELECT a\nFROM base WHERE b <> 'z'",
    )
    .await;
    let out = run(&mut ctx, "DESCRIBE FORMATTED v").await;
    let cells = |name: &str| described_row(&out, name);
    assert_eq!(cells("x ")[2], "int");
    assert_eq!(cells("x ")[3], "the a");
    assert_eq!(cells("Table Type:")[2], "VIRTUAL_VIEW");
    assert_eq!(cells("Comment:")[2], "small");
    assert_eq!(table_parameter(&out, "team"), "data");
    assert!(
        out.contains("View Original Text:") && out.contains("View Expanded Text:"),
        "{out}"
    );
    // The text is kept as written: pretty printing puts its second line on a row of its own.
    assert!(out.contains("SELECT a"), "{out}");
    assert!(out.contains("FROM base WHERE b <> 'z'"), "{out}");
    assert!(!out.contains("Location:"), "a view has no location: {out}");
}

/// The cells of the row of DESCRIBE FORMATTED's table output whose first cell starts with
/// `name`.
fn described_row(out: &str, name: &str) -> Vec<String> {
    out.lines()
        .find(|l| l.trim_start_matches('|').trim_start().starts_with(name))
        .unwrap_or_else(|| panic!("no {name} row in\n{out}"))
        .split('|')
        .map(|c| c.trim().to_string())
        .collect()
}

/// The value of a "Table Parameters" row of DESCRIBE FORMATTED's table output.
fn table_parameter(out: &str, key: &str) -> String {
    out.lines()
        .map(|l| {
            l.split('|')
                .map(|c| c.trim().to_string())
                .collect::<Vec<_>>()
        })
        .find(|cells| cells.get(2).is_some_and(|c| c == key))
        .map(|cells| cells[3].clone())
        .unwrap_or_else(|| panic!("no {key} in\n{out}"))
}

/// DataFusion's own write path (the DataFrame API, used by embedders and Flight SQL ingest)
/// goes through the same atomic warehouse write.
#[tokio::test]
async fn dataframe_writes_into_a_partitioned_warehouse_table() {
    use datafusion::dataframe::DataFrameWriteOptions;
    use datafusion::logical_expr::dml::InsertOp;
    let mut ctx = ApiaryContext::new().await.unwrap();
    run(
        &mut ctx,
        "CREATE TABLE w (id BIGINT) PARTITIONED BY (p STRING)",
    )
    .await;
    for (op, rows) in [
        (InsertOp::Append, 3),
        (InsertOp::Append, 6),
        (InsertOp::Overwrite, 3),
    ] {
        let df = ctx
            .session()
            .sql("SELECT value AS id, CAST(value % 2 AS STRING) AS p FROM range(3)")
            .await
            .unwrap();
        df.write_table("w", DataFrameWriteOptions::new().with_insert_operation(op))
            .await
            .unwrap();
        let out = run(&mut ctx, "SELECT count(*) AS n FROM w").await;
        assert!(out.contains(&format!("| {rows} ")), "{op:?}: {out}");
    }
    let parts = run(&mut ctx, "SHOW PARTITIONS w").await;
    assert!(parts.contains("p=0") && parts.contains("p=1"), "{parts}");
}

/// ANALYZE TABLE counts the rows of text files; DESCRIBE FORMATTED then shows numRows (and
/// totalSize) for the table, as Hive does; a new INSERT adds a file of unknown count, so
/// numRows is gone until the next ANALYZE. The counts live in the metastore: a new session
/// on the same warehouse sees them.
#[tokio::test]
async fn analyze_keeps_row_counts_that_describe_formatted_shows() {
    use std::sync::Arc;
    let warehouse = Arc::new(apiary::warehouse::Warehouse::temporary().unwrap());
    let session = || async {
        ApiaryContext::with_warehouse(
            datafusion::prelude::SessionConfig::new(),
            Arc::clone(&warehouse),
        )
        .await
        .unwrap()
    };
    let mut ctx = session().await;
    run(
        &mut ctx,
        "CREATE TABLE counted (id INT, s STRING) STORED AS TEXTFILE \
         TBLPROPERTIES ('skip.header.line.count' = '0')",
    )
    .await;
    run(
        &mut ctx,
        "INSERT INTO counted VALUES (1, 'a'), (2, NULL), (3, '')",
    )
    .await;
    let out = run(&mut ctx, "DESCRIBE FORMATTED counted").await;
    assert!(!out.contains("numRows"), "{out}");
    run(&mut ctx, "ANALYZE TABLE counted COMPUTE STATISTICS").await;
    let mut ctx = session().await;
    let out = run(&mut ctx, "DESCRIBE FORMATTED counted").await;
    assert_eq!(table_parameter(&out, "numRows"), "3");
    assert_eq!(table_parameter(&out, "numFiles"), "1");
    let size: u64 = table_parameter(&out, "totalSize").parse().unwrap();
    assert!(size > 0, "{out}");
    run(&mut ctx, "INSERT INTO counted VALUES (4, 'd')").await;
    let out = run(&mut ctx, "DESCRIBE FORMATTED counted").await;
    assert!(!out.contains("numRows"), "{out}");
    run(
        &mut ctx,
        "ANALYZE TABLE counted COMPUTE STATISTICS FOR COLUMNS",
    )
    .await;
    let out = run(&mut ctx, "DESCRIBE FORMATTED counted").await;
    assert_eq!(table_parameter(&out, "numRows"), "4");
}
