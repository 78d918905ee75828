//! The local object store the warehouse's sessions read through: DataFusion's own
//! `LocalFileSystem`, plus one rule. A data file that a committed INSERT OVERWRITE or TRUNCATE
//! replaced after a query planned its scan has moved to its directory's hidden trash
//! ([`super::layout::trash_path`]), where it stays for [`super::TRASH_GRACE`]; a read that
//! finds the file gone looks there. So a reader sees the table as it was when it planned, and
//! other engines reading the directories see only the new files.
//!
//! It is also the last line of file-access defence: every read, write, listing, copy and
//! rename of a path the session's [`FileAccess`] does not allow fails with PermissionDenied,
//! whatever statement (or future feature) asked for it.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use datafusion::object_store::path::{Path, PathPart};
use datafusion::object_store::{
    CopyOptions, Error, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta,
    ObjectStore, PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, Result,
};
use futures::StreamExt;
use futures::stream::BoxStream;

use super::layout::TRASH_DIR;
use crate::security::FileAccess;

/// A local file system whose reads fall back to the trash of a replaced file, and which
/// serves only the paths its session may touch.
#[derive(Debug)]
pub struct WarehouseStore {
    inner: Arc<dyn ObjectStore>,
    access: Arc<FileAccess>,
}

impl WarehouseStore {
    /// Wraps `inner` (the local file system) for a session with `access`.
    pub fn new(inner: Arc<dyn ObjectStore>, access: Arc<FileAccess>) -> Self {
        Self { inner, access }
    }

    /// `Ok` when the session may touch `location` (or everything, for `None`).
    fn allow(&self, location: Option<&Path>) -> Result<()> {
        let local = local_path(location);
        if self.access.store_allows(&local) {
            return Ok(());
        }
        Err(Error::PermissionDenied {
            path: local.display().to_string(),
            source: self
                .access
                .refusal(&format!("'{}'", local.display()))
                .to_string()
                .into(),
        })
    }
}

/// The local file an object-store path names (`a/b%20c` is `/a/b c`).
fn local_path(location: Option<&Path>) -> std::path::PathBuf {
    let mut out = std::path::PathBuf::from("/");
    if let Some(location) = location {
        for part in location.parts() {
            out.push(percent_decode(part.as_ref()));
        }
    }
    out
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (
                (bytes[i + 1] as char).to_digit(16),
                (bytes[i + 2] as char).to_digit(16),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A listing that fails at once.
fn refused_stream<T: Send + 'static>(e: Error) -> BoxStream<'static, Result<T>> {
    Box::pin(futures::stream::once(async move { Err(e) }))
}

impl fmt::Display for WarehouseStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WarehouseStore({})", self.inner)
    }
}

/// `<dir>/.apiary-trash/<name>` for `<dir>/<name>`.
fn in_trash(location: &Path) -> Option<Path> {
    let parts: Vec<PathPart<'_>> = location.parts().collect();
    let (name, dir) = parts.split_last()?;
    Some(Path::from_iter(
        dir.iter()
            .cloned()
            .chain([PathPart::from(TRASH_DIR), name.clone()]),
    ))
}

fn not_found(result: &Result<impl Sized>) -> bool {
    matches!(result, Err(Error::NotFound { .. }))
}

#[async_trait]
impl ObjectStore for WarehouseStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.allow(Some(location))?;
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.allow(Some(location))?;
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.allow(Some(location))?;
        let result = self.inner.get_opts(location, options.clone()).await;
        if not_found(&result)
            && let Some(trashed) = in_trash(location)
        {
            let mut moved = self.inner.get_opts(&trashed, options).await;
            if let Ok(found) = &mut moved {
                // Readers expect the location they asked for.
                found.meta.location = location.clone();
            }
            if moved.is_ok() {
                return moved;
            }
        }
        result
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        self.allow(Some(location))?;
        let result = self.inner.get_ranges(location, ranges).await;
        if not_found(&result)
            && let Some(trashed) = in_trash(location)
        {
            let moved = self.inner.get_ranges(&trashed, ranges).await;
            if moved.is_ok() {
                return moved;
            }
        }
        result
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        let access = Arc::clone(&self.access);
        let checked = locations.map(move |location| {
            let location = location?;
            let local = local_path(Some(&location));
            if access.store_allows(&local) {
                Ok(location)
            } else {
                Err(Error::PermissionDenied {
                    path: local.display().to_string(),
                    source: access
                        .refusal(&format!("'{}'", local.display()))
                        .to_string()
                        .into(),
                })
            }
        });
        self.inner.delete_stream(Box::pin(checked))
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        if let Err(e) = self.allow(prefix) {
            return refused_stream(e);
        }
        self.inner.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        if let Err(e) = self.allow(prefix) {
            return refused_stream(e);
        }
        self.inner.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.allow(prefix)?;
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.allow(Some(from))?;
        self.allow(Some(to))?;
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        self.allow(Some(from))?;
        self.allow(Some(to))?;
        self.inner.rename_opts(from, to, options).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trash_location_is_beside_the_file() {
        let p = Path::from("wh/t/p=1/part-0.parquet");
        assert_eq!(
            in_trash(&p).map(|t| t.to_string()),
            Some("wh/t/p=1/.apiary-trash/part-0.parquet".to_string())
        );
    }
}
