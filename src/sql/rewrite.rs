//! AST rewrites that make Hive's generator forms plannable by DataFusion.
//!
//! * A generator in the SELECT list becomes an APPLY on the FROM relation (wrapped in a
//!   subquery first when the SELECT aggregates or windows).
//! * Every `rel CROSS|OUTER APPLY g(...)` join is nested as `(rel APPLY g(...))`, one APPLY per
//!   nesting level, so that [`crate::plan::LateralViewPlanner`] sees each as one relation.
//! * Generators where Hive forbids them (inside expressions, WHERE, GROUP BY, ...) are errors.

use std::ops::ControlFlow;

use datafusion::common::{DataFusionError, Result};
use datafusion::sql::parser::{CopyToSource, Statement as DFStatement};
use datafusion::sql::sqlparser::ast::{
    Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr, Ident, Join,
    JoinOperator, ObjectName, ObjectNamePart, OrderBy, OrderByExpr, OrderByKind, OrderByOptions,
    Query, Select, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, TableAlias,
    TableAliasColumnDef, TableFactor, TableFunctionArgs, TableWithJoins, UnaryOperator, Visit,
    VisitMut, Visitor, VisitorMut, WildcardAdditionalOptions,
};

use super::column_names::name_columns_as_hive;
use super::field_access::hive_field_access;
use super::lateral::MULTI_ALIAS_SEPARATOR;

/// What the rewrite needs to know about function names.
pub trait FunctionKinds {
    /// True when `name` is a generator.
    fn is_generator(&self, name: &str) -> bool;
    /// True when `name` is an aggregate function.
    fn is_aggregate(&self, name: &str) -> bool;
}

/// Rewrites one parsed statement in place.
pub fn rewrite_statement(statement: &mut DFStatement, kinds: &dyn FunctionKinds) -> Result<()> {
    match statement {
        DFStatement::Statement(s) => {
            // Views and Hive's TEMPORARY tables live in the session (DataFusion's in-memory
            // objects); persistent tables are the warehouse's.
            use datafusion::sql::sqlparser::ast::Statement;
            match s.as_mut() {
                Statement::CreateView(view) => view.temporary = false,
                Statement::CreateTable(table) => table.temporary = false,
                _ => {}
            }
            visit(s.as_mut(), kinds)
        }
        DFStatement::CopyTo(copy) => match &mut copy.source {
            CopyToSource::Query(q) => visit(q.as_mut(), kinds),
            CopyToSource::Relation(_) => Ok(()),
        },
        DFStatement::Explain(explain) => rewrite_statement(explain.statement.as_mut(), kinds),
        DFStatement::CreateExternalTable(_) | DFStatement::Reset(_) => Ok(()),
    }
}

fn visit<T: VisitMut>(node: &mut T, kinds: &dyn FunctionKinds) -> Result<()> {
    super::file_tables::rewrite_file_tables(node)?;
    let mut v = Rewriter { kinds };
    match node.visit(&mut v) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

struct Rewriter<'a> {
    kinds: &'a dyn FunctionKinds,
}

impl VisitorMut for Rewriter<'_> {
    type Break = DataFusionError;

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<Self::Break> {
        hive_sort_clauses(query);
        if let Err(e) = super::grouping::rewrite_hive_grouping(query) {
            return ControlFlow::Break(e);
        }
        match self.rewrite_set_expr(query.body.as_mut()) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => ControlFlow::Break(e),
        }
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<Self::Break> {
        hive_field_access(expr);
        super::skip_nulls::hive_skip_nulls(expr);
        super::hive_cast::rewrite_cast(expr);
        super::between::hive_between(expr);
        super::count_distinct::hive_count_distinct(expr);
        super::int_literals::hive_int_literal_args(expr);
        // Hive's `map()` is an empty map; DataFusion's planner refuses `map` without
        // arguments before any hook runs, so call the Hive planner's `make_map()` instead.
        if let Expr::Function(f) = expr
            && function_name(f) == "map"
            && matches!(&f.args, FunctionArguments::List(l) if l.args.is_empty())
        {
            f.name = ObjectName::from(vec![ident("make_map")]);
        }
        // `a [NOT] RLIKE|REGEXP p` → `[NOT] rlike(a, p)` (Hive's: Java's find(), a partial
        // match); `a [NOT] LIKE p` → `[NOT] like(a, p)` (Hive's LIKE, whose `_` and `%` do not
        // match line terminators); `a [NOT] LIKE ANY (p1, ...)` → `[NOT] likeany(a, p1, ...)`.
        let rewritten = match expr {
            Expr::RLike {
                negated,
                expr: subject,
                pattern,
                ..
            } => Some((
                *negated,
                "rlike",
                vec![subject.as_ref().clone(), pattern.as_ref().clone()],
            )),
            Expr::Like {
                negated,
                any,
                expr: subject,
                pattern,
                escape_char: None,
            } => {
                let mut args = vec![subject.as_ref().clone()];
                if *any {
                    match pattern.as_ref() {
                        Expr::Tuple(patterns) => args.extend(patterns.iter().cloned()),
                        Expr::Nested(p) => args.push(p.as_ref().clone()),
                        other => args.push(other.clone()),
                    }
                } else {
                    args.push(pattern.as_ref().clone());
                }
                Some((*negated, if *any { "likeany" } else { "like" }, args))
            }
            _ => None,
        };
        if let Some((negated, name, args)) = rewritten {
            let call = super::dialect::call(name, args);
            *expr = if negated {
                Expr::UnaryOp {
                    op: UnaryOperator::Not,
                    expr: Box::new(Expr::Nested(Box::new(call))),
                }
            } else {
                call
            };
        }
        ControlFlow::Continue(())
    }
}

