//! `GenerateExec`: runs any generator over a stream of batches.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use apiary_udfs::{GenerateCursor, Generator};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, RecordBatch, RecordBatchOptions, UInt32Array,
};
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::Constraints;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::equivalence::ProjectionMapping;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::projection::{ProjectionExec, ProjectionExpr};
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, PlanProperties,
};
use futures::{Stream, StreamExt};

use crate::plan::generate::describe_call;

/// Applies a generator to each input row. Output: the pass-through input columns, then the
/// generated columns. Batches never exceed the session's batch size.
#[derive(Debug, Clone)]
pub struct GenerateExec {
    input: Arc<dyn ExecutionPlan>,
    generator: Arc<dyn Generator>,
    args: Vec<Arc<dyn PhysicalExpr>>,
    outer: bool,
    alias: Option<String>,
    /// Input columns copied to the output, in output order.
    pass_through: Vec<usize>,
    generated: Vec<Field>,
    schema: SchemaRef,
    metrics: ExecutionPlanMetricsSet,
    cache: Arc<PlanProperties>,
}

impl GenerateExec {
    /// A Generate operator over `input`.
    pub fn try_new(
        input: Arc<dyn ExecutionPlan>,
        generator: Arc<dyn Generator>,
        args: Vec<Arc<dyn PhysicalExpr>>,
        outer: bool,
        alias: Option<String>,
        pass_through: Vec<usize>,
        generated: Vec<Field>,
    ) -> Result<Self> {
        let input_schema = input.schema();
        let mut fields: Vec<Field> = pass_through
            .iter()
            .map(|&i| input_schema.field(i).clone())
            .collect();
        fields.extend(generated.iter().cloned());
        let schema = Arc::new(Schema::new_with_metadata(
            fields,
            input_schema.metadata().clone(),
        ));
        let cache = Arc::new(Self::compute_properties(&input, &pass_through, &schema)?);
        Ok(Self {
            input,
            generator,
            args,
            outer,
            alias,
            pass_through,
            generated,
            schema,
            metrics: ExecutionPlanMetricsSet::new(),
            cache,
        })
    }

    /// Orderings and equivalences of pass-through columns survive (each input row's outputs
    /// stay together, in input order); uniqueness constraints do not.
    fn compute_properties(
        input: &Arc<dyn ExecutionPlan>,
        pass_through: &[usize],
        schema: &SchemaRef,
    ) -> Result<PlanProperties> {
        let input_schema = input.schema();
        if pass_through.len() == input_schema.fields().len()
            && pass_through.iter().enumerate().all(|(i, &p)| i == p)
        {
            // Every input column passes through in place: the input's equivalences,
            // orderings and partitioning hold as they are, at a cost independent of the
            // width (a chain of LATERAL VIEWs rebuilds each node many times while planning).
            let input_eq = input.equivalence_properties();
            let mut eq = EquivalenceProperties::new(Arc::clone(schema));
            eq.add_equivalence_group(input_eq.eq_group().clone())?;
            eq.add_orderings(input_eq.oeq_class().iter().cloned());
            return Ok(PlanProperties::new(
                eq,
                input.output_partitioning().clone(),
                input.pipeline_behavior(),
                input.boundedness(),
            ));
        }
        let mapping: Vec<(Arc<dyn PhysicalExpr>, String)> = pass_through
            .iter()
            .map(|&i| {
                let name = input_schema.field(i).name().clone();
                (
                    Arc::new(Column::new(&name, i)) as Arc<dyn PhysicalExpr>,
                    name,
                )
            })
            .collect();
        let mapping = ProjectionMapping::try_new(mapping, &input_schema)?;
        let eq = input
            .equivalence_properties()
            .project(&mapping, Arc::clone(schema))
            .with_constraints(Constraints::default());
        let partitioning = input.output_partitioning().project(&mapping, &eq);
        Ok(PlanProperties::new(
            eq,
            partitioning,
            input.pipeline_behavior(),
            input.boundedness(),
        ))
    }

    fn describe(&self) -> String {
        let args: Vec<String> = self.args.iter().map(|a| a.to_string()).collect();
        describe_call(
            self.generator.name(),
            &args,
            self.outer,
            self.alias.as_deref(),
            &self.generated,
        )
    }
}

impl DisplayAs for GenerateExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        match t {
            DisplayFormatType::Default | DisplayFormatType::Verbose => {
                write!(f, "GenerateExec: {}", self.describe())
            }
            DisplayFormatType::TreeRender => write!(f, "{}", self.describe()),
        }
    }
}

