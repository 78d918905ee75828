//! Inputs the fuzz targets (`fuzz/`, see fuzz/README.md) crashed, froze or exhausted memory
//! on, minimised, each run through the real binary (so that an abort fails one test, not the
//! whole test binary): the statement gets a clean answer or a clean error, and the process
//! lives on.

use std::time::Duration;

use arrow_flight::sql::client::FlightSqlServiceClient;
use arrow_flight::{FlightData, FlightDescriptor};
use tonic::transport::Channel;

use super::server::{Server, client, query, start_with_env};

/// A server whose panic messages (the contained decoder panics) carry no backtrace: its
/// standard error is a pipe nobody reads, which must not fill up.
fn start(warehouse: &std::path::Path) -> Server {
    start_with_env(warehouse, &[], &[("RUST_BACKTRACE", "0")])
}

/// Whether the server process is still running.
fn alive(server: &mut Server) -> bool {
    server.child.try_wait().unwrap().is_none()
}

/// The server answers `SELECT 1` to a new client.
async fn answers_select_one(server: &Server) {
    let mut c = client(server, None).await;
    assert_eq!(query(&mut c, "SELECT 1").await, vec![vec!["1".to_string()]]);
}

/// Sends `data` as one DoPut, the first message carrying `command`; the server's error, as
/// text (its code and message), if it refused.
async fn put(
    c: &mut FlightSqlServiceClient<Channel>,
    command: Vec<u8>,
    mut data: Vec<FlightData>,
) -> Result<(), String> {
    data[0].flight_descriptor = Some(FlightDescriptor::new_cmd(command));
    match c.do_put(futures::stream::iter(data)).await {
        Ok(mut answer) => answer
            .message()
            .await
            .map(|_| ())
            .map_err(|e| format!("{e:?}")),
        Err(e) => Err(format!("{e:?}")),
    }
}

/// A bulk ingest into table `t` (created if missing, appended to).
fn ingest_command() -> Vec<u8> {
    use arrow_flight::sql::{
        CommandStatementIngest, ProstMessageExt, TableDefinitionOptions, TableExistsOption,
        TableNotExistOption,
    };
    use prost::Message;
    let command = CommandStatementIngest {
        table_definition_options: Some(TableDefinitionOptions {
            if_not_exist: TableNotExistOption::Create.into(),
            if_exists: TableExistsOption::Append.into(),
        }),
        table: "t".into(),
        ..Default::default()
    };
    command.as_any().encode_to_vec()
}

/// Asserts that a put was refused as an invalid argument whose message contains `needle`.
fn assert_refused(outcome: Result<(), String>, what: &str, needle: &str) {
    let error = match outcome {
        Ok(()) => panic!("{what}: accepted"),
        Err(e) => e,
    };
    assert!(
        error.contains("InvalidArgument") && error.contains(needle),
        "{what}: not a clear INVALID_ARGUMENT naming {needle:?}: {error}"
    );
}

