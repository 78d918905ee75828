//! File access confinement: which local paths a session's statements may read and write.
//!
//! The anchor is DuckDB's `enable_external_access` / `allowed_directories`. A session is either
//! *unrestricted* (the CLI: its user's own files) or *confined* to the warehouse and the
//! directories `--allow-path` names (`apiary serve` always; the CLI with `--allow-path` or after
//! `SET apiary.external_access=false`, which cannot be undone within the session).
//!
//! Paths are resolved before they are checked: made absolute against the working directory,
//! every symbolic link of the part that exists followed, and `..` applied to what it really
//! names. Whatever the mode, a path given by a statement may never reach the warehouse's
//! private files (`<warehouse>/.apiary`: the metastore, locks and models) or any hidden
//! directory inside the warehouse (staging and trash directories).

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{ApiaryError, Result};

/// The warehouse directory that holds the metastore, the table locks and the models.
pub const PRIVATE_DIR: &str = ".apiary";

/// How many symbolic links one resolution follows before it gives up (Linux's own limit).
const MAX_SYMLINK_HOPS: usize = 40;

/// The setting a refusal names, so the user knows what opens (or closed) the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confinement {
    /// `apiary serve`: clients touch only the warehouse and `--allow-path` directories.
    Server,
    /// The CLI started with `--allow-path`, or `SET apiary.external_access=false` ran.
    Cli,
}

/// What a session may touch on the local file system. Shared (behind an [`Arc`]) by the
/// session's statement checks and its object store, so that `SET apiary.external_access=false`
/// closes both at once.
#[derive(Debug)]
pub struct FileAccess {
    /// The warehouse root, resolved.
    warehouse: PathBuf,
    /// Directories allowed beside the warehouse, resolved.
    allowed: Vec<PathBuf>,
    /// Whether paths outside the warehouse and `allowed` are refused.
    confined: AtomicBool,
    /// Who confined it.
    origin: Confinement,
}

impl FileAccess {
    /// Full access (the CLI's default); `allowed` is kept for a later
    /// `SET apiary.external_access=false`.
    pub fn unrestricted(warehouse: &Path, allowed: &[PathBuf]) -> Result<Arc<Self>> {
        Self::build(warehouse, allowed, false, Confinement::Cli)
    }

    /// Only the warehouse and `allowed` (each must exist).
    pub fn confined(
        warehouse: &Path,
        allowed: &[PathBuf],
        origin: Confinement,
    ) -> Result<Arc<Self>> {
        Self::build(warehouse, allowed, true, origin)
    }

    fn build(
        warehouse: &Path,
        allowed: &[PathBuf],
        confined: bool,
        origin: Confinement,
    ) -> Result<Arc<Self>> {
        let warehouse = resolve(warehouse).map_err(|source| ApiaryError::Io {
            path: warehouse.to_path_buf(),
            source,
        })?;
        let mut dirs = Vec::with_capacity(allowed.len());
        for dir in allowed {
            let resolved = std::fs::canonicalize(dir).map_err(|source| ApiaryError::Io {
                path: dir.clone(),
                source,
            })?;
            if !resolved.is_dir() {
                return Err(ApiaryError::Usage(format!(
                    "--allow-path {}: not a directory",
                    dir.display()
                )));
            }
            dirs.push(resolved);
        }
        Ok(Arc::new(Self {
            warehouse,
            allowed: dirs,
            confined: AtomicBool::new(confined),
            origin,
        }))
    }

    /// A fresh copy for a new session (its own `SET apiary.external_access`).
    pub fn for_new_session(&self) -> Arc<Self> {
        Arc::new(Self {
            warehouse: self.warehouse.clone(),
            allowed: self.allowed.clone(),
            confined: AtomicBool::new(self.is_confined()),
            origin: self.origin,
        })
    }

    /// Whether paths outside the warehouse and the allowed directories are refused.
    pub fn is_confined(&self) -> bool {
        self.confined.load(Ordering::SeqCst)
    }

