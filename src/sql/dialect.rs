//! `ApiaryDialect`: sqlparser's Hive dialect plus the Hive string rules it lacks.

use std::any::TypeId;

use datafusion::sql::sqlparser::dialect::{Dialect, HiveDialect};

/// Hive's dialect with backslash escapes in string literals (`'\t'`, `'it\'s'`, `'\\d'`), as
/// Hive reads them. It reports itself as the Hive dialect, so sqlparser's Hive-only syntax
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
}
