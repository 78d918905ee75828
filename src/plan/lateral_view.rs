//! `LateralViewPlanner`: plans generator relations that the SQL rewrite left in the AST.
//!
//! The rewrite turns `<rel> LATERAL VIEW [OUTER] g(args) v AS a, b` into the relation
//! `(<rel> CROSS APPLY | OUTER APPLY g(args) AS v(a, b))`, and a generator in FROM stays a
//! table function call `g(args) [AS v(a, b)]`. This planner recognises both and builds a
//! [`GenerateNode`]; everything else goes to DataFusion's own planning.

use std::sync::{Arc, RwLock};

use apiary_udfs::{Generator, GeneratorRegistry};
use datafusion::common::{DFSchema, Result, plan_datafusion_err, plan_err};
use datafusion::logical_expr::planner::{
    PlannedRelation, RelationPlanner, RelationPlannerContext, RelationPlanning,
};
use datafusion::logical_expr::{EmptyRelation, Expr, Extension, LogicalPlan};
use datafusion::sql::sqlparser::ast::{
    FunctionArg, FunctionArgExpr, Join, JoinOperator, ObjectName, TableAlias, TableFactor,
    TableFunctionArgs, TableWithJoins,
};

use crate::plan::generate::GenerateNode;
use crate::suggest::closest;

/// Plans LATERAL VIEW (as APPLY) and generators in FROM.
#[derive(Debug)]
pub struct LateralViewPlanner {
    generators: Arc<RwLock<GeneratorRegistry>>,
}

impl LateralViewPlanner {
    /// A planner that resolves generator names in `generators`.
    pub fn new(generators: Arc<RwLock<GeneratorRegistry>>) -> Self {
        Self { generators }
    }

    fn lookup(&self, name: &ObjectName) -> Result<Option<Arc<dyn Generator>>> {
        let registry = self
            .generators
            .read()
            .map_err(|_| plan_datafusion_err!("generator registry is poisoned"))?;
        Ok(registry.get(&object_name_text(name)).cloned())
    }

    fn generator_names(&self) -> Vec<String> {
        self.generators
            .read()
            .map(|r| r.iter().map(|g| g.name().to_string()).collect())
            .unwrap_or_default()
    }
}

fn object_name_text(name: &ObjectName) -> String {
    name.0
        .iter()
        .filter_map(|p| p.as_ident().map(|i| i.value.clone()))
        .collect::<Vec<_>>()
        .join(".")
}

/// A generator call as it sits in the AST.
struct GeneratorCall {
    name: ObjectName,
    args: TableFunctionArgs,
    alias: Option<TableAlias>,
}

fn into_call(factor: TableFactor) -> Option<GeneratorCall> {
    match factor {
        TableFactor::Table {
            name,
            args: Some(args),
            alias,
            ..
        } => Some(GeneratorCall { name, args, alias }),
        _ => None,
    }
}

fn is_apply(join: &Join) -> Option<bool> {
    match join.join_operator {
        JoinOperator::CrossApply => Some(false),
        JoinOperator::OuterApply => Some(true),
        _ => None,
    }
}

impl RelationPlanner for LateralViewPlanner {
    fn plan_relation(
        &self,
        relation: TableFactor,
        context: &mut dyn RelationPlannerContext,
    ) -> Result<RelationPlanning> {
        // `(<left> CROSS APPLY g(args) AS v(a, b))`. The left side is moved, not copied: in a
        // chain of LATERAL VIEWs it holds all the others.
        let is_apply_relation = matches!(
            &relation,
            TableFactor::NestedJoin { table_with_joins, .. }
                if matches!(table_with_joins.joins.as_slice(), [join] if is_apply(join).is_some())
        );
        if is_apply_relation
            && let TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } = relation
        {
            let TableWithJoins {
                relation: left,
                mut joins,
            } = *table_with_joins;
            let Some(join) = joins.pop() else {
                return plan_err!("APPLY / LATERAL VIEW needs a generator call");
            };
            let outer = is_apply(&join).unwrap_or(false);
            let Some(call) = into_call(join.relation) else {
                return plan_err!(
                    "APPLY / LATERAL VIEW needs a generator call such as explode(...)"
                );
            };
            let Some(generator) = self.lookup(&call.name)? else {
                return Err(self.not_a_generator(&call.name));
            };
            let left = context.plan(left)?;
            let plan = self.plan_call(generator, call, Arc::new(left), outer, context)?;
            return Ok(RelationPlanning::Planned(Box::new(PlannedRelation::new(
                plan, alias,
            ))));
        }
        // `SELECT ... FROM g(args) [AS v(a, b)]`
        let generator = match &relation {
            TableFactor::Table {
                name,
                args: Some(_),
                ..
            } => self.lookup(name)?,
            _ => None,
        };
        if let Some(generator) = generator
            && let Some(call) = into_call(relation.clone())
        {
            let one_row = LogicalPlan::EmptyRelation(EmptyRelation {
                produce_one_row: true,
                schema: Arc::new(DFSchema::empty()),
            });
            let plan = self.plan_call(generator, call, Arc::new(one_row), false, context)?;
            return Ok(RelationPlanning::Planned(Box::new(PlannedRelation::new(
                plan, None,
            ))));
        }
        Ok(RelationPlanning::Original(Box::new(relation)))
    }
}

impl LateralViewPlanner {
    fn not_a_generator(&self, name: &ObjectName) -> datafusion::error::DataFusionError {
        let text = object_name_text(name);
        let names = self.generator_names();
        let hint = closest(&text, names.iter().map(String::as_str))
            .map(|s| format!(" Did you mean '{s}'?"))
            .unwrap_or_default();
        plan_datafusion_err!(
            "'{text}' is not a generator (table-generating function), so it cannot be used in \
             LATERAL VIEW. Generators: {}.{hint}",
            names.join(", ")
        )
    }

    fn plan_call(
        &self,
        generator: Arc<dyn Generator>,
        call: GeneratorCall,
        input: Arc<LogicalPlan>,
        outer: bool,
        context: &mut dyn RelationPlannerContext,
    ) -> Result<LogicalPlan> {
        let schema = Arc::clone(input.schema());
        let mut args: Vec<Expr> = Vec::with_capacity(call.args.args.len());
        for (i, arg) in call.args.args.into_iter().enumerate() {
            let expr = match arg {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => e,
                other => {
                    return plan_err!(
                        "{}: argument {} ({other}) must be a plain expression",
                        generator.name(),
                        i + 1
                    );
                }
            };
            args.push(context.sql_to_expr(expr, &schema)?);
        }
        let (alias, columns) = match call.alias {
            Some(a) => (
                Some(context.normalize_ident(a.name)),
                a.columns
                    .into_iter()
                    .map(|c| context.normalize_ident(c.name))
                    .collect::<Vec<_>>(),
            ),
            None => (None, vec![]),
        };
        let node = GenerateNode::try_new(input, generator, args, outer, alias, &columns)?;
        Ok(LogicalPlan::Extension(Extension {
            node: Arc::new(node),
        }))
    }
}