impl ExecutionPlan for GenerateExec {
    fn name(&self) -> &str {
        "GenerateExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.cache
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        for arg in &self.args {
            if f(arg)? == TreeNodeRecursion::Stop {
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let Some(input) = children.pop() else {
            return datafusion::common::internal_err!("GenerateExec takes one child");
        };
        if Arc::ptr_eq(&input, &self.input) {
            return Ok(self);
        }
        Ok(Arc::new(Self::try_new(
            input,
            Arc::clone(&self.generator),
            self.args.clone(),
            self.outer,
            self.alias.clone(),
            self.pass_through.clone(),
            self.generated.clone(),
        )?))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let batch_size = context.session_config().batch_size().max(1);
        let reservation = MemoryConsumer::new(format!("GenerateExec[{partition}]"))
            .register(context.memory_pool());
        let input = self.input.execute(partition, context)?;
        Ok(Box::pin(GenerateStream {
            input,
            generator: Arc::clone(&self.generator),
            args: self.args.clone(),
            outer: self.outer,
            pass_through: self.pass_through.clone(),
            generated: self.generated.clone(),
            schema: Arc::clone(&self.schema),
            batch_size,
            current: None,
            pending: None,
            metrics: BaselineMetrics::new(&self.metrics, partition),
            reservation,
        }))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    /// Drops pass-through columns that nothing above uses (typically the exploded list
    /// itself), so they are not copied into every output row.
    fn try_swapping_with_projection(
        &self,
        projection: &ProjectionExec,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let width = self.pass_through.len();
        let mut used = vec![false; width];
        for pe in projection.expr() {
            pe.expr.apply(|e| {
                if let Some(c) = e.downcast_ref::<Column>()
                    && c.index() < width
                {
                    used[c.index()] = true;
                }
                Ok(TreeNodeRecursion::Continue)
            })?;
        }
        if used.iter().all(|u| *u) {
            return Ok(None);
        }
        // New output index of each old output column.
        let mut remap = Vec::with_capacity(width + self.generated.len());
        let mut kept = Vec::new();
        for (i, &input_col) in self.pass_through.iter().enumerate() {
            if used[i] {
                remap.push(Some(kept.len()));
                kept.push(input_col);
            } else {
                remap.push(None);
            }
        }
        for g in 0..self.generated.len() {
            remap.push(Some(kept.len() + g));
        }
        let narrowed = Arc::new(Self::try_new(
            Arc::clone(&self.input),
            Arc::clone(&self.generator),
            self.args.clone(),
            self.outer,
            self.alias.clone(),
            kept,
            self.generated.clone(),
        )?);
        let new_schema = narrowed.schema();
        let exprs = projection
            .expr()
            .iter()
            .map(|pe| {
                let expr = Arc::clone(&pe.expr).transform_up(|e| {
                    if let Some(c) = e.downcast_ref::<Column>()
                        && let Some(Some(new)) = remap.get(c.index())
                    {
                        let name = new_schema.field(*new).name();
                        return Ok(Transformed::yes(
                            Arc::new(Column::new(name, *new)) as Arc<dyn PhysicalExpr>
                        ));
                    }
                    Ok(Transformed::no(e))
                })?;
                Ok(ProjectionExpr {
                    expr: expr.data,
                    alias: pe.alias.clone(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(Arc::new(ProjectionExec::try_new(exprs, narrowed)?)))
    }
}

/// The bytes one output batch may copy from its input rows: a wide input row (a long string)
/// repeated for each of its generated rows is cut into batches of about this size, not
/// copied `batch_size` times at once.
const OUTPUT_BATCH_BYTES: usize = 32 << 20;

/// The batch being generated from, with its evaluated arguments.
struct CurrentBatch {
    batch: RecordBatch,
    args: Vec<ArrayRef>,
    /// Memory the evaluated arguments take.
    args_bytes: usize,
    /// Bytes each input row's pass-through columns take in an output row.
    row_bytes: Arc<Vec<usize>>,
    cursor: GenerateCursor,
    /// OUTER: input rows below this index are accounted for.
    next_unseen: usize,
}

/// Generated rows not yet sent: the output batches are cut from them on demand.
struct Pending {
    batch: RecordBatch,
    row_bytes: Arc<Vec<usize>>,
    row_ids: UInt32Array,
    columns: Vec<ArrayRef>,
    /// Memory the generated columns take.
    bytes: usize,
    /// The first row not yet sent.
    next: usize,
}

struct GenerateStream {
    input: SendableRecordBatchStream,
    generator: Arc<dyn Generator>,
    args: Vec<Arc<dyn PhysicalExpr>>,
    outer: bool,
    pass_through: Vec<usize>,
    generated: Vec<Field>,
    schema: SchemaRef,
    batch_size: usize,
    current: Option<CurrentBatch>,
    pending: Option<Pending>,
    metrics: BaselineMetrics,
    /// What this stream holds (evaluated arguments, generated rows), drawn from the
    /// session's memory pool.
    reservation: MemoryReservation,
}

impl GenerateStream {
    /// Generates the next chunk from the current batch, keeping it as the pending rows.
    fn step(&mut self) -> Result<()> {
        let Some(current) = self.current.as_mut() else {
            return Ok(());
        };
        let batch = current.batch.clone();
        let row_bytes = Arc::clone(&current.row_bytes);
        let num_rows = batch.num_rows();
        let chunk = self.generator.generate(
            &current.args,
            num_rows,
            &mut current.cursor,
            self.batch_size,
        )?;
        let finished = current.cursor.row >= num_rows;
        let (row_ids, columns) = if self.outer {
            // Interleave NULL-padded rows for the input rows that generated nothing.
            let mut in_idx: Vec<u32> = Vec::with_capacity(chunk.row_ids.len());
            let mut gen_idx: Vec<Option<u32>> = Vec::with_capacity(chunk.row_ids.len());
            let mut padded = false;
            for (k, &r) in chunk.row_ids.values().iter().enumerate() {
                let r = r as usize;
                while current.next_unseen < r {
                    in_idx.push(current.next_unseen as u32);
                    gen_idx.push(None);
                    current.next_unseen += 1;
                    padded = true;
                }
                in_idx.push(r as u32);
                gen_idx.push(Some(k as u32));
                current.next_unseen = current.next_unseen.max(r + 1);
            }
            if finished {
                while current.next_unseen < num_rows {
                    in_idx.push(current.next_unseen as u32);
                    gen_idx.push(None);
                    current.next_unseen += 1;
                    padded = true;
                }
            }
            if padded {
                let gen_idx = UInt32Array::from(gen_idx);
                let columns = chunk
                    .columns
                    .iter()
                    .map(|c| Ok(take(c.as_ref(), &gen_idx, None)?))
                    .collect::<Result<Vec<_>>>()?;
                (UInt32Array::from(in_idx), columns)
            } else {
                (chunk.row_ids, chunk.columns)
            }
        } else {
            (chunk.row_ids, chunk.columns)
        };
        if finished {
            self.current = None;
        }
        if !row_ids.is_empty() {
            let mut bytes = 0;
            for c in &columns {
                bytes += c.to_data().get_slice_memory_size()?;
            }
            self.pending = Some(Pending {
                batch,
                row_bytes,
                row_ids,
                columns,
                bytes,
                next: 0,
            });
        }
        self.account()
    }

    /// The next output batch from the pending rows: at most `batch_size` rows, and no more
    /// than [`OUTPUT_BATCH_BYTES`] copied from the input (always at least one row).
    fn next_output(&mut self) -> Result<Option<RecordBatch>> {
        let Some(pending) = self.pending.as_mut() else {
            return Ok(None);
        };
        let total = pending.row_ids.len();
        let start = pending.next;
        let mut end = start;
        let mut copied = 0usize;
        while end < total && end - start < self.batch_size {
            let row = pending.row_ids.value(end) as usize;
            let bytes = pending.row_bytes.get(row).copied().unwrap_or(0);
            if end > start && copied.saturating_add(bytes) > OUTPUT_BATCH_BYTES {
                break;
            }
            copied = copied.saturating_add(bytes);
            end += 1;
        }
        let n = end - start;
        let row_ids = pending.row_ids.slice(start, n);
        let mut columns_out = Vec::with_capacity(self.schema.fields().len());
        for &i in &self.pass_through {
            columns_out.push(take(pending.batch.column(i).as_ref(), &row_ids, None)?);
        }
        for (column, field) in pending.columns.iter().zip(&self.generated) {
            let column = column.slice(start, n);
            // A generator may hand back a NULL-typed column for an all-NULL input.
            if column.data_type() != field.data_type() {
                columns_out.push(datafusion::arrow::compute::cast(
                    column.as_ref(),
                    field.data_type(),
                )?);
            } else {
                columns_out.push(column);
            }
        }
        let out = RecordBatch::try_new_with_options(
            Arc::clone(&self.schema),
            columns_out,
            &RecordBatchOptions::new().with_row_count(Some(n)),
        )?;
        pending.next = end;
        if end >= total {
            self.pending = None;
            self.account()?;
        }
        Ok(Some(out))
    }

    fn start_batch(&mut self, batch: RecordBatch) -> Result<()> {
        let args = self
            .args
            .iter()
            .map(|e| e.evaluate(&batch)?.into_array(batch.num_rows()))
            .collect::<Result<Vec<_>>>()?;
        let args_bytes = args.iter().map(|a| a.get_array_memory_size()).sum();
        let row_bytes = Arc::new(row_sizes(&batch, &self.pass_through));
        self.current = Some(CurrentBatch {
            batch,
            args,
            args_bytes,
            row_bytes,
            cursor: GenerateCursor::default(),
            next_unseen: 0,
        });
        self.account()
    }

    /// Resizes the reservation to what the stream holds; an error when the pool cannot give
    /// it.
    fn account(&mut self) -> Result<()> {
        let held = self.current.as_ref().map_or(0, |c| c.args_bytes)
            + self.pending.as_ref().map_or(0, |p| p.bytes);
        self.reservation.try_resize(held).map_err(|e| {
            DataFusionError::ResourcesExhausted(format!(
                "{}: the rows it generates from one input batch need {}, more than the memory \
                 pool can give: {}",
                self.generator.name(),
                apiary_udfs::memory_bound::human_bytes(held as u128),
                e.strip_backtrace()
            ))
        })
    }
}

/// The bytes each row's pass-through columns take when copied into an output row: exact for
/// fixed-width and string or binary columns, the column's average row for others.
fn row_sizes(batch: &RecordBatch, pass_through: &[usize]) -> Vec<usize> {
    let rows = batch.num_rows();
    let mut sizes = vec![0usize; rows];
    for &i in pass_through {
        let column = batch.column(i);
        let per_row: Box<dyn Fn(usize) -> usize> = match column.data_type() {
            DataType::Utf8 => {
                let a = column.as_string::<i32>();
                Box::new(move |r| a.value_length(r) as usize + 4)
            }
            DataType::LargeUtf8 => {
                let a = column.as_string::<i64>();
                Box::new(move |r| a.value_length(r) as usize + 8)
            }
            DataType::Binary => {
                let a = column.as_binary::<i32>();
                Box::new(move |r| a.value_length(r) as usize + 4)
            }
            DataType::LargeBinary => {
                let a = column.as_binary::<i64>();
                Box::new(move |r| a.value_length(r) as usize + 8)
            }
            DataType::Utf8View => {
                let a = column.as_string_view();
                Box::new(move |r| a.value(r).len() + 16)
            }
            DataType::BinaryView => {
                let a = column.as_binary_view();
                Box::new(move |r| a.value(r).len() + 16)
            }
            other => {
                let width = other
                    .primitive_width()
                    .unwrap_or_else(|| column.get_array_memory_size() / rows.max(1));
                Box::new(move |_| width)
            }
        };
        for (r, size) in sizes.iter_mut().enumerate() {
            *size = size.saturating_add(per_row(r));
        }
    }
    sizes
}

impl Stream for GenerateStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if self.pending.is_some() {
                let elapsed = self.metrics.elapsed_compute().clone();
                let timer = elapsed.timer();
                let output = self.next_output();
                timer.done();
                match output {
                    Ok(Some(batch)) => {
                        self.metrics.record_output(batch.num_rows());
                        return Poll::Ready(Some(Ok(batch)));
                    }
                    Ok(None) => {}
                    Err(e) => {
                        self.pending = None;
                        self.current = None;
                        return Poll::Ready(Some(Err(e)));
                    }
                }
                continue;
            }
            if self.current.is_some() {
                let elapsed = self.metrics.elapsed_compute().clone();
                let timer = elapsed.timer();
                let stepped = self.step();
                timer.done();
                if let Err(e) = stepped {
                    self.current = None;
                    self.pending = None;
                    return Poll::Ready(Some(Err(e)));
                }
                continue;
            }
            match self.input.poll_next_unpin(cx) {
                Poll::Ready(Some(Ok(batch))) => {
                    if batch.num_rows() > 0
                        && let Err(e) = self.start_batch(batch)
                    {
                        self.current = None;
                        return Poll::Ready(Some(Err(e)));
                    }
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => {
                    self.reservation.free();
                    self.metrics.done();
                    return Poll::Ready(None);
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl RecordBatchStream for GenerateStream {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
}
