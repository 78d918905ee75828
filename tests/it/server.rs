//! `apiary serve`: the real binary on a loopback port, driven by arrow-flight's Flight SQL
//! client.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use arrow_flight::FlightInfo;
use arrow_flight::sql::client::FlightSqlServiceClient;
use arrow_flight::sql::{CommandGetDbSchemas, CommandGetTables, SqlInfo};
use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::util::display::array_value_to_string;
use futures::TryStreamExt;
use tonic::transport::Channel;

pub(crate) const TOKEN: &str = "s3cret-token";

/// A running server; killed when dropped.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn start(warehouse: &Path, extra: &[&str]) -> Server {
    start_with_env(warehouse, extra, &[])
}

/// [`start`], with variables added to the server's environment.
pub(crate) fn start_with_env(warehouse: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
    start_in(None, warehouse, extra, env)
}

/// [`start_with_env`], in working directory `cwd` when given.
pub(crate) fn start_in(
    cwd: Option<&Path>,
    warehouse: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_apiary"));
    if let Some(dir) = cwd {
        command.current_dir(dir);
    }
    let mut child = command
        .arg("--warehouse")
        .arg(warehouse)
        .args(["serve", "--port", "0"])
        .args(extra)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let address = line
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    Server { child, address }
}

pub(crate) async fn client(
    server: &Server,
    token: Option<&str>,
) -> FlightSqlServiceClient<Channel> {
    client_from(server, token, None).await
}

/// A client whose connection comes from `local` (another loopback address: 127.0.0.2, ...),
/// a peer of its own for the server's sign-in throttle.
pub(crate) async fn client_from(
    server: &Server,
    token: Option<&str>,
    local: Option<&str>,
) -> FlightSqlServiceClient<Channel> {
    let channel = Channel::from_shared(format!("http://{}", server.address))
        .unwrap()
        .local_address(local.map(|a| a.parse().unwrap()))
        .connect()
        .await
        .unwrap();
    let mut client = FlightSqlServiceClient::new(channel);
    if let Some(t) = token {
        client.set_token(t.to_string());
    }
    client
}

pub(crate) async fn fetch(
    client: &mut FlightSqlServiceClient<Channel>,
    info: FlightInfo,
) -> Vec<RecordBatch> {
    let mut batches = Vec::new();
    for endpoint in info.endpoint {
        let ticket = endpoint.ticket.unwrap();
        let stream = client.do_get(ticket).await.unwrap();
        batches.extend(stream.try_collect::<Vec<_>>().await.unwrap());
    }
    batches
}

pub(crate) async fn query(
    client: &mut FlightSqlServiceClient<Channel>,
    sql: &str,
) -> Vec<Vec<String>> {
    let info = client.execute(sql.to_string(), None).await.unwrap();
    rows(&fetch(client, info).await)
}