/// flight_requests: parameter values for a prepared statement (DoPut) in a compressed IPC
/// message whose buffer declares an uncompressed length of 2^62 bytes. arrow-ipc allocates
/// the declared length before decompressing (`Vec::with_capacity` in its LZ4 and ZSTD
/// paths), and a failed allocation aborts the process: one small request killed the server.
/// The minimised input is a valid DoPut stream with the first 8 bytes of the record batch's
/// body replaced; both codecs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compressed_batch_that_lies_about_its_length_fails_the_put_not_the_server() {
    use std::sync::Arc;

    use arrow_flight::encode::FlightDataEncoderBuilder;
    use arrow_flight::sql::ProstMessageExt;
    use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch};
    use datafusion::arrow::ipc::CompressionType;
    use datafusion::arrow::ipc::writer::IpcWriteOptions;
    use futures::TryStreamExt;
    use prost::Message;

    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path());
    for codec in [CompressionType::LZ4_FRAME, CompressionType::ZSTD] {
        for ingest in [false, true] {
            let what = format!(
                "{codec:?}, {}",
                if ingest { "ingest" } else { "parameters" }
            );
            let mut c = client(&server, None).await;
            let command = if ingest {
                ingest_command()
            } else {
                prepare_select_parameter(&mut c)
                    .await
                    .as_any()
                    .encode_to_vec()
            };
            let values: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None]));
            let batch = RecordBatch::try_from_iter([("$1", values)]).unwrap();
            let options = IpcWriteOptions::default()
                .try_with_compression(Some(codec))
                .unwrap();
            let mut data: Vec<FlightData> = FlightDataEncoderBuilder::new()
                .with_options(options)
                .build(futures::stream::iter([Ok(batch)]))
                .try_collect()
                .await
                .unwrap();
            // The record batch's body starts with its first buffer (the validity bitmap): 8
            // bytes of uncompressed length, then the compressed bytes.
            let last = data.last_mut().unwrap();
            let mut body = last.data_body.to_vec();
            assert!(body.len() > 8, "{what}: no compressed body");
            body[..8].copy_from_slice(&(1i64 << 62).to_le_bytes());
            last.data_body = body.into();

            let outcome = put(&mut c, command, data).await;
            assert!(alive(&mut server), "{what}: the server died");
            assert_refused(outcome, &what, "uncompressed");
            answers_select_one(&server).await;
        }
    }
}

