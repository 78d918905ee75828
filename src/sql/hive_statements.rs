//! Parser of Hive's warehouse statements: databases, `CREATE TABLE` with Hive's clauses,
//! `INSERT ... PARTITION`, multi-insert, `ALTER TABLE` partitions and columns, `MSCK`,
//! `SHOW PARTITIONS/TABLES/DATABASES/CREATE TABLE`, `DESCRIBE`, `TRUNCATE`, `DROP`.
//!
//! sqlparser's Hive dialect parses only part of these (not `MAP<..>` column types, database
//! comments, several partitions in one `ADD PARTITION`, `ADD COLUMNS`, multi-insert), so this
//! module reads them itself, using sqlparser's parser as its token cursor and for the queries
//! inside (`AS SELECT`, `INSERT ... SELECT`). Statements it does not own return `None`.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result};
use datafusion::sql::sqlparser::ast::Query;
use datafusion::sql::sqlparser::dialect::Dialect;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::{Location, Token, TokenWithSpan, Whitespace};

use super::cursor::Cursor;

/// `[db.]name`, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName {
    /// The database, when given.
    pub db: Option<String>,
    /// The table.
    pub name: String,
}

impl std::fmt::Display for TableName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.db {
            Some(db) => write!(f, "{db}.{}", self.name),
            None => write!(f, "{}", self.name),
        }
    }
}

/// A string column's declared length: Hive's `VARCHAR(n)` (longer values are cut) and
/// `CHAR(n)` (values are cut or padded with spaces to `n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharLength {
    /// `VARCHAR(n)`.
    Varchar(usize),
    /// `CHAR(n)`.
    Char(usize),
}

impl CharLength {
    /// The length a type's text declares (`varchar(10)`, `CHAR ( 3 )`), if any.
    pub fn of_type_text(text: &str) -> Option<Self> {
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        let (make, rest): (fn(usize) -> Self, &str) =
            if let Some(rest) = compact.strip_prefix("varchar(") {
                (Self::Varchar, rest)
            } else if let Some(rest) = compact.strip_prefix("char(") {
                (Self::Char, rest)
            } else {
                return None;
            };
        rest.strip_suffix(')')?.parse().ok().map(make)
    }

    /// Hive's name of the type: `varchar(n)` or `char(n)`.
    pub fn type_name(&self) -> String {
        match self {
            Self::Varchar(n) => format!("varchar({n})"),
            Self::Char(n) => format!("char({n})"),
        }
    }
}

/// A column in DDL.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDef {
    /// Lower-case name.
    pub name: String,
    /// Its type; `None` for a CTAS `PARTITIONED BY (p)` that names a query column.
    pub data_type: Option<DataType>,
    /// The length of a `VARCHAR(n)` / `CHAR(n)` column.
    pub char_length: Option<CharLength>,
    /// `COMMENT '...'`.
    pub comment: Option<String>,
}

/// `PARTITION (p='v', q)`: names with their literal values (`None`: dynamic).
pub type PartitionSpec = Vec<(String, Option<String>)>;

/// Hive's `STORED AS` formats Apiary stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredAs {
    /// PARQUET.
    Parquet,
    /// TEXTFILE.
    TextFile,
    /// JSONFILE.
    JsonFile,
}

/// `CREATE TABLE`.
#[derive(Debug, Clone)]
pub struct CreateTable {
    /// The table.
    pub name: TableName,
    /// `EXTERNAL`.
    pub external: bool,
    /// `IF NOT EXISTS`.
    pub if_not_exists: bool,
    /// Data columns.
    pub columns: Vec<ColumnDef>,
    /// `COMMENT '...'`.
    pub comment: Option<String>,
    /// `PARTITIONED BY (...)`.
    pub partitioned_by: Vec<ColumnDef>,
    /// `STORED AS`.
    pub stored_as: Option<StoredAs>,
    /// `ROW FORMAT DELIMITED FIELDS TERMINATED BY`.
    pub field_delimiter: Option<u8>,
    /// `LOCATION '...'`.
    pub location: Option<String>,
    /// `TBLPROPERTIES (...)`.
    pub properties: Vec<(String, String)>,
    /// `LIKE other`.
    pub like: Option<TableName>,
    /// `AS SELECT ...`.
    pub query: Option<Box<Query>>,
}

/// `INSERT INTO|OVERWRITE`.
#[derive(Debug, Clone)]
pub struct Insert {
    /// The table.
    pub table: TableName,
    /// `OVERWRITE`.
    pub overwrite: bool,
    /// `PARTITION (...)`.
    pub partition: Option<PartitionSpec>,
    /// `(col, ...)` after the table name.
    pub columns: Vec<String>,
    /// The rows.
    pub query: Box<Query>,
}

/// Where `ALTER TABLE ... CHANGE COLUMN` puts the column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnPosition {
    /// Where it is.
    Same,
    /// `FIRST`.
    First,
    /// `AFTER c`.
    After(String),
}

/// `INSERT OVERWRITE [LOCAL] DIRECTORY`.
#[derive(Debug, Clone)]
pub struct InsertDirectory {
    /// The directory.
    pub path: String,
    /// `LOCAL`.
    pub local: bool,
    /// `STORED AS`; text when not given.
    pub stored_as: Option<StoredAs>,
    /// `FIELDS TERMINATED BY` (Hive's default is `\u{1}`).
    pub field_delimiter: Option<u8>,
    /// `NULL DEFINED AS`.
    pub null_format: Option<String>,
    /// The rows.
    pub query: Box<Query>,
}

