//! `ApiaryContext`: one session of the engine, shared by every front end.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use apiary_udfs::{Generator, GeneratorRegistry};
use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::logical_expr::{LogicalPlan, ScalarUDF};
use datafusion::physical_plan::memory::MemoryStream;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::Statement as DFStatement;

use crate::catalog::register_sample_tables;
use crate::error::{ApiaryError, Result};
use crate::exec::ApiaryQueryPlanner;
use crate::plan::LateralViewPlanner;
use crate::plan::hive_exprs::HiveExprPlanner;
use crate::plan::placeholder::GeneratorPlaceholder;
use crate::sql::command::{Command, classify, like_matches};
use crate::sql::hive_types::hive_type_name;
use crate::sql::parse::parse_statements;
use crate::sql::rewrite::FunctionKinds;
use crate::sql::vars::Variables;
use crate::suggest::closest;

/// What running one statement produced.
pub enum StatementOutput {
    /// Rows, streamed.
    Rows(SendableRecordBatchStream),
    /// Done, nothing to show (DDL, `SET k=v`).
    Done,
    /// `SOURCE file`: the front end runs the file's statements.
    Source(PathBuf),
}

impl std::fmt::Debug for StatementOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Rows(s) => write!(f, "Rows({})", s.schema()),
            Self::Done => write!(f, "Done"),
            Self::Source(p) => write!(f, "Source({})", p.display()),
        }
    }
}

/// A session: DataFusion's context with Apiary's planner, functions, generators, sample
/// tables and Hive variables.
pub struct ApiaryContext {
    ctx: SessionContext,
    generators: Arc<RwLock<GeneratorRegistry>>,
    variables: Variables,
}

impl std::fmt::Debug for ApiaryContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiaryContext").finish_non_exhaustive()
    }
}

struct Kinds<'a> {
    generators: &'a GeneratorRegistry,
    ctx: &'a SessionContext,
}

impl FunctionKinds for Kinds<'_> {
    fn is_generator(&self, name: &str) -> bool {
        self.generators.contains(name)
    }

    fn is_aggregate(&self, name: &str) -> bool {
        self.ctx
            .state_ref()
            .read()
            .aggregate_functions()
            .contains_key(name)
    }
}

impl ApiaryContext {
    /// A session with the default configuration and the sample tables.
    pub async fn new() -> Result<Self> {
        Self::with_config(SessionConfig::new()).await
    }