pub(crate) fn rows(batches: &[RecordBatch]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for b in batches {
        for r in 0..b.num_rows() {
            out.push(
                b.columns()
                    .iter()
                    .map(|c| array_value_to_string(c, r).unwrap())
                    .collect(),
            );
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_updates_metadata_and_sessions_over_flight_sql() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--token", TOKEN]);
    let mut c = client(&server, Some(TOKEN)).await;

    // Hive SQL, LATERAL VIEW included; the schema is announced before the rows.
    let info = c
        .execute(
            "SELECT pageid, adid FROM pageads LATERAL VIEW explode(adid_list) t AS adid \
             WHERE pageid = 'front_page' ORDER BY adid"
                .into(),
            None,
        )
        .await
        .unwrap();
    let schema = info.clone().try_decode_schema().unwrap();
    assert_eq!(schema.field(1).name(), "adid");
    assert_eq!(
        rows(&fetch(&mut c, info).await),
        vec![
            vec!["front_page".to_string(), "1".into()],
            vec!["front_page".into(), "2".into()],
            vec!["front_page".into(), "3".into()]
        ]
    );

    // Updates: DDL and INSERT, with the rows written.
    assert_eq!(
        c.execute_update(
            "CREATE TABLE t (x BIGINT) PARTITIONED BY (p STRING)".into(),
            None
        )
        .await
        .unwrap(),
        0
    );
    assert_eq!(
        c.execute_update(
            "INSERT INTO t PARTITION (p) SELECT value, CAST(value % 2 AS STRING) FROM range(10)"
                .into(),
            None
        )
        .await
        .unwrap(),
        10
    );
    assert_eq!(
        query(&mut c, "SELECT p, count(*) FROM t GROUP BY p ORDER BY p").await,
        vec![
            vec!["0".to_string(), "5".into()],
            vec!["1".into(), "5".into()]
        ]
    );
    // Warehouse statements answer rows as queries too.
    assert_eq!(
        query(&mut c, "SHOW PARTITIONS t").await,
        vec![vec!["p=0".to_string()], vec!["p=1".into()]]
    );

    // A 2M-row result streams in batches.
    let info = c
        .execute("SELECT value FROM range(2000000)".into(), None)
        .await
        .unwrap();
    let ticket = info.endpoint[0].ticket.clone().unwrap();
    let mut stream = c.do_get(ticket).await.unwrap();
    let (mut n, mut batches, mut sum) = (0usize, 0usize, 0i64);
    while let Some(b) = stream.try_next().await.unwrap() {
        n += b.num_rows();
        batches += 1;
        let col = b
            .column(0)
            .as_primitive::<datafusion::arrow::datatypes::Int64Type>();
        sum += (0..col.len()).map(|i| col.value(i)).sum::<i64>();
    }
    assert_eq!(n, 2_000_000);
    assert_eq!(sum, 1_999_999 * 2_000_000 / 2);
    assert!(batches > 10, "{batches} batches");

    // Errors are INVALID_ARGUMENT with the engine's message; the connection stays usable.
    let err = c
        .execute("SELECT * FROM nosuch".into(), None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("nosuch"), "{err}");
    assert!(
        err.to_string().contains("InvalidArgument") || err.to_string().contains("invalid"),
        "{err}"
    );
    assert_eq!(
        query(&mut c, "SELECT 1 + 1").await,
        vec![vec!["2".to_string()]]
    );

    // Metadata.
    let info = c.get_catalogs().await.unwrap();
    let catalogs = rows(&fetch(&mut c, info).await);
    assert_eq!(catalogs, vec![vec!["apiary".to_string()]]);
    c.execute_update("CREATE DATABASE shop".into(), None)
        .await
        .unwrap();
    let info = c
        .get_db_schemas(CommandGetDbSchemas {
            catalog: None,
            db_schema_filter_pattern: None,
        })
        .await
        .unwrap();
    let schemas = rows(&fetch(&mut c, info).await);
    assert!(
        schemas.contains(&vec!["apiary".to_string(), "shop".into()]),
        "{schemas:?}"
    );
    let info = c
        .get_tables(CommandGetTables {
            catalog: None,
            db_schema_filter_pattern: None,
            table_name_filter_pattern: None,
            table_types: vec![],
            include_schema: true,
        })
        .await
        .unwrap();
    let tables = fetch(&mut c, info).await;
    let names: Vec<String> = rows(&tables)
        .iter()
        .map(|r| format!("{}.{}", r[1], r[2]))
        .collect();
    assert!(names.contains(&"default.t".to_string()), "{names:?}");
    assert!(
        names.contains(&"default.words_train".to_string()),
        "{names:?}"
    );
    assert_eq!(tables[0].schema().field(4).name(), "table_schema");
    let info = c.get_table_types().await.unwrap();
    let types = rows(&fetch(&mut c, info).await);
    assert!(types.contains(&vec!["TABLE".to_string()]), "{types:?}");
    let info = c
        .get_xdbc_type_info(arrow_flight::sql::CommandGetXdbcTypeInfo { data_type: None })
        .await
        .unwrap();
    let type_rows = rows(&fetch(&mut c, info).await);
    assert!(type_rows.iter().any(|r| r[0] == "BIGINT"), "{type_rows:?}");
    assert!(type_rows.iter().any(|r| r[0] == "DECIMAL"), "{type_rows:?}");
    let info = c
        .get_sql_info(vec![SqlInfo::FlightSqlServerName])
        .await
        .unwrap();
    let info_rows = fetch(&mut c, info).await;
    assert_eq!(info_rows[0].num_rows(), 1);

    // Each client connection has its own session: USE and SET stay with it.
    c.execute_update("USE shop".into(), None).await.unwrap();
    assert_eq!(
        query(&mut c, "SELECT current_database()").await,
        vec![vec!["shop".to_string()]]
    );
    let mut other = client(&server, Some(TOKEN)).await;
    assert_eq!(
        query(&mut other, "SELECT current_database()").await,
        vec![vec!["default".to_string()]]
    );
    // ... but the warehouse is shared.
    assert_eq!(
        query(&mut other, "SELECT count(*) FROM t").await,
        vec![vec!["10".to_string()]]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_needs_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--token", TOKEN]);
    let longer = format!("{TOKEN}x");
    let shorter = &TOKEN[..TOKEN.len() - 1];
    // Each bad token from an address of its own: three failures each, below the sign-in
    // throttle's back-off.
    for (token, from) in [
        (None, "127.0.0.3"),
        (Some("wrong"), "127.0.0.4"),
        (Some(longer.as_str()), "127.0.0.5"),
        (Some(shorter), "127.0.0.6"),
    ] {
        let mut c = client_from(&server, token, Some(from)).await;
        let err = c.execute("SELECT 1".into(), None).await.unwrap_err();
        assert!(
            err.to_string().contains("Unauthenticated")
                || err.to_string().contains("unauthenticated")
                || err.to_string().contains("authorization")
                || err.to_string().contains("token"),
            "{token:?}: {err}"
        );
        let err = c.get_catalogs().await.unwrap_err();
        assert!(
            err.to_string().to_lowercase().contains("token")
                || err.to_string().contains("authorization"),
            "{err}"
        );
        // ListActions bypasses FlightSqlService's hooks: the layer still guards it.
        let listed = c.inner_mut().list_actions(arrow_flight::Empty {}).await;
        assert!(listed.is_err(), "{token:?}");
    }
    let mut ok = client(&server, Some(TOKEN)).await;
    assert_eq!(
        query(&mut ok, "SELECT 'in'").await,
        vec![vec!["in".to_string()]]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_login_returns_a_session_token() {
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
        ],
    );
    let mut bad = client(&server, None).await;
    assert!(bad.handshake("ann", "hunter3").await.is_err());
    let mut c = client(&server, None).await;
    c.handshake("ann", "hunter2").await.unwrap();
    assert!(c.token().is_some());
    assert_eq!(
        query(&mut c, "SELECT 40 + 2").await,
        vec![vec!["42".to_string()]]
    );
}

#[test]
fn refuses_to_listen_beyond_loopback_without_auth_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_apiary"))
        .arg("--warehouse")
        .arg(dir.path())
        .args(["serve", "--host", "0.0.0.0", "--port", "0"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("without authentication"), "{err}");

    let mut server = start(dir.path(), &[]);
    let pid = server.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let start = Instant::now();
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "still running after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// SIGTERM while a query streams: the server stops accepting, gives running calls the grace
/// period, then cancels them and exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_cancels_queries_still_running_after_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path(), &["--shutdown-grace", "1"]);
    let mut c = client(&server, None).await;
    let info = c
        .execute("SELECT value FROM range(1000000000)".into(), None)
        .await
        .unwrap();
    let mut stream = c
        .do_get(info.endpoint[0].ticket.clone().unwrap())
        .await
        .unwrap();
    assert!(stream.try_next().await.unwrap().is_some());
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
            signalled.elapsed() < Duration::from_secs(8),
            "still running 8 s after SIGTERM with a 1 s grace"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    assert!(
        signalled.elapsed() >= Duration::from_millis(900),
        "no grace was given"
    );
    // The client's stream ends (with an error: the query did not complete).
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stream.try_next().await {
                Ok(Some(_)) => continue,
                Ok(None) => return false,
                Err(_) => return true,
            }
        }
    })
    .await
    .unwrap();
    assert!(ended, "the cancelled stream ended as if complete");
    let mut stderr = String::new();
    use std::io::Read;
    server
        .child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.contains("cancelled"), "{stderr}");
}