/// A view's query: parsed (for the checks and rewrites every query gets) and as the user
/// wrote it (what the metastore keeps and every read plans again).
#[derive(Debug, Clone)]
pub struct ViewQuery {
    /// The query.
    pub query: Box<Query>,
    /// Its text, from the statement's source ([`ViewQuery::fill_text`]).
    pub text: String,
    /// Where the query starts in the statement's source.
    pub start: Location,
}

impl ViewQuery {
    /// Takes the query's text from `source` (the text the statement's token spans point
    /// into), up to `end` (`None`: the end of `source`).
    pub fn fill_text(&mut self, source: &str, end: Option<Location>) {
        let from = offset_of(source, self.start).unwrap_or(source.len());
        let to = end
            .and_then(|e| offset_of(source, e))
            .unwrap_or(source.len())
            .max(from);
        self.text = source[from..to].trim().to_string();
    }
}

/// The byte offset of a tokenizer location (1-based line and character column) in `source`.
fn offset_of(source: &str, at: Location) -> Option<usize> {
    if at.line == 0 {
        return None;
    }
    let mut line_start = 0;
    for _ in 1..at.line {
        line_start += source[line_start..].find('\n')? + 1;
    }
    let line = &source[line_start..];
    let column = usize::try_from(at.column.saturating_sub(1)).ok()?;
    Some(
        line_start
            + line
                .char_indices()
                .nth(column)
                .map_or(line.len(), |(i, _)| i),
    )
}

/// `CREATE [OR REPLACE] VIEW`.
#[derive(Debug, Clone)]
pub struct CreateView {
    /// The view.
    pub name: TableName,
    /// `OR REPLACE`.
    pub or_replace: bool,
    /// `IF NOT EXISTS`.
    pub if_not_exists: bool,
    /// `(name [COMMENT '...'], ...)`: the view's column names.
    pub columns: Vec<(String, Option<String>)>,
    /// `COMMENT '...'`.
    pub comment: Option<String>,
    /// `TBLPROPERTIES (...)`.
    pub properties: Vec<(String, String)>,
    /// `AS SELECT ...`.
    pub query: ViewQuery,
}

/// What `ALTER VIEW` changes.
#[derive(Debug, Clone)]
pub enum AlterView {
    /// `AS SELECT ...`: a new query.
    As(ViewQuery),
    /// `RENAME TO`.
    Rename(TableName),
    /// `SET TBLPROPERTIES (...)`.
    SetProperties(Vec<(String, String)>),
}

