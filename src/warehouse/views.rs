//! Views in the metastore, as Hive keeps them (`VIRTUAL_VIEW`): a query's text with the
//! view's columns, planned again by every query that reads the view, in the view's database.
//! A view is seen by every session and process on the warehouse (Flight SQL clients
//! included) and survives restart. Spark's `CREATE TEMPORARY VIEW` stays the session's.
//!
//! A view reads what its text names when it is read: a view over a dropped table fails with
//! the planner's error, and a view whose query no longer gives its columns fails naming both
//! lists. A view cannot refer to itself, directly or through other views.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::{Arc, RwLock, Weak};

use apiary_udfs::GeneratorRegistry;
use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{SchemaProvider, Session, TableProvider};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, TableReference, plan_err};
use datafusion::datasource::{ViewTable, source_as_provider};
use datafusion::execution::SessionState;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, TableType};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::Statement;

use super::catalog::CATALOG_NAME;
use super::metastore::{ColumnMeta, StorageFormat, TableKind, TableMeta};
use super::statements::{WarehouseSession, check_unique, table_name_rows, usage};
use crate::error::Result;
use crate::session::{Kinds, StatementOutput};
use crate::sql::hive_statements::{AlterView, CreateView, TableName};
use crate::sql::hive_types::{hive_type_name, parse_hive_type};
use crate::sql::parse::{ParsedStatement, parse_statements};

/// How deep views may nest (a view reading a view reading ...).
pub const MAX_VIEW_DEPTH: usize = 32;

tokio::task_local! {
    /// The views being planned, outermost first: a view met again is a cycle.
    static PLANNING: Vec<String>;
}

/// Plans views' queries for one session: with its functions, generators and settings, in
/// the view's database.
#[derive(Debug, Clone)]
pub struct ViewPlanner {
    state: Weak<parking_lot::RwLock<SessionState>>,
    generators: Arc<RwLock<GeneratorRegistry>>,
}

impl ViewPlanner {
    /// A planner for the session whose state `state` is.
    pub fn new(
        state: Weak<parking_lot::RwLock<SessionState>>,
        generators: Arc<RwLock<GeneratorRegistry>>,
    ) -> Self {
        Self { state, generators }
    }

    /// A view as DataFusion reads it: its query, planned now (so the optimizer sees through
    /// it), or, when that fails, a table that reports the failure when it is read (listing
    /// the tables of a database still works with a broken view in it).
    pub async fn provider(&self, meta: TableMeta) -> Arc<dyn TableProvider> {
        match self.plan(&meta).await {
            Ok(plan) => Arc::new(ViewTable::new(plan, meta.view_text.clone())),
            Err(e) => Arc::new(BrokenView::new(meta, e)),
        }
    }

    /// A stored view's plan, its columns named as the view names them.
    async fn plan(&self, meta: &TableMeta) -> datafusion::common::Result<LogicalPlan> {
        let qualified = meta.qualified_name();
        let text = meta.view_text.as_deref().unwrap_or_default();
        let plan = self.plan_text(&meta.db, &qualified, text).await?;
        named_as_view(plan, meta)
    }

    /// Plans one query's text as the session plans it, in database `db` (`what` names the
    /// caller on the stack of views being planned; errors are the planner's, unprefixed).
    pub async fn plan_query(
        &self,
        db: &str,
        what: &str,
        text: &str,
    ) -> datafusion::common::Result<LogicalPlan> {
        let (state, statement, inner) = self.parse_text(db, what, text, "")?;
        PLANNING
            .scope(
                inner,
                async move { state.statement_to_plan(statement).await },
            )
            .await
    }

    /// Plans a view's text in database `db`, with `qualified` (the view) on the stack of
    /// views being planned.
    async fn plan_text(
        &self,
        db: &str,
        qualified: &str,
        text: &str,
    ) -> datafusion::common::Result<LogicalPlan> {
        let prefix = format!("view {qualified}: ");
        let (state, statement, inner) = self.parse_text(db, qualified, text, &prefix)?;
        PLANNING
            .scope(
                inner,
                async move { state.statement_to_plan(statement).await },
            )
            .await
    }

