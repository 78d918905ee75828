//! Files queried directly, without a `CREATE TABLE`: `SELECT * FROM 'data/x.parquet'`
//! (DataFusion's and DuckDB's form, the format by extension: `.parquet`, `.csv`, `.tsv`,
//! `.json` / `.ndjson` / `.jsonl`), the table functions `read_parquet('glob')`,
//! `read_csv('glob' [, header => true, delimiter => '|', ...])` and `read_json('glob')`, and
//! Spark's ``parquet.`path` ``, ``csv.`path` `` and ``json.`path` ``.
//!
//! Each form is rewritten, when the statement is parsed, into a reference to the table
//! `__apiary_files.files."<spec>"`, the spec (format, path, options) written as JSON, aliased
//! by the file's stem. The [`FileCatalog`] answers such a reference with DataFusion's own
//! [`ListingTable`] over the path (globs included), its schema inferred when the statement
//! is planned. Before it lists anything, the path is checked against the session's
//! [`FileAccess`] (`--allow-path`, `SET apiary.external_access=false`), as the paths of
//! every other statement are; the session's object store checks each file again.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::{Arc, Weak};

use async_trait::async_trait;
use datafusion::catalog::{CatalogProvider, SchemaProvider, TableProvider};
use datafusion::common::{DataFusionError, Result};
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::SessionState;
use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, Ident, ObjectName, ObjectNamePart,
    TableAlias, TableFactor, Value, VisitMut, VisitorMut,
};
use parking_lot::RwLock;

use crate::security::FileAccess;
use crate::security::guard::local_path;

/// The catalog that answers direct file references.
pub const CATALOG: &str = "__apiary_files";
/// Its one schema.
const SCHEMA: &str = "files";

/// A file format a path can be read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Parquet,
    Csv,
    Json,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "parquet" => Some(Format::Parquet),
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    /// The options each format's table function takes.
    fn options(self) -> &'static [&'static str] {
        match self {
            Format::Parquet | Format::Json => &[],
            Format::Csv => &["header", "delimiter", "quote", "escape", "comment"],
        }
    }
}

/// A direct file reference: what to read and how.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileSpec {
    format: Format,
    path: String,
    /// Options by name (lower case): `header`, `delimiter`, ...
    options: BTreeMap<String, String>,
}

impl FileSpec {
    /// The spec as the table name of its rewritten reference.
    fn encode(&self) -> String {
        serde_json::json!({
            "format": self.format.name(),
            "path": self.path,
            "options": self.options,
        })
        .to_string()
    }

    fn decode(name: &str) -> Option<Self> {
        let value: serde_json::Value = serde_json::from_str(name).ok()?;
        let format = Format::from_name(value.get("format")?.as_str()?)?;
        let path = value.get("path")?.as_str()?.to_string();
        let options = value
            .get("options")?
            .as_object()?
            .iter()
            .map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect::<Option<BTreeMap<_, _>>>()?;
        Some(Self {
            format,
            path,
            options,
        })
    }

    /// A file named by its extension (`'data/x.parquet'`); `None` for other names.
    fn by_extension(path: &str) -> Option<Self> {
        let (format, delimiter) = format_of_extension(path)?;
        let mut options = BTreeMap::new();
        if let Some(d) = delimiter {
            options.insert("delimiter".to_string(), d.to_string());
        }
        Some(Self {
            format,
            path: path.to_string(),
            options,
        })
    }
}

/// The format (and CSV delimiter) a file's extension names.
fn format_of_extension(path: &str) -> Option<(Format, Option<char>)> {
    let lower = path.to_ascii_lowercase();
    let extension = lower.rsplit_once('.')?.1;
    match extension {
        "parquet" => Some((Format::Parquet, None)),
        "csv" => Some((Format::Csv, None)),
        "tsv" => Some((Format::Csv, Some('\t'))),
        "json" | "ndjson" | "jsonl" => Some((Format::Json, None)),
        _ => None,
    }
}

