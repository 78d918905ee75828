//! Metadata statements as Hive runs them: `ALTER TABLE ... CHANGE COLUMN`, `REPLACE
//! COLUMNS`, `SET LOCATION`, `SHOW TBLPROPERTIES` and `ANALYZE TABLE ... COMPUTE
//! STATISTICS`. None rewrites a data file: after a column change, text files are read by
//! position (Hive's LazySimpleSerDe) and Parquet files by column name (Hive's Parquet SerDe),
//! a value that does not fit its new type reading as NULL.

use std::path::{Path, PathBuf};

use datafusion::arrow::compute::can_cast_types;
use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};

use super::metastore::{ColumnMeta, StorageFormat, TableKind, TableMeta};
use super::statements::{
    WarehouseSession, absolute_location, check_text_columns, check_unique, column_meta, usage,
};
use super::table::list_data_files;
use super::text::{TextOptions, split_lines};
use crate::error::Result;
use crate::session::{StatementOutput, string_rows};
use crate::sql::hive_statements::{ColumnDef, ColumnPosition, PartitionSpec, TableName};
use crate::sql::hive_types::hive_type_name;
use crate::suggest::closest;

/// The rows of one data file, read as the table reads it.
fn count_rows(meta: &TableMeta, path: &Path) -> Result<u64> {
    let io = |e: std::io::Error| crate::error::ApiaryError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    match &meta.format {
        StorageFormat::Parquet => {
            let file = std::fs::File::open(path).map_err(io)?;
            let reader = SerializedFileReader::new(file).map_err(|e| {
                usage(format!(
                    "ANALYZE TABLE {}: {} is not a readable Parquet file: {e}",
                    meta.qualified_name(),
                    path.display()
                ))
            })?;
            Ok(reader.metadata().file_metadata().num_rows().max(0) as u64)
        }
        StorageFormat::Text { .. } => {
            let options = TextOptions::of(meta)?.unwrap_or(TextOptions {
                delimiter: 1,
                null_format: String::new(),
                skip_header: 0,
                skip_footer: 0,
            });
            let bytes = std::fs::read(path).map_err(io)?;
            let lines = split_lines(&bytes).len();
            Ok(lines.saturating_sub(options.skip_header + options.skip_footer) as u64)
        }
        StorageFormat::Json => {
            let bytes = std::fs::read(path).map_err(io)?;
            Ok(split_lines(&bytes)
                .iter()
                .filter(|l| l.iter().any(|b| !b.is_ascii_whitespace()))
                .count() as u64)
        }
    }
}