/// Decodes a hex string (the messages below).
fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// A prepared statement `SELECT $1` on `c`: the command a DoPut of its parameters names.
async fn prepare_select_parameter(
    c: &mut arrow_flight::sql::client::FlightSqlServiceClient<tonic::transport::Channel>,
) -> arrow_flight::sql::CommandPreparedStatementQuery {
    use arrow_flight::Action;
    use arrow_flight::sql::{
        ActionCreatePreparedStatementRequest, ActionCreatePreparedStatementResult, Any,
        CommandPreparedStatementQuery, ProstMessageExt,
    };
    use futures::TryStreamExt;
    use prost::Message;
    let request = ActionCreatePreparedStatementRequest {
        query: "SELECT $1".into(),
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
    CommandPreparedStatementQuery {
        prepared_statement_handle: created.prepared_statement_handle,
    }
}

/// flight_requests: malformed Arrow IPC messages (IPC header, body; hex) as the parameter
/// values of a prepared statement, minimised from what the fuzzer found. arrow-ipc 59 (and
/// arrow-buffer under it) panics on each instead of returning an error.
const MALFORMED_IPC: &[(&str, &[(&str, &str)])] = &[
    (
        "a schema field of type Int with bit width 0 (arrow-ipc convert.rs:332, panic!)",
        &[(
            "1000000000000a000c000a00090004000a000000100000000001040008000800000004000800000004000000020000004000000004000000d8ffffff180000000c000000000001051000000000000000040004000400000001000000620000001000140010000e000f00040000000800100000001800000020000000000001021c0000000800000c040b0800000000009f0412ff7879277a000000000000000000000000",
            "",
        )],
    ),
    (
        "a schema field of type NONE (arrow-ipc convert.rs:514, unimplemented!)",
        &[(
            "1000000000000a000c000a00090004000a00000010000000000104000800080000000400080000000400000002000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000007879277a0000000000000000000000000000000000000000000000000000000000000000018000005d0254494d455354414dff00000000000000000000000000",
            "",
        )],
    ),
    (
        "a schema without a field list (arrow-ipc convert.rs:198, unwrap on None)",
        &[(
            "1000000000000a000c000a00090004000a00000010000000000104000800080000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000100000000300000000000000000000000400000003000000000000000000000000000000000002000000020000000200000000000000000000000000000000000000000000000000000000777777777f7700000000000000000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000692e3031320000",
            "",
        )],
    ),
    (
        "a Date field with an unknown unit (arrow-ipc convert.rs:362, panic!)",
        &[(
            "1000000000000a000c000a00090004000a00000010000000000104000800080000000400080000000400000004000000a40000006800000030000000040000007cffffff140000000c0000000000000b10000000000000006affffff008002000100000069000000a4ffffff140000000c000000000000010c00000000000000ccffffff010000006e0000001000140010000e000f0004000000080010000000180000000c0000000000010410000000000000000400040004000000010000006200000010001400100000000f00040000000800100000001c0000000c0000000000000818000000000000000000060008000600060000000000fff60100000064000000",
            "",
        )],
    ),
    (
        "a Timestamp field with an unknown unit (arrow-ipc convert.rs:390, panic!)",
        &[(
            "1000000000000a000c000a00090004000a000000100000000001040008000800000004000800000004000000030000009000000048000000040000008cffffff1c0000000c0000000000000a280000000000000008000c002e000400080000000800000000000200060000002b30323a303000000100000074000000ccffffff1c0000000c000000000000071c0000000000000008000c000800040008000000020000000a000000010000006500000010001400100000000f0004000000080010000000180000000c00000000000005100000000000000004000400040000000100000064000000",
            "",
        )],
    ),
    (
        "an Interval field with an unknown unit (arrow-ipc convert.rs:401, panic!)",
        &[(
            "1000000000000a000c000a00090004000a00000010000000000104000800080000000400080000000400000004000000a40000006800000030000000040000007cffffff140000000c0000000000000b10000000000000006affffff000280000100000069000000a4ffffff140000000c000000000000010c00000000000000ccffffff010000006e0000001000140010000e000f0004000000080010000000180000000c0000000000010410000000000000000400040004000000010000006200000010001400100000000f00040000000800100000001c0000000c000000000000081800000000000000000006000800060006000000000000000100000064000000",
            "",
        )],
    ),
    (
        "a record batch whose buffer lies past the body (arrow-buffer immutable.rs:287, assert!)",
        &[
            (
                "1000000000000a000c000a00090004000a000000100000000001040008000800000004000800000004000000030000009000000048000000040000008cffffff1c0000000c0000000000000a280000000000000008000c000a000400080000000800000000000200060000002b30323a303000000100000074000000ccffffff1c0000000c000000000000071c0000000000000008000c000800040008000000020000000a000000010000006500000010001400100000000f0004000000080010000000180000000c00000000000005100000000000000004000400040000000100000064000000",
                "",
            ),
            (
                "100000000c001a0018001700040008000c000000200000000001000000000000000000000000000304000a0018000c00080004000a0000004c000000100000000300000000000000000000000300000003000000000000000000000000000000030000000000000000000000000000000300000000000000000000000000000000000000070000000000000000000000000000000000000000000000000000001000000000000000400000000000000003000000000000008000000000000000000000000000000080000000000000003000000000000000bffe0000000000000000000000000000c0000000000000001800000000000000",
                "",
            ),
        ],
    ),
    (
        "a record batch whose validity bitmap is shorter than its length (arrow-buffer boolean.rs:128, assert!)",
        &[
            (
                "1000000000000a000c000a00090004000a000000100000000001040008000800000004000800000004000000020000004000000004000000d8ffffff180000000c000000000001051000000000000000040004000400000001000000620000001000140010000e000f00040000000800100000001800000020000000000001021c00000008000c0004000b00080000004000000000000001000000000100000061000000",
                "",
            ),
            (
                "100000000c001a0018001700040008000c000000200000004001000000000000000000000000000304000a0018000c00080004000a0000003c000000100000000300000000000000000000000200000003000000000000000100000000000000030000030000000001000000000000000000000005000000000000000000000001000000000000004000000000000000180000000000000080000000000000000100000000000000c000000000000000100000000000000000010000000000000400000000000000",
                "0500000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001000000000000000000000000000000030000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000030000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001000000040000000100000000000003040000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000007879277a000000000000000000f7ff0000000000000000000000000000000000000000000000000000000000000000000000000000000000",
            ),
        ],
    ),
];

/// Each malformed upload fails that DoPut with a clear INVALID_ARGUMENT, as parameter values
/// and as a bulk ingest; the server lives on and serves the next client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_ipc_uploads_fail_the_put_not_the_server() {
    use arrow_flight::sql::ProstMessageExt;
    use prost::Message;

    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path());
    for (what, messages) in MALFORMED_IPC {
        for ingest in [false, true] {
            let what = format!("{what} ({})", if ingest { "ingest" } else { "parameters" });
            let mut c = client(&server, None).await;
            let command = if ingest {
                ingest_command()
            } else {
                prepare_select_parameter(&mut c)
                    .await
                    .as_any()
                    .encode_to_vec()
            };
            let data: Vec<FlightData> = messages
                .iter()
                .map(|(header, body)| {
                    FlightData::new()
                        .with_data_header(unhex(header))
                        .with_data_body(unhex(body))
                })
                .collect();
            let outcome = put(&mut c, command, data).await;
            assert!(alive(&mut server), "{what}: the server died");
            assert_refused(outcome, &what, "invalid upload");
            // The same client goes on: it can prepare a statement.
            prepare_select_parameter(&mut c).await;
            answers_select_one(&server).await;
        }
    }
}