/// Rewrites the direct file references of a statement (or query) into references to the
/// [`FileCatalog`].
pub fn rewrite_file_tables<T: VisitMut>(node: &mut T) -> Result<()> {
    match node.visit(&mut FileReferences) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

struct FileReferences;

impl VisitorMut for FileReferences {
    type Break = DataFusionError;

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<Self::Break> {
        let TableFactor::Table {
            name, alias, args, ..
        } = factor
        else {
            return ControlFlow::Continue(());
        };
        let spec = match file_spec(name, args.as_ref().map(|a| a.args.as_slice())) {
            Ok(Some(spec)) => spec,
            Ok(None) => return ControlFlow::Continue(()),
            Err(e) => return ControlFlow::Break(e),
        };
        if alias.is_none() {
            *alias = Some(TableAlias {
                explicit: true,
                name: Ident::with_quote('"', stem(&spec.path)),
                columns: vec![],
                at: None,
            });
        }
        *name = ObjectName::from(vec![
            Ident::with_quote('"', CATALOG),
            Ident::with_quote('"', SCHEMA),
            Ident::with_quote('"', spec.encode()),
        ]);
        *args = None;
        ControlFlow::Continue(())
    }
}

/// The file a table factor names, if it names one.
fn file_spec(name: &ObjectName, args: Option<&[FunctionArg]>) -> Result<Option<FileSpec>> {
    let parts: Vec<&Ident> = name.0.iter().filter_map(ObjectNamePart::as_ident).collect();
    if parts.len() != name.0.len() {
        return Ok(None);
    }
    match (parts.as_slice(), args) {
        // 'data/x.parquet'
        ([path], None) if path.quote_style == Some('\'') => {
            match FileSpec::by_extension(&path.value) {
                Some(spec) => Ok(Some(spec)),
                None => Err(DataFusionError::Plan(format!(
                    "'{}': cannot tell the file format from the name; name a .parquet, .csv, \
                     .tsv or .json file, or use read_parquet, read_csv or read_json",
                    path.value
                ))),
            }
        }
        // parquet.`data/x.parquet` (Spark): a quoted path, never a table name.
        ([format, path], None)
            if format.quote_style.is_none()
                && path.quote_style == Some('`')
                && path.value.contains(['/', '.']) =>
        {
            Ok(Format::from_name(&format.value).map(|format| FileSpec {
                format,
                path: path.value.clone(),
                options: BTreeMap::new(),
            }))
        }
        // read_parquet('glob'), read_csv('glob', header => true), read_json('glob')
        ([function], Some(args)) if function.quote_style.is_none() => {
            let lower = function.value.to_ascii_lowercase();
            let Some(format) = lower.strip_prefix("read_").and_then(Format::from_name) else {
                return Ok(None);
            };
            table_function_spec(&lower, format, args).map(Some)
        }
        _ => Ok(None),
    }
}

/// The spec of a `read_<format>(path [, name => value ...])` call.
fn table_function_spec(function: &str, format: Format, args: &[FunctionArg]) -> Result<FileSpec> {
    let usage = || {
        let options = format.options();
        if options.is_empty() {
            format!("{function}('path or glob')")
        } else {
            format!(
                "{function}('path or glob' [, option => value ...]) with options {}",
                options.join(", ")
            )
        }
    };
    let mut args = args.iter();
    let path = match args.next() {
        Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(e))) => string_value(e),
        _ => None,
    }
    .ok_or_else(|| {
        DataFusionError::Plan(format!(
            "{function}: the first argument is the path, a string literal: {}",
            usage()
        ))
    })?;
    let mut options = BTreeMap::new();
    for arg in args {
        let (name, value) = named_argument(arg).ok_or_else(|| {
            DataFusionError::Plan(format!(
                "{function}: expected option => value after the path, got {arg}: {}",
                usage()
            ))
        })?;
        let name = match name.as_str() {
            "delim" | "sep" => "delimiter".to_string(),
            _ => name,
        };
        if !format.options().contains(&name.as_str()) {
            return Err(DataFusionError::Plan(format!(
                "{function}: unknown option '{name}': {}",
                usage()
            )));
        }
        options.insert(name, value);
    }
    Ok(FileSpec {
        format,
        path,
        options,
    })
}

/// `name => value`, `name = value` or `name := value`, the value a literal.
fn named_argument(arg: &FunctionArg) -> Option<(String, String)> {
    let (name, value) = match arg {
        FunctionArg::Named {
            name,
            arg: FunctionArgExpr::Expr(e),
            ..
        } => (name.value.clone(), e),
        FunctionArg::ExprNamed {
            name: Expr::Identifier(name),
            arg: FunctionArgExpr::Expr(e),
            ..
        } => (name.value.clone(), e),
        FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        })) => match left.as_ref() {
            Expr::Identifier(name) => (name.value.clone(), right.as_ref()),
            _ => return None,
        },
        _ => return None,
    };
    let value = match value {
        Expr::Value(v) => match &v.value {
            Value::Boolean(b) => b.to_string(),
            Value::Number(n, _) => n.clone(),
            _ => string_value(value)?,
        },
        Expr::Identifier(i) => i.value.clone(),
        _ => return None,
    };
    Some((name.to_ascii_lowercase(), value))
}

fn string_value(e: &Expr) -> Option<String> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// The name a file's rows are qualified by: its file name without the extension.
fn stem(path: &str) -> String {
    let name = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path);
    let stem = name.split('.').next().unwrap_or(name);
    if stem.is_empty() {
        name.to_string()
    } else {
        stem.to_string()
    }
}

/// The catalog of direct file references (registered as [`CATALOG`] in every session).
#[derive(Debug)]
pub struct FileCatalog {
    schema: Arc<FileSchema>,
}

impl FileCatalog {
    /// A catalog that reads with `state`'s object stores and checks paths with `access`.
    pub fn new(state: Weak<RwLock<SessionState>>, access: Arc<FileAccess>) -> Self {
        Self {
            schema: Arc::new(FileSchema { state, access }),
        }
    }
}

impl CatalogProvider for FileCatalog {
    fn schema_names(&self) -> Vec<String> {
        vec![SCHEMA.to_string()]
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        (name == SCHEMA).then(|| Arc::clone(&self.schema) as _)
    }
}