/// Hive's `SORT BY`, `DISTRIBUTE BY` and `CLUSTER BY` choose reducers and sort within each;
/// on one engine the reducer split is invisible, so `SORT BY x` and `CLUSTER BY x` order the
/// result by x (a valid answer: Hive guarantees no order across reducers) and
/// `DISTRIBUTE BY` alone changes nothing.
fn hive_sort_clauses(query: &mut Query) {
    let SetExpr::Select(select) = query.body.as_mut() else {
        return;
    };
    let sort_by = std::mem::take(&mut select.sort_by);
    let cluster_by = std::mem::take(&mut select.cluster_by);
    select.distribute_by.clear();
    let mut order: Vec<OrderByExpr> = sort_by;
    order.extend(cluster_by.into_iter().map(|expr| OrderByExpr {
        expr,
        options: OrderByOptions {
            asc: None,
            nulls_first: None,
        },
        with_fill: None,
    }));
    if !order.is_empty() && query.order_by.is_none() {
        query.order_by = Some(OrderBy {
            kind: OrderByKind::Expressions(order),
            interpolate: None,
        });
    }
}

fn function_name(f: &Function) -> String {
    object_name_text(&f.name)
}

fn object_name_text(name: &ObjectName) -> String {
    name.0
        .iter()
        .filter_map(ObjectNamePart::as_ident)
        .map(|i| i.value.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(".")
}

fn ident(name: &str) -> Ident {
    Ident::new(name)
}

fn column(parts: &[&str]) -> Expr {
    Expr::CompoundIdentifier(parts.iter().map(|p| ident(p)).collect())
}

/// Finds generator calls anywhere inside an expression.
struct FindGenerators<'a> {
    kinds: &'a dyn FunctionKinds,
    found: Vec<String>,
    aggregate_or_window: bool,
}

impl Visitor for FindGenerators<'_> {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if let Expr::Function(f) = expr {
            let name = function_name(f);
            if self.kinds.is_generator(&name) {
                self.found.push(name);
            } else if f.over.is_some() || self.kinds.is_aggregate(&name) {
                self.aggregate_or_window = true;
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
        // Subqueries are rewritten on their own.
        ControlFlow::Continue(())
    }
}

fn scan(kinds: &dyn FunctionKinds, expr: &Expr) -> (Vec<String>, bool) {
    let mut f = FindGenerators {
        kinds,
        found: vec![],
        aggregate_or_window: false,
    };
    let _ = expr.visit(&mut f);
    (f.found, f.aggregate_or_window)
}

/// The generator call at the top of a select item, with its aliases.
struct TopGenerator {
    position: usize,
    function: Function,
    aliases: Vec<Ident>,
}

