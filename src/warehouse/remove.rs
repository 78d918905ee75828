//! Deleting what the warehouse made garbage, and nothing else.
//!
//! Files go one by one (the files the metastore listed); a directory goes only once it is
//! empty, apart from Apiary's own hidden staging and trash directories inside it, which are
//! removed with it. Nothing is ever deleted recursively on the strength of a path alone, and
//! nothing is deleted at all when it is the warehouse root, one of its ancestors, or inside
//! its private `.apiary` directory: defence in depth behind the rule that names are never
//! paths ([`crate::security::names`]). A directory the user filled with files of their own is
//! kept with those files.

use std::path::{Path, PathBuf};

use super::layout::TRASH_DIR;
use crate::security::access::{PRIVATE_DIR, resolve};

/// The prefix of a write's staging directory inside its table (`.apiary-staging-<txn>`).
pub const STAGING_PREFIX: &str = ".apiary-staging-";

/// Whether a directory entry is one of Apiary's own hidden work directories.
fn is_apiary_work_dir(name: &str) -> bool {
    name == TRASH_DIR || name.starts_with(STAGING_PREFIX)
}

/// Why `path` must not be deleted under the warehouse at `root`, if it must not.
fn forbidden(root: &Path, path: &Path) -> Option<&'static str> {
    let Ok(resolved) = resolve(path) else {
        return Some("it cannot be resolved");
    };
    if root.starts_with(&resolved) {
        return Some("it is the warehouse or one of its ancestors");
    }
    if resolved.starts_with(root.join(PRIVATE_DIR)) {
        return Some("it is inside the warehouse's private directory");
    }
    None
}

/// Deletes `paths` (files and directories a committed statement made garbage) under the
/// warehouse at `root`: files first, then directories deepest first, each directory only when
/// nothing but Apiary's work directories is left in it. Returns the paths dealt with (deleted,
/// already gone, or kept because they were not Apiary's to delete), to forget.
pub(crate) fn remove_doomed(root: &Path, paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for path in paths {
        match std::fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() => dirs.push(path.clone()),
            Ok(_) => files.push(path.clone()),
            Err(_) => {} // already gone
        }
    }
    for file in &files {
        if forbidden(root, file).is_none() {
            let _ = std::fs::remove_file(file);
        }
    }
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    for dir in &dirs {
        remove_dir_if_done(root, dir);
    }
    paths.to_vec()
}

/// Removes `dir` if, once Apiary's hidden work directories in it are gone, it is empty.
fn remove_dir_if_done(root: &Path, dir: &Path) {
    if forbidden(root, dir).is_some() {
        return;
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if is_dir && is_apiary_work_dir(&name) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    // Fails, and keeps the directory, when anything else is still in it.
    let _ = std::fs::remove_dir(dir);
}

/// Removes a write's staging directory (recursively: everything in it is the write's own),
/// if `staging` really is one: a directory named `.apiary-staging-<txn>` inside the write's
/// table directory `location`.
pub(crate) fn remove_staging(root: &Path, location: &Path, staging: &Path) {
    let named_so = staging
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with(STAGING_PREFIX));
    if !named_so || staging.parent() != Some(location) || forbidden(root, staging).is_some() {
        return;
    }
    match std::fs::symlink_metadata(staging) {
        Ok(m) if m.is_dir() => {
            let _ = std::fs::remove_dir_all(staging);
        }
        Ok(_) => {
            let _ = std::fs::remove_file(staging);
        }
        Err(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = std::fs::write(path, b"x");
    }

    #[test]
    fn only_listed_files_and_emptied_directories_go() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
        let base = resolve(dir.path()).unwrap_or_else(|e| unreachable!("{e}"));
        let root = base.join("wh");
        let table = root.join("t");
        let part = table.join("p=1");
        touch(&part.join("part-a-0.parquet"));
        touch(&part.join(".apiary-trash/part-old-0.parquet"));
        touch(&table.join(".apiary-staging-9/p0=x/part-9-0.parquet"));
        touch(&root.join(".apiary/metastore.db"));
        // A user's own table directory with a file Apiary never wrote.
        let mine = base.join("mine");
        touch(&mine.join("part-b-0.parquet"));
        touch(&mine.join("notes.txt"));

        let done = remove_doomed(
            &root,
            &[
                part.join("part-a-0.parquet"),
                part.clone(),
                table.clone(),
                mine.join("part-b-0.parquet"),
                mine.clone(),
                // Never: the warehouse, its parent, the metastore.
                root.clone(),
                base.clone(),
                root.join(".apiary/metastore.db"),
            ],
        );
        assert_eq!(done.len(), 8);
        assert!(!table.exists(), "the emptied table directory goes");
        assert!(!mine.join("part-b-0.parquet").exists());
        assert!(
            mine.join("notes.txt").exists(),
            "a file Apiary did not list stays"
        );
        assert!(root.join(".apiary/metastore.db").exists());
        assert!(root.exists() && base.exists());

        // A staging directory is removed whole, but only a real one inside its table.
        let t2 = root.join("t2");
        touch(&t2.join(".apiary-staging-1/a/b.parquet"));
        remove_staging(&root, &t2, &t2.join("data"));
        remove_staging(&root, &t2, &root.join(".apiary-staging-1"));
        assert!(t2.join(".apiary-staging-1").exists());
        remove_staging(&root, &t2, &t2.join(".apiary-staging-1"));
        assert!(!t2.join(".apiary-staging-1").exists());
    }
}
