//! Apiary's Flight SQL service: every statement goes through [`ApiaryContext::execute`], the
//! same entry point as the CLI, in the calling client's own session.
//!
//! Every statement — substitution, parsing, planning, DDL and DML, execution, and the metadata
//! calls that read a session or the metastore — runs on the [`QueryPool`], apart from the
//! runtime that serves gRPC, within `--query-timeout`; the gRPC side only waits for it. When
//! the caller goes away (the client cancels, disconnects or is killed, the timeout fires, the
//! server shuts down) the statement's task is aborted.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::sql::DoPutPreparedStatementResult;
use arrow_flight::sql::metadata::{SqlInfoData, SqlInfoDataBuilder, XdbcTypeInfoData};
use arrow_flight::sql::server::{FlightSqlService, PeekableFlightDataStream};
use arrow_flight::sql::{
    ActionCancelQueryRequest, ActionCancelQueryResult, ActionClosePreparedStatementRequest,
    ActionCreatePreparedStatementRequest, ActionCreatePreparedStatementResult, CommandGetCatalogs,
    CommandGetDbSchemas, CommandGetPrimaryKeys, CommandGetSqlInfo, CommandGetTableTypes,
    CommandGetTables, CommandGetXdbcTypeInfo, CommandPreparedStatementQuery,
    CommandPreparedStatementUpdate, CommandStatementIngest, CommandStatementQuery,
    CommandStatementUpdate, ProstMessageExt, SqlInfo, TicketStatementQuery,
};
use arrow_flight::{
    Action, CancelFlightInfoRequest, CancelFlightInfoResult, CancelStatus, FlightDescriptor,
    FlightEndpoint, FlightInfo, HandshakeRequest, HandshakeResponse, Ticket,
};
use datafusion::arrow::datatypes::Schema;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::prelude::SessionConfig;
use futures::{Stream, StreamExt, TryStreamExt};
use prost::Message;
use tonic::{Request, Response, Status, Streaming};

use super::auth::Authenticator;
use super::ingest;
use super::prepared::{ParameterRows, PreparedStatements, parameter_rows, parameter_schema};
use super::sessions::{MAX_SESSIONS, SESSION_IDLE_TTL, Sessions};
use super::upload::{ClientBatches, check_types};
use crate::error::ApiaryError;
use crate::exec::pool::{PoolStream, QueryPool, STOPPED};
use crate::session::{ApiaryContext, SessionOptions, StatementOutput};
use crate::warehouse::Warehouse;
use crate::warehouse::catalog::CATALOG_NAME;

type DoGetStream = Pin<Box<dyn Stream<Item = Result<arrow_flight::FlightData, Status>> + Send>>;

/// How long a statement handle (a query planned by GetFlightInfo, not yet fetched) lives.
const HANDLE_TTL: Duration = Duration::from_secs(300);

/// One client's session.
type Session = Arc<tokio::sync::Mutex<ApiaryContext>>;

/// Query results one session may leave unfetched at once (statement tickets not yet passed
/// to DoGet); one more is RESOURCE_EXHAUSTED.
pub const MAX_PENDING_PER_SESSION: usize = 32;

/// A planned query waiting for its DoGet.
struct Pending {
    /// The session that planned it: only it may fetch or cancel it.
    session: String,
    stream: SendableRecordBatchStream,
    created: Instant,
    /// When `--query-timeout` cancels it.
    deadline: Option<tokio::time::Instant>,
}

/// How to stop a query being streamed.
struct Cancel {
    notify: tokio::sync::Notify,
    abort: tokio::task::AbortHandle,
}

impl Cancel {
    /// Stops the query's work now; its stream ends with CANCELLED.
    fn cancel(&self) {
        self.notify.notify_one();
        self.abort.abort();
    }
}

/// A query being streamed: its session and how to stop it.
struct Running {
    session: String,
    cancel: std::sync::Weak<Cancel>,
}

/// Limits on the server's work.
#[derive(Debug, Clone, Default)]
pub struct Limits {
    /// Queries running at once; more wait up to [`QUEUE_WAIT`], then RESOURCE_EXHAUSTED.
    pub max_concurrent_queries: Option<usize>,
    /// Longest a statement may run (planning, execution and streaming).
    pub query_timeout: Option<Duration>,
    /// DataFusion's memory pool, in bytes, shared by every session.
    pub memory_limit: Option<usize>,
    /// Directories clients may read and write beside the warehouse (`--allow-path`).
    pub allowed_paths: Vec<std::path::PathBuf>,
    /// Whether `${env:NAME}` reads the server's environment (`--allow-env`).
    pub allow_env: bool,
}

/// How long a statement waits for a free slot under `--max-concurrent-queries`.
pub const QUEUE_WAIT: Duration = Duration::from_secs(10);

