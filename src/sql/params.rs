//! Parameter values for prepared statements, bound into the parsed statement as SQL literals.
//!
//! Placeholders are `$1`, `$2`, ... (JDBC's `?` are numbered so by the parser). Binding in the
//! syntax tree, not in a logical plan, means every statement takes parameters the same way —
//! queries, DataFusion's DML and the warehouse's own INSERT and CREATE TABLE AS alike.
//!
//! A batch of several parameter rows is one atomic execution (as the Flight SQL specification
//! asks): a query or an INSERT's rows become the `UNION ALL` of the statement bound to each
//! row, and `INSERT ... VALUES (?, ?)` becomes one `VALUES` list, so the rows land in one
//! commit. Other statements take one row at a time.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::Expr as LogicalExpr;
use datafusion::sql::parser::{CopyToSource, Statement as DFStatement};
use datafusion::sql::sqlparser::ast::{
    Expr, Query, SetExpr, SetOperator, SetQuantifier, Statement, Value, ValueWithSpan,
    visit_expressions, visit_expressions_mut,
};
use datafusion::sql::unparser::Unparser;

use super::hive_statements::{AlterView, HiveStatement};
use super::model_statements::ModelStatement;
use super::parse::ParsedStatement;

/// The placeholder numbers (`$1` is 1) in `statement`, sorted.
pub fn placeholders(statement: &ParsedStatement) -> BTreeSet<usize> {
    let mut found = BTreeSet::new();
    let mut note = |e: &Expr| {
        if let Some(n) = placeholder_number(e) {
            found.insert(n);
        }
        ControlFlow::<()>::Continue(())
    };
    match statement {
        ParsedStatement::Sql(s) => {
            for q in df_parts(s) {
                let _ = match q {
                    Part::Statement(s) => visit_expressions(s, &mut note),
                    Part::Query(q) => visit_expressions(q, &mut note),
                };
            }
        }
        ParsedStatement::Hive(h) => {
            for q in hive_queries(h) {
                let _ = visit_expressions(q, &mut note);
            }
        }
        ParsedStatement::Model(ModelStatement::Create { query, .. }) => {
            let _ = visit_expressions(query.as_ref(), &mut note);
        }
        ParsedStatement::Model(_) => {}
    }
    found
}

/// `statement` with its placeholders replaced by the values of one or more parameter rows.
///
/// One row binds in place. Several rows: a query, or the rows an INSERT writes, become one
/// `UNION ALL` (one `VALUES` list for `INSERT ... VALUES`); other statements are refused.
pub fn bind(statement: ParsedStatement, rows: &[Vec<ScalarValue>]) -> Result<ParsedStatement> {
    let wanted = placeholders(&statement);
    let count = wanted.last().copied().unwrap_or(0);
    for row in rows {
        if row.len() != count {
            return Err(DataFusionError::Plan(format!(
                "the statement has {count} parameter{}, but {} value{} were bound",
                if count == 1 { "" } else { "s" },
                row.len(),
                if row.len() == 1 { "" } else { "s" },
            )));
        }
    }
    if let Some(missing) = (1..=count).find(|n| !wanted.contains(n)) {
        return Err(DataFusionError::Plan(format!(
            "parameter ${missing} is never used, but ${count} is: number placeholders from $1"
        )));
    }
    let literals = rows
        .iter()
        .map(|row| row.iter().map(literal).collect::<Result<Vec<_>>>())
        .collect::<Result<Vec<_>>>()?;
    match literals.as_slice() {
        [] => Ok(statement),
        [one] => {
            let mut statement = statement;
            bind_in_place(&mut statement, one);
            Ok(statement)
        }
        many => bind_many(statement, many),
    }
}

/// A value as a SQL expression (a literal, cast where its type needs one).
fn literal(value: &ScalarValue) -> Result<Expr> {
    Unparser::default().expr_to_sql(&LogicalExpr::Literal(value.clone(), None))
}

fn placeholder_number(e: &Expr) -> Option<usize> {
    match e {
        Expr::Value(ValueWithSpan {
            value: Value::Placeholder(p),
            ..
        }) => p.strip_prefix('$')?.parse().ok(),
        _ => None,
    }
}

fn bind_in_place(statement: &mut ParsedStatement, values: &[Expr]) {
    let mut replace = |e: &mut Expr| {
        if let Some(n) = placeholder_number(e)
            && let Some(v) = n.checked_sub(1).and_then(|i| values.get(i))
        {
            *e = v.clone();
        }
        ControlFlow::<()>::Continue(())
    };
    match statement {
        ParsedStatement::Sql(s) => {
            for part in df_parts_mut(s) {
                let _ = match part {
                    PartMut::Statement(s) => visit_expressions_mut(s, &mut replace),
                    PartMut::Query(q) => visit_expressions_mut(q, &mut replace),
                };
            }
        }
        ParsedStatement::Hive(h) => {
            for q in hive_queries_mut(h) {
                let _ = visit_expressions_mut(q, &mut replace);
            }
        }
        ParsedStatement::Model(ModelStatement::Create { query, .. }) => {
            let _ = visit_expressions_mut(query.as_mut(), &mut replace);
        }
        ParsedStatement::Model(_) => {}
    }
}

