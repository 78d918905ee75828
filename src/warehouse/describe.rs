//! DESCRIBE [FORMATTED] and SHOW CREATE TABLE: what the metastore knows about a table, as
//! Hive prints it.

use std::sync::Arc;

use datafusion::arrow::datatypes::Schema;
use datafusion::catalog::TableProvider;

use super::metastore::{ColumnMeta, StorageFormat, TableKind, TableMeta};
use super::statements::WarehouseSession;
use super::table::WarehouseTable;
use super::{DEFAULT_DATABASE, Warehouse};
use crate::error::Result;
use crate::session::StatementOutput;
use crate::sql::hive_statements::TableName;
use crate::sql::hive_types::hive_type_name;

impl WarehouseSession<'_> {
    pub(super) async fn describe(
        &self,
        table: &TableName,
        detailed: bool,
    ) -> Result<StatementOutput> {
        let meta = match self.find_table(table)? {
            Some(m) => m,
            None => {
                // A session object: its columns.
                let (db, name) = self.resolve(table)?;
                let provider = self.ctx.table_provider(format!("{db}.{name}")).await;
                return match provider {
                    Ok(p) => Ok(describe_rows(describe_columns(&p.schema()))),
                    Err(_) => self.table(table).map(|_| StatementOutput::Done),
                };
            }
        };
        if meta.kind == TableKind::View {
            return Ok(describe_rows(super::views::describe_view(&meta, detailed)));
        }
        let provider = WarehouseTable::new(meta.clone(), Arc::clone(self.warehouse));
        let mut rows = describe_columns(&provider.schema());
        if !meta.partition_columns.is_empty() {
            rows.push(("".into(), "".into(), "".into()));
            rows.push(("# Partition Information".into(), "".into(), "".into()));
            rows.push(("# col_name".into(), "data_type".into(), "comment".into()));
            for c in &meta.partition_columns {
                rows.push((
                    c.name.clone(),
                    c.type_name(),
                    c.comment.clone().unwrap_or_default(),
                ));
            }
        }
        if detailed {
            let files = self.warehouse.metastore().files(meta.id)?;
            let partitions = self.warehouse.metastore().partitions(meta.id)?;
            let row = |k: &str, v: String| (k.to_string(), v, String::new());
            rows.push(("".into(), "".into(), "".into()));
            rows.push(row("# Detailed Table Information", String::new()));
            rows.push(row("Database:", meta.db.clone()));
            rows.push(row("Table:", meta.name.clone()));
            rows.push(row("CreateTime:", format_time(meta.created)));
            rows.push(row(
                "Location:",
                format!("file:{}", meta.location.display()),
            ));
            rows.push(row(
                "Table Type:",
                match meta.kind {
                    TableKind::Managed => "MANAGED_TABLE".into(),
                    TableKind::External => "EXTERNAL_TABLE".into(),
                    TableKind::View => "VIRTUAL_VIEW".into(),
                },
            ));
            if let Some(c) = &meta.comment {
                rows.push(row("Comment:", c.clone()));
            }
            rows.push(row("Table Parameters:", String::new()));
            if meta.kind == TableKind::Managed {
                let size: u64 = files.iter().map(|f| f.size).sum();
                let known: Option<u64> = files.iter().map(|f| f.rows).sum();
                rows.push(("".into(), "numFiles".into(), files.len().to_string()));
                if !meta.partition_columns.is_empty() {
                    rows.push((
                        "".into(),
                        "numPartitions".into(),
                        partitions.len().to_string(),
                    ));
                }
                if let Some(n) = known {
                    rows.push(("".into(), "numRows".into(), n.to_string()));
                }
                rows.push(("".into(), "totalSize".into(), size.to_string()));
            }
            for (k, v) in &meta.properties {
                rows.push(("".into(), k.clone(), v.clone()));
            }
            rows.push(("".into(), "".into(), "".into()));
            rows.push(row("# Storage Information", String::new()));
            let (input, output, serde) = match &meta.format {
                StorageFormat::Parquet => (
                    "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                    "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                    "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                ),
                StorageFormat::Text { .. } => (
                    "org.apache.hadoop.mapred.TextInputFormat",
                    "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                    "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                ),
                StorageFormat::Json => (
                    "org.apache.hadoop.mapred.TextInputFormat",
                    "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                    "org.apache.hadoop.hive.serde2.JsonSerDe",
                ),
            };
            rows.push(row("SerDe Library:", serde.into()));
            rows.push(row("InputFormat:", input.into()));
            rows.push(row("OutputFormat:", output.into()));
            if let StorageFormat::Text { delimiter } = &meta.format {
                rows.push(row("Storage Desc Params:", String::new()));
                rows.push((
                    "".into(),
                    "field.delim".into(),
                    display_delimiter(*delimiter),
                ));
            }
        }
        Ok(describe_rows(rows))
    }
}

