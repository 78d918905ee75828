//! The sample tables (`sample_data/`), embedded in the binary and registered in every session.
//!
//! The files are compiled in with `include_bytes!`, so the tables exist whatever the working
//! directory. They are decoded once per process; each session gets its own [`MemTable`]s over
//! the shared (reference-counted) record batches.

use std::io::Cursor;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use bytes::Bytes;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::json::ReaderBuilder;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::MemTable;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::Statistics;
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;

/// How a sample file is encoded.
#[derive(Clone, Copy)]
enum Format {
    /// Apache Parquet; the schema is the file's own.
    Parquet,
    /// Newline-delimited JSON read with the given schema.
    NdJson(fn() -> Schema),
}

/// One sample table: its name in SQL, its file in `sample_data/` and the file's bytes.
struct SampleFile {
    table: &'static str,
    file: &'static str,
    bytes: &'static [u8],
    format: Format,
}

/// Every sample table, in registration order.
const SAMPLE_FILES: [SampleFile; 6] = [
    SampleFile {
        table: "digits_train",
        file: "digits_train.parquet",
        bytes: include_bytes!("../../sample_data/digits_train.parquet"),
        format: Format::Parquet,
    },
    SampleFile {
        table: "digits_test",
        file: "digits_test.parquet",
        bytes: include_bytes!("../../sample_data/digits_test.parquet"),
        format: Format::Parquet,
    },
    SampleFile {
        table: "words_train",
        file: "words_train.parquet",
        bytes: include_bytes!("../../sample_data/words_train.parquet"),
        format: Format::Parquet,
    },
    SampleFile {
        table: "words_test",
        file: "words_test.parquet",
        bytes: include_bytes!("../../sample_data/words_test.parquet"),
        format: Format::Parquet,
    },
    SampleFile {
        table: "pageads",
        file: "pageads.ndjson",
        bytes: include_bytes!("../../sample_data/pageads.ndjson"),
        format: Format::NdJson(pageads_schema),
    },
    SampleFile {
        table: "events",
        file: "events.ndjson",
        bytes: include_bytes!("../../sample_data/events.ndjson"),
        format: Format::NdJson(events_schema),
    },
];

/// A decoded sample table, shared by every session of the process.
struct SampleTable {
    table: &'static str,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

/// The database the sample tables live in.
pub const SAMPLE_DATABASE: &str = "default";

/// The sample tables' names.
pub fn sample_table_names() -> impl Iterator<Item = &'static str> {
    SAMPLE_FILES.iter().map(|s| s.table)
}

/// Whether `db.name` is a built-in sample table: read-only and reserved (no CREATE, INSERT,
/// DROP, ALTER or ingest of that name).
pub fn is_sample_table(db: &str, name: &str) -> bool {
    db.eq_ignore_ascii_case(SAMPLE_DATABASE)
        && sample_table_names().any(|t| t.eq_ignore_ascii_case(name))
}

