//! `SET`: Hive's variables and configuration, DataFusion's options and Apiary's own settings.
//! Every value is checked before it is taken: a setting Apiary reads itself must parse and lie
//! in its range, and DataFusion's options are parsed by DataFusion and kept to sane ranges,
//! so no later statement can trip over a value (`1e300`, `-1`, `NaN`, `0` partitions).

use std::time::Duration;

use crate::error::{ApiaryError, Result};

/// `SET apiary.lock.timeout=<seconds>`: how long a write waits for another process's write.
pub const LOCK_TIMEOUT: &str = "apiary.lock.timeout";
/// `SET apiary.external_access=false`: confine the session to the warehouse and the
/// `--allow-path` directories (cannot be turned back on).
pub const EXTERNAL_ACCESS: &str = "apiary.external_access";
/// `SET hive.variable.substitute=false`: no `${...}` substitution.
pub const SUBSTITUTE: &str = "hive.variable.substitute";
/// `SET hive.variable.substitute.depth=<n>`: how many rounds of `${...}` substitution (Hive's
/// default: 40).
pub const SUBSTITUTE_DEPTH: &str = "hive.variable.substitute.depth";

/// Apiary's own settings, with what each takes (for errors and the README).
pub const APIARY_SETTINGS: &[(&str, &str)] = &[
    (LOCK_TIMEOUT, "seconds, 0 to 86400"),
    (EXTERNAL_ACCESS, "false (true only where it already is)"),
];

/// The longest a write may be told to wait for a lock.
const MAX_LOCK_TIMEOUT_SECS: f64 = 86_400.0;

/// The most rounds of `${...}` substitution a session may ask for.
pub const MAX_SUBSTITUTE_DEPTH: usize = 1_000;

/// DataFusion options whose values DataFusion parses but does not bound; the range each may
/// take here.
const DATAFUSION_RANGES: &[(&str, u64, u64)] = &[
    ("datafusion.execution.batch_size", 1, 1 << 24),
    ("datafusion.execution.target_partitions", 1, 1024),
    ("datafusion.execution.planning_concurrency", 1, 1024),
    ("datafusion.execution.meta_fetch_concurrency", 1, 1024),
    (
        "datafusion.execution.minimum_parallel_output_files",
        1,
        1024,
    ),
    (
        "datafusion.execution.max_buffered_batches_per_output_file",
        1,
        1024,
    ),
    (
        "datafusion.execution.soft_max_rows_per_output_file",
        1,
        u64::MAX,
    ),
    ("datafusion.sql_parser.recursion_limit", 1, 10_000),
    // The Parquet writer loops forever on a batch size or page row limit of 0 and asserts
    // on a row group size of 0.
    ("datafusion.execution.parquet.write_batch_size", 1, 1 << 24),
    (
        "datafusion.execution.parquet.data_page_row_count_limit",
        1,
        u64::MAX,
    ),
    (
        "datafusion.execution.parquet.max_row_group_size",
        1,
        u64::MAX,
    ),
    (
        "datafusion.execution.parquet.data_pagesize_limit",
        1,
        u64::MAX,
    ),
    (
        "datafusion.execution.parquet.dictionary_page_size_limit",
        1,
        u64::MAX,
    ),
    (
        "datafusion.execution.parquet.maximum_parallel_row_group_writers",
        1,
        1024,
    ),
    (
        "datafusion.execution.parquet.maximum_buffered_record_batches_per_stream",
        1,
        4096,
    ),
];

fn invalid(key: &str, value: &str, takes: &str) -> ApiaryError {
    let shown: String = value.chars().take(40).collect();
    ApiaryError::Usage(format!("SET {key}={shown}: {key} takes {takes}"))
}

/// A boolean as Hive writes it.
pub fn parse_bool(key: &str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid(key, value, "true or false")),
    }
}

