//! Prepared statements of the Flight SQL server: their table, ownership, parameters and expiry.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::error::FlightError;
use arrow_flight::sql::server::PeekableFlightDataStream;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::LogicalPlan;
use futures::TryStreamExt;
use tonic::Status;

use super::service::to_status;
use crate::error::ApiaryError;

/// How long a prepared statement lives unused (clients that vanish do not close theirs).
pub const PREPARED_TTL: Duration = Duration::from_secs(3600);

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

/// The part of a session key that names the client's credentials (a statement prepared on one
/// connection may be executed on another of the same client, as ADBC pools do).
fn owner(session: &str) -> &str {
    session.split('|').next().unwrap_or(session)
}

impl PreparedStatements {
    fn table(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, Prepared>>, Status> {
        self.statements
            .lock()
            .map_err(|_| Status::internal("prepared statements poisoned"))
    }

    /// Keeps `sql` for `session`; returns its new handle.
    pub fn insert(&self, session: String, sql: String) -> Result<String, Status> {
        let handle = super::service::new_handle();
        self.table()?.insert(
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
        let p = table
            .get_mut(String::from_utf8_lossy(handle).as_ref())
            .ok_or_else(|| Status::not_found("unknown, closed or expired prepared statement"))?;
        if owner(&p.session) != owner(session) {
            return Err(Status::permission_denied(
                "the prepared statement belongs to another session",
            ));
        }
        Ok(p)
    }
}

/// The parameter rows a client sent with DoPut (every row of every batch, in order).
pub async fn parameter_rows(stream: PeekableFlightDataStream) -> Result<ParameterRows, Status> {
    // A DoPut without values (arrow-flight's client sends its descriptor alone) has a message
    // with no IPC header: nothing to decode.
    let messages = stream
        .map_err(FlightError::from)
        .try_filter(|d| futures::future::ready(!d.data_header.is_empty()));
    let batches: Vec<RecordBatch> = FlightRecordBatchStream::new_from_flight_data(messages)
        .try_collect()
        .await
        .map_err(Status::from)?;
    let mut rows = Vec::new();
    for batch in &batches {
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
    fn statements_belong_to_their_credentials_and_close() {
        let table = PreparedStatements::default();
        let handle = table
            .insert("Bearer a|127.0.0.1:1".into(), "SELECT ?".into())
            .unwrap_or_default();
        // Another connection of the same client may use it; other credentials may not.
        assert!(table.get(handle.as_bytes(), "Bearer a|127.0.0.1:2").is_ok());
        let other = table.get(handle.as_bytes(), "Bearer b|127.0.0.1:1");
        assert_eq!(
            other.err().map(|s| s.code()),
            Some(tonic::Code::PermissionDenied)
        );
        table
            .bind(
                handle.as_bytes(),
                "Bearer a|x",
                vec![vec![ScalarValue::Int64(Some(7))]],
            )
            .unwrap_or_else(|e| unreachable!("{e}"));
        let (sql, params) = table
            .get(handle.as_bytes(), "Bearer a|x")
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(sql, "SELECT ?");
        assert_eq!(params, Some(vec![vec![ScalarValue::Int64(Some(7))]]));
        assert!(table.close(handle.as_bytes(), "Bearer b|x").is_err());
        assert_eq!(table.len(), 1);
        assert!(table.close(handle.as_bytes(), "Bearer a|x").is_ok());
        assert_eq!(table.len(), 0);
        assert_eq!(
            table
                .get(handle.as_bytes(), "Bearer a|x")
                .err()
                .map(|s| s.code()),
            Some(tonic::Code::NotFound)
        );
    }
}
