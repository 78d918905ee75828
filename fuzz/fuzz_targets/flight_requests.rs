//! Arbitrary bytes as the Flight SQL server's requests. The first byte picks what the rest is:
//!
//! - 0: a `FlightDescriptor` command: `Any` decode and `Command::try_from`, as arrow-flight's
//!   dispatch does; commands that would run SQL are only decoded, the others (catalog
//!   metadata, prepared-statement handles) go to the real service's `GetFlightInfo`.
//! - 1: a `Ticket`, to the real service's `DoGet` (which never starts a new query), its stream
//!   drained.
//! - 2: an action body, to the real service's `DoAction` under the action type the next byte
//!   picks (CancelFlightInfo, CancelQuery, CreatePreparedStatement — planned, never run — ...);
//!   a prepared statement it creates is closed again.
//! - 3: a DoPut stream: length-delimited `FlightData` messages. The first one's descriptor is
//!   decoded as a command; the messages go through `FlightRecordBatchStream` and become
//!   parameter rows exactly as `apiary::server::prepared::parameter_rows` makes them (that
//!   function takes tonic's stream type, so its loop is copied here); the rows are bound into
//!   `SELECT $1, ..., $n` (`apiary::sql::params::bind`, the prepared-statement path) and
//!   planned, and the batches' types go through the ingest's Hive type mapping.
//! - 4: an `authorization` header for the Basic-auth handshake.
//!
//! The service, a session and a tokio runtime are built once per process on one worker thread
//! with the statement stack; each input is handed to that thread.

#![no_main]

use std::cell::Cell;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, OnceLock};

use apiary::ApiaryContext;
use apiary::server::auth::{Authenticator, Credentials};
use apiary::server::service::{ApiaryFlightSql, Limits};
use apiary::sql::hive_types::{hive_type_name, parse_hive_type};
use apiary::sql::parse::ParsedStatement;
use apiary::warehouse::Warehouse;
use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::sql::{ActionCreatePreparedStatementResult, Any, Command, ProstMessageExt};
use arrow_flight::{Action, FlightData, FlightDescriptor, Ticket};
use bytes::Buf;
use datafusion::arrow::ipc::root_as_message;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;
use futures::{FutureExt, StreamExt, TryStreamExt};
use libfuzzer_sys::fuzz_target;
use prost::Message;
use tonic::Request;

/// The action types `DoAction` knows (and one it does not).
const ACTIONS: &[&str] = &[
    "CancelFlightInfo",
    "CancelQuery",
    "CreatePreparedStatement",
    "ClosePreparedStatement",
    "CreatePreparedSubstraitPlan",
    "BeginTransaction",
    "EndTransaction",
    "BeginSavepoint",
    "EndSavepoint",
    "RenewFlightEndpoint",
    "NoSuchAction",
];

/// Most FlightData messages one input may hold (a real stream is bounded by its bytes too).
const MAX_MESSAGES: usize = 64;

/// The largest uncompressed length a compressed IPC buffer may declare (unless
/// `FUZZ_IPC_STRICT`): larger ones make arrow-ipc abort on a failed allocation.
const MAX_DECLARED_LENGTH: i64 = 64 << 20;

/// The most parameter rows converted (unless `FUZZ_IPC_STRICT`; see the module docs).
const MAX_ROWS: usize = 1 << 16;

thread_local! {
    /// Set while arrow-ipc decodes: a panic then is a known upstream bug, not a crash.
    static IN_IPC_DECODE: Cell<bool> = const { Cell::new(false) };
}

/// Whether known upstream bugs abort the run (`FUZZ_IPC_STRICT`) or are stepped around.
fn strict() -> bool {
    std::env::var_os("FUZZ_IPC_STRICT").is_some()
}

/// Lets panics inside arrow-ipc's decoder unwind to `catch_unwind` instead of aborting
/// (libfuzzer-sys's hook aborts on every panic); every other panic still aborts.
fn tolerate_ipc_decoder_panics() {
    if strict() {
        return;
    }
    let abort = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !IN_IPC_DECODE.with(Cell::get) {
            abort(info);
        }
    }));
}