/// Several parameter rows: the query (or the INSERT's rows) once per row, as one query.
fn bind_many(statement: ParsedStatement, rows: &[Vec<Expr>]) -> Result<ParsedStatement> {
    let expand = |query: &Query| -> Query {
        let bound: Vec<Query> = rows
            .iter()
            .map(|row| {
                let mut q = query.clone();
                let _ = visit_expressions_mut(&mut q, |e: &mut Expr| {
                    if let Some(v) = placeholder_number(e)
                        .and_then(|n| n.checked_sub(1))
                        .and_then(|i| row.get(i))
                    {
                        *e = v.clone();
                    }
                    ControlFlow::<()>::Continue(())
                });
                q
            })
            .collect();
        union_all(query, bound)
    };
    match statement {
        ParsedStatement::Hive(HiveStatement::Insert(mut insert)) => {
            insert.query = Box::new(expand(&insert.query));
            Ok(ParsedStatement::Hive(HiveStatement::Insert(insert)))
        }
        ParsedStatement::Sql(DFStatement::Statement(s)) => match *s {
            Statement::Query(q) => Ok(ParsedStatement::Sql(DFStatement::Statement(Box::new(
                Statement::Query(Box::new(expand(&q))),
            )))),
            Statement::Insert(mut insert) if insert.source.is_some() => {
                insert.source = insert.source.as_deref().map(|q| Box::new(expand(q)));
                Ok(ParsedStatement::Sql(DFStatement::Statement(Box::new(
                    Statement::Insert(insert),
                ))))
            }
            _ => Err(several_rows_refused()),
        },
        _ => Err(several_rows_refused()),
    }
}

fn several_rows_refused() -> DataFusionError {
    DataFusionError::Plan(
        "a batch of several parameter rows works for queries and INSERT; send other statements \
         one row at a time"
            .into(),
    )
}

/// The bound copies of `template` as one query: one `VALUES` list when the template is a
/// plain one-row `VALUES`, else a balanced tree of `UNION ALL` (shallow, so that thousands of
/// rows do not nest thousands deep).
fn union_all(template: &Query, mut bound: Vec<Query>) -> Query {
    let plain_values = matches!(template.body.as_ref(), SetExpr::Values(v) if v.rows.len() == 1)
        && template.with.is_none()
        && template.order_by.is_none()
        && template.limit_clause.is_none()
        && template.fetch.is_none();
    if plain_values {
        let mut merged = template.clone();
        let rows = bound
            .iter_mut()
            .filter_map(|q| match q.body.as_mut() {
                SetExpr::Values(v) => v.rows.pop(),
                _ => None,
            })
            .collect();
        if let SetExpr::Values(v) = merged.body.as_mut() {
            v.rows = rows;
        }
        return merged;
    }
    let mut level: Vec<SetExpr> = bound
        .into_iter()
        .map(|q| SetExpr::Query(Box::new(q)))
        .collect();
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        let mut items = level.into_iter();
        while let Some(left) = items.next() {
            next.push(match items.next() {
                Some(right) => SetExpr::SetOperation {
                    left: Box::new(left),
                    op: SetOperator::Union,
                    set_quantifier: SetQuantifier::All,
                    right: Box::new(right),
                },
                None => left,
            });
        }
        level = next;
    }
    let body = level
        .pop()
        .unwrap_or_else(|| SetExpr::Query(Box::new(template.clone())));
    Query {
        body: Box::new(body),
        ..empty_query(template)
    }
}

/// A query with no clauses but its body (the template's, to be replaced).
fn empty_query(template: &Query) -> Query {
    Query {
        with: None,
        body: template.body.clone(),
        order_by: None,
        limit_clause: None,
        fetch: None,
        locks: vec![],
        for_clause: None,
        settings: None,
        format_clause: None,
        pipe_operators: vec![],
    }
}

enum Part<'a> {
    Statement(&'a Statement),
    Query(&'a Query),
}

enum PartMut<'a> {
    Statement(&'a mut Statement),
    Query(&'a mut Query),
}

/// The parts of a DataFusion statement that hold expressions.
fn df_parts(statement: &DFStatement) -> Vec<Part<'_>> {
    match statement {
        DFStatement::Statement(s) => vec![Part::Statement(s)],
        DFStatement::Explain(e) => df_parts(&e.statement),
        DFStatement::CopyTo(c) => match &c.source {
            CopyToSource::Query(q) => vec![Part::Query(q)],
            CopyToSource::Relation(_) => vec![],
        },
        _ => vec![],
    }
}

fn df_parts_mut(statement: &mut DFStatement) -> Vec<PartMut<'_>> {
    match statement {
        DFStatement::Statement(s) => vec![PartMut::Statement(s)],
        DFStatement::Explain(e) => df_parts_mut(&mut e.statement),
        DFStatement::CopyTo(c) => match &mut c.source {
            CopyToSource::Query(q) => vec![PartMut::Query(q)],
            CopyToSource::Relation(_) => vec![],
        },
        _ => vec![],
    }
}

