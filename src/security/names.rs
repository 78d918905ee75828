//! Names are names, not paths: Hive's rule for the names of databases, tables, views, models
//! and partition columns (`MetaStoreUtils.validateName`: letters, digits and `_`), at most
//! [`MAX_NAME_BYTES`] bytes. A name that passes cannot be `..`, start with `.`, or hold a
//! separator, so it can be joined to a directory safely.

use crate::error::{ApiaryError, Result};

/// The longest name a database, table, view, model or partition column may have (Hive's
/// metastore keeps table names in 128 characters).
pub const MAX_NAME_BYTES: usize = 128;

/// What a name names, for errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// A database (schema).
    Database,
    /// A table.
    Table,
    /// A view.
    View,
    /// A model.
    Model,
    /// A partition column (its name becomes a directory name, `p=v`).
    PartitionColumn,
}

impl NameKind {
    fn noun(self) -> &'static str {
        match self {
            Self::Database => "database",
            Self::Table => "table",
            Self::View => "view",
            Self::Model => "model",
            Self::PartitionColumn => "partition column",
        }
    }
}

/// Whether `name` follows Hive's rule for object names.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_BYTES
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Checks a new object's name; the error names the object, the name and the rule.
pub fn check_name(kind: NameKind, name: &str) -> Result<()> {
    if is_valid_name(name) {
        return Ok(());
    }
    let shown: String = name.chars().take(40).collect();
    let ellipsis = if shown.len() < name.len() { "..." } else { "" };
    let why = if name.is_empty() {
        "it is empty".to_string()
    } else if name.len() > MAX_NAME_BYTES {
        format!("it is {} bytes long (at most {MAX_NAME_BYTES})", name.len())
    } else {
        "only letters, digits and _ are allowed".to_string()
    };
    Err(ApiaryError::Usage(format!(
        "invalid {} name '{shown}{ellipsis}': {why} (Hive's rule for {} names)",
        kind.noun(),
        kind.noun()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hive_names_only() {
        for ok in ["t", "T_1", "_x", "1abc", &"a".repeat(MAX_NAME_BYTES)] {
            assert!(check_name(NameKind::Table, ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "..",
            ".apiary",
            "../../x",
            "a/b",
            "a.b",
            "a b",
            "a-b",
            "é",
            "a\0b",
            &"a".repeat(MAX_NAME_BYTES + 1),
        ] {
            let err = check_name(NameKind::Database, bad)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.to_string().contains("invalid database name"), "{err}");
        }
    }
}