impl WarehouseSession<'_> {
    fn column_index(&self, meta: &TableMeta, columns: &[ColumnMeta], name: &str) -> Result<usize> {
        columns.iter().position(|c| c.name == name).ok_or_else(|| {
            let hint = closest(name, columns.iter().map(|c| c.name.as_str()))
                .map(|s| format!(". Did you mean '{s}'?"))
                .unwrap_or_default();
            let partition = if meta.partition_columns.iter().any(|c| c.name == name) {
                " (it is a partition column, which ALTER TABLE ... CHANGE cannot change)"
            } else {
                ""
            };
            usage(format!(
                "column '{name}' is not a data column of {}{partition}{hint}",
                meta.qualified_name()
            ))
        })
    }

    /// `ALTER TABLE t CHANGE [COLUMN] old new type [COMMENT c] [FIRST|AFTER c]`.
    pub(super) async fn change_column(
        &self,
        table: &TableName,
        old: &str,
        column: &ColumnDef,
        position: &ColumnPosition,
    ) -> Result<StatementOutput> {
        let meta = self.table(table)?;
        let _lock = self.lock(&meta).await?;
        let qualified = meta.qualified_name();
        let mut columns = meta.columns.clone();
        let at = self.column_index(&meta, &columns, old)?;
        let previous = columns.remove(at);
        let mut new = column_meta(column)?;
        // Without a COMMENT the column keeps its comment, as in Hive.
        if new.comment.is_none() {
            new.comment = previous.comment.clone();
        }
        if !can_cast_types(&previous.data_type, &new.data_type) {
            return Err(usage(format!(
                "ALTER TABLE {qualified} CHANGE {old}: its values cannot be read as {} (they \
                 are {}); the files are not rewritten",
                hive_type_name(&new.data_type),
                hive_type_name(&previous.data_type)
            )));
        }
        let at = match position {
            ColumnPosition::Same => at,
            ColumnPosition::First => 0,
            ColumnPosition::After(c) => self.column_index(&meta, &columns, c)? + 1,
        };
        columns.insert(at, new);
        check_unique(&qualified, &columns, &meta.partition_columns)?;
        check_text_columns(&qualified, &meta.format, &columns)?;
        self.warehouse
            .metastore()
            .replace_columns(meta.id, &columns)?;
        Ok(StatementOutput::Done)
    }

    /// `ALTER TABLE t REPLACE COLUMNS (...)`.
    pub(super) async fn replace_columns(
        &self,
        table: &TableName,
        columns: &[ColumnDef],
    ) -> Result<StatementOutput> {
        let meta = self.table(table)?;
        let _lock = self.lock(&meta).await?;
        let qualified = meta.qualified_name();
        let columns = columns
            .iter()
            .map(column_meta)
            .collect::<Result<Vec<_>>>()?;
        check_unique(&qualified, &columns, &meta.partition_columns)?;
        check_text_columns(&qualified, &meta.format, &columns)?;
        self.warehouse
            .metastore()
            .replace_columns(meta.id, &columns)?;
        Ok(StatementOutput::Done)
    }

    /// `ALTER TABLE t [PARTITION (...)] SET LOCATION '...'`: the table (or partition) reads
    /// the files of its new directory from now on; no file moves or is deleted.
    pub(super) async fn set_location(
        &self,
        table: &TableName,
        partition: Option<&PartitionSpec>,
        location: &str,
    ) -> Result<StatementOutput> {
        let meta = self.table(table)?;
        let _lock = self.lock(&meta).await?;
        let qualified = meta.qualified_name();
        let path = absolute_location(location)?;
        let partition_id = match partition {
            None => None,
            Some(spec) => {
                let spec = self.check_spec(&meta, spec, false)?;
                let found = self.matching_partitions(&meta, &spec)?;
                let Some(p) = found.into_iter().next() else {
                    return Err(usage(format!(
                        "ALTER TABLE {qualified} SET LOCATION: partition ({}) does not exist",
                        spec.iter()
                            .map(|(n, v)| format!("{n}='{}'", v.clone().unwrap_or_default()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                };
                Some(p.id)
            }
        };
        // A managed table lists its files: those of the new place become its files.
        let files: Vec<(PathBuf, u64)> = if meta.kind == TableKind::Managed
            && (partition_id.is_some() || meta.partition_columns.is_empty())
        {
            list_data_files(&path).map_err(|e| usage(format!("SET LOCATION: {e}")))?
        } else {
            vec![]
        };
        self.warehouse.metastore().relocate(
            meta.id,
            partition_id,
            &path,
            meta.kind == TableKind::Managed,
            &files,
        )?;
        Ok(StatementOutput::Done)
    }

    /// `SHOW TBLPROPERTIES t [('key')]`.
    pub(super) fn show_tblproperties(
        &self,
        table: &TableName,
        key: Option<&str>,
    ) -> Result<StatementOutput> {
        let meta = self.table_or_view(table)?;
        let rows: Vec<Vec<String>> = match key {
            Some(k) => match meta.properties.get(k) {
                Some(v) => vec![vec![k.to_string(), v.clone()]],
                None => vec![vec![
                    k.to_string(),
                    format!(
                        "Table {} does not have property: {k}",
                        meta.qualified_name()
                    ),
                ]],
            },
            None => meta
                .properties
                .iter()
                .map(|(k, v)| vec![k.clone(), v.clone()])
                .collect(),
        };
        Ok(string_rows(&["prpt_name", "prpt_value"], rows))
    }

    /// `ANALYZE TABLE t [PARTITION (...)] COMPUTE STATISTICS [FOR COLUMNS] [NOSCAN]`: counts
    /// the rows of every file whose count is not known. A managed table keeps them with its
    /// files (DESCRIBE FORMATTED sums them: numRows); an external table keeps numFiles,
    /// numRows and totalSize as table properties, as Hive does.
    pub(super) async fn analyze(
        &self,
        table: &TableName,
        partition: Option<&PartitionSpec>,
        noscan: bool,
    ) -> Result<StatementOutput> {
        let meta = self.table(table)?;
        let _lock = self.lock(&meta).await?;
        let partitions = match partition {
            Some(spec) => Some(self.matching_partitions(&meta, spec)?),
            None => None,
        };
        match meta.kind {
            // A view has no statistics (and `table()` refuses one before this).
            TableKind::View => {}
            TableKind::Managed => {
                if noscan {
                    return Ok(StatementOutput::Done);
                }
                let wanted: Option<std::collections::HashSet<i64>> =
                    partitions.map(|ps| ps.into_iter().map(|p| p.id).collect());
                let mut counts = Vec::new();
                for f in self.warehouse.metastore().files(meta.id)? {
                    let selected = match (&wanted, f.partition) {
                        (None, _) => true,
                        (Some(w), Some(p)) => w.contains(&p),
                        (Some(_), None) => false,
                    };
                    if selected && f.rows.is_none() {
                        counts.push((f.path.clone(), count_rows(&meta, &f.path)?));
                    }
                }
                self.warehouse.metastore().set_file_rows(&counts)?;
            }
            TableKind::External => {
                let dirs: Vec<PathBuf> = if meta.partition_columns.is_empty() {
                    vec![meta.location.clone()]
                } else {
                    let all = match partitions {
                        Some(ps) => ps,
                        None => self.warehouse.metastore().partitions(meta.id)?,
                    };
                    all.into_iter().map(|p| p.location).collect()
                };
                let (mut files, mut size, mut rows) = (0u64, 0u64, 0u64);
                for dir in dirs {
                    for (path, len) in
                        list_data_files(&dir).map_err(|e| usage(format!("ANALYZE: {e}")))?
                    {
                        files += 1;
                        size += len;
                        if !noscan {
                            rows += count_rows(&meta, &path)?;
                        }
                    }
                }
                let mut props = vec![
                    ("numFiles".to_string(), files.to_string()),
                    ("totalSize".to_string(), size.to_string()),
                ];
                if !noscan {
                    props.push(("numRows".to_string(), rows.to_string()));
                }
                self.warehouse.metastore().set_properties(meta.id, &props)?;
            }
        }
        Ok(StatementOutput::Done)
    }
}
