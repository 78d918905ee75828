//! Apiary's Flight SQL service: every statement goes through [`ApiaryContext::execute`], the
//! same entry point as the CLI, in the calling client's own session.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow_flight::decode::FlightRecordBatchStream;
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
use crate::error::ApiaryError;
use crate::session::{ApiaryContext, SessionOptions, StatementOutput};
use crate::warehouse::Warehouse;
use crate::warehouse::catalog::CATALOG_NAME;

type DoGetStream = Pin<Box<dyn Stream<Item = Result<arrow_flight::FlightData, Status>> + Send>>;

/// How long a statement handle (a query planned by GetFlightInfo, not yet fetched) lives.
const HANDLE_TTL: Duration = Duration::from_secs(300);

/// One client's session.
type Session = Arc<tokio::sync::Mutex<ApiaryContext>>;

/// A planned query waiting for its DoGet.
struct Pending {
    session: String,
    stream: SendableRecordBatchStream,
    created: Instant,
    /// Its place among the running queries (`--max-concurrent-queries`), held to the end.
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
    /// When `--query-timeout` cancels it.
    deadline: Option<tokio::time::Instant>,
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
    sessions: Mutex<HashMap<String, Session>>,
    pending: Mutex<HashMap<String, Pending>>,
    prepared: PreparedStatements,
    /// Queries being streamed, by handle: notified to cancel them.
    running: Mutex<HashMap<String, std::sync::Weak<tokio::sync::Notify>>>,
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
            sessions: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
            prepared: PreparedStatements::default(),
            running: Mutex::new(HashMap::new()),
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

