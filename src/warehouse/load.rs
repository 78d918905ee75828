//! `LOAD DATA [LOCAL] INPATH '...' [OVERWRITE] INTO TABLE t [PARTITION (...)]`: files join a
//! table as they are, committed like an INSERT. Each file is linked (or copied when it lies
//! on another file system) into the table's directory under a name that carries the write's
//! id, recorded as a pending write first; one metastore transaction then makes them the
//! table's (replacing its files with OVERWRITE). A crash before the commit leaves the sweep
//! to remove the linked files; the source is only removed (non-LOCAL: Hive moves the files)
//! after the commit.

use std::path::{Path, PathBuf};

use super::Retire;
use super::metastore::{NewFile, NewPartition, Replace, StorageFormat, TableKind, WriteCommit};
use super::statements::{WarehouseSession, absolute_location, create_dir, usage};
use super::table::list_data_files;
use crate::error::{ApiaryError, Result};
use crate::session::StatementOutput;
use crate::sql::hive_statements::{PartitionSpec, TableName};

fn io_err(path: &Path, source: std::io::Error) -> ApiaryError {
    ApiaryError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The files a LOAD DATA path names: the file itself, or the data files of a directory.
fn source_files(path: &Path, given: &str) -> Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            usage(format!("LOAD DATA: path '{given}' does not exist"))
        } else {
            io_err(path, e)
        }
    })?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let files: Vec<PathBuf> = list_data_files(path)
        .map_err(|e| usage(format!("LOAD DATA: {e}")))?
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    if files.is_empty() {
        return Err(usage(format!(
            "LOAD DATA: directory '{given}' holds no data files"
        )));
    }
    Ok(files)
}

/// A Parquet table takes only Parquet files (Hive checks the same).
fn check_format(format: &StorageFormat, file: &Path) -> Result<()> {
    if *format != StorageFormat::Parquet {
        return Ok(());
    }
    let mut magic = [0u8; 4];
    let ok = std::fs::File::open(file)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok()
        && &magic == b"PAR1";
    if ok {
        Ok(())
    } else {
        Err(usage(format!(
            "LOAD DATA: {} is not a Parquet file, and the table is STORED AS PARQUET",
            file.display()
        )))
    }
}

/// Puts `from` at `to` without touching `from`: a hard link, or a copy across file systems.
fn link_or_copy(from: &Path, to: &Path) -> Result<()> {
    if std::fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| io_err(to, e))
}

/// Links (or copies) `files` into `staging` under names carrying the write's id.
fn stage_files(files: &[PathBuf], staging: &Path, txn: &str) -> Result<Vec<PathBuf>> {
    let mut staged = Vec::new();
    for (n, from) in files.iter().enumerate() {
        let name = from
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let to = staging.join(format!("part-{txn}-{n:05}_{name}"));
        link_or_copy(from, &to)?;
        staged.push(to);
    }
    Ok(staged)
}

