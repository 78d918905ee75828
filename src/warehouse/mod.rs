//! The warehouse: Hive-layout table directories under one root, described by an embedded
//! SQLite [`metastore`], written atomically and read from the committed file list.
//!
//! ```text
//! <root>/.apiary/metastore.db          the metastore (SQLite, WAL)
//! <root>/.apiary/locks/<db>.<t>.lock   one writer per table (OS file locks)
//! <root>/<table>/                      tables of the `default` database
//! <root>/<db>.db/<table>/<p>=<v>/part-<txn>-<n>.parquet
//! ```
//!
//! A write stages its files in `<table>/.apiary-staging-<txn>/`, moves them into place, then
//! one metastore transaction commits them; readers see only committed files. A pending row
//! written before the first file lets the next start sweep whatever a killed writer left.

pub mod catalog;
pub mod layout;
pub mod metastore;
pub mod statements;
pub mod table;
pub mod write;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::{ApiaryError, Result};
pub use catalog::WarehouseCatalog;
pub use metastore::{Metastore, TableMeta};

/// The name of the default database, as in Hive.
pub const DEFAULT_DATABASE: &str = "default";

/// The warehouse directory used when none is given.
pub const DEFAULT_WAREHOUSE_DIR: &str = "apiary-warehouse";

/// How long a writer waits for another process's write to the same table by default.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// An open warehouse: its root directory and metastore. Shared by every session of a process.
#[derive(Debug)]
pub struct Warehouse {
    root: PathBuf,
    metastore: Metastore,
    /// Delete the whole directory when dropped ([`Warehouse::temporary`]).
    temporary: bool,
}

impl Drop for Warehouse {
    fn drop(&mut self) {
        if self.temporary {
            remove_path(&self.root);
        }
    }
}

/// A held write lock on one table; released on drop (and by the OS if the process dies).
#[derive(Debug)]
pub struct TableLock {
    _file: File,
}

fn io_err(path: &Path, source: std::io::Error) -> ApiaryError {
    ApiaryError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Warehouse {
    /// Opens the warehouse at `root`, creating it on first use, and sweeps what killed
    /// writers left behind.
    pub fn open(root: &Path) -> Result<Self> {
        std::fs::create_dir_all(root.join(".apiary").join("locks")).map_err(|e| io_err(root, e))?;
        let root = std::fs::canonicalize(root).map_err(|e| io_err(root, e))?;
        let metastore = Metastore::open(&root.join(".apiary").join("metastore.db"))?;
        let this = Self {
            root,
            metastore,
            temporary: false,
        };
        this.metastore.create_database(&metastore::DatabaseMeta {
            name: DEFAULT_DATABASE.into(),
            comment: Some("Default Hive database".into()),
            location: this.root.clone(),
        })?;
        this.sweep()?;
        Ok(this)
    }

    /// A new warehouse in a fresh directory under the system's temporary directory, deleted
    /// when dropped (for tests and embedding).
    pub fn temporary() -> Result<Self> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "apiary-warehouse-{}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        ));
        let mut this = Self::open(&dir)?;
        this.temporary = true;
        Ok(this)
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The metastore.
    pub fn metastore(&self) -> &Metastore {
        &self.metastore
    }

    /// Where a new database's tables go: `<root>/<db>.db`.
    pub fn default_database_location(&self, db: &str) -> PathBuf {
        self.root.join(format!("{db}.db"))
    }

    fn lock_path(&self, name: &str) -> PathBuf {
        self.root
            .join(".apiary")
            .join("locks")
            .join(format!("{}.lock", layout::escape(name)))
    }

    /// Takes the write lock of `name` (`db.table`) without waiting.
    pub fn try_lock(&self, name: &str) -> Result<Option<TableLock>> {
        let path = self.lock_path(name);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| io_err(&path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(TableLock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(io_err(&path, e)),
        }
    }

    /// Takes the write lock of `name`, waiting up to `timeout` for another writer.
    pub async fn lock(&self, name: &str, timeout: Duration) -> Result<TableLock> {
        let start = Instant::now();
        loop {
            if let Some(lock) = self.try_lock(name)? {
                return Ok(lock);
            }
            if start.elapsed() >= timeout {
                return Err(ApiaryError::Usage(format!(
                    "table {name} is being written by another process (waited {:.0} s; \
                     SET apiary.lock.timeout=<seconds> to wait longer)",
                    timeout.as_secs_f64()
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A new, unique write id.
    pub fn new_txn(&self) -> String {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        format!(
            "{:x}{:05x}{:03x}",
            nanos,
            std::process::id() & 0xfffff,
            COUNTER.fetch_add(1, Ordering::Relaxed) & 0xfff
        )
    }

    /// Rolls back the writes of dead processes and deletes what committed writes replaced.
    pub fn sweep(&self) -> Result<()> {
        for (txn, lock_name, location, staging) in self.metastore.pending()? {
            // A live writer holds its table's lock; a dead one's lock was released by the OS.
            let Some(_lock) = self.try_lock(&lock_name)? else {
                continue;
            };
            remove_path(&staging);
            remove_txn_files(&location, &format!("part-{txn}-"));
            self.metastore.end_pending(&txn)?;
        }
        self.empty_trash()
    }

    /// Deletes the files and directories in the trash.
    pub fn empty_trash(&self) -> Result<()> {
        let trash = self.metastore.trash()?;
        if trash.is_empty() {
            return Ok(());
        }
        for path in &trash {
            remove_path(path);
        }
        self.metastore.forget_trash(&trash)
    }
}

/// Removes a file or a directory tree; a missing one is fine.
pub(crate) fn remove_path(path: &Path) {
    let result = match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(_) => Ok(()),
    };
    let _ = result;
}

/// Deletes the files under `dir` whose names start with `prefix` (a dead write's files).
fn remove_txn_files(dir: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        match entry.file_type() {
            Ok(t) if t.is_dir() && !name.starts_with(".apiary") => remove_txn_files(&path, prefix),
            Ok(t) if t.is_file() && name.starts_with(prefix) => {
                let _ = std::fs::remove_file(&path);
            }
            _ => {}
        }
    }
}