    async fn session(&self, key: &str) -> Result<Session, Status> {
        if let Some(s) = self
            .sessions
            .lock()
            .map_err(|_| Status::internal("session table poisoned"))?
            .get(key)
        {
            return Ok(Arc::clone(s));
        }
        let ctx = ApiaryContext::open(
            Arc::clone(&self.warehouse),
            SessionOptions {
                config: SessionConfig::new(),
                memory_pool: self.memory_pool.clone(),
                file_access: Some(self.file_access.for_new_session()),
                environment: self.limits.allow_env,
            },
        )
        .await
        .map_err(to_status)?;
        let session = Arc::new(tokio::sync::Mutex::new(ctx));
        let mut sessions = self
            .sessions
            .lock()
            .map_err(|_| Status::internal("session table poisoned"))?;
        Ok(Arc::clone(
            sessions.entry(key.to_string()).or_insert(session),
        ))
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

    /// Runs one statement in the caller's session, with parameter rows bound when given.
    async fn run(
        &self,
        key: &str,
        sql: &str,
        parameters: Option<&ParameterRows>,
    ) -> Result<StatementOutput, Status> {
        let session = self.session(key).await?;
        let mut ctx = session.lock().await;
        let text = sql.trim().trim_end_matches(';');
        let work = async {
            match parameters {
                None => ctx.execute(text).await,
                Some(rows) => ctx.execute_bound(text, rows).await,
            }
        };
        let output = match self.limits.query_timeout {
            Some(limit) => tokio::time::timeout(limit, work)
                .await
                .map_err(|_| self.timeout_status())?,
            None => work.await,
        };
        match output.map_err(to_status)? {
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

    /// Runs `sql` (with `parameters` bound) in session `key` and keeps its rows for one DoGet;
    /// the FlightInfo names them.
    async fn plan_for_get(
        &self,
        key: String,
        sql: &str,
        parameters: Option<&ParameterRows>,
        descriptor: FlightDescriptor,
    ) -> Result<FlightInfo, Status> {
        self.forget_expired();
        let permit = self.slot().await?;
        let deadline = self
            .limits
            .query_timeout
            .map(|t| tokio::time::Instant::now() + t);
        let output = self.run(&key, sql, parameters).await?;
        let stream: SendableRecordBatchStream = match output {
            StatementOutput::Rows(s) => s,
            _ => Box::pin(datafusion::physical_plan::EmptyRecordBatchStream::new(
                Arc::new(Schema::empty()),
            )),
        };
        self.keep_for_get(key, stream, permit, deadline, descriptor)
    }

    /// Cancels the query a FlightInfo names: a planned one is dropped, a streaming one stops.
    fn cancel(&self, info: &FlightInfo) -> Result<CancelStatus, Status> {
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
                && pending.remove(&handle).is_some()
            {
                found = true;
                continue;
            }
            let notify = self
                .running
                .lock()
                .ok()
                .and_then(|running| running.get(&handle).and_then(|w| w.upgrade()));
            if let Some(notify) = notify {
                notify.notify_one();
                found = true;
            }
        }
        if found {
            Ok(CancelStatus::Cancelled)
        } else {
            Err(Status::not_found(
                "no running or pending query for that FlightInfo (finished, or never started)",
            ))
        }
    }

    /// Runs an update (with `parameters` bound); the rows it wrote (0 for DDL, -1 when
    /// unknown).
    async fn update(
        &self,
        key: &str,
        sql: &str,
        parameters: Option<&ParameterRows>,
    ) -> Result<i64, Status> {
        let _slot = self.slot().await?;
        match self.run(key, sql, parameters).await? {
            StatementOutput::Affected(n) => Ok(n as i64),
            StatementOutput::Rows(stream) => {
                // DataFusion's own DML answers a count.
                let batches: Vec<RecordBatch> = stream
                    .try_collect()
                    .await
                    .map_err(|e| to_status(ApiaryError::from(e)))?;
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
        permit: Option<tokio::sync::OwnedSemaphorePermit>,
        deadline: Option<tokio::time::Instant>,
        descriptor: FlightDescriptor,
    ) -> Result<FlightInfo, Status> {
        let schema = stream.schema();
        let handle = new_handle();
        self.pending
            .lock()
            .map_err(|_| Status::internal("handle table poisoned"))?
            .insert(
                handle.clone(),
                Pending {
                    session: key,
                    stream,
                    created: Instant::now(),
                    permit,
                    deadline,
                },
            );
        let ticket = TicketStatementQuery {
            statement_handle: handle.into_bytes().into(),
        };
        flight_info(&schema, ticket.as_any().encode_to_vec(), descriptor)
    }
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
        let session = self.session(&key).await?;
        let (schema, parameters) = {
            let ctx = session.lock().await;
            let text = ctx
                .substitute(query.query.trim().trim_end_matches(';'))
                .map_err(to_status)?;
            let empty = || (Schema::empty(), Schema::empty());
            match ctx.plan_sql(&text).await {
                Ok(plans) if plans.len() == 1 => (
                    plans[0].schema().as_arrow().clone(),
                    parameter_schema(&plans[0])?,
                ),
                Ok(_) => empty(),
                Err(ApiaryError::Usage(m)) if m.contains("no query plan") => empty(),
                Err(ApiaryError::DataFusion(_)) if classify_command(&text) => empty(),
                Err(e) => return Err(to_status(e)),
            }
        };
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
            .plan_for_get(key, &sql, parameters.as_ref(), request.into_inner())
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
        self.update(&key, &sql, parameters.as_ref()).await
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
        let pending = self
            .pending
            .lock()
            .map_err(|_| Status::internal("handle table poisoned"))?
            .remove(&handle)
            .ok_or_else(|| {
                Status::not_found("unknown or expired statement handle (each is fetched once)")
            })?;
        if pending.session.split('|').next() != key.split('|').next() {
            return Err(Status::permission_denied(
                "the statement belongs to another session",
            ));
        }
        let schema = pending.stream.schema();
        let permit = pending.permit;
        let deadline = pending.deadline;
        let timed_out = self.timeout_status();
        let cancel = Arc::new(tokio::sync::Notify::new());
        if let Ok(mut running) = self.running.lock() {
            running.retain(|_, w| w.strong_count() > 0);
            running.insert(handle, Arc::downgrade(&cancel));
        }
        // The stream ends at the deadline or on CancelFlightInfo (dropping the query cancels
        // it); the slot is freed when the stream is done or dropped.
        let batches = futures::stream::unfold(
            (pending.stream, permit, cancel, false),
            move |(mut stream, permit, cancel, ended)| {
                let timed_out = timed_out.clone();
                async move {
                    if ended {
                        return None;
                    }
                    let step = async {
                        let next = match deadline {
                            Some(at) => tokio::time::timeout_at(at, stream.next())
                                .await
                                .map_err(|_| timed_out)?,
                            None => stream.next().await,
                        };
                        match next {
                            None => Ok(None),
                            Some(Ok(batch)) => Ok(Some(batch)),
                            Some(Err(e)) => Err(to_status(ApiaryError::from(e))),
                        }
                    };
                    let outcome = tokio::select! {
                        biased;
                        _ = cancel.notified() => Err(Status::cancelled("the query was cancelled")),
                        r = step => r,
                    };
                    match outcome {
                        Ok(Some(batch)) => Some((Ok(batch), (stream, permit, cancel, false))),
                        Ok(None) => None,
                        Err(status) => Some((
                            Err(FlightError::Tonic(Box::new(status))),
                            (stream, permit, cancel, true),
                        )),
                    }
                }
            },
        );
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
        let session = self.session(&key).await?;
        let (db, task) = {
            let ctx = session.lock().await;
            let db = command.schema.clone().unwrap_or_else(|| {
                ctx.session()
                    .state()
                    .config_options()
                    .catalog
                    .default_schema
                    .clone()
            });
            (db.to_ascii_lowercase(), ctx.session().task_ctx())
        };
        let _slot = self.slot().await?;
        let mut input = FlightRecordBatchStream::new_from_flight_data(
            request.into_inner().map_err(FlightError::from),
        );
        let first = input.try_next().await.map_err(Status::from)?;
        let incoming = match (&first, input.schema()) {
            (Some(b), _) => b.schema(),
            (None, Some(s)) => Arc::clone(s),
            (None, None) => return Err(Status::invalid_argument("no schema was sent")),
        };
        let rest = futures::stream::iter(first.map(Ok)).chain(input);
        let rows = ingest::ingest(
            &self.warehouse,
            &db,
            &command.table.to_ascii_lowercase(),
            command.table_definition_options.unwrap_or_default(),
            incoming,
            Box::pin(rest.map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))),
            &task,
        )
        .await
        .map_err(to_status)?;
        Ok(rows as i64)
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
        let mut builder = query.into_builder();
        for db in self
            .warehouse
            .metastore()
            .database_names()
            .map_err(to_status)?
        {
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
        let session = self.session(&key).await?;
        let ctx = session.lock().await;
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
        let schema = builder.schema();
        metadata_batch(schema, builder.build())
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
        let status = self.cancel(&info)?;
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
        _request: Request<Action>,
    ) -> Result<ActionCancelQueryResult, Status> {
        /// `ActionCancelQueryResult.CancelResult.CANCEL_RESULT_CANCELLED` (arrow-flight does
        /// not export the enum).
        const CANCELLED: i32 = 1;
        let info = FlightInfo::decode(query.info)
            .map_err(|e| Status::invalid_argument(format!("CancelQuery: not a FlightInfo: {e}")))?;
        self.cancel(&info)?;
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
