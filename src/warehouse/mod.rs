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

pub mod alter;
pub mod catalog;
pub mod describe;
pub mod directory;
pub mod layout;
pub mod load;
pub mod metastore;
pub mod models;
pub mod remove;
pub mod statements;
pub mod store;
pub mod table;
pub mod text;
pub mod views;
pub mod write;

use std::collections::HashSet;
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

/// How long replaced data files stay readable, hidden in their directory's trash, for queries
/// planned before the write that replaced them.
pub const TRASH_GRACE: Duration = Duration::from_secs(60);

/// When [`Warehouse::retire`] deletes what a statement made garbage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retire {
    /// Now (DROP TABLE, DROP PARTITION, DROP DATABASE).
    Now,
    /// Files replaced by a write (INSERT OVERWRITE, TRUNCATE) move at once to their directory's
    /// hidden `.apiary-trash/`, out of sight of every reader of the directory, and are deleted
    /// after [`TRASH_GRACE`]; queries that planned before the write still read them.
    AfterGrace,
}

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

    /// Undoes a write that did not commit (its table's lock held): deletes its staging
    /// directory, the files it moved into place and the partition directories it created,
    /// then forgets it. If the staging directory cannot be removed yet (DataFusion's writer
    /// tasks may still be finishing a file), the pending write stays for the next sweep.
    pub(crate) fn roll_back(&self, txn: &str, lock_name: &str, location: &Path, staging: &Path) {
        remove::remove_staging(&self.root, location, staging);
        self.finish_roll_back(txn, lock_name, location, staging);
    }

    /// [`Warehouse::roll_back`] for a write that just failed in this process: DataFusion's
    /// writer tasks may still be finishing files in the staging directory, so removing it is
    /// retried for a while (without blocking the runtime) before the rest is undone.
    pub(crate) async fn roll_back_failed_write(
        &self,
        txn: &str,
        lock_name: &str,
        location: &Path,
        staging: &Path,
    ) {
        // Gone, and still gone a moment later: a straggler's `put` would re-create it.
        let mut quiet = 0;
        for _ in 0..60 {
            remove::remove_staging(&self.root, location, staging);
            quiet = if staging.exists() { 0 } else { quiet + 1 };
            if quiet >= 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.finish_roll_back(txn, lock_name, location, staging);
    }

    fn finish_roll_back(&self, txn: &str, lock_name: &str, location: &Path, staging: &Path) {
        let keep: HashSet<PathBuf> = lock_name
            .split_once('.')
            .and_then(|(db, t)| self.metastore.table(db, t).ok().flatten())
            .and_then(|t| self.metastore.partitions(t.id).ok())
            .unwrap_or_default()
            .into_iter()
            .map(|p| p.location)
            .collect();
        remove_txn_files(location, &format!("part-{txn}-"), &keep);
        if !staging.exists() {
            let _ = self.metastore.end_pending(txn);
        }
    }

    /// Moves a renamed table's directory to its new place (the rename has committed) and
    /// forgets the recorded move.
    pub(crate) fn finish_rename(&self, table_id: i64, old: &Path, new: &Path) -> Result<()> {
        if old.exists() && !new.exists() {
            std::fs::rename(old, new).map_err(|e| io_err(new, e))?;
        }
        self.metastore.end_rename(table_id)
    }

    /// Rolls back the writes of dead processes, finishes the renames they committed and
    /// deletes what committed writes replaced.
    pub fn sweep(&self) -> Result<()> {
        for (table_id, lock_name, old, new) in self.metastore.pending_renames()? {
            // A live renamer holds the table's lock; a dead one's was released by the OS.
            let Some(_lock) = self.try_lock(&lock_name)? else {
                continue;
            };
            self.finish_rename(table_id, &old, &new)?;
        }
        for (txn, lock_name, location, staging) in self.metastore.pending()? {
            // A live writer holds its table's lock; a dead one's lock was released by the OS.
            let Some(_lock) = self.try_lock(&lock_name)? else {
                continue;
            };
            self.roll_back(&txn, &lock_name, &location, &staging);
        }
        let expired = self
            .metastore
            .trash_older_than(TRASH_GRACE.as_secs() as i64)?;
        self.delete_trash(&expired)
    }

    /// Deletes the trash at or under `location` (before a new table takes that place: a
    /// dropped table's directory may still wait there after a crash).
    pub fn clear_trash_under(&self, location: &Path) -> Result<()> {
        let trash: Vec<PathBuf> = self
            .metastore
            .trash()?
            .into_iter()
            .filter(|p| p.starts_with(location))
            .collect();
        self.delete_trash(&trash)
    }

    fn delete_trash(&self, trash: &[PathBuf]) -> Result<()> {
        if trash.is_empty() {
            return Ok(());
        }
        let done = remove::remove_doomed(&self.root, trash);
        for path in &done {
            // A directory's trash goes when it is empty.
            if let Some(parent) = path.parent()
                && parent.file_name().is_some_and(|n| n == layout::TRASH_DIR)
            {
                let _ = std::fs::remove_dir(parent);
            }
        }
        self.metastore.forget_trash(&done)
    }

    /// Deletes, or hides until [`TRASH_GRACE`] has passed, what a committed statement made
    /// garbage (the paths its commit put in the trash); then deletes trash whose grace is over.
    pub fn retire(&self, doomed: &[PathBuf], when: Retire) -> Result<()> {
        match when {
            Retire::Now => self.delete_trash(doomed)?,
            Retire::AfterGrace => {
                let mut moves = Vec::new();
                for path in doomed {
                    if !std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file()) {
                        continue; // a directory waits where it is
                    }
                    let hidden = layout::trash_path(path);
                    let moved = hidden
                        .parent()
                        .is_some_and(|dir| std::fs::create_dir_all(dir).is_ok())
                        && std::fs::rename(path, &hidden).is_ok();
                    if moved {
                        moves.push((path.clone(), hidden));
                    }
                }
                self.metastore.move_trash(&moves)?;
            }
        }
        let expired = self
            .metastore
            .trash_older_than(TRASH_GRACE.as_secs() as i64)?;
        self.delete_trash(&expired)
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

fn is_empty_dir(path: &Path) -> bool {
    std::fs::read_dir(path).is_ok_and(|mut entries| entries.next().is_none())
}

/// Deletes the files under `dir` whose names start with `prefix` (a dead write's files), and
/// the directories that only those files were in (partition directories the write created),
/// except `keep` (the partitions the metastore knows). Returns whether `dir` is now empty
/// because of it.
fn remove_txn_files(dir: &Path, prefix: &str, keep: &HashSet<PathBuf>) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    let mut removed_any = false;
    let mut left = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        match entry.file_type() {
            Ok(t) if t.is_dir() && !name.starts_with(".apiary") => {
                // A directory the dead write created may hold none of its files yet.
                let emptied = remove_txn_files(&path, prefix, keep) || is_empty_dir(&path);
                if emptied && !keep.contains(&path) && std::fs::remove_dir(&path).is_ok() {
                    removed_any = true;
                } else {
                    left += 1;
                }
            }
            Ok(t) if t.is_file() && name.starts_with(prefix) => {
                if std::fs::remove_file(&path).is_ok() {
                    removed_any = true;
                } else {
                    left += 1;
                }
            }
            _ => left += 1,
        }
    }
    removed_any && left == 0
}
