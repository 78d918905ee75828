//! Models in the warehouse: their metastore rows and their weight files.
//!
//! A model is a row of the metastore's `models` table (database, name, type, details as JSON)
//! and one safetensors file under `<warehouse>/.apiary/models/<db>/`, named with a fresh id
//! for every version. Storing a model writes and syncs the new file first, then switches the
//! row in one transaction, then deletes the old file: a failure at any point leaves the
//! previous model whole (at worst an orphan file, which the next store of that model sweeps).

use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::{OptionalExtension, params};

use super::Warehouse;
use super::metastore::{Metastore, now};
use crate::error::{ApiaryError, Result};

/// A stored model, as the metastore knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelEntry {
    /// Database.
    pub db: String,
    /// Name.
    pub name: String,
    /// `model_type` (e.g. `nade`).
    pub model_type: String,
    /// The weights file.
    pub file: PathBuf,
    /// Creation time, seconds since the epoch.
    pub created: i64,
    /// What `DESCRIBE MODEL` shows (a JSON object of the model's facts).
    pub details: String,
}

/// Whether a store may replace an existing model of the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelWrite {
    /// `CREATE MODEL`: fail if it exists.
    Create,
    /// `CREATE OR REPLACE MODEL`.
    Replace,
}

fn io(path: &Path, source: std::io::Error) -> ApiaryError {
    ApiaryError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Metastore {
    /// The models of `db`, by name.
    pub fn models(&self, db: &str) -> Result<Vec<ModelEntry>> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT db, name, model_type, file, created, details FROM models \
                 WHERE db = ?1 ORDER BY name",
            )?;
            let rows = stmt.query_map(params![db], row_to_entry)?;
            rows.collect()
        })
    }

    /// The model `db.name`, if it exists.
    pub fn model(&self, db: &str, name: &str) -> Result<Option<ModelEntry>> {
        self.with(|c| {
            c.query_row(
                "SELECT db, name, model_type, file, created, details FROM models \
                 WHERE db = ?1 AND name = ?2",
                params![db, name],
                row_to_entry,
            )
            .optional()
        })
    }

    /// Inserts or replaces a model's row; the file of the row it replaced, if any.
    fn put_model(&self, entry: &ModelEntry, mode: ModelWrite) -> Result<Option<PathBuf>> {
        let path = self.path().to_path_buf();
        self.write(|tx| {
            let exists: Option<bool> = tx
                .query_row(
                    "SELECT 1 FROM dbs WHERE name = ?1",
                    params![entry.db],
                    |_| Ok(true),
                )
                .optional()
                .map_err(|e| sql_error(&path, e))?;
            if exists.is_none() {
                return Err(ApiaryError::Usage(format!(
                    "database '{}' does not exist",
                    entry.db
                )));
            }
            let old: Option<String> = tx
                .query_row(
                    "SELECT file FROM models WHERE db = ?1 AND name = ?2",
                    params![entry.db, entry.name],
                    |r| r.get(0),
                )
                .optional()
                .map_err(|e| sql_error(&path, e))?;
            if old.is_some() && mode == ModelWrite::Create {
                return Err(ApiaryError::Usage(format!(
                    "model {}.{} already exists (CREATE OR REPLACE MODEL replaces it)",
                    entry.db, entry.name
                )));
            }
            tx.execute(
                "INSERT OR REPLACE INTO models (db, name, model_type, file, created, details) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    entry.db,
                    entry.name,
                    entry.model_type,
                    entry.file.to_string_lossy(),
                    entry.created,
                    entry.details
                ],
            )
            .map_err(|e| sql_error(&path, e))?;
            Ok(old.map(PathBuf::from))
        })
    }

    /// Deletes a model's row; its file, if it existed.
    fn delete_model(&self, db: &str, name: &str) -> Result<Option<PathBuf>> {
        let path = self.path().to_path_buf();
        self.write(|tx| {
            let old: Option<String> = tx
                .query_row(
                    "SELECT file FROM models WHERE db = ?1 AND name = ?2",
                    params![db, name],
                    |r| r.get(0),
                )
                .optional()
                .map_err(|e| sql_error(&path, e))?;
            tx.execute(
                "DELETE FROM models WHERE db = ?1 AND name = ?2",
                params![db, name],
            )
            .map_err(|e| sql_error(&path, e))?;
            Ok(old.map(PathBuf::from))
        })
    }
}

fn sql_error(path: &Path, e: rusqlite::Error) -> ApiaryError {
    ApiaryError::Usage(format!("metastore {}: {e}", path.display()))
}

fn row_to_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<ModelEntry> {
    Ok(ModelEntry {
        db: r.get(0)?,
        name: r.get(1)?,
        model_type: r.get(2)?,
        file: PathBuf::from(r.get::<_, String>(3)?),
        created: r.get(4)?,
        details: r.get(5)?,
    })
}

