//! The metastore: an embedded SQLite database (`<warehouse>/.apiary/metastore.db`) holding
//! databases, tables, columns, partitions, table properties and the committed file list of
//! every managed table, plus the bookkeeping that makes writes crash-safe (pending writes and
//! files to delete). Every change is one SQLite transaction.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use datafusion::arrow::datatypes::DataType;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::error::{ApiaryError, Result};
use crate::sql::hive_statements::CharLength;
use crate::sql::hive_types::parse_hive_type;

/// The metastore layout this release reads and writes. Bump it with a migration step in
/// [`Metastore::migrate`] when the tables change.
pub const SCHEMA_VERSION: i64 = 4;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS apiary_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dbs (
    name TEXT PRIMARY KEY, comment TEXT, location TEXT NOT NULL, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tbls (
    id INTEGER PRIMARY KEY, db TEXT NOT NULL REFERENCES dbs(name) ON DELETE CASCADE,
    name TEXT NOT NULL, kind TEXT NOT NULL, format TEXT NOT NULL, field_delim TEXT,
    location TEXT NOT NULL, comment TEXT, created INTEGER NOT NULL, UNIQUE (db, name));
CREATE TABLE IF NOT EXISTS cols (
    tbl INTEGER NOT NULL REFERENCES tbls(id) ON DELETE CASCADE, is_partition INTEGER NOT NULL,
    pos INTEGER NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL, comment TEXT,
    PRIMARY KEY (tbl, is_partition, pos));
CREATE TABLE IF NOT EXISTS tbl_props (
    tbl INTEGER NOT NULL REFERENCES tbls(id) ON DELETE CASCADE, key TEXT NOT NULL,
    value TEXT NOT NULL, PRIMARY KEY (tbl, key));
CREATE TABLE IF NOT EXISTS parts (
    id INTEGER PRIMARY KEY, tbl INTEGER NOT NULL REFERENCES tbls(id) ON DELETE CASCADE,
    spec TEXT NOT NULL, vals TEXT NOT NULL, location TEXT NOT NULL, created INTEGER NOT NULL,
    UNIQUE (tbl, spec));
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, tbl INTEGER NOT NULL REFERENCES tbls(id) ON DELETE CASCADE,
    part INTEGER REFERENCES parts(id) ON DELETE CASCADE, size INTEGER NOT NULL,
    rows INTEGER);
CREATE INDEX IF NOT EXISTS files_by_tbl ON files (tbl, part);
CREATE TABLE IF NOT EXISTS pending (
    txn TEXT PRIMARY KEY, lock_name TEXT NOT NULL, location TEXT NOT NULL,
    staging TEXT NOT NULL, started INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS trash (path TEXT PRIMARY KEY, since INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS renames (
    tbl INTEGER PRIMARY KEY, lock_name TEXT NOT NULL, old_location TEXT NOT NULL,
    new_location TEXT NOT NULL, started INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS models (
    db TEXT NOT NULL REFERENCES dbs(name) ON DELETE CASCADE, name TEXT NOT NULL,
    model_type TEXT NOT NULL, file TEXT NOT NULL, created INTEGER NOT NULL,
    details TEXT NOT NULL, PRIMARY KEY (db, name));
CREATE TABLE IF NOT EXISTS views (
    tbl INTEGER PRIMARY KEY REFERENCES tbls(id) ON DELETE CASCADE, text TEXT NOT NULL);
";

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A database (Hive's schema).
#[derive(Debug, Clone)]
pub struct DatabaseMeta {
    /// Lower-case name.
    pub name: String,
    /// `COMMENT '...'`.
    pub comment: Option<String>,
    /// The directory its managed tables live under.
    pub location: PathBuf,
}

/// One column of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnMeta {
    /// Lower-case name.
    pub name: String,
    /// The Arrow type it is stored as.
    pub data_type: DataType,
    /// The declared length of a `VARCHAR(n)` / `CHAR(n)` column.
    pub char_length: Option<CharLength>,
    /// `COMMENT '...'`.
    pub comment: Option<String>,
}

impl ColumnMeta {
    /// Hive's name of its type, as declared (`varchar(10)`, `array<int>`).
    pub fn type_name(&self) -> String {
        match &self.char_length {
            Some(c) => c.type_name(),
            None => crate::sql::hive_types::hive_type_name(&self.data_type),
        }
    }
}

/// Who owns a table's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    /// The warehouse: DROP removes the data; reads scan the committed file list.
    Managed,
    /// The user: DROP keeps the data; reads list the table's directories.
    External,
    /// A view (Hive's `VIRTUAL_VIEW`): no data, a query kept as text and planned on every read.
    View,
}

/// How a table's files are encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageFormat {
    /// `STORED AS PARQUET` (the default).
    Parquet,
    /// `STORED AS TEXTFILE`: delimited text without a header.
    Text {
        /// The field delimiter (Hive's default is `\u{1}`).
        delimiter: u8,
    },
    /// `STORED AS JSONFILE`: one JSON object per line.
    Json,
}

impl StorageFormat {
    /// Hive's name of the format.
    pub fn hive_name(&self) -> &'static str {
        match self {
            Self::Parquet => "PARQUET",
            Self::Text { .. } => "TEXTFILE",
            Self::Json => "JSONFILE",
        }
    }

    /// The extension of the files Apiary writes.
    pub fn extension(&self) -> &'static str {
        match self {
            Self::Parquet => "parquet",
            Self::Text { .. } => "txt",
            Self::Json => "json",
        }
    }
}