/// `--tls-cert/--tls-key`: clients that trust the certificate connect; plaintext ones do not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_serves_clients_that_trust_the_certificate() {
    use tonic::transport::{Certificate, ClientTlsConfig};
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    let cert = fixtures.join("server.pem");
    let key = fixtures.join("server.key");
    let dir = tempfile::tempdir().unwrap();
    // A key that is not PEM is refused at start, naming the flags.
    let bad = Command::new(env!("CARGO_BIN_EXE_apiary"))
        .arg("--warehouse")
        .arg(dir.path())
        .args(["serve", "--port", "0", "--tls-cert"])
        .arg(&cert)
        .arg("--tls-key")
        .arg(fixtures.join("README.md"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("--tls-key"), "{err}");

    let server = start(
        dir.path(),
        &[
            "--token",
            TOKEN,
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    let port = server.address.rsplit(':').next().unwrap();
    let ca = std::fs::read(fixtures.join("ca.pem")).unwrap();
    let channel = Channel::from_shared(format!("https://localhost:{port}"))
        .unwrap()
        .tls_config(
            ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(ca))
                .domain_name("localhost"),
        )
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut c = FlightSqlServiceClient::new(channel);
    c.set_token(TOKEN.to_string());
    assert_eq!(
        query(&mut c, "SELECT count(*) FROM words_test").await,
        vec![vec!["7344".to_string()]]
    );
    // Plaintext gRPC to a TLS port fails.
    let plain = Channel::from_shared(format!("http://{}", server.address))
        .unwrap()
        .connect()
        .await;
    if let Ok(channel) = plain {
        let mut c = FlightSqlServiceClient::new(channel);
        c.set_token(TOKEN.to_string());
        assert!(c.execute("SELECT 1".into(), None).await.is_err());
    }
}

/// A client that goes away mid-stream frees its query; the server serves the next one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_leaving_mid_stream_does_not_hurt_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--token", TOKEN]);
    for _ in 0..3 {
        let mut c = client(&server, Some(TOKEN)).await;
        let info = c
            .execute(
                "SELECT value, repeat('x', 100) AS s FROM range(100000000)".into(),
                None,
            )
            .await
            .unwrap();
        let ticket = info.endpoint[0].ticket.clone().unwrap();
        let mut stream = c.do_get(ticket).await.unwrap();
        let first = stream.try_next().await.unwrap().unwrap();
        assert!(first.num_rows() > 0);
        drop(stream);
        drop(c);
    }
    // The abandoned queries stopped: the idle server uses (almost) no CPU. Were the three
    // 100M-row queries still running, it would use about two CPU-seconds per second here.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = cpu_seconds(server.child.id());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let used = cpu_seconds(server.child.id()) - before;
    assert!(
        used < 0.3,
        "the server used {used:.2} CPU-seconds in one idle second"
    );
    let started = Instant::now();
    let mut c = client(&server, Some(TOKEN)).await;
    assert_eq!(
        query(&mut c, "SELECT count(*) FROM words_test").await,
        vec![vec!["7344".to_string()]]
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

/// A process's CPU time (user + system) from `/proc/<pid>/stat` (Linux, USER_HZ = 100).
pub(crate) fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

/// 16 clients × 25 queries each, all at once: every answer right.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_clients_twenty_five_queries_each() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--token", TOKEN]);
    let mut tasks = Vec::new();
    for client_no in 0..16u64 {
        let mut c = client(&server, Some(TOKEN)).await;
        tasks.push(tokio::spawn(async move {
            for q in 0..25u64 {
                let n = client_no * 100 + q;
                let got = query(
                    &mut c,
                    &format!(
                        "SELECT count(*), sum(x) FROM (SELECT explode(generate_series(1, {n})) AS x) \
                         LATERAL VIEW explode(array(x)) t AS y"
                    ),
                )
                .await;
                let sum = if n == 0 {
                    String::new() // NULL
                } else {
                    (n * (n + 1) / 2).to_string()
                };
                assert_eq!(
                    got,
                    vec![vec![n.to_string(), sum]],
                    "client {client_no} query {q}"
                );
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// --query-timeout cancels a long query, --memory-limit fails a greedy one, and
/// --max-concurrent-queries makes others wait, then turns them away; the server lives on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_fail_the_query_not_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(
        dir.path(),
        &[
            "--token",
            TOKEN,
            "--query-timeout",
            "4",
            "--memory-limit",
            "32M",
            "--max-concurrent-queries",
            "1",
        ],
    );
    let mut c = client(&server, Some(TOKEN)).await;

    let started = Instant::now();
    let info = c
        .execute("SELECT count(*) FROM range(100000000000)".into(), None)
        .await
        .unwrap();
    let ticket = info.endpoint[0].ticket.clone().unwrap();
    let err = match c.do_get(ticket).await {
        Ok(stream) => stream.try_collect::<Vec<_>>().await.unwrap_err(),
        Err(e) => e,
    };
    assert!(err.to_string().contains("--query-timeout"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );

    let info = c
        .execute(
            "SELECT cardinality(array_agg(value)) FROM range(200000000)".into(),
            None,
        )
        .await
        .unwrap();
    let ticket = info.endpoint[0].ticket.clone().unwrap();
    let err = match c.do_get(ticket).await {
        Ok(stream) => stream.try_collect::<Vec<_>>().await.unwrap_err(),
        Err(e) => e,
    };
    let text = err.to_string();
    assert!(
        text.contains("Resources exhausted") || text.contains("memory"),
        "{text}"
    );
    assert_eq!(
        query(&mut c, "SELECT 'alive'").await,
        vec![vec!["alive".to_string()]]
    );

    // One slot. Planned, unfetched queries do not hold it: another client runs its own.
    let held: Vec<FlightInfo> = vec![
        c.execute("SELECT 1".into(), None).await.unwrap(),
        c.execute("SELECT 11".into(), None).await.unwrap(),
    ];
    let mut other = client(&server, Some(TOKEN)).await;
    assert_eq!(
        query(&mut other, "SELECT 2").await,
        vec![vec!["2".to_string()]]
    );
    for (info, expected) in held.into_iter().zip(["1", "11"]) {
        assert_eq!(
            rows(&fetch(&mut c, info).await),
            vec![vec![expected.to_string()]]
        );
    }
    // A query being streamed holds it: another client waits until the stream is dropped.
    let info = c
        .execute("SELECT value FROM range(1000000000)".into(), None)
        .await
        .unwrap();
    let mut streaming = c
        .do_get(info.endpoint[0].ticket.clone().unwrap())
        .await
        .unwrap();
    assert!(streaming.try_next().await.unwrap().is_some());
    let waiting = tokio::spawn(async move {
        let started = Instant::now();
        let answer = query(&mut other, "SELECT 2").await;
        (answer, started.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !waiting.is_finished(),
        "another query ran while the only slot was streaming"
    );
    drop(streaming);
    let (answer, waited) = waiting.await.unwrap();
    assert_eq!(answer, vec![vec!["2".to_string()]]);
    assert!(waited >= Duration::from_millis(1400), "{waited:?}");
}

/// Prepared statements with parameters (`?` and `$1`): the parameter schema is reported,
/// values are bound by DoPut, and the statement runs many times with different values.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_statements_bind_parameters() {
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--token", TOKEN]);
    let mut c = client(&server, Some(TOKEN)).await;
    for sql in [
        "SELECT count(*) FROM words_test WHERE length(word) > ? AND word LIKE ?",
        "SELECT count(*) FROM words_test WHERE length(word) > $1 AND word LIKE $2",
    ] {
        let mut prepared = c.prepare(sql.into(), None).await.unwrap();
        let params = prepared.parameter_schema().unwrap().clone();
        assert_eq!(params.fields().len(), 2, "{sql}: {params:?}");
        assert_eq!(params.field(0).name(), "$1");
        let mut counts = Vec::new();
        for (len, pattern) in [(20i64, "c%"), (3, "qu%"), (30, "%")] {
            let schema = Arc::new(Schema::new(vec![
                Field::new("$1", DataType::Int64, true),
                Field::new("$2", DataType::Utf8, true),
            ]));
            let batch = RecordBatch::try_new(
                schema,
                vec![
                    Arc::new(Int64Array::from(vec![len])),
                    Arc::new(StringArray::from(vec![pattern])),
                ],
            )
            .unwrap();
            prepared.set_parameters(batch).unwrap();
            let info = prepared.execute().await.unwrap();
            counts.push(rows(&fetch(&mut c, info).await)[0][0].clone());
        }
        let expected: Vec<String> = [
            "SELECT count(*) FROM words_test WHERE length(word) > 20 AND word LIKE 'c%'",
            "SELECT count(*) FROM words_test WHERE length(word) > 3 AND word LIKE 'qu%'",
            "SELECT count(*) FROM words_test WHERE length(word) > 30",
        ]
        .iter()
        .map(|q| q.to_string())
        .collect();
        let mut direct = Vec::new();
        for q in expected {
            direct.push(query(&mut c, &q).await[0][0].clone());
        }
        assert_eq!(counts, direct, "{sql}");
        prepared.close().await.unwrap();
    }
}

/// A batch of several parameter rows is one execution: an INSERT's rows land in one commit
/// (JDBC's `executeBatch`, ADBC's `executemany`), a query answers the union of its rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parameter_batches_run_as_one_statement() {
    use arrow_flight::encode::FlightDataEncoderBuilder;
    use arrow_flight::sql::{
        ActionCreatePreparedStatementRequest, ActionCreatePreparedStatementResult, Any,
        CommandPreparedStatementUpdate, DoPutUpdateResult, ProstMessageExt,
    };
    use arrow_flight::{Action, FlightDescriptor};
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use prost::Message;
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]);
    let mut c = client(&server, None).await;
    let batch = |from: i64, n: i64| {
        let schema = Arc::new(Schema::new(vec![
            Field::new("$1", DataType::Int64, true),
            Field::new("$2", DataType::Utf8, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from_iter_values(from..from + n)),
                Arc::new(StringArray::from_iter_values(
                    (from..from + n).map(|i| format!("w{}", i % 7)),
                )),
            ],
        )
        .unwrap()
    };
    c.execute_update(
        "CREATE TABLE pt (id BIGINT, word STRING) PARTITIONED BY (p STRING) STORED AS PARQUET"
            .into(),
        None,
    )
    .await
    .unwrap();

    // arrow-flight's client: parameters bound by a query DoPut, then an update DoPut.
    let mut insert = c
        .prepare(
            "INSERT INTO pt PARTITION (p = 'a') VALUES (?, ?)".into(),
            None,
        )
        .await
        .unwrap();
    insert.set_parameters(batch(0, 1000)).unwrap();
    assert_eq!(insert.execute_update().await.unwrap(), 1000);
    insert.close().await.unwrap();

    // ADBC's way: the rows travel with the update's own DoPut, in two batches.
    let request = ActionCreatePreparedStatementRequest {
        query: "INSERT INTO pt PARTITION (p = 'b') SELECT $1, upper($2)".into(),
        transaction_id: None,
    };
    let created = c
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
    let command = CommandPreparedStatementUpdate {
        prepared_statement_handle: created.prepared_statement_handle,
    };
    let descriptor = FlightDescriptor::new_cmd(command.as_any().encode_to_vec());
    let second = batch(2000, 30);
    let data = FlightDataEncoderBuilder::new()
        .with_flight_descriptor(Some(descriptor))
        .with_schema(second.schema())
        .build(futures::stream::iter(vec![Ok(batch(1000, 20)), Ok(second)]))
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    let mut answer = c.do_put(futures::stream::iter(data)).await.unwrap();
    let put = answer.message().await.unwrap().unwrap();
    let written = DoPutUpdateResult::decode(put.app_metadata.as_ref()).unwrap();
    assert_eq!(written.record_count, 50);

    assert_eq!(
        query(
            &mut c,
            "SELECT p, count(*), sum(id), count(DISTINCT word) FROM pt GROUP BY p ORDER BY p"
        )
        .await,
        vec![
            vec!["a", "1000", "499500", "7"],
            vec![
                "b",
                "50",
                &(1000..1020).chain(2000..2030).sum::<i64>().to_string(),
                "7"
            ],
        ]
        .into_iter()
        .map(|r| r.into_iter().map(String::from).collect::<Vec<_>>())
        .collect::<Vec<_>>()
    );
    assert_eq!(
        query(
            &mut c,
            "SELECT DISTINCT word FROM pt WHERE p = 'b' AND word LIKE 'w%'"
        )
        .await
        .len(),
        0
    );
    // One commit per execution: the files of each partition come from one write
    // (`part-<write>-<n>`).
    for p in ["a", "b"] {
        let writes: std::collections::BTreeSet<String> =
            std::fs::read_dir(dir.path().join("pt").join(format!("p={p}")))
                .unwrap()
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| n.starts_with("part-"))
                .map(|n| n.rsplit_once('-').unwrap().0.to_string())
                .collect();
        assert_eq!(writes.len(), 1, "partition p={p}: {writes:?}");
    }

    // A query with several parameter rows answers the union of its rows.
    let mut lookup = c
        .prepare("SELECT id, word FROM pt WHERE id = ?".into(), None)
        .await
        .unwrap();
    let ids = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("$1", DataType::Int64, true)])),
        vec![Arc::new(Int64Array::from(vec![3, 1005, 2029, 99999]))],
    )
    .unwrap();
    lookup.set_parameters(ids).unwrap();
    let info = lookup.execute().await.unwrap();
    let mut found = rows(&fetch(&mut c, info).await);
    found.sort();
    assert_eq!(
        found,
        vec![vec!["1005", "W4"], vec!["2029", "W6"], vec!["3", "w3"]]
            .into_iter()
            .map(|r| r.into_iter().map(String::from).collect::<Vec<_>>())
            .collect::<Vec<_>>()
    );
    // A wrong number of values is the client's error, and the session goes on.
    let mut wrong = c.prepare("SELECT ? + ?".into(), None).await.unwrap();
    wrong
        .set_parameters(batch(0, 1).project(&[0]).unwrap())
        .unwrap();
    let err = wrong.execute().await.unwrap_err().to_string();
    assert!(err.contains("2 parameters, but 1 value"), "{err}");
    assert_eq!(query(&mut c, "SELECT 1").await, vec![vec!["1".to_string()]]);
}

