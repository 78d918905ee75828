//! The persistent warehouse seen from outside, through the real binary: a restart keeps
//! everything, a killed or failed writer leaves its table as it was, readers never see half a
//! write, writers of one table take turns, and the files are plain Hive-layout Parquet that
//! DataFusion's own `ListingTable` reads.

use std::collections::BTreeSet;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::prelude::SessionContext;

use crate::{apiary, stderr, stdout};

// ---- helpers ----

/// `apiary --warehouse <wh> -S --format csv`.
fn apiary_in(wh: &Path) -> Command {
    let mut cmd = apiary();
    cmd.arg("--warehouse")
        .arg(wh)
        .args(["-S", "--format", "csv"])
        .stdin(Stdio::null());
    cmd
}

/// Runs `sql` (statements separated by `;`) in a fresh process on the warehouse `wh`.
fn exec(wh: &Path, sql: &str) -> Output {
    apiary_in(wh).arg("-e").arg(sql).output().unwrap()
}

/// Runs `sql` in a fresh process, asserts it succeeded and returns its CSV output.
fn ok(wh: &Path, sql: &str) -> String {
    let o = exec(wh, sql);
    let shown: String = sql.chars().take(300).collect();
    assert!(
        o.status.success(),
        "{:?}: {}\nin: {shown}",
        o.status,
        stderr(&o)
    );
    stdout(&o)
}