/// Everything the metastore knows about a table.
#[derive(Debug, Clone)]
pub struct TableMeta {
    /// Row id in the metastore (0 before it is created).
    pub id: i64,
    /// Database name.
    pub db: String,
    /// Table name.
    pub name: String,
    /// Managed or external.
    pub kind: TableKind,
    /// File format.
    pub format: StorageFormat,
    /// Root directory.
    pub location: PathBuf,
    /// `COMMENT '...'`.
    pub comment: Option<String>,
    /// Data columns, in order.
    pub columns: Vec<ColumnMeta>,
    /// Partition columns, in order.
    pub partition_columns: Vec<ColumnMeta>,
    /// `TBLPROPERTIES`.
    pub properties: BTreeMap<String, String>,
    /// Creation time, seconds since the epoch.
    pub created: i64,
    /// A view's query, as its `CREATE VIEW` gave it (after `${}` substitution).
    pub view_text: Option<String>,
}

impl TableMeta {
    /// `db.name`.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.db, self.name)
    }
}

/// One partition of a table.
#[derive(Debug, Clone)]
pub struct PartitionMeta {
    /// Row id.
    pub id: i64,
    /// Values of the partition columns, in order (`None` is Hive's default partition).
    pub values: Vec<Option<String>>,
    /// Its path below the table, `p=v/q=w` (escaped as Hive escapes it).
    pub spec: String,
    /// Its directory.
    pub location: PathBuf,
}

/// One committed data file.
#[derive(Debug, Clone)]
pub struct FileMeta {
    /// Absolute path.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// Its partition's id.
    pub partition: Option<i64>,
    /// Rows, when known.
    pub rows: Option<u64>,
}

/// A file a write adds.
#[derive(Debug, Clone)]
pub struct NewFile {
    /// Absolute path (already in place, not yet committed).
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// Rows, when known.
    pub rows: Option<u64>,
    /// Its partition (values and directory), `None` for an unpartitioned table.
    pub partition: Option<NewPartition>,
}

/// A partition a write or `ALTER TABLE ADD PARTITION` creates if it does not exist.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPartition {
    /// Values of the partition columns.
    pub values: Vec<Option<String>>,
    /// `p=v/q=w`.
    pub spec: String,
    /// Its directory.
    pub location: PathBuf,
}

/// What a write replaces.
#[derive(Debug, Clone)]
pub enum Replace {
    /// Nothing (INSERT INTO).
    Nothing,
    /// Every file of the table; partitions stay (INSERT OVERWRITE of an unpartitioned table,
    /// TRUNCATE TABLE).
    Table,
    /// Every file and every partition the write does not write again (INSERT OVERWRITE of a
    /// partitioned table without a PARTITION clause, as Spark does).
    Everything,
    /// Every file of these partitions (INSERT OVERWRITE ... PARTITION, TRUNCATE ... PARTITION).
    Partitions(Vec<String>),
}

/// One atomic change of a table's data.
#[derive(Debug, Clone)]
pub struct WriteCommit {
    /// The write's id (its pending row is removed in the same transaction).
    pub txn: Option<String>,
    /// Create this table first (CTAS); otherwise `table_id` names it.
    pub create: Option<TableMeta>,
    /// The table written (ignored when `create` is set).
    pub table_id: i64,
    /// Files to add.
    pub files: Vec<NewFile>,
    /// Partitions to create even when no file lands in them.
    pub partitions: Vec<NewPartition>,
    /// What the new files replace.
    pub replace: Replace,
}

/// The embedded metastore. One connection per process, guarded by a mutex; SQLite in WAL mode
/// lets other processes read while one writes.
#[derive(Debug)]
pub struct Metastore {
    conn: Mutex<Connection>,
    path: PathBuf,
}

fn sql_err(path: &Path, e: rusqlite::Error) -> ApiaryError {
    ApiaryError::Usage(format!("metastore {}: {e}", path.display()))
}

fn kind_name(kind: TableKind) -> &'static str {
    match kind {
        TableKind::Managed => "MANAGED",
        TableKind::External => "EXTERNAL",
        TableKind::View => "VIRTUAL_VIEW",
    }
}