fn display_delimiter(d: u8) -> String {
    if d.is_ascii_graphic() || d == b' ' {
        (d as char).to_string()
    } else {
        format!("\\{d:03o}")
    }
}

pub(super) fn format_time(secs: i64) -> String {
    // RFC 3339 in UTC, from the epoch seconds (no time zone database needed).
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m_ = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m_ <= 2 { y + 1 } else { y };
    format!("{y:04}-{m_:02}-{d:02} {h:02}:{m:02}:{s:02} UTC")
}

fn describe_columns(schema: &Schema) -> Vec<(String, String, String)> {
    schema
        .fields()
        .iter()
        .map(|f| {
            (
                f.name().clone(),
                f.metadata()
                    .get(super::table::HIVE_TYPE_KEY)
                    .cloned()
                    .unwrap_or_else(|| hive_type_name(f.data_type())),
                f.metadata().get("comment").cloned().unwrap_or_default(),
            )
        })
        .collect()
}

fn describe_rows(rows: Vec<(String, String, String)>) -> StatementOutput {
    crate::session::string_rows(
        &["col_name", "data_type", "comment"],
        rows.into_iter().map(|(a, b, c)| vec![a, b, c]).collect(),
    )
}

pub(super) fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

pub(super) fn sql_string(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// `SHOW CREATE TABLE`: a statement that recreates the table (one row per line, as Hive).
pub(super) fn show_create_table(meta: &TableMeta, warehouse: &Warehouse) -> Vec<String> {
    if meta.kind == TableKind::View {
        return super::views::show_create_view(meta);
    }
    let mut lines = Vec::new();
    let kind = match meta.kind {
        TableKind::Managed => "TABLE",
        TableKind::External | TableKind::View => "EXTERNAL TABLE",
    };
    lines.push(format!(
        "CREATE {kind} {}.{}(",
        quote(&meta.db),
        quote(&meta.name)
    ));
    let column_line = |c: &ColumnMeta| {
        let mut line = format!("  {} {}", quote(&c.name), c.type_name());
        if let Some(comment) = &c.comment {
            line.push_str(&format!(" COMMENT {}", sql_string(comment)));
        }
        line
    };
    let n = meta.columns.len();
    for (i, c) in meta.columns.iter().enumerate() {
        lines.push(format!(
            "{}{}",
            column_line(c),
            if i + 1 < n { "," } else { ")" }
        ));
    }
    if let Some(c) = &meta.comment {
        lines.push(format!("COMMENT {}", sql_string(c)));
    }
    if !meta.partition_columns.is_empty() {
        lines.push("PARTITIONED BY (".into());
        let n = meta.partition_columns.len();
        for (i, c) in meta.partition_columns.iter().enumerate() {
            lines.push(format!(
                "{}{}",
                column_line(c),
                if i + 1 < n { "," } else { ")" }
            ));
        }
    }
    if let StorageFormat::Text { delimiter } = &meta.format {
        lines.push("ROW FORMAT DELIMITED".into());
        lines.push(format!(
            "  FIELDS TERMINATED BY {}",
            sql_string(&display_delimiter(*delimiter))
        ));
    }
    lines.push(format!("STORED AS {}", meta.format.hive_name()));
    let default_location = if meta.db == DEFAULT_DATABASE {
        warehouse.root().join(&meta.name)
    } else {
        warehouse
            .metastore()
            .database(&meta.db)
            .ok()
            .flatten()
            .map(|d| d.location.join(&meta.name))
            .unwrap_or_default()
    };
    if meta.kind == TableKind::External || meta.location != default_location {
        lines.push("LOCATION".into());
        lines.push(format!(
            "  {}",
            sql_string(&meta.location.to_string_lossy())
        ));
    }
    if !meta.properties.is_empty() {
        lines.push("TBLPROPERTIES (".into());
        let n = meta.properties.len();
        for (i, (k, v)) in meta.properties.iter().enumerate() {
            lines.push(format!(
                "  {}={}{}",
                sql_string(k),
                sql_string(v),
                if i + 1 < n { "," } else { ")" }
            ));
        }
    }
    lines
}
