//! The nesting limit: how deeply a statement may nest, measured on its syntax tree right after
//! parsing, before any pass that recurses over it (Apiary's rewrites, DataFusion's planner,
//! optimizer and physical planner, and the derived `Clone`, `Drop`, `Display` and `Hash` of
//! its trees, which no stack guard protects).
//!
//! sqlparser limits parenthesised nesting itself, but builds operator chains (`1+1+…`,
//! `a::int::bigint…`), set-operation chains (`SELECT … UNION ALL SELECT …`) and join lists
//! (many `LATERAL VIEW`s) in loops, so their depth is bounded only by the statement's length.
//! Every later pass recurses once per level; [`MAX_NESTING_DEPTH`] keeps that within the
//! statement stack ([`crate::exec::STATEMENT_STACK_SIZE`]) and planning time reasonable.
//!
//! Long chains of `AND` or `OR` are the one deep shape worth keeping (a WHERE of thousands of
//! conditions): both operators are associative, so such a chain is regrouped into a balanced
//! tree (same operands, same order, depth log₂ n) before it is measured.

use std::ops::ControlFlow;

use datafusion::common::{DataFusionError, Result};
use datafusion::sql::parser::{CopyToSource, Statement as DFStatement};
use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, Query, Select, SetExpr, Statement, TableFactor, VisitMut, VisitorMut,
};

/// The deepest nesting a statement may have: expression levels, plus subqueries, plus
/// set operations (each `UNION`/`INTERSECT`/`EXCEPT` of a chain is a level), plus joins (each
/// `JOIN` or `LATERAL VIEW` of a FROM clause is a level), along the deepest path.
pub const MAX_NESTING_DEPTH: usize = 3_000;

/// `AND`/`OR` chains with more operands than this are regrouped into balanced trees.
const REBALANCE_OPERANDS: usize = 16;

/// The error for a statement deeper than [`MAX_NESTING_DEPTH`].
pub fn too_deep() -> DataFusionError {
    DataFusionError::Plan(format!(
        "statement nested too deeply: more than {MAX_NESTING_DEPTH} levels of nested \
         expressions, subqueries, set operations (UNION, INTERSECT, EXCEPT) and joins (JOIN, \
         LATERAL VIEW). Apiary refuses such statements before planning, because every planning \
         pass recurses once per level; split the statement, e.g. into views"
    ))
}

/// Regroups long `AND`/`OR` chains of `statement` and checks its nesting against
/// [`MAX_NESTING_DEPTH`].
pub fn check_statement(statement: &mut DFStatement) -> Result<()> {
    match statement {
        DFStatement::Statement(s) => check(s.as_mut()),
        DFStatement::CopyTo(copy) => match &mut copy.source {
            CopyToSource::Query(q) => check(q.as_mut()),
            CopyToSource::Relation(_) => Ok(()),
        },
        DFStatement::Explain(explain) => check_statement(explain.statement.as_mut()),
        DFStatement::CreateExternalTable(_) | DFStatement::Reset(_) => Ok(()),
    }
}

/// [`check_statement`] for one query (inside a warehouse or model statement).
pub fn check_query(query: &mut Query) -> Result<()> {
    check(query)
}

/// [`check_statement`] for a sqlparser statement.
pub fn check_sql_statement(statement: &mut Statement) -> Result<()> {
    check(statement)
}