/// `apiary.lock.timeout`'s value as a duration.
pub fn parse_lock_timeout(value: &str) -> Result<Duration> {
    let takes = "a number of seconds from 0 to 86400";
    let seconds: f64 = value
        .trim()
        .parse()
        .map_err(|_| invalid(LOCK_TIMEOUT, value, takes))?;
    if !(seconds.is_finite() && (0.0..=MAX_LOCK_TIMEOUT_SECS).contains(&seconds)) {
        return Err(invalid(LOCK_TIMEOUT, value, takes));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// `hive.variable.substitute.depth`'s value.
pub fn parse_substitute_depth(value: &str) -> Result<usize> {
    let takes = format!("a whole number from 0 to {MAX_SUBSTITUTE_DEPTH}");
    value
        .trim()
        .parse::<usize>()
        .ok()
        .filter(|d| *d <= MAX_SUBSTITUTE_DEPTH)
        .ok_or_else(|| invalid(SUBSTITUTE_DEPTH, value, &takes))
}

/// Checks a `SET key=value` for a key outside DataFusion's namespace; unknown `apiary.*` keys
/// are errors (a typo must not pass silently), other keys are Hive's and are kept as given.
pub fn check_hive_setting(key: &str, value: &str) -> Result<()> {
    match key {
        LOCK_TIMEOUT => parse_lock_timeout(value).map(|_| ()),
        EXTERNAL_ACCESS => parse_bool(key, value).map(|_| ()),
        SUBSTITUTE => parse_bool(key, value).map(|_| ()),
        SUBSTITUTE_DEPTH => parse_substitute_depth(value).map(|_| ()),
        k if k.starts_with("apiary.") => Err(ApiaryError::Usage(format!(
            "SET {k}: unknown setting; Apiary's settings are {}",
            APIARY_SETTINGS
                .iter()
                .map(|(k, _)| *k)
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        _ => Ok(()),
    }
}

/// Checks a DataFusion option's value beyond DataFusion's own parsing.
pub fn check_datafusion_setting(key: &str, value: &str) -> Result<()> {
    let Some((_, low, high)) = DATAFUSION_RANGES.iter().find(|(k, _, _)| *k == key) else {
        return Ok(());
    };
    let takes = format!("a whole number from {low} to {high}");
    match value.trim().parse::<u64>() {
        Ok(n) if (*low..=*high).contains(&n) => Ok(()),
        _ => Err(invalid(key, value, &takes)),
    }
}

/// Checks `SET datafusion.runtime.<key>` (`value`) or `RESET` (`None`), which replace the
/// session's DataFusion runtime: a session drawing on a shared memory pool (`apiary serve
/// --memory-limit`) may not leave it, spill files go only where the session may write, and
/// counts are kept sane.
pub fn check_runtime_setting(
    key: &str,
    value: Option<&str>,
    shared_pool: bool,
    access: &crate::security::FileAccess,
) -> Result<()> {
    let name = key.strip_prefix("datafusion.runtime.").unwrap_or(key);
    match (name, value) {
        ("memory_limit", _) if shared_pool => Err(ApiaryError::Usage(format!(
            "{key}: this session shares the server's memory pool (--memory-limit); it cannot \
             be changed per session"
        ))),
        ("temp_directory", Some(dir)) => access.check(std::path::Path::new(dir), key).map(|_| ()),
        ("max_spill_merge_fan_in", Some(v)) => match v.trim().parse::<usize>() {
            Ok(n) if (2..=4096).contains(&n) => Ok(()),
            _ => Err(invalid(key, v, "a whole number from 2 to 4096")),
        },
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked() {
        assert_eq!(
            parse_lock_timeout("2.5").ok(),
            Some(Duration::from_millis(2500))
        );
        for bad in ["1e300", "-1", "NaN", "inf", "x", ""] {
            assert!(parse_lock_timeout(bad).is_err(), "{bad}");
        }
        assert!(check_hive_setting("apiary.lock.timout", "1").is_err());
        assert!(check_hive_setting("mapred.reduce.tasks", "anything").is_ok());
        assert!(check_hive_setting(SUBSTITUTE, "maybe").is_err());
        assert!(check_hive_setting(SUBSTITUTE_DEPTH, "40").is_ok());
        assert!(check_hive_setting(SUBSTITUTE_DEPTH, "100000").is_err());
        assert!(check_datafusion_setting("datafusion.execution.batch_size", "0").is_err());
        assert!(check_datafusion_setting("datafusion.execution.batch_size", "8192").is_ok());
        assert!(check_datafusion_setting("datafusion.execution.target_partitions", "0").is_err());
        assert!(check_datafusion_setting("datafusion.optimizer.max_passes", "0").is_ok());
    }
}
