//! `ApiaryContext`: one session of the engine, shared by every front end.

pub mod get_sql_schema;
pub mod settings;

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use apiary_udfs::{Generator, GeneratorRegistry};
use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::dataframe::DataFrame;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::logical_expr::{LogicalPlan, ScalarUDF};
use datafusion::physical_plan::memory::MemoryStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::Statement as DFStatement;
use futures::TryStreamExt;

use crate::catalog::register_sample_tables;
use crate::error::{ApiaryError, Result};
use crate::exec::ApiaryQueryPlanner;
use crate::plan::LateralViewPlanner;
use crate::plan::hive_exprs::HiveExprPlanner;
use crate::plan::placeholder::GeneratorPlaceholder;
use crate::security::{FileAccess, StatementGuard};
use crate::sql::command::{Command, classify, like_matches};
use crate::sql::parse::{ParsedStatement, parse_statements};
use crate::sql::rewrite::FunctionKinds;
use crate::sql::vars::Variables;
use crate::suggest::closest;
use crate::warehouse::catalog::CATALOG_NAME;
use crate::warehouse::statements::WarehouseSession;
use crate::warehouse::store::WarehouseStore;
use crate::warehouse::{DEFAULT_DATABASE, DEFAULT_LOCK_TIMEOUT, Warehouse, WarehouseCatalog};
use datafusion::execution::memory_pool::MemoryPool;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};

/// What running one statement produced.
pub enum StatementOutput {
    /// Rows, streamed.
    Rows(SendableRecordBatchStream),
    /// Done, nothing to show (DDL, `SET k=v`).
    Done,
    /// Done, having written this many rows (INSERT, CTAS).
    Affected(u64),
    /// `SOURCE file`: the front end runs the file's statements.
    Source(PathBuf),
}

impl std::fmt::Debug for StatementOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Rows(s) => write!(f, "Rows({})", s.schema()),
            Self::Done => write!(f, "Done"),
            Self::Affected(n) => write!(f, "Affected({n})"),
            Self::Source(p) => write!(f, "Source({})", p.display()),
        }
    }
}

/// A session: DataFusion's context with Apiary's planner, functions, generators, the
/// warehouse's databases and tables, the sample tables and Hive variables.
pub struct ApiaryContext {
    ctx: SessionContext,
    generators: Arc<RwLock<GeneratorRegistry>>,
    variables: Variables,
    warehouse: Arc<Warehouse>,
    catalog: Arc<WarehouseCatalog>,
    /// What the session's statements may touch on the local file system.
    access: Arc<FileAccess>,
    /// Whether `${env:NAME}` reads the process environment.
    environment: bool,
    /// Whether the session draws on a memory pool shared with other sessions.
    shared_pool: bool,
    /// Whether `CREATE MODEL` draws a progress bar.
    progress_bar: bool,
}

/// What a new session gets beyond its warehouse.
pub struct SessionOptions {
    /// DataFusion's configuration (the information schema is always on).
    pub config: SessionConfig,
    /// A memory pool shared with other sessions (`apiary serve --memory-limit`); `None`:
    /// unbounded.
    pub memory_pool: Option<Arc<dyn MemoryPool>>,
    /// What the session's statements may touch; `None`: everything its process may (the CLI's
    /// default).
    pub file_access: Option<Arc<FileAccess>>,
    /// Whether `${env:NAME}` and `${system:NAME}` read the process environment (the CLI: yes;
    /// a server: only with `--allow-env`).
    pub environment: bool,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            config: SessionConfig::new(),
            memory_pool: None,
            file_access: None,
            environment: true,
        }
    }
}

impl std::fmt::Debug for ApiaryContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiaryContext").finish_non_exhaustive()
    }
}

/// What the rewrites ask of a session's functions: its generators and aggregates.
pub(crate) struct Kinds<'a> {
    /// The session's generators.
    pub(crate) generators: &'a GeneratorRegistry,
    /// The session's state (for its aggregate functions).
    pub(crate) state: &'a SessionState,
}

impl FunctionKinds for Kinds<'_> {
    fn is_generator(&self, name: &str) -> bool {
        self.generators.contains(name)
    }

    fn is_aggregate(&self, name: &str) -> bool {
        self.state.aggregate_functions().contains_key(name)
    }
}

