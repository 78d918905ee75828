//! `apiary serve` under attack (issue 13, items 5 and 7): CPU-bound queries that neither
//! starve new clients nor outlive their cancellation, timeouts and shutdown for every kind of
//! statement, the sign-in throttle, handles bound to their session, and strict bulk ingest.

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::sql::client::FlightSqlServiceClient;
use arrow_flight::sql::{
    ActionCreatePreparedStatementRequest, ActionCreatePreparedStatementResult, Any,
    CommandPreparedStatementQuery, CommandStatementIngest, ProstMessageExt, TableDefinitionOptions,
    TableExistsOption, TableNotExistOption,
};
use arrow_flight::{Action, CancelFlightInfoRequest, FlightDescriptor, FlightInfo};
use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use futures::{StreamExt, TryStreamExt};
use prost::Message;
use tonic::transport::Channel;

use super::server::{
    Server, TOKEN, client, client_from, cpu_seconds, fetch, query, rows, start, start_with_env,
};

/// 10^12 rows through a cross join: minutes of CPU unless stopped.
const CROSS_JOIN: &str = "SELECT count(*) FROM range(1000000) a CROSS JOIN range(1000000) b";

type Client = FlightSqlServiceClient<Channel>;

/// The server's CPU-seconds over the next `window`.
async fn cpu_used(server: &Server, window: Duration) -> f64 {
    let before = cpu_seconds(server.child.id());
    tokio::time::sleep(window).await;
    cpu_seconds(server.child.id()) - before
}

/// A gRPC status's code, from an arrow-flight client error.
fn code(e: &arrow_flight::error::FlightError) -> Option<tonic::Code> {
    match e {
        arrow_flight::error::FlightError::Tonic(s) => Some(s.code()),
        _ => None,
    }
}

/// Plans `sql` and starts fetching its rows in a task; returns the FlightInfo and the task.
async fn start_fetch(
    c: &mut Client,
    sql: &str,
) -> (
    FlightInfo,
    tokio::task::JoinHandle<Result<Vec<RecordBatch>, arrow_flight::error::FlightError>>,
) {
    let info = c.execute(sql.into(), None).await.unwrap();
    let ticket = info.endpoint[0].ticket.clone().unwrap();
    let stream = c.do_get(ticket).await.unwrap();
    (info, tokio::spawn(stream.try_collect::<Vec<_>>()))
}

fn cancel_action(info: FlightInfo) -> Action {
    Action::new(
        "CancelFlightInfo",
        CancelFlightInfoRequest::new(info).encode_to_vec(),
    )
}