fn check<T: VisitMut>(node: &mut T) -> Result<()> {
    let mut nesting = Nesting::default();
    match node.visit(&mut nesting) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

/// Measures nesting on the way down and stops at the first level past the limit, so a chain
/// of a million levels costs [`MAX_NESTING_DEPTH`] steps, not a million.
#[derive(Default)]
struct Nesting {
    depth: usize,
    /// What each open query or SELECT added to `depth`.
    added: Vec<usize>,
}

impl Nesting {
    fn enter(&mut self, levels: usize) -> ControlFlow<DataFusionError> {
        self.depth = self.depth.saturating_add(levels);
        self.added.push(levels);
        if self.depth > MAX_NESTING_DEPTH {
            return ControlFlow::Break(too_deep());
        }
        ControlFlow::Continue(())
    }

    fn leave(&mut self) -> ControlFlow<DataFusionError> {
        let levels = self.added.pop().unwrap_or(0);
        self.depth = self.depth.saturating_sub(levels);
        ControlFlow::Continue(())
    }
}

impl VisitorMut for Nesting {
    type Break = DataFusionError;

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<Self::Break> {
        self.enter(1 + set_operation_depth(&query.body))
    }

    fn post_visit_query(&mut self, _query: &mut Query) -> ControlFlow<Self::Break> {
        self.leave()
    }

    fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<Self::Break> {
        self.enter(1 + join_count(select))
    }

    fn post_visit_select(&mut self, _select: &mut Select) -> ControlFlow<Self::Break> {
        self.leave()
    }

    fn pre_visit_table_factor(&mut self, _factor: &mut TableFactor) -> ControlFlow<Self::Break> {
        self.enter(1)
    }

    fn post_visit_table_factor(&mut self, _factor: &mut TableFactor) -> ControlFlow<Self::Break> {
        self.leave()
    }

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<Self::Break> {
        rebalance(expr);
        self.enter(1)
    }

    fn post_visit_expr(&mut self, _expr: &mut Expr) -> ControlFlow<Self::Break> {
        self.leave()
    }
}

/// The longest chain of set operations in a query body (0 for a plain SELECT), without
/// recursion: the chain is as long as the statement.
fn set_operation_depth(body: &SetExpr) -> usize {
    let mut deepest = 0;
    let mut pending = vec![(body, 0usize)];
    while let Some((node, depth)) = pending.pop() {
        deepest = deepest.max(depth);
        if let SetExpr::SetOperation { left, right, .. } = node {
            pending.push((left, depth + 1));
            pending.push((right, depth + 1));
        }
    }
    deepest
}

/// The joins of a SELECT's FROM clause (`FROM a, b` is a join too): DataFusion plans each
/// one on top of the others.
fn join_count(select: &Select) -> usize {
    let joins: usize = select.from.iter().map(|t| t.joins.len()).sum();
    joins + select.from.len().saturating_sub(1)
}

/// Regroups a chain of one associative operator (`AND`, `OR`) of more than
/// [`REBALANCE_OPERANDS`] operands into a balanced tree, operands in the same order. The chain
/// is taken apart with an explicit stack, never by recursion.
fn rebalance(expr: &mut Expr) {
    let op = match expr {
        Expr::BinaryOp {
            op: op @ (BinaryOperator::And | BinaryOperator::Or),
            ..
        } => op.clone(),
        _ => return,
    };
    if chain_is_short(expr, &op) {
        return;
    }
    let mut operands = Vec::new();
    let mut pending = vec![std::mem::replace(expr, Expr::value(placeholder()))];
    while let Some(node) = pending.pop() {
        match node {
            Expr::BinaryOp {
                left,
                op: node_op,
                right,
            } if node_op == op => {
                pending.push(*right);
                pending.push(*left);
            }
            other => operands.push(other),
        }
    }
    *expr = balanced(operands, &op);
}

fn placeholder() -> datafusion::sql::sqlparser::ast::Value {
    datafusion::sql::sqlparser::ast::Value::Null
}

/// Whether the chain of `op` under `expr` is already shallow: no path of `op` nodes longer
/// than a balanced tree of [`REBALANCE_OPERANDS`] operands would have. Stops early, so the
/// nodes of an already balanced tree are not taken apart again.
fn chain_is_short(expr: &Expr, op: &BinaryOperator) -> bool {
    let limit = REBALANCE_OPERANDS.ilog2() as usize + 1;
    let mut pending = vec![(expr, 0usize)];
    while let Some((node, depth)) = pending.pop() {
        if let Expr::BinaryOp {
            left,
            op: node_op,
            right,
        } = node
            && node_op == op
        {
            if depth + 1 > limit {
                return false;
            }
            pending.push((left, depth + 1));
            pending.push((right, depth + 1));
        }
    }
    true
}

/// `operands[0] op operands[1] op …` as a balanced tree (recursion depth log₂ n).
fn balanced(mut operands: Vec<Expr>, op: &BinaryOperator) -> Expr {
    if operands.len() <= 1 {
        return operands.pop().unwrap_or_else(|| Expr::value(placeholder()));
    }
    let right = operands.split_off(operands.len() / 2);
    Expr::BinaryOp {
        left: Box::new(balanced(operands, op)),
        op: op.clone(),
        right: Box::new(balanced(right, op)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::dialect::GenericDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    fn parse(sql: &str) -> Statement {
        Parser::parse_sql(&GenericDialect {}, sql)
            .unwrap_or_else(|e| unreachable!("{e}"))
            .remove(0)
    }

    fn expr_depth(expr: &Expr) -> usize {
        match expr {
            Expr::BinaryOp { left, right, .. } => 1 + expr_depth(left).max(expr_depth(right)),
            _ => 1,
        }
    }

    fn where_clause(statement: &Statement) -> &Expr {
        let Statement::Query(q) = statement else {
            unreachable!("a query")
        };
        let SetExpr::Select(s) = q.body.as_ref() else {
            unreachable!("a select")
        };
        s.selection
            .as_ref()
            .unwrap_or_else(|| unreachable!("WHERE"))
    }

    #[test]
    fn long_and_chains_are_balanced_in_order() {
        let conditions: Vec<String> = (0..1000).map(|i| format!("x <> {i}")).collect();
        let sql = format!("SELECT 1 FROM t WHERE {}", conditions.join(" AND "));
        let mut statement = parse(&sql);
        // 999 ANDs, the comparison, its operands.
        assert_eq!(expr_depth(where_clause(&statement)), 1001);
        check_sql_statement(&mut statement).unwrap_or_else(|e| unreachable!("{e}"));
        let balanced = where_clause(&statement);
        assert_eq!(
            expr_depth(balanced),
            12,
            "⌈log₂ 1000⌉ ANDs, the comparison, its operands"
        );
        // Same operands, same order: the text is unchanged.
        assert_eq!(balanced.to_string(), conditions.join(" AND "));
    }

    #[test]
    fn mixed_operators_are_not_regrouped_across() {
        // `a OR b AND c …`: AND binds tighter; the OR chain and each AND chain are separate.
        let ands: Vec<String> = (0..40).map(|i| format!("y = {i}")).collect();
        let sql = format!(
            "SELECT 1 FROM t WHERE x = 1 OR {} OR x = 2",
            ands.join(" AND ")
        );
        let mut statement = parse(&sql);
        let before = where_clause(&statement).to_string();
        check_sql_statement(&mut statement).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(where_clause(&statement).to_string(), before);
    }

    #[test]
    fn arithmetic_chains_are_not_regrouped() {
        let sql = format!("SELECT {}", vec!["1"; 100].join(" + "));
        let mut statement = parse(&sql);
        check_sql_statement(&mut statement).unwrap_or_else(|e| unreachable!("{e}"));
        let Statement::Query(q) = &statement else {
            unreachable!()
        };
        let SetExpr::Select(s) = q.body.as_ref() else {
            unreachable!()
        };
        let datafusion::sql::sqlparser::ast::SelectItem::UnnamedExpr(e) = &s.projection[0] else {
            unreachable!()
        };
        assert_eq!(expr_depth(e), 100);
    }

    #[test]
    fn deep_statements_are_refused() {
        let ok = format!("SELECT {}", vec!["1"; MAX_NESTING_DEPTH - 10].join(" + "));
        check_sql_statement(&mut parse(&ok)).unwrap_or_else(|e| unreachable!("{e}"));
        let deep = format!("SELECT {}", vec!["1"; MAX_NESTING_DEPTH + 1].join(" + "));
        let error = check_sql_statement(&mut parse(&deep))
            .err()
            .unwrap_or_else(|| unreachable!("too deep"));
        assert!(error.to_string().contains("statement nested too deeply"));
        let unions = vec!["SELECT 1"; MAX_NESTING_DEPTH + 1].join(" UNION ALL ");
        assert!(check_sql_statement(&mut parse(&unions)).is_err());
        let joins = format!(
            "SELECT 1 FROM t0 {}",
            (1..=MAX_NESTING_DEPTH)
                .map(|i| format!("JOIN t{i} ON true"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        assert!(check_sql_statement(&mut parse(&joins)).is_err());
    }
}
