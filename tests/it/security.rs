//! Issue 13's attacks on files and names, through the real binary: what a Flight SQL client
//! or a CLI user tries, and what the host's files look like afterwards.
//!
//! Each test lays out a "host" in a temporary directory — the warehouse, a victim directory
//! outside it, an allowed directory — and checks that every file outside the sandbox is
//! byte for byte what it was.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use arrow_flight::sql::client::FlightSqlServiceClient;
use futures::TryStreamExt;
use tonic::transport::Channel;

use crate::server::{Server, TOKEN, client, rows, start_in};
use crate::{apiary, stderr, stdout};

/// Every file under `dir` with its contents (symbolic links by their targets).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let kind = e.file_type().unwrap();
            if kind.is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                out.insert(path, target.to_string_lossy().as_bytes().to_vec());
            } else if kind.is_dir() {
                out.insert(path.clone(), b"<dir>".to_vec());
                stack.push(path);
            } else {
                out.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

/// A host: `<tmp>/wh` (the warehouse), `<tmp>/outside/victim.txt`, `<tmp>/allowed/`, and a
/// symbolic link `<tmp>/wh/escape` → `<tmp>/outside`.
struct Host {
    _dir: tempfile::TempDir,
    root: PathBuf,
    wh: PathBuf,
    outside: PathBuf,
    allowed: PathBuf,
}

impl Host {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let wh = root.join("wh");
        let outside = root.join("outside");
        let allowed = root.join("allowed");
        for d in [&wh, &outside, &allowed] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(outside.join("victim.txt"), "precious\n").unwrap();
        std::fs::write(outside.join("data.csv"), "a,b\n1,2\n").unwrap();
        std::os::unix::fs::symlink(&outside, wh.join("escape")).unwrap();
        Self {
            _dir: dir,
            root,
            wh,
            outside,
            allowed,
        }
    }

    /// Everything outside the warehouse and the allowed directory.
    fn outside_files(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut all = snapshot(&self.root);
        all.retain(|p, _| !p.starts_with(&self.wh) && !p.starts_with(&self.allowed));
        all
    }

    /// `apiary --warehouse <wh> -S --format csv <args>`.
    fn cli(&self, args: &[&str]) -> Output {
        apiary()
            .arg("--warehouse")
            .arg(&self.wh)
            .args(["-S", "--format", "csv"])
            .args(args)
            .current_dir(&self.root)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }
}

/// Asserts a CLI run failed (exit 1, not a signal) with `needle` in its error.
fn fails_with(o: &Output, needle: &str, what: &str) {
    assert_eq!(
        o.status.code(),
        Some(1),
        "{what}: {:?} {}",
        o.status,
        stderr(o)
    );
    assert!(stderr(o).contains(needle), "{what}: {}", stderr(o));
}

// ---- the server ----

fn serve(host: &Host, extra: &[&str]) -> Server {
    let mut args = vec!["--token", TOKEN];
    args.extend_from_slice(extra);
    start_in(Some(&host.root), &host.wh, &args, &[])
}

/// Runs `sql` and fetches its rows as text; the error message when it fails.
async fn run(
    c: &mut FlightSqlServiceClient<Channel>,
    sql: &str,
) -> Result<Vec<Vec<String>>, String> {
    let info = c
        .execute(sql.to_string(), None)
        .await
        .map_err(|e| e.to_string())?;
    let mut batches = Vec::new();
    for endpoint in info.endpoint {
        let stream = c
            .do_get(endpoint.ticket.unwrap())
            .await
            .map_err(|e| e.to_string())?;
        batches.extend(
            stream
                .try_collect::<Vec<_>>()
                .await
                .map_err(|e| e.to_string())?,
        );
    }
    Ok(rows(&batches))
}

async fn refused(c: &mut FlightSqlServiceClient<Channel>, sql: &str, needle: &str) {
    let err = run(c, sql).await.expect_err(sql);
    assert!(err.contains(needle), "{sql}: {err}");
    // The server is still there for the same client.
    assert_eq!(
        run(c, "SELECT 1").await.unwrap(),
        vec![vec!["1".to_string()]]
    );
}

