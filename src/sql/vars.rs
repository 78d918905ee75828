//! Hive variables: `--hivevar`/`--define`, `SET`, and `${...}` substitution.

use std::collections::BTreeMap;

use crate::error::{ApiaryError, Result};
use crate::session::settings;

/// The variables of one session.
#[derive(Debug, Clone, Default)]
pub struct Variables {
    /// `--hivevar k=v`, `-d k=v`, `SET hivevar:k=v`; read as `${k}` or `${hivevar:k}`.
    pub hivevar: BTreeMap<String, String>,
    /// `SET k=v` (non-DataFusion keys); read as `${k}` or `${hiveconf:k}`.
    pub hiveconf: BTreeMap<String, String>,
}

/// Hive's default for `hive.variable.substitute.depth`: rounds of `${...}` substitution.
pub const DEFAULT_SUBSTITUTE_DEPTH: usize = 40;

/// How much larger than the statement as written substitution may make it (values holding
/// `${...}` can double the text every round: 26 `SET` lines would build 128 MB).
pub const MAX_SUBSTITUTION_GROWTH: usize = 1 << 20;

/// The most text a session's variables (hivevar and hiveconf, names and values) may hold
/// together: each `SET` may add up to [`MAX_SUBSTITUTION_GROWTH`], and without a total a
/// client could fill the server's memory one `SET` at a time.
pub const MAX_VARIABLE_BYTES: usize = 16 << 20;

impl Variables {
    /// Checks that setting `name` (in `hivevar` when `hivevar` is true, else in `hiveconf`)
    /// to `value` keeps the session's variables within [`MAX_VARIABLE_BYTES`].
    pub fn check_room(&self, hivevar: bool, name: &str, value: &str) -> Result<()> {
        let size = |m: &BTreeMap<String, String>| -> usize {
            m.iter().map(|(k, v)| k.len() + v.len()).sum()
        };
        let map = if hivevar {
            &self.hivevar
        } else {
            &self.hiveconf
        };
        let replaced = map.get(name).map_or(0, |v| name.len() + v.len());
        let total = (size(&self.hivevar) + size(&self.hiveconf) - replaced)
            .saturating_add(name.len() + value.len());
        if total > MAX_VARIABLE_BYTES {
            return Err(ApiaryError::Usage(format!(
                "SET {name}: the session's variables would hold {total} bytes, more than \
                 the {MAX_VARIABLE_BYTES} allowed; unset some (SET {name}=) first"
            )));
        }
        Ok(())
    }

    /// The value `${name}` stands for, if any, as Hive's `VariableSubstitution` resolves it:
    /// `env:`, `system:`, `hiveconf:` and `hivevar:` prefixes; an unprefixed name is a hivevar.
    /// `env:` and `system:` read the process environment only when `environment` is true (the
    /// CLI; a server keeps its environment from its clients).
    pub fn lookup(&self, name: &str, environment: bool) -> Option<String> {
        if let Some(env) = name
            .strip_prefix("env:")
            .or_else(|| name.strip_prefix("system:"))
        {
            return if environment {
                std::env::var(env).ok()
            } else {
                None
            };
        }
        if let Some(k) = name.strip_prefix("hivevar:") {
            return self.hivevar.get(k).cloned();
        }
        if let Some(k) = name.strip_prefix("hiveconf:") {
            return self.hiveconf.get(k).cloned();
        }
        self.hivevar.get(name).cloned()
    }