/// The Flight SQL service.
pub struct ApiaryFlightSql {
    warehouse: Arc<Warehouse>,
    auth: Arc<Authenticator>,
    /// Each client connection's session.
    sessions: Sessions<tokio::sync::Mutex<ApiaryContext>>,
    /// Planned queries waiting for their DoGet, by handle.
    pending: Arc<Mutex<HashMap<String, Pending>>>,
    prepared: PreparedStatements,
    /// Queries being streamed, by handle.
    running: Mutex<HashMap<String, Running>>,
    /// Where statements run.
    pool: QueryPool,
    sql_info: SqlInfoData,
    type_info: XdbcTypeInfoData,
    /// The memory every session draws from (`--memory-limit`).
    memory_pool: Option<Arc<dyn datafusion::execution::memory_pool::MemoryPool>>,
    /// What clients may touch: the warehouse and the `--allow-path` directories.
    file_access: Arc<crate::security::FileAccess>,
    slots: Option<Arc<tokio::sync::Semaphore>>,
    limits: Limits,
}

impl std::fmt::Debug for ApiaryFlightSql {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiaryFlightSql").finish_non_exhaustive()
    }
}

/// An engine error as a gRPC status: the user's mistakes are INVALID_ARGUMENT, the rest
/// INTERNAL; the message is the engine's.
pub(super) fn to_status(e: ApiaryError) -> Status {
    match &e {
        ApiaryError::Io { .. } => Status::internal(e.to_string()),
        ApiaryError::DataFusion(d) if is_internal(d) => Status::internal(e.to_string()),
        _ => Status::invalid_argument(e.to_string()),
    }
}

fn is_internal(e: &datafusion::error::DataFusionError) -> bool {
    use datafusion::error::DataFusionError as E;
    matches!(
        e,
        E::Internal(_) | E::IoError(_) | E::ObjectStore(_) | E::ResourcesExhausted(_)
    )
}

