//! `mask`, `mask_first_n`, `mask_last_n`, `mask_show_first_n`, `mask_show_last_n`: Hive's
//! data masking functions (`GenericUDFMask*`), one implementation told apart by [`MaskKind`].

use std::sync::LazyLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_STRING;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::apply::{ValueMasker, coerce_value_type, mask_array};
use super::options::{MaskOptions, count_from_args};
use super::transform::{MaskKind, Masker};
use crate::hive::{evaluate_on_first, hive_arg_error, hive_doc};

impl ValueMasker for Masker {
    fn string(&self, value: &str) -> Result<Option<String>> {
        Masker::string(self, value).map(Some)
    }

    fn integer(&self, value: i64, bits: u32) -> Option<i64> {
        Some(Masker::integer(self, value, bits))
    }

    fn date(&self, days: i32) -> Result<Option<i32>> {
        Masker::date(self, days).map(Some)
    }
}

/// One of Hive's `mask*` functions.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MaskFunc {
    kind: MaskKind,
    signature: Signature,
}

impl MaskFunc {
    fn new(kind: MaskKind) -> Self {
        Self {
            kind,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }

    /// `mask(value[, upper, lower, digit, other, number, day, month, year])`.
    pub fn mask() -> Self {
        Self::new(MaskKind::All)
    }

    /// `mask_first_n(value[, n, upper, lower, digit, other, number])`.
    pub fn first_n() -> Self {
        Self::new(MaskKind::FirstN)
    }

    /// `mask_last_n(value[, n, upper, lower, digit, other, number])`.
    pub fn last_n() -> Self {
        Self::new(MaskKind::LastN)
    }

    /// `mask_show_first_n(value[, n, upper, lower, digit, other, number])`.
    pub fn show_first_n() -> Self {
        Self::new(MaskKind::ShowFirstN)
    }

    /// `mask_show_last_n(value[, n, upper, lower, digit, other, number])`.
    pub fn show_last_n() -> Self {
        Self::new(MaskKind::ShowLastN)
    }

    fn max_args(&self) -> usize {
        if self.kind.takes_count() { 10 } else { 9 }
    }
}

const OPTIONS_TEXT: &str = "Upper-case letters become upper (default 'X'), lower-case \
     letters lower ('x'), digits digit ('n'), other characters other (default: kept); -1 keeps \
     a class as it is. Numbers (tinyint to bigint) have their digits replaced by number \
     (default 1); dates become day (1), month (0-11, default 0 = January), year (0), -1 keeping \
     a field. Only constant arguments count; other types give NULL.";

static MASK_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_STRING,
        &format!("Masks the given value. {OPTIONS_TEXT}"),
        "mask(value[, upper, lower, digit, other, number, day, month, year])",
        "SELECT mask('abcd-EFGH-8765-4321'), mask('abcd-EFGH-8765-4321', 'U', 'l', '#');\n\
         -- xxxx-XXXX-nnnn-nnnn, llll-UUUU-####-####",
    )
});

static FIRST_N_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_STRING,
        &format!("Masks the first n (default 4) characters of the value. {OPTIONS_TEXT}"),
        "mask_first_n(value[, n, upper, lower, digit, other, number])",
        "SELECT mask_first_n('1234-5678-8765-4321', 4);\n-- nnnn-5678-8765-4321",
    )
});

static LAST_N_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_STRING,
        &format!("Masks the last n (default 4) characters of the value. {OPTIONS_TEXT}"),
        "mask_last_n(value[, n, upper, lower, digit, other, number])",
        "SELECT mask_last_n('1234-5678-8765-4321', 4);\n-- 1234-5678-8765-nnnn",
    )
});

static SHOW_FIRST_N_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_STRING,
        &format!("Masks all but the first n (default 4) characters of the value. {OPTIONS_TEXT}"),
        "mask_show_first_n(value[, n, upper, lower, digit, other, number])",
        "SELECT mask_show_first_n('1234-5678-8765-4321', 4);\n-- 1234-nnnn-nnnn-nnnn",
    )
});

static SHOW_LAST_N_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_STRING,
        &format!("Masks all but the last n (default 4) characters of the value. {OPTIONS_TEXT}"),
        "mask_show_last_n(value[, n, upper, lower, digit, other, number])",
        "SELECT mask_show_last_n('1234-5678-8765-4321', 4);\n-- nnnn-nnnn-nnnn-4321",
    )
});

impl ScalarUDFImpl for MaskFunc {
    fn name(&self) -> &str {
        self.kind.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let Some(first) = arg_types.first() else {
            return Err(hive_arg_error(
                self.name(),
                "takes the value to mask, got no arguments",
            ));
        };
        if arg_types.len() > self.max_args() {
            return Err(hive_arg_error(
                self.name(),
                format!(
                    "takes at most {} arguments, got {}",
                    self.max_args(),
                    arg_types.len()
                ),
            ));
        }
        let mut out = vec![coerce_value_type(self.name(), first)?];
        out.extend(arg_types.iter().skip(1).cloned());
        Ok(out)
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types.first() {
            Some(t) => coerce_value_type(self.name(), t),
            None => Err(hive_arg_error(self.name(), "takes the value to mask")),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (count, start) = if self.kind.takes_count() {
            (count_from_args(self.name(), &args.args, 1)?, 2)
        } else {
            (0, 1)
        };
        let masker = Masker {
            kind: self.kind,
            count,
            options: MaskOptions::from_args(self.name(), &args.args, start)?,
        };
        evaluate_on_first(&args.args, args.number_rows, |values| {
            mask_array(&masker, values)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(match self.kind {
            MaskKind::All => &MASK_DOC,
            MaskKind::FirstN => &FIRST_N_DOC,
            MaskKind::LastN => &LAST_N_DOC,
            MaskKind::ShowFirstN => &SHOW_FIRST_N_DOC,
            MaskKind::ShowLastN => &SHOW_LAST_N_DOC,
        })
    }
}
