//! Physical planning of Apiary's logical extension nodes.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::{Result, internal_err};
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{LogicalPlan, UserDefinedLogicalNode};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_planner::{DefaultPhysicalPlanner, ExtensionPlanner, PhysicalPlanner};

use crate::exec::generate::GenerateExec;
use crate::plan::generate::GenerateNode;

/// DataFusion's physical planner plus Apiary's extension planners.
#[derive(Debug, Default)]
pub struct ApiaryQueryPlanner;

#[async_trait]
impl QueryPlanner for ApiaryQueryPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session: &dyn Session,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let planner =
            DefaultPhysicalPlanner::with_extension_planners(vec![Arc::new(GeneratePlanner)]);
        let plan = planner.create_physical_plan(logical_plan, session).await?;
        // Queries must yield to be cancelled (see `with_yield_points`).
        crate::exec::pool::with_yield_points(plan)
    }
}

/// Plans a [`GenerateNode`] as a [`GenerateExec`].
#[derive(Debug, Default)]
pub struct GeneratePlanner;

#[async_trait]
impl ExtensionPlanner for GeneratePlanner {
    async fn plan_extension(
        &self,
        planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        logical_inputs: &[&LogicalPlan],
        physical_inputs: &[Arc<dyn ExecutionPlan>],
        session: &dyn Session,
        planning_ctx: &PhysicalPlanningContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let Some(node) = node.as_any().downcast_ref::<GenerateNode>() else {
            return Ok(None);
        };
        let (Some(logical_input), Some(physical_input)) =
            (logical_inputs.first(), physical_inputs.first())
        else {
            return internal_err!("Generate has no input");
        };
        let args = node
            .args
            .iter()
            .map(|e| planner.create_physical_expr(e, logical_input.schema(), session, planning_ctx))
            .collect::<Result<Vec<_>>>()?;
        let width = physical_input.schema().fields().len();
        Ok(Some(Arc::new(GenerateExec::try_new(
            Arc::clone(physical_input),
            Arc::clone(&node.generator),
            args,
            node.outer,
            node.alias.clone(),
            (0..width).collect(),
            node.generated.clone(),
        )?)))
    }
}
