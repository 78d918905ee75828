//! `SELECT * FROM sample(model, n [, temperature [, seed [, max_len [, top_k [, top_p]]]]])`:
//! n independent samples of a model as a table — `(sample_id BIGINT, x ARRAY<INT>)` for a
//! binary model, `(sample_id BIGINT, seq STRING | ARRAY<BIGINT>)` for a sequence model —
//! produced batch by batch (a million samples never sit in memory at once) and split over
//! the session's partitions. Sample k depends only on the model, the options, the seed and k.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use apiary_models::{Model, SampleOptions, sample_rng};
use async_trait::async_trait;
use datafusion::arrow::array::{Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::datasource::TableType;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::memory::{LazyBatchGenerator, LazyMemoryExec};
use parking_lot::RwLock;

use super::input::{bits_to_list, int_list_type};
use super::registry::load;
use super::sequences::{SeqColumnBuilder, model_kind, sample_options, seq_type};
use crate::warehouse::Warehouse;

const WHAT: &str = "sample(model, n [, temperature [, seed [, max_len [, top_k [, top_p]]]]])";

/// The most samples one call may ask for.
const MAX_SAMPLES: u64 = 1 << 40;

/// The `sample` table function of a session on `warehouse`.
#[derive(Debug)]
pub struct SampleFunction {
    warehouse: Arc<Warehouse>,
}

impl SampleFunction {
    /// `sample(...)` over the models of `warehouse`.
    pub fn new(warehouse: &Arc<Warehouse>) -> Self {
        Self {
            warehouse: Arc::clone(warehouse),
        }
    }
}

fn constant(args: &[Expr], i: usize, name: &str) -> Result<Option<ScalarValue>> {
    match args.get(i) {
        None => Ok(None),
        Some(Expr::Literal(v, _)) => Ok(Some(v.clone())),
        Some(Expr::Negative(inner)) => match inner.as_ref() {
            Expr::Literal(v, _) => Ok(Some(v.arithmetic_negate()?)),
            _ => Err(not_constant(name)),
        },
        Some(Expr::Cast(c)) => match c.expr.as_ref() {
            Expr::Literal(v, _) => Ok(Some(v.cast_to(c.field.data_type())?)),
            _ => Err(not_constant(name)),
        },
        Some(_) => Err(not_constant(name)),
    }
}

fn not_constant(name: &str) -> DataFusionError {
    DataFusionError::Plan(format!("{WHAT}: {name} must be a constant"))
}

fn number(v: Option<ScalarValue>, name: &str) -> Result<Option<f64>> {
    match v {
        None => Ok(None),
        Some(v) if v.is_null() => Err(DataFusionError::Plan(format!("{WHAT}: {name} is NULL"))),
        Some(v) => match v.cast_to(&DataType::Float64) {
            Ok(ScalarValue::Float64(Some(x))) => Ok(Some(x)),
            _ => Err(DataFusionError::Plan(format!(
                "{WHAT}: {name} must be a number, not {}",
                v.data_type()
            ))),
        },
    }
}

impl TableFunctionImpl for SampleFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        if !(2..=7).contains(&exprs.len()) {
            return Err(DataFusionError::Plan(format!(
                "{WHAT} takes 2 to 7 arguments, got {}",
                exprs.len()
            )));
        }
        let name = match constant(exprs, 0, "the model")? {
            Some(v) => super::registry::scalar_name(WHAT, &v)?,
            None => return Err(not_constant("the model")),
        };
        let count = number(constant(exprs, 1, "n")?, "n")?.unwrap_or(0.0);
        if !(count.is_finite() && count >= 0.0 && count.fract() == 0.0)
            || count > MAX_SAMPLES as f64
        {
            return Err(DataFusionError::Plan(format!(
                "{WHAT}: n must be a whole number from 0 to {MAX_SAMPLES}, got {count}"
            )));
        }
        let temperature = number(constant(exprs, 2, "temperature")?, "temperature")?.unwrap_or(1.0);
        if !(temperature.is_finite() && temperature > 0.0) {
            return Err(DataFusionError::Plan(format!(
                "{WHAT}: temperature must be a number above 0, got {temperature}"
            )));
        }
        let seed = match number(constant(exprs, 3, "seed")?, "seed")? {
            Some(s) => s as i64 as u64,
            None => rand::random(),
        };
        let db = args
            .session()
            .config_options()
            .catalog
            .default_schema
            .clone();
        let loaded = load(&self.warehouse, &name, &db, WHAT)?;
        let named = format!(
            "{WHAT} with model {}.{}",
            loaded.entry.db, loaded.entry.name
        );
        let (options, x) = match loaded.model.as_ref() {
            Model::Binary(b) => {
                if exprs.len() > 4 {
                    return Err(DataFusionError::Plan(format!(
                        "{named}: max_len, top_k and top_p are for sequence models; a binary \
                         model's samples have its length ({} bits)",
                        b.input_len()
                    )));
                }
                (None, Field::new("x", int_list_type(), false))
            }
            Model::Sequence(seq) => {
                let options = sample_options(
                    &named,
                    Some(temperature),
                    number(constant(exprs, 4, "max_len")?, "max_len")?,
                    number(constant(exprs, 5, "top_k")?, "top_k")?,
                    number(constant(exprs, 6, "top_p")?, "top_p")?,
                )?;
                // The model checks the options against itself (max_len within its context).
                seq.complete(&[], 0, &options, |_| Box::new(sample_rng(0, 0)))
                    .map_err(|e| DataFusionError::Plan(format!("{named}: {e}")))?;
                (
                    Some(options),
                    Field::new("seq", seq_type(model_kind(seq)), false),
                )
            }
        };
        Ok(Arc::new(Samples {
            model: loaded.model,
            count: count as u64,
            temperature,
            options,
            seed,
            schema: Arc::new(Schema::new(vec![
                Field::new("sample_id", DataType::Int64, false),
                x,
            ])),
        }))
    }
}