/// flight_requests: a Decimal128 parameter value whose scale (5) exceeds its precision (2),
/// which IPC decoding lets through. Binding it into the statement (`sql::params::bind`, through
/// DataFusion's unparser into arrow-data's decimal formatting) panicked: "attempt to subtract
/// with overflow" at arrow-data decimal.rs:1169 with overflow checks, an out-of-range
/// `split_at` without. Minimised by hand from the fuzzer's input (a DoPut whose schema declares
/// such a decimal).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decimal_parameter_with_scale_above_its_precision_is_a_clean_error() {
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, Decimal128Array, RecordBatch};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path());
    let mut c = client(&server, None).await;
    let mut prepared = c.prepare("SELECT $1".into(), None).await.unwrap();
    let decimal = DataType::Decimal128(2, 5);
    let values: ArrayRef =
        Arc::new(Decimal128Array::from(vec![1_234_567i128]).with_data_type(decimal.clone()));
    let schema = Arc::new(Schema::new(vec![Field::new("$1", decimal.clone(), true)]));
    let batch = RecordBatch::try_new(schema, vec![values]).unwrap();
    prepared.set_parameters(batch).unwrap();
    let outcome = prepared.execute().await;
    assert!(alive(&mut server), "the server died");
    assert_refused(
        outcome.map(|_| ()).map_err(|e| format!("{e:?}")),
        "a decimal(2, 5) parameter",
        "scale",
    );
    answers_select_one(&server).await;

    // The same column as a bulk ingest.
    let values: ArrayRef =
        Arc::new(Decimal128Array::from(vec![1_234_567i128]).with_data_type(decimal.clone()));
    let schema = Arc::new(Schema::new(vec![Field::new("d", decimal, true)]));
    let batch = RecordBatch::try_new(schema, vec![values]).unwrap();
    let outcome = put(&mut c, ingest_command(), encode(batch).await).await;
    assert!(alive(&mut server), "the server died");
    assert_refused(outcome, "a decimal(2, 5) column to ingest", "scale");
    answers_select_one(&server).await;
}

/// `batch` as the FlightData messages of an upload (schema, then the batch).
async fn encode(batch: datafusion::arrow::array::RecordBatch) -> Vec<FlightData> {
    use arrow_flight::encode::FlightDataEncoderBuilder;
    use futures::TryStreamExt;
    FlightDataEncoderBuilder::new()
        .build(futures::stream::iter([Ok(batch)]))
        .try_collect()
        .await
        .unwrap()
}

/// The server's peak resident memory, in bytes (Linux: VmHWM).
fn peak_memory(server: &Server) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id())).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb * 1024
}

