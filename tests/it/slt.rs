//! Runs every `tests/sqllogictest/*.slt` file on its own fresh warehouse (a temporary
//! directory). Each sqllogictest connection (`connection name` in a file) opens that warehouse
//! anew, as a new process would, so files can test what survives a restart. `${test_dir}`
//! names a scratch directory next to the warehouse.

use std::path::PathBuf;
use std::sync::Arc;

use apiary::warehouse::Warehouse;
use apiary::{ApiaryContext, ApiaryError, StatementOutput};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::prelude::SessionConfig;
use futures::TryStreamExt;
use sqllogictest::{DBOutput, DefaultColumnType};

/// One sqllogictest connection: an Apiary session.
struct ApiaryDb {
    ctx: ApiaryContext,
}

fn column_type(dt: &datafusion::arrow::datatypes::DataType) -> DefaultColumnType {
    use datafusion::arrow::datatypes::DataType::*;
    match dt {
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 => {
            DefaultColumnType::Integer
        }
        Float16 | Float32 | Float64 | Decimal128(_, _) | Decimal256(_, _) => {
            DefaultColumnType::FloatingPoint
        }
        Utf8 | LargeUtf8 | Utf8View => DefaultColumnType::Text,
        _ => DefaultColumnType::Any,
    }
}

fn rows(batches: &[RecordBatch]) -> Result<Vec<Vec<String>>, ApiaryError> {
    let options = FormatOptions::default().with_null("NULL");
    let mut out = Vec::new();
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ApiaryError::DataFusion(e.into()))?;
        for row in 0..batch.num_rows() {
            let cells: Vec<String> = formatters
                .iter()
                .map(|f| {
                    let s = f.value(row).to_string().trim_end().to_string();
                    if s.is_empty() {
                        "(empty)".to_string()
                    } else {
                        s
                    }
                })
                .collect();
            if cells.iter().any(|c| c.contains('\n')) {
                // A multi-line cell (an EXPLAIN plan) becomes one result line per text line.
                out.extend(
                    cells
                        .join(" ")
                        .lines()
                        .map(|l| vec![l.trim_end().to_string()]),
                );
            } else {
                out.push(cells);
            }
        }
    }
    Ok(out)
}

#[async_trait::async_trait]
impl sqllogictest::AsyncDB for ApiaryDb {
    type Error = ApiaryError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, ApiaryError> {
        match self.ctx.execute(sql).await? {
            StatementOutput::Rows(stream) => {
                let schema = stream.schema();
                let batches: Vec<RecordBatch> = stream.try_collect().await?;
                Ok(DBOutput::Rows {
                    types: schema
                        .fields()
                        .iter()
                        .map(|f| column_type(f.data_type()))
                        .collect(),
                    rows: rows(&batches)?,
                })
            }
            StatementOutput::Done | StatementOutput::Source(_) => {
                Ok(DBOutput::StatementComplete(0))
            }
            StatementOutput::Affected(n) => Ok(DBOutput::StatementComplete(n)),
        }
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "apiary"
    }

    async fn sleep(dur: std::time::Duration) {
        tokio::time::sleep(dur).await;
    }
}

fn slt_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sqllogictest");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .collect();
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqllogictest_files() {
    let filter = std::env::var("SLT_FILTER").unwrap_or_default();
    let mut failures = Vec::new();
    let mut ran = 0;
    for file in slt_files() {
        if !file.to_string_lossy().contains(&filter) {
            continue;
        }
        let scratch = tempfile::tempdir().unwrap();
        let root = scratch.path().to_path_buf();
        let mut runner = sqllogictest::Runner::new(move || {
            let root = root.clone();
            async move {
                let warehouse = Arc::new(Warehouse::open(&root.join("warehouse"))?);
                let mut ctx =
                    ApiaryContext::with_warehouse(SessionConfig::new(), warehouse).await?;
                let files = root.join("files");
                std::fs::create_dir_all(&files).map_err(|source| ApiaryError::Io {
                    path: files.clone(),
                    source,
                })?;
                ctx.variables_mut()
                    .hivevar
                    .insert("test_dir".into(), files.display().to_string());
                Ok(ApiaryDb { ctx })
            }
        });
        ran += 1;
        if let Err(e) = runner.run_file_async(&file).await {
            failures.push(format!("{}:\n{e}", file.display()));
        }
    }
    assert!(ran > 0, "no .slt file matched");
    assert!(
        failures.is_empty(),
        "{} slt file(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
