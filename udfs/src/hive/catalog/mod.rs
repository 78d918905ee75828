//! The list of Hive's built-in functions (Hive 4's `FunctionRegistry`, by the families of Hive's
//! language manual), with each one's status in Apiary and its usage text as Hive documents it.
//!
//! The list is data, one tab-separated file per family (`name`, `status`, `usage`, `note`;
//! `#` starts a comment line), so that coverage is visible in the repository and checked by the
//! tests: every `hive` or `syntax` entry must resolve in a session and say its usage in
//! `DESCRIBE FUNCTION`; every `refused` entry must fail with its note when called.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};

/// A family of Hive functions, as Hive's language manual groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// Mathematical functions.
    Math,
    /// Collection functions and the complex type constructors.
    Collection,
    /// Type conversion (`CAST` and the functions named after types).
    Conversion,
    /// Date functions.
    Date,
    /// Conditional functions.
    Conditional,
    /// String functions.
    String,
    /// Data masking functions.
    Masking,
    /// Miscellaneous functions (hashes, digests, encryption, XPath, session information).
    Misc,
    /// Aggregate functions (UDAFs).
    Aggregate,
    /// Table-generating functions (UDTFs).
    Generator,
    /// Windowing functions.
    Window,
    /// Names Hive registers for its own machinery, not for users.
    Internal,
}

impl Family {
    /// Every family, in the order the language manual lists them.
    pub const ALL: [Family; 12] = [
        Family::Math,
        Family::Collection,
        Family::Conversion,
        Family::Date,
        Family::Conditional,
        Family::String,
        Family::Masking,
        Family::Misc,
        Family::Aggregate,
        Family::Generator,
        Family::Window,
        Family::Internal,
    ];

    /// The family's name, as its data file is named.
    pub fn name(self) -> &'static str {
        match self {
            Family::Math => "math",
            Family::Collection => "collection",
            Family::Conversion => "conversion",
            Family::Date => "date",
            Family::Conditional => "conditional",
            Family::String => "string",
            Family::Masking => "masking",
            Family::Misc => "misc",
            Family::Aggregate => "aggregate",
            Family::Generator => "generator",
            Family::Window => "window",
            Family::Internal => "internal",
        }
    }

    fn data(self) -> &'static str {
        match self {
            Family::Math => include_str!("math.tsv"),
            Family::Collection => include_str!("collection.tsv"),
            Family::Conversion => include_str!("conversion.tsv"),
            Family::Date => include_str!("date.tsv"),
            Family::Conditional => include_str!("conditional.tsv"),
            Family::String => include_str!("string.tsv"),
            Family::Masking => include_str!("masking.tsv"),
            Family::Misc => include_str!("misc.tsv"),
            Family::Aggregate => include_str!("aggregate.tsv"),
            Family::Generator => include_str!("generator.tsv"),
            Family::Window => include_str!("window.tsv"),
            Family::Internal => include_str!("internal.tsv"),
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a Hive function stands in Apiary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// A function that exists and answers as Hive's does.
    Hive,
    /// Written as SQL syntax rather than a call (`CASE`, `IN`, `BETWEEN`, `CAST`, `LIKE`, ...),
    /// and answering as Hive's does.
    Syntax,
    /// Not offered, on purpose: calling it fails with the entry's note, which says why.
    Refused,
    /// Not there yet (a known gap).
    Missing,
}

/// One Hive function: its name, family, status, usage text and a note.
#[derive(Debug, Clone)]
pub struct HiveFunction {
    /// The name, lower case.
    pub name: &'static str,
    /// Its family.
    pub family: Family,
    /// Its status in Apiary.
    pub status: Status,
    /// Its usage, as Hive's `DESCRIBE FUNCTION` gives it (`name(args) - what it returns`).
    pub usage: &'static str,
    /// A remark: why a function is refused, or where Apiary's answer is worth a word.
    pub note: &'static str,
}

fn parse(family: Family) -> Vec<HiveFunction> {
    let mut out = Vec::new();
    for line in family.data().lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split('\t');
        let name = fields.next().unwrap_or_default().trim();
        let status = match fields.next().unwrap_or_default().trim() {
            "hive" => Status::Hive,
            "syntax" => Status::Syntax,
            "refused" => Status::Refused,
            _ => Status::Missing,
        };
        let usage = fields.next().unwrap_or_default().trim();
        let note = fields.next().unwrap_or_default().trim();
        out.push(HiveFunction {
            name,
            family,
            status,
            usage,
            note,
        });
    }
    out
}

static CATALOG: LazyLock<Vec<HiveFunction>> =
    LazyLock::new(|| Family::ALL.into_iter().flat_map(parse).collect());

static BY_NAME: LazyLock<HashMap<&'static str, &'static HiveFunction>> =
    LazyLock::new(|| CATALOG.iter().map(|f| (f.name, f)).collect());

/// Every Hive function, family by family.
pub fn hive_functions() -> &'static [HiveFunction] {
    &CATALOG
}

/// The Hive function called `name` (any case), if Hive has one.
pub fn hive_function(name: &str) -> Option<&'static HiveFunction> {
    BY_NAME.get(name.to_ascii_lowercase().as_str()).copied()
}

/// A function Apiary refuses on purpose: planning a call fails with the reason.
#[derive(Debug, PartialEq, Eq, Hash)]
struct RefusedFunc {
    name: &'static str,
    reason: &'static str,
    signature: Signature,
}

impl ScalarUDFImpl for RefusedFunc {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        plan_err!("{}: not supported in Apiary: {}", self.name, self.reason)
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        plan_err!("{}: not supported in Apiary: {}", self.name, self.reason)
    }
}

/// A function for each refused Hive function, so that a call says why it is refused rather
/// than that the function does not exist.
pub(crate) fn refused_functions() -> Vec<Arc<ScalarUDF>> {
    hive_functions()
        .iter()
        .filter(|f| f.status == Status::Refused)
        .map(|f| {
            Arc::new(ScalarUDF::from(RefusedFunc {
                name: f.name,
                reason: f.note,
                // Any arguments, none included (`current_groups()`), so that every call reaches
                // the refusal.
                signature: Signature::one_of(
                    vec![TypeSignature::Nullary, TypeSignature::VariadicAny],
                    Volatility::Volatile,
                ),
            }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_name_is_listed_once_in_lower_case_with_a_known_status() {
        let mut seen = HashSet::new();
        for f in hive_functions() {
            assert!(seen.insert(f.name), "{} is listed twice", f.name);
            assert_eq!(f.name, f.name.to_ascii_lowercase(), "{}", f.name);
            if matches!(f.status, Status::Hive | Status::Syntax) {
                assert!(!f.usage.is_empty(), "{} has no usage text", f.name);
            }
            if f.status == Status::Refused {
                assert!(!f.note.is_empty(), "{} is refused without a reason", f.name);
            }
        }
        assert!(hive_function("REGEXP_REPLACE").is_some());
        assert!(hive_function("no_such_function").is_none());
    }
}
