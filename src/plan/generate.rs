//! `GenerateNode`: the logical operator behind LATERAL VIEW and every generator call.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use apiary_udfs::{Generator, GeneratorArg};
use datafusion::arrow::datatypes::Field;
use datafusion::common::{DFSchema, DFSchemaRef, Result, TableReference, plan_err};
use datafusion::logical_expr::{
    Expr, ExprSchemable, LogicalPlan, UserDefinedLogicalNodeCore, cast,
};

/// Applies a generator to every row of its input: the output is the input's columns
/// (with their own qualifiers) followed by the generated columns, qualified by the view alias.
#[derive(Debug, Clone)]
pub struct GenerateNode {
    /// The input rows.
    pub input: Arc<LogicalPlan>,
    /// The generator, resolved at plan time.
    pub generator: Arc<dyn Generator>,
    /// The generator's arguments, already cast to the types it asked for.
    pub args: Vec<Expr>,
    /// LATERAL VIEW OUTER: a NULL-padded row for input rows that generate nothing.
    pub outer: bool,
    /// The view alias that qualifies the generated columns.
    pub alias: Option<String>,
    /// The generated columns' fields (names already aliased).
    pub generated: Vec<Field>,
    schema: DFSchemaRef,
}

impl GenerateNode {
    /// Plans `generator(args)` over `input`: checks and coerces the arguments, names the
    /// outputs (`column_aliases` override the generator's default names, and must match
    /// their number).
    pub fn try_new(
        input: Arc<LogicalPlan>,
        generator: Arc<dyn Generator>,
        args: Vec<Expr>,
        outer: bool,
        alias: Option<String>,
        column_aliases: &[String],
    ) -> Result<Self> {
        let input_schema = input.schema();
        let mut infos = args
            .iter()
            .map(|e| arg_info(e, input_schema))
            .collect::<Result<Vec<_>>>()?;
        let wanted = generator.coerce_arguments(&infos)?;
        let mut coerced = Vec::with_capacity(args.len());
        for ((expr, info), want) in args.into_iter().zip(infos.iter_mut()).zip(wanted) {
            if info.data_type() == &want {
                coerced.push(expr);
            } else {
                let expr = cast(expr, want.clone());
                *info = arg_info(&expr, input_schema)?;
                coerced.push(expr);
            }
        }
        let mut generated = generator.output_fields(&infos)?;
        if !column_aliases.is_empty() {
            if column_aliases.len() != generated.len() {
                return plan_err!(
                    "{} produces {} column(s) ({}) but {} alias(es) were given ({})",
                    generator.name(),
                    generated.len(),
                    generated
                        .iter()
                        .map(|f| f.name().as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    column_aliases.len(),
                    column_aliases.join(", ")
                );
            }
            generated = generated
                .into_iter()
                .zip(column_aliases)
                .map(|(f, a)| f.with_name(a))
                .collect();
        }
        generated = generated
            .into_iter()
            .map(|f| f.with_nullable(true))
            .collect();
        let schema = Self::make_schema(input_schema, alias.as_deref(), &generated)?;
        Ok(Self {
            input,
            generator,
            args: coerced,
            outer,
            alias,
            generated,
            schema,
        })
    }

    fn make_schema(
        input: &DFSchema,
        alias: Option<&str>,
        generated: &[Field],
    ) -> Result<DFSchemaRef> {
        let mut fields: Vec<(Option<TableReference>, Arc<Field>)> = input
            .iter()
            .map(|(q, f)| (q.cloned(), Arc::clone(f)))
            .collect();
        let qualifier = alias.map(TableReference::bare);
        fields.extend(
            generated
                .iter()
                .map(|f| (qualifier.clone(), Arc::new(f.clone()))),
        );
        Ok(Arc::new(DFSchema::new_with_metadata(
            fields,
            input.metadata().clone(),
        )?))
    }

    /// Number of pass-through (input) columns before the generated ones.
    pub fn input_width(&self) -> usize {
        self.input.schema().fields().len()
    }
}

/// Type and, for constants, value of one generator argument.
fn arg_info(expr: &Expr, schema: &DFSchema) -> Result<GeneratorArg> {
    let (_, field) = expr.to_field(schema)?;
    let literal = match expr {
        Expr::Literal(v, _) => Some(v.clone()),
        Expr::Cast(c) => match c.expr.as_ref() {
            Expr::Literal(v, _) => v.cast_to(c.field.data_type()).ok(),
            _ => None,
        },
        Expr::Negative(inner) => match inner.as_ref() {
            Expr::Literal(v, _) => v.arithmetic_negate().ok(),
            _ => None,
        },
        _ => None,
    };
    Ok(GeneratorArg { field, literal })
}

impl PartialEq for GenerateNode {
    fn eq(&self, other: &Self) -> bool {
        self.generator.name() == other.generator.name()
            && self.args == other.args
            && self.outer == other.outer
            && self.alias == other.alias
            && self.generated == other.generated
            && self.input == other.input
    }
}

impl Eq for GenerateNode {}

impl Hash for GenerateNode {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.generator.name().hash(state);
        self.args.hash(state);
        self.outer.hash(state);
        self.alias.hash(state);
        self.input.hash(state);
    }
}

