//! The checks every statement passes before it runs, in one place: the local paths it names
//! (confinement, the warehouse's private files, other tables' directories), the names of the
//! objects it creates (Hive's rule), and the built-in sample tables it may not change.

use std::path::{Path, PathBuf};

use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{ObjectName, ObjectNamePart, Statement};

use super::access::FileAccess;
use super::names::{NameKind, check_name};
use crate::catalog::is_sample_table;
use crate::error::{ApiaryError, Result};
use crate::sql::hive_statements::{HiveStatement, TableName};
use crate::sql::model_statements::ModelStatement;
use crate::sql::parse::ParsedStatement;
use crate::warehouse::Warehouse;

/// What a statement is checked against.
pub struct StatementGuard<'a> {
    /// The session's file access.
    pub access: &'a FileAccess,
    /// The warehouse (for its tables' directories).
    pub warehouse: &'a Warehouse,
    /// The session's current database (for unqualified names).
    pub current_db: &'a str,
}

/// A path a statement names, and how it is used.
struct NamedPath<'a> {
    location: &'a str,
    what: &'static str,
    /// The table whose own directory the path may lie in (a partition of that table).
    owner: Option<&'a TableName>,
    /// Whether the path may lie in a managed table's directory: an external table may read
    /// one (its writes only add files the managed table never lists); a COPY, which may
    /// overwrite a file there, or a managed location, which would share it, may not.
    reads_tables: bool,
}