/// A warehouse statement.
#[derive(Debug, Clone)]
pub enum HiveStatement {
    /// `CREATE DATABASE`.
    CreateDatabase {
        /// Name.
        name: String,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
        /// `COMMENT`.
        comment: Option<String>,
        /// `LOCATION`.
        location: Option<String>,
    },
    /// `DROP DATABASE`.
    DropDatabase {
        /// Name.
        name: String,
        /// `IF EXISTS`.
        if_exists: bool,
        /// `CASCADE`.
        cascade: bool,
    },
    /// `USE db`.
    Use(String),
    /// `SHOW DATABASES [LIKE 'p']`.
    ShowDatabases(Option<String>),
    /// `SHOW TABLES [IN db] [LIKE 'p']`.
    ShowTables {
        /// `IN db`.
        db: Option<String>,
        /// `LIKE 'p'`.
        pattern: Option<String>,
    },
    /// `CREATE TABLE`.
    CreateTable(Box<CreateTable>),
    /// `INSERT`.
    Insert(Box<Insert>),
    /// `FROM src INSERT ... INSERT ...`.
    MultiInsert(Vec<Insert>),
    /// `ALTER TABLE t ADD PARTITION`.
    AddPartitions {
        /// Table.
        table: TableName,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
        /// Partitions with optional `LOCATION`.
        partitions: Vec<(PartitionSpec, Option<String>)>,
    },
    /// `ALTER TABLE t DROP PARTITION`.
    DropPartitions {
        /// Table.
        table: TableName,
        /// `IF EXISTS`.
        if_exists: bool,
        /// Partitions.
        partitions: Vec<PartitionSpec>,
    },
    /// `ALTER TABLE t RENAME TO u`.
    RenameTable {
        /// Table.
        table: TableName,
        /// New name.
        to: TableName,
    },
    /// `ALTER TABLE t ADD COLUMNS (...)`.
    AddColumns {
        /// Table.
        table: TableName,
        /// Columns.
        columns: Vec<ColumnDef>,
    },
    /// `ALTER TABLE t SET TBLPROPERTIES (...)`.
    SetProperties {
        /// Table.
        table: TableName,
        /// Properties.
        properties: Vec<(String, String)>,
    },
    /// `MSCK REPAIR TABLE t`.
    MsckRepair(TableName),
    /// `SHOW PARTITIONS t [PARTITION (...)]`.
    ShowPartitions {
        /// Table.
        table: TableName,
        /// Filter.
        partition: Option<PartitionSpec>,
    },
    /// `SHOW CREATE TABLE t`.
    ShowCreateTable(TableName),
    /// `DESCRIBE [EXTENDED|FORMATTED] t`.
    Describe {
        /// Table.
        table: TableName,
        /// `FORMATTED` or `EXTENDED`.
        detailed: bool,
    },
    /// `TRUNCATE TABLE t [PARTITION (...)]`.
    Truncate {
        /// Table.
        table: TableName,
        /// Partition.
        partition: Option<PartitionSpec>,
    },
    /// `LOAD DATA [LOCAL] INPATH '...' [OVERWRITE] INTO TABLE t [PARTITION (...)]`.
    LoadData {
        /// The file or directory to load.
        path: String,
        /// `LOCAL`: copy the files (otherwise they are moved).
        local: bool,
        /// `OVERWRITE`.
        overwrite: bool,
        /// Table.
        table: TableName,
        /// `PARTITION (...)`, every value given.
        partition: Option<PartitionSpec>,
    },
    /// `INSERT OVERWRITE [LOCAL] DIRECTORY '...' [ROW FORMAT ...] [STORED AS ...] SELECT`.
    InsertDirectory(Box<InsertDirectory>),
    /// `SHOW TBLPROPERTIES t [('key')]`.
    ShowTblProperties {
        /// Table.
        table: TableName,
        /// One property.
        key: Option<String>,
    },
    /// `ANALYZE TABLE t [PARTITION (...)] COMPUTE STATISTICS [FOR COLUMNS ...] [NOSCAN]`.
    Analyze {
        /// Table.
        table: TableName,
        /// Partitions (values may be left out).
        partition: Option<PartitionSpec>,
        /// `NOSCAN`: file counts and sizes only.
        noscan: bool,
    },
    /// `ALTER TABLE t CHANGE [COLUMN] old new type [COMMENT ...] [FIRST|AFTER c]`.
    ChangeColumn {
        /// Table.
        table: TableName,
        /// The column's name now.
        old: String,
        /// Its new name, type and comment.
        column: ColumnDef,
        /// Where it moves.
        position: ColumnPosition,
    },
    /// `ALTER TABLE t REPLACE COLUMNS (...)`.
    ReplaceColumns {
        /// Table.
        table: TableName,
        /// The new data columns.
        columns: Vec<ColumnDef>,
    },
    /// `ALTER TABLE t [PARTITION (...)] SET LOCATION '...'`.
    SetLocation {
        /// Table.
        table: TableName,
        /// A partition's location instead of the table's.
        partition: Option<PartitionSpec>,
        /// The new location.
        location: String,
    },
    /// `CREATE [OR REPLACE] VIEW`.
    CreateView(Box<CreateView>),
    /// `ALTER VIEW v ...`.
    AlterView {
        /// The view.
        view: TableName,
        /// What changes.
        change: Box<AlterView>,
    },
    /// `DROP VIEW [IF EXISTS] v`.
    DropView {
        /// The view.
        view: TableName,
        /// `IF EXISTS`.
        if_exists: bool,
    },
    /// `SHOW VIEWS [IN db] [LIKE 'p']`.
    ShowViews {
        /// `IN db`.
        db: Option<String>,
        /// `LIKE 'p'`.
        pattern: Option<String>,
    },
    /// `DROP TABLE`.
    DropTable {
        /// Table.
        table: TableName,
        /// `IF EXISTS`.
        if_exists: bool,
        /// `PURGE` (accepted; dropped data never goes to a trash Apiary keeps).
        purge: bool,
    },
}

pub(crate) fn syntax(message: String) -> DataFusionError {
    DataFusionError::SQL(Box::new(ParserError::ParserError(message)), None)
}

pub(crate) fn from_parser(e: ParserError) -> DataFusionError {
    DataFusionError::SQL(Box::new(e), None)
}

fn significant(tokens: &[TokenWithSpan]) -> Vec<&Token> {
    tokens
        .iter()
        .map(|t| &t.token)
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect()
}

fn word_is(t: Option<&&Token>, word: &str) -> bool {
    matches!(t, Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word))
}