/// A Flight SQL client may not read or write anything outside the warehouse and the
/// `--allow-path` directories, by any statement, path spelling or symbolic link.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_clients_touch_only_the_warehouse_and_allowed_directories() {
    let host = Host::new();
    let before = host.outside_files();
    let server = serve(
        &host,
        &[
            "--allow-path",
            host.allowed.to_str().unwrap(),
            "--memory-limit",
            "256M",
        ],
    );
    let mut c = client(&server, Some(TOKEN)).await;
    let outside = host.outside.display().to_string();
    let wh = host.wh.display().to_string();
    let denied = "--allow-path";

    // Writes outside: COPY over a file, into a directory, by `..` and through a link.
    for target in [
        format!("{outside}/victim.txt"),
        format!("{outside}/new.csv"),
        format!("{wh}/../outside/victim.txt"),
        format!("{wh}/escape/victim.txt"),
        format!("file://{outside}/victim.txt"),
        "victim.txt".to_string(), // relative to the server's working directory
    ] {
        refused(
            &mut c,
            &format!("COPY (SELECT 'owned' AS x) TO '{target}' STORED AS CSV"),
            denied,
        )
        .await;
    }
    // Reads outside: DataFusion's and Hive's external tables, a glob.
    refused(
        &mut c,
        "CREATE EXTERNAL TABLE pw STORED AS CSV LOCATION '/etc/passwd'",
        denied,
    )
    .await;
    refused(
        &mut c,
        &format!("CREATE EXTERNAL TABLE d (a STRING) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' STORED AS TEXTFILE LOCATION '{outside}'"),
        denied,
    )
    .await;
    refused(
        &mut c,
        &format!("CREATE EXTERNAL TABLE g STORED AS CSV LOCATION '{outside}/*.csv'"),
        denied,
    )
    .await;
    // Managed tables, partitions and databases placed outside.
    refused(
        &mut c,
        &format!("CREATE TABLE m (x INT) LOCATION '{outside}/m'"),
        denied,
    )
    .await;
    refused(
        &mut c,
        &format!("CREATE DATABASE far LOCATION '{outside}/far'"),
        denied,
    )
    .await;
    run(&mut c, "CREATE TABLE p (x INT) PARTITIONED BY (d STRING)")
        .await
        .unwrap();
    refused(
        &mut c,
        &format!("ALTER TABLE p ADD PARTITION (d = 'x') LOCATION '{outside}'"),
        denied,
    )
    .await;
    // The warehouse's private files are out of reach even inside the warehouse.
    refused(
        &mut c,
        &format!("COPY (SELECT 1 AS x) TO '{wh}/.apiary/metastore.db' STORED AS CSV"),
        "private",
    )
    .await;
    refused(
        &mut c,
        &format!("CREATE EXTERNAL TABLE meta STORED AS CSV LOCATION '{wh}/.apiary/'"),
        "private",
    )
    .await;
    // A managed table's files cannot be overwritten by a COPY.
    run(&mut c, "CREATE TABLE owned AS SELECT 1 AS x")
        .await
        .unwrap();
    refused(
        &mut c,
        &format!("COPY (SELECT 2 AS x) TO '{wh}/owned/' STORED AS PARQUET"),
        "inside the directory of table default.owned",
    )
    .await;
    refused(&mut c, &format!("SOURCE '{outside}/victim.txt'"), "SOURCE").await;

    // Inside the allowed directory and the warehouse, the same statements work.
    let allowed = host.allowed.display().to_string();
    run(
        &mut c,
        &format!("COPY (SELECT 1 AS a, 'x' AS b) TO '{allowed}/out.csv' STORED AS CSV OPTIONS ('format.has_header' 'true')"),
    )
    .await
    .unwrap();
    run(
        &mut c,
        &format!("CREATE EXTERNAL TABLE back STORED AS CSV LOCATION '{allowed}/out.csv' OPTIONS ('format.has_header' 'true')"),
    )
    .await
    .unwrap();
    assert_eq!(
        run(&mut c, "SELECT a, b FROM back").await.unwrap(),
        vec![vec!["1".to_string(), "x".to_string()]]
    );
    run(
        &mut c,
        &format!("COPY (SELECT 1 AS x) TO '{wh}/exports/one.parquet' STORED AS PARQUET"),
    )
    .await
    .unwrap();
    assert_eq!(
        run(&mut c, "SELECT count(*) FROM owned").await.unwrap(),
        vec![vec!["1".to_string()]]
    );
    // A session cannot open the door again, move its spill files out, or leave the server's
    // memory pool.
    refused(
        &mut c,
        "SET apiary.external_access=true",
        "cannot be turned back on",
    )
    .await;
    refused(
        &mut c,
        &format!("SET datafusion.runtime.temp_directory TO '{outside}'"),
        denied,
    )
    .await;
    for sql in [
        "SET datafusion.runtime.memory_limit TO '100G'",
        "SET datafusion.runtime.memory_limit=100G",
        "RESET datafusion.runtime.memory_limit",
    ] {
        refused(&mut c, sql, "--memory-limit").await;
    }

    assert_eq!(
        host.outside_files(),
        before,
        "files outside the sandbox changed"
    );
}

