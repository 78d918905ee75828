//! `apiary bench flight`: the Flight SQL server's result streaming and latency.
//!
//! 1. Throughput: `SELECT id, name FROM flight_rows` (BIGINT + STRING, 10M rows by default, a
//!    Parquet table of a scratch warehouse) streamed to a Flight SQL client over loopback —
//!    server and client in this process, as `apiary serve` runs them — against the same query
//!    executed in-process through [`ApiaryContext::execute`] in the same run. Both sides count
//!    the same bytes: the Arrow buffers of the batches they receive (for a string column, its
//!    offsets and its characters). Reported in MB/s (10^6 bytes) and as a time ratio.
//! 2. Time to first batch: `SELECT 1` on a warm connection (GetFlightInfo, then DoGet until the
//!    first batch), median and 95th percentile.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_flight::flight_service_server::FlightServiceServer;
use arrow_flight::sql::client::FlightSqlServiceClient;
use datafusion::arrow::array::RecordBatch;
use futures::{StreamExt, TryStreamExt};
use tonic::transport::Channel;

use super::{median, ms};
use crate::error::{ApiaryError, Result};
use crate::server::auth::{Authenticator, Credentials};
use crate::server::service::{ApiaryFlightSql, Limits};
use crate::server::{client_endpoint, incoming, transport};
use crate::session::{ApiaryContext, StatementOutput};
use crate::warehouse::Warehouse;

/// Arguments of `apiary bench flight`.
#[derive(Debug, Clone, clap::Args)]
pub struct FlightArgs {
    /// Rows the streamed query returns.
    #[arg(long, default_value_t = 10_000_000)]
    pub rows: u64,
    /// Timed runs of the stream (Flight and in-process alternate which goes first).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Timed `SELECT 1` round trips for the time to first batch.
    #[arg(long, default_value_t = 200)]
    pub trivial: usize,
}

/// The throughput goal, MB/s over Flight.
const GOAL_MB_S: f64 = 1000.0;
/// The overhead goal: Flight's time over the in-process time.
const GOAL_RATIO: f64 = 1.5;
/// The time-to-first-batch goal for a trivial query.
const GOAL_FIRST_MS: f64 = 5.0;

/// The streamed query.
const QUERY: &str = "SELECT id, name FROM flight_rows";

fn bench_error(message: impl Into<String>) -> ApiaryError {
    ApiaryError::Usage(format!("bench flight: {}", message.into()))
}

/// Rows and Arrow bytes of what a side received.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Received {
    rows: u64,
    bytes: u64,
}

impl Received {
    fn add(&mut self, batch: &RecordBatch) -> Result<()> {
        self.rows += batch.num_rows() as u64;
        for column in batch.columns() {
            self.bytes += column
                .to_data()
                .get_slice_memory_size()
                .map_err(|e| bench_error(e.to_string()))? as u64;
        }
        Ok(())
    }
}

/// A Flight SQL server of this process on a loopback port; stopped when dropped.
struct LocalServer {
    address: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl LocalServer {
    async fn start(warehouse: Arc<Warehouse>) -> Result<Self> {
        let auth = Arc::new(Authenticator::new(Credentials::default()));
        let service = ApiaryFlightSql::new(warehouse, auth, Limits::default())?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| bench_error(format!("cannot listen on loopback: {e}")))?;
        let address = listener
            .local_addr()
            .map_err(|e| bench_error(e.to_string()))?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serve = transport()
            .add_service(FlightServiceServer::new(service))
            .serve_with_incoming_shutdown(incoming(listener), async {
                let _ = stopped.await;
            });
        let task = tokio::spawn(async move {
            if let Err(e) = serve.await {
                eprintln!("bench flight: server: {e}");
            }
        });
        Ok(Self {
            address,
            stop: Some(stop),
            task,
        })
    }