/// Whether the statement's tokens are one this module owns. `is_warehouse_table` tells
/// whether an INSERT's target lives in the warehouse (others go to DataFusion).
pub fn is_hive_statement(tokens: &[TokenWithSpan]) -> bool {
    let sig = significant(tokens);
    let w = |i: usize, s: &str| word_is(sig.get(i), s);
    if w(0, "CREATE") {
        let mut i = 1;
        // `CREATE [OR REPLACE] VIEW` is the warehouse's; Spark's `TEMPORARY VIEW` the session's.
        if w(i, "OR") && w(i + 1, "REPLACE") {
            return w(i + 2, "VIEW");
        }
        if w(i, "VIEW") {
            return true;
        }
        if w(i, "DATABASE") || w(i, "SCHEMA") {
            return true;
        }
        if w(i, "EXTERNAL") {
            i += 1;
        }
        if !w(i, "TABLE") {
            return false;
        }
        // DataFusion's own CREATE EXTERNAL TABLE (STORED AS CSV ... OPTIONS) stays DataFusion's.
        let datafusion_only = sig.windows(2).any(|p| {
            word_is(Some(&p[0]), "AS")
                && ["CSV", "JSON", "NDJSON", "ARROW", "AVRO"]
                    .iter()
                    .any(|f| word_is(Some(&p[1]), f))
        }) || sig.iter().any(|t| word_is(Some(t), "OPTIONS"))
            || sig
                .windows(2)
                .any(|p| word_is(Some(&p[0]), "WITH") && word_is(Some(&p[1]), "ORDER"));
        return !datafusion_only;
    }
    if w(0, "DROP") {
        return w(1, "DATABASE") || w(1, "SCHEMA") || w(1, "TABLE") || w(1, "VIEW");
    }
    if w(0, "SHOW") {
        return w(1, "DATABASES")
            || w(1, "VIEWS")
            || w(1, "TBLPROPERTIES")
            || w(1, "SCHEMAS")
            || w(1, "TABLES")
            || w(1, "PARTITIONS")
            || (w(1, "CREATE") && w(2, "TABLE"));
    }
    if w(0, "DESCRIBE") || w(0, "DESC") {
        return !(w(1, "FUNCTION")
            || w(1, "DATABASE")
            || w(1, "SCHEMA")
            || matches!(sig.get(1), Some(Token::LParen))
            || w(1, "SELECT")
            || w(1, "WITH"));
    }
    w(0, "USE")
        || w(0, "ALTER") && (w(1, "TABLE") || w(1, "VIEW"))
        || w(0, "LOAD") && w(1, "DATA")
        || w(0, "ANALYZE") && w(1, "TABLE")
        || w(0, "MSCK")
        || w(0, "TRUNCATE")
        || w(0, "INSERT")
        || (w(0, "FROM") && sig.iter().any(|t| word_is(Some(t), "INSERT")))
}

/// Parses one statement's tokens (after LATERAL VIEW rewriting) if this module owns it.
pub fn parse_hive_statement(
    dialect: &dyn Dialect,
    tokens: Vec<TokenWithSpan>,
) -> Result<Option<HiveStatement>> {
    if !is_hive_statement(&tokens) {
        return Ok(None);
    }
    let sig = significant(&tokens);
    if word_is(sig.first(), "FROM") {
        return parse_multi_insert(dialect, tokens).map(Some);
    }
    let mut p = Cursor {
        parser: Parser::new(dialect).with_tokens_with_locations(tokens),
    };
    let statement = parse_owned(&mut p)?;
    p.end()?;
    Ok(Some(statement))
}