    /// `SET apiary.external_access=false`: from now on, confined. There is no way back.
    pub fn confine(&self) {
        self.confined.store(true, Ordering::SeqCst);
    }

    /// The warehouse root, resolved.
    pub fn warehouse(&self) -> &Path {
        &self.warehouse
    }

    /// Checks a path a statement names (`what` says which: `COPY TO`, `LOCATION`, ...):
    /// returns it resolved, or an error naming the path and the setting that refuses it.
    pub fn check(&self, path: &Path, what: &str) -> Result<PathBuf> {
        let resolved = resolve(path).map_err(|source| {
            ApiaryError::Usage(format!(
                "{what} '{}': cannot resolve the path: {source}",
                path.display()
            ))
        })?;
        if let Some(part) = self.private_part(&resolved) {
            return Err(ApiaryError::Usage(format!(
                "{what} '{}': inside the warehouse's private files ({part}); statements may \
                 not read or write there",
                path.display()
            )));
        }
        if self.is_confined() && !self.allows(&resolved) {
            return Err(self.refusal(&format!("{what} '{}'", path.display())));
        }
        Ok(resolved)
    }

    /// Whether a resolved path lies in the warehouse or an allowed directory.
    fn allows(&self, resolved: &Path) -> bool {
        resolved.starts_with(&self.warehouse)
            || self.allowed.iter().any(|d| resolved.starts_with(d))
    }

    /// The first hidden component of a resolved path inside the warehouse (`.apiary`, a
    /// staging or trash directory), if any.
    fn private_part(&self, resolved: &Path) -> Option<String> {
        let inside = resolved.strip_prefix(&self.warehouse).ok()?;
        inside.components().find_map(|c| match c {
            Component::Normal(name) if name.to_string_lossy().starts_with('.') => {
                Some(name.to_string_lossy().into_owned())
            }
            _ => None,
        })
    }

    /// Whether the object store may serve a read or write of `path` (an absolute local path
    /// from DataFusion): the last line of defence behind the statement checks. The warehouse's
    /// staging and trash directories are the engine's own and stay reachable; its private
    /// `.apiary` directory does not.
    pub fn store_allows(&self, path: &Path) -> bool {
        let Ok(resolved) = resolve(path) else {
            return false;
        };
        if resolved.starts_with(self.warehouse.join(PRIVATE_DIR)) {
            return false;
        }
        !self.is_confined() || self.allows(&resolved)
    }

    /// The error for a path outside the sandbox, naming the settings.
    pub fn refusal(&self, what: &str) -> ApiaryError {
        let how = match self.origin {
            Confinement::Server => {
                "this server lets clients touch only the warehouse and the directories given \
                 with --allow-path DIR"
            }
            Confinement::Cli => {
                "external file access is off (--allow-path, or SET apiary.external_access=false): \
                 only the warehouse and the --allow-path directories are allowed"
            }
        };
        ApiaryError::Usage(format!("{what}: outside the allowed directories; {how}"))
    }
}

/// `path` made absolute (against the working directory), with every symbolic link in the part
/// that exists followed and each `..` applied to what it really names. The part that does not
/// exist yet (a file a statement will create) is taken as written.
pub fn resolve(path: &Path) -> std::io::Result<PathBuf> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    // Components still to apply, the next one last (a followed link pushes its target's).
    let mut stack: Vec<std::ffi::OsString> = components_reversed(&absolute);
    let mut out = PathBuf::from("/");
    let mut hops = 0;
    let mut exists = true;
    while let Some(part) = stack.pop() {
        match Path::new(&part).components().next() {
            Some(Component::RootDir) => out = PathBuf::from("/"),
            Some(Component::Prefix(p)) => out = PathBuf::from(p.as_os_str()),
            Some(Component::CurDir) | None => {}
            Some(Component::ParentDir) => {
                out.pop();
            }
            Some(Component::Normal(name)) => {
                out.push(name);
                if !exists {
                    continue;
                }
                match std::fs::symlink_metadata(&out) {
                    Ok(m) if m.file_type().is_symlink() => {
                        hops += 1;
                        if hops > MAX_SYMLINK_HOPS {
                            return Err(std::io::Error::other("too many levels of symbolic links"));
                        }
                        let target = std::fs::read_link(&out)?;
                        out.pop();
                        stack.extend(components_reversed(&target));
                    }
                    Ok(_) => {}
                    Err(_) => exists = false,
                }
            }
        }
    }
    Ok(out)
}