impl ApiaryContext {
    /// A session on a temporary warehouse (deleted when the last session on it is dropped),
    /// with the default configuration and the sample tables. The CLI and the server open a
    /// persistent warehouse with [`ApiaryContext::with_warehouse`].
    pub async fn new() -> Result<Self> {
        Self::with_config(SessionConfig::new()).await
    }

    /// A session on a temporary warehouse with DataFusion configuration `config`.
    pub async fn with_config(config: SessionConfig) -> Result<Self> {
        Self::with_warehouse(config, Arc::new(Warehouse::temporary()?)).await
    }

    /// A session on `warehouse` with DataFusion configuration `config` (information schema
    /// always on), unrestricted file access. Sessions of one process share the warehouse.
    pub async fn with_warehouse(config: SessionConfig, warehouse: Arc<Warehouse>) -> Result<Self> {
        Self::open(
            warehouse,
            SessionOptions {
                config,
                ..SessionOptions::default()
            },
        )
        .await
    }

    /// A session on `warehouse` with `options`: the one constructor the others call.
    pub async fn open(warehouse: Arc<Warehouse>, options: SessionOptions) -> Result<Self> {
        let access = match options.file_access {
            Some(a) => a,
            None => FileAccess::unrestricted(warehouse.root(), &[])?,
        };
        let shared_pool = options.memory_pool.is_some();
        let runtime = session_runtime(options.memory_pool, Arc::clone(&access))?;
        let config = options.config;
        let generators = Arc::new(RwLock::new(GeneratorRegistry::default()));
        let config = config
            .with_information_schema(true)
            .with_create_default_catalog_and_schema(false)
            .with_default_catalog_and_schema(CATALOG_NAME, DEFAULT_DATABASE)
            .set_str("datafusion.sql_parser.dialect", "hive");
        let mut builder = SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(runtime)
            .with_default_features()
            .with_query_planner(Arc::new(ApiaryQueryPlanner));
        // Hive's `map(k1, v1, ...)`, `struct(...)`, 0-based `arr[i]` and `/` are planned before
        // DataFusion's own.
        let planners = builder.expr_planners().get_or_insert_with(Vec::new);
        planners.insert(0, apiary_udfs::hive::expr_planner());
        planners.insert(0, Arc::new(HiveExprPlanner));
        let mut state = builder.build();
        state.register_relation_planner(Arc::new(LateralViewPlanner::new(Arc::clone(
            &generators,
        ))))?;
        apiary_udfs::register_all(&mut state)?;
        // Functions that build large results reserve from the session's memory pool first.
        apiary_udfs::memory_bound::register_memory_bounds(&mut state)?;
        let ctx = SessionContext::new_with_state(state);
        // The model functions find models in this session's warehouse.
        for udf in crate::ml::functions::scalar_functions(&warehouse) {
            ctx.register_udf(udf);
        }
        ctx.register_udtf(
            "sample",
            Arc::new(crate::ml::sample::SampleFunction::new(&warehouse)),
        );
        {
            let mut registry = generators
                .write()
                .map_err(|_| ApiaryError::Usage("generator registry is poisoned".into()))?;
            for g in crate::ml::generators::generators(&warehouse, ctx.state_weak_ref()) {
                registry.register(g);
            }
        }
        let catalog = Arc::new(WarehouseCatalog::new(Arc::clone(&warehouse)));
        let planner = crate::warehouse::views::ViewPlanner::new(
            ctx.state_weak_ref(),
            Arc::clone(&generators),
        );
        ctx.register_udtf(
            get_sql_schema::NAME,
            Arc::new(get_sql_schema::GetSqlSchema::new(planner.clone())),
        );
        catalog.set_view_planner(planner);
        ctx.register_catalog(CATALOG_NAME, Arc::clone(&catalog) as _);
        // Files queried directly (`SELECT * FROM 'x.parquet'`, `read_csv(...)`).
        ctx.register_catalog(
            crate::sql::file_tables::CATALOG,
            Arc::new(crate::sql::file_tables::FileCatalog::new(
                ctx.state_weak_ref(),
                Arc::clone(&access),
            )),
        );
        let this = Self {
            ctx,
            generators,
            variables: Variables::default(),
            warehouse,
            catalog,
            access,
            environment: options.environment,
            shared_pool,
            progress_bar: false,
        };
        for g in this.generator_list() {
            this.register_placeholder(&g);
        }
        register_sample_tables(&this.ctx).await?;
        Ok(this)
    }

