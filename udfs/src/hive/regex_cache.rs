//! Compiled regular expressions (Java's syntax, see `string::java_regex`), kept across
//! batches for the functions that take patterns.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::ColumnarValue;
use regex::Regex;

/// How many distinct patterns one function keeps compiled.
const CAPACITY: usize = 64;

/// A bounded cache of compiled patterns, shared by all invocations of one function.
///
/// A constant pattern is compiled once per query instead of once per batch; per-row
/// patterns are compiled once per distinct pattern. When the cache is full it is emptied
/// (patterns that vary per row rarely repeat across many distinct values).
#[derive(Debug, Default)]
pub(crate) struct RegexCache {
    compiled: Mutex<HashMap<String, Arc<Regex>>>,
}

// The cache is an optimisation, not part of a function's identity: all caches compare equal.
impl PartialEq for RegexCache {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl Eq for RegexCache {}

impl Hash for RegexCache {
    fn hash<H: Hasher>(&self, _state: &mut H) {}
}

impl RegexCache {
    /// The compiled `pattern`; `function` names the caller in the error for a bad pattern.
    pub(crate) fn get(&self, function: &str, pattern: &str) -> Result<Arc<Regex>> {
        if let Ok(compiled) = self.compiled.lock()
            && let Some(re) = compiled.get(pattern)
        {
            return Ok(Arc::clone(re));
        }
        // Java's syntax (Hive's functions use java.util.regex), translated for the `regex`
        // crate; a Java feature the crate lacks is an error, never a different match.
        let translated = match super::string::java_regex::translate(pattern) {
            Ok(t) => t,
            Err(why) => {
                return exec_err!("{function}: invalid regular expression '{pattern}': it {why}");
            }
        };
        let re = match Regex::new(&translated) {
            Ok(re) => Arc::new(re),
            Err(e) => {
                return exec_err!("{function}: invalid regular expression '{pattern}': {e}");
            }
        };
        if let Ok(mut compiled) = self.compiled.lock() {
            if compiled.len() >= CAPACITY {
                compiled.clear();
            }
            compiled.insert(pattern.to_owned(), Arc::clone(&re));
        }
        Ok(re)
    }
}

/// A pattern argument of one batch: compiled once when it is a constant, per row otherwise.
pub(crate) enum PatternArg {
    /// A constant pattern (`None` for a NULL constant).
    Const(Option<Arc<Regex>>),
    /// One pattern per row, as a `Utf8` array.
    PerRow(ArrayRef),
}

impl PatternArg {
    /// Reads a (`Utf8`-coerced) pattern argument, compiling it if it is a constant.
    pub(crate) fn new(cache: &RegexCache, function: &str, arg: &ColumnarValue) -> Result<Self> {
        match arg {
            ColumnarValue::Scalar(scalar) => match scalar {
                ScalarValue::Utf8(Some(p))
                | ScalarValue::LargeUtf8(Some(p))
                | ScalarValue::Utf8View(Some(p)) => Ok(Self::Const(Some(cache.get(function, p)?))),
                _ => Ok(Self::Const(None)),
            },
            ColumnarValue::Array(array) => Ok(Self::PerRow(Arc::clone(array))),
        }
    }

    /// The compiled pattern of `row`, `None` if it is NULL.
    pub(crate) fn at(
        &self,
        cache: &RegexCache,
        function: &str,
        row: usize,
    ) -> Result<Option<Arc<Regex>>> {
        match self {
            Self::Const(re) => Ok(re.clone()),
            Self::PerRow(array) => {
                let Some(patterns) = array.as_string_opt::<i32>() else {
                    return exec_err!("{function}: pattern must be a string");
                };
                if patterns.is_null(row) {
                    Ok(None)
                } else {
                    cache.get(function, patterns.value(row)).map(Some)
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn compiles_once_and_reports_bad_patterns() {
        let cache = RegexCache::default();
        let a = cache.get("split", ",+").unwrap();
        let b = cache.get("split", ",+").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        let err = cache.get("split", "(").unwrap_err().to_string();
        assert!(
            err.contains("split: invalid regular expression '('"),
            "{err}"
        );
    }

    #[test]
    fn stays_bounded() {
        let cache = RegexCache::default();
        for i in 0..(CAPACITY * 2) {
            cache.get("split", &format!("x{i}")).unwrap();
        }
        assert!(cache.compiled.lock().unwrap().len() <= CAPACITY);
    }
}