    /// The tables and views a view's text reads (CTEs left out), as written.
    fn references(
        &self,
        db: &str,
        qualified: &str,
        text: &str,
    ) -> datafusion::common::Result<Vec<TableReference>> {
        let (state, statement, _) = self.parse_text(db, qualified, text, "")?;
        state.resolve_table_references(&statement)
    }

    /// A view's text parsed as Apiary parses a query, with the state to plan it in (the
    /// session's, in database `db`) and the stack of views being planned with this one on
    /// top; `prefix` starts its parse errors.
    fn parse_text(
        &self,
        db: &str,
        qualified: &str,
        text: &str,
        prefix: &str,
    ) -> datafusion::common::Result<(SessionState, DFStatement, Vec<String>)> {
        let stack = PLANNING.try_with(Clone::clone).unwrap_or_default();
        if let Some(at) = stack.iter().position(|v| v == qualified) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(qualified.to_string());
            return plan_err!("view {qualified} refers to itself ({})", cycle.join(" -> "));
        }
        if stack.len() >= MAX_VIEW_DEPTH {
            return plan_err!(
                "view {qualified}: views nest more than {MAX_VIEW_DEPTH} levels deep ({} -> ...)",
                stack.join(" -> ")
            );
        }
        let Some(shared) = self.state.upgrade() else {
            return plan_err!("view {qualified}: its session has ended");
        };
        let mut state = shared.read().clone();
        state.config_mut().options_mut().catalog.default_schema = db.to_string();
        let statement = {
            let registry = self
                .generators
                .read()
                .map_err(|_| DataFusionError::Plan("the generator registry is poisoned".into()))?;
            let kinds = Kinds {
                generators: &registry,
                state: &state,
            };
            let mut parsed = parse_statements(text, &kinds)
                .map_err(|e| DataFusionError::Plan(format!("{prefix}{e}")))?;
            match (parsed.pop(), parsed.is_empty()) {
                (Some(ParsedStatement::Sql(s @ DFStatement::Statement(_))), true) if matches!(&s, DFStatement::Statement(q) if matches!(q.as_ref(), Statement::Query(_))) => {
                    s
                }
                _ => return plan_err!("{prefix}the text is not one query: {text}"),
            }
        };
        let mut inner = stack;
        inner.push(qualified.to_string());
        Ok((state, statement, inner))
    }
}

/// `plan` with the view's column names. When the query now gives other columns (a `*` over a
/// table that gained or lost some), the view's columns are taken by name, as Hive's expanded
/// text (which spells `*` out) keeps them; an error naming both lists when one is gone.
fn named_as_view(plan: LogicalPlan, meta: &TableMeta) -> datafusion::common::Result<LogicalPlan> {
    let columns = plan.schema().columns();
    if columns.len() != meta.columns.len() {
        let by_name: Option<Vec<Expr>> = meta
            .columns
            .iter()
            .map(|m| {
                let mut found = columns.iter().filter(|c| c.name == m.name);
                match (found.next(), found.next()) {
                    (Some(c), None) => Some(Expr::Column(c.clone())),
                    _ => None,
                }
            })
            .collect();
        if let Some(kept) = by_name {
            return LogicalPlanBuilder::from(plan).project(kept)?.build();
        }
        let now: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
        let stored: Vec<&str> = meta.columns.iter().map(|c| c.name.as_str()).collect();
        return plan_err!(
            "view {}: its query now gives {} columns ({}), not the view's {} ({}); \
             recreate it with CREATE OR REPLACE VIEW",
            meta.qualified_name(),
            now.len(),
            now.join(", "),
            stored.len(),
            stored.join(", ")
        );
    }
    if columns
        .iter()
        .zip(&meta.columns)
        .all(|(c, m)| c.name == m.name)
    {
        return Ok(plan);
    }
    let renamed: Vec<Expr> = columns
        .into_iter()
        .zip(&meta.columns)
        .map(|(c, m)| Expr::Column(c).alias(&m.name))
        .collect();
    LogicalPlanBuilder::from(plan).project(renamed)?.build()
}

/// A view whose query does not plan: its stored columns, and the error when read.
#[derive(Debug)]
pub struct BrokenView {
    meta: TableMeta,
    schema: SchemaRef,
    error: String,
}