impl Metastore {
    /// Opens (creating if needed) the metastore at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path).map_err(|e| sql_err(path, e))?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(|e| sql_err(path, e))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| sql_err(path, e))?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| sql_err(path, e))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(|e| sql_err(path, e))?;
        let this = Self {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        };
        this.migrate()?;
        Ok(this)
    }

    /// The metastore's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| ApiaryError::Usage("metastore connection is poisoned".into()))?;
        f(&mut conn).map_err(|e| sql_err(&self.path, e))
    }

    pub(super) fn write<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| ApiaryError::Usage("metastore connection is poisoned".into()))?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql_err(&self.path, e))?;
        let out = f(&tx)?;
        tx.commit().map_err(|e| sql_err(&self.path, e))?;
        Ok(out)
    }

    fn migrate(&self) -> Result<()> {
        let path = self.path.clone();
        self.write(|tx| {
            tx.execute_batch(SCHEMA).map_err(|e| sql_err(&path, e))?;
            let version: Option<String> = tx
                .query_row(
                    "SELECT value FROM apiary_meta WHERE key = 'schema_version'",
                    [],
                    |r| r.get(0),
                )
                .optional()
                .map_err(|e| sql_err(&path, e))?;
            match version.and_then(|v| v.parse::<i64>().ok()) {
                None => {
                    tx.execute(
                        "INSERT OR REPLACE INTO apiary_meta VALUES ('schema_version', ?1)",
                        params![SCHEMA_VERSION.to_string()],
                    )
                    .map_err(|e| sql_err(&path, e))?;
                }
                Some(v) if v > SCHEMA_VERSION => {
                    return Err(ApiaryError::Usage(format!(
                        "metastore {} has schema version {v}, newer than this Apiary's \
                         ({SCHEMA_VERSION}); upgrade Apiary",
                        path.display()
                    )));
                }
                // Version 1 lacked `models`, version 2 `renames`, version 3 `views`; the
                // schema above has just created them.
                Some(v) if v < SCHEMA_VERSION => {
                    tx.execute(
                        "UPDATE apiary_meta SET value = ?1 WHERE key = 'schema_version'",
                        params![SCHEMA_VERSION.to_string()],
                    )
                    .map_err(|e| sql_err(&path, e))?;
                }
                Some(_) => {}
            }
            Ok(())
        })
    }

    /// The stored schema version.
    pub fn schema_version(&self) -> Result<i64> {
        self.with(|c| {
            c.query_row(
                "SELECT value FROM apiary_meta WHERE key = 'schema_version'",
                [],
                |r| r.get::<_, String>(0),
            )
        })
        .map(|v| v.parse().unwrap_or(0))
    }

    // ---- databases ----

    /// Creates a database; false when it exists.
    pub fn create_database(&self, db: &DatabaseMeta) -> Result<bool> {
        self.with(|c| {
            c.execute(
                "INSERT OR IGNORE INTO dbs (name, comment, location, created) VALUES (?1, ?2, ?3, ?4)",
                params![db.name, db.comment, db.location.to_string_lossy(), now()],
            )
        })
        .map(|n| n == 1)
    }

    /// A database by name.
    pub fn database(&self, name: &str) -> Result<Option<DatabaseMeta>> {
        self.with(|c| {
            c.query_row(
                "SELECT name, comment, location FROM dbs WHERE name = ?1",
                params![name],
                |r| {
                    Ok(DatabaseMeta {
                        name: r.get(0)?,
                        comment: r.get(1)?,
                        location: PathBuf::from(r.get::<_, String>(2)?),
                    })
                },
            )
            .optional()
        })
    }

    /// Every database name, sorted.
    pub fn database_names(&self) -> Result<Vec<String>> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT name FROM dbs ORDER BY name")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect()
        })
    }

    /// Drops a database and (with `cascade`) its tables; returns the managed tables'
    /// directories to delete (recorded in the trash in the same transaction). Errors when it has tables and
    /// `cascade` is false.
    pub fn drop_database(&self, name: &str, cascade: bool) -> Result<Vec<PathBuf>> {
        let path = self.path.clone();
        self.write(|tx| {
            let tables: Vec<(i64, String, String)> = {
                let mut stmt = tx
                    .prepare("SELECT id, kind, location FROM tbls WHERE db = ?1")
                    .map_err(|e| sql_err(&path, e))?;
                stmt.query_map(params![name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                    .map_err(|e| sql_err(&path, e))?
            };
            if !tables.is_empty() && !cascade {
                return Err(ApiaryError::Usage(format!(
                    "database '{name}' is not empty ({} tables); use DROP DATABASE {name} CASCADE",
                    tables.len()
                )));
            }
            let mut doomed = Vec::new();
            for (id, kind, location) in &tables {
                if kind == "MANAGED" {
                    doomed.extend(table_garbage(tx, &path, *id, Path::new(location))?);
                }
            }
            tx.execute("DELETE FROM tbls WHERE db = ?1", params![name])
                .map_err(|e| sql_err(&path, e))?;
            tx.execute("DELETE FROM dbs WHERE name = ?1", params![name])
                .map_err(|e| sql_err(&path, e))?;
            trash(tx, &path, &doomed)?;
            Ok(doomed)
        })
    }

    // ---- tables ----

    /// Names of the tables of `db`, sorted.
    pub fn table_names(&self, db: &str) -> Result<Vec<String>> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT name FROM tbls WHERE db = ?1 ORDER BY name")?;
            let rows = stmt.query_map(params![db], |r| r.get(0))?;
            rows.collect()
        })
    }

    /// Names of the views of `db`, sorted.
    pub fn view_names(&self, db: &str) -> Result<Vec<String>> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT name FROM tbls WHERE db = ?1 AND kind = 'VIRTUAL_VIEW' ORDER BY name",
            )?;
            let rows = stmt.query_map(params![db], |r| r.get(0))?;
            rows.collect()
        })
    }

    /// Every managed table's directory: `(db, table, location)`.
    pub fn managed_locations(&self) -> Result<Vec<(String, String, PathBuf)>> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT db, name, location FROM tbls WHERE kind = 'MANAGED' ORDER BY db, name",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, PathBuf::from(r.get::<_, String>(2)?)))
            })?;
            rows.collect()
        })
    }

    /// A table by database and name.
    pub fn table(&self, db: &str, name: &str) -> Result<Option<TableMeta>> {
        let path = self.path.clone();
        self.with(|c| {
            let row = c
                .query_row(
                    "SELECT id, kind, format, field_delim, location, comment, created
                     FROM tbls WHERE db = ?1 AND name = ?2",
                    params![db, name],
                    |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, Option<String>>(3)?,
                            r.get::<_, String>(4)?,
                            r.get::<_, Option<String>>(5)?,
                            r.get::<_, i64>(6)?,
                        ))
                    },
                )
                .optional()?;
            let Some((id, kind, format, delim, location, comment, created)) = row else {
                return Ok(None);
            };
            let mut columns = Vec::new();
            let mut partition_columns = Vec::new();
            let mut stmt = c.prepare(
                "SELECT is_partition, name, type, comment FROM cols WHERE tbl = ?1
                 ORDER BY is_partition, pos",
            )?;
            let rows = stmt.query_map(params![id], |r| {
                Ok((
                    r.get::<_, bool>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })?;
            for row in rows {
                let (is_partition, name, type_name, comment) = row?;
                let data_type = parse_hive_type(&type_name).map_err(|e| {
                    rusqlite::Error::InvalidColumnType(
                        2,
                        format!("{name}: {e} (in {})", path.display()),
                        rusqlite::types::Type::Text,
                    )
                })?;
                let column = ColumnMeta {
                    char_length: CharLength::of_type_text(&type_name),
                    name,
                    data_type,
                    comment,
                };
                if is_partition {
                    partition_columns.push(column);
                } else {
                    columns.push(column);
                }
            }
            let mut properties = BTreeMap::new();
            let mut stmt = c.prepare("SELECT key, value FROM tbl_props WHERE tbl = ?1")?;
            for row in stmt.query_map(params![id], |r| Ok((r.get(0)?, r.get(1)?)))? {
                let (k, v) = row?;
                properties.insert(k, v);
            }
            let format = match format.as_str() {
                "TEXTFILE" => StorageFormat::Text {
                    delimiter: delim.as_deref().and_then(|d| d.bytes().next()).unwrap_or(1),
                },
                "JSONFILE" => StorageFormat::Json,
                _ => StorageFormat::Parquet,
            };
            let kind = match kind.as_str() {
                "EXTERNAL" => TableKind::External,
                "VIRTUAL_VIEW" => TableKind::View,
                _ => TableKind::Managed,
            };
            let view_text = if kind == TableKind::View {
                c.query_row("SELECT text FROM views WHERE tbl = ?1", params![id], |r| {
                    r.get::<_, String>(0)
                })
                .optional()?
            } else {
                None
            };
            Ok(Some(TableMeta {
                id,
                db: db.to_string(),
                name: name.to_string(),
                kind,
                format,
                location: PathBuf::from(location),
                comment,
                columns,
                partition_columns,
                properties,
                created,
                view_text,
            }))
        })
    }

    /// Creates a table (no data); false when one of that name exists.
    pub fn create_table(&self, table: &TableMeta) -> Result<bool> {
        let path = self.path.clone();
        self.write(|tx| insert_table(tx, &path, table).map(|id| id.is_some()))
    }

    /// Drops a table; returns what to delete (its directory when managed), recorded in the
    /// trash in the same transaction.
    pub fn drop_table(&self, table: &TableMeta) -> Result<Vec<PathBuf>> {
        let path = self.path.clone();
        self.write(|tx| {
            let doomed = if table.kind == TableKind::Managed {
                table_garbage(tx, &path, table.id, &table.location)?
            } else {
                vec![]
            };
            tx.execute("DELETE FROM tbls WHERE id = ?1", params![table.id])
                .map_err(|e| sql_err(&path, e))?;
            trash(tx, &path, &doomed)?;
            Ok(doomed)
        })
    }

    /// Replaces a view's query, columns and comment (`CREATE OR REPLACE VIEW`, `ALTER VIEW
    /// ... AS`), in one transaction.
    pub fn replace_view(&self, view: &TableMeta) -> Result<()> {
        let path = self.path.clone();
        let text = view.view_text.clone().unwrap_or_default();
        self.write(|tx| {
            let err = |e| sql_err(&path, e);
            tx.execute(
                "UPDATE views SET text = ?1 WHERE tbl = ?2",
                params![text, view.id],
            )
            .map_err(err)?;
            tx.execute(
                "UPDATE tbls SET comment = ?1 WHERE id = ?2",
                params![view.comment, view.id],
            )
            .map_err(err)?;
            tx.execute("DELETE FROM cols WHERE tbl = ?1", params![view.id])
                .map_err(err)?;
            insert_columns(tx, &path, view.id, view)
        })
    }

    /// Directory moves of renames that committed but may not have finished:
    /// `(table id, lock name, old directory, new directory)`.
    pub fn pending_renames(&self) -> Result<Vec<(i64, String, PathBuf, PathBuf)>> {
        self.with(|c| {
            let mut stmt =
                c.prepare("SELECT tbl, lock_name, old_location, new_location FROM renames")?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    PathBuf::from(r.get::<_, String>(2)?),
                    PathBuf::from(r.get::<_, String>(3)?),
                ))
            })?;
            rows.collect()
        })
    }

    /// Forgets a rename whose directory move is done.
    pub fn end_rename(&self, table_id: i64) -> Result<()> {
        self.with(|c| c.execute("DELETE FROM renames WHERE tbl = ?1", params![table_id]))
            .map(|_| ())
    }

    /// Renames a table (and moves a managed table's directory record to `location`). When the
    /// directory moves, the same transaction records the move (under `lock_name`, the lock
    /// the renamer holds) so that a crash before the move is finished by the next open.
    pub fn rename_table(
        &self,
        table: &TableMeta,
        db: &str,
        name: &str,
        location: &Path,
        lock_name: &str,
    ) -> Result<()> {
        let path = self.path.clone();
        let old = table.location.to_string_lossy().to_string();
        let new = location.to_string_lossy().to_string();
        self.write(|tx| {
            let run = |sql: &str, p: &[&dyn rusqlite::ToSql]| {
                tx.execute(sql, p).map_err(|e| sql_err(&path, e))
            };
            run(
                "UPDATE tbls SET db = ?1, name = ?2, location = ?3 WHERE id = ?4",
                &[&db, &name, &new, &table.id],
            )?;
            if old != new {
                run(
                    "INSERT OR REPLACE INTO renames (tbl, lock_name, old_location, new_location, started)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    &[&table.id, &lock_name, &old, &new, &now()],
                )?;
                let prefix = format!("{old}/");
                let like = format!("{}%", escape_like(&prefix));
                for sql in [
                    "UPDATE parts SET location = ?1 || substr(location, ?2) WHERE tbl = ?3 AND location LIKE ?4 ESCAPE '\\'",
                    "UPDATE files SET path = ?1 || substr(path, ?2) WHERE tbl = ?3 AND path LIKE ?4 ESCAPE '\\'",
                ] {
                    run(
                        sql,
                        &[&format!("{new}/"), &(prefix.chars().count() as i64 + 1), &table.id, &like],
                    )?;
                }
            }
            Ok(())
        })
    }

    /// Appends data columns.
    pub fn add_columns(&self, table: &TableMeta, columns: &[ColumnMeta]) -> Result<()> {
        let path = self.path.clone();
        self.write(|tx| {
            for (i, c) in columns.iter().enumerate() {
                tx.execute(
                    "INSERT INTO cols (tbl, is_partition, pos, name, type, comment) VALUES (?1, 0, ?2, ?3, ?4, ?5)",
                    params![
                        table.id,
                        (table.columns.len() + i) as i64,
                        c.name,
                        c.type_name(),
                        c.comment
                    ],
                )
                .map_err(|e| sql_err(&path, e))?;
            }
            Ok(())
        })
    }

    /// Replaces the data columns (ALTER TABLE ... CHANGE / REPLACE COLUMNS).
    pub fn replace_columns(&self, table_id: i64, columns: &[ColumnMeta]) -> Result<()> {
        let path = self.path.clone();
        self.write(|tx| {
            let err = |e| sql_err(&path, e);
            tx.execute(
                "DELETE FROM cols WHERE tbl = ?1 AND is_partition = 0",
                params![table_id],
            )
            .map_err(err)?;
            for (pos, c) in columns.iter().enumerate() {
                tx.execute(
                    "INSERT INTO cols (tbl, is_partition, pos, name, type, comment) VALUES (?1, 0, ?2, ?3, ?4, ?5)",
                    params![
                        table_id,
                        pos as i64,
                        c.name,
                        c.type_name(),
                        c.comment
                    ],
                )
                .map_err(err)?;
            }
            Ok(())
        })
    }

    /// Points a table (or one of its partitions) at another directory; for a managed table,
    /// `files` (found there) replace its committed files there. No file is deleted.
    pub fn relocate(
        &self,
        table_id: i64,
        partition_id: Option<i64>,
        location: &Path,
        managed: bool,
        files: &[(PathBuf, u64)],
    ) -> Result<()> {
        let path = self.path.clone();
        let location = location.to_string_lossy().to_string();
        self.write(|tx| {
            let err = |e| sql_err(&path, e);
            match partition_id {
                None => {
                    tx.execute(
                        "UPDATE tbls SET location = ?1 WHERE id = ?2",
                        params![location, table_id],
                    )
                    .map_err(err)?;
                }
                Some(p) => {
                    tx.execute(
                        "UPDATE parts SET location = ?1 WHERE id = ?2",
                        params![location, p],
                    )
                    .map_err(err)?;
                }
            }
            let has_partitions: bool = tx
                .query_row(
                    "SELECT count(*) > 0 FROM cols WHERE tbl = ?1 AND is_partition = 1",
                    params![table_id],
                    |r| r.get(0),
                )
                .map_err(err)?;
            if managed && (partition_id.is_some() || !has_partitions) {
                tx.execute(
                    "DELETE FROM files WHERE tbl = ?1 AND part IS ?2",
                    params![table_id, partition_id],
                )
                .map_err(err)?;
                for (f, size) in files {
                    tx.execute(
                        "INSERT OR REPLACE INTO files (path, tbl, part, size, rows) VALUES (?1, ?2, ?3, ?4, NULL)",
                        params![f.to_string_lossy(), table_id, partition_id, *size as i64],
                    )
                    .map_err(err)?;
                }
            }
            Ok(())
        })
    }

    /// Records the row counts of committed files (ANALYZE TABLE).
    pub fn set_file_rows(&self, rows: &[(PathBuf, u64)]) -> Result<()> {
        let path = self.path.clone();
        self.write(|tx| {
            for (f, n) in rows {
                tx.execute(
                    "UPDATE files SET rows = ?2 WHERE path = ?1",
                    params![f.to_string_lossy(), *n as i64],
                )
                .map_err(|e| sql_err(&path, e))?;
            }
            Ok(())
        })
    }

    /// Sets table properties.
    pub fn set_properties(&self, table_id: i64, properties: &[(String, String)]) -> Result<()> {
        let path = self.path.clone();
        self.write(|tx| {
            for (k, v) in properties {
                tx.execute(
                    "INSERT OR REPLACE INTO tbl_props (tbl, key, value) VALUES (?1, ?2, ?3)",
                    params![table_id, k, v],
                )
                .map_err(|e| sql_err(&path, e))?;
            }
            Ok(())
        })
    }

    // ---- partitions and files ----

    /// The partitions of a table, in spec order.
    pub fn partitions(&self, table_id: i64) -> Result<Vec<PartitionMeta>> {
        self.with(|c| read_partitions(c, table_id))
    }

    /// A table's partitions and committed files as of one moment (one read transaction: a
    /// commit between the two reads cannot show half a write).
    pub fn snapshot(&self, table_id: i64) -> Result<(Vec<PartitionMeta>, Vec<FileMeta>)> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| ApiaryError::Usage("metastore connection is poisoned".into()))?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .map_err(|e| sql_err(&self.path, e))?;
        let partitions = read_partitions(&tx, table_id).map_err(|e| sql_err(&self.path, e))?;
        let files = read_files(&tx, table_id).map_err(|e| sql_err(&self.path, e))?;
        tx.commit().map_err(|e| sql_err(&self.path, e))?;
        Ok((partitions, files))
    }

    /// The committed files of a table.
    pub fn files(&self, table_id: i64) -> Result<Vec<FileMeta>> {
        self.with(|c| read_files(c, table_id))
    }

    /// Removes files from the committed list (files that vanished: `MSCK REPAIR TABLE`).
    pub fn forget_files(&self, paths: &[PathBuf]) -> Result<()> {
        let path = self.path.clone();
        self.write(|tx| {
            for p in paths {
                tx.execute(
                    "DELETE FROM files WHERE path = ?1",
                    params![p.to_string_lossy()],
                )
                .map_err(|e| sql_err(&path, e))?;
            }
            Ok(())
        })
    }

    /// Adds partitions (those that exist are skipped); returns how many were new.
    pub fn add_partitions(&self, table_id: i64, partitions: &[NewPartition]) -> Result<usize> {
        let path = self.path.clone();
        self.write(|tx| {
            let mut added = 0;
            for p in partitions {
                if ensure_partition(tx, &path, table_id, p)?.1 {
                    added += 1;
                }
            }
            Ok(added)
        })
    }

    /// Drops partitions by spec; returns the directories to delete (managed tables), recorded in
    /// the trash in the same transaction.
    pub fn drop_partitions(&self, table: &TableMeta, specs: &[String]) -> Result<Vec<PathBuf>> {
        let path = self.path.clone();
        self.write(|tx| {
            let mut doomed = Vec::new();
            for spec in specs {
                let location: Option<String> = tx
                    .query_row(
                        "SELECT location FROM parts WHERE tbl = ?1 AND spec = ?2",
                        params![table.id, spec],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(|e| sql_err(&path, e))?;
                if let Some(loc) = location
                    && table.kind == TableKind::Managed
                {
                    doomed.extend(query_paths(
                        tx,
                        &path,
                        "SELECT f.path FROM files f JOIN parts p ON f.part = p.id
                         WHERE p.tbl = ?1 AND p.spec = ?2",
                        params![table.id, spec],
                    )?);
                    doomed.push(PathBuf::from(loc));
                }
                // A partition added with a LOCATION outside the table's directory keeps its
                // files: the table owns only what lies inside its own directory.
                doomed.retain(|d| d.starts_with(&table.location));
                tx.execute(
                    "DELETE FROM parts WHERE tbl = ?1 AND spec = ?2",
                    params![table.id, spec],
                )
                .map_err(|e| sql_err(&path, e))?;
            }
            trash(tx, &path, &doomed)?;
            Ok(doomed)
        })
    }

    /// Makes a write visible: in one transaction, creates the table (CTAS), creates the
    /// partitions, moves the replaced files to the trash, adds the new files and forgets the
    /// pending write. Returns the replaced files, to delete.
    pub fn commit(&self, commit: &WriteCommit) -> Result<Vec<PathBuf>> {
        let path = self.path.clone();
        self.write(|tx| {
            let table_id = match &commit.create {
                Some(table) => insert_table(tx, &path, table)?.ok_or_else(|| {
                    ApiaryError::Usage(format!("table {} already exists", table.qualified_name()))
                })?,
                None => commit.table_id,
            };
            let err = |e| sql_err(&path, e);
            let mut doomed = Vec::new();
            let mut collect = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> Result<()> {
                let mut stmt = tx.prepare(sql).map_err(err)?;
                let paths = stmt
                    .query_map(p, |r| r.get::<_, String>(0))
                    .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                    .map_err(err)?;
                doomed.extend(paths.into_iter().map(PathBuf::from));
                Ok(())
            };
            match &commit.replace {
                Replace::Nothing => {}
                Replace::Table | Replace::Everything => {
                    collect("SELECT path FROM files WHERE tbl = ?1", &[&table_id])?;
                    tx.execute("DELETE FROM files WHERE tbl = ?1", params![table_id])
                        .map_err(err)?;
                }
                Replace::Partitions(specs) => {
                    for spec in specs {
                        collect(
                            "SELECT f.path FROM files f JOIN parts p ON f.part = p.id
                             WHERE p.tbl = ?1 AND p.spec = ?2",
                            &[&table_id, spec],
                        )?;
                        tx.execute(
                            "DELETE FROM files WHERE part IN
                             (SELECT id FROM parts WHERE tbl = ?1 AND spec = ?2)",
                            params![table_id, spec],
                        )
                        .map_err(err)?;
                    }
                }
            }
            if matches!(commit.replace, Replace::Everything) {
                let kept: std::collections::HashSet<&str> = commit
                    .files
                    .iter()
                    .filter_map(|f| f.partition.as_ref().map(|p| p.spec.as_str()))
                    .chain(commit.partitions.iter().map(|p| p.spec.as_str()))
                    .collect();
                let old: Vec<(i64, String, String)> = {
                    let mut stmt = tx
                        .prepare("SELECT id, spec, location FROM parts WHERE tbl = ?1")
                        .map_err(err)?;
                    stmt.query_map(params![table_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                        .map_err(err)?
                };
                let managed: bool = tx
                    .query_row(
                        "SELECT kind = 'MANAGED' FROM tbls WHERE id = ?1",
                        params![table_id],
                        |r| r.get(0),
                    )
                    .map_err(err)?;
                for (id, spec, location) in old {
                    if kept.contains(spec.as_str()) {
                        continue;
                    }
                    tx.execute("DELETE FROM parts WHERE id = ?1", params![id])
                        .map_err(err)?;
                    if managed {
                        doomed.push(PathBuf::from(location));
                    }
                }
            }
            for p in &commit.partitions {
                ensure_partition(tx, &path, table_id, p)?;
            }
            for f in &commit.files {
                let part = match &f.partition {
                    Some(p) => Some(ensure_partition(tx, &path, table_id, p)?.0),
                    None => None,
                };
                tx.execute(
                    "INSERT INTO files (path, tbl, part, size, rows) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        f.path.to_string_lossy(),
                        table_id,
                        part,
                        f.size as i64,
                        f.rows.map(|n| n as i64)
                    ],
                )
                .map_err(err)?;
            }
            if let Some(txn) = &commit.txn {
                tx.execute("DELETE FROM pending WHERE txn = ?1", params![txn])
                    .map_err(err)?;
            }
            trash(tx, &path, &doomed)?;
            Ok(doomed)
        })
    }

    // ---- crash safety ----

    /// Records a write that has started (before any file is written).
    pub fn begin_pending(
        &self,
        txn: &str,
        lock_name: &str,
        location: &Path,
        staging: &Path,
    ) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO pending (txn, lock_name, location, staging, started) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![txn, lock_name, location.to_string_lossy(), staging.to_string_lossy(), now()],
            )
        })
        .map(|_| ())
    }

    /// Forgets a pending write (after it was rolled back).
    pub fn end_pending(&self, txn: &str) -> Result<()> {
        self.with(|c| c.execute("DELETE FROM pending WHERE txn = ?1", params![txn]))
            .map(|_| ())
    }

    /// Pending writes: `(txn, lock name, table location, staging directory)`.
    pub fn pending(&self) -> Result<Vec<(String, String, PathBuf, PathBuf)>> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT txn, lock_name, location, staging FROM pending")?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    PathBuf::from(r.get::<_, String>(2)?),
                    PathBuf::from(r.get::<_, String>(3)?),
                ))
            })?;
            rows.collect()
        })
    }

    /// Records files to delete (files an external table's OVERWRITE replaced).
    pub fn add_trash(&self, paths: &[PathBuf]) -> Result<()> {
        let path = self.path.clone();
        self.write(|tx| trash(tx, &path, paths))
    }

    /// Files and directories waiting to be deleted.
    pub fn trash(&self) -> Result<Vec<PathBuf>> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT path FROM trash")?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            rows.map(|r| r.map(PathBuf::from)).collect()
        })
    }

    /// Trash entries recorded at least `age_secs` seconds ago.
    pub fn trash_older_than(&self, age_secs: i64) -> Result<Vec<PathBuf>> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT path FROM trash WHERE since <= ?1")?;
            let rows = stmt.query_map(params![now() - age_secs], |r| r.get::<_, String>(0))?;
            rows.map(|r| r.map(PathBuf::from)).collect()
        })
    }

    /// Records that trash entries moved (`old` → `new`), keeping their age (one transaction).
    pub fn move_trash(&self, moves: &[(PathBuf, PathBuf)]) -> Result<()> {
        if moves.is_empty() {
            return Ok(());
        }
        let path = self.path.clone();
        self.write(|tx| {
            for (old, new) in moves {
                tx.execute(
                    "UPDATE trash SET path = ?2 WHERE path = ?1",
                    params![old.to_string_lossy(), new.to_string_lossy()],
                )
                .map_err(|e| sql_err(&path, e))?;
            }
            Ok(())
        })
    }

    /// Forgets trash entries once deleted (one transaction).
    pub fn forget_trash(&self, paths: &[PathBuf]) -> Result<()> {
        if paths.is_empty() {
            return Ok(());
        }
        let path = self.path.clone();
        self.write(|tx| {
            for p in paths {
                tx.execute(
                    "DELETE FROM trash WHERE path = ?1",
                    params![p.to_string_lossy()],
                )
                .map_err(|e| sql_err(&path, e))?;
            }
            Ok(())
        })
    }

    /// Number of tables and partitions (for `DESCRIBE DATABASE`-like summaries and tests).
    pub fn counts(&self) -> Result<(i64, i64)> {
        self.with(|c| {
            let t = c.query_row("SELECT count(*) FROM tbls", [], |r| r.get(0))?;
            let p = c.query_row("SELECT count(*) FROM parts", [], |r| r.get(0))?;
            Ok((t, p))
        })
    }
}