    /// Replaces every `${name}` that has a value; unknown ones stay as written (as in Hive).
    /// Values may themselves hold `${...}`: substitution repeats, at most
    /// `hive.variable.substitute.depth` rounds (40), and may make the text at most
    /// [`MAX_SUBSTITUTION_GROWTH`] bytes longer; past either it is an error.
    /// `SET hive.variable.substitute=false` turns substitution off.
    pub fn substitute(&self, text: &str, environment: bool) -> Result<String> {
        if self
            .hiveconf
            .get(settings::SUBSTITUTE)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("false"))
        {
            return Ok(text.to_string());
        }
        let depth = match self.hiveconf.get(settings::SUBSTITUTE_DEPTH) {
            Some(v) => settings::parse_substitute_depth(v)?,
            None => DEFAULT_SUBSTITUTE_DEPTH,
        };
        let limit = text.len().saturating_add(MAX_SUBSTITUTION_GROWTH);
        let mut current = text.to_string();
        for _ in 0..depth {
            let next = self.substitute_once(&current, environment, limit)?;
            if next == current {
                return Ok(current);
            }
            current = next;
        }
        if self.substitute_once(&current, environment, limit)? != current {
            return Err(ApiaryError::Usage(format!(
                "variable substitution did not finish in {depth} rounds \
                 (hive.variable.substitute.depth): does a variable refer to itself?"
            )));
        }
        Ok(current)
    }

    fn substitute_once(&self, text: &str, environment: bool, limit: usize) -> Result<String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            match after.find('}') {
                Some(end) => {
                    let name = &after[..end];
                    match self.lookup(name, environment) {
                        Some(v) => out.push_str(&v),
                        None => {
                            out.push_str("${");
                            out.push_str(name);
                            out.push('}');
                        }
                    }
                    rest = &after[end + 1..];
                }
                None => {
                    out.push_str(&rest[start..]);
                    rest = "";
                }
            }
            if out.len() > limit {
                return Err(ApiaryError::Usage(format!(
                    "variable substitution would make the statement longer than {} bytes \
                     (at most {} MiB more than written)",
                    limit,
                    MAX_SUBSTITUTION_GROWTH >> 20
                )));
            }
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// Parses `k=v` as given to `--hivevar` and `--define`.
pub fn parse_assignment(text: &str) -> Option<(String, String)> {
    let (k, v) = text.split_once('=')?;
    let k = k.trim();
    (!k.is_empty()).then(|| (k.to_string(), v.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_hive_forms_and_leaves_unknown() {
        let mut v = Variables::default();
        v.hivevar.insert("tbl".into(), "words".into());
        v.hiveconf.insert("n".into(), "3".into());
        v.hiveconf.insert("only_conf".into(), "x".into());
        v.hivevar.insert("q".into(), "SELECT * FROM ${tbl}".into());
        let sub = |v: &Variables, t: &str| v.substitute(t, true).unwrap_or_default();
        assert_eq!(
            sub(
                &v,
                "SELECT * FROM ${hivevar:tbl} LIMIT ${hiveconf:n} -- ${nope}"
            ),
            "SELECT * FROM words LIMIT 3 -- ${nope}"
        );
        assert_eq!(sub(&v, "${q}"), "SELECT * FROM words");
        assert_eq!(sub(&v, "${unclosed"), "${unclosed");
        // An unprefixed name is a hivevar: hiveconf values need ${hiveconf:...}.
        assert_eq!(sub(&v, "${only_conf}"), "${only_conf}");
        v.hiveconf
            .insert("hive.variable.substitute".into(), "false".into());
        assert_eq!(sub(&v, "${tbl}"), "${tbl}");
    }

    #[test]
    fn substitution_is_bounded() {
        let mut v = Variables::default();
        // A variable that refers to itself never settles.
        v.hivevar.insert("a".into(), "x${a}".into());
        let err = v
            .substitute("${a}", true)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("hive.variable.substitute.depth"), "{err}");
        v.hiveconf
            .insert("hive.variable.substitute.depth".into(), "3".into());
        v.hivevar.insert("b".into(), "${c}".into());
        v.hivevar.insert("c".into(), "${d}".into());
        v.hivevar.insert("d".into(), "${e}".into());
        v.hivevar.insert("e".into(), "deep".into());
        assert!(v.substitute("${b}", true).is_err());
        assert_eq!(v.substitute("${c}", true).unwrap_or_default(), "deep");
        // Doubling values: each round twice as long, stopped at the size cap.
        let mut v = Variables::default();
        v.hivevar.insert("x0".into(), "y".repeat(1024));
        for i in 1..=20 {
            v.hivevar
                .insert(format!("x{i}"), format!("${{x{}}}${{x{}}}", i - 1, i - 1));
        }
        let err = v
            .substitute("${x20}", true)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("longer than"), "{err}");
        assert_eq!(
            v.substitute("${x5}", true).map(|s| s.len()).unwrap_or(0),
            32 * 1024
        );
    }

    #[test]
    fn the_environment_is_read_only_when_allowed() {
        let v = Variables::default();
        let path = std::env::var("PATH").unwrap_or_default();
        assert_eq!(v.substitute("${env:PATH}", true).unwrap_or_default(), path);
        assert_eq!(
            v.substitute("${env:PATH} ${system:PATH}", false)
                .unwrap_or_default(),
            "${env:PATH} ${system:PATH}"
        );
    }
}
