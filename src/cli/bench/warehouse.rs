//! `apiary bench warehouse`: the persistent warehouse's write path and metastore at scale.
//!
//! 1. INSERT: `INSERT OVERWRITE TABLE t PARTITION (p) <query>` into a Parquet table with 16
//!    partitions, through [`ApiaryContext::execute`] on a temporary warehouse, against
//!    DataFusion's own `COPY (<query>) TO '<dir>' STORED AS PARQUET PARTITIONED BY (p)` on the
//!    same generated rows, in the same process and session; reported as a time ratio.
//! 2. Metastore scale: a warehouse of many tables and partitions, built through SQL statements,
//!    then opened from scratch, a session created on it and `SHOW TABLES`, `SHOW PARTITIONS` and
//!    a partition-pruned `SELECT count(*)` run on it; reported in milliseconds.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::{Array, RecordBatch, UInt64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::prelude::SessionConfig;

use super::{median, ms};
use crate::error::{ApiaryError, Result};
use crate::session::{ApiaryContext, StatementOutput};
use crate::warehouse::Warehouse;

/// Arguments of `apiary bench warehouse`.
#[derive(Debug, Clone, clap::Args)]
pub struct WarehouseArgs {
    /// Rows the INSERT benchmark writes.
    #[arg(long, default_value_t = 10_000_000)]
    pub rows: u64,
    /// Timed runs of each measurement (INSERT and COPY alternate which goes first).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Tables of the metastore-scale warehouse.
    #[arg(long, default_value_t = 1_000)]
    pub tables: usize,
    /// Partitions of the metastore-scale warehouse, spread evenly over its tables.
    #[arg(long, default_value_t = 10_000)]
    pub partitions: usize,
    /// Run only one of the two benchmarks.
    #[arg(long, value_enum)]
    pub only: Option<WarehouseBench>,
}

/// The benchmarks of `apiary bench warehouse`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WarehouseBench {
    /// INSERT OVERWRITE into a partitioned Parquet table against DataFusion's COPY.
    Insert,
    /// Opening a warehouse of many tables and partitions, SHOW TABLES and friends.
    Metastore,
}

/// The INSERT benchmark's goal: Apiary's time over COPY's.
const INSERT_GOAL_RATIO: f64 = 1.2;
/// The metastore benchmark's goal: open + session + SHOW TABLES, in milliseconds.
const OPEN_GOAL_MS: f64 = 100.0;
/// Partition values of the INSERT benchmark (`p = id % 16`).
const INSERT_PARTITIONS: u64 = 16;
/// Rows written into the first table of the metastore-scale warehouse.
const METASTORE_ROWS: u64 = 100_000;

/// Runs the warehouse benchmarks and prints their reports.
pub async fn run(args: &WarehouseArgs) -> Result<()> {
    if args.only != Some(WarehouseBench::Metastore) {
        insert_bench(args).await?;
    }
    if args.only.is_none() {
        println!();
    }
    if args.only != Some(WarehouseBench::Insert) {
        metastore_bench(args, true).await?;
    }
    Ok(())
}

