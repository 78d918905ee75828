//! Hive variables: `--hivevar`/`--define`, `SET`, and `${...}` substitution.

use std::collections::BTreeMap;

/// The variables of one session.
#[derive(Debug, Clone, Default)]
pub struct Variables {
    /// `--hivevar k=v`, `-d k=v`, `SET hivevar:k=v`; read as `${k}` or `${hivevar:k}`.
    pub hivevar: BTreeMap<String, String>,
    /// `SET k=v` (non-DataFusion keys); read as `${k}` or `${hiveconf:k}`.
    pub hiveconf: BTreeMap<String, String>,
}

impl Variables {
    /// The value `${name}` stands for, if any, as Hive's `VariableSubstitution` resolves it:
    /// `env:`, `system:`, `hiveconf:` and `hivevar:` prefixes; an unprefixed name is a hivevar.
    pub fn lookup(&self, name: &str) -> Option<String> {
        if let Some(env) = name.strip_prefix("env:") {
            return std::env::var(env).ok();
        }
        if let Some(k) = name.strip_prefix("hivevar:") {
            return self.hivevar.get(k).cloned();
        }
        if let Some(k) = name.strip_prefix("hiveconf:") {
            return self.hiveconf.get(k).cloned();
        }
        if let Some(k) = name.strip_prefix("system:") {
            return std::env::var(k).ok();
        }
        self.hivevar.get(name).cloned()
    }

    /// Replaces every `${name}` that has a value; unknown ones stay as written (as in Hive).
    /// Values may themselves hold `${...}`: substitution repeats, at most 40 rounds.
    /// `SET hive.variable.substitute=false` turns substitution off.
    pub fn substitute(&self, text: &str) -> String {
        if self
            .hiveconf
            .get("hive.variable.substitute")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("false"))
        {
            return text.to_string();
        }
        let mut current = text.to_string();
        for _ in 0..40 {
            let next = self.substitute_once(&current);
            if next == current {
                break;
            }
            current = next;
        }
        current
    }

    fn substitute_once(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            match after.find('}') {
                Some(end) => {
                    let name = &after[..end];
                    match self.lookup(name) {
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
        }
        out.push_str(rest);
        out
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
        assert_eq!(
            v.substitute("SELECT * FROM ${hivevar:tbl} LIMIT ${hiveconf:n} -- ${nope}"),
            "SELECT * FROM words LIMIT 3 -- ${nope}"
        );
        assert_eq!(v.substitute("${q}"), "SELECT * FROM words");
        assert_eq!(v.substitute("${unclosed"), "${unclosed");
        // An unprefixed name is a hivevar: hiveconf values need ${hiveconf:...}.
        assert_eq!(v.substitute("${only_conf}"), "${only_conf}");
        v.hiveconf
            .insert("hive.variable.substitute".into(), "false".into());
        assert_eq!(v.substitute("${tbl}"), "${tbl}");
    }
}