    /// The DataFusion context underneath.
    pub fn session(&self) -> &SessionContext {
        &self.ctx
    }

    /// The warehouse this session reads and writes.
    pub fn warehouse(&self) -> &Arc<Warehouse> {
        &self.warehouse
    }

    /// The session's Hive variables.
    pub fn variables(&self) -> &Variables {
        &self.variables
    }

    /// The session's Hive variables, to change.
    pub fn variables_mut(&mut self) -> &mut Variables {
        &mut self.variables
    }

    fn generator_list(&self) -> Vec<Arc<dyn Generator>> {
        self.generators
            .read()
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn register_placeholder(&self, generator: &Arc<dyn Generator>) {
        self.ctx
            .register_udf(ScalarUDF::new_from_impl(GeneratorPlaceholder::new(
                generator,
            )));
    }

    /// Adds a user-defined generator (or replaces one of the same name).
    pub fn register_generator(&self, generator: Arc<dyn Generator>) -> Result<()> {
        self.register_placeholder(&generator);
        self.generators
            .write()
            .map_err(|_| ApiaryError::Usage("generator registry is poisoned".into()))?
            .register(generator);
        Ok(())
    }

    /// Parses and rewrites `text` (one or more statements, no `${}` substitution).
    pub fn parse(&self, text: &str) -> Result<Vec<ParsedStatement>> {
        let registry = self
            .generators
            .read()
            .map_err(|_| ApiaryError::Usage("generator registry is poisoned".into()))?;
        let state = self.ctx.state_ref();
        let state = state.read();
        let kinds = Kinds {
            generators: &registry,
            state: &state,
        };
        let statements = parse_statements(text, &kinds)?;
        drop(state);
        let current_db = self.current_database();
        let guard = StatementGuard {
            access: &self.access,
            warehouse: &self.warehouse,
            current_db: &current_db,
        };
        for s in &statements {
            guard.check(s)?;
        }
        Ok(statements)
    }

    /// The session's current database.
    pub fn current_database(&self) -> String {
        self.ctx
            .state_ref()
            .read()
            .config_options()
            .catalog
            .default_schema
            .clone()
    }

    /// What the session's statements may touch on the local file system.
    pub fn file_access(&self) -> &Arc<FileAccess> {
        &self.access
    }

    /// `text` with its `${...}` variables substituted, as Hive does before parsing.
    pub fn substitute(&self, text: &str) -> Result<String> {
        self.variables.substitute(text, self.environment)
    }

    /// The logical plans of the SQL statements in `text` — the single planning entry
    /// point of every front end. Warehouse statements (Hive DDL and DML) have no logical plan:
    /// run them with [`ApiaryContext::execute`].
    pub async fn plan_sql(&self, text: &str) -> Result<Vec<LogicalPlan>> {
        let statements = self.parse(text)?;
        let mut plans = Vec::with_capacity(statements.len());
        for s in statements {
            match s {
                ParsedStatement::Sql(s) => plans.push(self.plan_statement(s).await?),
                ParsedStatement::Hive(_) | ParsedStatement::Model(_) => {
                    return Err(ApiaryError::Usage(
                        "a warehouse or model statement has no query plan; run it with execute"
                            .into(),
                    ));
                }
            }
        }
        Ok(plans)
    }

    async fn plan_statement(&self, statement: DFStatement) -> Result<LogicalPlan> {
        let state = self.ctx.state();
        Ok(state.statement_to_plan(statement).await?)
    }

    /// How long a write waits for another process's write to the same table
    /// (`SET apiary.lock.timeout=<seconds>`).
    fn lock_timeout(&self) -> std::time::Duration {
        self.variables
            .hiveconf
            .get(settings::LOCK_TIMEOUT)
            .and_then(|v| settings::parse_lock_timeout(v).ok())
            .unwrap_or(DEFAULT_LOCK_TIMEOUT)
    }

    /// Runs one statement (already split from its script, `${}` not yet substituted).
    pub async fn execute(&mut self, text: &str) -> Result<StatementOutput> {
        let text = self.substitute(text)?;
        match classify(&text) {
            Command::Sql => self.execute_sql(&text).await,
            Command::ListVariables => {
                // Every setting with its value: Apiary's and Hive's (defaults included),
                // the session's own, then DataFusion's options.
                let defaults = [
                    (
                        settings::LOCK_TIMEOUT.to_string(),
                        DEFAULT_LOCK_TIMEOUT.as_secs_f64().to_string(),
                    ),
                    (
                        settings::EXTERNAL_ACCESS.to_string(),
                        (!self.access.is_confined()).to_string(),
                    ),
                    (settings::SUBSTITUTE.to_string(), "true".to_string()),
                    (
                        settings::SUBSTITUTE_DEPTH.to_string(),
                        crate::sql::vars::DEFAULT_SUBSTITUTE_DEPTH.to_string(),
                    ),
                ];
                let mut values: std::collections::BTreeMap<String, String> =
                    defaults.into_iter().collect();
                values.extend(
                    self.variables
                        .hiveconf
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone())),
                );
                let mut lines: Vec<String> =
                    values.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let state = self.ctx.state();
                lines.extend(
                    state
                        .config_options()
                        .entries()
                        .into_iter()
                        .map(|e| format!("{}={}", e.key, e.value.unwrap_or_else(|| "NULL".into()))),
                );
                lines.extend(
                    self.variables
                        .hivevar
                        .iter()
                        .map(|(k, v)| format!("hivevar:{k}={v}")),
                );
                Ok(rows_output("set", lines))
            }
            Command::ShowVariable(name) => {
                let line = if let Some(key) = name.strip_prefix("datafusion.") {
                    let key = format!("datafusion.{key}");
                    let state = self.ctx.state();
                    let entry = state
                        .config_options()
                        .entries()
                        .into_iter()
                        .find(|e| e.key == key);
                    match entry {
                        Some(e) => format!("{key}={}", e.value.unwrap_or_default()),
                        None => format!("{key} is undefined"),
                    }
                } else {
                    // `SET k` shows the configuration variable k (SET's own namespace).
                    let value = if name.contains(':') {
                        self.variables.lookup(&name, self.environment)
                    } else {
                        self.variables.hiveconf.get(&name).cloned()
                    };
                    match value {
                        Some(v) => format!("{name}={v}"),
                        None => format!("{name} is undefined"),
                    }
                };
                Ok(rows_output("set", vec![line]))
            }
            Command::SetVariable(key, value) => {
                self.set(&key, value).await?;
                Ok(StatementOutput::Done)
            }
            Command::Source(path) => {
                let path = PathBuf::from(path);
                if self.access.is_confined() {
                    self.access.check(&path, "SOURCE")?;
                }
                Ok(StatementOutput::Source(path))
            }
            Command::ShowFunctions(pattern) => {
                let names = self.function_names();
                Ok(rows_output(
                    "tab_name",
                    names
                        .into_iter()
                        .filter(|n| pattern.as_deref().is_none_or(|p| like_matches(p, n)))
                        .collect(),
                ))
            }
            Command::DescribeFunction { name, extended } => self.describe_function(&name, extended),
        }
    }

    /// `SET key=value`, the value checked first ([`settings`]).
    async fn set(&mut self, key: &str, value: String) -> Result<()> {
        if key.starts_with("datafusion.runtime.") {
            // DataFusion's runtime settings rebuild the session's runtime: its own path.
            let plan = LogicalPlan::Statement(datafusion::logical_expr::Statement::SetVariable(
                datafusion::logical_expr::SetVariable {
                    variable: key.to_string(),
                    value,
                },
            ));
            self.check_runtime_statement(&plan)?;
            self.ctx.execute_logical_plan(plan).await?;
        } else if key.starts_with("datafusion.") {
            settings::check_datafusion_setting(key, &value)?;
            let state = self.ctx.state_ref();
            let mut state = state.write();
            state
                .config_mut()
                .options_mut()
                .set(key, &value)
                .map_err(ApiaryError::from)?;
        } else if let Some(k) = key.strip_prefix("hivevar:") {
            self.variables.check_room(true, k, &value)?;
            self.variables.hivevar.insert(k.to_string(), value);
        } else {
            let k = key.strip_prefix("hiveconf:").unwrap_or(key);
            settings::check_hive_setting(k, &value)?;
            if k == settings::EXTERNAL_ACCESS {
                let on = settings::parse_bool(k, &value)?;
                if !on {
                    self.access.confine();
                } else if self.access.is_confined() {
                    return Err(ApiaryError::Usage(format!(
                        "SET {k}=true: external file access is off for this session and \
                         cannot be turned back on"
                    )));
                }
            }
            self.variables.check_room(false, k, &value)?;
            self.variables.hiveconf.insert(k.to_string(), value);
        }
        Ok(())
    }

    async fn execute_sql(&self, text: &str) -> Result<StatementOutput> {
        let statements = self.parse(text)?;
        self.run_statements(statements).await
    }

    /// Runs one statement with parameter values bound to its placeholders (`?`, `$1`, ...):
    /// one row, or a batch of rows executed as one statement (a query's results, or an
    /// INSERT's rows, are the `UNION ALL` over the rows; see [`crate::sql::params`]).
    pub async fn execute_bound(
        &mut self,
        text: &str,
        rows: &[Vec<datafusion::common::ScalarValue>],
    ) -> Result<StatementOutput> {
        let text = self.substitute(text)?;
        if !matches!(classify(&text), Command::Sql) {
            return Err(ApiaryError::Usage(
                "parameters are bound to SQL statements, not to SET, SOURCE or SHOW FUNCTIONS"
                    .into(),
            ));
        }
        let mut statements = self.parse(&text)?;
        if statements.len() != 1 {
            return Err(ApiaryError::Usage(format!(
                "a statement with parameters must be one statement, not {}",
                statements.len()
            )));
        }
        let statement = crate::sql::params::bind(statements.remove(0), rows)?;
        self.run_statements(vec![statement]).await
    }

    async fn run_statements(&self, statements: Vec<ParsedStatement>) -> Result<StatementOutput> {
        let mut last = StatementOutput::Done;
        let count = statements.len();
        for (i, statement) in statements.into_iter().enumerate() {
            let statement = match statement {
                ParsedStatement::Hive(_) | ParsedStatement::Model(_) => {
                    last = match statement {
                        ParsedStatement::Hive(h) => {
                            let session = WarehouseSession {
                                ctx: &self.ctx,
                                warehouse: &self.warehouse,
                                catalog: &self.catalog,
                                lock_timeout: self.lock_timeout(),
                            };
                            session.execute(h).await?
                        }
                        ParsedStatement::Model(m) => self.execute_model(m).await?,
                        ParsedStatement::Sql(_) => StatementOutput::Done,
                    };
                    if i + 1 < count
                        && let StatementOutput::Rows(stream) = last
                    {
                        datafusion::physical_plan::common::collect(stream).await?;
                        last = StatementOutput::Done;
                    }
                    continue;
                }
                ParsedStatement::Sql(s) => s,
            };
            let plan = self
                .plan_statement(statement)
                .await
                .map_err(|e| self.with_table_hint(e))?;
            self.check_runtime_statement(&plan)?;
            let quiet = matches!(plan, LogicalPlan::Ddl(_) | LogicalPlan::Statement(_));
            let df = self.ctx.execute_logical_plan(plan).await?;
            if quiet {
                // Run DDL for its effect.
                df.collect().await?;
                last = StatementOutput::Done;
            } else if i + 1 == count {
                last = StatementOutput::Rows(started_when_read(df).await?);
            } else {
                df.collect().await?;
            }
        }
        Ok(last)
    }

    /// DataFusion's own `SET x TO y` / `RESET x` take the same checks as `SET x=y`.
    fn check_runtime_statement(&self, plan: &LogicalPlan) -> Result<()> {
        use datafusion::logical_expr::Statement;
        match plan {
            LogicalPlan::Statement(Statement::SetVariable(s)) => {
                if s.variable.starts_with("datafusion.runtime.") {
                    settings::check_runtime_setting(
                        &s.variable,
                        Some(&s.value),
                        self.shared_pool,
                        &self.access,
                    )
                } else {
                    settings::check_datafusion_setting(&s.variable, &s.value)
                }
            }
            LogicalPlan::Statement(Statement::ResetVariable(r))
                if r.variable.starts_with("datafusion.runtime.") =>
            {
                settings::check_runtime_setting(&r.variable, None, self.shared_pool, &self.access)
            }
            _ => Ok(()),
        }
    }

    async fn execute_model(
        &self,
        statement: crate::sql::model_statements::ModelStatement,
    ) -> Result<StatementOutput> {
        crate::ml::statements::ModelSession {
            ctx: &self.ctx,
            warehouse: &self.warehouse,
            progress_bar: self.progress_bar,
        }
        .execute(statement)
        .await
    }

    /// Shows a progress bar on stderr while `CREATE MODEL` trains (the CLI on a terminal).
    pub fn set_progress_bar(&mut self, on: bool) {
        self.progress_bar = on;
    }

    /// Adds "Did you mean ...?" to a table-not-found error when a table name is close.
    fn with_table_hint(&self, error: ApiaryError) -> ApiaryError {
        let text = error.to_string();
        let Some(missing) = text
            .split_once("table '")
            .and_then(|(_, rest)| rest.split_once("' not found"))
            .map(|(name, _)| name.rsplit('.').next().unwrap_or(name).to_string())
        else {
            return error;
        };
        let names = self.table_names();
        match closest(&missing, names.iter().map(String::as_str)) {
            Some(hint) => ApiaryError::Usage(format!("{text}. Did you mean '{hint}'?")),
            None => error,
        }
    }

    /// Names of all functions: DataFusion's, Hive's, the table functions and the generators,
    /// sorted.
    pub fn function_names(&self) -> Vec<String> {
        let state = self.ctx.state();
        let mut names: Vec<String> = state
            .scalar_functions()
            .keys()
            .chain(state.aggregate_functions().keys())
            .chain(state.window_functions().keys())
            .chain(state.table_functions().keys())
            .cloned()
            .collect();
        names.extend(self.generator_list().iter().map(|g| g.name().to_string()));
        names.sort();
        names.dedup();
        names
    }

    /// Names of the tables and views of the current schema, sorted.
    pub fn table_names(&self) -> Vec<String> {
        let state = self.ctx.state();
        let options = state.config_options();
        let catalog = &options.catalog.default_catalog;
        let schema = &options.catalog.default_schema;
        let mut names = self
            .ctx
            .catalog(catalog)
            .and_then(|c| c.schema(schema))
            .map(|s| s.table_names())
            .unwrap_or_default();
        names.sort();
        names
    }

    /// `DESCRIBE FUNCTION [EXTENDED] name`: for one of Hive's functions, Hive's usage line
    /// (and with EXTENDED, Apiary's description, example and notes); for Apiary's own, its
    /// documentation.
    fn describe_function(&self, name: &str, extended: bool) -> Result<StatementOutput> {
        let lower = name.to_ascii_lowercase();
        let hive =
            apiary_udfs::hive::catalog::hive_function(&lower).filter(|f| !f.usage.is_empty());
        if let Some(hive) = hive
            && !extended
        {
            return Ok(rows_output("tab_name", vec![hive.usage.to_string()]));
        }
        let state = self.ctx.state();
        let doc = state
            .scalar_functions()
            .get(&lower)
            .and_then(|f| f.documentation().cloned())
            .or_else(|| {
                state
                    .aggregate_functions()
                    .get(&lower)
                    .and_then(|f| f.documentation().cloned())
            })
            .or_else(|| {
                state
                    .window_functions()
                    .get(&lower)
                    .and_then(|f| f.documentation().cloned())
            });
        let known = self.function_names().contains(&lower);
        if let Some(hive) = hive {
            use apiary_udfs::hive::catalog::Status;
            let mut lines = vec![hive.usage.to_string()];
            if let Some(doc) = &doc {
                lines.push(doc.description.clone());
                if let Some(example) = &doc.sql_example {
                    lines.push("Example:".to_string());
                    lines.extend(example.lines().map(str::to_string));
                }
            }
            lines.push(match hive.status {
                Status::Hive | Status::Syntax => format!("Hive's {} function.", hive.family),
                Status::Refused => format!("Not supported in Apiary: {}", hive.note),
                Status::Missing => "Not in Apiary yet.".to_string(),
            });
            if !hive.note.is_empty() && hive.status != Status::Refused {
                lines.push(format!("Note: {}", hive.note));
            }
            return Ok(rows_output("tab_name", lines));
        }
        let lines = match doc {
            Some(doc) => {
                let mut lines = vec![
                    format!("Usage: {}", doc.syntax_example),
                    doc.description.clone(),
                ];
                if let Some(args) = &doc.arguments {
                    for (arg, text) in args {
                        lines.push(format!("  {arg}: {text}"));
                    }
                }
                if let Some(example) = &doc.sql_example {
                    lines.push("Example:".to_string());
                    lines.extend(example.lines().map(str::to_string));
                }
                lines
            }
            None if known => vec![format!("Function '{name}' has no documentation")],
            None => {
                // Hive answers a row, not an error.
                let names = self.function_names();
                let hint = closest(&lower, names.iter().map(String::as_str))
                    .map(|s| format!(" Did you mean '{s}'?"))
                    .unwrap_or_default();
                vec![format!("Function '{name}' does not exist.{hint}")]
            }
        };
        Ok(rows_output("tab_name", lines))
    }
}