/// A scratch directory, deleted when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(what: &str) -> Result<Self> {
        let path = std::env::temp_dir().join(format!(
            "apiary-bench-{what}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&path).map_err(|source| ApiaryError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(Self(path))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn bench_error(message: String) -> ApiaryError {
    ApiaryError::Usage(message)
}

/// Runs one statement through the session and collects what it returns.
async fn execute(ctx: &mut ApiaryContext, sql: &str) -> Result<Output> {
    Ok(match ctx.execute(sql).await? {
        StatementOutput::Rows(stream) => {
            Output::Rows(datafusion::physical_plan::common::collect(stream).await?)
        }
        StatementOutput::Affected(n) => Output::Affected(n),
        StatementOutput::Done | StatementOutput::Source(_) => Output::Done,
    })
}

/// A statement's collected result.
enum Output {
    Rows(Vec<RecordBatch>),
    Affected(u64),
    Done,
}

impl Output {
    fn row_count(&self) -> usize {
        match self {
            Self::Rows(batches) => batches.iter().map(RecordBatch::num_rows).sum(),
            _ => 0,
        }
    }
}

/// The first column of the first row as an unsigned number (a `count(*)` or COPY's count).
fn single_count(batches: &[RecordBatch]) -> Result<u64> {
    let column = batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .map(|b| b.column(0))
        .ok_or_else(|| bench_error("expected one row, got none".into()))?;
    let column = cast(column, &DataType::UInt64).map_err(|e| ApiaryError::DataFusion(e.into()))?;
    column
        .as_any()
        .downcast_ref::<UInt64Array>()
        .filter(|a| a.is_valid(0))
        .map(|a| a.value(0))
        .ok_or_else(|| bench_error("expected a count".into()))
}

/// Files (not under hidden directories) and their total size below `dir`.
fn dir_stats(dir: &Path) -> (usize, u64) {
    let mut files = 0;
    let mut bytes = 0;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (0, 0);
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with('.') {
            continue;
        }
        match entry.metadata() {
            Ok(m) if m.is_dir() => {
                let (f, b) = dir_stats(&entry.path());
                files += f;
                bytes += b;
            }
            Ok(m) if m.is_file() => {
                files += 1;
                bytes += m.len();
            }
            _ => {}
        }
    }
    (files, bytes)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The generated rows both sides of the INSERT benchmark write, typed as the table's columns
/// (`CAST(3 AS INT)`: a bare `3` would make the array `ARRAY<BIGINT>`, which the INSERT would
/// cast and COPY would not).
fn source_query(rows: u64) -> String {
    format!(
        "SELECT value AS id, \
         make_array(CAST(value % 7 AS INT), CAST(value % 11 AS INT), CAST(3 AS INT)) AS arr, \
         concat('row-', CAST(value AS STRING)) AS s, \
         value % {INSERT_PARTITIONS} AS p \
         FROM range({rows})"
    )
}

/// CPU time (user + system, all threads) of this process so far, from `/proc/self/stat`
/// (Linux, whose `USER_HZ` is 100); `None` elsewhere.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces; the fields after it start with the state (field 3).
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |field: usize| fields.get(field - 3)?.parse::<u64>().ok();
    Some(Duration::from_millis((ticks(14)? + ticks(15)?) * 10))
}

/// Wall-clock and CPU time of one run.
#[derive(Debug, Clone, Copy)]
struct Timing {
    wall: Duration,
    cpu: Option<Duration>,
}

/// Times `f` on the wall clock and in the process's CPU time.
async fn timed<T>(f: impl std::future::Future<Output = Result<T>>) -> Result<(Timing, T)> {
    let cpu = process_cpu();
    let started = Instant::now();
    let out = f.await?;
    let wall = started.elapsed();
    let cpu = process_cpu()
        .zip(cpu)
        .map(|(after, before)| after.saturating_sub(before));
    Ok((Timing { wall, cpu }, out))
}

async fn time_insert(ctx: &mut ApiaryContext, sql: &str, rows: u64) -> Result<Timing> {
    let (elapsed, output) = timed(execute(ctx, sql)).await?;
    match output {
        Output::Affected(n) if n == rows => Ok(elapsed),
        Output::Affected(n) => Err(bench_error(format!(
            "INSERT wrote {n} rows, expected {rows}"
        ))),
        _ => Err(bench_error("INSERT returned no row count".into())),
    }
}

async fn time_copy(ctx: &ApiaryContext, sql: &str, dir: &Path, rows: u64) -> Result<Timing> {
    // Each COPY writes into an empty directory; clearing it is not timed.
    let _ = std::fs::remove_dir_all(dir);
    let (elapsed, batches) =
        timed(async { Ok(ctx.session().sql(sql).await?.collect().await?) }).await?;
    let n = single_count(&batches)?;
    if n != rows {
        return Err(bench_error(format!("COPY wrote {n} rows, expected {rows}")));
    }
    Ok(elapsed)
}