impl Rewriter<'_> {
    fn rewrite_set_expr(&self, body: &mut SetExpr) -> Result<()> {
        match body {
            SetExpr::Select(select) => self.rewrite_select(select.as_mut()),
            SetExpr::SetOperation { left, right, .. } => {
                self.rewrite_set_expr(left.as_mut())?;
                self.rewrite_set_expr(right.as_mut())
            }
            _ => Ok(()),
        }
    }

    fn forbid(&self, expr: Option<&Expr>, clause: &str) -> Result<()> {
        if let Some(e) = expr {
            let (found, _) = scan(self.kinds, e);
            if let Some(g) = found.first() {
                return Err(DataFusionError::Plan(format!(
                    "generator {g} is not allowed in {clause}; use LATERAL VIEW {g}(...) instead"
                )));
            }
        }
        Ok(())
    }

    fn rewrite_select(&self, select: &mut Select) -> Result<()> {
        super::select_table_function::select_list_table_function(select)?;
        name_columns_as_hive(
            select,
            |e| matches!(e, Expr::Function(f) if self.kinds.is_generator(&function_name(f))),
        );
        self.forbid(select.selection.as_ref(), "WHERE")?;
        self.forbid(select.having.as_ref(), "HAVING")?;
        if let GroupByExpr::Expressions(exprs, _) = &select.group_by {
            for e in exprs {
                self.forbid(Some(e), "GROUP BY")?;
            }
        }
        let mut top: Option<TopGenerator> = None;
        let mut aggregates = false;
        for (position, item) in select.projection.iter().enumerate() {
            let (expr, aliases) = match item {
                SelectItem::UnnamedExpr(e) => (e, vec![]),
                SelectItem::ExprWithAlias { expr, alias } => (expr, split_alias(alias)),
                SelectItem::ExprWithAliases { expr, aliases } => (expr, aliases.clone()),
                _ => continue,
            };
            let (found, agg) = scan(self.kinds, expr);
            aggregates |= agg;
            let at_top =
                matches!(expr, Expr::Function(f) if self.kinds.is_generator(&function_name(f)));
            if let Expr::Function(f) = expr
                && at_top
                && f.over.is_some()
            {
                return Err(DataFusionError::Plan(format!(
                    "generator {} cannot be used as a window function (OVER)",
                    function_name(f)
                )));
            }
            match (found.len(), at_top) {
                (0, _) => {
                    if aliases.len() > 1 {
                        return Err(DataFusionError::Plan(format!(
                            "multiple column aliases ({}) are only allowed for a generator",
                            aliases
                                .iter()
                                .map(|a| a.value.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )));
                    }
                }
                (1, true) => {
                    if let Some(previous) = &top {
                        return Err(DataFusionError::Plan(format!(
                            "only one generator is allowed per SELECT clause, found {} and {}",
                            function_name(&previous.function),
                            found[0]
                        )));
                    }
                    if let Expr::Function(f) = expr {
                        top = Some(TopGenerator {
                            position,
                            function: f.clone(),
                            aliases,
                        });
                    }
                }
                (_, true) => {
                    return Err(DataFusionError::Plan(format!(
                        "generators cannot be nested: {} inside {}",
                        found[1], found[0]
                    )));
                }
                (_, false) => {
                    return Err(DataFusionError::Plan(format!(
                        "generator {} cannot be used inside an expression ({expr}); \
                         use it alone in the SELECT list or in LATERAL VIEW",
                        found[0]
                    )));
                }
            }
        }
        if let Some(generator) = top {
            let grouped = !matches!(&select.group_by, GroupByExpr::Expressions(e, _) if e.is_empty())
                || select.having.is_some();
            if aggregates || grouped {
                self.wrap_aggregating_select(select, generator)?;
            } else {
                attach_select_generator(select, generator)?;
            }
        }
        for twj in select.from.iter_mut() {
            nest_applies(twj);
        }
        Ok(())
    }

    /// `SELECT k, explode(collect_list(x)) AS v FROM t GROUP BY k` →
    /// `SELECT __c0 AS k, __gen.v FROM (SELECT k AS __c0, collect_list(x) AS __a0 FROM t
    /// GROUP BY k) __q CROSS APPLY explode(__q.__a0) AS __gen(v)`.
    fn wrap_aggregating_select(&self, select: &mut Select, generator: TopGenerator) -> Result<()> {
        let mut inner_items = Vec::new();
        let mut outer_items = Vec::new();
        for (i, item) in select.projection.iter().enumerate() {
            if i == generator.position {
                outer_items.push(generated_items(&generator.aliases));
                continue;
            }
            let (expr, name) = match item {
                SelectItem::UnnamedExpr(e) => (e.clone(), output_name(e)),
                SelectItem::ExprWithAlias { expr, alias } => (expr.clone(), alias.clone()),
                other => {
                    return Err(DataFusionError::Plan(format!(
                        "'{other}' cannot be combined with a generator over an aggregate; \
                         name the columns instead"
                    )));
                }
            };
            let inner_name = format!("__c{i}");
            inner_items.push(SelectItem::ExprWithAlias {
                expr,
                alias: ident(&inner_name),
            });
            outer_items.push(vec![SelectItem::ExprWithAlias {
                expr: column(&["__q", &inner_name]),
                alias: name,
            }]);
        }
        let args = function_args(&generator.function)?;
        let mut outer_args = Vec::with_capacity(args.len());
        for (j, arg) in args.into_iter().enumerate() {
            let name = format!("__a{j}");
            inner_items.push(SelectItem::ExprWithAlias {
                expr: arg,
                alias: ident(&name),
            });
            outer_args.push(column(&["__q", &name]));
        }
        let mut inner = select.clone();
        inner.projection = inner_items;
        inner.distinct = None;
        let inner_query = Query {
            with: None,
            body: Box::new(SetExpr::Select(Box::new(inner))),
            order_by: None,
            limit_clause: None,
            fetch: None,
            locks: vec![],
            for_clause: None,
            settings: None,
            format_clause: None,
            pipe_operators: vec![],
        };
        select.projection = outer_items.into_iter().flatten().collect();
        select.from = vec![TableWithJoins {
            relation: TableFactor::Derived {
                lateral: false,
                subquery: Box::new(inner_query),
                alias: Some(table_alias("__q", &[])),
                sample: None,
            },
            joins: vec![apply_join(
                &generator.function.name,
                outer_args,
                &generator.aliases,
            )],
        }];
        select.selection = None;
        select.group_by = GroupByExpr::Expressions(vec![], vec![]);
        select.having = None;
        select.named_window = vec![];
        select.qualify = None;
        Ok(())
    }
}