/// A DataFusion runtime for one warehouse session: local files are read and written through
/// the warehouse's store (replaced files stay readable for queries planned before the
/// replacement; paths outside what `access` allows are refused), and memory is drawn from
/// `memory_pool` when given (shared by sessions: a query that needs more than it holds fails;
/// the process lives on).
pub fn session_runtime(
    memory_pool: Option<Arc<dyn MemoryPool>>,
    access: Arc<FileAccess>,
) -> Result<Arc<RuntimeEnv>> {
    let mut builder = RuntimeEnvBuilder::new();
    if let Some(pool) = memory_pool {
        builder = builder.with_memory_pool(pool);
    }
    let runtime = builder.build_arc()?;
    let local = ObjectStoreUrl::local_filesystem();
    let inner = runtime.object_store(&local)?;
    runtime.register_object_store(local.as_ref(), Arc::new(WarehouseStore::new(inner, access)));
    Ok(runtime)
}

/// A memory pool of `bytes` for sessions to share, as DataFusion builds one for a memory limit
/// (it names the largest consumers when a query runs out).
pub fn shared_memory_pool(bytes: usize) -> Result<Arc<dyn MemoryPool>> {
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_limit(bytes, 1.0)
        .build()?;
    Ok(runtime.memory_pool)
}

/// A query's rows as a stream whose work starts when it is first read: the plan is made now
/// (its schema is known, its errors reported), but nothing runs until the rows are asked for,
/// so a query planned and never fetched (a Flight SQL ticket) costs no CPU.
async fn started_when_read(df: DataFrame) -> Result<SendableRecordBatchStream> {
    let task = Arc::new(df.task_ctx());
    let plan = df.create_physical_plan().await?;
    let schema = plan.schema();
    let rows =
        futures::stream::once(async move { datafusion::physical_plan::execute_stream(plan, task) })
            .try_flatten();
    Ok(Box::pin(RecordBatchStreamAdapter::new(schema, rows)))
}

