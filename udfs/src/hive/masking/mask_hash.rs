//! `mask_hash(value)`: the hex SHA-256 of a string (Hive 4's `GenericUDFMaskHash`; Hive 2.x
//! used MD5). Numbers and dates give NULL, as in Hive.

use std::fmt::Write;
use std::sync::LazyLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_STRING;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use sha2::{Digest, Sha256};

use super::apply::{ValueMasker, coerce_value_type, mask_array};
use crate::hive::{evaluate_on_first, hive_arg_error, hive_doc};

/// Lower-case hex of bytes.
pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

struct Sha256Masker;

impl ValueMasker for Sha256Masker {
    fn string(&self, value: &str) -> Result<Option<String>> {
        Ok(Some(hex_lower(&Sha256::digest(value.as_bytes()))))
    }

    fn integer(&self, _value: i64, _bits: u32) -> Option<i64> {
        None
    }

    fn date(&self, _days: i32) -> Result<Option<i32>> {
        Ok(None)
    }
}

/// `mask_hash(value)` → the hex SHA-256 of a string value.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MaskHashFunc {
    signature: Signature,
}

impl Default for MaskHashFunc {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_STRING,
        "Returns the hash of the given value: the hex SHA-256 of a string (Hive 4; Hive 2 used \
         MD5). Numbers and dates give NULL.",
        "mask_hash(value)",
        "SELECT mask_hash('abc');\n\
         -- ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    )
});

impl ScalarUDFImpl for MaskHashFunc {
    fn name(&self) -> &str {
        "mask_hash"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [t] => Ok(vec![coerce_value_type(self.name(), t)?]),
            _ => Err(hive_arg_error(
                self.name(),
                format!("takes 1 argument, got {}", arg_types.len()),
            )),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types {
            [t] => coerce_value_type(self.name(), t),
            _ => Err(hive_arg_error(self.name(), "takes 1 argument")),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        evaluate_on_first(&args.args, args.number_rows, |values| {
            mask_array(&Sha256Masker, values)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