pub(super) fn new_handle() -> String {
    use rand::Rng;
    let bytes: [u8; 16] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn flight_info(
    schema: &Schema,
    ticket: Vec<u8>,
    descriptor: FlightDescriptor,
) -> Result<FlightInfo, Status> {
    let endpoint = FlightEndpoint::new().with_ticket(Ticket::new(ticket));
    Ok(FlightInfo::new()
        .try_with_schema(schema)
        .map_err(|e| Status::internal(e.to_string()))?
        .with_endpoint(endpoint)
        .with_descriptor(descriptor))
}

/// The FlightInfo of a metadata command: its result schema, the command itself as the ticket.
fn metadata_info<T: ProstMessageExt>(
    schema: &Schema,
    command: &T,
    request: Request<FlightDescriptor>,
) -> Result<Response<FlightInfo>, Status> {
    let info = flight_info(
        schema,
        command.as_any().encode_to_vec(),
        request.into_inner(),
    )?;
    Ok(Response::new(info))
}

/// A metadata command's one batch, as a DoGet answer.
fn metadata_batch<E: std::fmt::Display>(
    schema: Arc<Schema>,
    batch: std::result::Result<RecordBatch, E>,
) -> Result<Response<DoGetStream>, Status> {
    let batch = batch.map_err(|e| Status::internal(e.to_string()))?;
    Ok(Response::new(batches_stream(schema, vec![batch])))
}

fn batches_stream(schema: Arc<Schema>, batches: Vec<RecordBatch>) -> DoGetStream {
    let stream = futures::stream::iter(batches.into_iter().map(Ok));
    let encoded = FlightDataEncoderBuilder::new()
        .with_schema(schema)
        .build(stream)
        .map_err(Status::from);
    Box::pin(encoded)
}

impl ApiaryFlightSql {
    /// A service over `warehouse`.
    pub fn new(
        warehouse: Arc<Warehouse>,
        auth: Arc<Authenticator>,
        limits: Limits,
    ) -> Result<Self, ApiaryError> {
        let mut info = SqlInfoDataBuilder::new();
        info.append(SqlInfo::FlightSqlServerName, "Apiary");
        info.append(SqlInfo::FlightSqlServerVersion, env!("CARGO_PKG_VERSION"));
        info.append(SqlInfo::FlightSqlServerArrowVersion, "1.3");
        info.append(SqlInfo::FlightSqlServerReadOnly, false);
        info.append(SqlInfo::FlightSqlServerSql, true);
        info.append(SqlInfo::FlightSqlServerSubstrait, false);
        info.append(SqlInfo::FlightSqlServerTransaction, 0i32);
        info.append(SqlInfo::FlightSqlServerCancel, true);
        info.append(SqlInfo::SqlIdentifierQuoteChar, "`");
        info.append(SqlInfo::SqlDdlCatalog, false);
        info.append(SqlInfo::SqlDdlSchema, true);
        info.append(SqlInfo::SqlDdlTable, true);
        let sql_info = info
            .build()
            .map_err(|e| ApiaryError::Usage(format!("SqlInfo: {e}")))?;
        let file_access = crate::security::FileAccess::confined(
            warehouse.root(),
            &limits.allowed_paths,
            crate::security::Confinement::Server,
        )?;
        Ok(Self {
            warehouse,
            auth,
            sessions: Sessions::new(SESSION_IDLE_TTL, MAX_SESSIONS),
            pending: Arc::new(Mutex::new(HashMap::new())),
            prepared: PreparedStatements::default(),
            running: Mutex::new(HashMap::new()),
            pool: QueryPool::with_available_parallelism("apiary-query")?,
            sql_info,
            type_info: super::type_info::xdbc_type_info()
                .map_err(|e| ApiaryError::Usage(format!("XdbcTypeInfo: {e}")))?,
            memory_pool: limits
                .memory_limit
                .map(crate::session::shared_memory_pool)
                .transpose()?,
            file_access,
            slots: limits
                .max_concurrent_queries
                .map(|n| Arc::new(tokio::sync::Semaphore::new(n.max(1)))),
            limits,
        })
    }

    /// The session of the client that sent `request`: its credentials and its connection.
    fn session_key<T>(request: &Request<T>) -> String {
        let token = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let peer = request
            .remote_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        format!("{token}|{peer}")
    }

    /// The session `key` names, opened (on the pool) if it is new.
    async fn session(
        &self,
        key: &str,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<Session, Status> {
        if let Some(s) = self.sessions.get(key)? {
            return Ok(s);
        }
        let open = ApiaryContext::open(
            Arc::clone(&self.warehouse),
            SessionOptions {
                config: SessionConfig::new(),
                memory_pool: self.memory_pool.clone(),
                file_access: Some(self.file_access.for_new_session()),
                environment: self.limits.allow_env,
            },
        );
        let ctx = self
            .in_pool(deadline, async move { open.await.map_err(to_status) })
            .await?;
        self.sessions.insert(key, tokio::sync::Mutex::new(ctx))
    }

    /// When a statement starting now must end (`--query-timeout`).
    fn deadline(&self) -> Option<tokio::time::Instant> {
        self.limits
            .query_timeout
            .map(|t| tokio::time::Instant::now() + t)
    }

    /// Runs `work` on the query pool and waits for it until `deadline`. The work is aborted
    /// when the deadline passes or when this call is dropped (the client went away, the server
    /// is stopping).
    async fn in_pool<T, F>(
        &self,
        deadline: Option<tokio::time::Instant>,
        work: F,
    ) -> Result<T, Status>
    where
        F: std::future::Future<Output = Result<T, Status>> + Send + 'static,
        T: Send + 'static,
    {
        let task = self.pool.spawn(work);
        let joined = match deadline {
            Some(at) => tokio::time::timeout_at(at, task)
                .await
                .map_err(|_| self.timeout_status())?,
            None => task.await,
        };
        match joined {
            Ok(result) => result,
            Err(e) if e.is_panic() => Err(Status::internal(
                "the statement failed: the engine panicked (a bug; please report it)",
            )),
            Err(_) => Err(Status::cancelled("the statement was cancelled")),
        }
    }

    /// A slot among the running queries: waits up to [`QUEUE_WAIT`] for one.
    async fn slot(&self) -> Result<Option<tokio::sync::OwnedSemaphorePermit>, Status> {
        let Some(slots) = &self.slots else {
            return Ok(None);
        };
        match tokio::time::timeout(QUEUE_WAIT, Arc::clone(slots).acquire_owned()).await {
            Ok(Ok(permit)) => Ok(Some(permit)),
            _ => Err(Status::resource_exhausted(format!(
                "the server is running its maximum of {} queries; try again later",
                self.limits.max_concurrent_queries.unwrap_or(0)
            ))),
        }
    }

    fn timeout_status(&self) -> Status {
        Status::deadline_exceeded(format!(
            "the statement ran longer than the server's --query-timeout ({} s) and was cancelled",
            self.limits.query_timeout.unwrap_or_default().as_secs_f64()
        ))
    }

    /// Runs one statement in the caller's session, with parameter rows bound when given, on
    /// the query pool until `deadline`.
    async fn run(
        &self,
        key: &str,
        sql: &str,
        parameters: Option<ParameterRows>,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<StatementOutput, Status> {
        let session = self.session(key, deadline).await?;
        let text = sql.trim().trim_end_matches(';').to_string();
        let output = self
            .in_pool(deadline, async move {
                let mut ctx = session.lock_owned().await;
                let output = match parameters {
                    None => ctx.execute(&text).await,
                    Some(rows) => ctx.execute_bound(&text, &rows).await,
                };
                output.map_err(to_status)
            })
            .await?;
        match output {
            StatementOutput::Source(_) => Err(Status::invalid_argument(
                "SOURCE runs scripts of the CLI; send the statements instead",
            )),
            other => Ok(other),
        }
    }

    fn forget_expired(&self) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.retain(|_, p| p.created.elapsed() < HANDLE_TTL);
        }
        self.prepared.forget_expired();
    }

    /// Refuses a new query result for session `key` when it has the most it may leave
    /// unfetched.
    fn check_pending_cap(&self, key: &str) -> Result<(), Status> {
        let pending = self
            .pending
            .lock()
            .map_err(|_| Status::internal("handle table poisoned"))?;
        room_for_pending(&pending, key)
    }

    /// Runs `sql` (with `parameters` bound) in session `key` and keeps its rows for one DoGet;
    /// the FlightInfo names them. A slot among the running queries is held while the
    /// statement runs here, and again by the DoGet that streams its rows.
    async fn plan_for_get(
        &self,
        key: String,
        sql: &str,
        parameters: Option<ParameterRows>,
        descriptor: FlightDescriptor,
    ) -> Result<FlightInfo, Status> {
        self.forget_expired();
        self.check_pending_cap(&key)?;
        let (output, deadline) = {
            let _slot = self.slot().await?;
            let deadline = self.deadline();
            (self.run(&key, sql, parameters, deadline).await?, deadline)
        };
        let stream: SendableRecordBatchStream = match output {
            StatementOutput::Rows(s) => s,
            _ => Box::pin(datafusion::physical_plan::EmptyRecordBatchStream::new(
                Arc::new(Schema::empty()),
            )),
        };
        self.keep_for_get(key, stream, deadline, descriptor)
    }

    /// Cancels the query a FlightInfo names, if session `key` planned it: a planned one is
    /// dropped, a streaming one stops.
    fn cancel(&self, info: &FlightInfo, key: &str) -> Result<CancelStatus, Status> {
        let mut found = false;
        for endpoint in &info.endpoint {
            let Some(ticket) = &endpoint.ticket else {
                continue;
            };
            let Ok(any) = arrow_flight::sql::Any::decode(ticket.ticket.clone()) else {
                continue;
            };
            let Ok(Some(query)) = any.unpack::<TicketStatementQuery>() else {
                continue;
            };
            let handle = String::from_utf8_lossy(&query.statement_handle).to_string();
            if let Ok(mut pending) = self.pending.lock()
                && pending.get(&handle).is_some_and(|p| p.session == key)
            {
                pending.remove(&handle);
                found = true;
                continue;
            }
            let cancel = self.running.lock().ok().and_then(|running| {
                running
                    .get(&handle)
                    .filter(|r| r.session == key)
                    .and_then(|r| r.cancel.upgrade())
            });
            if let Some(cancel) = cancel {
                cancel.cancel();
                found = true;
            }
        }
        if found {
            Ok(CancelStatus::Cancelled)
        } else {
            Err(Status::not_found(
                "no running or pending query of this session for that FlightInfo (finished, or \
                 never started)",
            ))
        }
    }

    /// Runs an update (with `parameters` bound); the rows it wrote (0 for DDL, -1 when
    /// unknown).
    async fn update(
        &self,
        key: &str,
        sql: &str,
        parameters: Option<ParameterRows>,
    ) -> Result<i64, Status> {
        let _slot = self.slot().await?;
        let deadline = self.deadline();
        match self.run(key, sql, parameters, deadline).await? {
            StatementOutput::Affected(n) => Ok(n as i64),
            StatementOutput::Rows(stream) => {
                // DataFusion's own DML answers a count.
                let batches: Vec<RecordBatch> = self
                    .in_pool(deadline, async move {
                        stream
                            .try_collect()
                            .await
                            .map_err(|e| to_status(ApiaryError::from(e)))
                    })
                    .await?;
                let rows = batches
                    .first()
                    .filter(|b| b.num_columns() == 1 && b.schema().field(0).name() == "count")
                    .and_then(|b| {
                        b.column(0)
                            .as_any()
                            .downcast_ref::<datafusion::arrow::array::UInt64Array>()
                            .map(|a| a.value(0) as i64)
                    });
                Ok(rows.unwrap_or(-1))
            }
            _ => Ok(0),
        }
    }

    /// Keeps a query's stream for one DoGet; its FlightInfo names it by a new handle.
    fn keep_for_get(
        &self,
        key: String,
        stream: SendableRecordBatchStream,
        deadline: Option<tokio::time::Instant>,
        descriptor: FlightDescriptor,
    ) -> Result<FlightInfo, Status> {
        let schema = stream.schema();
        let handle = new_handle();
        let mut pending = self
            .pending
            .lock()
            .map_err(|_| Status::internal("handle table poisoned"))?;
        // Checked again: statements of one session may have run side by side.
        room_for_pending(&pending, &key)?;
        pending.insert(
            handle.clone(),
            Pending {
                session: key,
                stream,
                created: Instant::now(),
                deadline,
            },
        );
        drop(pending);
        // DataFusion starts a query's partitions when its stream is made, so an unfetched
        // query may be computing: it is dropped (and stops) at its deadline or expiry.
        let expiry = tokio::time::Instant::now() + HANDLE_TTL;
        let expiry = deadline.map_or(expiry, |d| d.min(expiry));
        let table = Arc::downgrade(&self.pending);
        let expired = handle.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until(expiry).await;
            if let Some(table) = table.upgrade()
                && let Ok(mut pending) = table.lock()
            {
                pending.remove(&expired);
            }
        });
        let ticket = TicketStatementQuery {
            statement_handle: handle.into_bytes().into(),
        };
        flight_info(&schema, ticket.as_any().encode_to_vec(), descriptor)
    }
}