impl StatementGuard<'_> {
    /// Checks one parsed statement.
    pub fn check(&self, statement: &ParsedStatement) -> Result<()> {
        match statement {
            ParsedStatement::Sql(s) => self.check_datafusion(s),
            ParsedStatement::Hive(h) => self.check_hive(h),
            ParsedStatement::Model(m) => self.check_model(m),
        }
    }

    fn check_model(&self, statement: &ModelStatement) -> Result<()> {
        if let ModelStatement::Create { name, .. } = statement {
            self.check_new_name(NameKind::Model, name)?;
        }
        Ok(())
    }

    fn check_hive(&self, statement: &HiveStatement) -> Result<()> {
        let mut paths = Vec::new();
        match statement {
            HiveStatement::CreateDatabase { name, location, .. } => {
                check_name(NameKind::Database, name)?;
                if let Some(l) = location {
                    paths.push(NamedPath {
                        location: l,
                        what: "LOCATION",
                        owner: None,
                        reads_tables: false,
                    });
                }
            }
            HiveStatement::CreateTable(create) => {
                self.check_new_name(NameKind::Table, &create.name)?;
                self.not_sample(&create.name, "CREATE TABLE")?;
                for p in &create.partitioned_by {
                    check_name(NameKind::PartitionColumn, &p.name)?;
                }
                if let Some(l) = &create.location {
                    paths.push(NamedPath {
                        location: l,
                        what: "LOCATION",
                        owner: None,
                        reads_tables: create.external,
                    });
                }
            }
            HiveStatement::Insert(insert) => self.not_sample(&insert.table, "INSERT")?,
            HiveStatement::MultiInsert(inserts) => {
                for insert in inserts {
                    self.not_sample(&insert.table, "INSERT")?;
                }
            }
            HiveStatement::AddPartitions {
                table, partitions, ..
            } => {
                self.not_sample(table, "ALTER TABLE")?;
                for (_, location) in partitions {
                    if let Some(l) = location {
                        paths.push(NamedPath {
                            location: l,
                            what: "PARTITION LOCATION",
                            owner: Some(table),
                            reads_tables: false,
                        });
                    }
                }
            }
            HiveStatement::RenameTable { table, to } => {
                self.not_sample(table, "ALTER TABLE")?;
                self.not_sample(to, "ALTER TABLE ... RENAME TO")?;
                self.check_new_name(NameKind::Table, to)?;
            }
            HiveStatement::DropPartitions { table, .. }
            | HiveStatement::AddColumns { table, .. }
            | HiveStatement::SetProperties { table, .. } => {
                self.not_sample(table, "ALTER TABLE")?
            }
            HiveStatement::MsckRepair(table) => self.not_sample(table, "MSCK REPAIR TABLE")?,
            HiveStatement::Truncate { table, .. } => self.not_sample(table, "TRUNCATE")?,
            HiveStatement::DropTable { table, .. } => self.not_sample(table, "DROP TABLE")?,
            HiveStatement::CreateView(create) => {
                self.check_new_name(NameKind::View, &create.name)?;
                self.not_sample(&create.name, "CREATE VIEW")?;
            }
            HiveStatement::AlterView { view, change } => {
                self.not_sample(view, "ALTER VIEW")?;
                if let crate::sql::hive_statements::AlterView::Rename(to) = change.as_ref() {
                    self.not_sample(to, "ALTER VIEW ... RENAME TO")?;
                    self.check_new_name(NameKind::View, to)?;
                }
            }
            HiveStatement::DropView { view, .. } => self.not_sample(view, "DROP VIEW")?,
            HiveStatement::ShowViews { .. } => {}
            HiveStatement::LoadData { path, table, .. } => {
                self.not_sample(table, "LOAD DATA")?;
                paths.push(NamedPath {
                    location: path,
                    what: "LOAD DATA INPATH",
                    owner: None,
                    reads_tables: false,
                });
            }
            HiveStatement::InsertDirectory(insert) => paths.push(NamedPath {
                location: &insert.path,
                what: "INSERT OVERWRITE DIRECTORY",
                owner: None,
                reads_tables: false,
            }),
            HiveStatement::SetLocation {
                table, location, ..
            } => {
                self.not_sample(table, "ALTER TABLE")?;
                paths.push(NamedPath {
                    location,
                    what: "SET LOCATION",
                    owner: Some(table),
                    reads_tables: false,
                });
            }
            HiveStatement::ChangeColumn { table, .. }
            | HiveStatement::ReplaceColumns { table, .. }
            | HiveStatement::Analyze { table, .. } => self.not_sample(table, "ALTER TABLE")?,
            HiveStatement::DropDatabase { .. }
            | HiveStatement::ShowTblProperties { .. }
            | HiveStatement::Use(_)
            | HiveStatement::ShowDatabases(_)
            | HiveStatement::ShowTables { .. }
            | HiveStatement::ShowPartitions { .. }
            | HiveStatement::ShowCreateTable(_)
            | HiveStatement::Describe { .. } => {}
        }
        for p in paths {
            self.check_path(&p)?;
        }
        Ok(())
    }

    fn check_datafusion(&self, statement: &DFStatement) -> Result<()> {
        match statement {
            DFStatement::CopyTo(copy) => self.check_path(&NamedPath {
                location: &copy.target,
                what: "COPY TO",
                owner: None,
                reads_tables: false,
            }),
            DFStatement::CreateExternalTable(create) => {
                check_object_name(NameKind::Table, &create.name)?;
                for l in &create.locations {
                    self.check_path(&NamedPath {
                        location: l,
                        what: "LOCATION",
                        owner: None,
                        reads_tables: true,
                    })?;
                }
                Ok(())
            }
            DFStatement::Explain(explain) => self.check_datafusion(&explain.statement),
            DFStatement::Statement(s) => self.check_sql(s),
            DFStatement::Reset(_) => Ok(()),
        }
    }

    fn check_sql(&self, statement: &Statement) -> Result<()> {
        match statement {
            Statement::Explain { statement, .. } => self.check_sql(statement),
            Statement::CreateView(view) => check_object_name(NameKind::View, &view.name),
            Statement::CreateTable(table) => {
                check_object_name(NameKind::Table, &table.name)?;
                match &table.location {
                    Some(l) => self.check_path(&NamedPath {
                        location: l,
                        what: "LOCATION",
                        owner: None,
                        reads_tables: false,
                    }),
                    None => Ok(()),
                }
            }
            Statement::Directory { path, .. } => self.check_path(&NamedPath {
                location: path,
                what: "INSERT OVERWRITE DIRECTORY",
                owner: None,
                reads_tables: false,
            }),
            Statement::LoadData { inpath, .. } => self.check_path(&NamedPath {
                location: inpath,
                what: "LOAD DATA INPATH",
                owner: None,
                reads_tables: false,
            }),
            _ => Ok(()),
        }
    }

    /// A new object's name, by Hive's rule (its database part names an existing database,
    /// checked where the statement runs).
    fn check_new_name(&self, kind: NameKind, name: &TableName) -> Result<()> {
        check_name(kind, &name.name)
    }

    /// Refuses a statement that would change a built-in sample table.
    fn not_sample(&self, name: &TableName, what: &str) -> Result<()> {
        let db = name.db.as_deref().unwrap_or(self.current_db);
        if is_sample_table(db, &name.name) {
            return Err(sample_table_error(&name.name, what));
        }
        Ok(())
    }

    /// Checks a path against the session's file access, the warehouse's private files and the
    /// directories of the warehouse's managed tables (another table's files are not a place
    /// for a location or a COPY).
    fn check_path(&self, path: &NamedPath<'_>) -> Result<()> {
        let Some(local) = local_path(path.location) else {
            if self.access.is_confined() {
                return Err(self
                    .access
                    .refusal(&format!("{} '{}'", path.what, path.location)));
            }
            return Ok(());
        };
        let resolved = self.access.check(&local, path.what)?;
        if path.reads_tables {
            return Ok(());
        }
        let owner = path
            .owner
            .map(|t| (t.db.as_deref().unwrap_or(self.current_db), t.name.as_str()));
        for (db, table, location) in self.warehouse.metastore().managed_locations()? {
            if owner == Some((db.as_str(), table.as_str())) {
                continue;
            }
            let Ok(location) = super::access::resolve(&location) else {
                continue;
            };
            if resolved.starts_with(&location) {
                return Err(ApiaryError::Usage(format!(
                    "{} '{}': inside the directory of table {db}.{table}, which the warehouse \
                     manages; choose a directory of its own",
                    path.what, path.location
                )));
            }
            // Nor around one: a table or database there would adopt, and drop, its files.
            if location.starts_with(&resolved) {
                return Err(ApiaryError::Usage(format!(
                    "{} '{}': holds the directory of table {db}.{table}, which the warehouse \
                     manages; choose a directory of its own",
                    path.what, path.location
                )));
            }
        }
        Ok(())
    }
}

