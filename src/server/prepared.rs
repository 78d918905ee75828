//! Prepared statements of the Flight SQL server: their table, ownership, parameters and expiry.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use arrow_flight::FlightData;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::LogicalPlan;
use futures::TryStreamExt;
use tonic::Status;

use super::service::to_status;
use super::upload::ClientBatches;
use crate::error::ApiaryError;

/// How long a prepared statement lives unused (clients that vanish do not close theirs).
pub const PREPARED_TTL: Duration = Duration::from_secs(3600);

/// Prepared statements one session may hold open at once; one more is RESOURCE_EXHAUSTED.
pub const MAX_PREPARED_PER_SESSION: usize = 256;

/// Parameter rows bound to a statement: each row is one set of values for `$1`, `$2`, ...
pub type ParameterRows = Vec<Vec<ScalarValue>>;

/// A prepared statement: its text, in its session, with the parameters last bound.
struct Prepared {
    session: String,
    sql: String,
    last_used: Instant,
    parameters: Option<ParameterRows>,
}

/// The server's prepared statements, by handle.
#[derive(Default)]
pub struct PreparedStatements {
    statements: Mutex<HashMap<String, Prepared>>,
}

impl PreparedStatements {
    fn table(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, Prepared>>, Status> {
        self.statements
            .lock()
            .map_err(|_| Status::internal("prepared statements poisoned"))
    }

    /// Refuses a new statement for `session` when it holds the most it may.
    pub fn check_cap(&self, session: &str) -> Result<(), Status> {
        Self::room_for(&*self.table()?, session)
    }

    fn room_for(table: &HashMap<String, Prepared>, session: &str) -> Result<(), Status> {
        let open = table.values().filter(|p| p.session == session).count();
        if open >= MAX_PREPARED_PER_SESSION {
            return Err(Status::resource_exhausted(format!(
                "this session has {open} open prepared statements, the most a session may \
                 have: close some first"
            )));
        }
        Ok(())
    }

    /// Keeps `sql` for `session`; returns its new handle.
    pub fn insert(&self, session: String, sql: String) -> Result<String, Status> {
        let mut table = self.table()?;
        Self::room_for(&table, &session)?;
        let handle = super::service::new_handle();
        table.insert(
            handle.clone(),
            Prepared {
                session,
                sql,
                last_used: Instant::now(),
                parameters: None,
            },
        );
        Ok(handle)
    }

    /// The statement's text and bound parameters, if `session` owns it.
    pub fn get(
        &self,
        handle: &[u8],
        session: &str,
    ) -> Result<(String, Option<ParameterRows>), Status> {
        let mut table = self.table()?;
        let p = Self::owned(&mut table, handle, session)?;
        p.last_used = Instant::now();
        Ok((p.sql.clone(), p.parameters.clone()))
    }

    /// Binds parameter rows for the statement's next execution.
    pub fn bind(&self, handle: &[u8], session: &str, rows: ParameterRows) -> Result<(), Status> {
        let mut table = self.table()?;
        let p = Self::owned(&mut table, handle, session)?;
        p.last_used = Instant::now();
        p.parameters = Some(rows);
        Ok(())
    }

    /// Frees the statement.
    pub fn close(&self, handle: &[u8], session: &str) -> Result<(), Status> {
        let mut table = self.table()?;
        Self::owned(&mut table, handle, session)?;
        table.remove(String::from_utf8_lossy(handle).as_ref());
        Ok(())
    }

    /// Forgets statements unused for [`PREPARED_TTL`].
    pub fn forget_expired(&self) {
        if let Ok(mut table) = self.statements.lock() {
            table.retain(|_, p| p.last_used.elapsed() < PREPARED_TTL);
        }
    }

    /// How many statements are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.statements.lock().map(|t| t.len()).unwrap_or(0)
    }

    fn owned<'a>(
        table: &'a mut HashMap<String, Prepared>,
        handle: &[u8],
        session: &str,
    ) -> Result<&'a mut Prepared, Status> {
        // Another session's statement is as unknown as a made-up handle.
        table
            .get_mut(String::from_utf8_lossy(handle).as_ref())
            .filter(|p| p.session == session)
            .ok_or_else(|| {
                Status::not_found(
                    "unknown, closed or expired prepared statement (a statement belongs to the \
                     session that prepared it)",
                )
            })
    }
}

/// The most parameter rows one DoPut may bind (each row is one execution of the statement).
pub const MAX_PARAMETER_ROWS: usize = 10_000;

/// The most bytes of Arrow data one DoPut's parameter values may take.
pub const MAX_PARAMETER_BYTES: usize = 64 << 20;