    async fn client(&self) -> Result<FlightSqlServiceClient<Channel>> {
        let channel = client_endpoint(format!("http://{}", self.address))?
            .connect()
            .await
            .map_err(|e| bench_error(format!("cannot connect: {e}")))?;
        Ok(FlightSqlServiceClient::new(channel))
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.abort();
    }
}

/// The query over Flight SQL: GetFlightInfo, then DoGet of every endpoint, decoded.
async fn over_flight(
    client: &mut FlightSqlServiceClient<Channel>,
    sql: &str,
) -> Result<(Duration, Received)> {
    let started = Instant::now();
    let info = client
        .execute(sql.to_string(), None)
        .await
        .map_err(|e| bench_error(e.to_string()))?;
    let mut received = Received::default();
    for endpoint in info.endpoint {
        let ticket = endpoint
            .ticket
            .ok_or_else(|| bench_error("an endpoint without a ticket"))?;
        let mut stream = client
            .do_get(ticket)
            .await
            .map_err(|e| bench_error(e.to_string()))?;
        while let Some(batch) = stream
            .try_next()
            .await
            .map_err(|e| bench_error(e.to_string()))?
        {
            received.add(&batch)?;
        }
    }
    Ok((started.elapsed(), received))
}

/// The query in-process: the same entry point, its stream consumed batch by batch.
async fn in_process(ctx: &mut ApiaryContext, sql: &str) -> Result<(Duration, Received)> {
    let started = Instant::now();
    let mut received = Received::default();
    if let StatementOutput::Rows(mut stream) = ctx.execute(sql).await? {
        while let Some(batch) = stream.next().await {
            received.add(&batch?)?;
        }
    }
    Ok((started.elapsed(), received))
}

/// Milliseconds to the first batch of `SELECT 1`.
async fn first_batch(client: &mut FlightSqlServiceClient<Channel>) -> Result<Duration> {
    let started = Instant::now();
    let info = client
        .execute("SELECT 1".to_string(), None)
        .await
        .map_err(|e| bench_error(e.to_string()))?;
    let ticket = info
        .endpoint
        .into_iter()
        .next()
        .and_then(|e| e.ticket)
        .ok_or_else(|| bench_error("SELECT 1 without a ticket"))?;
    let mut stream = client
        .do_get(ticket)
        .await
        .map_err(|e| bench_error(e.to_string()))?;
    let first = stream
        .try_next()
        .await
        .map_err(|e| bench_error(e.to_string()))?;
    let elapsed = started.elapsed();
    if first.map(|b| b.num_rows()) != Some(1) {
        return Err(bench_error("SELECT 1 did not answer one row"));
    }
    // Drain the end of the stream so the next call starts clean.
    while stream
        .try_next()
        .await
        .map_err(|e| bench_error(e.to_string()))?
        .is_some()
    {}
    Ok(elapsed)
}

fn mb_s(r: Received, t: Duration) -> f64 {
    r.bytes as f64 / 1e6 / t.as_secs_f64().max(1e-9)
}

