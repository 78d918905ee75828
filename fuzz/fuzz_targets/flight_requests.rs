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
//!   decoded as a command; the messages become parameter rows through the server's own
//!   `apiary::server::prepared::parameter_rows` (its checks of the IPC headers, arrow-ipc's
//!   decoder as the server contains it, the bounds on rows and bytes); the rows are bound into
//!   `SELECT $1, ..., $n` (`apiary::sql::params::bind`, the prepared-statement path) and
//!   planned. The same messages go through `apiary::server::upload::ClientBatches` (what bulk
//!   ingest decodes with) and their types through the ingest's Hive type mapping.
//! - 4: an `authorization` header for the Basic-auth handshake.
//!
//! The service, a session and a tokio runtime are built once per process on one worker thread
//! with the statement stack; each input is handed to that thread.
//!
//! A panic is a crash (libfuzzer-sys's hook aborts), except one that the server itself
//! contains: arrow-ipc's decoder panicking inside `ClientBatches`, which catches it and fails
//! the upload with INVALID_ARGUMENT (the server's checks before decoding aim to leave none).

#![no_main]

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, OnceLock};

use apiary::ApiaryContext;
use apiary::server::auth::{Authenticator, Credentials};
use apiary::server::prepared::parameter_rows;
use apiary::server::service::{ApiaryFlightSql, Limits};
use apiary::server::upload::ClientBatches;
use apiary::sql::hive_types::{hive_type_name, parse_hive_type};
use apiary::sql::parse::ParsedStatement;
use apiary::warehouse::Warehouse;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::sql::{ActionCreatePreparedStatementResult, Any, Command, ProstMessageExt};
use arrow_flight::{Action, FlightData, FlightDescriptor, Ticket};
use bytes::Buf;
use datafusion::common::ScalarValue;
use futures::StreamExt;
use libfuzzer_sys::fuzz_target;
use prost::Message;
use tonic::{Request, Status};

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

/// Lets the panics that `ClientBatches` catches unwind to it; every other panic aborts.
fn tolerate_contained_panics() {
    let abort = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let trace = std::backtrace::Backtrace::force_capture().to_string();
        if !trace.contains("ClientBatches") {
            abort(info);
        }
    }));
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
    tolerate_contained_panics();
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
            // No peer: the throttle (tested elsewhere) would refuse most inputs unparsed.
            let _ = f.auth.login(&String::from_utf8_lossy(rest), None);
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
    // Bulk ingest's decoding: every batch, and the types of the columns.
    let mut uploaded = ClientBatches::new(futures::stream::iter(
        messages.clone().into_iter().map(Ok::<_, Status>),
    ));
    while let Some(Ok(batch)) = uploaded.next().await {
        for field in batch.schema().fields() {
            let _ = parse_hive_type(&hive_type_name(field.data_type()));
        }
    }
    // Prepared-statement parameters, as the server reads them.
    let stream = futures::stream::iter(messages.into_iter().map(Ok::<_, Status>));
    let Ok(rows) = parameter_rows(stream).await else {
        return;
    };
    bind_and_plan(f, &rows).await;
}

/// Binds parameter rows into `SELECT $1, ..., $n` and plans the result, as a prepared query
/// with those values would be.
async fn bind_and_plan(f: &Fixture, rows: &[Vec<ScalarValue>]) {
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
