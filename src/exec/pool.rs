//! The query pool: a tokio runtime of its own on which statements run — parsing, planning,
//! DDL and DML, execution — apart from the runtime that serves the network (the pattern of
//! DataFusion's `thread_pools` example and InfluxDB's `DedicatedExecutor`). A CPU-bound query
//! then cannot delay a new client's handshake, and work whose caller went away is aborted:
//! dropping a [`PoolTask`] or a [`QueryPool::stream`] aborts the task at its next yield point
//! (DataFusion's operators yield through tokio's cooperative budget; see [`with_yield_points`]
//! for the operators that need help).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use datafusion::common::Result as DFResult;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::coop::CooperativeExec;
use datafusion::physical_plan::execution_plan::CardinalityEffect;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{ChildrenPropertiesMode, ExecutionPlan, ReplaceChildrenOptions};
use futures::StreamExt;
use tokio::runtime::{Handle, Runtime};
use tokio::task::{AbortHandle, JoinError, JoinHandle};

use crate::error::{ApiaryError, Result};

/// Batches a pool stream computes ahead of its reader: the work pauses when they wait unread.
const STREAM_BUFFER: usize = 2;

/// How many scheduling ticks a pool worker runs its own tasks before it looks at the tasks
/// other threads handed it (tokio's default is 61): a new statement starts sooner while
/// long queries run.
const GLOBAL_QUEUE_INTERVAL: u32 = 7;

/// A runtime for statements, apart from the one that serves the network.
pub struct QueryPool {
    /// `Some` until the pool is dropped (then shut down without waiting).
    runtime: Option<Runtime>,
    handle: Handle,
}

impl std::fmt::Debug for QueryPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryPool").finish_non_exhaustive()
    }
}

impl QueryPool {
    /// A pool of `threads` worker threads named `name`, each with the statement stack
    /// ([`super::STATEMENT_STACK_SIZE`]).
    pub fn new(name: &str, threads: usize) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name(name)
            .thread_stack_size(super::STATEMENT_STACK_SIZE)
            .global_queue_interval(GLOBAL_QUEUE_INTERVAL)
            .enable_all()
            .build()
            .map_err(|source| ApiaryError::Io {
                path: std::path::PathBuf::from(format!("{name} threads")),
                source,
            })?;
        let handle = runtime.handle().clone();
        Ok(Self {
            runtime: Some(runtime),
            handle,
        })
    }

    /// A pool with one worker thread per CPU the process may use, and at least two: a
    /// statement that never yields (a long planning pass, say) then leaves a thread for the
    /// others even on one CPU.
    pub fn with_available_parallelism(name: &str) -> Result<Self> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::new(name, threads.max(2))
    }

    /// Runs `work` on the pool. Awaiting the task gives its output; dropping it aborts the
    /// work.
    pub fn spawn<F>(&self, work: F) -> PoolTask<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        PoolTask {
            handle: self.handle.spawn(work),
        }
    }

    /// Drives `stream` on the pool and hands its batches over a bounded channel: the work
    /// runs at most [`STREAM_BUFFER`] batches ahead of the reader. The work stops when the
    /// returned stream is dropped, when [`PoolStream::abort`] is called, or at `deadline`;
    /// `hold` (a slot among the running queries, say) is kept as long as the work runs. A
    /// stream stopped before its end ends with an error, never as if complete.
    pub fn stream<H: Send + 'static>(
        &self,
        mut stream: SendableRecordBatchStream,
        hold: H,
        deadline: Option<tokio::time::Instant>,
    ) -> PoolStream {
        let schema = stream.schema();
        let (sender, mut receiver) = tokio::sync::mpsc::channel(STREAM_BUFFER);
        let finished = Arc::new(AtomicBool::new(false));
        let done = Arc::clone(&finished);
        let pump = async move {
            let _hold = hold;
            loop {
                let next = tokio::select! {
                    // The reader went away: stop computing (the query is dropped here).
                    _ = sender.closed() => return,
                    next = stream.next() => next,
                };
                let Some(item) = next else { break };
                let failed = item.is_err();
                if sender.send(item).await.is_err() {
                    return;
                }
                if failed {
                    break;
                }
            }
            done.store(true, Ordering::Release);
        };
        let task = self.spawn(async move {
            match deadline {
                Some(at) => {
                    let _ = tokio::time::timeout_at(at, pump).await;
                }
                None => pump.await,
            }
        });
        let abort = task.handle.abort_handle();
        let mut ended = false;
        let batches = futures::stream::poll_fn(move |cx| {
            // The task lives as long as its reader: dropping this stream aborts it.
            let _owned = &task;
            if ended {
                return Poll::Ready(None);
            }
            match receiver.poll_recv(cx) {
                Poll::Ready(None) => {
                    ended = true;
                    if finished.load(Ordering::Acquire) {
                        Poll::Ready(None)
                    } else {
                        Poll::Ready(Some(Err(DataFusionError::Execution(STOPPED.to_string()))))
                    }
                }
                other => other,
            }
        });
        PoolStream {
            stream: Box::pin(RecordBatchStreamAdapter::new(schema, batches)),
            abort,
        }
    }
}