fn parse_owned(p: &mut Cursor<'_>) -> Result<HiveStatement> {
    if p.eat("CREATE") {
        let or_replace = p.eat_all(&["OR", "REPLACE"]);
        if or_replace || p.peek_is("VIEW") {
            p.expect("VIEW")?;
            return parse_create_view(p, or_replace);
        }
        if p.eat("DATABASE") || p.eat("SCHEMA") {
            let if_not_exists = p.eat_all(&["IF", "NOT", "EXISTS"]);
            let name = p.ident()?;
            let mut comment = None;
            let mut location = None;
            loop {
                if p.eat("COMMENT") {
                    comment = Some(p.string()?);
                } else if p.eat("LOCATION") {
                    location = Some(p.string()?);
                } else if p.eat_all(&["WITH", "DBPROPERTIES"]) {
                    p.properties()?;
                } else {
                    break;
                }
            }
            return Ok(HiveStatement::CreateDatabase {
                name,
                if_not_exists,
                comment,
                location,
            });
        }
        let external = p.eat("EXTERNAL");
        p.expect("TABLE")?;
        return parse_create_table(p, external);
    }
    if p.eat("DROP") {
        if p.eat("DATABASE") || p.eat("SCHEMA") {
            let if_exists = p.eat_all(&["IF", "EXISTS"]);
            let name = p.ident()?;
            let cascade = p.eat("CASCADE");
            if !cascade {
                p.eat("RESTRICT");
            }
            return Ok(HiveStatement::DropDatabase {
                name,
                if_exists,
                cascade,
            });
        }
        if p.eat("VIEW") {
            let if_exists = p.eat_all(&["IF", "EXISTS"]);
            let view = p.table_name()?;
            return Ok(HiveStatement::DropView { view, if_exists });
        }
        p.expect("TABLE")?;
        let if_exists = p.eat_all(&["IF", "EXISTS"]);
        let table = p.table_name()?;
        let purge = p.eat("PURGE");
        return Ok(HiveStatement::DropTable {
            table,
            if_exists,
            purge,
        });
    }
    if p.eat("USE") {
        return Ok(HiveStatement::Use(p.ident()?));
    }
    if p.eat("SHOW") {
        if p.eat("DATABASES") || p.eat("SCHEMAS") {
            return Ok(HiveStatement::ShowDatabases(p.like_pattern()?));
        }
        if p.peek_is("TABLES") || p.peek_is("VIEWS") {
            let views = p.eat("VIEWS");
            if !views {
                p.expect("TABLES")?;
            }
            let db = if p.eat("IN") || p.eat("FROM") {
                Some(p.ident()?)
            } else {
                None
            };
            let pattern = p.like_pattern()?;
            return Ok(if views {
                HiveStatement::ShowViews { db, pattern }
            } else {
                HiveStatement::ShowTables { db, pattern }
            });
        }
        if p.eat("TBLPROPERTIES") {
            let table = p.table_name()?;
            let key = if p.parser.consume_token(&Token::LParen) {
                let key = p.string()?;
                p.expect_token(&Token::RParen)?;
                Some(key)
            } else {
                None
            };
            return Ok(HiveStatement::ShowTblProperties { table, key });
        }
        if p.eat("PARTITIONS") {
            let table = p.table_name()?;
            let partition = if p.eat("PARTITION") {
                Some(p.partition_spec(false)?)
            } else {
                None
            };
            return Ok(HiveStatement::ShowPartitions { table, partition });
        }
        p.expect("CREATE")?;
        p.expect("TABLE")?;
        return Ok(HiveStatement::ShowCreateTable(p.table_name()?));
    }
    if p.eat("DESCRIBE") || p.eat("DESC") {
        let detailed = p.eat("FORMATTED") || p.eat("EXTENDED");
        p.eat("TABLE");
        return Ok(HiveStatement::Describe {
            table: p.table_name()?,
            detailed,
        });
    }
    if p.eat("MSCK") {
        p.expect("REPAIR")?;
        p.expect("TABLE")?;
        return Ok(HiveStatement::MsckRepair(p.table_name()?));
    }
    if p.eat("TRUNCATE") {
        p.eat("TABLE");
        let table = p.table_name()?;
        let partition = if p.eat("PARTITION") {
            Some(p.partition_spec(false)?)
        } else {
            None
        };
        return Ok(HiveStatement::Truncate { table, partition });
    }
    if p.eat("ALTER") {
        if p.eat("VIEW") {
            let view = p.table_name()?;
            let change = if p.eat("AS") {
                AlterView::As(view_query(p)?)
            } else if p.eat_all(&["RENAME", "TO"]) {
                AlterView::Rename(p.table_name()?)
            } else if p.eat_all(&["SET", "TBLPROPERTIES"]) {
                AlterView::SetProperties(p.properties()?)
            } else {
                return p
                    .parser
                    .expected("AS, RENAME TO or SET TBLPROPERTIES", p.parser.peek_token())
                    .map_err(from_parser);
            };
            return Ok(HiveStatement::AlterView {
                view,
                change: Box::new(change),
            });
        }
        p.expect("TABLE")?;
        let table = p.table_name()?;
        return parse_alter(p, table);
    }
    if p.eat("LOAD") {
        p.expect("DATA")?;
        let local = p.eat("LOCAL");
        p.expect("INPATH")?;
        let path = p.string()?;
        let overwrite = p.eat("OVERWRITE");
        p.expect("INTO")?;
        p.expect("TABLE")?;
        let table = p.table_name()?;
        let partition = if p.eat("PARTITION") {
            Some(p.partition_spec(false)?)
        } else {
            None
        };
        return Ok(HiveStatement::LoadData {
            path,
            local,
            overwrite,
            table,
            partition,
        });
    }
    if p.eat("ANALYZE") {
        p.expect("TABLE")?;
        let table = p.table_name()?;
        let partition = if p.eat("PARTITION") {
            Some(p.partition_spec(true)?)
        } else {
            None
        };
        p.expect("COMPUTE")?;
        p.expect("STATISTICS")?;
        if p.eat_all(&["FOR", "COLUMNS"]) {
            // The columns named (all when none): statistics are kept per table.
            while !matches!(p.parser.peek_token().token, Token::EOF | Token::SemiColon)
                && !p.peek_is("NOSCAN")
            {
                p.parser.next_token();
            }
        }
        let noscan = p.eat("NOSCAN");
        return Ok(HiveStatement::Analyze {
            table,
            partition,
            noscan,
        });
    }
    if p.peek_is("INSERT") && p.peek_nth_is(1, "OVERWRITE") {
        let directory = p.peek_nth_is(2, "DIRECTORY")
            || (p.peek_nth_is(2, "LOCAL") && p.peek_nth_is(3, "DIRECTORY"));
        if directory {
            return parse_insert_directory(p);
        }
    }
    if p.peek_is("INSERT") {
        return Ok(HiveStatement::Insert(Box::new(parse_insert(p)?)));
    }
    p.parser
        .expected("a warehouse statement", p.parser.peek_token())
        .map_err(from_parser)
}

/// `[IF NOT EXISTS] name [(col [COMMENT '...'], ...)] [COMMENT '...'] [TBLPROPERTIES (...)]
/// AS query`, after `CREATE [OR REPLACE] VIEW`.
fn parse_create_view(p: &mut Cursor<'_>, or_replace: bool) -> Result<HiveStatement> {
    let if_not_exists = p.eat_all(&["IF", "NOT", "EXISTS"]);
    let name = p.table_name()?;
    let mut columns = Vec::new();
    if p.parser.consume_token(&Token::LParen) {
        loop {
            let column = p.ident()?;
            let comment = if p.eat("COMMENT") {
                Some(p.string()?)
            } else {
                None
            };
            columns.push((column, comment));
            if !p.parser.consume_token(&Token::Comma) {
                break;
            }
        }
        p.expect_token(&Token::RParen)?;
    }
    let mut comment = None;
    let mut properties = Vec::new();
    loop {
        if p.eat("COMMENT") {
            comment = Some(p.string()?);
        } else if p.eat("TBLPROPERTIES") {
            properties.extend(p.properties()?);
        } else {
            break;
        }
    }
    p.expect("AS")?;
    let query = view_query(p)?;
    Ok(HiveStatement::CreateView(Box::new(CreateView {
        name,
        or_replace,
        if_not_exists,
        columns,
        comment,
        properties,
        query,
    })))
}