/// Names are names: whatever a client calls a database, table or model, nothing is written,
/// renamed or deleted outside the warehouse, and the warehouse's own files survive.
#[test]
fn names_cannot_leave_the_warehouse() {
    let host = Host::new();
    let o = host.cli(&["-e", "CREATE TABLE t AS SELECT 1 AS x"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let before = host.outside_files();
    let metastore = host.wh.join(".apiary/metastore.db");
    let long = "t".repeat(129);
    for (sql, kind) in [
        ("CREATE TABLE `..` (x INT)", "table"),
        ("CREATE TABLE `.apiary` (x INT)", "table"),
        ("CREATE TABLE `a/b` (x INT)", "table"),
        ("CREATE TABLE `../../x` AS SELECT 1 AS y", "table"),
        ("CREATE DATABASE `../../x`", "database"),
        ("CREATE DATABASE `.hidden`", "database"),
        ("ALTER TABLE t RENAME TO `../../y`", "table"),
        (
            "CREATE TABLE q (x INT) PARTITIONED BY (`../p` STRING)",
            "partition column",
        ),
        (
            "CREATE MODEL `../../../m` OPTIONS (model_type = 'bigram') AS SELECT word FROM words_test",
            "model",
        ),
        ("CREATE VIEW `../v` AS SELECT 1", "view"),
        (
            "CREATE EXTERNAL TABLE `..` STORED AS CSV LOCATION 'x.csv'",
            "table",
        ),
        (&format!("CREATE TABLE {long} (x INT)"), "table"),
    ] {
        let o = host.cli(&["-e", sql]);
        fails_with(&o, &format!("invalid {kind} name"), sql);
    }
    // Dropping such names finds nothing to drop, and deletes nothing.
    for sql in [
        "DROP TABLE `..`",
        "DROP TABLE `.apiary`",
        "DROP DATABASE `..` CASCADE",
    ] {
        let o = host.cli(&["-e", sql]);
        assert_eq!(o.status.code(), Some(1), "{sql}: {}", stderr(&o));
    }
    assert!(metastore.exists());
    assert_eq!(
        host.outside_files(),
        before,
        "files outside the warehouse changed"
    );
    // Hive's rule lets ordinary names through, in any case.
    let o = host.cli(&[
        "-e",
        "CREATE DATABASE Sales_2024; CREATE TABLE Sales_2024.T_1 AS SELECT 1 AS x; \
         SELECT x FROM sales_2024.t_1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "x\n1\n");
}

/// DROP TABLE of a managed table at its own LOCATION removes the files the table wrote and
/// keeps the ones it never wrote (the CLI, whose user may place tables anywhere).
#[test]
fn drop_removes_only_the_files_the_table_lists() {
    let host = Host::new();
    let place = host.outside.join("table_here");
    std::fs::create_dir_all(&place).unwrap();
    std::fs::write(place.join("notes.txt"), "mine\n").unwrap();
    let sql = format!(
        "CREATE TABLE t (x INT) LOCATION '{}'; INSERT INTO t VALUES (1), (2); \
         SELECT count(*) FROM t",
        place.display()
    );
    let o = host.cli(&["-e", &sql]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "_c0\n2\n");
    let written: Vec<_> = std::fs::read_dir(&place)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("part-"))
        .collect();
    assert_eq!(written.len(), 1, "{written:?}");
    let o = host.cli(&["-e", "DROP TABLE t"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let left: Vec<_> = std::fs::read_dir(&place)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, vec!["notes.txt".to_string()]);
    assert_eq!(
        std::fs::read_to_string(host.outside.join("victim.txt")).unwrap(),
        "precious\n"
    );
    // A table at the default place goes with its directory.
    let o = host.cli(&["-e", "CREATE TABLE d AS SELECT 1 AS x; DROP TABLE d"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!host.wh.join("d").exists());

    // A partition added with a LOCATION elsewhere lists the files it finds there, to read
    // them; dropping the partition or the table leaves them where they were.
    let reports = host.outside.join("reports");
    std::fs::create_dir_all(&reports).unwrap();
    std::fs::write(reports.join("r1.csv"), "7\n").unwrap();
    let sql = format!(
        "CREATE TABLE p (x INT) PARTITIONED BY (k STRING) STORED AS TEXTFILE; \
         ALTER TABLE p ADD PARTITION (k='a') LOCATION '{0}'; \
         SELECT count(*) FROM p; ALTER TABLE p DROP PARTITION (k='a'); \
         ALTER TABLE p ADD PARTITION (k='b') LOCATION '{0}'; DROP TABLE p",
        reports.display()
    );
    let o = host.cli(&["-e", &sql]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "_c0\n1\n");
    assert_eq!(
        std::fs::read_to_string(reports.join("r1.csv")).unwrap(),
        "7\n"
    );

    // No table or database may be placed around a managed table's directory: it would
    // adopt, and then drop, that table's files.
    let o = host.cli(&["-e", "CREATE TABLE kept AS SELECT 1 AS x"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let wh = host.wh.display();
    for sql in [
        format!("CREATE DATABASE e LOCATION '{wh}'"),
        format!("CREATE TABLE around (x INT) LOCATION '{wh}'"),
    ] {
        let o = host.cli(&["-e", &sql]);
        fails_with(&o, "holds the directory of table default.kept", &sql);
    }
    let o = host.cli(&["-e", "SELECT x FROM kept"]);
    assert_eq!(stdout(&o), "x\n1\n");
}

/// The built-in sample tables are read-only and their names reserved in `default`, from every
/// statement; the next session still has them.
#[test]
fn sample_tables_are_read_only_and_reserved() {
    let host = Host::new();
    let o = host.cli(&["-e", "CREATE TABLE mine (x INT)"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for sql in [
        "CREATE TABLE pageads (x INT)",
        "CREATE TABLE default.pageads AS SELECT 1 AS x",
        "CREATE EXTERNAL TABLE words_test (w STRING) LOCATION 'somewhere'",
        "INSERT INTO pageads SELECT * FROM pageads",
        "INSERT OVERWRITE TABLE events SELECT * FROM events",
        "FROM pageads INSERT INTO pageads SELECT *",
        "DROP TABLE pageads",
        "TRUNCATE TABLE digits_train",
        "ALTER TABLE pageads ADD COLUMNS (y INT)",
        "ALTER TABLE pageads RENAME TO stolen",
        "ALTER TABLE mine RENAME TO words_train",
        "CREATE VIEW pageads AS SELECT 1",
        "CREATE OR REPLACE VIEW pageads AS SELECT 1",
        "DROP VIEW pageads",
        "DELETE FROM pageads",
        "CREATE EXTERNAL TABLE events STORED AS CSV LOCATION 'x.csv'",
    ] {
        let o = host.cli(&["-e", sql]);
        assert_eq!(o.status.code(), Some(1), "{sql}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("built-in sample table")
                || err.contains("already exists")
                || err.contains("View 'pageads' doesn't exist"),
            "{sql}: {err}"
        );
    }
    let o = host.cli(&[
        "-e",
        "SELECT count(*) FROM pageads; SELECT count(*) FROM words_train",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "_c0\n2\n_c0\n66101\n");
    // Other databases may use the names.
    let o = host.cli(&[
        "-e",
        "CREATE DATABASE shop; CREATE TABLE shop.pageads AS SELECT 7 AS x; \
         SELECT x FROM shop.pageads",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "x\n7\n");
}

/// The CLI reads and writes its user's files by default; `--allow-path` or
/// `SET apiary.external_access=false` confine it like the server, for good.
#[test]
fn the_cli_is_confined_one_flag_away() {
    let host = Host::new();
    let target = host.outside.join("export.csv");
    let copy = format!(
        "COPY (SELECT 1 AS x) TO '{}' STORED AS CSV",
        target.display()
    );
    let o = host.cli(&["-e", &copy]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(target.exists());
    std::fs::remove_file(&target).unwrap();

    let allowed = host.allowed.display().to_string();
    let o = host.cli(&["--allow-path", &allowed, "-e", &copy]);
    fails_with(&o, "--allow-path", "confined by flag");
    let o = host.cli(&[
        "--allow-path",
        &allowed,
        "-e",
        &format!("COPY (SELECT 1 AS x) TO '{allowed}/ok.csv' STORED AS CSV"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));

    let o = host.cli(&["-e", &format!("SET apiary.external_access=false; {copy}")]);
    fails_with(&o, "external file access is off", "confined by SET");
    let o = host.cli(&[
        "-e",
        "SET apiary.external_access=false; SET apiary.external_access=true",
    ]);
    fails_with(&o, "cannot be turned back on", "re-opened");
    let script = host.outside.join("s.sql");
    std::fs::write(&script, "SELECT 1;\n").unwrap();
    let o = host.cli(&[
        "-e",
        &format!(
            "SET apiary.external_access=false; SOURCE {}",
            script.display()
        ),
    ]);
    fails_with(&o, "SOURCE", "SOURCE when confined");
    assert!(!target.exists());
}

/// Settings are checked before they are taken, and `${}` substitution is bounded: no panic,
/// no runaway memory, a clear error.
#[test]
fn settings_and_substitution_have_bounds() {
    let host = Host::new();
    for (sql, needle) in [
        ("SET apiary.lock.timeout=1e300", "apiary.lock.timeout takes"),
        ("SET apiary.lock.timeout=-1", "apiary.lock.timeout takes"),
        ("SET apiary.lock.timeout=NaN", "apiary.lock.timeout takes"),
        ("SET apiary.lock.timout=5", "unknown setting"),
        ("SET datafusion.execution.batch_size=0", "batch_size takes"),
        (
            "SET datafusion.execution.target_partitions=0",
            "target_partitions takes",
        ),
        (
            "SET datafusion.execution.parquet.write_batch_size=0",
            "write_batch_size takes",
        ),
        (
            "SET datafusion.execution.parquet.data_page_row_count_limit=0",
            "data_page_row_count_limit takes",
        ),
        (
            "SET datafusion.execution.parquet.max_row_group_size=0",
            "max_row_group_size takes",
        ),
        (
            "SET hive.variable.substitute.depth=-3",
            "substitute.depth takes",
        ),
        (
            "SET hivevar:a=${a}x; SELECT '${a}'",
            "hive.variable.substitute.depth",
        ),
    ] {
        let o = host.cli(&["-e", sql]);
        fails_with(&o, needle, sql);
    }
    // 26 doubling variables would build 128 MB of text: stopped at the size cap.
    let mut script = String::from("SET hivevar:v0=xxxxxxxx;\n");
    for i in 1..=26 {
        script.push_str(&format!(
            "SET hivevar:v{i}=${{v{}}}${{v{}}};\n",
            i - 1,
            i - 1
        ));
    }
    script.push_str("SELECT length('${v26}');\n");
    let o = host.cli(&["-e", &script]);
    fails_with(
        &o,
        "variable substitution would make the statement longer",
        "doubling",
    );
    // Each SET stays within the growth cap, but together the variables are bounded too:
    // 40 copies of 512 KiB would hold 20 MiB.
    let mut script = String::from("SET hivevar:v0=xxxxxxxx;\n");
    for i in 1..=16 {
        script.push_str(&format!(
            "SET hivevar:v{i}=${{v{}}}${{v{}}};\n",
            i - 1,
            i - 1
        ));
    }
    for i in 0..40 {
        script.push_str(&format!("SET hivevar:copy{i}=${{v16}};\n"));
    }
    let o = host.cli(&["-e", &script]);
    fails_with(
        &o,
        "the session's variables would hold",
        "many large variables",
    );
    // Within bounds, substitution works as before.
    let o = host.cli(&[
        "-e",
        "SET hivevar:v0=ab; SET hivevar:v1=${v0}${v0}; SELECT '${v1}' AS s",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "s\nabab\n");
}
