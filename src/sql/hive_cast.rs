//! Hive's `CAST`: an explicit `CAST(x AS t)` (or `x::t`) becomes `hive_cast(x, CAST(NULL AS t), 't')`
//! — Hive's conversion (NULL for what does not convert, integer wrap-around, seconds for
//! timestamps, `TRUE`/`FALSE`, ...), the NULL carrying the target type — and
//! `CAST(x AS VARCHAR(n))` / `CAST(x AS CHAR(n))` become `varchar(x, n)` / `char(x, n)`, which
//! cut (and pad) to n characters. `TRY_CAST` and implicit coercions stay DataFusion's.

use super::dialect::call;
use datafusion::sql::sqlparser::ast::{CastKind, CharacterLength, DataType, Expr, Value};

/// The function (in apiary-udfs' conversion family) an explicit cast becomes.
const HIVE_CAST: &str = "hive_cast";

/// Rewrites `expr` in place when it is an explicit `CAST` (not `TRY_CAST`, not with `FORMAT`).
pub fn rewrite_cast(expr: &mut Expr) {
    let Expr::Cast {
        kind: CastKind::Cast | CastKind::DoubleColon,
        expr: inner,
        data_type,
        array: false,
        format: None,
    } = expr
    else {
        return;
    };
    let value = inner.as_ref().clone();
    let call = match char_length(data_type) {
        Some((name, n)) => call(
            name,
            vec![value, Expr::value(Value::Number(n.to_string(), false))],
        ),
        None => call(
            HIVE_CAST,
            vec![
                value,
                Expr::Cast {
                    kind: CastKind::Cast,
                    expr: Box::new(Expr::value(Value::Null)),
                    data_type: data_type.clone(),
                    array: false,
                    format: None,
                },
                // Names the target type in the expression's name, which a CAST's NULL does
                // not: `CAST(x AS INT), CAST(x AS BIGINT)` stay two distinct columns.
                Expr::value(Value::SingleQuotedString(data_type.to_string())),
            ],
        ),
    };
    *expr = call;
}

/// `("varchar", n)` for `VARCHAR(n)`, `("char", n)` for `CHAR(n)`.
fn char_length(data_type: &DataType) -> Option<(&'static str, u64)> {
    let (name, length) = match data_type {
        DataType::Varchar(l) | DataType::CharVarying(l) | DataType::CharacterVarying(l) => {
            ("varchar", l)
        }
        DataType::Char(l) | DataType::Character(l) => ("char", l),
        _ => return None,
    };
    match length {
        Some(CharacterLength::IntegerLength { length, .. }) => Some((name, *length)),
        _ => None,
    }
}