/// Whether a message holds a compressed buffer that declares more than
/// [`MAX_DECLARED_LENGTH`] bytes uncompressed.
fn declares_huge_buffer(d: &FlightData) -> bool {
    let Ok(message) = root_as_message(&d.data_header) else {
        return false;
    };
    let Some(batch) = message
        .header_as_record_batch()
        .or_else(|| message.header_as_dictionary_batch().and_then(|b| b.data()))
    else {
        return false;
    };
    if batch.compression().is_none() {
        return false;
    }
    batch.buffers().is_some_and(|buffers| {
        buffers.iter().any(|b| {
            usize::try_from(b.offset())
                .ok()
                .and_then(|start| d.data_body.get(start..start.checked_add(8)?))
                .and_then(|prefix| <[u8; 8]>::try_from(prefix).ok())
                .is_some_and(|prefix| i64::from_le_bytes(prefix) > MAX_DECLARED_LENGTH)
        })
    })
}

struct Fixture {
    service: ApiaryFlightSql,
    ctx: ApiaryContext,
    auth: Authenticator,
}

struct Worker {
    inputs: SyncSender<Vec<u8>>,
    done: Receiver<()>,
}

static WORKER: OnceLock<Mutex<Worker>> = OnceLock::new();

fn start() -> Mutex<Worker> {
    let (inputs, rx) = sync_channel::<Vec<u8>>(0);
    let (tx, done) = sync_channel::<()>(0);
    tolerate_ipc_decoder_panics();
    std::thread::Builder::new()
        .name("statement".into())
        .stack_size(apiary::exec::STATEMENT_STACK_SIZE)
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let fixture = runtime.block_on(async {
                let warehouse = Arc::new(Warehouse::temporary().unwrap());
                let credentials = Credentials {
                    token: None,
                    user: Some(("alice".into(), "secret".into())),
                };
                Fixture {
                    service: ApiaryFlightSql::new(
                        Arc::clone(&warehouse),
                        Arc::new(Authenticator::new(Credentials::default())),
                        Limits::default(),
                    )
                    .unwrap(),
                    ctx: ApiaryContext::with_warehouse(Default::default(), warehouse)
                        .await
                        .unwrap(),
                    auth: Authenticator::new(credentials),
                }
            });
            for data in rx {
                runtime.block_on(one_request(&fixture, &data));
                if tx.send(()).is_err() {
                    break;
                }
            }
        })
        .unwrap();
    Mutex::new(Worker { inputs, done })
}

async fn one_request(f: &Fixture, data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 5 {
        0 => descriptor(f, rest).await,
        1 => ticket(f, rest).await,
        2 => action(f, rest).await,
        3 => put_stream(f, rest).await,
        _ => {
            let _ = f.auth.login(&String::from_utf8_lossy(rest));
        }
    }
}

/// Whether GetFlightInfo would run SQL for this command (those are decoded only).
fn runs_sql(command: &Command) -> bool {
    matches!(
        command,
        Command::CommandStatementQuery(_)
            | Command::CommandStatementSubstraitPlan(_)
            | Command::CommandStatementUpdate(_)
            | Command::CommandStatementIngest(_)
            | Command::CommandPreparedStatementUpdate(_)
    )
}

async fn descriptor(f: &Fixture, cmd: &[u8]) {
    let Ok(any) = Any::decode(cmd) else {
        return;
    };
    let Ok(command) = Command::try_from(any) else {
        return;
    };
    if runs_sql(&command) {
        return;
    }
    let request = Request::new(FlightDescriptor::new_cmd(cmd.to_vec()));
    let _ = f.service.get_flight_info(request).await;
}

async fn ticket(f: &Fixture, ticket: &[u8]) {
    let request = Request::new(Ticket::new(ticket.to_vec()));
    if let Ok(response) = f.service.do_get(request).await {
        let mut stream = response.into_inner();
        while let Some(item) = stream.next().await {
            if item.is_err() {
                break;
            }
        }
    }
}

async fn action(f: &Fixture, rest: &[u8]) {
    let Some((&kind, body)) = rest.split_first() else {
        return;
    };
    let action_type = ACTIONS[usize::from(kind) % ACTIONS.len()];
    let request = Request::new(Action::new(action_type, body.to_vec()));
    let Ok(response) = f.service.do_action(request).await else {
        return;
    };
    let mut stream = response.into_inner();
    while let Some(item) = stream.next().await {
        let Ok(result) = item else { break };
        // Close what was created, so handles do not pile up over millions of inputs.
        if action_type == "CreatePreparedStatement"
            && let Ok(any) = Any::decode(result.body)
            && let Ok(Some(created)) = any.unpack::<ActionCreatePreparedStatementResult>()
        {
            let close = arrow_flight::sql::ActionClosePreparedStatementRequest {
                prepared_statement_handle: created.prepared_statement_handle,
            };
            let request = Request::new(Action::new(
                "ClosePreparedStatement",
                close.as_any().encode_to_vec(),
            ));
            let _ = f.service.do_action(request).await;
        }
    }
}