/// Two CPU-bound queries (each could run for minutes): a new client still signs in and runs
/// `SELECT 1` at once, and once one query is cancelled and the other's client goes away, the
/// server's CPU work stops within a second or two; so it does when --query-timeout fires.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cpu_bound_queries_neither_starve_new_clients_nor_outlive_their_clients() {
    let dir = tempfile::tempdir().unwrap();
    let password = dir.path().join("pw");
    std::fs::write(&password, "hunter2\n").unwrap();
    let server = start(
        dir.path(),
        &[
            "--user",
            "ann",
            "--password-file",
            password.to_str().unwrap(),
            "--query-timeout",
            "9",
        ],
    );
    let signed_in = || async {
        let mut c = client(&server, None).await;
        c.handshake("ann", "hunter2").await.unwrap();
        c
    };
    let mut cancelled = signed_in().await;
    let mut leaving = signed_in().await;
    let (info, first) = start_fetch(&mut cancelled, CROSS_JOIN).await;
    let (_, second) = start_fetch(&mut leaving, CROSS_JOIN).await;
    // CPU-seconds per second: about 2 on an idle two-core machine, less beside other tests.
    let busy = cpu_used(&server, Duration::from_secs(1)).await;
    assert!(busy > 0.3, "the queries are not running: {busy:.2} CPU-s");
    // Stopped work: an idle server uses almost none.
    let stopped = |after: f64| after < 0.15_f64.min(busy / 3.0);

    // A new client: connection, Basic-auth handshake and SELECT 1.
    let started = Instant::now();
    let mut newcomer = signed_in().await;
    assert_eq!(
        query(&mut newcomer, "SELECT 1").await,
        vec![vec!["1".to_string()]]
    );
    let waited = started.elapsed();
    eprintln!("SELECT 1 from a new client under load: {waited:?}");
    assert!(
        waited < Duration::from_secs(3),
        "a new client waited {waited:?} while two queries ran"
    );

    // One is cancelled, the other's client goes away.
    cancelled.do_action(cancel_action(info)).await.unwrap();
    second.abort();
    drop(leaving);
    let err = first.await.unwrap().unwrap_err();
    assert_eq!(code(&err), Some(tonic::Code::Cancelled), "{err}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after = cpu_used(&server, Duration::from_secs(1)).await;
    assert!(
        stopped(after),
        "the server used {after:.2} CPU-s in a second after its queries were stopped \
         ({busy:.2} while they ran)"
    );

    // --query-timeout stops a query being fetched, and one planned but never fetched
    // (DataFusion starts computing when the query is planned).
    let mut idle = signed_in().await;
    let unfetched = idle.execute(CROSS_JOIN.into(), None).await.unwrap();
    let started = Instant::now();
    let (_, timed) = start_fetch(&mut newcomer, CROSS_JOIN).await;
    let err = timed.await.unwrap().unwrap_err();
    assert!(err.to_string().contains("--query-timeout"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(15));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after = cpu_used(&server, Duration::from_secs(1)).await;
    assert!(
        stopped(after),
        "the server used {after:.2} CPU-s in a second after its queries timed out"
    );
    let err = idle
        .do_get(unfetched.endpoint[0].ticket.clone().unwrap())
        .await
        .unwrap_err();
    assert_eq!(code(&err), Some(tonic::Code::NotFound), "{err}");
}

/// A stalled upload: one batch, then nothing.
fn stalled_upload(table: &str) -> impl futures::Stream<Item = arrow_flight::FlightData> + Send {
    let command = CommandStatementIngest {
        table_definition_options: Some(TableDefinitionOptions {
            if_not_exist: TableNotExistOption::Create as i32,
            if_exists: TableExistsOption::Append as i32,
        }),
        table: table.into(),
        schema: None,
        catalog: None,
        temporary: false,
        transaction_id: None,
        options: Default::default(),
    };
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, true)])),
        vec![Arc::new(Int64Array::from(vec![1, 2, 3]))],
    )
    .unwrap();
    FlightDataEncoderBuilder::new()
        .with_flight_descriptor(Some(FlightDescriptor::new_cmd(
            command.as_any().encode_to_vec(),
        )))
        .build(futures::stream::iter(vec![Ok(batch)]))
        .map(|d| d.unwrap())
        .chain(futures::stream::pending())
}