/// The schema whose "tables" are file specs.
#[derive(Debug)]
struct FileSchema {
    state: Weak<RwLock<SessionState>>,
    access: Arc<FileAccess>,
}

#[async_trait]
impl SchemaProvider for FileSchema {
    fn table_names(&self) -> Vec<String> {
        vec![]
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        let Some(spec) = FileSpec::decode(name) else {
            return Ok(None);
        };
        let state = self
            .state
            .upgrade()
            .ok_or_else(|| DataFusionError::Plan("the session has closed".into()))?
            .read()
            .clone();
        self.check_access(&spec)?;
        listing_table(&state, &spec).await.map(Some)
    }

    fn table_exist(&self, name: &str) -> bool {
        FileSpec::decode(name).is_some()
    }
}

impl FileSchema {
    /// The path's confinement check, as for a LOCATION (a table's files may be read).
    fn check_access(&self, spec: &FileSpec) -> Result<()> {
        let what = format!("{} file", spec.format.name());
        match local_path(&spec.path) {
            Some(local) => {
                self.access
                    .check(&local, &what)
                    .map_err(|e| DataFusionError::Plan(e.to_string()))?;
            }
            None if self.access.is_confined() => {
                return Err(DataFusionError::Plan(
                    self.access
                        .refusal(&format!("{what} '{}'", spec.path))
                        .to_string(),
                ));
            }
            None => {}
        }
        Ok(())
    }
}

/// DataFusion's listing table over `spec`'s path, its schema inferred from the files.
async fn listing_table(state: &SessionState, spec: &FileSpec) -> Result<Arc<dyn TableProvider>> {
    let url = ListingTableUrl::parse(&spec.path)?;
    let format = file_format(spec)?;
    // A glob chooses its own files; a file or directory is read whatever its extension.
    let options = ListingOptions::new(format).with_file_extension("");
    let schema = options.infer_schema(state, &url).await.map_err(|e| {
        let reason = match e {
            DataFusionError::Plan(m) => m,
            e => e.to_string(),
        };
        DataFusionError::Plan(format!(
            "cannot read {} file '{}': {reason}",
            spec.format.name(),
            spec.path
        ))
    })?;
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .with_schema(schema);
    Ok(Arc::new(ListingTable::try_new(config)?))
}

/// The file format of `spec`, its options applied.
fn file_format(spec: &FileSpec) -> Result<Arc<dyn FileFormat>> {
    Ok(match spec.format {
        Format::Parquet => Arc::new(ParquetFormat::default()),
        Format::Json => Arc::new(JsonFormat::default()),
        Format::Csv => {
            let mut csv = CsvFormat::default().with_has_header(true);
            for (name, value) in &spec.options {
                csv = match name.as_str() {
                    "header" => csv.with_has_header(parse_bool(name, value)?),
                    "delimiter" => csv.with_delimiter(one_byte(name, value)?),
                    "quote" => csv.with_quote(one_byte(name, value)?),
                    "escape" => csv.with_escape(Some(one_byte(name, value)?)),
                    "comment" => csv.with_comment(Some(one_byte(name, value)?)),
                    _ => {
                        return Err(DataFusionError::Plan(format!(
                            "read_csv: unknown option '{name}'"
                        )));
                    }
                };
            }
            Arc::new(csv)
        }
    })
}

fn parse_bool(name: &str, value: &str) -> Result<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(DataFusionError::Plan(format!(
            "read_csv: option {name} is true or false, not '{value}'"
        ))),
    }
}

/// A one-character option (`delimiter => '|'`, `'\t'` spelled as a tab or as `\t`).
fn one_byte(name: &str, value: &str) -> Result<u8> {
    let value = if value == "\\t" { "\t" } else { value };
    match value.as_bytes() {
        [b] if b.is_ascii() => Ok(*b),
        _ => Err(DataFusionError::Plan(format!(
            "read_csv: option {name} is one ASCII character, not '{value}'"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &[Ident], args: Option<&[FunctionArg]>) -> Option<FileSpec> {
        file_spec(&ObjectName::from(name.to_vec()), args).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn quoted_paths_name_files_by_extension() {
        let tsv = spec(&[Ident::with_quote('\'', "d/x.tsv")], None)
            .unwrap_or_else(|| unreachable!("a file"));
        assert_eq!(tsv.format, Format::Csv);
        assert_eq!(tsv.options.get("delimiter").map(String::as_str), Some("\t"));
        assert_eq!(FileSpec::decode(&tsv.encode()), Some(tsv));
        assert!(spec(&[Ident::new("t")], None).is_none());
        assert!(spec(&[Ident::new("db"), Ident::new("t")], None).is_none());
        assert!(spec(&[Ident::new("csv"), Ident::with_quote('`', "t")], None).is_none());
        let spark = spec(&[Ident::new("CSV"), Ident::with_quote('`', "a/b")], None);
        assert_eq!(spark.map(|s| s.format), Some(Format::Csv));
    }

    #[test]
    fn stems_name_the_file() {
        assert_eq!(stem("sample_data/digits_test.parquet"), "digits_test");
        assert_eq!(stem("x.csv.gz"), "x");
        assert_eq!(stem("/data/"), "data");
    }
}