/// Bulk ingest: Arrow batches into a warehouse table (created, appended to, replaced),
/// atomically, matched by column name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_ingest_creates_appends_and_replaces() {
    use arrow_flight::sql::{
        CommandStatementIngest, TableDefinitionOptions, TableExistsOption, TableNotExistOption,
    };
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--token", TOKEN]);
    let mut c = client(&server, Some(TOKEN)).await;
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
    ]));
    let batch = |from: i64, n: i64| {
        RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(Int64Array::from_iter_values(from..from + n)),
                Arc::new(StringArray::from_iter_values(
                    (from..from + n).map(|i| format!("n{i}")),
                )),
            ],
        )
        .unwrap()
    };
    let command =
        |if_not_exist: TableNotExistOption, if_exists: TableExistsOption| CommandStatementIngest {
            table_definition_options: Some(TableDefinitionOptions {
                if_not_exist: if_not_exist as i32,
                if_exists: if_exists as i32,
            }),
            table: "people".into(),
            schema: None,
            catalog: None,
            temporary: false,
            transaction_id: None,
            options: Default::default(),
        };
    let rows = c
        .execute_ingest(
            command(TableNotExistOption::Create, TableExistsOption::Fail),
            futures::stream::iter(vec![Ok(batch(0, 1000)), Ok(batch(1000, 500))]),
        )
        .await
        .unwrap();
    assert_eq!(rows, 1500);
    let err = c
        .execute_ingest(
            command(TableNotExistOption::Create, TableExistsOption::Fail),
            futures::stream::iter(vec![Ok(batch(0, 1))]),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    c.execute_ingest(
        command(TableNotExistOption::Fail, TableExistsOption::Append),
        futures::stream::iter(vec![Ok(batch(1500, 10))]),
    )
    .await
    .unwrap();
    assert_eq!(
        query(&mut c, "SELECT count(*), max(name) FROM people").await,
        vec![vec!["1510".to_string(), "n999".into()]]
    );
    c.execute_ingest(
        command(TableNotExistOption::Fail, TableExistsOption::Replace),
        futures::stream::iter(vec![Ok(batch(7, 3))]),
    )
    .await
    .unwrap();
    assert_eq!(
        query(&mut c, "SELECT sum(id) FROM people").await,
        vec![vec!["24".to_string()]]
    );
    assert_eq!(
        query(&mut c, "DESCRIBE people").await,
        vec![
            vec!["id".to_string(), "bigint".into(), "".into()],
            vec!["name".into(), "string".into(), "".into()]
        ]
    );
}

