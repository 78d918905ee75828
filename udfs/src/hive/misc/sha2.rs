//! `sha2(str_or_bin, bit_length)`: the SHA-2 digest (SHA-224, SHA-256, SHA-384 or SHA-512; 0
//! means 256) as hex; any other length, or a NULL argument, gives NULL.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::Result;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_HASHING;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

use super::digest::{bytes_type, for_each_bytes};
use crate::hive::masking::hex_lower;
use crate::hive::{evaluate_rowwise, hive_arg_error, hive_doc};

/// `sha2(str_or_bin, bit_length)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Sha2Func {
    signature: Signature,
}

impl Default for Sha2Func {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_HASHING,
        "Calculates the SHA-2 family of hash functions (SHA-224, SHA-256, SHA-384, SHA-512) of \
         a string or binary, as hex. The bit length must be 224, 256, 384, 512 or 0 (= 256); \
         any other gives NULL, as does a NULL argument.",
        "sha2(str_or_bin, bit_length)",
        "SELECT sha2('ABC', 256);\n\
         -- b5d4045c3f466fa91fe2cc6abe79232a1a57cdf104f7a26e716e0a1e2789df78",
    )
});

fn sha2_hex(bytes: &[u8], bits: i64) -> Option<String> {
    Some(match bits {
        224 => hex_lower(&Sha224::digest(bytes)),
        0 | 256 => hex_lower(&Sha256::digest(bytes)),
        384 => hex_lower(&Sha384::digest(bytes)),
        512 => hex_lower(&Sha512::digest(bytes)),
        _ => return None,
    })
}

impl ScalarUDFImpl for Sha2Func {
    fn name(&self) -> &str {
        "sha2"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [value, bits] => {
                if !(bits.is_integer() || bits.is_null()) {
                    return Err(hive_arg_error(
                        self.name(),
                        format!("the bit length must be an integer, got {bits}"),
                    ));
                }
                Ok(vec![
                    bytes_type(self.name(), value, false)?,
                    DataType::Int64,
                ])
            }
            _ => Err(hive_arg_error(
                self.name(),
                format!(
                    "takes 2 arguments (str_or_bin, bit_length), got {}",
                    arg_types.len()
                ),
            )),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        evaluate_rowwise(&args.args, |columns| {
            let [values, bits] = columns else {
                return Err(hive_arg_error("sha2", "takes 2 arguments"));
            };
            let bits = cast(bits, &DataType::Int64)?;
            let bits = bits.as_primitive::<Int64Type>();
            let mut out = Vec::with_capacity(values.len());
            let mut row = 0;
            for_each_bytes(values, |b| {
                let length = (!bits.is_null(row)).then(|| bits.value(row));
                out.push(b.zip(length).and_then(|(b, n)| sha2_hex(b, n)));
                row += 1;
            })?;
            Ok(Arc::new(StringArray::from(out)) as ArrayRef)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
