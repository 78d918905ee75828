//! Limits that keep one statement from crashing, freezing or exhausting the process: the
//! nesting limit (deep statements get `statement nested too deeply`, never a stack overflow),
//! linear-time `SHOW ... LIKE` patterns, size caps and memory reservations for functions that
//! build large values, for generators and for model training.

use std::path::Path;
use std::process::{Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use apiary::session::{SessionOptions, shared_memory_pool};
use apiary::sql::nesting::MAX_NESTING_DEPTH;
use apiary::warehouse::Warehouse;
use apiary::{ApiaryContext, StatementOutput};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;
use futures::TryStreamExt;

use crate::{apiary, stderr, stdout};

/// Runs `sql` as a script file (`-f`) in a fresh warehouse; the output and how long it took.
fn run_script(sql: &str) -> (Output, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("statement.sql");
    std::fs::write(&script, sql).unwrap();
    run_in(dir.path(), &["-f", script.to_str().unwrap()])
}

/// How long one statement of these tests may take before it counts as frozen.
const FROZEN_AFTER: Duration = Duration::from_secs(300);

/// Runs the binary in `dir`; a run still going after [`FROZEN_AFTER`] is killed and fails
/// the test (a livelock must fail, not hang the suite).
fn run_in(dir: &Path, args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let out_path = dir.join("run.stdout");
    let err_path = dir.join("run.stderr");
    let mut child = apiary()
        .arg("-S")
        .arg("--warehouse")
        .arg(dir.join("warehouse"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > FROZEN_AFTER {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {FROZEN_AFTER:?}: {args:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = Output {
        status,
        stdout: std::fs::read(&out_path).unwrap(),
        stderr: std::fs::read(&err_path).unwrap(),
    };
    (output, started.elapsed())
}

/// The process ended by itself with `code` (a stack overflow or an abort ends it by a
/// signal, with no exit code).
fn assert_exit(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "status {:?}\nstderr: {}",
        o.status,
        stderr(o).chars().take(2000).collect::<String>()
    );
}

fn assert_too_deep(o: &Output) {
    assert_exit(o, 1);
    let err = stderr(o);
    assert!(
        err.contains("statement nested too deeply")
            && err.contains(&format!("more than {MAX_NESTING_DEPTH} levels")),
        "{err}"
    );
}

/// `n` terms of `1+1+…`.
fn sum_of_ones(n: usize) -> String {
    format!("SELECT {};\n", vec!["1"; n].join("+"))
}

/// pageads (2 rows) with `n` chained LATERAL VIEWs of one element each.
fn lateral_views(n: usize) -> String {
    let views: Vec<String> = (0..n)
        .map(|i| format!("LATERAL VIEW explode(array({i})) t{i} AS c{i}"))
        .collect();
    format!(
        "SELECT count(*), max(c{}) FROM pageads {};\n",
        n - 1,
        views.join(" ")
    )
}

#[test]
fn long_sums_answer_and_longer_ones_are_refused() {
    let (o, _) = run_script(&sum_of_ones(2_000));
    assert_exit(&o, 0);
    assert_eq!(stdout(&o).lines().last(), Some("2000"));
    let (o, _) = run_script(&sum_of_ones(10_000));
    assert_too_deep(&o);
}

#[test]
fn a_million_terms_are_refused_even_with_a_syntax_error_at_the_end() {
    // sqlparser builds the chain a million levels deep before the check sees it, and drops it
    // by recursion when parsing fails at the end.
    let (o, _) = run_script(&sum_of_ones(1_000_000));
    assert_too_deep(&o);
    let broken = sum_of_ones(1_000_000).replace(";\n", " +;\n");
    let (o, _) = run_script(&broken);
    assert_exit(&o, 1);
    assert!(
        stderr(&o).contains("Expected: an expression"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_thousand_lateral_views_answer_and_more_than_the_limit_are_refused() {
    let (o, took) = run_script(&lateral_views(1_000));
    assert_exit(&o, 0);
    assert_eq!(stdout(&o).lines().last(), Some("2,999"));
    // Near-linear planning: seconds, not minutes, even unoptimized on a busy machine.
    assert!(took < Duration::from_secs(120), "took {took:?}");
    let (o, _) = run_script(&lateral_views(MAX_NESTING_DEPTH));
    assert_too_deep(&o);
}

#[test]
fn a_where_of_five_thousand_conditions_answers() {
    let conditions: Vec<String> = (0..5_000).map(|i| format!("value <> {i}")).collect();
    let sql = format!(
        "SELECT count(*) FROM (SELECT 5000 AS value UNION ALL SELECT 7 AS value) t WHERE {};\n",
        conditions.join(" AND ")
    );
    let (o, took) = run_script(&sql);
    assert_exit(&o, 0);
    assert_eq!(stdout(&o).lines().last(), Some("1"));
    assert!(took < Duration::from_secs(120), "took {took:?}");
    let any: Vec<String> = (0..5_000).map(|i| format!("value = {i}")).collect();
    let sql = format!(
        "SELECT count(*) FROM (SELECT 5000 AS value UNION ALL SELECT 7 AS value) t WHERE {};\n",
        any.join(" OR ")
    );
    let (o, _) = run_script(&sql);
    assert_exit(&o, 0);
    assert_eq!(stdout(&o).lines().last(), Some("1"));
}

#[test]
fn long_unions_answer_and_longer_ones_are_refused() {
    let union = |n: usize| {
        let selects: Vec<String> = (0..n).map(|i| format!("SELECT {i} AS x")).collect();
        format!(
            "SELECT count(*), sum(x) FROM ({}) t;\n",
            selects.join(" UNION ALL ")
        )
    };
    let (o, _) = run_script(&union(500));
    assert_exit(&o, 0);
    assert_eq!(stdout(&o).lines().last(), Some("500,124750"));
    let (o, _) = run_script(&union(5_000));
    assert_too_deep(&o);
}

#[test]
fn deep_casts_and_joins_are_refused() {
    let casts = format!("SELECT 1{};\n", "::BIGINT".repeat(20_000));
    let (o, _) = run_script(&casts);
    assert_too_deep(&o);
    let joins: Vec<String> = (1..=MAX_NESTING_DEPTH)
        .map(|i| format!("JOIN pageads p{i} ON true"))
        .collect();
    let (o, _) = run_script(&format!(
        "SELECT count(*) FROM pageads p0 {};\n",
        joins.join(" ")
    ));
    assert_too_deep(&o);
    // The session goes on after a refused statement.
    let script = format!("{}SELECT 'still here';\n", sum_of_ones(10_000));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sql");
    std::fs::write(&path, script).unwrap();
    let (o, _) = run_in(
        dir.path(),
        &["--continue-on-error", "-f", path.to_str().unwrap()],
    );
    assert!(stdout(&o).contains("still here"), "{}", stdout(&o));
    assert!(stderr(&o).contains("statement nested too deeply"));
}

#[test]
fn deeply_nested_data_types_are_refused() {
    // 200,000 levels of ARRAY<...> (1.4 MB): the process aborted with a stack overflow.
    for levels in [200_000, 101] {
        let sql = format!(
            "SELECT CAST(NULL AS {}INT{});\n",
            "ARRAY<".repeat(levels),
            ">".repeat(levels)
        );
        let (o, _) = run_script(&sql);
        assert_exit(&o, 1);
        assert!(
            stderr(&o).contains("statement nested too deeply: a data type nested more than 100"),
            "{}",
            stderr(&o)
        );
    }
    let (o, _) = run_script(&format!(
        "CREATE TABLE t (x {}INT{});\nSELECT CAST(array(array(1)) AS ARRAY<ARRAY<BIGINT>>);\n",
        "ARRAY<".repeat(100),
        ">".repeat(100)
    ));
    assert_exit(&o, 0);
    assert_eq!(stdout(&o).lines().last(), Some("[[1]]"));
}

#[test]
fn show_like_patterns_with_many_stars_answer_at_once() {
    let stars = format!("{}a", "*".repeat(30));
    let dir = tempfile::tempdir().unwrap();
    for statement in [
        format!("SHOW TABLES LIKE '{stars}'"),
        format!("SHOW DATABASES LIKE '{stars}'"),
        format!("SHOW FUNCTIONS LIKE '{stars}'"),
        format!("SHOW MODELS LIKE '{stars}'"),
    ] {
        let (o, took) = run_in(dir.path(), &["-e", &statement]);
        assert_exit(&o, 0);
        // The backtracking matcher took longer than 20 s on the first of these.
        assert!(took < Duration::from_secs(20), "{statement}: {took:?}");
    }
    let (o, _) = run_in(dir.path(), &["-e", "SHOW TABLES LIKE '*a*e*a*s*'"]);
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "tab_name\npageads\n");
    let (o, _) = run_in(dir.path(), &["-e", "SHOW TABLES LIKE '*a*s*a*'"]);
    assert_eq!(stdout(&o), "tab_name\n");
    let (o, _) = run_in(dir.path(), &["-e", "SHOW FUNCTIONS LIKE '**pl*de'"]);
    assert_eq!(stdout(&o), "tab_name\nexplode\nposexplode\n");
}

#[test]
fn functions_that_build_huge_values_are_refused_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    for (sql, message) in [
        (
            "SELECT length(repeat('x', 2000000000))",
            "repeat: the result would take 1.9 GiB, more than the 1.0 GiB one function call may build",
        ),
        (
            "SELECT x FROM (SELECT 1) LATERAL VIEW explode(range(300000000)) t AS x LIMIT 1",
            "range: the result would take 2.2 GiB",
        ),
        (
            "SELECT length(lpad('a', 1500000000, 'b'))",
            "lpad: the result would take 1.4 GiB",
        ),
    ] {
        let (o, _) = run_in(dir.path(), &["-e", sql]);
        assert_exit(&o, 1);
        assert!(stderr(&o).contains(message), "{sql}: {}", stderr(&o));
    }
    let (o, _) = run_in(
        dir.path(),
        &[
            "-e",
            "SELECT length(repeat('ab', 1000)), cardinality(range(10))",
        ],
    );
    assert_exit(&o, 0);
    assert_eq!(stdout(&o).lines().last(), Some("2000,10"));
}

#[test]
fn training_that_cannot_fit_the_machine_is_refused() {
    // A bigram over a million ids counts 10¹² pairs: terabytes.
    let dir = tempfile::tempdir().unwrap();
    let (o, _) = run_in(
        dir.path(),
        &[
            "-e",
            "CREATE MODEL m OPTIONS (model_type = 'bigram', vocab_size = 1000000) \
             AS SELECT array(1, 2, 3)",
        ],
    );
    assert_exit(&o, 1);
    let err = stderr(&o);
    assert!(
        err.contains("CREATE MODEL default.m: training needs about")
            && err.contains("more than this machine's"),
        "{err}"
    );
    // With no vocab_size the vocabulary is the largest id + 1: near 2^63 squared, the
    // estimate overflowed.
    let (o, _) = run_in(
        dir.path(),
        &[
            "-e",
            "CREATE MODEL m2 OPTIONS (model_type = 'bigram') AS SELECT array(9223372036854775806)",
        ],
    );
    assert_exit(&o, 1);
    assert!(
        stderr(&o).contains("CREATE MODEL default.m2"),
        "{}",
        stderr(&o)
    );
}

async fn session_with_pool(bytes: usize) -> ApiaryContext {
    ApiaryContext::open(
        Arc::new(Warehouse::temporary().unwrap()),
        SessionOptions {
            memory_pool: Some(shared_memory_pool(bytes).unwrap()),
            ..SessionOptions::default()
        },
    )
    .await
    .unwrap()
}

async fn query(ctx: &mut ApiaryContext, sql: &str) -> Result<String, String> {
    let output = ctx.execute(sql).await.map_err(|e| e.to_string())?;
    match output {
        StatementOutput::Rows(s) => {
            let batches: Vec<RecordBatch> = s.try_collect().await.map_err(|e| e.to_string())?;
            Ok(pretty_format_batches(&batches).unwrap().to_string())
        }
        _ => Ok(String::new()),
    }
}

#[tokio::test]
async fn the_memory_pool_governs_functions_and_generators() {
    let mut ctx = session_with_pool(32 << 20).await;
    let err = query(&mut ctx, "SELECT length(repeat('x', 100000000))")
        .await
        .unwrap_err();
    assert!(
        err.contains("repeat: the result would take 95.4 MiB, more than the memory pool can give"),
        "{err}"
    );
    let err = query(
        &mut ctx,
        "SELECT count(x) FROM (SELECT 1) LATERAL VIEW explode(range(10000000)) t AS x",
    )
    .await
    .unwrap_err();
    assert!(
        err.contains("range: the result would take 76.3 MiB"),
        "{err}"
    );
    let err = query(
        &mut ctx,
        "SELECT cardinality(array_repeat('abcdefgh', 3000000))",
    )
    .await
    .unwrap_err();
    assert!(err.contains("array_repeat: the result would take"), "{err}");
    // What fits runs, and every reservation is given back.
    let out = query(
        &mut ctx,
        "SELECT count(x), sum(x) FROM (SELECT 1) LATERAL VIEW explode(range(1000000)) t AS x",
    )
    .await
    .unwrap();
    assert!(
        out.contains(" 1000000 ") && out.contains(" 499999500000 "),
        "{out}"
    );
    assert_eq!(
        ctx.session().runtime_env().memory_pool.reserved(),
        0,
        "all memory given back"
    );
}

#[tokio::test]
async fn a_generator_reserves_what_it_holds() {
    // repeat's 10 MB fit the pool; the list split makes of it (5 million strings) is what the
    // generator holds while it explodes it, and does not.
    let mut ctx = session_with_pool(16 << 20).await;
    let sql = "SELECT count(x) FROM (SELECT repeat('a,', n) AS s FROM (SELECT 5000000 AS n)) \
               LATERAL VIEW explode(split(s, ',')) t AS x";
    let err = query(&mut ctx, sql).await.unwrap_err();
    assert!(
        err.contains("explode: the rows it generates from one input batch need")
            && err.contains("more than the memory pool can give"),
        "{err}"
    );
    assert_eq!(ctx.session().runtime_env().memory_pool.reserved(), 0);
    // The same with a tenth of the rows fits, and streams.
    let out = query(&mut ctx, &sql.replace("5000000", "500000"))
        .await
        .unwrap();
    assert!(out.contains(" 500001 "), "{out}");
    assert_eq!(ctx.session().runtime_env().memory_pool.reserved(), 0);
}

#[tokio::test]
async fn training_reserves_its_memory_first() {
    let mut ctx = session_with_pool(16 << 20).await;
    let err = query(
        &mut ctx,
        "CREATE MODEL big OPTIONS (model_type = 'transformer', d_model = 512, mlp = 2048, \
         layers = 4, steps = 1) AS SELECT word FROM words_train",
    )
    .await
    .unwrap_err();
    assert!(
        err.contains("CREATE MODEL default.big: training needs about")
            && err.contains("more than the memory pool can give"),
        "{err}"
    );
    let out = query(&mut ctx, "SHOW MODELS").await.unwrap();
    assert!(!out.contains("big"), "{out}");
    // A model that fits trains, within the same pool.
    query(
        &mut ctx,
        "CREATE MODEL small OPTIONS (model_type = 'bigram') AS SELECT word FROM words_train",
    )
    .await
    .unwrap();
    let out = query(&mut ctx, "SHOW MODELS").await.unwrap();
    assert!(out.contains("small"), "{out}");
    assert_eq!(ctx.session().runtime_env().memory_pool.reserved(), 0);
}

/// A process's peak resident memory in bytes (Linux: `VmHWM`).
fn peak_memory(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib * 1024
}

/// The attacks of issue 13 on `apiary serve --memory-limit`: each statement fails with a
/// clear message, the server's memory stays far below what they asked for, and it answers
/// the next query.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_a_memory_limit_the_server_refuses_what_does_not_fit_and_lives_on() {
    use crate::server::{client, query, start};

    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("warehouse"), &["--memory-limit", "256M"]);
    let mut c = client(&server, None).await;
    let explode =
        |n: u64| format!("SELECT count(x) FROM (SELECT 1) LATERAL VIEW explode(range({n})) t AS x");
    for (sql, message) in [
        (explode(300_000_000), "range: the result would take 2.2 GiB"),
        (
            explode(100_000_000),
            "range: the result would take 762.9 MiB, more than the memory pool can give",
        ),
        (
            "SELECT length(repeat('x', 2000000000))".to_string(),
            "more than the 1.0 GiB one function call may build",
        ),
        (
            "SELECT length(repeat(s, 500000000)) FROM (SELECT 'x' AS s)".to_string(),
            "repeat: the result would take 476.8 MiB, more than the memory pool can give",
        ),
    ] {
        let err = match c.execute(sql.clone(), None).await {
            Ok(info) => {
                let ticket = info.endpoint[0].ticket.clone().unwrap();
                match c.do_get(ticket).await {
                    Ok(stream) => stream.try_collect::<Vec<_>>().await.unwrap_err(),
                    Err(e) => e,
                }
            }
            Err(e) => e,
        };
        assert!(err.to_string().contains(message), "{sql}: {err}");
    }
    let err = c
        .execute_update(
            "CREATE MODEL big OPTIONS (model_type = 'transformer', d_model = 512, mlp = 2048, \
             layers = 4, steps = 1) AS SELECT word FROM words_train"
                .into(),
            None,
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("training needs about")
            && err
                .to_string()
                .contains("more than the memory pool can give"),
        "{err}"
    );
    let peak = peak_memory(server.child.id());
    assert!(peak < 1 << 30, "the server reached {} MiB", peak >> 20);
    assert_eq!(
        query(&mut c, "SELECT 1 + 1").await,
        vec![vec!["2".to_string()]]
    );
    // What fits runs.
    assert_eq!(
        query(&mut c, &explode(1_000_000)).await,
        vec![vec!["1000000".to_string()]]
    );
}
