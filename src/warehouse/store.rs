//! The local object store the warehouse's sessions read through: DataFusion's own
//! `LocalFileSystem`, plus one rule. A data file that a committed INSERT OVERWRITE or TRUNCATE
//! replaced after a query planned its scan has moved to its directory's hidden trash
//! ([`super::layout::trash_path`]), where it stays for [`super::TRASH_GRACE`]; a read that
//! finds the file gone looks there. So a reader sees the table as it was when it planned, and
//! other engines reading the directories see only the new files.

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
use futures::stream::BoxStream;

use super::layout::TRASH_DIR;

/// A local file system whose reads fall back to the trash of a replaced file.
#[derive(Debug)]
pub struct WarehouseStore {
    inner: Arc<dyn ObjectStore>,
}

impl WarehouseStore {
    /// Wraps `inner` (the local file system).
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        Self { inner }
    }
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
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
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
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
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