/// INSERT OVERWRITE ... PARTITION (p) through Apiary against DataFusion's COPY.
async fn insert_bench(args: &WarehouseArgs) -> Result<()> {
    let rows = args.rows;
    let runs = args.runs.max(1);
    let scratch = Scratch::new("copy")?;
    let copy_dir = scratch.0.join("out");
    let mut ctx = ApiaryContext::new().await?;
    execute(
        &mut ctx,
        "CREATE TABLE t (id BIGINT, arr ARRAY<INT>, s STRING) PARTITIONED BY (p BIGINT) \
         STORED AS PARQUET",
    )
    .await?;
    let source = source_query(rows);
    let insert = format!("INSERT OVERWRITE TABLE t PARTITION (p) {source}");
    let copy = format!(
        "COPY ({source}) TO '{}/' STORED AS PARQUET PARTITIONED BY (p)",
        copy_dir.display()
    );
    println!(
        "warehouse INSERT: {rows} rows (id BIGINT, arr ARRAY<INT>, s STRING) into \
         {INSERT_PARTITIONS} partitions, Parquet, {runs} runs each, alternating"
    );
    println!("  apiary: {insert}");
    println!("  copy:   {copy}");
    println!(
        "{:<8} {:>12} {:>12} {:>7}   {:>11} {:>11} {:>9}",
        "run", "apiary (ms)", "copy (ms)", "ratio", "apiary cpu", "copy cpu", "cpu ratio"
    );
    let mut timings: Vec<(Timing, Timing)> = Vec::new();
    for run in 0..runs {
        let pair = if run % 2 == 0 {
            let a = time_insert(&mut ctx, &insert, rows).await?;
            (a, time_copy(&ctx, &copy, &copy_dir, rows).await?)
        } else {
            let c = time_copy(&ctx, &copy, &copy_dir, rows).await?;
            (time_insert(&mut ctx, &insert, rows).await?, c)
        };
        print_timing_row(&(run + 1).to_string(), pair.0, pair.1);
        timings.push(pair);
    }
    let column = |f: fn(&(Timing, Timing)) -> Timing| -> (Vec<Duration>, Option<Vec<Duration>>) {
        let walls = timings.iter().map(|t| f(t).wall).collect();
        let cpus = timings.iter().map(|t| f(t).cpu).collect();
        (walls, cpus)
    };
    let ((a_walls, a_cpus), (c_walls, c_cpus)) = (column(|t| t.0), column(|t| t.1));
    let best = |v: &[Duration]| v.iter().min().copied().unwrap_or_default();
    let a_best = Timing {
        wall: best(&a_walls),
        cpu: a_cpus.as_deref().map(best),
    };
    let c_best = Timing {
        wall: best(&c_walls),
        cpu: c_cpus.as_deref().map(best),
    };
    print_timing_row("best", a_best, c_best);
    print_timing_row(
        "median",
        Timing {
            wall: median(a_walls),
            cpu: a_cpus.map(median),
        },
        Timing {
            wall: median(c_walls),
            cpu: c_cpus.map(median),
        },
    );

    // What was written: the table holds exactly the rows, in the partitions, of the last run.
    let count = match execute(&mut ctx, "SELECT count(*) FROM t").await? {
        Output::Rows(b) => single_count(&b)?,
        _ => 0,
    };
    let partitions = execute(&mut ctx, "SHOW PARTITIONS t").await?.row_count();
    if count != rows || partitions as u64 != INSERT_PARTITIONS.min(rows) {
        return Err(bench_error(format!(
            "table t holds {count} rows in {partitions} partitions, expected {rows} rows in \
             {} partitions",
            INSERT_PARTITIONS.min(rows)
        )));
    }
    let (a_files, a_bytes) = dir_stats(&ctx.warehouse().root().join("t"));
    let (c_files, c_bytes) = dir_stats(&copy_dir);
    println!(
        "written: apiary {a_files} files, {:.1} MiB; copy {c_files} files, {:.1} MiB",
        mib(a_bytes),
        mib(c_bytes)
    );
    let ratio = a_best.wall.as_secs_f64() / c_best.wall.as_secs_f64();
    println!(
        "INSERT ratio apiary / copy (best of {runs}): {ratio:.2} (goal <= {INSERT_GOAL_RATIO:.2}: {})",
        if ratio <= INSERT_GOAL_RATIO {
            "met"
        } else {
            "missed"
        }
    );
    Ok(())
}

/// One line of the INSERT table: wall-clock times (ms), CPU times (s) and their ratios.
fn print_timing_row(label: &str, a: Timing, c: Timing) {
    let cpu =
        |t: Option<Duration>| t.map_or("-".to_string(), |d| format!("{:.2} s", d.as_secs_f64()));
    let cpu_ratio = a
        .cpu
        .zip(c.cpu)
        .filter(|(_, c)| !c.is_zero())
        .map_or("-".to_string(), |(a, c)| {
            format!("{:.2}", a.as_secs_f64() / c.as_secs_f64())
        });
    println!(
        "{label:<8} {:>12.1} {:>12.1} {:>7.2}   {:>11} {:>11} {:>9}",
        ms(a.wall),
        ms(c.wall),
        a.wall.as_secs_f64() / c.wall.as_secs_f64(),
        cpu(a.cpu),
        cpu(c.cpu),
        cpu_ratio
    );
}