/// --query-timeout bounds every kind of statement — SHOW, SET, DDL, prepared statements,
/// bulk ingest — and SIGTERM ends the server within its grace period even while a statement
/// that never yields (an exponential glob) holds a thread of the query pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_statement_kind_obeys_the_timeout_and_the_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(
        dir.path(),
        &["--query-timeout", "2", "--shutdown-grace", "1"],
    );
    let bound = Duration::from_secs(8);
    let timed_out = |e: &arrow_flight::error::FlightError| {
        code(e) == Some(tonic::Code::DeadlineExceeded) && e.to_string().contains("--query-timeout")
    };

    // SHOW with a pattern that backtracks, then SET in the same session (which waits for the
    // SHOW): each answers or is cancelled within the timeout.
    let mut c = client(&server, None).await;
    let glob = format!("SHOW TABLES LIKE '{}a'", "*".repeat(40));
    let started = Instant::now();
    match tokio::time::timeout(bound, c.execute(glob, None)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => assert!(timed_out(&e), "{e}"),
        Err(_) => panic!("SHOW TABLES ran past --query-timeout"),
    }
    match tokio::time::timeout(bound, c.execute_update("SET x=1".into(), None)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => assert!(timed_out(&e), "{e}"),
        Err(_) => panic!("SET ran past --query-timeout"),
    }
    assert!(started.elapsed() < bound + bound);

    // Another client is served meanwhile.
    let mut other = client(&server, None).await;
    let started = Instant::now();
    assert_eq!(
        query(&mut other, "SELECT 'served'").await,
        vec![vec!["served".to_string()]]
    );
    assert!(started.elapsed() < Duration::from_secs(3));

    // DDL: the CREATE TABLE ... AS SELECT is cancelled, and no table is left.
    let started = Instant::now();
    let ctas = format!("CREATE TABLE slow AS {CROSS_JOIN}");
    let err = tokio::time::timeout(bound, other.execute_update(ctas, None))
        .await
        .expect("CREATE TABLE AS ran past --query-timeout")
        .unwrap_err();
    assert!(timed_out(&err), "{err}");
    assert!(started.elapsed() < bound);
    assert!(
        other
            .execute("SELECT * FROM slow".into(), None)
            .await
            .is_err()
    );

    // A prepared statement.
    let mut prepared = other.prepare(CROSS_JOIN.into(), None).await.unwrap();
    let started = Instant::now();
    let outcome = tokio::time::timeout(bound, async {
        let info = prepared.execute().await?;
        let ticket = info.endpoint[0].ticket.clone().unwrap();
        other.do_get(ticket).await?.try_collect::<Vec<_>>().await
    })
    .await
    .expect("a prepared statement ran past --query-timeout");
    let err = outcome.unwrap_err();
    assert!(timed_out(&err), "{err}");
    assert!(started.elapsed() < bound);

    // Bulk ingest whose upload stalls.
    let started = Instant::now();
    let put = tokio::time::timeout(bound, async {
        let mut answer = other.do_put(stalled_upload("stalled")).await?;
        answer
            .message()
            .await
            .map_err(arrow_flight::error::FlightError::from)
    })
    .await
    .expect("an ingest ran past --query-timeout");
    let err = put.unwrap_err();
    assert!(timed_out(&err), "{err}");
    assert!(started.elapsed() < bound);
    assert_eq!(
        query(&mut other, "SELECT 'still here'").await,
        vec![vec!["still here".to_string()]]
    );

    // SIGTERM while the glob may still hold a pool thread: out within the grace period.
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let signalled = Instant::now();
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(6),
            "still running 6 s after SIGTERM with a 1 s grace"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
}

/// Failed sign-ins are throttled per peer: after three failures in a row from one address,
/// its requests are refused (the right password too) for a back-off that doubles; other
/// addresses are served; wrong bearer tokens count the same; each failure is logged without
/// the password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_are_throttled_per_peer_and_logged() {
    let dir = tempfile::tempdir().unwrap();
    let password = dir.path().join("pw");
    std::fs::write(&password, "hunter2\n").unwrap();
    let mut server = start(
        dir.path(),
        &[
            "--user",
            "ann",
            "--password-file",
            password.to_str().unwrap(),
        ],
    );
    let attacker = "127.0.0.2";
    let mut c = client_from(&server, None, Some(attacker)).await;
    for _ in 0..4 {
        let err = c.handshake("ann", "guess-1234").await.unwrap_err();
        assert!(err.to_string().contains("wrong user or password"), "{err}");
    }
    // In back-off: refused without the password being checked.
    let err = c.handshake("ann", "hunter2").await.unwrap_err();
    assert!(
        err.to_string().contains("too many failed sign-ins"),
        "{err}"
    );
    // Another peer is not affected.
    let mut friend = client(&server, None).await;
    friend.handshake("ann", "hunter2").await.unwrap();
    assert_eq!(
        query(&mut friend, "SELECT 7").await,
        vec![vec!["7".to_string()]]
    );
    // Wrong bearer tokens count the same.
    let mut guesser = client_from(&server, Some("not-a-token"), Some("127.0.0.3")).await;
    for _ in 0..4 {
        let err = guesser.execute("SELECT 1".into(), None).await.unwrap_err();
        assert!(err.to_string().contains("invalid bearer token"), "{err}");
    }
    let err = guesser.execute("SELECT 1".into(), None).await.unwrap_err();
    assert!(
        err.to_string().contains("too many failed sign-ins"),
        "{err}"
    );
    // The back-off ends (1 s after the fourth failure) and a right password is let in.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    c.handshake("ann", "hunter2").await.unwrap();
    assert_eq!(query(&mut c, "SELECT 8").await, vec![vec!["8".to_string()]]);

    let _ = server.child.kill();
    let _ = server.child.wait();
    let mut log = String::new();
    use std::io::Read;
    server
        .child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(
        log.contains("failed sign-in from 127.0.0.2 (user 'ann'): 4 in a row"),
        "{log}"
    );
    assert!(
        log.contains("failed sign-in from 127.0.0.3 (user '(bearer token)'): 1 in a row"),
        "{log}"
    );
    assert!(!log.contains("guess-1234"), "a password was logged: {log}");
    assert!(!log.contains("not-a-token"), "a token was logged: {log}");
}