/// The queries inside a warehouse statement.
pub(crate) fn hive_queries(statement: &HiveStatement) -> Vec<&Query> {
    match statement {
        HiveStatement::CreateTable(c) => c.query.iter().map(|q| q.as_ref()).collect(),
        HiveStatement::Insert(i) => vec![&i.query],
        HiveStatement::MultiInsert(inserts) => inserts.iter().map(|i| i.query.as_ref()).collect(),
        HiveStatement::InsertDirectory(i) => vec![&i.query],
        HiveStatement::CreateView(c) => vec![&c.query.query],
        HiveStatement::AlterView { change, .. } => match change.as_ref() {
            AlterView::As(q) => vec![&q.query],
            _ => vec![],
        },
        _ => vec![],
    }
}

/// The queries inside a warehouse statement, to change.
pub(crate) fn hive_queries_mut(statement: &mut HiveStatement) -> Vec<&mut Box<Query>> {
    match statement {
        HiveStatement::CreateTable(c) => c.query.iter_mut().collect(),
        HiveStatement::Insert(i) => vec![&mut i.query],
        HiveStatement::MultiInsert(inserts) => inserts.iter_mut().map(|i| &mut i.query).collect(),
        HiveStatement::InsertDirectory(i) => vec![&mut i.query],
        HiveStatement::CreateView(c) => vec![&mut c.query.query],
        HiveStatement::AlterView { change, .. } => match change.as_mut() {
            AlterView::As(q) => vec![&mut q.query],
            _ => vec![],
        },
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::parse::parse_statements;
    use crate::sql::rewrite::FunctionKinds;

    struct NoGenerators;
    impl FunctionKinds for NoGenerators {
        fn is_generator(&self, _: &str) -> bool {
            false
        }
        fn is_aggregate(&self, _: &str) -> bool {
            false
        }
    }

    fn parsed(sql: &str) -> ParsedStatement {
        let mut s = parse_statements(sql, &NoGenerators).unwrap_or_default();
        assert_eq!(s.len(), 1, "{sql}");
        s.remove(0)
    }

    fn text(s: &ParsedStatement) -> String {
        match s {
            ParsedStatement::Sql(s) => s.to_string(),
            ParsedStatement::Hive(h) => hive_queries(h)
                .iter()
                .map(|q| q.to_string())
                .collect::<Vec<_>>()
                .join(" ; "),
            ParsedStatement::Model(m) => format!("{m:?}"),
        }
    }

    fn row(values: &[ScalarValue]) -> Vec<ScalarValue> {
        values.to_vec()
    }

    #[test]
    fn one_row_binds_literals_everywhere() {
        let s = parsed("SELECT ? + 1 AS a FROM t WHERE b = ? AND c IN (SELECT ? )");
        assert_eq!(placeholders(&s), BTreeSet::from([1, 2, 3]));
        let bound = bind(
            s,
            &[row(&[
                ScalarValue::Int64(Some(41)),
                ScalarValue::Utf8(Some("it's".into())),
                ScalarValue::Int32(None),
            ])],
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        let t = text(&bound);
        assert!(t.contains("41 + 1"), "{t}");
        assert!(t.contains("'it''s'"), "{t}");
        assert!(t.contains("NULL"), "{t}");
        assert!(!t.contains('$'), "{t}");
    }

    #[test]
    fn insert_values_rows_merge_into_one_values_list() {
        let s = parsed("INSERT INTO db.t VALUES (?, ?)");
        let rows: Vec<Vec<ScalarValue>> = (0..3)
            .map(|i| {
                row(&[
                    ScalarValue::Int64(Some(i)),
                    ScalarValue::Utf8(Some(format!("r{i}"))),
                ])
            })
            .collect();
        let t = text(&bind(s, &rows).unwrap_or_else(|e| unreachable!("{e}")));
        assert!(t.contains("VALUES (0, 'r0'), (1, 'r1'), (2, 'r2')"), "{t}");
        assert!(!t.contains("UNION"), "{t}");
    }

    #[test]
    fn query_rows_become_a_shallow_union_all() {
        let s = parsed("SELECT x FROM t WHERE x = $1");
        let rows: Vec<Vec<ScalarValue>> = (0..5)
            .map(|i| row(&[ScalarValue::Int64(Some(i))]))
            .collect();
        let t = text(&bind(s, &rows).unwrap_or_else(|e| unreachable!("{e}")));
        assert_eq!(t.matches("UNION ALL").count(), 4, "{t}");
        for i in 0..5 {
            assert!(t.contains(&format!("x = {i}")), "{t}");
        }
    }

    #[test]
    fn wrong_counts_and_gaps_are_refused() {
        let one = |s: &str, n: usize| {
            bind(parsed(s), &[vec![ScalarValue::Int64(Some(1)); n]])
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(one("SELECT ?, ?", 1).contains("2 parameters, but 1 value"));
        assert!(one("SELECT 1", 1).contains("0 parameters, but 1 value"));
        assert!(one("SELECT $2", 2).contains("$1 is never used"));
        let many = bind(parsed("DROP VIEW v"), &[vec![], vec![]]);
        assert!(many.is_err());
    }
}