/// `explode(arr) AS x` in a SELECT without aggregation: APPLY on the FROM relation.
fn attach_select_generator(select: &mut Select, generator: TopGenerator) -> Result<()> {
    let args = function_args(&generator.function)?;
    let items = generated_items(&generator.aliases);
    select
        .projection
        .splice(generator.position..=generator.position, items);
    if select.from.is_empty() {
        // `SELECT explode(array(1, 2))`: the generator is the whole FROM.
        select.from = vec![TableWithJoins {
            relation: generator_factor(&generator.function.name, args, &generator.aliases),
            joins: vec![],
        }];
        return Ok(());
    }
    // `FROM a, b` is a cross join: make it one relation before applying.
    let mut from = std::mem::take(&mut select.from).into_iter();
    let Some(mut first) = from.next() else {
        return Ok(());
    };
    for other in from {
        first.joins.push(Join {
            relation: TableFactor::NestedJoin {
                table_with_joins: Box::new(other),
                alias: None,
            },
            global: false,
            join_operator: JoinOperator::CrossJoin(
                datafusion::sql::sqlparser::ast::JoinConstraint::None,
            ),
        });
    }
    first.joins.push(apply_join(
        &generator.function.name,
        args,
        &generator.aliases,
    ));
    select.from = vec![first];
    Ok(())
}

/// The select items standing for a generator's output.
fn generated_items(aliases: &[Ident]) -> Vec<SelectItem> {
    if aliases.is_empty() {
        vec![SelectItem::QualifiedWildcard(
            SelectItemQualifiedWildcardKind::ObjectName(ObjectName::from(vec![ident("__gen")])),
            WildcardAdditionalOptions::default(),
        )]
    } else {
        aliases
            .iter()
            .map(|a| {
                SelectItem::UnnamedExpr(Expr::CompoundIdentifier(vec![ident("__gen"), a.clone()]))
            })
            .collect()
    }
}

fn split_alias(alias: &Ident) -> Vec<Ident> {
    match alias.value.strip_prefix(MULTI_ALIAS_SEPARATOR) {
        Some(rest) => rest
            .split(MULTI_ALIAS_SEPARATOR)
            .map(|s| Ident::with_quote('`', s))
            .collect(),
        None => vec![alias.clone()],
    }
}

/// The name a column gets from an unaliased select item.
fn output_name(expr: &Expr) -> Ident {
    match expr {
        Expr::Identifier(i) => i.clone(),
        Expr::CompoundIdentifier(parts) => parts.last().cloned().unwrap_or_else(|| ident("_c")),
        other => Ident::with_quote('"', other.to_string()),
    }
}