/// A token that is empty or only whitespace is refused at start, given inline or in a file.
#[test]
fn a_blank_token_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, "   \n").unwrap();
    let token_file = file.to_str().unwrap();
    for flags in [["--token", "   "], ["--token-file", token_file]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_apiary"))
            .arg("--warehouse")
            .arg(dir.path())
            .args(["serve", "--port", "0"])
            .args(flags)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{flags:?}: the server started with a blank token");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(status.code(), Some(2), "{flags:?}");
        let mut err = String::new();
        use std::io::Read;
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert!(err.contains("whitespace"), "{flags:?}: {err}");
    }
}

/// A request with the bearer token, for calls the Flight SQL client does not offer.
fn with_token<T>(message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {TOKEN}").parse().unwrap());
    request
}

/// Prepared statements and statement tickets belong to the session (connection) that made
/// them: another connection with the same token is told they do not exist, and cannot spoil
/// them. Each session holds a bounded number of both, and unfetched tickets hold no query
/// slot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handles_belong_to_their_session_and_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(
        dir.path(),
        &["--token", TOKEN, "--max-concurrent-queries", "1"],
    );
    let mut owner = client(&server, Some(TOKEN)).await;
    let mut thief = client(&server, Some(TOKEN)).await;

    // A prepared statement.
    let request = ActionCreatePreparedStatementRequest {
        query: "SELECT 40 + 2".into(),
        transaction_id: None,
    };
    let created = owner
        .do_action(Action::new(
            "CreatePreparedStatement",
            request.as_any().encode_to_vec(),
        ))
        .await
        .unwrap()
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    let created: ActionCreatePreparedStatementResult = Any::decode(created[0].body.clone())
        .unwrap()
        .unpack()
        .unwrap()
        .unwrap();
    let command = CommandPreparedStatementQuery {
        prepared_statement_handle: created.prepared_statement_handle.clone(),
    };
    let descriptor = FlightDescriptor::new_cmd(command.as_any().encode_to_vec());
    let err = thief
        .inner_mut()
        .get_flight_info(with_token(descriptor.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound, "{err}");
    let close = arrow_flight::sql::ActionClosePreparedStatementRequest {
        prepared_statement_handle: created.prepared_statement_handle.clone(),
    };
    let close = Action::new("ClosePreparedStatement", close.as_any().encode_to_vec());
    let err = thief.do_action(close.clone()).await.unwrap_err();
    assert_eq!(code(&err), Some(tonic::Code::NotFound), "{err}");
    let info = owner
        .inner_mut()
        .get_flight_info(with_token(descriptor))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        rows(&fetch(&mut owner, info).await),
        vec![vec!["42".to_string()]]
    );
    owner.do_action(close).await.unwrap();

    // A statement ticket: the other session can neither fetch nor cancel it, and the owner
    // still fetches it afterwards. Tickets waiting hold no slot: the thief's own query runs
    // at once though the server runs one query at a time.
    let info = owner.execute("SELECT 'mine'".into(), None).await.unwrap();
    let ticket = info.endpoint[0].ticket.clone().unwrap();
    let err = thief.do_get(ticket.clone()).await.unwrap_err();
    assert_eq!(code(&err), Some(tonic::Code::NotFound), "{err}");
    let err = thief
        .do_action(cancel_action(info.clone()))
        .await
        .unwrap_err();
    assert_eq!(code(&err), Some(tonic::Code::NotFound), "{err}");
    let started = Instant::now();
    assert_eq!(
        query(&mut thief, "SELECT 'theirs'").await,
        vec![vec!["theirs".to_string()]]
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        rows(&fetch(&mut owner, info).await),
        vec![vec!["mine".to_string()]]
    );

    // At most 32 unfetched results per session.
    let mut waiting = Vec::new();
    let err = loop {
        match owner.execute("SELECT 1".into(), None).await {
            Ok(info) => waiting.push(info),
            Err(e) => break e,
        }
        assert!(waiting.len() <= 32, "no limit on unfetched results");
    };
    assert_eq!(waiting.len(), 32);
    assert_eq!(code(&err), Some(tonic::Code::ResourceExhausted), "{err}");
    assert!(err.to_string().contains("waiting to be fetched"), "{err}");
    // Fetching one makes room.
    let first = waiting.remove(0);
    assert_eq!(rows(&fetch(&mut owner, first).await).len(), 1);
    assert!(owner.execute("SELECT 1".into(), None).await.is_ok());

    // At most 256 open prepared statements per session.
    let mut open = 0;
    let err = loop {
        match thief.prepare("SELECT 1".into(), None).await {
            Ok(_) => open += 1,
            Err(e) => break e,
        }
        assert!(open <= 256, "no limit on prepared statements");
    };
    assert_eq!(open, 256);
    assert!(
        err.to_string().contains("open prepared statements"),
        "{err}"
    );
}