/// Registers the sample tables in `ctx`, each read-only. A warehouse table that an older
/// version let take a sample table's name keeps it (the sample table is not registered), so
/// no session of that warehouse fails to start.
pub async fn register_sample_tables(ctx: &SessionContext) -> Result<()> {
    for sample in decoded_sample_tables()? {
        let table = MemTable::try_new(Arc::clone(&sample.schema), vec![sample.batches.clone()])?;
        match ctx.register_table(
            sample.table,
            Arc::new(ReadOnlyTable::new(sample.table, table)),
        ) {
            Ok(_) => {}
            Err(_) if ctx.table_exist(sample.table).unwrap_or(false) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A sample table: reads like its [`MemTable`], refuses every change.
#[derive(Debug)]
pub struct ReadOnlyTable {
    name: &'static str,
    inner: MemTable,
}

impl ReadOnlyTable {
    fn new(name: &'static str, inner: MemTable) -> Self {
        Self { name, inner }
    }

    fn refuse<T>(&self, what: &str) -> Result<T> {
        Err(DataFusionError::Plan(
            crate::security::guard::sample_table_error(self.name, what).to_string(),
        ))
    }
}

#[async_trait]
impl TableProvider for ReadOnlyTable {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        self.inner.table_type()
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.inner.scan(state, projection, filters, limit).await
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        self.inner.supports_filters_pushdown(filters)
    }

    fn statistics(&self) -> Option<Statistics> {
        self.inner.statistics()
    }

    async fn insert_into(
        &self,
        _state: &dyn Session,
        _input: Arc<dyn ExecutionPlan>,
        _insert_op: InsertOp,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.refuse("INSERT")
    }

    async fn delete_from(
        &self,
        _state: &dyn Session,
        _filters: Vec<Expr>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.refuse("DELETE")
    }

    async fn update(
        &self,
        _state: &dyn Session,
        _assignments: Vec<(String, Expr)>,
        _filters: Vec<Expr>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.refuse("UPDATE")
    }

    async fn truncate(&self, _state: &dyn Session) -> Result<Arc<dyn ExecutionPlan>> {
        self.refuse("TRUNCATE")
    }
}

/// The sample tables, decoded on first use and kept for the life of the process.
fn decoded_sample_tables() -> Result<&'static [SampleTable]> {
    static DECODED: OnceLock<std::result::Result<Vec<SampleTable>, Arc<DataFusionError>>> =
        OnceLock::new();
    DECODED
        .get_or_init(|| {
            SAMPLE_FILES
                .iter()
                .map(decode)
                .collect::<Result<Vec<_>>>()
                .map_err(Arc::new)
        })
        .as_ref()
        .map(Vec::as_slice)
        .map_err(|e| DataFusionError::Shared(Arc::clone(e)))
}

/// Decodes one embedded sample file into record batches.
fn decode(sample: &SampleFile) -> Result<SampleTable> {
    let decoded = match sample.format {
        Format::Parquet => decode_parquet(sample.bytes),
        Format::NdJson(schema) => decode_ndjson(sample.bytes, Arc::new(schema())),
    };
    decoded
        .map(|(schema, batches)| SampleTable {
            table: sample.table,
            schema,
            batches,
        })
        .map_err(|e| {
            DataFusionError::Execution(format!(
                "cannot load sample table `{}` from embedded sample_data/{}: {e}",
                sample.table, sample.file
            ))
        })
}

/// Reads a Parquet file held in memory.
fn decode_parquet(bytes: &'static [u8]) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(Bytes::from_static(bytes))?;
    // Keep the columns, drop writer metadata (pandas / ARROW:schema) that users never need, and
    // name list elements `item` like every list DataFusion builds.
    let fields: Vec<Field> = builder
        .schema()
        .fields()
        .iter()
        .map(|f| {
            f.as_ref()
                .clone()
                .with_data_type(with_item_lists(f.data_type()))
        })
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let batches = builder
        .build()?
        .map(|batch| {
            let columns = batch?
                .columns()
                .iter()
                .zip(schema.fields())
                .map(|(column, field)| cast(column, field.data_type()))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            Ok(RecordBatch::try_new(Arc::clone(&schema), columns)?)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((schema, batches))
}

/// `data_type` with every list element field, at any depth, renamed `item`.
fn with_item_lists(data_type: &DataType) -> DataType {
    match data_type {
        DataType::List(element) => DataType::List(Arc::new(
            Field::new(
                "item",
                with_item_lists(element.data_type()),
                element.is_nullable(),
            )
            .with_metadata(element.metadata().clone()),
        )),
        DataType::Struct(fields) => DataType::Struct(
            fields
                .iter()
                .map(|f| {
                    f.as_ref()
                        .clone()
                        .with_data_type(with_item_lists(f.data_type()))
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Reads newline-delimited JSON held in memory with an explicit schema; unknown keys are errors.
fn decode_ndjson(bytes: &'static [u8], schema: SchemaRef) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let reader = ReaderBuilder::new(Arc::clone(&schema))
        .with_strict_mode(true)
        .build(Cursor::new(bytes))?;
    let batches = reader.collect::<std::result::Result<Vec<_>, _>>()?;
    Ok((schema, batches))
}

/// A list type whose elements are nullable and named `item`, as DataFusion's `make_array` builds.
fn list_of(element: DataType) -> DataType {
    DataType::new_list(element, true)
}

/// A map type laid out as DataFusion's `map` functions build it: non-null `entries` of a
/// non-null `key` and a nullable `value`, unsorted.
fn map_of(key: DataType, value: DataType) -> DataType {
    let entries = Fields::from(vec![
        Field::new("key", key, false),
        Field::new("value", value, true),
    ]);
    DataType::Map(
        Arc::new(Field::new("entries", DataType::Struct(entries), false)),
        false,
    )
}

/// `pageads(pageid STRING, adid_list ARRAY<INT>)`: the Hive Language Manual's LATERAL VIEW table.
fn pageads_schema() -> Schema {
    Schema::new(vec![
        Field::new("pageid", DataType::Utf8, true),
        Field::new("adid_list", list_of(DataType::Int32), true),
    ])
}

/// `events`: web events with nested and semi-structured columns.
fn events_schema() -> Schema {
    let item = Fields::from(vec![
        Field::new("sku", DataType::Utf8, true),
        Field::new("qty", DataType::Int32, true),
    ]);
    Schema::new(vec![
        Field::new("event_id", DataType::Int64, true),
        Field::new("user_id", DataType::Utf8, true),
        Field::new("ts", DataType::Timestamp(TimeUnit::Microsecond, None), true),
        Field::new("tags", list_of(DataType::Utf8), true),
        Field::new("props", map_of(DataType::Utf8, DataType::Utf8), true),
        Field::new("payload", DataType::Utf8, true),
        Field::new("url", DataType::Utf8, true),
        Field::new("scores", list_of(DataType::Float64), true),
        Field::new("items", list_of(DataType::Struct(item)), true),
    ])
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use datafusion::arrow::util::pretty::pretty_format_batches;

    /// A session holding only the sample tables.
    async fn session() -> SessionContext {
        let ctx = SessionContext::new();
        register_sample_tables(&ctx).await.unwrap();
        ctx
    }

    /// Runs `sql` and returns the result as a pretty-printed table.
    async fn query(ctx: &SessionContext, sql: &str) -> String {
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        pretty_format_batches(&batches).unwrap().to_string()
    }

    /// Runs `sql`, which must yield a single BIGINT, and returns it.
    async fn scalar_i64(ctx: &SessionContext, sql: &str) -> i64 {
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let batch = batches.iter().find(|b| b.num_rows() > 0).unwrap();
        assert_eq!(batch.num_rows(), 1, "{sql}");
        batch
            .column(0)
            .as_any()
            .downcast_ref::<datafusion::arrow::array::Int64Array>()
            .unwrap()
            .value(0)
    }

    #[tokio::test]
    async fn every_sample_table_has_its_row_count() {
        let ctx = session().await;
        for (table, rows) in [
            ("digits_train", 1500),
            ("digits_test", 297),
            ("words_train", 66_101),
            ("words_test", 7_344),
            ("pageads", 2),
            ("events", 20),
        ] {
            let sql = format!("SELECT count(*) FROM {table}");
            assert_eq!(scalar_i64(&ctx, &sql).await, rows, "{table}");
        }
    }

    #[tokio::test]
    async fn sample_tables_survive_many_sessions() {
        for _ in 0..3 {
            let ctx = session().await;
            assert_eq!(scalar_i64(&ctx, "SELECT count(*) FROM pageads").await, 2);
        }
    }

    #[tokio::test]
    async fn parquet_tables_keep_their_columns() {
        let ctx = session().await;
        let digits_schema = Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("label", DataType::Int32, true),
            Field::new("pixels", list_of(DataType::Int8), true),
        ]);
        let words_schema = Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("word", DataType::Utf8, true),
        ]);
        for (table, expected) in [
            ("digits_train", &digits_schema),
            ("digits_test", &digits_schema),
            ("words_train", &words_schema),
            ("words_test", &words_schema),
        ] {
            let schema = ctx.table(table).await.unwrap().schema().as_arrow().clone();
            assert_eq!(&schema, expected, "{table}");
        }
        assert_eq!(
            scalar_i64(
                &ctx,
                "SELECT count(*) FROM digits_test \
                 WHERE cardinality(pixels) <> 64 OR label < 0 OR label > 9"
            )
            .await,
            0
        );
        assert_eq!(
            scalar_i64(
                &ctx,
                "SELECT count(*) FROM words_train WHERE word IS NULL OR word = ''"
            )
            .await,
            0
        );
        assert_eq!(
            scalar_i64(
                &ctx,
                "SELECT count(*) FROM words_test WHERE id = 27213 AND word = 'glamouring'"
            )
            .await,
            1
        );
        assert_eq!(
            scalar_i64(
                &ctx,
                "SELECT id FROM digits_test WHERE id = 1400 AND label = 2"
            )
            .await,
            1400
        );
    }

    #[tokio::test]
    async fn pageads_is_the_language_manual_table() {
        let ctx = session().await;
        let rows = query(
            &ctx,
            "SELECT pageid, adid_list FROM pageads ORDER BY pageid DESC",
        )
        .await;
        assert_eq!(
            rows,
            "+--------------+-----------+\n\
             | pageid       | adid_list |\n\
             +--------------+-----------+\n\
             | front_page   | [1, 2, 3] |\n\
             | contact_page | [3, 4, 5] |\n\
             +--------------+-----------+"
        );
        // Hive spells it `pageAds`; unquoted identifiers are case-insensitive.
        assert_eq!(
            scalar_i64(
                &ctx,
                "SELECT CAST(sum(cardinality(adid_list)) AS BIGINT) FROM pageAds"
            )
            .await,
            6
        );
        let schema = ctx
            .table("pageads")
            .await
            .unwrap()
            .schema()
            .as_arrow()
            .clone();
        assert_eq!(schema, pageads_schema());
    }

    #[tokio::test]
    async fn events_has_the_declared_schema() {
        let ctx = session().await;
        let schema = ctx
            .table("events")
            .await
            .unwrap()
            .schema()
            .as_arrow()
            .clone();
        assert_eq!(schema, events_schema());
    }

    #[tokio::test]
    async fn events_props_is_the_map_type_datafusion_builds() {
        let ctx = session().await;
        let batches = ctx
            .sql("SELECT map(['k'], ['v']) AS m")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let built = batches[0].schema().field(0).data_type().clone();
        assert_eq!(
            &built,
            events_schema()
                .field_with_name("props")
                .unwrap()
                .data_type()
        );
        // So both can meet in one column.
        let n = scalar_i64(
            &ctx,
            "SELECT count(*) FROM (SELECT props FROM events UNION ALL SELECT map(['k'], ['v']))",
        )
        .await;
        assert_eq!(n, 21);
    }

    #[tokio::test]
    async fn events_covers_the_edge_cases() {
        let ctx = session().await;
        for (sql, expected) in [
            ("SELECT count(*) FROM events WHERE tags IS NULL", 1),
            ("SELECT count(*) FROM events WHERE cardinality(tags) = 0", 1),
            ("SELECT count(*) FROM events WHERE props IS NULL", 1),
            (
                "SELECT count(*) FROM events WHERE cardinality(props) = 0",
                1,
            ),
            ("SELECT count(*) FROM events WHERE payload IS NULL", 1),
            ("SELECT count(*) FROM events WHERE url IS NULL", 1),
            ("SELECT count(*) FROM events WHERE items IS NULL", 2),
            (
                "SELECT count(*) FROM events WHERE cardinality(items) > 1",
                3,
            ),
            ("SELECT count(DISTINCT user_id) FROM events", 6),
            ("SELECT min(event_id) + max(event_id) FROM events", 21),
        ] {
            assert_eq!(scalar_i64(&ctx, sql).await, expected, "{sql}");
        }
    }

    #[tokio::test]
    async fn events_values_read_back() {
        let ctx = session().await;
        let rows = query(
            &ctx,
            "SELECT event_id, ts, props['os'] AS os, tags[1] AS tag, scores[2] AS s2, \
                    items[1]['sku'] AS sku, items[1]['qty'] AS qty \
             FROM events WHERE event_id IN (7, 9) ORDER BY event_id",
        )
        .await;
        assert_eq!(
            rows,
            "+----------+---------------------+-----+------+-----+---------+-----+\n\
             | event_id | ts                  | os  | tag  | s2  | sku     | qty |\n\
             +----------+---------------------+-----+------+-----+---------+-----+\n\
             | 7        | 2024-05-14T09:04:45 | ios | cart | 0.6 | TEE-004 | 3   |\n\
             | 9        | 2024-05-14T10:15:00 |     |      |     |         |     |\n\
             +----------+---------------------+-----+------+-----+---------+-----+"
        );
        let ts = query(&ctx, "SELECT ts FROM events WHERE event_id = 1").await;
        assert!(ts.contains("2024-05-14T09:00:01.250"), "{ts}");
    }

    #[tokio::test]
    async fn events_payload_is_json_text() {
        let ctx = session().await;
        let (mut valid, mut invalid) = (0, 0);
        let batches = ctx
            .sql("SELECT payload FROM events WHERE payload IS NOT NULL")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        for batch in &batches {
            let payloads = batch
                .column(0)
                .as_any()
                .downcast_ref::<datafusion::arrow::array::StringArray>()
                .unwrap();
            for payload in payloads.iter().flatten() {
                match serde_json::from_str::<serde_json::Value>(payload) {
                    Ok(value) => {
                        assert!(value.get("page").is_some(), "{payload}");
                        valid += 1;
                    }
                    Err(_) => invalid += 1,
                }
            }
        }
        assert_eq!((valid, invalid), (18, 1));
    }

    /// The Hive Language Manual's LATERAL VIEW queries, verbatim, in a full Apiary session.
    #[tokio::test]
    async fn hive_manual_lateral_view_queries_run_verbatim() {
        use crate::session::{ApiaryContext, StatementOutput};
        use futures::TryStreamExt;

        let mut ctx = ApiaryContext::new().await.unwrap();
        let mut run = async |sql: &str| match ctx.execute(sql).await.unwrap() {
            StatementOutput::Rows(stream) => stream.try_collect::<Vec<_>>().await.unwrap(),
            other => panic!("{sql}: {other:?}"),
        };
        let exploded = run(
            "SELECT pageid, adid FROM pageAds LATERAL VIEW explode(adid_list) adTable AS adid;",
        )
        .await;
        datafusion::assert_batches_sorted_eq!(
            [
                "+--------------+------+",
                "| pageid       | adid |",
                "+--------------+------+",
                "| contact_page | 3    |",
                "| contact_page | 4    |",
                "| contact_page | 5    |",
                "| front_page   | 1    |",
                "| front_page   | 2    |",
                "| front_page   | 3    |",
                "+--------------+------+",
            ],
            &exploded
        );
        let counted = run(
            "SELECT adid, count(1) FROM pageAds LATERAL VIEW explode(adid_list) adTable AS adid \
             GROUP BY adid;",
        )
        .await;
        // Compare values only: the count column's name is the planner's business.
        let mut counts: Vec<String> = pretty_format_batches(&counted)
            .unwrap()
            .to_string()
            .lines()
            .skip(3)
            .filter(|l| !l.starts_with('+'))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        counts.sort();
        assert_eq!(
            counts,
            [
                "| 1 | 1 |",
                "| 2 | 1 |",
                "| 3 | 2 |",
                "| 4 | 1 |",
                "| 5 | 1 |"
            ]
        );
    }
}
