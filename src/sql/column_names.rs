//! Hive's names for the columns of a SELECT: an unaliased column keeps its name, an
//! expression ending in a field access (`s.f`, `arr[0].f`) is named after the field, and any
//! other unaliased expression is `_c<position>` (its 0-based place in the SELECT list), never
//! DataFusion's expression text (`count(Int64(1))`). Scripts and CSV headers read these names.

use datafusion::sql::sqlparser::ast::{Expr, Ident, Select, SelectItem};

use super::field_access::last_field_name;

/// Names the unaliased expressions of `select` as Hive does. Generators at the top of an item
/// (`explode(x)`) are left to the generator rewrite, which names their columns.
pub fn name_columns_as_hive(select: &mut Select, is_generator: impl Fn(&Expr) -> bool) {
    for (position, item) in select.projection.iter_mut().enumerate() {
        let SelectItem::UnnamedExpr(expr) = item else {
            continue;
        };
        let mut inner = &*expr;
        while let Expr::Nested(e) = inner {
            inner = e;
        }
        if matches!(inner, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) || is_generator(inner)
        {
            continue;
        }
        let name = last_field_name(expr).unwrap_or_else(|| format!("_c{position}"));
        *item = SelectItem::ExprWithAlias {
            expr: expr.clone(),
            alias: Ident::new(name),
        };
    }
}
