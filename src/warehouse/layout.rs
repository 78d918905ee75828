//! Hive's directory layout: partition directories `p=v/q=w` with Hive's escaping, so that
//! Spark, Hive, DuckDB and DataFusion's `ListingTable` read the files as they are.

/// The directory name Hive gives a NULL (or empty) partition value.
pub const DEFAULT_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

fn needs_escape(c: char) -> bool {
    matches!(
        c,
        '"' | '#'
            | '%'
            | '\''
            | '*'
            | '/'
            | ':'
            | '='
            | '?'
            | '\\'
            | '\x7f'
            | '{'
            | '['
            | ']'
            | '^'
    ) || ('\x01'..='\x1f').contains(&c)
}

/// Escapes a name or value as Hive's `FileUtils.escapePathName` does (`%XX` per character).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if needs_escape(c) {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Reverses [`escape`].
pub fn unescape(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One directory level: `name=value`, NULL and '' as Hive's default partition.
pub fn partition_dir(name: &str, value: Option<&str>) -> String {
    match value {
        Some(v) if !v.is_empty() => format!("{}={}", escape(name), escape(v)),
        _ => format!("{}={DEFAULT_PARTITION}", escape(name)),
    }
}

/// The path of a partition below its table: `p=v/q=w`.
pub fn partition_spec(names: &[String], values: &[Option<String>]) -> String {
    names
        .iter()
        .zip(values)
        .map(|(n, v)| partition_dir(n, v.as_deref()))
        .collect::<Vec<_>>()
        .join("/")
}

/// Parses `p=v/q=w` (relative to a table) into values for `names`; `None` when the path does
/// not name exactly those columns in that order.
pub fn parse_partition_path(names: &[String], path: &str) -> Option<Vec<Option<String>>> {
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if parts.len() != names.len() {
        return None;
    }
    parts
        .iter()
        .zip(names)
        .map(|(part, name)| {
            let (k, v) = part.split_once('=')?;
            if !unescape(k).eq_ignore_ascii_case(name) {
                return None;
            }
            Some(if v == DEFAULT_PARTITION {
                None
            } else {
                Some(unescape(v))
            })
        })
        .collect()
}

/// The hidden directory of a data directory where replaced files wait out their grace
/// period (so that queries planned before the replacement still read them).
pub const TRASH_DIR: &str = ".apiary-trash";

/// Where a replaced data file waits: `<its directory>/.apiary-trash/<its name>`.
pub fn trash_path(path: &std::path::Path) -> std::path::PathBuf {
    let name = path.file_name().unwrap_or_default();
    path.parent()
        .map(|p| p.join(TRASH_DIR).join(name))
        .unwrap_or_else(|| std::path::PathBuf::from(TRASH_DIR).join(name))
}

/// Hidden files and directories (staging, `_SUCCESS`, `.crc`) that readers skip, as Hive does.
pub fn is_hidden(name: &str) -> bool {
    name.starts_with('.') || name.starts_with('_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_paths_escape_like_hive() {
        assert_eq!(partition_dir("dt", Some("2024-01-01")), "dt=2024-01-01");
        assert_eq!(partition_dir("p", Some("a/b=c")), "p=a%2Fb%3Dc");
        assert_eq!(partition_dir("p", None), "p=__HIVE_DEFAULT_PARTITION__");
        assert_eq!(unescape("a%2Fb%3Dc"), "a/b=c");
        let names = vec!["dt".to_string(), "h".to_string()];
        let values = vec![Some("x:y".to_string()), None];
        let spec = partition_spec(&names, &values);
        assert_eq!(spec, "dt=x%3Ay/h=__HIVE_DEFAULT_PARTITION__");
        assert_eq!(parse_partition_path(&names, &spec), Some(values));
        assert_eq!(parse_partition_path(&names, "h=1/dt=2"), None);
    }
}
