//! Hive's integer literals are INT when they fit (BIGINT otherwise); DataFusion's are all
//! BIGINT. The value is the same, but a few functions answer by the argument's width:
//! `hash(-1)` is -1 for an INT and 0 for a BIGINT, `printf('%x', -1)` is `ffffffff` or
//! `ffffffffffffffff`, `shiftleft(1, 31)` is -2147483648 or 2147483648. In the arguments of
//! those functions an integer literal that fits an INT is one (`CAST(-1 AS INT)`).

use datafusion::sql::sqlparser::ast::{
    CastKind, DataType, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, UnaryOperator, Value,
};

/// The functions whose answer depends on an integer argument's width.
const WIDTH_SENSITIVE: &[&str] = &[
    "hash",
    "murmur_hash",
    "printf",
    "shiftleft",
    "shiftright",
    "shiftrightunsigned",
];

/// The value of an integer literal (`7`, `-7`, without a type suffix) that fits an INT.
fn int_literal(e: &Expr) -> Option<i64> {
    let (negative, value) = match e {
        Expr::Value(v) => (false, &v.value),
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => match expr.as_ref() {
            Expr::Value(v) => (true, &v.value),
            _ => return None,
        },
        _ => return None,
    };
    let Value::Number(text, false) = value else {
        return None;
    };
    // Hive types the number before the sign applies (`-2147483648` is a BIGINT negated).
    let n: i32 = text.parse().ok()?;
    Some(if negative {
        -i64::from(n)
    } else {
        i64::from(n)
    })
}

/// Makes the integer literals that fit an INT in a width-sensitive function's arguments
/// INTs, in place; any other expression is left as it is.
pub fn hive_int_literal_args(expr: &mut Expr) {
    let Expr::Function(f) = expr else {
        return;
    };
    let name = f.name.to_string().to_ascii_lowercase();
    if !WIDTH_SENSITIVE.contains(&name.as_str()) {
        return;
    }
    let FunctionArguments::List(list) = &mut f.args else {
        return;
    };
    for arg in &mut list.args {
        if let FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) = arg
            && int_literal(e).is_some()
        {
            *e = Expr::Cast {
                kind: CastKind::Cast,
                expr: Box::new(e.clone()),
                data_type: DataType::Int(None),
                array: false,
                format: None,
            };
        }
    }
}
