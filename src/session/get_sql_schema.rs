//! Hive's `get_sql_schema(query)`: one row per column of the query's result, its name and
//! Hive type (`col_name`, `col_type`), the query planned as the session plans any other (in
//! the current database, never run). A table function, as Hive's UDTF: `SELECT * FROM
//! get_sql_schema('SELECT ...')`, and Hive's own form `SELECT get_sql_schema('SELECT ...')`
//! (rewritten to the former, [`crate::sql::rewrite`]). It lives with the session because it
//! plans SQL with the session's front end.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{DataFusionError, Result, ScalarValue, plan_err};
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::ExecutionPlan;

use crate::sql::hive_types::hive_type_name;
use crate::warehouse::views::ViewPlanner;

/// The function's name.
pub const NAME: &str = "get_sql_schema";

/// `get_sql_schema(query)`.
#[derive(Debug)]
pub struct GetSqlSchema {
    planner: ViewPlanner,
}

impl GetSqlSchema {
    /// The function for the session whose queries `planner` plans.
    pub fn new(planner: ViewPlanner) -> Self {
        Self { planner }
    }
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("col_name", DataType::Utf8, false),
        Field::new("col_type", DataType::Utf8, false),
    ]))
}

impl TableFunctionImpl for GetSqlSchema {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let query = match args.exprs() {
            [Expr::Literal(value, _)] => match value {
                ScalarValue::Utf8(Some(q))
                | ScalarValue::LargeUtf8(Some(q))
                | ScalarValue::Utf8View(Some(q)) => q.clone(),
                _ => return plan_err!("{NAME}: takes the text of a query, got {value}"),
            },
            exprs => {
                return plan_err!(
                    "{NAME}: takes one constant string, the text of a query (got {} arguments)",
                    exprs.len()
                );
            }
        };
        let db = args
            .session()
            .config_options()
            .catalog
            .default_schema
            .clone();
        Ok(Arc::new(QuerySchema {
            planner: self.planner.clone(),
            db,
            query,
            schema: schema(),
        }))
    }
}

/// The rows of one call, made when it is scanned.
#[derive(Debug)]
struct QuerySchema {
    planner: ViewPlanner,
    db: String,
    query: String,
    schema: SchemaRef,
}

#[async_trait]
impl TableProvider for QuerySchema {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let plan = self
            .planner
            .plan_query(&self.db, NAME, &self.query)
            .await
            .map_err(|e| {
                let message = match e {
                    DataFusionError::Plan(m) => m,
                    other => other.strip_backtrace(),
                };
                DataFusionError::Plan(format!("{NAME}: {message}"))
            })?;
        let fields = plan.schema().fields();
        let names = StringArray::from_iter_values(fields.iter().map(|f| f.name().clone()));
        let types =
            StringArray::from_iter_values(fields.iter().map(|f| hive_type_name(f.data_type())));
        let batch = RecordBatch::try_new(
            Arc::clone(&self.schema),
            vec![Arc::new(names), Arc::new(types)],
        )?;
        MemorySourceConfig::try_new_exec(
            &[vec![batch]],
            Arc::clone(&self.schema),
            projection.cloned(),
        )
        .map(|e| e as Arc<dyn ExecutionPlan>)
    }
}
