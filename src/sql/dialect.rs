//! `ApiaryDialect`: sqlparser's Hive dialect plus the Hive string rules it lacks.

use std::any::TypeId;

use datafusion::sql::sqlparser::ast::{
    Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList, FunctionArguments, Ident,
    ObjectName,
};
use datafusion::sql::sqlparser::dialect::{Dialect, HiveDialect};
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};

/// Hive's dialect with backslash escapes in string literals (`'\t'`, `'it\'s'`, `'\\d'`), as
/// Hive reads them, and Hive's integer division `a DIV b` (the function `div(a, b)`). It reports itself as the Hive dialect, so sqlparser's Hive-only syntax
/// (`ROW FORMAT`, `STORED AS`, ...) still parses.
#[derive(Debug, Default, Clone, Copy)]
pub struct ApiaryDialect {
    hive: HiveDialect,
}

impl Dialect for ApiaryDialect {
    fn dialect(&self) -> TypeId {
        self.hive.dialect()
    }

    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        self.hive.is_delimited_identifier_start(ch)
    }

    fn is_identifier_start(&self, ch: char) -> bool {
        // `$1` is a placeholder of a prepared statement, not an identifier (Hive's dialect
        // starts identifiers with `$`; no Hive name does in practice).
        ch != '$' && self.hive.is_identifier_start(ch)
    }

    fn is_identifier_part(&self, ch: char) -> bool {
        self.hive.is_identifier_part(ch)
    }

    fn supports_filter_during_aggregation(&self) -> bool {
        self.hive.supports_filter_during_aggregation()
    }

    fn supports_numeric_prefix(&self) -> bool {
        self.hive.supports_numeric_prefix()
    }

    fn require_interval_qualifier(&self) -> bool {
        self.hive.require_interval_qualifier()
    }

    fn supports_bang_not_operator(&self) -> bool {
        self.hive.supports_bang_not_operator()
    }

    fn supports_load_data(&self) -> bool {
        self.hive.supports_load_data()
    }

    fn supports_table_sample_before_alias(&self) -> bool {
        self.hive.supports_table_sample_before_alias()
    }

    fn supports_group_by_with_modifier(&self) -> bool {
        self.hive.supports_group_by_with_modifier()
    }

    fn supports_from_first_insert(&self) -> bool {
        self.hive.supports_from_first_insert()
    }

    fn supports_string_literal_backslash_escape(&self) -> bool {
        true
    }

    fn parse_infix(
        &self,
        parser: &mut Parser,
        expr: &Expr,
        precedence: u8,
    ) -> Option<Result<Expr, ParserError>> {
        // `a DIV b`: sqlparser ranks DIV with `*` and `/` but parses it only for MySQL. The
        // right operand binds as tightly as the operator, so `7 DIV 2 * 3` is `(7 DIV 2) * 3`.
        if !parser.parse_keyword(Keyword::DIV) {
            return None;
        }
        Some(
            parser
                .parse_subexpr(precedence)
                .map(|right| call("div", vec![expr.clone(), right])),
        )
    }
}

/// The call `name(args...)`.
pub(crate) fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        name: ObjectName::from(vec![Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|a| FunctionArg::Unnamed(FunctionArgExpr::Expr(a)))
                .collect(),
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}