impl BrokenView {
    fn new(meta: TableMeta, error: DataFusionError) -> Self {
        let schema = Arc::new(Schema::new(
            meta.columns
                .iter()
                .map(|c| Field::new(&c.name, c.data_type.clone(), true))
                .collect::<Vec<_>>(),
        ));
        Self {
            meta,
            schema,
            error: error.strip_backtrace(),
        }
    }
}

#[async_trait]
impl TableProvider for BrokenView {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    fn get_table_definition(&self) -> Option<&str> {
        self.meta.view_text.as_deref()
    }

    fn get_logical_plan(&self) -> Option<Cow<'_, LogicalPlan>> {
        None
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        _projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> datafusion::common::Result<Arc<dyn ExecutionPlan>> {
        Err(DataFusionError::Plan(self.error.clone()))
    }
}

/// The first broken view `plan` reads, directly or through other views (a view that plans
/// is inlined into the plan reading it; a broken one stays a scan).
fn broken_view_in(plan: &LogicalPlan) -> Option<String> {
    let mut found = None;
    let _ = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node
            && let Ok(provider) = source_as_provider(&scan.source)
            && let Some(broken) = provider.downcast_ref::<BrokenView>()
        {
            found = Some(broken.error.clone());
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    found
}

/// The type a view's column is described with.
fn view_column_type(data_type: &DataType) -> DataType {
    parse_hive_type(&hive_type_name(data_type)).unwrap_or(DataType::Utf8)
}

impl WarehouseSession<'_> {
    fn view_planner(&self) -> Result<ViewPlanner> {
        self.catalog
            .view_planner()
            .ok_or_else(|| usage("this session cannot plan views (no view planner)"))
    }

    /// Plans a new definition of view `qualified` in `db` and checks it: it plans, reads no
    /// broken view, does not read itself, and reads nothing only this session sees.
    async fn plan_definition(&self, db: &str, qualified: &str, text: &str) -> Result<LogicalPlan> {
        let planner = self.view_planner()?;
        let plan = planner.plan_text(db, qualified, text).await?;
        if let Some(e) = broken_view_in(&plan) {
            return Err(usage(format!("view {qualified}: {e}")));
        }
        let session_only = planner
            .references(db, qualified, text)?
            .into_iter()
            .map(|r| r.resolve(CATALOG_NAME, db))
            .find(|r| {
                let (schema, table) = (r.schema.as_ref(), r.table.as_ref());
                r.catalog.as_ref() == CATALOG_NAME
                    && !crate::catalog::is_sample_table(schema, table)
                    && self.catalog.overlay(schema).table_exist(table)
                    && !matches!(self.warehouse.metastore().table(schema, table), Ok(Some(_)))
            })
            .map(|r| format!("{}.{}", r.schema, r.table));
        if let Some(name) = session_only {
            return Err(usage(format!(
                "view {qualified} reads {name}, which only this session sees (a temporary \
                 view or DataFusion table); store it as a warehouse table, or make the view \
                 with CREATE TEMPORARY VIEW"
            )));
        }
        Ok(plan)
    }

    /// The columns a view over `plan` has: `named` (with comments) when given.
    fn view_columns(
        qualified: &str,
        plan: &LogicalPlan,
        named: &[(String, Option<String>)],
    ) -> Result<Vec<ColumnMeta>> {
        let fields = plan.schema().fields();
        if !named.is_empty() && named.len() != fields.len() {
            return Err(usage(format!(
                "view {qualified}: the column list names {} columns but the query gives {}",
                named.len(),
                fields.len()
            )));
        }
        let columns: Vec<ColumnMeta> = fields
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let (name, comment) = named
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| (f.name().to_ascii_lowercase(), None));
                ColumnMeta {
                    name,
                    data_type: view_column_type(f.data_type()),
                    char_length: None,
                    comment,
                }
            })
            .collect();
        check_unique(qualified, &columns, &[])?;
        Ok(columns)
    }

    /// `CREATE [OR REPLACE] VIEW [IF NOT EXISTS]`.
    pub(super) async fn create_view(&self, create: CreateView) -> Result<StatementOutput> {
        let (db, name) = self.resolve(&create.name)?;
        let qualified = format!("{db}.{name}");
        let existing = self.warehouse.metastore().table(&db, &name)?;
        match &existing {
            Some(_) if create.if_not_exists => return Ok(StatementOutput::Done),
            Some(t) if t.kind != TableKind::View => {
                return Err(usage(format!(
                    "table {qualified} already exists (a view cannot replace a table)"
                )));
            }
            Some(_) if !create.or_replace => {
                return Err(usage(format!(
                    "view {qualified} already exists; use CREATE OR REPLACE VIEW or ALTER \
                     VIEW ... AS"
                )));
            }
            None if self.catalog.overlay(&db).table_exist(&name) => {
                if create.if_not_exists {
                    return Ok(StatementOutput::Done);
                }
                return Err(usage(format!(
                    "{qualified} already exists as a session object (a temporary view, sample \
                     or DataFusion table)"
                )));
            }
            _ => {}
        }
        let text = create.query.text.clone();
        let plan = self.plan_definition(&db, &qualified, &text).await?;
        let columns = Self::view_columns(&qualified, &plan, &create.columns)?;
        let mut meta = TableMeta {
            id: 0,
            db,
            name,
            kind: TableKind::View,
            format: StorageFormat::Parquet,
            location: PathBuf::new(),
            comment: create.comment,
            columns,
            partition_columns: vec![],
            properties: create.properties.iter().cloned().collect(),
            created: 0,
            view_text: Some(text),
        };
        let metastore = self.warehouse.metastore();
        match existing {
            Some(old) => {
                meta.id = old.id;
                metastore.replace_view(&meta)?;
                metastore.set_properties(meta.id, &create.properties)?;
            }
            None => {
                if !metastore.create_table(&meta)? {
                    return Err(usage(format!("table {qualified} already exists")));
                }
            }
        }
        Ok(StatementOutput::Done)
    }

    /// A view that must exist (a table is an error naming the statement to use).
    fn view(&self, name: &TableName, statement: &str) -> Result<TableMeta> {
        let meta = self.table_or_view(name)?;
        if meta.kind != TableKind::View {
            return Err(usage(format!(
                "{} is a table, not a view; {statement} takes a view",
                meta.qualified_name()
            )));
        }
        Ok(meta)
    }

    /// `ALTER VIEW v AS ... | RENAME TO w | SET TBLPROPERTIES (...)`.
    pub(super) async fn alter_view(
        &self,
        view: &TableName,
        change: AlterView,
    ) -> Result<StatementOutput> {
        let meta = self.view(view, "ALTER VIEW")?;
        let qualified = meta.qualified_name();
        let metastore = self.warehouse.metastore();
        match change {
            AlterView::As(query) => {
                let plan = self
                    .plan_definition(&meta.db, &qualified, &query.text)
                    .await?;
                let columns = Self::view_columns(&qualified, &plan, &[])?;
                metastore.replace_view(&TableMeta {
                    columns,
                    view_text: Some(query.text),
                    ..meta
                })?;
            }
            AlterView::Rename(to) => {
                let (db, name) = self.resolve(&TableName {
                    db: to.db.clone().or_else(|| Some(meta.db.clone())),
                    name: to.name.clone(),
                })?;
                if metastore.table(&db, &name)?.is_some()
                    || self.catalog.overlay(&db).table_exist(&name)
                {
                    return Err(usage(format!("table {db}.{name} already exists")));
                }
                metastore.rename_table(&meta, &db, &name, &meta.location, &qualified)?;
            }
            AlterView::SetProperties(properties) => {
                metastore.set_properties(meta.id, &properties)?;
            }
        }
        Ok(StatementOutput::Done)
    }

    /// `DROP VIEW [IF EXISTS] v`: a stored view, or this session's temporary one.
    pub(super) fn drop_view(&self, view: &TableName, if_exists: bool) -> Result<StatementOutput> {
        let (db, name) = self.resolve(view)?;
        match self.warehouse.metastore().table(&db, &name)? {
            Some(meta) if meta.kind == TableKind::View => {
                self.warehouse.metastore().drop_table(&meta)?;
            }
            Some(meta) => {
                return Err(usage(format!(
                    "{} is a table: drop it with DROP TABLE",
                    meta.qualified_name()
                )));
            }
            None => {
                let overlay = self.catalog.overlay(&db);
                let temporary = overlay
                    .table_exist(&name)
                    .then(|| self.ctx.table_provider(format!("{db}.{name}")));
                match temporary {
                    Some(_) if crate::catalog::is_sample_table(&db, &name) => {
                        return Err(usage(format!("{db}.{name} is a sample table, not a view")));
                    }
                    Some(_) => {
                        overlay.deregister_table(&name)?;
                    }
                    None if if_exists => {}
                    None => return Err(usage(format!("view {db}.{name} not found"))),
                }
            }
        }
        Ok(StatementOutput::Done)
    }

    /// `SHOW VIEWS [IN db] [LIKE 'p']`: the database's views, stored and temporary.
    pub(super) async fn show_views(
        &self,
        db: Option<String>,
        pattern: Option<&str>,
    ) -> Result<StatementOutput> {
        let db = match db {
            Some(db) => db,
            None => self.current_database(),
        };
        self.resolve(&TableName {
            db: Some(db.clone()),
            name: String::new(),
        })?;
        let mut names = self.warehouse.metastore().view_names(&db)?;
        let overlay = self.catalog.overlay(&db);
        for name in overlay.table_names() {
            if let Ok(Some(t)) = overlay.table(&name).await
                && t.table_type() == TableType::View
            {
                names.push(name);
            }
        }
        Ok(table_name_rows(names, pattern))
    }
}

