//! The real `apiary` binary: -e, -f, formats, exit codes, variables, SOURCE, the REPL.

use std::path::Path;
use std::process::{Output, Stdio};

use crate::{apiary, stderr, stdout};

fn run(args: &[&str]) -> Output {
    apiary().args(args).stdin(Stdio::null()).output().unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn execute_prints_csv_with_hive_collections() {
    let o = run(&[
        "-S",
        "--format",
        "csv",
        "-e",
        "SELECT pageid, adid_list, map('k', 1) AS m, named_struct('x', 1, 'y', 's') AS st \
         FROM pageads ORDER BY pageid",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "pageid,adid_list,m,st\n\
         contact_page,\"[3,4,5]\",\"{\"\"k\"\":1}\",\"{\"\"x\"\":1,\"\"y\"\":\"\"s\"\"}\"\n\
         front_page,\"[1,2,3]\",\"{\"\"k\"\":1}\",\"{\"\"x\"\":1,\"\"y\"\":\"\"s\"\"}\"\n"
    );
}

#[test]
fn piped_output_defaults_to_csv_and_statements_run_in_order() {
    let o = run(&["-S", "-e", "SELECT 1 AS a; SELECT 'x' AS b"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "a\n1\nb\nx\n");
}

#[test]
fn every_format() {
    let sql = "SELECT 1 AS n, CAST(NULL AS VARCHAR) AS s, make_array('a', NULL) AS arr";
    let tsv = run(&["-S", "--format", "tsv", "-e", sql]);
    assert_eq!(stdout(&tsv), "n\ts\tarr\n1\tNULL\t[\"a\",null]\n");
    let json = run(&["-S", "--format", "json", "-e", sql]);
    assert_eq!(stdout(&json), "{\"n\":1,\"s\":null,\"arr\":[\"a\",null]}\n");
    let table = run(&["-S", "--format", "table", "-e", sql]);
    let text = stdout(&table);
    assert!(text.contains("| n "), "{text}");
    assert!(text.contains("NULL"), "{text}");
    assert!(text.contains("[\"a\",null]"), "{text}");
    // DDL prints nothing in machine formats.
    let ddl = run(&[
        "-S",
        "--format",
        "csv",
        "-e",
        "CREATE TEMPORARY VIEW v AS SELECT 1",
    ]);
    assert!(ddl.status.success());
    assert_eq!(stdout(&ddl), "");
}

#[test]
fn script_stops_at_the_first_error_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let script = write(
        dir.path(),
        "five.sql",
        "SELECT 1 AS a;\nSELECT 2 AS a;\n-- a comment; with a semicolon\nSELECT 3 AS a;\nSELECT 4 AS a;\n\nSELECT nope FROM pageads;\nSELECT 6 AS a;\n",
    );
    let o = run(&["-S", "-f", &script]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "a\n1\na\n2\na\n3\na\n4\n");
    let err = stderr(&o);
    assert!(
        err.contains(&format!("error in {script} statement 5 (line 7):")),
        "{err}"
    );
    assert!(err.contains("nope"), "{err}");

    let o = run(&["-S", "--continue-on-error", "-f", &script]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).ends_with("a\n6\n"), "{}", stdout(&o));
}

#[test]
fn several_files_and_a_missing_last_semicolon() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.sql", "SELECT 'a' AS f;");
    let b = write(dir.path(), "b.sql", "SELECT 'b' AS f");
    let o = run(&["-S", "-f", &a, &b]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "f\na\nf\nb\n");
}

#[test]
fn variables_substitute_before_parsing() {
    let o = apiary()
        .args([
            "-S",
            "--hivevar",
            "tbl=pageads",
            "-d",
            "col=pageid",
            "-e",
            "SET lim=1; SELECT ${col} FROM ${hivevar:tbl} ORDER BY 1 LIMIT ${hiveconf:lim}; \
             SELECT '${env:APIARY_TEST_VAR}' AS e; SET lim; SET hivevar:x=1; SELECT ${x} AS x",
        ])
        .env("APIARY_TEST_VAR", "from-env")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "pageid\ncontact_page\ne\nfrom-env\nset\nlim=1\nx\n1\n"
    );
}