/// A view's query; its text is filled in by the caller, who has the source.
fn view_query(p: &mut Cursor<'_>) -> Result<ViewQuery> {
    let start = p.parser.peek_token().span.start;
    Ok(ViewQuery {
        query: p.query()?,
        text: String::new(),
        start,
    })
}

/// The view query inside a statement, if any.
pub(crate) fn view_query_mut(statement: &mut HiveStatement) -> Option<&mut ViewQuery> {
    match statement {
        HiveStatement::CreateView(c) => Some(&mut c.query),
        HiveStatement::AlterView { change, .. } => match change.as_mut() {
            AlterView::As(q) => Some(q),
            _ => None,
        },
        _ => None,
    }
}

fn parse_create_table(p: &mut Cursor<'_>, external: bool) -> Result<HiveStatement> {
    let if_not_exists = p.eat_all(&["IF", "NOT", "EXISTS"]);
    let name = p.table_name()?;
    let mut create = CreateTable {
        name,
        external,
        if_not_exists,
        columns: vec![],
        comment: None,
        partitioned_by: vec![],
        stored_as: None,
        field_delimiter: None,
        location: None,
        properties: vec![],
        like: None,
        query: None,
    };
    if p.eat("LIKE") {
        create.like = Some(p.table_name()?);
    } else if matches!(p.parser.peek_token().token, Token::LParen) {
        create.columns = p.column_defs(false)?;
    }
    loop {
        if p.eat("COMMENT") {
            create.comment = Some(p.string()?);
        } else if p.eat_all(&["PARTITIONED", "BY"]) {
            create.partitioned_by = p.column_defs(true)?;
        } else if p.eat_all(&["ROW", "FORMAT"]) {
            if p.eat("SERDE") {
                return Err(syntax(
                    "ROW FORMAT SERDE is not supported; use ROW FORMAT DELIMITED or STORED AS PARQUET"
                        .into(),
                ));
            }
            p.expect("DELIMITED")?;
            loop {
                if p.eat_all(&["FIELDS", "TERMINATED", "BY"]) {
                    create.field_delimiter = Some(delimiter_byte(&p.string()?)?);
                    if p.eat_all(&["ESCAPED", "BY"]) {
                        p.string()?;
                    }
                } else if p.eat_all(&["NULL", "DEFINED", "AS"]) {
                    let null_format = p.string()?;
                    create
                        .properties
                        .push(("serialization.null.format".to_string(), null_format));
                } else if p.eat_all(&["COLLECTION", "ITEMS", "TERMINATED", "BY"])
                    || p.eat_all(&["MAP", "KEYS", "TERMINATED", "BY"])
                    || p.eat_all(&["LINES", "TERMINATED", "BY"])
                {
                    p.string()?;
                } else {
                    break;
                }
            }
        } else if p.eat_all(&["STORED", "AS"]) {
            let format = p.ident()?;
            create.stored_as = Some(match format.to_ascii_uppercase().as_str() {
                "PARQUET" => StoredAs::Parquet,
                "TEXTFILE" => StoredAs::TextFile,
                "JSONFILE" => StoredAs::JsonFile,
                other => {
                    return Err(syntax(format!(
                        "STORED AS {other} is not supported; use PARQUET, TEXTFILE or JSONFILE"
                    )));
                }
            });
        } else if p.eat("LOCATION") {
            create.location = Some(p.string()?);
        } else if p.eat("TBLPROPERTIES") {
            create.properties.extend(p.properties()?);
        } else if p.eat_all(&["CLUSTERED", "BY"]) {
            return Err(syntax("CLUSTERED BY (bucketing) is not supported".into()));
        } else {
            break;
        }
    }
    if p.eat("AS") {
        create.query = Some(p.query()?);
    }
    Ok(HiveStatement::CreateTable(Box::new(create)))
}

/// A field delimiter: one character, or Hive's octal (`'\001'`) and `\t` forms.
fn delimiter_byte(text: &str) -> Result<u8> {
    let unescaped = unescape_delimiter(text);
    let mut bytes = unescaped.bytes();
    match (bytes.next(), bytes.next()) {
        (Some(b), None) => Ok(b),
        _ => Err(syntax(format!(
            "FIELDS TERMINATED BY needs one single-byte character, got '{text}'"
        ))),
    }
}