/// Partitions of table `i` when `partitions` are spread over `tables`.
fn partitions_of(i: usize, tables: usize, partitions: usize) -> usize {
    partitions / tables + usize::from(i < partitions % tables)
}

fn table_name(i: usize) -> String {
    format!("t{i:04}")
}

/// Builds the metastore-scale warehouse through SQL statements; returns the rows expected in
/// partition `p = 3` (or the first partition) of the first table, and that value of `p`.
async fn build_warehouse(root: &Path, tables: usize, partitions: usize) -> Result<(u64, usize)> {
    let warehouse = Arc::new(Warehouse::open(root)?);
    let mut ctx = ApiaryContext::with_warehouse(SessionConfig::new(), warehouse).await?;
    for i in 0..tables {
        let name = table_name(i);
        execute(
            &mut ctx,
            &format!(
                "CREATE TABLE {name} (id BIGINT, s STRING) PARTITIONED BY (p INT) \
                 STORED AS PARQUET"
            ),
        )
        .await?;
        let n = partitions_of(i, tables, partitions);
        if n > 0 {
            let specs: Vec<String> = (0..n).map(|p| format!("PARTITION (p={p})")).collect();
            execute(
                &mut ctx,
                &format!("ALTER TABLE {name} ADD {}", specs.join(" ")),
            )
            .await?;
        }
    }
    // Rows in the first table's partitions, for the pruned count.
    let n = partitions_of(0, tables, partitions).max(1);
    execute(
        &mut ctx,
        &format!(
            "INSERT INTO {} PARTITION (p) SELECT value AS id, concat('row-', CAST(value AS \
             STRING)) AS s, CAST(value % {n} AS INT) AS p FROM range({METASTORE_ROWS})",
            table_name(0)
        ),
    )
    .await?;
    let p = 3.min(n - 1);
    let expected = (0..METASTORE_ROWS)
        .filter(|v| *v % n as u64 == p as u64)
        .count() as u64;
    Ok((expected, p))
}

/// Times of one open of the metastore-scale warehouse.
struct OpenTimes {
    open: Duration,
    session: Duration,
    show_tables: Duration,
    show_partitions: Duration,
    count: Duration,
}

async fn open_once(
    root: &Path,
    tables: usize,
    first_partitions: usize,
    (expected, p): (u64, usize),
) -> Result<OpenTimes> {
    let started = Instant::now();
    let warehouse = Warehouse::open(root)?;
    let open = started.elapsed();

    let started = Instant::now();
    let mut ctx = ApiaryContext::with_warehouse(SessionConfig::new(), Arc::new(warehouse)).await?;
    let session = started.elapsed();

    let started = Instant::now();
    let shown = execute(&mut ctx, "SHOW TABLES").await?.row_count();
    let show_tables = started.elapsed();
    if shown < tables {
        return Err(bench_error(format!(
            "SHOW TABLES listed {shown} tables, expected {tables}"
        )));
    }

    let first = table_name(0);
    let started = Instant::now();
    let shown = execute(&mut ctx, &format!("SHOW PARTITIONS {first}"))
        .await?
        .row_count();
    let show_partitions = started.elapsed();
    if shown != first_partitions.max(1) {
        return Err(bench_error(format!(
            "SHOW PARTITIONS {first} listed {shown} partitions, expected {}",
            first_partitions.max(1)
        )));
    }

    let started = Instant::now();
    let counted = match execute(
        &mut ctx,
        &format!("SELECT count(*) FROM {first} WHERE p = {p}"),
    )
    .await?
    {
        Output::Rows(b) => single_count(&b)?,
        _ => 0,
    };
    let count = started.elapsed();
    if counted != expected {
        return Err(bench_error(format!(
            "SELECT count(*) FROM {first} WHERE p = {p} returned {counted}, expected {expected}"
        )));
    }
    Ok(OpenTimes {
        open,
        session,
        show_tables,
        show_partitions,
        count,
    })
}

