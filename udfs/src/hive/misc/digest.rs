//! `md5`, `sha1` (alias `sha`) and `crc32`: digests of a string's UTF-8 bytes or of a binary
//! value (numbers are digested as their text, as Hive's UDF bridge converts them); NULL gives
//! NULL. These replace DataFusion's `md5`.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_HASHING;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use md5::Md5;
use sha1::{Digest, Sha1};

use crate::hive::masking::hex_lower;
use crate::hive::{evaluate_on_first, hive_arg_error, hive_doc};

/// Which digest a [`DigestFunc`] computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum DigestKind {
    Md5,
    Sha1,
    Crc32,
}

/// `md5(x)`, `sha1(x)` / `sha(x)` or `crc32(x)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct DigestFunc {
    kind: DigestKind,
    signature: Signature,
    aliases: Vec<String>,
}

impl DigestFunc {
    fn new(kind: DigestKind, aliases: &[&str]) -> Self {
        Self {
            kind,
            signature: Signature::user_defined(Volatility::Immutable),
            aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
        }
    }

    /// Creates `md5`.
    pub fn md5() -> Self {
        Self::new(DigestKind::Md5, &[])
    }

    /// Creates `sha1` (and its alias `sha`).
    pub fn sha1() -> Self {
        Self::new(DigestKind::Sha1, &["sha"])
    }

    /// Creates `crc32`.
    pub fn crc32() -> Self {
        Self::new(DigestKind::Crc32, &[])
    }
}

static MD5_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_HASHING,
        "Calculates an MD5 128-bit checksum for the string or binary, as a string of 32 hex \
         digits; NULL if the argument is NULL.",
        "md5(str_or_bin)",
        "SELECT md5('ABC');\n-- 902fbdd2b1df0c4f70b4a5d23525e932",
    )
});

static SHA1_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_HASHING,
        "Calculates the SHA-1 digest for the string or binary, as a string of 40 hex digits; \
         NULL if the argument is NULL.",
        "sha1(str_or_bin)",
        "SELECT sha1('ABC');\n-- 3c01bdbb26f358bab27f267924aa2c9a03fcfdb8",
    )
});

static CRC32_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_HASHING,
        "Computes a cyclic redundancy check value for the string or binary argument, as a \
         bigint; NULL if the argument is NULL.",
        "crc32(str_or_bin)",
        "SELECT crc32('ABC');\n-- 2743272264",
    )
});

/// Whether a type is binary (its bytes are digested as they are).
pub(super) fn is_binary(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::FixedSizeBinary(_)
    )
}

/// The type the bytes are read from: binaries as `Binary`, strings and numbers as `Utf8`.
pub(super) fn bytes_type(name: &str, data_type: &DataType, numbers: bool) -> Result<DataType> {
    match data_type {
        t if is_binary(t) => Ok(DataType::Binary),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => {
            Ok(DataType::Utf8)
        }
        DataType::Dictionary(_, value) => bytes_type(name, value, numbers),
        t if numbers && (t.is_numeric() || matches!(t, DataType::Date32)) => Ok(DataType::Utf8),
        t => Err(hive_arg_error(
            name,
            format!("takes a string or binary argument, got {t}"),
        )),
    }
}

/// Calls `f` with the bytes of each row of a `Utf8` or `Binary` array (`None` for NULL).
pub(super) fn for_each_bytes(array: &ArrayRef, mut f: impl FnMut(Option<&[u8]>)) -> Result<()> {
    let array = if is_binary(array.data_type()) {
        cast(array, &DataType::Binary)?
    } else {
        cast(array, &DataType::Utf8)?
    };
    if array.data_type() == &DataType::Binary {
        array.as_binary::<i32>().iter().for_each(&mut f);
    } else {
        array
            .as_string::<i32>()
            .iter()
            .for_each(|s| f(s.map(str::as_bytes)));
    }
    Ok(())
}

impl ScalarUDFImpl for DigestFunc {
    fn name(&self) -> &str {
        match self.kind {
            DigestKind::Md5 => "md5",
            DigestKind::Sha1 => "sha1",
            DigestKind::Crc32 => "crc32",
        }
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [t] => Ok(vec![bytes_type(self.name(), t, true)?]),
            _ => Err(hive_arg_error(
                self.name(),
                format!("takes 1 argument, got {}", arg_types.len()),
            )),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self.kind {
            DigestKind::Crc32 => DataType::Int64,
            DigestKind::Md5 | DigestKind::Sha1 => DataType::Utf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let kind = self.kind;
        evaluate_on_first(&args.args, args.number_rows, |values| {
            Ok(match kind {
                DigestKind::Crc32 => {
                    let mut out = Vec::with_capacity(values.len());
                    for_each_bytes(values, |b| {
                        out.push(b.map(|b| i64::from(crc32fast::hash(b))));
                    })?;
                    Arc::new(Int64Array::from(out)) as ArrayRef
                }
                DigestKind::Md5 | DigestKind::Sha1 => {
                    let mut out = Vec::with_capacity(values.len());
                    for_each_bytes(values, |b| {
                        out.push(b.map(|b| match kind {
                            DigestKind::Md5 => hex_lower(&Md5::digest(b)),
                            _ => hex_lower(&Sha1::digest(b)),
                        }));
                    })?;
                    Arc::new(StringArray::from(out)) as ArrayRef
                }
            })
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(match self.kind {
            DigestKind::Md5 => &MD5_DOC,
            DigestKind::Sha1 => &SHA1_DOC,
            DigestKind::Crc32 => &CRC32_DOC,
        })
    }
}