/// The error a pool stream ends with when its work stopped before the end (aborted, timed
/// out, or failed).
pub const STOPPED: &str = "the query was stopped before it finished";

/// A stream whose work runs on a [`QueryPool`].
pub struct PoolStream {
    /// The batches.
    pub stream: SendableRecordBatchStream,
    /// Stops the work now (the stream then ends with an error).
    pub abort: AbortHandle,
}

impl std::fmt::Debug for PoolStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolStream").finish_non_exhaustive()
    }
}

impl Drop for QueryPool {
    fn drop(&mut self) {
        // Statements still running (a CPU-bound one may not reach a yield point soon) must
        // not hold the process: their threads are left to end with it.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Work running on a [`QueryPool`]; dropping it aborts the work.
#[derive(Debug)]
pub struct PoolTask<T> {
    handle: JoinHandle<T>,
}

impl<T> Future for PoolTask<T> {
    /// The work's output, or how it ended without one (panicked or aborted).
    type Output = std::result::Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.handle).poll(cx)
    }
}

impl<T> Drop for PoolTask<T> {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

/// `plan` with a yield point above every operator that may emit more batches than it reads:
/// the joins (a cross join emits one batch per build-side row for each probe batch it reads),
/// `UnnestExec` and Apiary's `GenerateExec` (one input row may generate millions of rows).
/// DataFusion's cooperative scheduling consumes tokio's task budget only where batches are
/// read from sources and exchanges, so a consumer looping over such an operator's output
/// (an aggregate, say) would run for as long as the operator keeps producing, never yielding:
/// it could be neither aborted nor interleaved with other statements. [`CooperativeExec`]
/// consumes one unit of budget per batch (the task yields every 128 batches).
///
/// Every yield point on the way from the root to a source consumes budget on each poll, and
/// a task whose budget runs out before its poll reaches a source never makes progress: a
/// chain of a thousand LATERAL VIEWs with a yield point above each livelocked. So a yield
/// point is added only where none lies within [`YIELD_POINT_SPACING`] levels below.
pub fn with_yield_points(plan: Arc<dyn ExecutionPlan>) -> DFResult<Arc<dyn ExecutionPlan>> {
    let needs_yield_point = |node: &Arc<dyn ExecutionPlan>| {
        multiplies(node) && !yield_point_below(node, YIELD_POINT_SPACING)
    };
    let plan = plan
        .transform_up(|node| {
            if node.is::<CooperativeExec>() || !node.children().into_iter().any(needs_yield_point) {
                return Ok(Transformed::no(node));
            }
            let children = node
                .children()
                .into_iter()
                .map(|child| {
                    if needs_yield_point(child) {
                        Arc::new(CooperativeExec::new(Arc::clone(child))) as Arc<dyn ExecutionPlan>
                    } else {
                        Arc::clone(child)
                    }
                })
                .collect();
            let options = ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute);
            Ok(Transformed::yes(node.replace_children(children, options)?))
        })?
        .data;
    Ok(if needs_yield_point(&plan) {
        Arc::new(CooperativeExec::new(plan))
    } else {
        plan
    })
}

/// The fewest levels between two yield points [`with_yield_points`] adds: a path through
/// the deepest plan the nesting limit lets through (3,000 levels) then holds at most 47 of
/// them, well within tokio's budget of 128 a poll.
const YIELD_POINT_SPACING: usize = 64;