/// Refuses a new query result for session `key` when it has [`MAX_PENDING_PER_SESSION`]
/// waiting.
fn room_for_pending(pending: &HashMap<String, Pending>, key: &str) -> Result<(), Status> {
    let waiting = pending.values().filter(|p| p.session == key).count();
    if waiting >= MAX_PENDING_PER_SESSION {
        return Err(Status::resource_exhausted(format!(
            "this session has {waiting} query results waiting to be fetched, the most a session \
             may have: fetch (DoGet) or cancel them first"
        )));
    }
    Ok(())
}

fn ipc_schema(schema: &Schema) -> Result<bytes::Bytes, Status> {
    let options = datafusion::arrow::ipc::writer::IpcWriteOptions::default();
    let message: arrow_flight::IpcMessage = arrow_flight::SchemaAsIpc::new(schema, &options)
        .try_into()
        .map_err(|e: datafusion::arrow::error::ArrowError| Status::internal(e.to_string()))?;
    Ok(message.0)
}

#[tonic::async_trait]
impl FlightSqlService for ApiaryFlightSql {
    type FlightService = ApiaryFlightSql;

    async fn do_handshake(
        &self,
        request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<
        Response<Pin<Box<dyn Stream<Item = Result<HandshakeResponse, Status>> + Send>>>,
        Status,
    > {
        let header = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        // A bearer token already passed the auth layer; Basic credentials log in here.
        let token = if header.starts_with("Basic ") {
            self.auth
                .login(&header, request.remote_addr().map(|a| a.ip()))?
        } else {
            header.strip_prefix("Bearer ").unwrap_or("").to_string()
        };
        let response = HandshakeResponse {
            protocol_version: 0,
            payload: token.clone().into(),
        };
        let output = futures::stream::iter(vec![Ok(response)]);
        let mut response: Response<Pin<Box<dyn Stream<Item = _> + Send>>> =
            Response::new(Box::pin(output));
        if !token.is_empty() {
            let value = format!("Bearer {token}")
                .parse()
                .map_err(|_| Status::internal("token is not a header value"))?;
            response.metadata_mut().insert("authorization", value);
        }
        Ok(response)
    }

    async fn get_flight_info_statement(
        &self,
        query: CommandStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let key = Self::session_key(&request);
        let info = self
            .plan_for_get(key, &query.query, None, request.into_inner())
            .await?;
        Ok(Response::new(info))
    }

    async fn do_action_create_prepared_statement(
        &self,
        query: ActionCreatePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        self.forget_expired();
        let key = Self::session_key(&request);
        // The result's schema when the statement is a query (planned, not run); statements
        // without a plan (DDL, SHOW, SET) announce none.
        self.prepared.check_cap(&key)?;
        let deadline = self.deadline();
        let session = self.session(&key, deadline).await?;
        let sql = query.query.clone();
        let (schema, parameters) = self
            .in_pool(deadline, async move {
                let ctx = session.lock_owned().await;
                let text = ctx
                    .substitute(sql.trim().trim_end_matches(';'))
                    .map_err(to_status)?;
                let empty = || (Schema::empty(), Schema::empty());
                Ok(match ctx.plan_sql(&text).await {
                    Ok(plans) if plans.len() == 1 => (
                        plans[0].schema().as_arrow().clone(),
                        parameter_schema(&plans[0])?,
                    ),
                    Ok(_) => empty(),
                    Err(ApiaryError::Usage(m)) if m.contains("no query plan") => empty(),
                    Err(ApiaryError::DataFusion(_)) if classify_command(&text) => empty(),
                    Err(e) => return Err(to_status(e)),
                })
            })
            .await?;
        let handle = self.prepared.insert(key, query.query)?;
        Ok(ActionCreatePreparedStatementResult {
            prepared_statement_handle: handle.into_bytes().into(),
            dataset_schema: ipc_schema(&schema)?,
            parameter_schema: ipc_schema(&parameters)?,
        })
    }

    async fn get_flight_info_prepared_statement(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let key = Self::session_key(&request);
        let (sql, parameters) = self.prepared.get(&query.prepared_statement_handle, &key)?;
        let info = self
            .plan_for_get(key, &sql, parameters, request.into_inner())
            .await?;
        Ok(Response::new(info))
    }

    /// Binds parameter values: each row of the batches sent is one set of values; several
    /// rows run as one statement (the union of the results).
    async fn do_put_prepared_statement_query(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<DoPutPreparedStatementResult, Status> {
        let key = Self::session_key(&request);
        self.prepared.get(&query.prepared_statement_handle, &key)?;
        let rows = parameter_rows(request.into_inner()).await?;
        if rows.is_empty() {
            return Err(Status::invalid_argument("no parameter values were sent"));
        }
        self.prepared
            .bind(&query.prepared_statement_handle, &key, rows)?;
        Ok(DoPutPreparedStatementResult {
            prepared_statement_handle: Some(query.prepared_statement_handle),
        })
    }

    /// Runs a prepared update with the parameter rows sent along (JDBC's `executeBatch`,
    /// ADBC's `executemany`): an INSERT's rows land in one commit.
    async fn do_put_prepared_statement_update(
        &self,
        query: CommandPreparedStatementUpdate,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        let key = Self::session_key(&request);
        let (sql, bound) = self.prepared.get(&query.prepared_statement_handle, &key)?;
        let rows = parameter_rows(request.into_inner()).await?;
        let parameters = if rows.is_empty() { bound } else { Some(rows) };
        self.update(&key, &sql, parameters).await
    }

    async fn do_action_close_prepared_statement(
        &self,
        query: ActionClosePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<(), Status> {
        let key = Self::session_key(&request);
        self.prepared.close(&query.prepared_statement_handle, &key)
    }

    async fn do_get_statement(
        &self,
        ticket: TicketStatementQuery,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let handle = String::from_utf8_lossy(&ticket.statement_handle).to_string();
        let key = Self::session_key(&request);
        // Another session's ticket is as unknown as a made-up one (and stays its owner's).
        let take = |remove: bool| -> Result<Option<Pending>, Status> {
            let mut pending = self
                .pending
                .lock()
                .map_err(|_| Status::internal("handle table poisoned"))?;
            if pending.get(&handle).is_none_or(|p| p.session != key) {
                return Err(Status::not_found(
                    "unknown or expired statement handle (each is fetched once, by the session \
                     that planned it)",
                ));
            }
            Ok(if remove {
                pending.remove(&handle)
            } else {
                None
            })
        };
        take(false)?;
        // The query's slot is held while its rows are computed and streamed.
        let permit = self.slot().await?;
        let Some(pending) = take(true)? else {
            return Err(Status::internal("statement handle vanished"));
        };
        let schema = pending.stream.schema();
        let deadline = pending.deadline;
        let PoolStream { stream, abort } = self.pool.stream(pending.stream, permit, deadline);
        let cancel = Arc::new(Cancel {
            notify: tokio::sync::Notify::new(),
            abort,
        });
        if let Ok(mut running) = self.running.lock() {
            running.retain(|_, r| r.cancel.strong_count() > 0);
            running.insert(
                handle,
                Running {
                    session: key,
                    cancel: Arc::downgrade(&cancel),
                },
            );
        }
        let timed_out = self.timeout_status();
        let past_deadline = move || deadline.is_some_and(|at| tokio::time::Instant::now() >= at);
        // The stream ends at the deadline or on CancelFlightInfo; when it ends early or is
        // dropped (the client went away), the query's work on the pool is aborted.
        let batches = futures::stream::unfold(Some((stream, cancel)), move |state| {
            let timed_out = timed_out.clone();
            async move {
                let (mut stream, cancel) = state?;
                let next = async {
                    match deadline {
                        Some(at) => tokio::time::timeout_at(at, stream.next()).await.ok(),
                        None => Some(stream.next().await),
                    }
                };
                let outcome = tokio::select! {
                    biased;
                    _ = cancel.notify.notified() => Err(Status::cancelled("the query was cancelled")),
                    next = next => match next {
                        None => Err(timed_out.clone()),
                        Some(None) => Ok(None),
                        Some(Some(Ok(batch))) => Ok(Some(batch)),
                        Some(Some(Err(_))) if past_deadline() => Err(timed_out.clone()),
                        Some(Some(Err(e))) if e.to_string().contains(STOPPED) => {
                            Err(Status::cancelled(STOPPED))
                        }
                        Some(Some(Err(e))) => Err(to_status(ApiaryError::from(e))),
                    },
                };
                match outcome {
                    Ok(Some(batch)) => Some((Ok(batch), Some((stream, cancel)))),
                    Ok(None) => None,
                    // The state is dropped here: the query stops at once.
                    Err(status) => Some((Err(FlightError::Tonic(Box::new(status))), None)),
                }
            }
        });
        let encoded = FlightDataEncoderBuilder::new()
            .with_schema(schema)
            .build(batches)
            .map_err(|e| match e {
                FlightError::ExternalError(inner) => Status::internal(inner.to_string()),
                FlightError::Tonic(status) => *status,
                other => Status::from(other),
            });
        Ok(Response::new(Box::pin(encoded)))
    }

    async fn do_put_statement_ingest(
        &self,
        command: CommandStatementIngest,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        let key = Self::session_key(&request);
        let _slot = self.slot().await?;
        let deadline = self.deadline();
        let session = self.session(&key, deadline).await?;
        let warehouse = Arc::clone(&self.warehouse);
        let upload = request.into_inner();
        self.in_pool(deadline, async move {
            let (db, task) = {
                let ctx = session.lock().await;
                let db = command
                    .schema
                    .clone()
                    .unwrap_or_else(|| ctx.current_database());
                (db.to_ascii_lowercase(), ctx.session().task_ctx())
            };
            let mut input = ClientBatches::new(upload);
            let first = input.try_next().await?;
            let incoming = match (&first, input.schema()) {
                (Some(b), _) => b.schema(),
                (None, Some(s)) => Arc::clone(s),
                (None, None) => return Err(Status::invalid_argument("no schema was sent")),
            };
            check_types(
                incoming
                    .fields()
                    .iter()
                    .map(|f| (f.name().as_str(), f.data_type())),
            )?;
            let rest = futures::stream::iter(first.map(Ok)).chain(input);
            let rows = ingest::ingest(
                &warehouse,
                &db,
                &command.table.to_ascii_lowercase(),
                command.table_definition_options.unwrap_or_default(),
                incoming,
                Box::pin(
                    rest.map_err(|e| datafusion::error::DataFusionError::External(Box::new(e))),
                ),
                &task,
            )
            .await
            .map_err(to_status)?;
            Ok(rows as i64)
        })
        .await
    }

    async fn do_put_statement_update(
        &self,
        update: CommandStatementUpdate,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        let key = Self::session_key(&request);
        self.update(&key, &update.query, None).await
    }

    async fn get_flight_info_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.into_builder().schema();
        metadata_info(&schema, &query, request)
    }

    async fn do_get_catalogs(
        &self,
        query: CommandGetCatalogs,
        _request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let mut builder = query.into_builder();
        builder.append(CATALOG_NAME);
        let schema = builder.schema();
        metadata_batch(schema, builder.build())
    }

    async fn get_flight_info_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder().schema();
        metadata_info(&schema, &query, request)
    }

    async fn do_get_schemas(
        &self,
        query: CommandGetDbSchemas,
        _request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let warehouse = Arc::clone(&self.warehouse);
        let names = self
            .in_pool(self.deadline(), async move {
                warehouse.metastore().database_names().map_err(to_status)
            })
            .await?;
        let mut builder = query.into_builder();
        for db in names {
            builder.append(CATALOG_NAME, db);
        }
        let schema = builder.schema();
        metadata_batch(schema, builder.build())
    }

    async fn get_flight_info_tables(
        &self,
        query: CommandGetTables,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder().schema();
        metadata_info(&schema, &query, request)
    }

    async fn do_get_tables(
        &self,
        query: CommandGetTables,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let key = Self::session_key(&request);
        let deadline = self.deadline();
        let session = self.session(&key, deadline).await?;
        let (schema, batch) = self
            .in_pool(deadline, async move {
                let ctx = session.lock_owned().await;
                let include_schema = query.include_schema;
                let mut builder = query.into_builder();
                let df = ctx.session();
                if let Some(catalog) = df.catalog(CATALOG_NAME) {
                    let mut dbs = catalog.schema_names();
                    dbs.sort();
                    for db in dbs {
                        let Some(schema) = catalog.schema(&db) else {
                            continue;
                        };
                        let mut names = schema.table_names();
                        names.sort();
                        for name in names {
                            let table = schema
                                .table(&name)
                                .await
                                .map_err(|e| to_status(ApiaryError::from(e)))?;
                            let Some(table) = table else { continue };
                            let table_type = match table.table_type() {
                                datafusion::logical_expr::TableType::View => "VIEW",
                                datafusion::logical_expr::TableType::Temporary => "LOCAL TEMPORARY",
                                datafusion::logical_expr::TableType::Base => "TABLE",
                            };
                            let table_schema = if include_schema {
                                table.schema()
                            } else {
                                Arc::new(Schema::empty())
                            };
                            builder
                                .append(CATALOG_NAME, &db, &name, table_type, &table_schema)
                                .map_err(|e| Status::internal(e.to_string()))?;
                        }
                    }
                }
                Ok((builder.schema(), builder.build()))
            })
            .await?;
        metadata_batch(schema, batch)
    }

    async fn get_flight_info_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.into_builder().schema();
        metadata_info(&schema, &query, request)
    }