/// DESCRIBE [FORMATTED] of a view: its columns, and with `detailed` its query.
pub(super) fn describe_view(meta: &TableMeta, detailed: bool) -> Vec<(String, String, String)> {
    let mut rows: Vec<(String, String, String)> = meta
        .columns
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                c.type_name(),
                c.comment.clone().unwrap_or_default(),
            )
        })
        .collect();
    if detailed {
        let row = |k: &str, v: String| (k.to_string(), v, String::new());
        let text = meta.view_text.clone().unwrap_or_default();
        rows.push(("".into(), "".into(), "".into()));
        rows.push(row("# Detailed Table Information", String::new()));
        rows.push(row("Database:", meta.db.clone()));
        rows.push(row("Table:", meta.name.clone()));
        rows.push(row(
            "CreateTime:",
            super::describe::format_time(meta.created),
        ));
        rows.push(row("Table Type:", "VIRTUAL_VIEW".into()));
        if let Some(c) = &meta.comment {
            rows.push(row("Comment:", c.clone()));
        }
        rows.push(row("Table Parameters:", String::new()));
        for (k, v) in &meta.properties {
            rows.push(("".into(), k.clone(), v.clone()));
        }
        rows.push(("".into(), "".into(), "".into()));
        rows.push(row("# View Information", String::new()));
        rows.push(row("View Original Text:", text.clone()));
        rows.push(row("View Expanded Text:", text));
    }
    rows
}