/// Starts `sql` in a background process on the warehouse `wh`. Its output is piped: keep it
/// small (writers print nothing with `-S`).
fn spawn(wh: &Path, sql: &str) -> Child {
    apiary_in(wh)
        .arg("-e")
        .arg(sql)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for `child` and returns its output as text.
fn finish(child: Child) -> (ExitStatus, String, String) {
    let o = child.wait_with_output().unwrap();
    (o.status, stdout(&o), stderr(&o))
}

/// Polls `ready` until it holds (true), `child` exits first (false) or `timeout` passes
/// (kills `child` and panics).
fn poll_while_running(
    child: &mut Child,
    timeout: Duration,
    mut ready: impl FnMut() -> bool,
) -> bool {
    let start = Instant::now();
    loop {
        if ready() {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            panic!("nothing happened within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Every file below `dir` (hidden directories included), relative to `dir`.
fn files_under(dir: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => walk(root, &path, out),
                Ok(_) => {
                    out.insert(path.strip_prefix(root).unwrap().display().to_string());
                }
                Err(_) => {}
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

/// Every directory below `dir`, relative to `dir`.
fn dirs_under(dir: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                let path = entry.path();
                out.insert(path.strip_prefix(root).unwrap().display().to_string());
                walk(root, &path, out);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

fn is_staging(rel: &str) -> bool {
    rel.split('/').any(|c| c.starts_with(".apiary-staging-"))
}

/// Files below `dir` inside a write's staging directory.
fn staged_files(dir: &Path) -> Vec<String> {
    files_under(dir)
        .into_iter()
        .filter(|f| is_staging(f))
        .collect()
}

/// Staging directories (at any depth) below `dir`.
fn staging_dirs(dir: &Path) -> Vec<String> {
    dirs_under(dir)
        .into_iter()
        .filter(|d| is_staging(d))
        .collect()
}

/// The metastore's pending (started, neither committed nor rolled back) writes.
fn pending_writes(wh: &Path) -> usize {
    apiary::warehouse::Metastore::open(&wh.join(".apiary").join("metastore.db"))
        .unwrap()
        .pending()
        .unwrap()
        .len()
}

/// Repeats a statement `n` times as one script.
fn repeat(statement: &str, n: usize) -> String {
    vec![statement; n].join(";\n")
}

/// Parses the rows of a two-column CSV result printed `n` times (`-S`: a header before each).
fn parse_pairs(out: &str) -> Vec<(u64, Option<u64>)> {
    out.lines()
        .filter(|l| !l.starts_with('n'))
        .map(|l| {
            let (a, b) = l.split_once(',').unwrap();
            (
                a.parse().unwrap(),
                (!b.is_empty()).then(|| b.parse().unwrap()),
            )
        })
        .collect()
}

// ---- a restart keeps everything ----

#[test]
fn restart_keeps_databases_tables_and_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path();
    let out = ok(
        wh,
        "CREATE DATABASE sales COMMENT 'sales data';
         CREATE TABLE sales.events (id BIGINT, name STRING, amount DOUBLE)
           PARTITIONED BY (dt STRING) STORED AS PARQUET;
         CREATE TABLE notes (id INT, note STRING)
           ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' STORED AS TEXTFILE;
         INSERT INTO sales.events PARTITION (dt='a')
           SELECT value AS id, concat('a', CAST(value AS STRING)) AS name, value * 1.5 AS amount
           FROM range(3);
         INSERT INTO sales.events PARTITION (dt='b')
           SELECT value AS id, 'old' AS name, 0.25 AS amount FROM range(3, 5);
         INSERT OVERWRITE TABLE sales.events PARTITION (dt)
           SELECT value AS id, 'dyn' AS name, value * 0.5 AS amount,
                  CASE WHEN value < 12 THEN 'b' ELSE 'c' END AS dt
           FROM range(10, 14);
         INSERT INTO notes VALUES (1, 'one'), (2, 'two');
         INSERT INTO notes SELECT 3, 'three'",
    );
    assert_eq!(out, "", "writes print nothing with -S");

    // Hive's layout on disk: the default database's tables at the root, others in <db>.db/.
    let files = files_under(wh);
    let layout: Vec<String> = files
        .iter()
        .filter(|f| !f.starts_with(".apiary/") && !f.contains("/.apiary-trash/"))
        .map(|f| {
            // part-<txn>-<n>.<ext>: keep the directory and the extension.
            let (dir, name) = f.rsplit_once('/').unwrap();
            assert!(name.starts_with("part-"), "{f}");
            format!("{dir}/part-*.{}", name.rsplit_once('.').unwrap().1)
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        layout,
        [
            "notes/part-*.txt",
            "sales.db/events/dt=a/part-*.parquet",
            "sales.db/events/dt=b/part-*.parquet",
            "sales.db/events/dt=c/part-*.parquet",
        ]
    );
    assert!(files.contains(".apiary/metastore.db"), "{files:?}");
    // The overwritten partition's old file is gone from the partition directory (other engines
    // see only the new one); it waits out its grace period in the hidden trash beside it.
    let in_b: Vec<&String> = files.iter().filter(|f| f.contains("/dt=b/")).collect();
    assert_eq!(in_b.len(), 2, "{files:?}");
    assert_eq!(
        in_b.iter()
            .filter(|f| f.contains("/dt=b/.apiary-trash/part-"))
            .count(),
        1,
        "{files:?}"
    );
    // Text files are Hive's delimited text, no header.
    let mut text: Vec<String> = files
        .iter()
        .filter(|f| f.starts_with("notes/"))
        .map(|f| std::fs::read_to_string(wh.join(f)).unwrap())
        .collect();
    text.sort();
    assert_eq!(text.concat(), "1,one\n2,two\n3,three\n");

    let read = "SHOW DATABASES;
        SHOW TABLES IN sales;
        SELECT * FROM sales.events ORDER BY dt, id;
        SELECT count(*) AS n, sum(id) AS s FROM sales.events WHERE dt = 'b';
        SHOW PARTITIONS sales.events;
        DESCRIBE sales.events;
        SELECT * FROM notes ORDER BY id;
        DESCRIBE notes;
        SHOW TABLES LIKE 'note*'";
    let expected = "database_name\ndefault\nsales\n\
        tab_name\nevents\n\
        id,name,amount,dt\n\
        0,a0,0.0,a\n\
        1,a1,1.5,a\n\
        2,a2,3.0,a\n\
        10,dyn,5.0,b\n\
        11,dyn,5.5,b\n\
        12,dyn,6.0,c\n\
        13,dyn,6.5,c\n\
        n,s\n2,21\n\
        partition\ndt=a\ndt=b\ndt=c\n\
        col_name,data_type,comment\n\
        id,bigint,\"\"\n\
        name,string,\"\"\n\
        amount,double,\"\"\n\
        dt,string,\"\"\n\
        \"\",\"\",\"\"\n\
        # Partition Information,\"\",\"\"\n\
        # col_name,data_type,comment\n\
        dt,string,\"\"\n\
        id,note\n1,one\n2,two\n3,three\n\
        col_name,data_type,comment\n\
        id,int,\"\"\n\
        note,string,\"\"\n\
        tab_name\nnotes\n";
    // A second process, then a third: the metastore and the files are all there is.
    assert_eq!(ok(wh, read), expected);
    assert_eq!(ok(wh, read), expected);
    // Reopening changed nothing on disk.
    let mut after = files_under(wh);
    after.retain(|f| !f.starts_with(".apiary/"));
    let mut before = files;
    before.retain(|f| !f.starts_with(".apiary/"));
    assert_eq!(after, before);
}

// ---- a killed writer ----

/// The moment a write is killed.
#[derive(Debug, Clone, Copy, PartialEq)]
enum KillWindow {
    /// DataFusion's sink is writing the staging files.
    SinkWriting,
    /// Some files are already moved into the table's directories; the commit has not run.
    MovedNotCommitted,
}

const BIG_CHECKSUM: &str = "SELECT count(*) AS n, sum(id) AS s, sum(length(s)) AS l, \
     min(s) AS lo, max(s) AS hi FROM big";

/// Loads `big` with known rows, kills an INSERT OVERWRITE of it in `window`, reopens the
/// warehouse in a fresh process and checks that the table, its partitions and its files are
/// exactly as before the write. The input grows when a write ends before it can be killed in
/// the window, so the test never passes without having killed a running write. With
/// `same_directories`, also checks that no directory the write created remains.
fn killed_overwrite_keeps_the_table(window: KillWindow, same_directories: bool) {
    let mut scale = 1u64;
    let mut last = String::new();
    for _attempt in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let wh = dir.path();
        let (create, load, overwrite) = match window {
            KillWindow::SinkWriting => (
                "CREATE TABLE big (id BIGINT, s STRING) STORED AS PARQUET".to_string(),
                "INSERT INTO big SELECT value AS id, concat('s', CAST(value AS STRING)) AS s \
                 FROM range(200000)"
                    .to_string(),
                // Small row groups and object-store buffers, so that the sink's files show up
                // in the staging directory early rather than at the end of the query.
                format!(
                    "SET datafusion.execution.objectstore_writer_buffer_size=65536;
                     SET datafusion.execution.parquet.max_row_group_size=65536;
                     INSERT OVERWRITE TABLE big
                     SELECT value AS id, concat('t', CAST(value AS STRING)) AS s
                     FROM range({})",
                    20_000_000 * scale
                ),
            ),
            KillWindow::MovedNotCommitted => (
                "CREATE TABLE big (id BIGINT, s STRING) PARTITIONED BY (p INT) STORED AS PARQUET"
                    .to_string(),
                "INSERT INTO big PARTITION (p) SELECT value AS id, \
                 concat('s', CAST(value AS STRING)) AS s, CAST(value % 20 AS INT) AS p \
                 FROM range(200000)"
                    .to_string(),
                // Many partitions: moving their files into place takes a while. It replaces
                // the 20 existing partitions and creates new ones.
                format!(
                    "INSERT OVERWRITE TABLE big PARTITION (p)
                     SELECT value AS id, 't' AS s, CAST(value % {} AS INT) AS p
                     FROM range({})",
                    500 * scale,
                    100_000 * scale
                ),
            ),
        };
        ok(wh, &format!("{create}; {load}"));
        let table_dir = wh.join("big");
        let checksum = ok(wh, BIG_CHECKSUM);
        assert!(
            checksum.ends_with("\n200000,19999900000,1288890,s0,s99999\n"),
            "{checksum}"
        );
        let show_partitions = match window {
            KillWindow::SinkWriting => "SELECT 'unpartitioned' AS partition",
            KillWindow::MovedNotCommitted => "SHOW PARTITIONS big",
        };
        let partitions = ok(wh, show_partitions);
        let before = files_under(&table_dir);
        assert!(!before.is_empty() && before.iter().all(|f| f.contains("part-")));
        let dirs_before = dirs_under(&table_dir);
        assert_eq!(pending_writes(wh), 0);

        let mut child = spawn(wh, &overwrite);
        let new_parts_in_place = |dir: &Path| -> Vec<String> {
            files_under(dir)
                .into_iter()
                .filter(|f| !is_staging(f) && !before.contains(f))
                .collect()
        };
        let seen = poll_while_running(&mut child, Duration::from_secs(120), || match window {
            KillWindow::SinkWriting => !staged_files(&table_dir).is_empty(),
            KillWindow::MovedNotCommitted => !new_parts_in_place(&table_dir).is_empty(),
        });
        child.kill().unwrap();
        let (status, _, err) = finish(child);
        // 9 is SIGKILL: the process died of the signal rather than exiting on its own.
        let killed = seen && status.signal() == Some(9);
        // A write that committed before the signal landed has no pending row any more.
        let pending = pending_writes(wh);
        if !killed || pending != 1 {
            last = format!(
                "seen in the window: {seen}, exit: {status:?}, pending writes: {pending}, \
                 stderr: {err}"
            );
            eprintln!("{window:?}: the write was not killed in the window ({last}); retrying");
            scale *= 4;
            continue;
        }

        // The killed write left real debris behind: staged files, or files already in place.
        match window {
            KillWindow::SinkWriting => {
                assert!(!staged_files(&table_dir).is_empty());
            }
            KillWindow::MovedNotCommitted => {
                let placed = new_parts_in_place(&table_dir);
                assert!(!placed.is_empty());
                assert!(placed.iter().all(|f| f.contains("part-")), "{placed:?}");
            }
        }

        // A fresh process sweeps it and reads the table as it was.
        assert_eq!(ok(wh, BIG_CHECKSUM), checksum);
        assert_eq!(ok(wh, show_partitions), partitions);
        assert_eq!(pending_writes(wh), 0, "the sweep forgets the dead write");
        assert_eq!(staging_dirs(&table_dir), Vec::<String>::new());
        assert_eq!(
            files_under(&table_dir),
            before,
            "exactly the committed files remain"
        );
        if same_directories {
            assert_eq!(
                dirs_under(&table_dir),
                dirs_before,
                "the dead write's partition directories remain"
            );
            assert_eq!(ok(wh, "MSCK REPAIR TABLE big"), "result\n");
        }
        // And the table takes writes again.
        ok(
            wh,
            match window {
                KillWindow::SinkWriting => "INSERT INTO big SELECT -1 AS id, 'x' AS s",
                KillWindow::MovedNotCommitted => {
                    "INSERT INTO big PARTITION (p) SELECT -1 AS id, 'x' AS s, 0 AS p"
                }
            },
        );
        assert!(ok(wh, "SELECT count(*) AS n FROM big").ends_with("\n200001\n"));
        return;
    }
    panic!(
        "{window:?}: no write was killed while running in the window, even with larger inputs ({last})"
    );
}

#[test]
fn killed_insert_overwrite_leaves_the_table_as_before() {
    killed_overwrite_keeps_the_table(KillWindow::SinkWriting, true);
}

#[test]
fn killed_insert_overwrite_after_moving_files_leaves_the_table_as_before() {
    killed_overwrite_keeps_the_table(KillWindow::MovedNotCommitted, false);
}

// The sweep of a killed write removes the partition directories it created, so that
// `MSCK REPAIR TABLE` does not register partitions of a write that never committed: the
// table's directory tree after the sweep is the one before the write.
#[test]
fn killed_insert_overwrite_leaves_no_new_partition_directories() {
    killed_overwrite_keeps_the_table(KillWindow::MovedNotCommitted, true);
}

// ---- readers and writers in separate processes ----

/// Runs the script `writes` in one process and, until it has finished, reader processes that
/// each run `SELECT count(*) AS n, sum(x) AS s FROM t` 30 times; asserts that every process
/// succeeded and that no reader saw the table shrink. Returns what the readers saw.
fn read_while_writing(wh: &Path, writes: &str) -> Vec<(u64, Option<u64>)> {
    let mut writer = spawn(wh, writes);
    let read = repeat("SELECT count(*) AS n, sum(x) AS s FROM t", 30);
    let mut seen = Vec::new();
    loop {
        let writing = writer.try_wait().unwrap().is_none();
        let out = ok(wh, &read);
        let pairs = parse_pairs(&out);
        assert_eq!(pairs.len(), 30, "{out}");
        for w in pairs.windows(2) {
            assert!(w[0].0 <= w[1].0, "a reader went back in time: {pairs:?}");
        }
        seen.extend(pairs);
        if !writing {
            break;
        }
    }
    let (status, _, err) = finish(writer);
    assert!(status.success(), "{err}");
    seen
}

/// Asserts that each (count, sum) is that of whole batches of `batch` rows summing to
/// `batch_sum`.
fn assert_whole_batches(seen: &[(u64, Option<u64>)], batch: u64, batch_sum: u64) {
    for &(n, s) in seen {
        assert_eq!(n % batch, 0, "a reader saw part of an insert: {n} rows");
        assert_eq!(
            s.unwrap_or(0),
            n / batch * batch_sum,
            "count {n}, sum {s:?}"
        );
    }
}

#[test]
fn two_processes_one_writing_one_reading() {
    const BATCH: u64 = 250_000;
    const BATCHES: u64 = 20;
    // sum(0 .. BATCH)
    const BATCH_SUM: u64 = BATCH * (BATCH - 1) / 2;
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path();
    ok(wh, "CREATE TABLE t (x BIGINT) STORED AS PARQUET");
    let seen = read_while_writing(
        wh,
        &repeat(
            &format!("INSERT INTO t SELECT value AS x FROM range({BATCH})"),
            BATCHES as usize,
        ),
    );
    assert_whole_batches(&seen, BATCH, BATCH_SUM);
    let distinct: BTreeSet<u64> = seen.iter().map(|p| p.0).collect();
    assert!(
        distinct.len() >= 3,
        "the readers should have seen the table grow: {distinct:?}"
    );
    assert_eq!(
        ok(wh, "SELECT count(*) AS n, sum(x) AS s FROM t"),
        format!("n,s\n{},{}\n", BATCH * BATCHES, BATCHES * BATCH_SUM)
    );
}

// A reader of a partitioned table never sees half an INSERT: partitions and files are read in
// one metastore snapshot. Each insert puts 50 rows in partition 'a' (exists) and 50 in a new
// one; every count must be a multiple of 100.
#[test]
fn reader_of_a_partitioned_table_never_sees_half_an_insert() {
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path();
    ok(
        wh,
        "CREATE TABLE t (x BIGINT) PARTITIONED BY (p STRING) STORED AS PARQUET",
    );
    let writes: Vec<String> = (0..200)
        .map(|i| {
            format!(
                "INSERT INTO t PARTITION (p) SELECT value AS x, \
                 CASE WHEN value < 50 THEN 'a' ELSE 'n{i}' END AS p FROM range(100)"
            )
        })
        .collect();
    let seen = read_while_writing(wh, &writes.join(";\n"));
    assert_whole_batches(&seen, 100, 4950);
}

// A reader of a table that another process INSERT OVERWRITEs never fails: files the commit
// replaced move to their directory's hidden trash for a grace period, and a reader that planned
// its scan on the old file list reads them there. Every read sees 100000 rows (old or new).
#[test]
fn reader_during_insert_overwrite_never_fails() {
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path();
    let load = "INSERT OVERWRITE TABLE t SELECT value AS x FROM range(100000)";
    ok(
        wh,
        &format!("CREATE TABLE t (x BIGINT) STORED AS PARQUET; {load}"),
    );
    let seen = read_while_writing(wh, &repeat(load, 40));
    for (n, s) in seen {
        assert_eq!((n, s), (100_000, Some(4_999_950_000)));
    }
}

#[test]
fn two_writers_to_one_table_are_serialized() {
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path();
    ok(wh, "CREATE TABLE t (x BIGINT) STORED AS PARQUET");

    // Many small inserts from two processes at once: none is lost.
    let a = spawn(
        wh,
        &repeat("INSERT INTO t SELECT value AS x FROM range(1000)", 15),
    );
    let b = spawn(
        wh,
        &repeat(
            "INSERT INTO t SELECT value + 1000 AS x FROM range(1000)",
            15,
        ),
    );
    for child in [a, b] {
        let (status, _, err) = finish(child);
        assert!(status.success(), "{err}");
    }
    // 15 × sum(0..1000) + 15 × sum(1000..2000)
    assert_eq!(
        ok(wh, "SELECT count(*) AS n, sum(x) AS s FROM t"),
        "n,s\n30000,29985000\n"
    );

    // A long write holds the lock: a writer with a short timeout gives up with a clear error;
    // one with a long timeout waits for it and then writes.
    let (mut n, mut s) = (30_000u64, 29_985_000u64);
    let mut rows = 4_000_000u64;
    for _attempt in 0..3 {
        let mut long = spawn(
            wh,
            &format!("INSERT INTO t SELECT value AS x FROM range({rows})"),
        );
        n += rows;
        s += rows * (rows - 1) / 2;
        // The staging directory is created once the writer holds the lock.
        let holding = poll_while_running(&mut long, Duration::from_secs(60), || {
            !staging_dirs(&wh.join("t")).is_empty()
        });
        let start = Instant::now();
        let impatient = exec(wh, "SET apiary.lock.timeout=0.2; INSERT INTO t VALUES (7)");
        let waited = start.elapsed();
        let still_running = long.try_wait().unwrap().is_none();
        if !holding || !still_running {
            // The long write ended before the other writer gave up: it did not hold the lock
            // for the whole attempt. Try again with a longer one.
            let (status, _, err) = finish(long);
            assert!(status.success(), "{err}");
            if impatient.status.success() {
                n += 1;
                s += 7;
            }
            rows *= 4;
            continue;
        }
        let err = stderr(&impatient);
        assert_eq!(impatient.status.code(), Some(1), "{err}");
        assert!(
            err.contains("table default.t is being written by another process"),
            "{err}"
        );
        assert!(waited < Duration::from_secs(8), "it waited {waited:?}");

        let mut patient = spawn(wh, "SET apiary.lock.timeout=120; INSERT INTO t VALUES (7)");
        n += 1;
        s += 7;
        // The patient writer cannot commit before the long one has: if it finishes first (the
        // long process may still be exiting after its commit released the lock), the long
        // write's rows must already be in the table.
        loop {
            let patient_done = patient.try_wait().unwrap().is_some();
            let long_done = long.try_wait().unwrap().is_some();
            if patient_done && !long_done {
                assert_eq!(
                    ok(wh, "SELECT count(*) AS n, sum(x) AS s FROM t"),
                    format!("n,s\n{n},{s}\n"),
                    "a second writer committed while the first held the lock"
                );
            }
            if long_done {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        for child in [long, patient] {
            let (status, _, err) = finish(child);
            assert!(status.success(), "{err}");
        }
        assert_eq!(
            ok(wh, "SELECT count(*) AS n, sum(x) AS s FROM t"),
            format!("n,s\n{n},{s}\n")
        );
        return;
    }
    panic!("the long write never held the lock long enough");
}

// ---- the files, read by another engine ----

#[tokio::test]
async fn files_are_read_by_datafusion_listing_table() {
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path();
    ok(
        wh,
        "CREATE TABLE lt (id BIGINT, name STRING) PARTITIONED BY (p STRING) STORED AS PARQUET;
         INSERT INTO lt PARTITION (p)
           SELECT id, name, p FROM (VALUES (1, 'a', 'x'), (2, 'b', 'a/b'),
             (3, 'c', CAST(NULL AS STRING)), (4, 'd', 'x'), (5, 'e', '100%')) AS v(id, name, p);
         INSERT INTO lt PARTITION (p='a/b') SELECT 6, 'f'",
    );
    let apiary_rows = ok(
        wh,
        "SELECT id, name, coalesce(p, '<NULL>') AS p FROM lt ORDER BY id",
    );
    assert_eq!(
        apiary_rows,
        "id,name,p\n1,a,x\n2,b,a/b\n3,c,<NULL>\n4,d,x\n5,e,100%\n6,f,a/b\n"
    );
    assert_eq!(
        ok(wh, "SHOW PARTITIONS lt"),
        "partition\np=100%25\np=__HIVE_DEFAULT_PARTITION__\np=a%2Fb\np=x\n"
    );

    let ctx = SessionContext::new();
    let url = ListingTableUrl::parse(format!("{}/", wh.join("lt").display())).unwrap();
    let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
        .with_file_extension(".parquet")
        .with_table_partition_cols(vec![("p".into(), DataType::Utf8)]);
    let schema = options.infer_schema(&ctx.state(), &url).await.unwrap();
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .with_schema(schema);
    ctx.register_table("lt", Arc::new(ListingTable::try_new(config).unwrap()))
        .unwrap();
    let batches = ctx
        .sql("SELECT id, name, p FROM lt ORDER BY id")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let mut datafusion_rows = String::from("id,name,p\n");
    for batch in &batches {
        for row in 0..batch.num_rows() {
            let cells: Vec<String> = batch
                .columns()
                .iter()
                .map(|c| array_value_to_string(c, row).unwrap())
                .collect();
            datafusion_rows.push_str(&cells.join(","));
            datafusion_rows.push('\n');
        }
    }
    // The same rows and partition values. DataFusion 55 percent-decodes partition directory
    // names (`parse_partitions_for_path`), so Hive's %XX escapes come back as the values
    // Apiary wrote ('a%2Fb' → 'a/b', '100%25' → '100%'); it does not know Hive's default
    // partition, so a NULL reads as the directory's literal '__HIVE_DEFAULT_PARTITION__'.
    assert_eq!(
        datafusion_rows,
        apiary_rows.replace("<NULL>", "__HIVE_DEFAULT_PARTITION__")
    );
    assert_eq!(
        datafusion_rows,
        "id,name,p\n1,a,x\n2,b,a/b\n3,c,__HIVE_DEFAULT_PARTITION__\n4,d,x\n5,e,100%\n6,f,a/b\n"
    );
}

// ---- a full disk ----

/// Loads `big`, then runs a large INSERT OVERWRITE of it under a file-size limit that stands in
/// for a full disk, and checks that the statement fails with a clear error. Returns the
/// table's checksum and committed files from before the failed statement.
fn overwrite_on_a_full_disk(wh: &Path) -> (String, BTreeSet<String>) {
    ok(
        wh,
        "CREATE TABLE big (id BIGINT, s STRING) STORED AS PARQUET;
         INSERT INTO big SELECT value AS id, concat('s', CAST(value AS STRING)) AS s
         FROM range(200000)",
    );
    let checksum = ok(wh, BIG_CHECKSUM);
    let before = files_under(&wh.join("big"));
    assert!(!before.is_empty());

    // With SIGXFSZ ignored, a write past the limit fails with EFBIG ("File too large") instead
    // of killing the process. The limit is 2 MiB (bash's ulimit -f counts 1 KiB blocks), not
    // smaller: the metastore (SQLite and its WAL, already ~80 KiB) must stay writable so that
    // this tests the data files filling up, not the metastore. 4M rows make Parquet files well
    // above the limit.
    let o = Command::new("bash")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 2048; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_apiary"))
        .arg("--warehouse")
        .arg(wh)
        .args(["-S", "--format", "csv", "-e"])
        .arg(
            "INSERT OVERWRITE TABLE big SELECT value AS id, concat('t', CAST(value AS STRING)) AS s \
             FROM range(4000000)",
        )
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("INSERT OVERWRITE default.big"), "{err}");
    assert!(err.contains("File too large"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    (checksum, before)
}

#[test]
fn full_disk_fails_the_statement_and_keeps_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path();
    let (checksum, before) = overwrite_on_a_full_disk(wh);
    let table_dir = wh.join("big");
    let committed = |dir: &Path| -> BTreeSet<String> {
        files_under(dir)
            .into_iter()
            .filter(|f| !is_staging(f))
            .collect()
    };
    // The failed write rolled back: nothing of it in the table's directories, nothing pending.
    assert_eq!(committed(&table_dir), before);
    assert_eq!(pending_writes(wh), 0);
    // A fresh process reads the table as it was.
    assert_eq!(ok(wh, BIG_CHECKSUM), checksum);
    assert_eq!(committed(&table_dir), before);
    // The table takes writes again once there is room.
    ok(wh, "INSERT INTO big SELECT -1 AS id, 'x' AS s");
    assert!(ok(wh, "SELECT count(*) AS n FROM big").ends_with("\n200001\n"));
}

// When DataFusion's sink fails (EFBIG here) its writers of other files may still be finishing
// (a file renamed into staging after the rollback removed it): the rollback retries until the
// staging directory is gone, and otherwise leaves the pending write for the next start's sweep.
// No `.apiary-staging-*` directory may remain after the failed statement or after a restart.
#[test]
fn full_disk_leaves_no_staging_files() {
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path();
    let (_, before) = overwrite_on_a_full_disk(wh);
    let table_dir = wh.join("big");
    // The failed process has exited: what is on disk now stays until someone deletes it.
    assert_eq!(staging_dirs(&table_dir), Vec::<String>::new());
    ok(wh, "SELECT count(*) FROM big");
    assert_eq!(staging_dirs(&table_dir), Vec::<String>::new());
    assert_eq!(files_under(&table_dir), before);
}

// RENAME commits in the metastore first, recording the directory move it still has to make;
// a process that dies between the commit and the move (the test hook aborts it there) leaves
// the move to the next process that opens the warehouse, which finds the table readable under
// its new name, with its directory moved and its data whole.
#[test]
fn rename_interrupted_by_a_crash_is_finished_by_the_next_open() {
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path();
    ok(
        wh,
        "CREATE TABLE before_name (id INT, s STRING) PARTITIONED BY (p STRING); \
         INSERT INTO before_name PARTITION (p) VALUES (1, 'a', 'x'), (2, 'b', 'y')",
    );
    let crashed = apiary_in(wh)
        .arg("-e")
        .arg("ALTER TABLE before_name RENAME TO after_name")
        .env("APIARY_TEST_CRASH_IN_RENAME", "1")
        .output()
        .unwrap();
    assert!(!crashed.status.success(), "the hook should have killed it");
    assert_eq!(crashed.status.signal(), Some(6), "{}", stderr(&crashed));
    // The crash left the directory where it was.
    assert!(wh.join("before_name").is_dir());
    assert!(!wh.join("after_name").exists());
    // The next process finishes the move and reads the table under its new name.
    let out = ok(wh, "SELECT id, s, p FROM after_name ORDER BY id");
    assert_eq!(out, "id,s,p\n1,a,x\n2,b,y\n");
    assert!(!wh.join("before_name").exists());
    assert!(wh.join("after_name").join("p=x").is_dir());
    assert_eq!(
        ok(wh, "SHOW TABLES LIKE '*_name'"),
        "tab_name\nafter_name\n"
    );
    // A rename without the crash moves the directory at once.
    ok(wh, "ALTER TABLE after_name RENAME TO third_name");
    assert!(wh.join("third_name").is_dir());
    assert_eq!(ok(wh, "SELECT count(*) AS n FROM third_name"), "n\n2\n");
}

// ---- views live in the metastore ----

/// A view made by one process is read by the next (after a restart), by a Flight SQL client
/// of a server already running, and listed to it as a VIEW; a view another process replaces
/// or drops while the server runs changes for the server's clients at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_survive_restart_and_reach_flight_sql_clients() {
    use crate::server::{client, fetch, query, rows, start};
    use arrow_flight::sql::CommandGetTables;

    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path().join("wh");
    ok(
        &wh,
        "CREATE DATABASE shop; \
         CREATE TABLE shop.orders (id INT, item STRING); \
         INSERT INTO shop.orders VALUES (1, 'tea'), (2, 'jam'), (3, 'tea'); \
         CREATE VIEW shop.tea AS SELECT id FROM orders WHERE item = 'tea'",
    );
    assert_eq!(ok(&wh, "SELECT id FROM shop.tea ORDER BY id"), "id\n1\n3\n");
    let server = start(&wh, &[]);
    let mut c = client(&server, None).await;
    let read = query(&mut c, "SELECT id FROM shop.tea ORDER BY id").await;
    assert_eq!(read, vec![vec!["1".to_string()], vec!["3".to_string()]]);
    let info = c
        .get_tables(CommandGetTables {
            catalog: None,
            db_schema_filter_pattern: Some("shop".into()),
            table_name_filter_pattern: None,
            table_types: vec![],
            include_schema: false,
        })
        .await
        .unwrap();
    let listed: Vec<String> = rows(&fetch(&mut c, info).await)
        .iter()
        .map(|r| format!("{} {}", r[2], r[3]))
        .collect();
    assert_eq!(listed, vec!["orders TABLE", "tea VIEW"]);
    // Another process replaces the view, then adds one: the server's client sees both.
    ok(
        &wh,
        "CREATE OR REPLACE VIEW shop.tea AS SELECT id * 10 AS id FROM shop.orders WHERE item = 'tea'; \
         CREATE VIEW shop.jam AS SELECT count(*) AS n FROM shop.orders WHERE item = 'jam'",
    );
    let read = query(&mut c, "SELECT id FROM shop.tea ORDER BY id").await;
    assert_eq!(read, vec![vec!["10".to_string()], vec!["30".to_string()]]);
    assert_eq!(
        query(&mut c, "SELECT n FROM shop.jam").await,
        vec![vec!["1".to_string()]]
    );
    ok(&wh, "DROP VIEW shop.jam");
    let gone = c.execute("SELECT n FROM shop.jam".to_string(), None).await;
    assert!(gone.is_err(), "a dropped view still reads");
    drop(server);
    // And a restart keeps the replaced definition.
    assert_eq!(
        ok(
            &wh,
            "SHOW VIEWS IN shop; SELECT id FROM shop.tea ORDER BY id"
        ),
        "tab_name\ntea\nid\n10\n30\n"
    );
}