fn function_args(f: &Function) -> Result<Vec<Expr>> {
    match &f.args {
        FunctionArguments::None => Ok(vec![]),
        FunctionArguments::List(list) => list
            .args
            .iter()
            .map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Ok(e.clone()),
                other => Err(DataFusionError::Plan(format!(
                    "{}: argument '{other}' must be a plain expression",
                    function_name(f)
                ))),
            })
            .collect(),
        FunctionArguments::Subquery(_) => Err(DataFusionError::Plan(format!(
            "{}: a subquery argument must be in parentheses",
            function_name(f)
        ))),
    }
}

fn table_alias(name: &str, columns: &[Ident]) -> TableAlias {
    TableAlias {
        explicit: true,
        name: ident(name),
        columns: columns
            .iter()
            .map(|c| TableAliasColumnDef {
                name: c.clone(),
                data_type: None,
            })
            .collect(),
        at: None,
    }
}

fn generator_factor(name: &ObjectName, args: Vec<Expr>, aliases: &[Ident]) -> TableFactor {
    TableFactor::Table {
        name: name.clone(),
        alias: Some(table_alias("__gen", aliases)),
        args: Some(TableFunctionArgs {
            args: args
                .into_iter()
                .map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e)))
                .collect(),
            settings: None,
        }),
        with_hints: vec![],
        version: None,
        with_ordinality: false,
        partitions: vec![],
        json_path: None,
        sample: None,
        index_hints: vec![],
    }
}

fn apply_join(name: &ObjectName, args: Vec<Expr>, aliases: &[Ident]) -> Join {
    Join {
        relation: generator_factor(name, args, aliases),
        global: false,
        join_operator: JoinOperator::CrossApply,
    }
}

fn is_apply(join: &Join) -> bool {
    matches!(
        join.join_operator,
        JoinOperator::CrossApply | JoinOperator::OuterApply
    )
}

/// Restructures `r J1 ... APPLY g ... Jn` so that each APPLY is the only join of a nested
/// relation whose left side is everything before it: `(r J1 ... APPLY g) ... Jn`.
fn nest_applies(twj: &mut TableWithJoins) {
    *twj = nested(std::mem::replace(twj, empty_relation()));
}

/// A stand-in for a relation moved out of its place for a moment (never planned).
fn empty_relation() -> TableWithJoins {
    TableWithJoins {
        relation: TableFactor::Table {
            name: ObjectName::from(Vec::<Ident>::new()),
            alias: None,
            args: None,
            with_hints: vec![],
            version: None,
            with_ordinality: false,
            partitions: vec![],
            json_path: None,
            sample: None,
            index_hints: vec![],
        },
        joins: vec![],
    }
}

fn nested(mut twj: TableWithJoins) -> TableWithJoins {
    nest_factor(&mut twj.relation);
    for j in twj.joins.iter_mut() {
        nest_factor(&mut j.relation);
    }
    let Some(last) = twj.joins.iter().rposition(is_apply) else {
        return twj;
    };
    let after = twj.joins.split_off(last + 1);
    let Some(apply) = twj.joins.pop() else {
        return twj;
    };
    let left = nested(TableWithJoins {
        relation: twj.relation,
        joins: twj.joins,
    });
    let left_factor = if left.joins.is_empty() {
        left.relation
    } else {
        TableFactor::NestedJoin {
            table_with_joins: Box::new(left),
            alias: None,
        }
    };
    TableWithJoins {
        relation: TableFactor::NestedJoin {
            table_with_joins: Box::new(TableWithJoins {
                relation: left_factor,
                joins: vec![apply],
            }),
            alias: None,
        },
        joins: after,
    }
}

fn nest_factor(factor: &mut TableFactor) {
    if let TableFactor::NestedJoin {
        table_with_joins, ..
    } = factor
    {
        // Moved out, not copied: in a chain of LATERAL VIEWs each level holds all the others.
        let mut inner = std::mem::replace(table_with_joins.as_mut(), empty_relation());
        // A `(left APPLY g)` made by an earlier pass keeps its shape.
        if inner.joins.len() == 1 && inner.joins.iter().all(is_apply) {
            nest_factor(&mut inner.relation);
        } else {
            inner = nested(inner);
        }
        **table_with_joins = inner;
    }
}