/// CancelFlightInfo stops a query being streamed, and drops one planned but not yet fetched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_flight_info_stops_a_query() {
    use arrow_flight::sql::{
        ActionCancelQueryRequest, ActionCancelQueryResult, Any, ProstMessageExt,
    };
    use arrow_flight::{Action, CancelFlightInfoRequest, CancelFlightInfoResult, CancelStatus};
    use prost::Message;
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--token", TOKEN]);
    let mut c = client(&server, Some(TOKEN)).await;
    // Only the session that planned a query may cancel it; another connection, even with
    // the same token, is told there is no such query.
    let mut other = client(&server, Some(TOKEN)).await;
    let cancel = |info: FlightInfo| {
        Action::new(
            "CancelFlightInfo",
            CancelFlightInfoRequest::new(info).encode_to_vec(),
        )
    };

    // Streaming: the next read ends with CANCELLED.
    let info = c
        .execute("SELECT value FROM range(1000000000)".into(), None)
        .await
        .unwrap();
    let ticket = info.endpoint[0].ticket.clone().unwrap();
    let mut stream = c.do_get(ticket).await.unwrap();
    assert!(stream.try_next().await.unwrap().is_some());
    let err = other.do_action(cancel(info.clone())).await.unwrap_err();
    assert!(
        matches!(&err, arrow_flight::error::FlightError::Tonic(s) if s.code() == tonic::Code::NotFound),
        "{err}"
    );
    let results: Vec<_> = c
        .do_action(cancel(info))
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let result = CancelFlightInfoResult::decode(results[0].body.clone()).unwrap();
    assert_eq!(result.status, CancelStatus::Cancelled as i32);
    let started = Instant::now();
    let err = loop {
        match stream.try_next().await {
            Ok(Some(_)) => assert!(started.elapsed() < Duration::from_secs(10), "not cancelled"),
            Ok(None) => panic!("the stream ended without saying it was cancelled"),
            Err(e) => break e,
        }
    };
    assert!(err.to_string().contains("cancelled"), "{err}");

    // Planned, not fetched: its ticket is gone.
    let info = c.execute("SELECT 1".into(), None).await.unwrap();
    let ticket = info.endpoint[0].ticket.clone().unwrap();
    c.do_action(cancel(info.clone())).await.unwrap();
    assert!(c.do_get(ticket).await.is_err());
    // Nothing left to cancel: NOT_FOUND.
    assert!(c.do_action(cancel(info)).await.is_err());
    assert_eq!(query(&mut c, "SELECT 3").await, vec![vec!["3".to_string()]]);

    // The deprecated CancelQuery action (older JDBC drivers) does the same.
    let info = c.execute("SELECT 4".into(), None).await.unwrap();
    let ticket = info.endpoint[0].ticket.clone().unwrap();
    let request = ActionCancelQueryRequest {
        info: info.encode_to_vec().into(),
    };
    let results: Vec<_> = c
        .do_action(Action::new("CancelQuery", request.as_any().encode_to_vec()))
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let result: ActionCancelQueryResult = Any::decode(results[0].body.clone())
        .unwrap()
        .unpack()
        .unwrap()
        .unwrap();
    assert_eq!(result.result, 1, "CANCEL_RESULT_CANCELLED");
    assert!(c.do_get(ticket).await.is_err());
    assert_eq!(query(&mut c, "SELECT 5").await, vec![vec!["5".to_string()]]);
}