impl WarehouseSession<'_> {
    /// Runs `LOAD DATA`.
    pub(super) async fn load_data(
        &self,
        given: &str,
        local: bool,
        overwrite: bool,
        table: &TableName,
        partition: Option<&PartitionSpec>,
    ) -> Result<StatementOutput> {
        let meta = self.table(table)?;
        let qualified = meta.qualified_name();
        let source = absolute_location(given)?;
        let files = source_files(&source, given)?;
        for f in &files {
            check_format(&meta.format, f)?;
        }
        let new_partition: Option<NewPartition> = match (
            partition,
            meta.partition_columns.is_empty(),
        ) {
            (None, true) => None,
            (Some(_), true) => {
                return Err(usage(format!(
                    "LOAD DATA: table {qualified} is not partitioned; remove the PARTITION clause"
                )));
            }
            (None, false) => {
                return Err(usage(format!(
                    "LOAD DATA: table {qualified} is partitioned; name the partition \
                     (PARTITION ({}))",
                    meta.partition_columns
                        .iter()
                        .map(|c| format!("{}='...'", c.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            (Some(spec), false) => {
                let spec = self.check_spec(&meta, spec, false)?;
                let values: Vec<Option<String>> = spec.into_iter().map(|(_, v)| v).collect();
                let fresh = self.new_partition(&meta, values, None);
                let existing = self
                    .warehouse
                    .metastore()
                    .partitions(meta.id)?
                    .into_iter()
                    .find(|p| p.spec == fresh.spec);
                Some(match existing {
                    Some(p) => NewPartition {
                        values: p.values,
                        spec: p.spec,
                        location: p.location,
                    },
                    None => fresh,
                })
            }
        };
        let dir = new_partition
            .as_ref()
            .map_or_else(|| meta.location.clone(), |p| p.location.clone());
        let _lock = self.lock(&meta).await?;
        create_dir(&dir)?;
        let txn = self.warehouse.new_txn();
        let lock_name = qualified.clone();
        let staging = meta.location.join(format!(".apiary-staging-{txn}"));
        match meta.kind {
            TableKind::Managed => {
                self.warehouse.metastore().begin_pending(
                    &txn,
                    &lock_name,
                    &meta.location,
                    &staging,
                )?;
                let outcome =
                    self.load_managed(&meta, &files, &dir, &txn, new_partition, overwrite);
                if outcome.is_err() {
                    self.warehouse
                        .roll_back(&txn, &lock_name, &meta.location, &staging);
                }
                outcome?;
            }
            TableKind::External => {
                self.load_external(&files, &dir, &txn, overwrite)?;
            }
            TableKind::View => {
                return Err(usage(format!(
                    "{qualified} is a view: LOAD DATA needs a table"
                )));
            }
        }
        if !local {
            // Hive moves the files: the source goes once the table has them.
            for f in &files {
                let _ = std::fs::remove_file(f);
            }
        }
        Ok(StatementOutput::Done)
    }

    fn load_managed(
        &self,
        meta: &super::TableMeta,
        files: &[PathBuf],
        dir: &Path,
        txn: &str,
        partition: Option<NewPartition>,
        overwrite: bool,
    ) -> Result<()> {
        let mut new_files = Vec::new();
        for (n, from) in files.iter().enumerate() {
            let name = from
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            let to = dir.join(format!("part-{txn}-{n:05}_{name}"));
            link_or_copy(from, &to)?;
            let size = std::fs::metadata(&to).map_err(|e| io_err(&to, e))?.len();
            new_files.push(NewFile {
                path: to,
                size,
                rows: None,
                partition: partition.clone(),
            });
        }
        let replace = match (overwrite, &partition) {
            (false, _) => Replace::Nothing,
            (true, None) => Replace::Table,
            (true, Some(p)) => Replace::Partitions(vec![p.spec.clone()]),
        };
        let doomed = self.warehouse.metastore().commit(&WriteCommit {
            txn: Some(txn.to_string()),
            create: None,
            table_id: meta.id,
            files: new_files,
            partitions: partition.into_iter().collect(),
            replace,
        })?;
        self.warehouse.retire(&doomed, Retire::AfterGrace)
    }

    /// An external table reads its directories: the files are staged in a hidden directory
    /// there, then (after OVERWRITE hid the old files) renamed into place.
    fn load_external(
        &self,
        files: &[PathBuf],
        dir: &Path,
        txn: &str,
        overwrite: bool,
    ) -> Result<()> {
        let staging = dir.join(format!(".apiary-staging-{txn}"));
        create_dir(&staging)?;
        let staged = match stage_files(files, &staging, txn) {
            Ok(staged) => staged,
            Err(e) => {
                super::remove_path(&staging);
                return Err(e);
            }
        };
        if overwrite {
            let old: Vec<PathBuf> = list_data_files(dir)
                .map_err(|e| usage(format!("LOAD DATA: {e}")))?
                .into_iter()
                .map(|(p, _)| p)
                .collect();
            self.warehouse.metastore().add_trash(&old)?;
            self.warehouse.retire(&old, Retire::AfterGrace)?;
        }
        for from in &staged {
            if let Some(name) = from.file_name() {
                let to = dir.join(name);
                std::fs::rename(from, &to).map_err(|e| io_err(&to, e))?;
            }
        }
        super::remove_path(&staging);
        Ok(())
    }
}
