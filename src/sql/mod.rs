//! The SQL front end: script splitting, variables, Hive commands, parsing and rewrites.

pub mod between;
pub mod column_names;
pub mod command;
pub mod count_distinct;
pub(crate) mod cursor;
pub mod dialect;
pub mod field_access;
pub mod file_tables;
pub mod grouping;
pub mod hive_cast;
pub mod hive_statements;
pub mod hive_types;
pub mod int_literals;
pub mod lateral;
pub mod model_statements;
pub mod nesting;
pub mod params;
pub mod parse;
pub mod rewrite;
pub mod select_table_function;
pub mod skip_nulls;
pub mod split;
pub mod string_literals;
pub mod vars;

pub use split::{ScriptStatement, is_complete, split_script};
pub use vars::Variables;