/// SHOW CREATE TABLE of a view: a statement that recreates it.
pub(super) fn show_create_view(meta: &TableMeta) -> Vec<String> {
    use super::describe::{quote, sql_string};
    let mut lines = vec![format!(
        "CREATE VIEW {}.{}(",
        quote(&meta.db),
        quote(&meta.name)
    )];
    let n = meta.columns.len();
    for (i, c) in meta.columns.iter().enumerate() {
        let mut line = format!("  {}", quote(&c.name));
        if let Some(comment) = &c.comment {
            line.push_str(&format!(" COMMENT {}", sql_string(comment)));
        }
        line.push_str(if i + 1 < n { "," } else { ")" });
        lines.push(line);
    }
    if let Some(c) = &meta.comment {
        lines.push(format!("COMMENT {}", sql_string(c)));
    }
    if !meta.properties.is_empty() {
        let props: Vec<String> = meta
            .properties
            .iter()
            .map(|(k, v)| format!("{}={}", sql_string(k), sql_string(v)))
            .collect();
        lines.push(format!("TBLPROPERTIES ({})", props.join(", ")));
    }
    lines.push("AS".into());
    lines.extend(
        meta.view_text
            .as_deref()
            .unwrap_or_default()
            .lines()
            .map(str::to_string),
    );
    lines
}