/// The samples of one `sample(...)` call, as a table.
#[derive(Debug)]
struct Samples {
    model: Arc<Model>,
    count: u64,
    temperature: f64,
    /// A sequence model's sampling options (`None` for a binary model).
    options: Option<SampleOptions>,
    seed: u64,
    schema: SchemaRef,
}

#[async_trait]
impl TableProvider for Samples {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(vec![
            TableProviderFilterPushDown::Unsupported;
            filters.len()
        ])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let count = limit.map_or(self.count, |l| self.count.min(l as u64));
        let batch_size = state.config().batch_size().max(1) as u64;
        // Contiguous ranges of sample ids per partition: sample k is the same whatever the split.
        let partitions = (state.config().target_partitions().max(1) as u64)
            .min(count.div_ceil(batch_size))
            .max(1);
        let per = count.div_ceil(partitions);
        let generators: Vec<Arc<RwLock<dyn LazyBatchGenerator>>> = (0..partitions)
            .map(|p| {
                let start = (p * per).min(count);
                let end = ((p + 1) * per).min(count);
                Arc::new(RwLock::new(SampleBatches {
                    model: Arc::clone(&self.model),
                    schema: Arc::clone(&self.schema),
                    temperature: self.temperature,
                    options: self.options,
                    seed: self.seed,
                    start,
                    next: start,
                    end,
                    batch_size,
                })) as Arc<RwLock<dyn LazyBatchGenerator>>
            })
            .collect();
        let exec = LazyMemoryExec::try_new(Arc::clone(&self.schema), generators)?;
        match projection {
            Some(p) => Ok(Arc::new(exec.with_projection(Some(p.clone())))),
            None => Ok(Arc::new(exec)),
        }
    }
}

/// One partition's samples, `batch_size` at a time.
#[derive(Debug, Clone)]
struct SampleBatches {
    model: Arc<Model>,
    schema: SchemaRef,
    temperature: f64,
    options: Option<SampleOptions>,
    seed: u64,
    start: u64,
    next: u64,
    end: u64,
    batch_size: u64,
}

impl fmt::Display for SampleBatches {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sample: ids {}..{}, temperature={}, seed={}",
            self.start, self.end, self.temperature, self.seed
        )
    }
}

impl LazyBatchGenerator for SampleBatches {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn generate_next_batch(&mut self) -> Result<Option<RecordBatch>> {
        if self.next >= self.end {
            return Ok(None);
        }
        let n = (self.end - self.next).min(self.batch_size);
        let x = match (self.model.as_ref(), &self.options) {
            (Model::Sequence(seq), Some(options)) => {
                let (first, seed) = (self.next, self.seed);
                let samples = seq
                    .complete(&[], n as usize, options, |k| {
                        Box::new(sample_rng(seed, first + k as u64))
                    })
                    .map_err(|e| DataFusionError::Execution(format!("{WHAT}: {e}")))?;
                let mut column = SeqColumnBuilder::new(model_kind(seq));
                for s in &samples {
                    column.push(seq.vocab(), "", 0, s);
                }
                column.finish()
            }
            _ => {
                let model = self
                    .model
                    .as_binary()
                    .map_err(|e| DataFusionError::Internal(e.to_string()))?;
                let samples = model
                    .sample_range(self.next, n as usize, self.temperature, self.seed)
                    .map_err(|e| DataFusionError::Execution(format!("{WHAT}: {e}")))?;
                bits_to_list(model.input_len(), samples.as_slice(), None)?
            }
        };
        let ids = Int64Array::from_iter_values((self.next..self.next + n).map(|i| i as i64));
        self.next += n;
        Ok(Some(RecordBatch::try_new(
            Arc::clone(&self.schema),
            vec![Arc::new(ids), x],
        )?))
    }

    fn reset_state(&self) -> Arc<RwLock<dyn LazyBatchGenerator>> {
        let mut fresh = self.clone();
        fresh.next = fresh.start;
        Arc::new(RwLock::new(fresh))
    }
}