    /// A session with DataFusion configuration `config` (information schema always on).
    pub async fn with_config(config: SessionConfig) -> Result<Self> {
        let generators = Arc::new(RwLock::new(GeneratorRegistry::default()));
        let config = config
            .with_information_schema(true)
            .set_str("datafusion.sql_parser.dialect", "hive");
        let mut builder = SessionStateBuilder::new()
            .with_config(config)
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
        let ctx = SessionContext::new_with_state(state);
        let this = Self {
            ctx,
            generators,
            variables: Variables::default(),
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
    pub fn parse(&self, text: &str) -> Result<Vec<DFStatement>> {
        let registry = self
            .generators
            .read()
            .map_err(|_| ApiaryError::Usage("generator registry is poisoned".into()))?;
        let kinds = Kinds {
            generators: &registry,
            ctx: &self.ctx,
        };
        Ok(parse_statements(text, &kinds)?)
    }

    /// The logical plans of the SQL statements in `text` — the single planning entry
    /// point of every front end.
    pub async fn plan_sql(&self, text: &str) -> Result<Vec<LogicalPlan>> {
        let statements = self.parse(text)?;
        let mut plans = Vec::with_capacity(statements.len());
        for s in statements {
            let state = self.ctx.state();
            plans.push(state.statement_to_plan(s).await?);
        }
        Ok(plans)
    }

    /// Runs one statement (already split from its script, `${}` not yet substituted).
    pub async fn execute(&mut self, text: &str) -> Result<StatementOutput> {
        let text = self.variables.substitute(text);
        match classify(&text) {
            Command::Sql => self.execute_sql(&text).await,
            Command::ListVariables => {
                let mut lines: Vec<String> = self
                    .variables
                    .hiveconf
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
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
                        self.variables.lookup(&name)
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
                if key.starts_with("datafusion.") {
                    let state = self.ctx.state_ref();
                    let mut state = state.write();
                    state
                        .config_mut()
                        .options_mut()
                        .set(&key, &value)
                        .map_err(ApiaryError::from)?;
                } else if let Some(k) = key.strip_prefix("hivevar:") {
                    self.variables.hivevar.insert(k.to_string(), value);
                } else {
                    let k = key.strip_prefix("hiveconf:").unwrap_or(&key);
                    self.variables.hiveconf.insert(k.to_string(), value);
                }
                Ok(StatementOutput::Done)
            }
            Command::Source(path) => Ok(StatementOutput::Source(PathBuf::from(path))),
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
            Command::DescribeFunction(name) => self.describe_function(&name),
            Command::DescribeTable(name) => self.describe_table(&name).await,
            Command::ShowTables(pattern) => {
                let names = self.table_names();
                Ok(rows_output(
                    "tab_name",
                    names
                        .into_iter()
                        .filter(|n| pattern.as_deref().is_none_or(|p| like_matches(p, n)))
                        .collect(),
                ))
            }
        }
    }

    async fn execute_sql(&self, text: &str) -> Result<StatementOutput> {
        let plans = self
            .plan_sql(text)
            .await
            .map_err(|e| self.with_table_hint(e))?;
        let mut last = StatementOutput::Done;
        let count = plans.len();
        for (i, plan) in plans.into_iter().enumerate() {
            let quiet = matches!(plan, LogicalPlan::Ddl(_) | LogicalPlan::Statement(_));
            let df = self.ctx.execute_logical_plan(plan).await?;
            if quiet {
                // Run DDL for its effect.
                df.collect().await?;
                last = StatementOutput::Done;
            } else if i + 1 == count {
                last = StatementOutput::Rows(df.execute_stream().await?);
            } else {
                df.collect().await?;
            }
        }
        Ok(last)
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

    /// Names of all functions: DataFusion's, Hive's and the generators, sorted.
    pub fn function_names(&self) -> Vec<String> {
        let state = self.ctx.state();
        let mut names: Vec<String> = state
            .scalar_functions()
            .keys()
            .chain(state.aggregate_functions().keys())
            .chain(state.window_functions().keys())
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

    /// Hive's `DESCRIBE t`: `col_name`, `data_type` (Hive type names), `comment`.
    async fn describe_table(&self, name: &str) -> Result<StatementOutput> {
        let table = match self.ctx.table_provider(name).await {
            Ok(t) => t,
            Err(e) => return Err(self.with_table_hint(ApiaryError::from(e))),
        };
        let schema = table.schema();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(
                schema.fields().iter().map(|f| f.name().clone()),
            )),
            Arc::new(StringArray::from_iter_values(
                schema
                    .fields()
                    .iter()
                    .map(|f| hive_type_name(f.data_type())),
            )),
            Arc::new(StringArray::from_iter_values(schema.fields().iter().map(
                |f| f.metadata().get("comment").cloned().unwrap_or_default(),
            ))),
        ];
        let out_schema: SchemaRef = Arc::new(Schema::new(vec![
            Field::new("col_name", DataType::Utf8, false),
            Field::new("data_type", DataType::Utf8, false),
            Field::new("comment", DataType::Utf8, false),
        ]));
        let batch = RecordBatch::try_new(Arc::clone(&out_schema), columns)
            .map_err(DataFusionError::from)?;
        Ok(StatementOutput::Rows(Box::pin(MemoryStream::try_new(
            vec![batch],
            out_schema,
            None,
        )?)))
    }

    fn describe_function(&self, name: &str) -> Result<StatementOutput> {
        let lower = name.to_ascii_lowercase();
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

/// A one-column string result.
fn rows_output(column: &str, lines: Vec<String>) -> StatementOutput {
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