/// The error for a change to a built-in sample table.
pub fn sample_table_error(name: &str, what: &str) -> ApiaryError {
    ApiaryError::Usage(format!(
        "{what}: {name} is a built-in sample table, read-only and reserved; copy it first \
         (CREATE TABLE my_{name} AS SELECT * FROM {name})"
    ))
}

/// The last part of a DataFusion object name, by Hive's rule.
fn check_object_name(kind: NameKind, name: &ObjectName) -> Result<()> {
    match name.0.last() {
        Some(ObjectNamePart::Identifier(ident)) => check_name(kind, &ident.value),
        _ => Err(ApiaryError::Usage(format!("invalid name '{name}'"))),
    }
}

/// The local directory or file a location names (`file:` URLs and plain paths; a glob's
/// directory), or `None` for another scheme (`s3://...`).
pub fn local_path(location: &str) -> Option<PathBuf> {
    if location
        .get(..5)
        .is_some_and(|p| p.eq_ignore_ascii_case("file:"))
    {
        // A file URL as the object store reads it: a host (`file://localhost/...`),
        // percent-escapes (`%2e%2e`) and dot segments applied; a remote host names no local
        // path (and is refused when confined).
        let url = url::Url::parse(location).ok()?;
        let path = url.to_file_path().ok()?;
        return match path.to_str()?.find(['*', '?', '[', '{']) {
            Some(_) => local_path(path.to_str()?),
            None => Some(path),
        };
    }
    let text = location;
    if text.contains("://") {
        return None;
    }
    // A glob (`/data/*.parquet`) reads below the directory before its first wildcard.
    match text.find(['*', '?', '[', '{']) {
        Some(i) => {
            let head = &text[..i];
            let dir = head.rfind('/').map_or(".", |j| &head[..=j]);
            Some(Path::new(dir).to_path_buf())
        }
        None => Some(PathBuf::from(text)),
    }
}

#[cfg(test)]
mod tests {
    use super::local_path;
    use std::path::PathBuf;

    #[test]
    fn locations_name_local_paths() {
        assert_eq!(local_path("/a/b.csv"), Some(PathBuf::from("/a/b.csv")));
        assert_eq!(local_path("file:///a/b"), Some(PathBuf::from("/a/b")));
        assert_eq!(
            local_path("file://localhost/etc/passwd"),
            Some(PathBuf::from("/etc/passwd"))
        );
        assert_eq!(
            local_path("file:///wh/t/%2e%2e/%2e%2e/etc"),
            Some(PathBuf::from("/etc"))
        );
        assert_eq!(local_path("file://elsewhere.example/x"), None);
        assert_eq!(local_path("rel/x"), Some(PathBuf::from("rel/x")));
        assert_eq!(local_path("/data/*.parquet"), Some(PathBuf::from("/data/")));
        assert_eq!(local_path("x*.csv"), Some(PathBuf::from(".")));
        assert_eq!(local_path("s3://bucket/x"), None);
    }
}