#[test]
fn source_runs_another_script() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "inner.sql",
        "CREATE TEMPORARY VIEW inner_v AS SELECT 42 AS answer;",
    );
    let outer = write(
        dir.path(),
        "outer.sql",
        "SOURCE inner.sql;\nSELECT answer FROM inner_v;",
    );
    let o = run(&["-S", "-f", &outer]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "answer\n42\n");

    let looping = write(
        dir.path(),
        "loop.sql",
        &format!("SOURCE {}/loop.sql;", dir.path().display()),
    );
    let o = run(&["-S", "-f", &looping]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("nested more than"), "{}", stderr(&o));
}

#[test]
fn errors_exit_non_zero_without_panicking() {
    let o = run(&["-S", "-e", "SELEC 1"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("error in -e statement 1 (line 1)"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let o = run(&["-S", "-e", "SELECT * FROM pageadz"]);
    assert!(stderr(&o).contains("pageadz"), "{}", stderr(&o));

    let o = run(&["--no-such-flag"]);
    assert_eq!(o.status.code(), Some(2));

    // A script that cannot be read is a usage error: nothing runs.
    let o = run(&["-S", "-f", "/definitely/not/here.sql"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("cannot read the script /definitely/not/here.sql"),
        "{err}"
    );
}

#[test]
fn broken_pipe_is_quiet() {
    let mut child = apiary()
        .args(["-S", "--format", "csv", "-e", "SELECT * FROM words_train"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, then hang up.
    let mut out = child.stdout.take().unwrap();
    let mut buf = [0u8; 16];
    std::io::Read::read(&mut out, &mut buf).unwrap();
    drop(out);
    let o = child.wait_with_output().unwrap();
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
}

#[test]
fn show_and_describe() {
    let o = run(&[
        "-S",
        "-e",
        "SHOW TABLES LIKE 'page*|events'; SHOW FUNCTIONS LIKE '*explode'; DESCRIBE FUNCTION stack",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("tab_name\nevents\npageads\ntab_name\nexplode\nposexplode\n"),
        "{out}"
    );
    assert!(
        out.contains("stack(n, cols...) - turns k columns into n rows"),
        "{out}"
    );
}

#[test]
fn repl_session_through_a_pty() {
    let mut cmd = apiary();
    cmd.arg("--format").arg("csv");
    let mut p = rexpect::session::spawn_command(cmd, Some(30_000)).unwrap();
    p.exp_string("apiary> ").unwrap();
    // A statement over two lines.
    p.send_line("SELECT adid FROM pageads").unwrap();
    p.exp_string("    -> ").unwrap();
    p.send_line(
        "LATERAL VIEW explode(adid_list) t AS adid WHERE pageid = 'front_page' ORDER BY adid;",
    )
    .unwrap();
    p.exp_string("adid").unwrap();
    p.exp_string("3 rows in set").unwrap();
    // An error keeps the shell alive.
    p.send_line("SELECT * FROM nowhere;").unwrap();
    let (before, _) = p
        .exp_regex("error: .*table 'apiary.default.nowhere' not found")
        .unwrap();
    assert!(!before.contains("<stdin>"), "{before}");
    p.send_line("SELECT 40 + 2 AS answer;").unwrap();
    p.exp_string("42").unwrap();
    // Ctrl-C cancels a long query and keeps the shell.
    p.send_line(
        "SELECT count(*) FROM (SELECT range(0, 100000) AS r) a LATERAL VIEW explode(r) v AS x \
         CROSS JOIN (SELECT unnest(range(0, 100000)) AS y) b;",
    )
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    p.send_control('c').unwrap();
    p.exp_string("Query cancelled").unwrap();
    p.send_line("SELECT 'still here' AS s;").unwrap();
    p.exp_string("1 row in set").unwrap();
    p.exp_string("apiary> ").unwrap();
    // Ctrl-D exits.
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
}

/// Ctrl-C while CREATE MODEL trains cancels the training: the prompt comes back, no model is
/// stored, and the shell answers the next statement.
#[test]
fn ctrl_c_during_training_returns_to_the_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = apiary();
    cmd.arg("--warehouse")
        .arg(dir.path())
        .args(["--format", "csv"]);
    let mut p = rexpect::session::spawn_command(cmd, Some(60_000)).unwrap();
    p.exp_string("apiary> ").unwrap();
    // Minutes of training in a debug build: Ctrl-C comes long before it ends.
    p.send_line(
        "CREATE MODEL never_done OPTIONS (model_type = 'transformer', steps = 1000000) \
         AS SELECT word FROM words_train;",
    )
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    p.send_control('c').unwrap();
    p.exp_string("Query cancelled").unwrap();
    p.exp_string("apiary> ").unwrap();
    p.send_line("SHOW MODELS;").unwrap();
    p.exp_string("0 rows in set").unwrap();
    p.send_line("SELECT 'still here' AS s;").unwrap();
    p.exp_string("still here").unwrap();
    p.exp_string("apiary> ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
}

/// With no flags the warehouse is `apiary-warehouse/` in the working directory, created on
/// first use; `--warehouse` and `APIARY_WAREHOUSE` choose another; the sample tables are in
/// every warehouse.
#[test]
fn default_warehouse_is_in_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let run = |cmd: &mut std::process::Command, sql: &str| {
        let o = cmd
            .current_dir(dir.path())
            .args(["-S", "--format", "csv", "-e", sql])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
    };
    let mut here = apiary();
    here.env_remove("APIARY_WAREHOUSE");
    run(&mut here, "CREATE TABLE kept AS SELECT 1 AS x");
    let table_dir = dir.path().join("apiary-warehouse").join("kept");
    let files: Vec<_> = std::fs::read_dir(&table_dir).unwrap().flatten().collect();
    assert_eq!(files.len(), 1, "{table_dir:?}");
    assert!(
        files[0].file_name().to_string_lossy().ends_with(".parquet"),
        "{files:?}"
    );
    let mut again = apiary();
    again.env_remove("APIARY_WAREHOUSE");
    assert_eq!(run(&mut again, "SELECT x FROM kept"), "x\n1\n");

    // Another warehouse does not have it, by flag or by environment, but has the samples.
    let mut flag = apiary();
    flag.arg("--warehouse").arg(dir.path().join("other"));
    assert_eq!(
        run(&mut flag, "SHOW TABLES LIKE 'kept|words_test'"),
        "tab_name\nwords_test\n"
    );
    let mut env = apiary();
    env.env("APIARY_WAREHOUSE", dir.path().join("third"));
    assert_eq!(run(&mut env, "SHOW TABLES LIKE 'kept'"), "tab_name\n");
    assert!(
        dir.path()
            .join("third")
            .join(".apiary")
            .join("metastore.db")
            .exists()
    );
}

/// SQL piped on standard input is a script, as with -f: it stops at the first error, names
/// the statement and its real line, and exits 1.
#[test]
fn sql_piped_on_stdin_is_a_script() {
    use std::io::Write;
    let mut child = apiary()
        .args(["-S", "--format", "csv"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            b"SELECT 1 AS a;\n\n-- the bad one:\nSELECT nope\n  FROM pageads;\nSELECT 3 AS a;\n",
        )
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(stdout(&o), "a\n1\n");
    let err = stderr(&o);
    assert!(
        err.contains("error in <stdin> statement 2 (line 4):"),
        "{err}"
    );
    assert!(err.contains("nope"), "{err}");
}

/// A statement that fails before its first batch writes nothing to stdout: no CSV or TSV
/// header, no table box.
#[test]
fn a_failed_statement_prints_no_header() {
    for format in ["csv", "tsv", "table"] {
        let o = run(&[
            "-S",
            "--format",
            format,
            "-e",
            "SELECT arrow_cast(pageid, 'Int32') AS n FROM pageads",
        ]);
        assert_eq!(o.status.code(), Some(1), "{format}: {}", stderr(&o));
        assert!(stderr(&o).contains("Int32"), "{format}: {}", stderr(&o));
        assert_eq!(stdout(&o), "", "{format}");
    }
}

/// `-e` takes SQL that starts with `--` (a comment) or `-`, not a flag.
#[test]
fn execute_takes_sql_starting_with_a_comment() {
    let o = run(&["-S", "--format", "csv", "-e", "-- a comment\nSELECT 1 AS a"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "a\n1\n");
    let o = run(&["-S", "--format", "csv", "-e", "-- only a comment"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
}

/// A COPY that fails while writing removes the file it created; one that was there before
/// stays.
#[test]
fn a_failed_copy_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.csv");
    let copy = format!(
        "COPY (SELECT arrow_cast(pageid, 'Int32') AS n FROM pageads) TO '{}' STORED AS CSV",
        target.display()
    );
    let o = run(&["-S", "-e", &copy]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!target.exists(), "a failed COPY left {}", target.display());
    std::fs::write(&target, "kept\n").unwrap();
    let o = run(&["-S", "-e", &copy]);
    assert_eq!(o.status.code(), Some(1));
    assert!(target.exists());
    // A COPY that succeeds writes it.
    let good = dir.path().join("good.csv");
    let o = run(&[
        "-S",
        "-e",
        &format!("COPY (SELECT 1 AS n) TO '{}' STORED AS CSV", good.display()),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&good).unwrap(), "n\n1\n");
}

/// `SET;` lists every setting with its value: Apiary's, Hive's and DataFusion's, defaults
/// included, and what the session set.
#[test]
fn set_lists_every_setting() {
    let o = run(&[
        "-S",
        "--format",
        "csv",
        "--hiveconf",
        "my.key=7",
        "-e",
        "SET;",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for line in [
        "apiary.lock.timeout=10",
        "apiary.external_access=true",
        "hive.variable.substitute=true",
        "hive.variable.substitute.depth=40",
        "my.key=7",
        "datafusion.execution.batch_size=8192",
    ] {
        assert!(out.lines().any(|l| l == line), "{line} missing:\n{out}");
    }
}

/// The table draws at most --max-rows rows (default 40) and says how many it did not show;
/// --max-rows 0 draws them all.
#[test]
fn table_shows_at_most_max_rows() {
    let lines = |o: &Output| -> Vec<String> { stdout(o).lines().map(String::from).collect() };
    let sql = "SELECT id FROM digits_train";
    let o = run(&["-S", "--format", "table", "-e", sql]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = lines(&o);
    // Border, header, border, 40 rows, border, footer.
    assert_eq!(out.len(), 45, "{out:?}");
    assert_eq!(
        out[44],
        "(1460 more rows not shown: 1500 rows in all; --max-rows 0 shows every row)"
    );
    let o = run(&["-S", "--format", "table", "--max-rows", "3", "-e", sql]);
    let out = lines(&o);
    assert_eq!(out.len(), 8, "{out:?}");
    assert!(out[7].starts_with("(1497 more rows not shown"), "{out:?}");
    let o = run(&["-S", "--format", "table", "--max-rows", "0", "-e", sql]);
    let out = lines(&o);
    assert_eq!(out.len(), 1504, "{:?}", &out[out.len() - 3..]);
    assert!(out[1503].starts_with("+-"), "{}", out[1503]);
    // Without -S, the row count is the whole result's.
    let o = run(&["--format", "table", "--max-rows", "2", "-e", sql]);
    assert!(stderr(&o).contains("1500 rows in set"), "{}", stderr(&o));
}

/// --max-width cuts table cells (0: never); EXPLAIN and DESCRIBE are never cut.
#[test]
fn table_cells_are_cut_at_max_width_but_not_plans() {
    let sql = "SELECT repeat('x', 70) AS s";
    let o = run(&["-S", "--format", "table", "-e", sql]);
    let out = stdout(&o);
    assert!(out.contains(&format!("| {}… |", "x".repeat(59))), "{out}");
    let o = run(&["-S", "--format", "table", "--max-width", "10", "-e", sql]);
    let out = stdout(&o);
    assert!(out.contains(&format!("| {}… |", "x".repeat(9))), "{out}");
    let o = run(&["-S", "--format", "table", "--max-width", "0", "-e", sql]);
    let out = stdout(&o);
    assert!(out.contains(&format!("| {} |", "x".repeat(70))), "{out}");

    let long = "a_column_name_long_enough_to_pass_the_cut_of_sixty_characters_x";
    let o = run(&[
        "-S",
        "--format",
        "table",
        "-e",
        &format!("EXPLAIN SELECT 1 AS {long}"),
    ]);
    let out = stdout(&o);
    assert!(out.contains(long), "{out}");
    assert!(!out.contains('…'), "{out}");
    let comment = "a comment that is much longer than the sixty characters of a table cell";
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path().to_string_lossy().into_owned();
    let o = run(&[
        "-S",
        "--warehouse",
        &wh,
        "--format",
        "table",
        "-e",
        &format!("CREATE TABLE c (x INT COMMENT '{comment}'); DESCRIBE c"),
    ]);
    let out = stdout(&o);
    assert!(out.contains(comment), "{}{out}", stderr(&o));
}

/// The shell: a continuation prompt, history written after each statement.
#[test]
fn repl_continuation_prompt_and_history() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    let mut cmd = apiary();
    cmd.env("APIARY_HISTORY", &history);
    cmd.arg("--format").arg("csv");
    let mut p = rexpect::session::spawn_command(cmd, Some(30_000)).unwrap();
    p.exp_string("apiary> ").unwrap();
    p.send_line("SELECT 40 + 2").unwrap();
    p.exp_string("    -> ").unwrap();
    p.send_line("  AS answer;").unwrap();
    p.exp_string("42").unwrap();
    p.exp_string("apiary> ").unwrap();
    // Written already, while the shell still runs.
    let saved = std::fs::read_to_string(&history).unwrap();
    assert!(saved.contains("SELECT 40 + 2"), "{saved}");
    assert!(saved.contains("AS answer;"), "{saved}");
    // Ctrl-C on a continuation line drops the statement and gives the first prompt back.
    p.send_line("SELECT").unwrap();
    p.exp_string("    -> ").unwrap();
    p.send_control('c').unwrap();
    p.exp_string("apiary> ").unwrap();
    p.send_line("SELECT 'fresh' AS s;").unwrap();
    p.exp_string("fresh").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
}

/// Files queried directly are confined like every other path: with --allow-path, a file in
/// an allowed directory reads, one outside is refused.
#[test]
fn direct_file_queries_obey_allow_path() {
    let dir = tempfile::tempdir().unwrap();
    let allowed = dir.path().join("allowed");
    std::fs::create_dir(&allowed).unwrap();
    std::fs::write(allowed.join("x.csv"), "a,b\n1,2\n3,4\n").unwrap();
    let wh = dir.path().join("wh").to_string_lossy().into_owned();
    let allow = allowed.to_string_lossy().into_owned();
    let inside = format!(
        "SELECT sum(a) AS s FROM read_csv('{}/*.csv')",
        allowed.display()
    );
    let o = run(&[
        "-S",
        "--warehouse",
        &wh,
        "--allow-path",
        &allow,
        "-e",
        &inside,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "s\n4\n");
    let o = run(&[
        "-S",
        "--warehouse",
        &wh,
        "--allow-path",
        &allow,
        "-e",
        "SELECT count(*) FROM 'sample_data/digits_test.parquet'",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(
            "parquet file 'sample_data/digits_test.parquet': outside the allowed directories"
        ),
        "{}",
        stderr(&o)
    );
    assert_eq!(stdout(&o), "");
}
