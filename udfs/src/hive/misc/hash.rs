//! `hash(a1, a2, ...)` and Hive 4's `murmur_hash(a1, a2, ...)`: an `int` hash of the arguments,
//! each value hashed and combined as `31 * h + hash(value)`; NULL hashes to 0.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{ArrayRef, Int32Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_HASHING;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    Volatility,
};

use super::java_hash::java_hash;
use super::murmur_hash::murmur_hash;
use crate::hive::{evaluate_rowwise, hive_arg_error, hive_doc};

/// Which per-value hash a [`HashFunc`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum HashKind {
    /// Java hash codes (`ObjectInspectorUtils.hashCode`).
    Java,
    /// Murmur3 (`ObjectInspectorUtils.hashCodeMurmur`, Hive's bucketing version 2).
    Murmur,
}

/// `hash(...)` or `murmur_hash(...)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct HashFunc {
    kind: HashKind,
    signature: Signature,
}

impl HashFunc {
    fn new(kind: HashKind) -> Self {
        Self {
            kind,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }

    /// Creates `hash`.
    pub fn java() -> Self {
        Self::new(HashKind::Java)
    }

    /// Creates `murmur_hash`.
    pub fn murmur() -> Self {
        Self::new(HashKind::Murmur)
    }
}

static HASH_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_HASHING,
        "Returns a hash value of the arguments: Java hash codes (a string hashes its UTF-8 \
         bytes as 31 * h + b), combined as 31 * h + hash(a); NULL hashes to 0.",
        "hash(a1[, a2, ...])",
        "SELECT hash('abc'), hash('a', 1), hash(NULL);\n-- 96354, 3008, 0",
    )
});

static MURMUR_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_HASHING,
        "Returns a Murmur3 hash value of the arguments (Hive 4, the hash of bucketing version \
         2): each value's Murmur3 (seed 104729) combined as 31 * h + hash(a); NULL hashes to 0.",
        "murmur_hash(a1[, a2, ...])",
        "SELECT murmur_hash('abc');",
    )
});

impl ScalarUDFImpl for HashFunc {
    fn name(&self) -> &str {
        match self.kind {
            HashKind::Java => "hash",
            HashKind::Murmur => "murmur_hash",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.is_empty() {
            return Err(hive_arg_error(self.name(), "takes at least 1 argument"));
        }
        Ok(arg_types.to_vec())
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn return_field_from_args(&self, _args: ReturnFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(self.name(), DataType::Int32, false)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let kind = self.kind;
        evaluate_rowwise(&args.args, |columns| {
            let rows = columns.first().map_or(0, |c| c.len());
            let mut out = Vec::with_capacity(rows);
            for row in 0..rows {
                let mut h: i32 = 0;
                for column in columns {
                    let field = match kind {
                        HashKind::Java => java_hash(column.as_ref(), row)?,
                        HashKind::Murmur => murmur_hash(column.as_ref(), row)?,
                    };
                    h = h.wrapping_mul(31).wrapping_add(field);
                }
                out.push(h);
            }
            Ok(Arc::new(Int32Array::from(out)) as ArrayRef)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(match self.kind {
            HashKind::Java => &HASH_DOC,
            HashKind::Murmur => &MURMUR_DOC,
        })
    }
}