fn read_partitions(c: &Connection, table_id: i64) -> rusqlite::Result<Vec<PartitionMeta>> {
    let mut stmt =
        c.prepare("SELECT id, vals, spec, location FROM parts WHERE tbl = ?1 ORDER BY spec")?;
    let rows = stmt.query_map(params![table_id], |r| {
        let vals: String = r.get(1)?;
        Ok(PartitionMeta {
            id: r.get(0)?,
            values: serde_json::from_str(&vals).unwrap_or_default(),
            spec: r.get(2)?,
            location: PathBuf::from(r.get::<_, String>(3)?),
        })
    })?;
    rows.collect()
}

fn read_files(c: &Connection, table_id: i64) -> rusqlite::Result<Vec<FileMeta>> {
    let mut stmt =
        c.prepare("SELECT path, size, part, rows FROM files WHERE tbl = ?1 ORDER BY path")?;
    let rows = stmt.query_map(params![table_id], |r| {
        Ok(FileMeta {
            path: PathBuf::from(r.get::<_, String>(0)?),
            size: r.get::<_, i64>(1)? as u64,
            partition: r.get(2)?,
            rows: r.get::<_, Option<i64>>(3)?.map(|n| n as u64),
        })
    })?;
    rows.collect()
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The paths one query returns (its first column).
fn query_paths(
    tx: &rusqlite::Transaction<'_>,
    path: &Path,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<PathBuf>> {
    let mut stmt = tx.prepare(sql).map_err(|e| sql_err(path, e))?;
    stmt.query_map(params, |r| r.get::<_, String>(0))
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map(|paths| paths.into_iter().map(PathBuf::from).collect())
        .map_err(|e| sql_err(path, e))
}

/// What dropping a managed table leaves to delete: its committed files, then its partitions'
/// directories and its own (each removed only once empty; see [`super::remove`]), all inside
/// the table's directory.
fn table_garbage(
    tx: &rusqlite::Transaction<'_>,
    path: &Path,
    table_id: i64,
    location: &Path,
) -> Result<Vec<PathBuf>> {
    let mut doomed = query_paths(
        tx,
        path,
        "SELECT path FROM files WHERE tbl = ?1",
        params![table_id],
    )?;
    doomed.extend(query_paths(
        tx,
        path,
        "SELECT location FROM parts WHERE tbl = ?1",
        params![table_id],
    )?);
    doomed.push(location.to_path_buf());
    // Partitions added with a LOCATION elsewhere keep their files: a table owns only what
    // lies inside its own directory.
    doomed.retain(|d| d.starts_with(location));
    Ok(doomed)
}

fn trash(tx: &rusqlite::Transaction<'_>, path: &Path, doomed: &[PathBuf]) -> Result<()> {
    for d in doomed {
        tx.execute(
            "INSERT OR REPLACE INTO trash (path, since) VALUES (?1, ?2)",
            params![d.to_string_lossy(), now()],
        )
        .map_err(|e| sql_err(path, e))?;
    }
    Ok(())
}

/// Inserts a table with its columns and properties; `None` when the name is taken.
fn insert_table(tx: &rusqlite::Transaction<'_>, path: &Path, t: &TableMeta) -> Result<Option<i64>> {
    let err = |e| sql_err(path, e);
    let delim = match &t.format {
        StorageFormat::Text { delimiter } => Some((*delimiter as char).to_string()),
        _ => None,
    };
    let n = tx
        .execute(
            "INSERT OR IGNORE INTO tbls (db, name, kind, format, field_delim, location, comment, created)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                t.db,
                t.name,
                kind_name(t.kind),
                t.format.hive_name(),
                delim,
                t.location.to_string_lossy(),
                t.comment,
                now()
            ],
        )
        .map_err(err)?;
    if n == 0 {
        return Ok(None);
    }
    let id = tx.last_insert_rowid();
    if let Some(text) = &t.view_text {
        tx.execute(
            "INSERT INTO views (tbl, text) VALUES (?1, ?2)",
            params![id, text],
        )
        .map_err(err)?;
    }
    insert_columns(tx, path, id, t)?;
    for (k, v) in &t.properties {
        tx.execute(
            "INSERT OR REPLACE INTO tbl_props (tbl, key, value) VALUES (?1, ?2, ?3)",
            params![id, k, v],
        )
        .map_err(err)?;
    }
    Ok(Some(id))
}

/// Writes `t`'s data and partition columns for table `id`.
fn insert_columns(
    tx: &rusqlite::Transaction<'_>,
    path: &Path,
    id: i64,
    t: &TableMeta,
) -> Result<()> {
    let err = |e| sql_err(path, e);
    for (is_partition, cols) in [(0, &t.columns), (1, &t.partition_columns)] {
        for (pos, c) in cols.iter().enumerate() {
            tx.execute(
                "INSERT INTO cols (tbl, is_partition, pos, name, type, comment) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    id,
                    is_partition,
                    pos as i64,
                    c.name,
                    c.type_name(),
                    c.comment
                ],
            )
            .map_err(err)?;
        }
    }
    Ok(())
}

/// The id of a partition, created if missing; the flag says whether it was created.
fn ensure_partition(
    tx: &rusqlite::Transaction<'_>,
    path: &Path,
    table_id: i64,
    p: &NewPartition,
) -> Result<(i64, bool)> {
    let err = |e| sql_err(path, e);
    let existing: Option<i64> = tx
        .query_row(
            "SELECT id FROM parts WHERE tbl = ?1 AND spec = ?2",
            params![table_id, p.spec],
            |r| r.get(0),
        )
        .optional()
        .map_err(err)?;
    if let Some(id) = existing {
        return Ok((id, false));
    }
    let vals = serde_json::to_string(&p.values).unwrap_or_else(|_| "[]".into());
    tx.execute(
        "INSERT INTO parts (tbl, spec, vals, location, created) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![table_id, p.spec, vals, p.location.to_string_lossy(), now()],
    )
    .map_err(err)?;
    Ok((tx.last_insert_rowid(), true))
}