impl Warehouse {
    /// The folder of `db`'s model files.
    fn models_dir(&self, db: &str) -> PathBuf {
        self.root().join(".apiary").join("models").join(db)
    }

    /// Stores a model: its weights (`bytes`, written and synced first), then its row.
    pub fn store_model(
        &self,
        db: &str,
        name: &str,
        model_type: &str,
        details: &str,
        bytes: &[u8],
        mode: ModelWrite,
    ) -> Result<ModelEntry> {
        // The name becomes a file name: Hive's rule keeps it one (checked at the statement
        // too; here for every caller).
        crate::security::check_name(crate::security::NameKind::Model, name)?;
        if self.metastore().database(db)?.is_none() {
            return Err(ApiaryError::Usage(format!(
                "database '{db}' does not exist"
            )));
        }
        if mode == ModelWrite::Create && self.metastore().model(db, name)?.is_some() {
            return Err(ApiaryError::Usage(format!(
                "model {db}.{name} already exists (CREATE OR REPLACE MODEL replaces it)"
            )));
        }
        let dir = self.models_dir(db);
        std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        let file = dir.join(format!("{name}-{}.safetensors", self.new_txn()));
        let partial = file.with_extension("partial");
        let written = (|| {
            let mut f = std::fs::File::create(&partial)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            std::fs::rename(&partial, &file)
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&partial);
            return Err(io(&file, e));
        }
        let entry = ModelEntry {
            db: db.to_string(),
            name: name.to_string(),
            model_type: model_type.to_string(),
            file: file.clone(),
            created: now(),
            details: details.to_string(),
        };
        match self.metastore().put_model(&entry, mode) {
            Ok(old) => {
                if let Some(old) = old.filter(|o| *o != file && o.parent() == Some(dir.as_path())) {
                    let _ = std::fs::remove_file(old);
                }
                self.sweep_model_files(db, name);
                Ok(entry)
            }
            Err(e) => {
                let _ = std::fs::remove_file(&file);
                Err(e)
            }
        }
    }

    /// Drops a model; false when there was none.
    pub fn drop_model(&self, db: &str, name: &str) -> Result<bool> {
        match self.metastore().delete_model(db, name)? {
            Some(file) => {
                // Only a file in the models' own folder is the model's to delete.
                if file.parent() == Some(self.models_dir(db).as_path()) {
                    let _ = std::fs::remove_file(file);
                }
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Removes files of `db.name` that no metastore row names (left by a crash mid-store).
    fn sweep_model_files(&self, db: &str, name: &str) {
        let current = self
            .metastore()
            .model(db, name)
            .ok()
            .flatten()
            .map(|e| e.file);
        let prefix = format!("{name}-");
        let Ok(entries) = std::fs::read_dir(self.models_dir(db)) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            let file_name = e.file_name().to_string_lossy().to_string();
            let Some(rest) = file_name.strip_prefix(&prefix) else {
                continue;
            };
            // `<name>-<id>.safetensors` where the id has no '-': not another model's file.
            let is_ours = rest
                .split_once('.')
                .is_some_and(|(id, _)| !id.contains('-'));
            if is_ours && Some(&path) != current.as_ref() {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_replace_and_drop_keep_one_file() -> Result<()> {
        let wh = Warehouse::temporary()?;
        let a = wh.store_model("default", "m", "nade", "{}", b"one", ModelWrite::Create)?;
        assert_eq!(std::fs::read(&a.file).ok().as_deref(), Some(&b"one"[..]));
        // A second CREATE fails and leaves the first.
        assert!(
            wh.store_model("default", "m", "nade", "{}", b"two", ModelWrite::Create)
                .is_err()
        );
        assert_eq!(
            wh.metastore().model("default", "m")?.map(|e| e.file),
            Some(a.file.clone())
        );
        let b = wh.store_model("default", "m", "fvsbn", "{}", b"two", ModelWrite::Replace)?;
        assert!(!a.file.exists() && b.file.exists());
        assert_eq!(wh.metastore().models("default")?.len(), 1);
        // An unknown database is refused before anything is kept.
        assert!(
            wh.store_model("nope", "m", "nade", "{}", b"x", ModelWrite::Create)
                .is_err()
        );
        assert!(wh.drop_model("default", "m")?);
        assert!(!b.file.exists());
        assert!(!wh.drop_model("default", "m")?);
        Ok(())
    }

    #[test]
    fn a_version_1_metastore_gains_the_models_table() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("apiary-models-v1-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        let path = dir.join("metastore.db");
        {
            let m = Metastore::open(&path)?;
            m.with(|c| {
                c.execute_batch(
                    "DROP TABLE models; \
                     UPDATE apiary_meta SET value = '1' WHERE key = 'schema_version';",
                )
            })?;
            assert_eq!(m.schema_version()?, 1);
        }
        let m = Metastore::open(&path)?;
        assert_eq!(
            m.schema_version()?,
            crate::warehouse::metastore::SCHEMA_VERSION
        );
        assert!(m.models("default")?.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }
}