fn parse_alter(p: &mut Cursor<'_>, table: TableName) -> Result<HiveStatement> {
    if p.eat("ADD") {
        if p.eat("COLUMNS") {
            let columns = p.column_defs(false)?;
            return Ok(HiveStatement::AddColumns { table, columns });
        }
        let if_not_exists = p.eat_all(&["IF", "NOT", "EXISTS"]);
        let mut partitions = Vec::new();
        while p.eat("PARTITION") {
            let spec = p.partition_spec(false)?;
            let location = if p.eat("LOCATION") {
                Some(p.string()?)
            } else {
                None
            };
            partitions.push((spec, location));
        }
        if partitions.is_empty() {
            return p
                .parser
                .expected("PARTITION or COLUMNS", p.parser.peek_token())
                .map_err(from_parser);
        }
        return Ok(HiveStatement::AddPartitions {
            table,
            if_not_exists,
            partitions,
        });
    }
    if p.eat("DROP") {
        let if_exists = p.eat_all(&["IF", "EXISTS"]);
        let mut partitions = Vec::new();
        loop {
            p.expect("PARTITION")?;
            partitions.push(p.partition_spec(false)?);
            if !p.parser.consume_token(&Token::Comma) {
                break;
            }
        }
        p.eat("PURGE");
        return Ok(HiveStatement::DropPartitions {
            table,
            if_exists,
            partitions,
        });
    }
    if p.eat_all(&["RENAME", "TO"]) {
        let to = p.table_name()?;
        return Ok(HiveStatement::RenameTable { table, to });
    }
    if p.eat_all(&["SET", "TBLPROPERTIES"]) {
        let properties = p.properties()?;
        return Ok(HiveStatement::SetProperties { table, properties });
    }
    if p.eat("CHANGE") {
        p.eat("COLUMN");
        let old = p.ident()?;
        let name = p.ident()?;
        // The type's text runs on over a FIRST / AFTER c that follows it directly.
        let (type_text, mut position) = split_position(&p.type_text()?);
        let data_type = crate::sql::hive_types::parse_hive_type(&type_text)
            .map_err(|e| syntax(format!("column '{name}': {}", e.strip_backtrace())))?;
        let char_length = CharLength::of_type_text(&type_text);
        let comment = if p.eat("COMMENT") {
            Some(p.string()?)
        } else {
            None
        };
        if p.eat("FIRST") {
            position = ColumnPosition::First;
        } else if p.eat("AFTER") {
            position = ColumnPosition::After(p.ident()?);
        }
        p.eat("CASCADE");
        p.eat("RESTRICT");
        return Ok(HiveStatement::ChangeColumn {
            table,
            old,
            column: ColumnDef {
                name,
                data_type: Some(data_type),
                char_length,
                comment,
            },
            position,
        });
    }
    if p.eat_all(&["REPLACE", "COLUMNS"]) {
        let columns = p.column_defs(false)?;
        p.eat("CASCADE");
        p.eat("RESTRICT");
        return Ok(HiveStatement::ReplaceColumns { table, columns });
    }
    let partition = if p.eat("PARTITION") {
        Some(p.partition_spec(false)?)
    } else {
        None
    };
    if p.eat_all(&["SET", "LOCATION"]) {
        let location = p.string()?;
        return Ok(HiveStatement::SetLocation {
            table,
            partition,
            location,
        });
    }
    p.parser
        .expected(
            "ADD PARTITION, DROP PARTITION, RENAME TO, ADD COLUMNS, CHANGE COLUMN, REPLACE \
             COLUMNS, SET LOCATION or SET TBLPROPERTIES",
            p.parser.peek_token(),
        )
        .map_err(from_parser)
}

/// A CHANGE COLUMN type's text without the `FIRST` / `AFTER c` that ends it.
fn split_position(text: &str) -> (String, ColumnPosition) {
    let words: Vec<&str> = text.split(' ').collect();
    let n = words.len();
    if n >= 2 && words[n - 1].eq_ignore_ascii_case("FIRST") {
        return (words[..n - 1].join(" "), ColumnPosition::First);
    }
    if n >= 3 && words[n - 2].eq_ignore_ascii_case("AFTER") {
        return (
            words[..n - 2].join(" "),
            ColumnPosition::After(words[n - 1].trim_matches('`').to_ascii_lowercase()),
        );
    }
    (text.to_string(), ColumnPosition::Same)
}

fn parse_insert_directory(p: &mut Cursor<'_>) -> Result<HiveStatement> {
    p.expect("INSERT")?;
    p.expect("OVERWRITE")?;
    let local = p.eat("LOCAL");
    p.expect("DIRECTORY")?;
    let path = p.string()?;
    let mut stored_as = None;
    let mut field_delimiter = None;
    let mut null_format = None;
    loop {
        if p.eat_all(&["ROW", "FORMAT"]) {
            p.expect("DELIMITED")?;
            loop {
                if p.eat_all(&["FIELDS", "TERMINATED", "BY"]) {
                    field_delimiter = Some(delimiter_byte(&p.string()?)?);
                    if p.eat_all(&["ESCAPED", "BY"]) {
                        p.string()?;
                    }
                } else if p.eat_all(&["NULL", "DEFINED", "AS"]) {
                    null_format = Some(p.string()?);
                } else if p.eat_all(&["COLLECTION", "ITEMS", "TERMINATED", "BY"])
                    || p.eat_all(&["MAP", "KEYS", "TERMINATED", "BY"])
                    || p.eat_all(&["LINES", "TERMINATED", "BY"])
                {
                    p.string()?;
                } else {
                    break;
                }
            }
        } else if p.eat_all(&["STORED", "AS"]) {
            stored_as = Some(stored_as_format(&p.ident()?)?);
        } else {
            break;
        }
    }
    let query = p.query()?;
    Ok(HiveStatement::InsertDirectory(Box::new(InsertDirectory {
        path,
        local,
        stored_as,
        field_delimiter,
        null_format,
        query,
    })))
}

fn stored_as_format(format: &str) -> Result<StoredAs> {
    Ok(match format.to_ascii_uppercase().as_str() {
        "PARQUET" => StoredAs::Parquet,
        "TEXTFILE" => StoredAs::TextFile,
        "JSONFILE" => StoredAs::JsonFile,
        other => {
            return Err(syntax(format!(
                "STORED AS {other} is not supported; use PARQUET, TEXTFILE or JSONFILE"
            )));
        }
    })
}