/// flight_requests: parameter values whose batch declares 2^24 rows of a Null column (a
/// column type without buffers, so the message is a few hundred bytes). The server turned
/// every declared row into a row of values (`parameter_rows`), and then the statement into a
/// UNION of one statement per row, without a bound: the fuzzer's input (2^40-odd rows)
/// exhausted memory. The put must be refused at once, cheaply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parameter_batch_declaring_millions_of_rows_is_refused_cheaply() {
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, NullArray, RecordBatch};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path());
    let mut c = client(&server, None).await;
    let mut prepared = c.prepare("SELECT $1".into(), None).await.unwrap();
    let nulls: ArrayRef = Arc::new(NullArray::new(1 << 24));
    let schema = Arc::new(Schema::new(vec![Field::new("$1", DataType::Null, true)]));
    prepared
        .set_parameters(RecordBatch::try_new(schema, vec![nulls]).unwrap())
        .unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(60), prepared.execute())
        .await
        .expect("binding 2^24 parameter rows still ran after a minute");
    assert!(alive(&mut server), "the server died");
    assert_refused(
        outcome.map(|_| ()).map_err(|e| format!("{e:?}")),
        "2^24 parameter rows",
        "at most 10000 rows",
    );
    let peak = peak_memory(&server);
    assert!(
        peak < 1 << 30,
        "refusing the parameters took {} MiB",
        peak >> 20
    );
    answers_select_one(&server).await;
}

/// A bulk ingest whose batch declares more rows than an upload may (2^24 + 1 of a Null
/// column: no buffers, a message of a few hundred bytes) is refused before it is decoded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ingest_batch_declaring_too_many_rows_is_refused() {
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, NullArray, RecordBatch};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path());
    let mut c = client(&server, None).await;
    let nulls: ArrayRef = Arc::new(NullArray::new((1 << 24) + 1));
    let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Null, true)]));
    let batch = RecordBatch::try_new(schema, vec![nulls]).unwrap();
    let outcome = put(&mut c, ingest_command(), encode(batch).await).await;
    assert!(alive(&mut server), "the server died");
    assert_refused(outcome, "2^24 + 1 rows to ingest", "at most 16777216");
    answers_select_one(&server).await;
}

/// sql_front_end (run 10 in fuzz/README.md): a dotted name of many parts inside an unclosed
/// parenthesis takes time doubling with each part to be refused: the fuzzer's 149-byte input
/// took 28 s, and `SELECT(a.b.….z..x` (26 parts) took 89 s in the debug binary before its
/// syntax error (19 parts 0.9 s, 20 parts 1.5 s). The doubling is sqlparser 0.62's
/// `parse_compound_expr`, which re-parses the rest of the chain after every `.` under a
/// rollback (fixed upstream in apache/datafusion-sqlparser-rs#2344, not in the version
/// DataFusion 55 pins). Apiary refuses dotted names of more than 16 parts on the tokens,
/// before parsing: the statement must get that error within seconds.
#[test]
fn a_long_dotted_name_in_an_unclosed_parenthesis_fails_fast() {
    use std::process::Stdio;
    use std::time::Instant;

    let dir = tempfile::tempdir().unwrap();
    let parts: Vec<String> = (b'a'..=b'z').map(|c| char::from(c).to_string()).collect();
    let sql = format!("SELECT({}..x", parts.join("."));
    let err_path = dir.path().join("stderr");
    let mut child = super::apiary()
        .arg("--warehouse")
        .arg(dir.path().join("warehouse"))
        .args(["-e", &sql])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{sql:?} still parsing after 20 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success(), "{sql:?} is not valid SQL");
    let err = std::fs::read_to_string(&err_path).unwrap();
    assert!(err.contains("a dotted name of more than 16 parts"), "{err}");
    // Names of a few parts are as before.
    let o = super::apiary()
        .arg("--warehouse")
        .arg(dir.path().join("warehouse"))
        .args([
            "-S",
            "-e",
            "SELECT default.pageads.pageid FROM default.pageads LIMIT 1",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}