/// Models over Flight SQL: trained by one client, queried by another (no progress bar).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn models_are_trained_and_queried_over_flight_sql() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]);
    let mut c = client(&server, None).await;
    let created = query(
        &mut c,
        "CREATE MODEL d OPTIONS (model_type = 'fvsbn', epochs = 5) AS SELECT pixels FROM digits_train",
    )
    .await;
    assert_eq!(created[0][0], "default.d");
    assert_eq!(created[0][1], "fvsbn");
    let mut other = client(&server, None).await;
    assert_eq!(
        query(
            &mut other,
            "SELECT count(*), min(cardinality(x)) FROM sample('d', 50, 1.0, 2)"
        )
        .await,
        vec![vec!["50".to_string(), "64".to_string()]]
    );
    let scored = query(
        &mut other,
        "SELECT count(*) FROM digits_test WHERE loglik('d', pixels) < 0",
    )
    .await;
    assert_eq!(scored, vec![vec!["297".to_string()]]);

    // A sequence model: a small transformer on the words, then its samples and scores from
    // the other client.
    let created = query(
        &mut c,
        "CREATE MODEL w OPTIONS (model_type = 'transformer', steps = 30, d_model = 16, heads = 2, \
         mlp = 32, layers = 1) AS SELECT word FROM words_train",
    )
    .await;
    assert_eq!(
        created[0][..2],
        ["default.w".to_string(), "transformer".to_string()]
    );
    let samples = query(
        &mut other,
        "SELECT count(*), max(length(seq)) <= 31 FROM sample('w', 20, 1.0, 3)",
    )
    .await;
    assert_eq!(samples, vec![vec!["20".to_string(), "true".to_string()]]);
    let scored = query(
        &mut other,
        "SELECT count(*) FROM words_test WHERE loglik('w', word) < 0 AND id < 1000",
    )
    .await;
    let expected = query(
        &mut other,
        "SELECT count(*) FROM words_test WHERE id < 1000",
    )
    .await;
    assert_eq!(scored, expected);
}