/// Splits `bytes` into length-delimited `FlightData` messages (as gRPC frames them).
fn messages(mut bytes: &[u8]) -> Vec<FlightData> {
    let mut out = Vec::new();
    while bytes.has_remaining() && out.len() < MAX_MESSAGES {
        match FlightData::decode_length_delimited(&mut bytes) {
            Ok(m) => out.push(m),
            Err(_) => break,
        }
    }
    out
}

async fn put_stream(f: &Fixture, bytes: &[u8]) {
    let messages = messages(bytes);
    if let Some(d) = messages.first().and_then(|m| m.flight_descriptor.as_ref())
        && let Ok(any) = Any::decode(d.cmd.clone())
    {
        let _ = Command::try_from(any);
    }
    if !strict() && messages.iter().any(declares_huge_buffer) {
        return;
    }
    // `parameter_rows`: messages without an IPC header (a descriptor alone) are skipped.
    let stream = futures::stream::iter(messages.into_iter().map(Ok::<_, FlightError>))
        .try_filter(|d| futures::future::ready(!d.data_header.is_empty()));
    let decode =
        FlightRecordBatchStream::new_from_flight_data(stream).try_collect::<Vec<RecordBatch>>();
    IN_IPC_DECODE.with(|f| f.set(true));
    let decoded = AssertUnwindSafe(decode).catch_unwind().await;
    IN_IPC_DECODE.with(|f| f.set(false));
    let Ok(Ok(batches)) = decoded else {
        return;
    };
    if !strict()
        && batches
            .iter()
            .fold(0usize, |n, b| n.saturating_add(b.num_rows()))
            > MAX_ROWS
    {
        return;
    }
    let mut rows = Vec::new();
    for batch in &batches {
        for field in batch.schema().fields() {
            let _ = parse_hive_type(&hive_type_name(field.data_type()));
        }
        for i in 0..batch.num_rows() {
            match batch
                .columns()
                .iter()
                .map(|c| ScalarValue::try_from_array(c, i))
                .collect::<datafusion::common::Result<Vec<_>>>()
            {
                Ok(row) => rows.push(row),
                Err(_) => return,
            }
        }
    }
    bind_and_plan(f, &rows).await;
}

/// Whether a value is a decimal whose scale exceeds its precision (see the module docs).
fn impossible_decimal(value: &ScalarValue) -> bool {
    let (precision, scale) = match value {
        ScalarValue::Decimal32(_, p, s) | ScalarValue::Decimal64(_, p, s) => (*p, *s),
        ScalarValue::Decimal128(_, p, s) | ScalarValue::Decimal256(_, p, s) => (*p, *s),
        _ => return false,
    };
    i16::from(scale) > i16::from(precision)
}

/// Binds parameter rows into `SELECT $1, ..., $n` and plans the result, as a prepared query
/// with those values would be.
async fn bind_and_plan(f: &Fixture, rows: &[Vec<ScalarValue>]) {
    if !strict() && rows.iter().flatten().any(impossible_decimal) {
        return;
    }
    let Some(width) = rows.first().map(Vec::len) else {
        return;
    };
    if width == 0 || rows.iter().any(|r| r.len() != width) {
        return;
    }
    let columns: Vec<String> = (1..=width).map(|n| format!("${n}")).collect();
    let sql = format!("SELECT {}", columns.join(", "));
    let Ok(mut parsed) = f.ctx.parse(&sql) else {
        return;
    };
    let Some(statement) = parsed.pop() else {
        return;
    };
    let Ok(ParsedStatement::Sql(bound)) = apiary::sql::params::bind(statement, rows) else {
        return;
    };
    let state = f.ctx.session().state();
    if let Ok(plan) = state.statement_to_plan(bound).await {
        let _ = state.optimize(&plan);
    }
}

fuzz_target!(|data: &[u8]| {
    let worker = WORKER.get_or_init(start).lock().unwrap();
    worker.inputs.send(data.to_vec()).unwrap();
    worker.done.recv().unwrap();
});