fn components_reversed(path: &Path) -> Vec<std::ffi::OsString> {
    path.components()
        .rev()
        .map(|c| c.as_os_str().to_os_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_dots_and_links() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| ApiaryError::Usage(e.to_string()))?;
        let root =
            std::fs::canonicalize(dir.path()).map_err(|e| ApiaryError::Usage(e.to_string()))?;
        let wh = root.join("wh");
        let outside = root.join("outside");
        std::fs::create_dir_all(wh.join("t")).map_err(|e| ApiaryError::Usage(e.to_string()))?;
        std::fs::create_dir_all(&outside).map_err(|e| ApiaryError::Usage(e.to_string()))?;
        #[cfg(unix)]
        std::os::unix::fs::symlink(&outside, wh.join("link"))
            .map_err(|e| ApiaryError::Usage(e.to_string()))?;
        #[cfg(unix)]
        std::os::unix::fs::symlink("../outside/new", wh.join("relative"))
            .map_err(|e| ApiaryError::Usage(e.to_string()))?;
        let r = |p: &Path| resolve(p).unwrap_or_default();
        assert_eq!(r(&wh.join("t/../t/x.csv")), wh.join("t/x.csv"));
        assert_eq!(r(&wh.join("nope/../../outside")), outside);
        #[cfg(unix)]
        {
            assert_eq!(r(&wh.join("link/f.csv")), outside.join("f.csv"));
            assert_eq!(r(&wh.join("link/../wh/t")), wh.join("t"));
            // A dangling link is followed to where a write would land.
            assert_eq!(r(&wh.join("relative")), outside.join("new"));
        }

        let access = FileAccess::confined(&wh, &[], Confinement::Server)?;
        assert!(access.check(&wh.join("t/x.csv"), "COPY TO").is_ok());
        for bad in [
            outside.join("x.csv"),
            wh.join("../outside/x.csv"),
            wh.join("t/../../outside"),
            PathBuf::from("/etc/passwd"),
        ] {
            let err = access
                .check(&bad, "COPY TO")
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.to_string().contains("--allow-path"), "{bad:?}: {err}");
        }
        #[cfg(unix)]
        assert!(access.check(&wh.join("link/x.csv"), "COPY TO").is_err());
        let err = access
            .check(&wh.join(".apiary/metastore.db"), "COPY TO")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.to_string().contains("private"), "{err}");
        assert!(
            access
                .check(&wh.join("t/.apiary-trash/x"), "LOCATION")
                .is_err()
        );

        let open = FileAccess::unrestricted(&wh, std::slice::from_ref(&outside))?;
        assert!(open.check(&root.join("elsewhere/x.csv"), "COPY TO").is_ok());
        assert!(open.check(&wh.join(".apiary"), "LOCATION").is_err());
        open.confine();
        assert!(
            open.check(&root.join("elsewhere/x.csv"), "COPY TO")
                .is_err()
        );
        assert!(open.check(&outside.join("x.csv"), "COPY TO").is_ok());
        assert!(!open.store_allows(&wh.join(".apiary/metastore.db")));
        assert!(open.store_allows(&wh.join("t/.apiary-staging-1/part-0.parquet")));
        assert!(!open.store_allows(Path::new("/etc/passwd")));
        Ok(())
    }
}