fn parse_insert(p: &mut Cursor<'_>) -> Result<Insert> {
    p.expect("INSERT")?;
    let overwrite = if p.eat("OVERWRITE") {
        p.expect("TABLE")?;
        true
    } else {
        p.expect("INTO")?;
        p.eat("TABLE");
        false
    };
    let table = p.table_name()?;
    let partition = if p.eat("PARTITION") {
        Some(p.partition_spec(true)?)
    } else {
        None
    };
    let mut columns = Vec::new();
    // `(a, b)` column list — but not `(SELECT ...)` or `(VALUES ...)`.
    if matches!(p.parser.peek_token().token, Token::LParen)
        && !p.peek_nth_is(1, "SELECT")
        && !p.peek_nth_is(1, "VALUES")
        && !p.peek_nth_is(1, "WITH")
    {
        p.expect_token(&Token::LParen)?;
        loop {
            columns.push(p.ident()?);
            if !p.parser.consume_token(&Token::Comma) {
                break;
            }
        }
        p.expect_token(&Token::RParen)?;
    }
    let query = p.query()?;
    Ok(Insert {
        table,
        overwrite,
        partition,
        columns,
        query,
    })
}

/// Keywords that end a SELECT list (where a multi-insert's FROM clause goes).
const AFTER_SELECT_LIST: [&str; 9] = [
    "WHERE",
    "GROUP",
    "HAVING",
    "ORDER",
    "SORT",
    "CLUSTER",
    "DISTRIBUTE",
    "LIMIT",
    "WINDOW",
];

/// `FROM src INSERT ... SELECT a WHERE ... INSERT ... SELECT b ...`: each insert becomes
/// `INSERT ... SELECT a FROM src WHERE ...`.
fn parse_multi_insert(dialect: &dyn Dialect, tokens: Vec<TokenWithSpan>) -> Result<HiveStatement> {
    // Top-level INSERT positions.
    let mut depth = 0i32;
    let mut starts = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        match &t.token {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            Token::Word(w)
                if depth == 0
                    && w.quote_style.is_none()
                    && w.value.eq_ignore_ascii_case("INSERT") =>
            {
                starts.push(i)
            }
            _ => {}
        }
    }
    let Some(&first) = starts.first() else {
        return Err(syntax("expected INSERT after FROM ...".into()));
    };
    let from: Vec<TokenWithSpan> = tokens[..first].to_vec();
    let mut inserts = Vec::new();
    for (k, &start) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(tokens.len());
        let mut part: Vec<TokenWithSpan> = tokens[start..end].to_vec();
        // Where the SELECT list ends: the first top-level clause keyword after SELECT.
        let select_at = part.iter().position(
            |t| matches!(&t.token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("SELECT")),
        );
        let Some(select_at) = select_at else {
            return Err(syntax(
                "each INSERT of a multi-insert needs a SELECT".into(),
            ));
        };
        let mut depth = 0i32;
        let mut at = part.len();
        for (i, t) in part.iter().enumerate().skip(select_at + 1) {
            match &t.token {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                Token::SemiColon if depth == 0 => {
                    at = i;
                    break;
                }
                Token::Word(w)
                    if depth == 0
                        && w.quote_style.is_none()
                        && AFTER_SELECT_LIST
                            .iter()
                            .any(|k| w.value.eq_ignore_ascii_case(k)) =>
                {
                    at = i;
                    break;
                }
                _ => {}
            }
        }
        let space = TokenWithSpan::wrap(Token::Whitespace(Whitespace::Space));
        let mut spliced: Vec<TokenWithSpan> = Vec::with_capacity(part.len() + from.len() + 2);
        spliced.extend(part.drain(..at));
        spliced.push(space.clone());
        spliced.extend(from.iter().cloned());
        spliced.push(space);
        spliced.extend(part);
        let mut p = Cursor {
            parser: Parser::new(dialect).with_tokens_with_locations(spliced),
        };
        inserts.push(parse_insert(&mut p)?);
        p.end()?;
    }
    Ok(HiveStatement::MultiInsert(inserts))
}

/// Hive delimiter literals: `'\t'`, `'\001'`, `'\u0001'`, or the character itself.
fn unescape_delimiter(s: &str) -> String {
    // The tokenizer already turned `\0` into NUL: `'\001'` arrives as NUL, '0', '1'.
    if let Some(rest) = s.strip_prefix('\0')
        && !rest.is_empty()
        && rest.bytes().all(|b| b.is_ascii_digit())
        && let Ok(v) = u32::from_str_radix(&format!("0{rest}"), 8)
        && let Some(c) = char::from_u32(v)
    {
        return c.to_string();
    }
    match s {
        "\\t" => "\t".into(),
        "\\n" => "\n".into(),
        _ => {
            if let Some(octal) = s.strip_prefix('\\')
                && let Ok(v) = u32::from_str_radix(octal, 8)
                && let Some(c) = char::from_u32(v)
            {
                return c.to_string();
            }
            if let Some(hex) = s.strip_prefix("\\u")
                && let Ok(v) = u32::from_str_radix(hex, 16)
                && let Some(c) = char::from_u32(v)
            {
                return c.to_string();
            }
            s.to_string()
        }
    }
}