/// `${env:NAME}` reads the server's environment only under --allow-env.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_environment_is_hidden_from_clients_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let secret = [("APIARY_TEST_SECRET", "hush-hush")];
    let reads = [
        "SELECT '${env:APIARY_TEST_SECRET}'",
        "SELECT '${system:APIARY_TEST_SECRET}'",
        "SET env:APIARY_TEST_SECRET",
    ];
    let hidden = start_with_env(dir.path(), &[], &secret);
    let mut c = client(&hidden, None).await;
    for sql in reads {
        let got = format!("{:?}", query(&mut c, sql).await);
        assert!(!got.contains("hush-hush"), "{sql}: {got}");
    }
    drop(hidden);
    let allowed = start_with_env(dir.path(), &["--allow-env"], &secret);
    let mut c = client(&allowed, None).await;
    for sql in reads {
        let got = format!("{:?}", query(&mut c, sql).await);
        assert!(got.contains("hush-hush"), "{sql}: {got}");
    }
}

/// Bulk ingest refuses the sample tables (and a new session afterwards works), names that
/// are not names, columns the table does not have and values that do not convert; nothing
/// is written by a refused ingest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_ingest_is_strict_and_leaves_sample_tables_alone() {
    let dir = tempfile::tempdir().unwrap();
    // `../../escaped` from the warehouse would be `dir/escaped`.
    let warehouse = dir.path().join("a").join("wh");
    std::fs::create_dir_all(&warehouse).unwrap();
    let server = start(&warehouse, &[]);
    let mut c = client(&server, None).await;
    let pageads = query(&mut c, "SELECT count(*) FROM pageads").await;
    let ingest = |table: &str, if_exists: TableExistsOption| CommandStatementIngest {
        table_definition_options: Some(TableDefinitionOptions {
            if_not_exist: TableNotExistOption::Create as i32,
            if_exists: if_exists as i32,
        }),
        table: table.into(),
        schema: None,
        catalog: None,
        temporary: false,
        transaction_id: None,
        options: Default::default(),
    };
    let batch = |columns: Vec<(&str, Vec<&str>)>| {
        let fields: Vec<Field> = columns
            .iter()
            .map(|(n, _)| Field::new(*n, DataType::Utf8, true))
            .collect();
        RecordBatch::try_new(
            Arc::new(Schema::new(fields)),
            columns
                .into_iter()
                .map(|(_, v)| Arc::new(StringArray::from(v)) as _)
                .collect(),
        )
        .unwrap()
    };
    let pageid = || batch(vec![("pageid", vec!["evil"]), ("adid_list", vec!["[1]"])]);

    // The sample table: refused, unchanged, and a new session starts fine.
    for how in [TableExistsOption::Replace, TableExistsOption::Append] {
        let err = c
            .execute_ingest(
                ingest("pageads", how),
                futures::stream::iter([Ok(pageid())]),
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains("built-in sample table"), "{err}");
    }
    let mut fresh = client(&server, None).await;
    assert_eq!(
        query(&mut fresh, "SELECT count(*) FROM pageads").await,
        pageads
    );

    // Names that are paths.
    for name in ["../../escaped", ".apiary", "a/b"] {
        let err = c
            .execute_ingest(
                ingest(name, TableExistsOption::Fail),
                futures::stream::iter([Ok(batch(vec![("x", vec!["1"])]))]),
            )
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("invalid table name"),
            "{name}: {err}"
        );
    }
    assert!(!dir.path().join("escaped").exists());

    // Unknown columns and values that do not convert fail the statement.
    c.execute_update("CREATE TABLE nums (id BIGINT, label STRING)".into(), None)
        .await
        .unwrap();
    c.execute_ingest(
        ingest("nums", TableExistsOption::Append),
        futures::stream::iter([Ok(batch(vec![
            ("id", vec!["1", "2"]),
            ("label", vec!["a", "b"]),
        ]))]),
    )
    .await
    .unwrap();
    let err = c
        .execute_ingest(
            ingest("nums", TableExistsOption::Append),
            futures::stream::iter([Ok(batch(vec![
                ("id", vec!["3"]),
                ("label", vec!["c"]),
                ("bogus", vec!["x"]),
            ]))]),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no column 'bogus'"), "{err}");
    let err = c
        .execute_ingest(
            ingest("nums", TableExistsOption::Append),
            futures::stream::iter([Ok(batch(vec![
                ("id", vec!["4", "four"]),
                ("label", vec!["d", "e"]),
            ]))]),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("column 'id'"), "{err}");
    assert!(err.to_string().contains("four"), "{err}");
    assert_eq!(
        query(&mut c, "SELECT count(*), count(id), sum(id) FROM nums").await,
        vec![vec!["2".to_string(), "2".into(), "3".into()]]
    );
}

/// A query planned by GetFlightInfo and never fetched costs no CPU: its work starts when its
/// rows are asked for (a client can hold up to 32 such tickets, and they hold no slot).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfetched_query_computes_nothing_until_fetched() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--token", TOKEN]);
    let mut c = client(&server, Some(TOKEN)).await;
    let heavy = "SELECT sum(a.value + b.value) FROM range(1000000) a CROSS JOIN range(1000000) b";
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(c.execute(heavy.into(), None).await.unwrap());
    }
    let light = c
        .execute("SELECT count(*) FROM words_train".into(), None)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let used = cpu_used(&server, Duration::from_secs(1)).await;
    assert!(
        used < 0.3,
        "two planned, unfetched cross joins used {used:.2} CPU-seconds in one second"
    );
    // The tickets are still good: the light one answers when fetched.
    assert_eq!(
        rows(&fetch(&mut c, light).await),
        vec![vec!["66101".to_string()]]
    );
    for info in held {
        c.do_action(cancel_action(info)).await.unwrap();
    }
}