/// The parameter rows a client sent with DoPut (every row of every batch, in order): at most
/// [`MAX_PARAMETER_ROWS`] rows of at most [`MAX_PARAMETER_BYTES`] in all, checked as the
/// batches arrive (see [`super::upload`] for the checks of the data itself).
pub async fn parameter_rows<S>(stream: S) -> Result<ParameterRows, Status>
where
    S: futures::Stream<Item = Result<FlightData, Status>> + Send + 'static,
{
    // A DoPut without values (arrow-flight's client sends its descriptor alone) has a message
    // with no IPC header: nothing to decode.
    let messages = stream.try_filter(|d| futures::future::ready(!d.data_header.is_empty()));
    let mut batches = ClientBatches::new(messages);
    let mut rows = Vec::new();
    let mut bytes = 0usize;
    while let Some(batch) = batches.try_next().await? {
        if rows.len() + batch.num_rows() > MAX_PARAMETER_ROWS {
            return Err(Status::invalid_argument(format!(
                "too many parameter rows: one DoPut may bind at most {MAX_PARAMETER_ROWS} rows"
            )));
        }
        bytes = bytes.saturating_add(batch.get_array_memory_size());
        if bytes > MAX_PARAMETER_BYTES {
            return Err(Status::invalid_argument(format!(
                "parameter values too large: one DoPut may bind at most {MAX_PARAMETER_BYTES} \
                 bytes of values"
            )));
        }
        for i in 0..batch.num_rows() {
            rows.push(
                batch
                    .columns()
                    .iter()
                    .map(|c| ScalarValue::try_from_array(c, i))
                    .collect::<datafusion::common::Result<Vec<_>>>()
                    .map_err(|e| Status::invalid_argument(format!("parameter values: {e}")))?,
            );
        }
    }
    Ok(rows)
}

/// The parameters of a plan (`$1`, `$2`, ...; `?` are numbered so), in order, with the types
/// DataFusion inferred (Null where it could not).
pub fn parameter_schema(plan: &LogicalPlan) -> Result<Schema, Status> {
    let types = plan
        .get_parameter_types()
        .map_err(|e| to_status(ApiaryError::from(e)))?;
    let mut named: Vec<(usize, String, DataType)> = types
        .into_iter()
        .map(|(name, t)| {
            let n = name
                .trim_start_matches('$')
                .parse::<usize>()
                .unwrap_or(usize::MAX);
            (n, name, t.unwrap_or(DataType::Null))
        })
        .collect();
    named.sort();
    Ok(Schema::new(
        named
            .into_iter()
            .map(|(_, name, t)| Field::new(name, t, true))
            .collect::<Vec<_>>(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_belong_to_their_session_and_close() {
        let table = PreparedStatements::default();
        let mine = "Bearer a|127.0.0.1:1";
        let handle = table
            .insert(mine.into(), "SELECT ?".into())
            .unwrap_or_default();
        // Another connection, even with the same credentials, cannot see it.
        for other in ["Bearer a|127.0.0.1:2", "Bearer b|127.0.0.1:1"] {
            assert_eq!(
                table.get(handle.as_bytes(), other).err().map(|s| s.code()),
                Some(tonic::Code::NotFound),
                "{other}"
            );
            assert!(table.close(handle.as_bytes(), other).is_err());
        }
        table
            .bind(
                handle.as_bytes(),
                mine,
                vec![vec![ScalarValue::Int64(Some(7))]],
            )
            .unwrap_or_else(|e| unreachable!("{e}"));
        let (sql, params) = table
            .get(handle.as_bytes(), mine)
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(sql, "SELECT ?");
        assert_eq!(params, Some(vec![vec![ScalarValue::Int64(Some(7))]]));
        assert_eq!(table.len(), 1);
        assert!(table.close(handle.as_bytes(), mine).is_ok());
        assert_eq!(table.len(), 0);
        assert_eq!(
            table.get(handle.as_bytes(), mine).err().map(|s| s.code()),
            Some(tonic::Code::NotFound)
        );
    }

    #[test]
    fn a_session_holds_a_bounded_number_of_statements() {
        let table = PreparedStatements::default();
        for _ in 0..MAX_PREPARED_PER_SESSION {
            assert!(table.insert("s|1".into(), "SELECT 1".into()).is_ok());
        }
        let refused = table.insert("s|1".into(), "SELECT 1".into());
        assert_eq!(
            refused.err().map(|s| s.code()),
            Some(tonic::Code::ResourceExhausted)
        );
        assert!(table.insert("s|2".into(), "SELECT 1".into()).is_ok());
    }
}