impl PartialOrd for GenerateNode {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match self.generator.name().partial_cmp(other.generator.name()) {
            Some(Ordering::Equal) => {}
            ord => return ord,
        }
        match self.args.partial_cmp(&other.args) {
            Some(Ordering::Equal) => {}
            ord => return ord,
        }
        match self.outer.partial_cmp(&other.outer) {
            Some(Ordering::Equal) => {}
            ord => return ord,
        }
        match self.alias.partial_cmp(&other.alias) {
            Some(Ordering::Equal) => {}
            ord => return ord,
        }
        self.input.partial_cmp(&other.input)
    }
}

/// `explode(t.arr) AS v(x)` — the text EXPLAIN shows for a Generate node.
pub(crate) fn describe_call(
    generator: &str,
    args: &[String],
    outer: bool,
    alias: Option<&str>,
    generated: &[Field],
) -> String {
    format!(
        "{}{generator}({}) AS {}({})",
        if outer { "OUTER " } else { "" },
        args.join(", "),
        alias.unwrap_or("_"),
        generated
            .iter()
            .map(|f| f.name().as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

impl UserDefinedLogicalNodeCore for GenerateNode {
    fn name(&self) -> &str {
        "Generate"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![&self.input]
    }

    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }

    fn expressions(&self) -> Vec<Expr> {
        self.args.clone()
    }

    fn prevent_predicate_push_down_columns(&self) -> HashSet<String> {
        self.generated.iter().map(|f| f.name().clone()).collect()
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let args: Vec<String> = self.args.iter().map(|a| a.to_string()).collect();
        write!(
            f,
            "Generate: {}",
            describe_call(
                self.generator.name(),
                &args,
                self.outer,
                self.alias.as_deref(),
                &self.generated
            )
        )
    }

    fn with_exprs_and_inputs(
        &self,
        exprs: Vec<Expr>,
        mut inputs: Vec<LogicalPlan>,
    ) -> Result<Self> {
        let Some(input) = inputs.pop() else {
            return plan_err!("Generate takes exactly one input");
        };
        // Optimizer passes rebuild every node, mostly over an unchanged input: keep the
        // schema then (building one checks all its names, and a chain of LATERAL VIEWs would
        // pay that for each of its nodes, on every pass).
        let unchanged = Arc::ptr_eq(input.schema(), self.input.schema())
            || input.schema() == self.input.schema();
        let schema = if unchanged {
            Arc::clone(&self.schema)
        } else {
            Self::make_schema(input.schema(), self.alias.as_deref(), &self.generated)?
        };
        Ok(Self {
            input: Arc::new(input),
            generator: Arc::clone(&self.generator),
            args: exprs,
            outer: self.outer,
            alias: self.alias.clone(),
            generated: self.generated.clone(),
            schema,
        })
    }

    fn necessary_children_exprs(&self, output_columns: &[usize]) -> Option<Vec<Vec<usize>>> {
        // Only the input columns used above the node; the arguments' own columns are
        // added by the optimizer from `expressions()`.
        let width = self.input_width();
        Some(vec![
            output_columns
                .iter()
                .copied()
                .filter(|&i| i < width)
                .collect(),
        ])
    }

    fn supports_limit_pushdown(&self) -> bool {
        false
    }
}

impl fmt::Display for GenerateNode {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.fmt_for_explain(f)
    }
}