/// Runs the Flight benchmarks and prints their report.
pub async fn run(args: &FlightArgs) -> Result<()> {
    let runs = args.runs.max(1);
    let scratch = std::env::temp_dir().join(format!("apiary-bench-flight-{}", std::process::id()));
    let result = run_in(args, runs, &scratch).await;
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

async fn run_in(args: &FlightArgs, runs: usize, scratch: &std::path::Path) -> Result<()> {
    let warehouse = Arc::new(Warehouse::open(scratch)?);
    let mut ctx = ApiaryContext::with_warehouse(
        datafusion::prelude::SessionConfig::new(),
        Arc::clone(&warehouse),
    )
    .await?;
    let rows = args.rows;
    println!("flight: building flight_rows ({rows} rows: id BIGINT, name STRING) ...");
    ctx.execute(&format!(
        "CREATE TABLE flight_rows STORED AS PARQUET AS \
         SELECT value AS id, concat('name-', CAST(value * 7919 % 1000003 AS STRING)) AS name \
         FROM range({rows})"
    ))
    .await?;
    let server = LocalServer::start(Arc::clone(&warehouse)).await?;
    let mut client = server.client().await?;

    println!(
        "stream: {QUERY}, {runs} runs each, alternating; loopback {}",
        server.address
    );
    println!(
        "{:<8} {:>12} {:>10} {:>14} {:>10} {:>7}",
        "run", "flight (ms)", "MB/s", "in-proc (ms)", "MB/s", "ratio"
    );
    let mut flight_times = Vec::new();
    let mut local_times = Vec::new();
    let mut volume = Received::default();
    for run in 0..runs {
        let (f, l) = if run % 2 == 0 {
            let f = over_flight(&mut client, QUERY).await?;
            (f, in_process(&mut ctx, QUERY).await?)
        } else {
            let l = in_process(&mut ctx, QUERY).await?;
            (over_flight(&mut client, QUERY).await?, l)
        };
        if f.1.rows != rows || l.1.rows != rows || f.1.bytes != l.1.bytes {
            return Err(bench_error(format!(
                "the two sides disagree: flight {:?}, in-process {:?}, expected {rows} rows",
                f.1, l.1
            )));
        }
        volume = f.1;
        println!(
            "{:<8} {:>12.1} {:>10.0} {:>14.1} {:>10.0} {:>7.2}",
            run + 1,
            ms(f.0),
            mb_s(f.1, f.0),
            ms(l.0),
            mb_s(l.1, l.0),
            f.0.as_secs_f64() / l.0.as_secs_f64()
        );
        flight_times.push(f.0);
        local_times.push(l.0);
    }
    let best = |v: &[Duration]| v.iter().min().copied().unwrap_or_default();
    let (fb, lb) = (best(&flight_times), best(&local_times));
    let (fm, lm) = (median(flight_times), median(local_times));
    for (label, f, l) in [("best", fb, lb), ("median", fm, lm)] {
        println!(
            "{:<8} {:>12.1} {:>10.0} {:>14.1} {:>10.0} {:>7.2}",
            label,
            ms(f),
            mb_s(volume, f),
            ms(l),
            mb_s(volume, l),
            f.as_secs_f64() / l.as_secs_f64()
        );
    }
    println!(
        "volume: {} rows, {:.1} MB of Arrow buffers per run",
        volume.rows,
        volume.bytes as f64 / 1e6
    );
    let rate = mb_s(volume, fb);
    let ratio = fb.as_secs_f64() / lb.as_secs_f64();
    let verdict = |ok: bool| if ok { "met" } else { "missed" };
    println!(
        "Flight throughput (best of {runs}): {rate:.0} MB/s (goal >= {GOAL_MB_S:.0}: {})",
        verdict(rate >= GOAL_MB_S)
    );
    println!(
        "Flight / in-process time (best of {runs}): {ratio:.2} (goal <= {GOAL_RATIO:.2}: {})",
        verdict(ratio <= GOAL_RATIO)
    );

    println!();
    let trivial = args.trivial.max(1);
    for _ in 0..trivial.min(20) {
        first_batch(&mut client).await?;
    }
    let mut times = Vec::with_capacity(trivial);
    for _ in 0..trivial {
        times.push(first_batch(&mut client).await?);
    }
    times.sort();
    let p95 = times
        .get((times.len() * 95 / 100).min(times.len() - 1))
        .copied()
        .unwrap_or_default();
    let med = median(times);
    println!(
        "time to first batch, SELECT 1 on a warm connection ({trivial} runs): median {:.2} ms, \
         p95 {:.2} ms (goal < {GOAL_FIRST_MS:.0} ms: {})",
        ms(med),
        ms(p95),
        verdict(ms(med) < GOAL_FIRST_MS)
    );
    drop(client);
    drop(server);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn flight_bench_runs_and_both_sides_agree() -> Result<()> {
        run(&FlightArgs {
            rows: 5_000,
            runs: 2,
            trivial: 3,
        })
        .await
    }
}