/// `apiary --warehouse <root> -e "SHOW TABLES"` as a new process: the whole command's time.
fn show_tables_process(root: &Path, tables: usize) -> Result<Option<Duration>> {
    let Ok(exe) = std::env::current_exe() else {
        return Ok(None);
    };
    let started = Instant::now();
    let output = std::process::Command::new(&exe)
        .arg("--warehouse")
        .arg(root)
        .args(["--silent", "--format", "csv", "-e", "SHOW TABLES"])
        .env_remove("APIARY_WAREHOUSE")
        .output()
        .map_err(|source| ApiaryError::Io {
            path: exe.clone(),
            source,
        })?;
    let elapsed = started.elapsed();
    let lines = String::from_utf8_lossy(&output.stdout).lines().count();
    if !output.status.success() || lines < tables {
        return Err(bench_error(format!(
            "{} -e 'SHOW TABLES' failed or listed {lines} lines: {}",
            exe.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(Some(elapsed))
}

/// A warehouse of many tables and partitions: open, session, SHOW TABLES and friends; with
/// `process`, also `apiary -e 'SHOW TABLES'` run as a new process of this executable.
async fn metastore_bench(args: &WarehouseArgs, process: bool) -> Result<()> {
    let tables = args.tables.max(1);
    let partitions = args.partitions;
    let runs = args.runs.max(1);
    let scratch = Scratch::new("metastore")?;
    let root = scratch.0.join("warehouse");

    let started = Instant::now();
    let expected = build_warehouse(&root, tables, partitions).await?;
    let built = started.elapsed();
    println!(
        "metastore scale: {tables} tables, {partitions} partitions, {METASTORE_ROWS} rows in {}; \
         built in {:.1} s through CREATE TABLE + ALTER TABLE ADD PARTITION + INSERT",
        table_name(0),
        built.as_secs_f64()
    );
    let first_partitions = partitions_of(0, tables, partitions);
    let mut times = Vec::new();
    for _ in 0..runs {
        times.push(open_once(&root, tables, first_partitions, expected).await?);
    }
    let mut processes = Vec::new();
    for _ in 0..if process { runs } else { 0 } {
        if let Some(t) = show_tables_process(&root, tables)? {
            processes.push(t);
        }
    }

    println!("{:<48} {:>11} {:>12}", "step", "first (ms)", "median (ms)");
    let row = |label: &str, values: Vec<Duration>| {
        let first = values.first().copied().unwrap_or_default();
        println!(
            "{label:<48} {:>11.1} {:>12.1}",
            ms(first),
            ms(median(values))
        );
    };
    let pick = |f: fn(&OpenTimes) -> Duration| times.iter().map(f).collect::<Vec<_>>();
    row("Warehouse::open", pick(|t| t.open));
    row("ApiaryContext::with_warehouse", pick(|t| t.session));
    row(
        &format!("SHOW TABLES ({tables} rows)"),
        pick(|t| t.show_tables),
    );
    let total = pick(|t| t.open + t.session + t.show_tables);
    let total_median = median(total.clone());
    row("open + session + SHOW TABLES", total);
    row(
        &format!(
            "SHOW PARTITIONS {} ({first_partitions} rows)",
            table_name(0)
        ),
        pick(|t| t.show_partitions),
    );
    row(
        &format!(
            "SELECT count(*) FROM {} WHERE p = {} ({})",
            table_name(0),
            expected.1,
            expected.0
        ),
        pick(|t| t.count),
    );
    if !processes.is_empty() {
        row("apiary -e 'SHOW TABLES' (new process)", processes);
    }
    println!(
        "open + SHOW TABLES (median of {runs}): {:.1} ms (goal < {OPEN_GOAL_MS:.0} ms: {})",
        ms(total_median),
        if ms(total_median) < OPEN_GOAL_MS {
            "met"
        } else {
            "missed"
        }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> WarehouseArgs {
        WarehouseArgs {
            rows: 1_000,
            runs: 1,
            tables: 3,
            partitions: 7,
            only: None,
        }
    }

    #[tokio::test]
    async fn insert_bench_runs_and_checks_what_it_wrote() -> Result<()> {
        insert_bench(&tiny()).await
    }

    #[tokio::test]
    async fn metastore_bench_runs_and_checks_its_answers() -> Result<()> {
        // The test executable is not `apiary`: no new-process measurement.
        metastore_bench(&tiny(), false).await
    }

    #[test]
    fn partitions_spread_evenly() {
        let spread: Vec<usize> = (0..3).map(|i| partitions_of(i, 3, 7)).collect();
        assert_eq!(spread, vec![3, 2, 2]);
        assert_eq!(
            (0..1000)
                .map(|i| partitions_of(i, 1000, 10_000))
                .sum::<usize>(),
            10_000
        );
    }
}