/// A string table: `columns` names, one `Vec` per row.
pub(crate) fn string_rows(columns: &[&str], rows: Vec<Vec<String>>) -> StatementOutput {
    let schema: SchemaRef = Arc::new(Schema::new(
        columns
            .iter()
            .map(|c| Field::new(*c, DataType::Utf8, false))
            .collect::<Vec<_>>(),
    ));
    let arrays: Vec<ArrayRef> = (0..columns.len())
        .map(|i| {
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r.get(i).cloned().unwrap_or_default()),
            )) as ArrayRef
        })
        .collect();
    let batches = match RecordBatch::try_new(Arc::clone(&schema), arrays) {
        Ok(b) => vec![b],
        Err(_) => vec![],
    };
    match MemoryStream::try_new(batches, schema, None) {
        Ok(s) => StatementOutput::Rows(Box::pin(s)),
        Err(_) => StatementOutput::Done,
    }
}

/// A one-column string result.
pub(crate) fn rows_output(column: &str, lines: Vec<String>) -> StatementOutput {
    let schema: SchemaRef = Arc::new(Schema::new(vec![Field::new(column, DataType::Utf8, false)]));
    let array: ArrayRef = Arc::new(StringArray::from(lines));
    let batches = match RecordBatch::try_new(Arc::clone(&schema), vec![array]) {
        Ok(b) => vec![b],
        Err(_) => vec![],
    };
    match MemoryStream::try_new(batches, schema, None) {
        Ok(s) => StatementOutput::Rows(Box::pin(s)),
        Err(_) => StatementOutput::Done,
    }
}