/// Whether a [`CooperativeExec`] lies in `node`'s subtree within `levels` levels (at most a
/// few hundred nodes are looked at: a bushy subtree counts as having one).
fn yield_point_below(node: &Arc<dyn ExecutionPlan>, levels: usize) -> bool {
    let mut budget = 256usize;
    let mut stack = vec![(Arc::clone(node), 0usize)];
    while let Some((n, depth)) = stack.pop() {
        if n.is::<CooperativeExec>() {
            return true;
        }
        budget = budget.saturating_sub(1);
        if budget == 0 {
            return true;
        }
        if depth < levels {
            stack.extend(n.children().into_iter().map(|c| (Arc::clone(c), depth + 1)));
        }
    }
    false
}

/// Whether `node` may emit more batches than it reads, with no yield point of its own.
fn multiplies(node: &Arc<dyn ExecutionPlan>) -> bool {
    !node.children().is_empty()
        && !node.is::<CooperativeExec>()
        && matches!(
            node.cardinality_effect(),
            CardinalityEffect::Unknown | CardinalityEffect::GreaterEqual
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::physical_plan::displayable;
    use datafusion::prelude::SessionContext;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    fn pool() -> QueryPool {
        QueryPool::new("apiary-test", 2).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[tokio::test]
    async fn a_dropped_task_stops_its_work() {
        let pool = pool();
        let steps = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&steps);
        let task = pool.spawn(async move {
            loop {
                counted.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(task);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let stopped_at = steps.load(Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(stopped_at > 0);
        assert_eq!(steps.load(Ordering::Relaxed), stopped_at);
        assert_eq!(pool.spawn(async { 6 * 7 }).await.ok(), Some(42));
    }

    #[tokio::test]
    async fn an_aborted_stream_ends_with_an_error_not_as_complete() {
        let ctx = SessionContext::new();
        let query = |sql: &'static str| {
            let ctx = ctx.clone();
            async move {
                let df = ctx.sql(sql).await.unwrap_or_else(|e| unreachable!("{e}"));
                df.execute_stream()
                    .await
                    .unwrap_or_else(|e| unreachable!("{e}"))
            }
        };
        let pool = pool();
        let whole = pool.stream(query("SELECT * FROM range(100000)").await, (), None);
        let rows: usize = whole
            .stream
            .map(|b| b.map(|b| b.num_rows()).unwrap_or(0))
            .fold(0, |a, n| async move { a + n })
            .await;
        assert_eq!(rows, 100_000);

        let mut cut = pool.stream(query("SELECT * FROM range(1000000000)").await, (), None);
        assert!(matches!(cut.stream.next().await, Some(Ok(_))));
        cut.abort.abort();
        let last = loop {
            match cut.stream.next().await {
                Some(Ok(_)) => continue,
                other => break other,
            }
        };
        let message = match last {
            Some(Err(e)) => e.to_string(),
            other => unreachable!("the stream ended so: {other:?}"),
        };
        assert!(message.contains(STOPPED), "{message}");
    }

    #[tokio::test]
    async fn cross_joins_get_a_yield_point_and_projections_do_not() {
        let ctx = SessionContext::new();
        let df = ctx
            .sql("SELECT a.value + 1 FROM range(10) a CROSS JOIN range(10) b")
            .await
            .unwrap_or_else(|e| unreachable!("{e}"));
        let plan = df
            .create_physical_plan()
            .await
            .unwrap_or_else(|e| unreachable!("{e}"));
        let plan = with_yield_points(plan).unwrap_or_else(|e| unreachable!("{e}"));
        let shown = displayable(plan.as_ref()).indent(false).to_string();
        let lines: Vec<&str> = shown.lines().map(str::trim).collect();
        let join = lines
            .iter()
            .position(|l| l.starts_with("CrossJoinExec"))
            .unwrap_or_else(|| unreachable!("{shown}"));
        assert!(
            join > 0 && lines[join - 1].starts_with("CooperativeExec"),
            "{shown}"
        );
        assert!(lines[0].starts_with("ProjectionExec"), "{shown}");
        // Applied twice, nothing more is wrapped.
        let again = with_yield_points(Arc::clone(&plan)).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(displayable(again.as_ref()).indent(false).to_string(), shown);
    }
}