    async fn do_get_table_types(
        &self,
        query: CommandGetTableTypes,
        _request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let mut builder = query.into_builder();
        for t in ["LOCAL TEMPORARY", "TABLE", "VIEW"] {
            builder.append(t);
        }
        let schema = builder.schema();
        metadata_batch(schema, builder.build())
    }

    async fn get_flight_info_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder(&self.sql_info).schema();
        metadata_info(&schema, &query, request)
    }

    async fn do_get_sql_info(
        &self,
        query: CommandGetSqlInfo,
        _request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let builder = query.into_builder(&self.sql_info);
        let schema = builder.schema();
        metadata_batch(schema, builder.build())
    }

    async fn get_flight_info_primary_keys(
        &self,
        query: CommandGetPrimaryKeys,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let info = flight_info(
            &primary_keys_schema(),
            query.as_any().encode_to_vec(),
            request.into_inner(),
        )?;
        Ok(Response::new(info))
    }

    async fn do_get_primary_keys(
        &self,
        _query: CommandGetPrimaryKeys,
        _request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        // Hive tables have no primary keys.
        let schema = Arc::new(primary_keys_schema());
        Ok(Response::new(batches_stream(
            Arc::clone(&schema),
            vec![RecordBatch::new_empty(schema)],
        )))
    }

    async fn get_flight_info_xdbc_type_info(
        &self,
        query: CommandGetXdbcTypeInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.into_builder(&self.type_info).schema();
        metadata_info(&schema, &query, request)
    }

    async fn do_get_xdbc_type_info(
        &self,
        query: CommandGetXdbcTypeInfo,
        _request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let builder = query.into_builder(&self.type_info);
        let schema = builder.schema();
        metadata_batch(schema, builder.build())
    }

    async fn do_action_fallback(
        &self,
        request: Request<Action>,
    ) -> Result<Response<<Self as FlightService>::DoActionStream>, Status> {
        let key = Self::session_key(&request);
        let action = request.into_inner();
        if action.r#type != "CancelFlightInfo" {
            return Err(Status::invalid_argument(format!(
                "unknown action '{}'",
                action.r#type
            )));
        }
        let request = CancelFlightInfoRequest::decode(action.body)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let info = request
            .info
            .ok_or_else(|| Status::invalid_argument("CancelFlightInfo without a FlightInfo"))?;
        let status = self.cancel(&info, &key)?;
        let result = CancelFlightInfoResult::new(status);
        let body = arrow_flight::Result {
            body: result.encode_to_vec().into(),
        };
        Ok(Response::new(Box::pin(futures::stream::iter(vec![Ok(
            body,
        )]))))
    }

    /// The deprecated CancelQuery action (older JDBC and ODBC drivers): CancelFlightInfo's work.
    async fn do_action_cancel_query(
        &self,
        query: ActionCancelQueryRequest,
        request: Request<Action>,
    ) -> Result<ActionCancelQueryResult, Status> {
        let key = Self::session_key(&request);
        /// `ActionCancelQueryResult.CancelResult.CANCEL_RESULT_CANCELLED` (arrow-flight does
        /// not export the enum).
        const CANCELLED: i32 = 1;
        let info = FlightInfo::decode(query.info)
            .map_err(|e| Status::invalid_argument(format!("CancelQuery: not a FlightInfo: {e}")))?;
        self.cancel(&info, &key)?;
        Ok(ActionCancelQueryResult { result: CANCELLED })
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}

/// The result schema of GetPrimaryKeys, as the Flight SQL specification gives it.
fn primary_keys_schema() -> Schema {
    use datafusion::arrow::datatypes::{DataType, Field};
    Schema::new(vec![
        Field::new("catalog_name", DataType::Utf8, true),
        Field::new("db_schema_name", DataType::Utf8, true),
        Field::new("table_name", DataType::Utf8, false),
        Field::new("column_name", DataType::Utf8, false),
        Field::new("key_name", DataType::Utf8, true),
        Field::new("key_sequence", DataType::Int32, false),
    ])
}

/// Whether a statement is one of the CLI's commands (SET, SHOW FUNCTIONS, ...), which have no
/// query plan.
fn classify_command(text: &str) -> bool {
    !matches!(
        crate::sql::command::classify(text),
        crate::sql::command::Command::Sql
    )
}
