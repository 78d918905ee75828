//! `CREATE MODEL`, `SHOW MODELS`, `DESCRIBE MODEL`, `DROP MODEL`.

use std::sync::Arc;

use apiary_models::{
    BitMatrix, Model, ModelType, SequenceOptions, TrainOptions, TrainReport, TrainingRows, Vocab,
};
use apiary_udfs::memory_bound::human_bytes;
use datafusion::arrow::array::{
    Array, AsArray, Float64Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::physical_plan::execute_stream;
use datafusion::physical_plan::memory::MemoryStream;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{Query, Statement};
use futures::StreamExt;
use serde_json::json;

use super::input::{append_rows, is_bit_list};
use super::progress::{CancelFlag, CancelOnDrop, Progress};
use super::sequences::{SeqKind, as_id_lists, as_utf8, input_description, seq_kind, sql_type};
use crate::error::{ApiaryError, Result};
use crate::session::{StatementOutput, string_rows};
use crate::sql::command::like_matches;
use crate::sql::hive_statements::TableName;
use crate::sql::model_statements::ModelStatement;
use crate::warehouse::Warehouse;
use crate::warehouse::models::{ModelEntry, ModelWrite};

/// What a model statement runs with.
pub struct ModelSession<'a> {
    /// The session (its current database, and the planner for the training query).
    pub ctx: &'a SessionContext,
    /// The warehouse that stores models.
    pub warehouse: &'a Arc<Warehouse>,
    /// Whether training shows a progress bar (a terminal, not `-S`, not a server).
    pub progress_bar: bool,
}

/// The options of a training run, by family.
enum Plan {
    Binary(TrainOptions),
    Sequence(SequenceOptions),
}

/// The rows of a training run, by family.
enum TrainingData {
    Bits(BitMatrix),
    Sequences(TrainingRows),
}

fn usage(message: impl Into<String>) -> ApiaryError {
    ApiaryError::Usage(message.into())
}

/// Bytes a training row costs besides its values (the `String`/`Vec` and its query row number).
const ROW_OVERHEAD: usize = 32;

/// Grows the training rows' reservation to `bytes`; an error when the pool cannot give them.
fn hold_rows(reservation: &mut MemoryReservation, qualified: &str, bytes: usize) -> Result<()> {
    reservation.try_resize(bytes).map_err(|e| {
        usage(format!(
            "CREATE MODEL {qualified}: the training rows take more than {} so far, more than \
             the memory pool can give. {}",
            human_bytes(bytes as u128),
            e.strip_backtrace()
        ))
    })
}

/// The machine's physical memory (Linux: `MemTotal` of /proc/meminfo); `None` elsewhere.
fn physical_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

impl ModelSession<'_> {
    fn current_database(&self) -> String {
        self.ctx
            .state()
            .config_options()
            .catalog
            .default_schema
            .clone()
    }

    fn resolve(&self, name: &TableName) -> (String, String) {
        (
            name.db.clone().unwrap_or_else(|| self.current_database()),
            name.name.clone(),
        )
    }

    /// Runs a model statement.
    pub async fn execute(&self, statement: ModelStatement) -> Result<StatementOutput> {
        match statement {
            ModelStatement::Create {
                name,
                or_replace,
                if_not_exists,
                options,
                query,
            } => {
                self.create(&name, or_replace, if_not_exists, options, &query)
                    .await
            }
            ModelStatement::Show { db, pattern } => self.show(db, pattern),
            ModelStatement::Describe(name) => self.describe(&name),
            ModelStatement::Drop { name, if_exists } => {
                let (db, model) = self.resolve(&name);
                if !self.warehouse.drop_model(&db, &model)? && !if_exists {
                    return Err(usage(format!(
                        "DROP MODEL: no model '{model}' in database '{db}'"
                    )));
                }
                Ok(StatementOutput::Done)
            }
        }
    }

    async fn create(
        &self,
        name: &TableName,
        or_replace: bool,
        if_not_exists: bool,
        mut options: Vec<(String, String)>,
        query: &Query,
    ) -> Result<StatementOutput> {
        let (db, model_name) = self.resolve(name);
        let qualified = format!("{db}.{model_name}");
        if self.warehouse.metastore().database(&db)?.is_none() {
            return Err(usage(format!(
                "CREATE MODEL {qualified}: database '{db}' does not exist"
            )));
        }
        if !or_replace
            && self
                .warehouse
                .metastore()
                .model(&db, &model_name)?
                .is_some()
        {
            return if if_not_exists {
                Ok(StatementOutput::Done)
            } else {
                Err(usage(format!(
                    "CREATE MODEL: model {qualified} already exists (CREATE OR REPLACE MODEL \
                     replaces it)"
                )))
            };
        }
        let position = options.iter().position(|(k, _)| k == "model_type");
        let model_type = position.map(|i| options.remove(i).1).ok_or_else(|| {
            usage(format!(
                "CREATE MODEL {qualified}: OPTIONS must give model_type ('bernoulli', 'fvsbn', \
                 'nade', 'bigram' or 'transformer')"
            ))
        })?;
        let sequence = model_type
            .trim()
            .parse::<ModelType>()
            .is_ok_and(ModelType::is_sequence);
        let plan = if sequence {
            Plan::Sequence(
                SequenceOptions::from_options(&model_type, &options)
                    .map_err(|e| usage(format!("CREATE MODEL {qualified}: {e}")))?,
            )
        } else {
            Plan::Binary(
                TrainOptions::from_options(&model_type, &options)
                    .map_err(|e| usage(format!("CREATE MODEL {qualified}: {e}")))?,
            )
        };
        // The query row of each training row (NULL rows are skipped), for error messages.
        let mut origin = Vec::new();
        let data = if sequence {
            let (rows, rows_origin) = self.sequence_rows(&qualified, query).await?;
            origin = rows_origin;
            TrainingData::Sequences(rows)
        } else {
            TrainingData::Bits(self.training_rows(&qualified, query).await?)
        };

        // What training will allocate, reserved (or refused) before it starts; held until it
        // ends.
        let needed = match (&plan, &data) {
            (Plan::Binary(o), TrainingData::Bits(d)) => {
                apiary_models::binary_training_bytes(o, d.n(), d.rows())
            }
            (Plan::Sequence(o), TrainingData::Sequences(rows)) => {
                apiary_models::sequence_training_bytes(o, rows)
            }
            _ => Ok(0),
        }
        .map_err(|e| usage(format!("CREATE MODEL {qualified}: {e}")))?;
        let _training = self.reserve_training(&qualified, needed)?;

        // Train off the async runtime; dropping this statement (Ctrl-C, a client gone)
        // cancels the run through the flag, and nothing is stored.
        let cancel = CancelFlag::default();
        let _guard = CancelOnDrop(cancel.clone());
        let mut progress = Progress::new(self.progress_bar, cancel, model_name.clone());
        if sequence {
            progress = progress.with_steps();
        }
        let trained = tokio::task::spawn_blocking(move || {
            let outcome = match (&plan, &data) {
                (Plan::Binary(o), TrainingData::Bits(d)) => {
                    apiary_models::train(o, d, &mut progress)
                }
                (Plan::Sequence(o), TrainingData::Sequences(rows)) => {
                    apiary_models::train_sequences(o, rows, &mut progress)
                }
                _ => Err(apiary_models::ModelError::BadInput(
                    "the training rows do not fit the model type".into(),
                )),
            };
            progress.finish();
            outcome
        })
        .await
        .map_err(|e| usage(format!("CREATE MODEL {qualified}: training stopped: {e}")))?
        .map_err(|e| {
            let message = query_row_numbers(&e.to_string(), &origin);
            usage(format!("CREATE MODEL {qualified}: {message}"))
        })?;
        let (model, report) = trained;
        let details = details(&model, &report, query);
        let mode = if or_replace {
            ModelWrite::Replace
        } else {
            ModelWrite::Create
        };
        self.warehouse.store_model(
            &db,
            &model_name,
            model.model_type().as_str(),
            &details.to_string(),
            &model.to_safetensors(),
            mode,
        )?;
        Ok(summary(&qualified, &model, &report))
    }

    /// Reserves `bytes` for training from the session's memory pool; refuses when the pool
    /// cannot give them, or (with no memory limit) when they exceed the machine's memory.
    fn reserve_training(&self, qualified: &str, bytes: u128) -> Result<MemoryReservation> {
        let needed = human_bytes(bytes);
        let what = "weights, gradients, optimizer state and the activations of a batch";
        if let Some(total) = physical_memory()
            && bytes > u128::from(total)
        {
            return Err(usage(format!(
                "CREATE MODEL {qualified}: training needs about {needed} ({what}), more than \
                 this machine's {} of memory; choose smaller options",
                human_bytes(u128::from(total))
            )));
        }
        let pool = Arc::clone(&self.ctx.runtime_env().memory_pool);
        let reservation = MemoryConsumer::new(format!("CREATE MODEL {qualified}")).register(&pool);
        reservation
            .try_grow(usize::try_from(bytes).unwrap_or(usize::MAX))
            .map_err(|e| {
                usage(format!(
                    "CREATE MODEL {qualified}: training needs about {needed} ({what}), more \
                     than the memory pool can give; choose smaller options. {}",
                    e.strip_backtrace()
                ))
            })?;
        Ok(reservation)
    }

    /// A reservation for the training rows as they are read, so that a training query
    /// larger than the memory pool fails cleanly.
    fn rows_reservation(&self, qualified: &str) -> MemoryReservation {
        MemoryConsumer::new(format!("CREATE MODEL {qualified} (training rows)"))
            .register(&self.ctx.runtime_env().memory_pool)
    }

    /// Plans the training query; its one column's field and the plan.
    async fn training_plan(
        &self,
        qualified: &str,
        query: &Query,
    ) -> Result<(Field, datafusion::logical_expr::LogicalPlan)> {
        let statement = DFStatement::Statement(Box::new(Statement::Query(Box::new(query.clone()))));
        let plan = self.ctx.state().statement_to_plan(statement).await?;
        let schema = plan.schema().as_arrow().clone();
        if schema.fields().len() != 1 {
            return Err(usage(format!(
                "CREATE MODEL {qualified}: the query must select one column (the training \
                 rows), not {}",
                schema.fields().len()
            )));
        }
        Ok((schema.field(0).clone(), plan))
    }

    /// Runs the training query in one partition: its rows arrive in the query's own order on
    /// every run (a table split over partitions would interleave them by thread timing), so
    /// the same data, options and seed train the same model.
    async fn training_stream(
        &self,
        plan: datafusion::logical_expr::LogicalPlan,
    ) -> Result<SendableRecordBatchStream> {
        let mut state = self.ctx.state();
        state.config_mut().options_mut().execution.target_partitions = 1;
        let physical = state.create_physical_plan(&plan).await?;
        Ok(execute_stream(physical, state.task_ctx())?)
    }

    /// The training query's one column, read as 0/1 vectors.
    async fn training_rows(&self, qualified: &str, query: &Query) -> Result<BitMatrix> {
        let (field, plan) = self.training_plan(qualified, query).await?;
        if !is_bit_list(field.data_type()) {
            return Err(usage(format!(
                "CREATE MODEL {qualified}: column '{}' is {}; binary models train on \
                 ARRAY<INT|TINYINT|BOOLEAN> of 0/1",
                field.name(),
                field.data_type()
            )));
        }
        let what = format!("CREATE MODEL {qualified}, column '{}'", field.name());
        let mut stream = self.training_stream(plan).await?;
        let mut reservation = self.rows_reservation(qualified);
        let mut matrix: Option<BitMatrix> = None;
        let mut rows_before = 0usize;
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            let column = batch.column(0);
            append_rows(&what, column, &mut matrix).map_err(|e| {
                // Row numbers in the message count from the start of the query.
                usage(renumber(&e.strip_backtrace(), rows_before))
            })?;
            rows_before += column.len();
            let held = matrix.as_ref().map_or(0, |m| m.rows() * m.n());
            hold_rows(&mut reservation, qualified, held)?;
        }
        match matrix {
            Some(m) if m.rows() > 0 && m.n() > 0 => Ok(m),
            Some(_) => Err(usage(format!(
                "CREATE MODEL {qualified}: the vectors are empty (length 0)"
            ))),
            None => Err(usage(format!(
                "CREATE MODEL {qualified}: the query returned no rows to train on (NULL rows \
                 are skipped)"
            ))),
        }
    }

    /// The training query's one column, read as sequences: strings (their characters) or
    /// arrays of token ids. NULL rows are left out.
    /// The training query's sequences, NULL rows left out, and the query row number
    /// (from 1) of each.
    async fn sequence_rows(
        &self,
        qualified: &str,
        query: &Query,
    ) -> Result<(TrainingRows, Vec<usize>)> {
        let (field, plan) = self.training_plan(qualified, query).await?;
        let Some(kind) = seq_kind(field.data_type()) else {
            return Err(usage(format!(
                "CREATE MODEL {qualified}: column '{}' is {}; sequence models (bigram, \
                 transformer) train on a STRING or an ARRAY<INT|BIGINT> of token ids",
                field.name(),
                sql_type(field.data_type())
            )));
        };
        let what = format!("CREATE MODEL {qualified}, column '{}'", field.name());
        let mut stream = self.training_stream(plan).await?;
        let mut reservation = self.rows_reservation(qualified);
        let mut held = 0usize;
        let mut strings = Vec::new();
        let mut ids: Vec<Vec<i64>> = Vec::new();
        let mut origin = Vec::new();
        let mut rows_before = 0usize;
        while let Some(batch) = stream.next().await {
            let column = batch?.column(0).clone();
            match kind {
                SeqKind::Chars => {
                    let text = as_utf8(&column)?;
                    for (row, value) in text.iter().enumerate() {
                        if let Some(value) = value {
                            held += value.len() + ROW_OVERHEAD;
                            strings.push(value.to_string());
                            origin.push(rows_before + row + 1);
                        }
                    }
                }
                SeqKind::Ids => {
                    let lists = as_id_lists(&what, &column)?;
                    for (row, list) in lists.iter().enumerate() {
                        let Some(list) = list else { continue };
                        let values = list.as_primitive::<Int64Type>();
                        if values.null_count() > 0 {
                            return Err(usage(format!(
                                "{what}: row {}: the array has NULL token ids",
                                rows_before + row + 1
                            )));
                        }
                        held += values.len() * 8 + ROW_OVERHEAD;
                        ids.push(values.values().to_vec());
                        origin.push(rows_before + row + 1);
                    }
                }
            }
            rows_before += column.len();
            hold_rows(&mut reservation, qualified, held)?;
        }
        let rows = match kind {
            SeqKind::Chars => TrainingRows::Strings(strings),
            SeqKind::Ids => TrainingRows::Ids(ids),
        };
        let empty = match &rows {
            TrainingRows::Strings(r) => r.is_empty(),
            TrainingRows::Ids(r) => r.is_empty(),
        };
        if empty {
            return Err(usage(format!(
                "CREATE MODEL {qualified}: the query returned no rows to train on (NULL rows \
                 are skipped)"
            )));
        }
        Ok((rows, origin))
    }

    fn show(&self, db: Option<String>, pattern: Option<String>) -> Result<StatementOutput> {
        let db = db.unwrap_or_else(|| self.current_database());
        if self.warehouse.metastore().database(&db)?.is_none() {
            return Err(usage(format!(
                "SHOW MODELS: database '{db}' does not exist"
            )));
        }
        let rows = self
            .warehouse
            .metastore()
            .models(&db)?
            .into_iter()
            .filter(|m| pattern.as_deref().is_none_or(|p| like_matches(p, &m.name)))
            .map(|m| {
                let d: serde_json::Value =
                    serde_json::from_str(&m.details).unwrap_or(serde_json::Value::Null);
                vec![
                    m.name.clone(),
                    m.model_type.clone(),
                    d["input"].as_str().unwrap_or_default().to_string(),
                    d["parameters"]
                        .as_u64()
                        .map(|p| p.to_string())
                        .unwrap_or_default(),
                    d["validation_nll"]
                        .as_f64()
                        .map(|v| format!("{v:.4}"))
                        .unwrap_or_default(),
                ]
            })
            .collect();
        Ok(string_rows(
            &[
                "model",
                "model_type",
                "input",
                "parameters",
                "validation_nll",
            ],
            rows,
        ))
    }

    fn describe(&self, name: &TableName) -> Result<StatementOutput> {
        let (db, model) = self.resolve(name);
        let entry = self
            .warehouse
            .metastore()
            .model(&db, &model)?
            .ok_or_else(|| {
                usage(format!(
                    "DESCRIBE MODEL: no model '{model}' in database '{db}'"
                ))
            })?;
        Ok(string_rows(&["property", "value"], describe_rows(&entry)))
    }
}

/// `row N` in an input error, counted from the query's first row instead of the batch's.
fn renumber(message: &str, rows_before: usize) -> String {
    let Some(at) = message.find(": row ") else {
        return message.to_string();
    };
    let rest = &message[at + 6..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    match digits.parse::<usize>() {
        Ok(n) => format!(
            "{}: row {}{}",
            &message[..at],
            n + rows_before,
            &rest[digits.len()..]
        ),
        Err(_) => message.to_string(),
    }
}

/// A training error about "row N" of the training rows (NULL rows not counted) as a row of
/// the query: `origin[N − 1]`.
fn query_row_numbers(message: &str, origin: &[usize]) -> String {
    let Some(rest) = message.strip_prefix("row ") else {
        return message.to_string();
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    match digits
        .parse::<usize>()
        .ok()
        .and_then(|n| origin.get(n.checked_sub(1)?))
    {
        Some(row) => format!("row {row}{}", &rest[digits.len()..]),
        None => message.to_string(),
    }
}

/// What the metastore keeps about a model, for `DESCRIBE MODEL` and `SHOW MODELS`. Sequence
/// models add the NLL unit (nats per token, end tokens counted), their vocabulary and their
/// AdamW steps (`steps_run`, `best_step`) in place of epochs.
fn details(model: &Model, report: &TrainReport, query: &Query) -> serde_json::Value {
    let options: serde_json::Map<String, serde_json::Value> = model
        .option_pairs()
        .into_iter()
        .map(|(k, v)| (k, serde_json::Value::String(v)))
        .collect();
    let mut d = json!({
        "model_type": model.model_type().as_str(),
        "input": input_description(model),
        "input_length": model.input_len(),
        "parameters": model.param_count(),
        "options": options,
        "train_nll": report.train_nll,
        "validation_nll": report.validation_nll,
        "epochs_run": report.epochs_run,
        "best_epoch": report.best_epoch,
        "training_seconds": report.seconds,
        "train_rows": report.train_rows,
        "validation_rows": report.validation_rows,
        "query": query.to_string(),
    });
    if let (Model::Sequence(s), Some(map)) = (model, d.as_object_mut()) {
        map.remove("epochs_run");
        map.remove("best_epoch");
        let vocabulary = match s.vocab() {
            Vocab::Chars(chars) => format!(
                "{} tokens: {} characters, end, unknown",
                s.vocab().len(),
                chars.len()
            ),
            Vocab::Ids(n) => format!("{} tokens: ids 0 to {}, end", s.vocab().len(), n - 1),
        };
        map.insert(
            "nll_unit".into(),
            json!("nats per token (end tokens counted)"),
        );
        map.insert("vocabulary".into(), json!(vocabulary));
        map.insert(
            "context".into(),
            json!(
                s.context()
                    .map_or("no limit".to_string(), |c| c.to_string())
            ),
        );
        map.insert("steps_run".into(), json!(report.epochs_run));
        map.insert("best_step".into(), json!(report.best_epoch));
    }
    d
}

fn describe_rows(entry: &ModelEntry) -> Vec<Vec<String>> {
    let d: serde_json::Value = serde_json::from_str(&entry.details).unwrap_or_default();
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "NULL".to_string(),
        serde_json::Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => format!("{f:.4}"),
            _ => n.to_string(),
        },
        other => other.to_string(),
    };
    let mut rows = vec![
        vec!["model".into(), format!("{}.{}", entry.db, entry.name)],
        vec!["model_type".into(), entry.model_type.clone()],
    ];
    // Binary models count epochs; sequence models AdamW steps, in nats per token.
    let progress: &[&str] = if d.get("steps_run").is_some() {
        &[
            "nll_unit",
            "vocabulary",
            "context",
            "steps_run",
            "best_step",
        ]
    } else {
        &["epochs_run", "best_epoch"]
    };
    let keys = ["input", "parameters", "train_nll", "validation_nll"]
        .iter()
        .chain(progress)
        .chain(&["training_seconds", "train_rows", "validation_rows"]);
    for key in keys {
        rows.push(vec![key.to_string(), text(&d[key])]);
    }
    if let Some(options) = d["options"].as_object() {
        for (k, v) in options {
            rows.push(vec![format!("option.{k}"), text(v)]);
        }
    }
    rows.push(vec!["query".into(), text(&d["query"])]);
    rows.push(vec!["file".into(), entry.file.display().to_string()]);
    rows
}

/// `CREATE MODEL`'s answer: one row about the trained model. For a sequence model
/// `input_length` is its context (0 for a bigram: no limit), the NLLs are nats per token and
/// `epochs` counts AdamW steps.
fn summary(qualified: &str, model: &Model, report: &TrainReport) -> StatementOutput {
    let schema = Arc::new(Schema::new(vec![
        Field::new("model", DataType::Utf8, false),
        Field::new("model_type", DataType::Utf8, false),
        Field::new("input_length", DataType::Int64, false),
        Field::new("parameters", DataType::Int64, false),
        Field::new("train_nll", DataType::Float64, false),
        Field::new("validation_nll", DataType::Float64, true),
        Field::new("epochs", DataType::Int64, false),
        Field::new("seconds", DataType::Float64, false),
    ]));
    let columns: Vec<Arc<dyn Array>> = vec![
        Arc::new(StringArray::from(vec![qualified.to_string()])),
        Arc::new(StringArray::from(vec![model.model_type().as_str()])),
        Arc::new(Int64Array::from(vec![model.input_len() as i64])),
        Arc::new(Int64Array::from(vec![model.param_count() as i64])),
        Arc::new(Float64Array::from(vec![report.train_nll])),
        Arc::new(Float64Array::from(vec![report.validation_nll])),
        Arc::new(Int64Array::from(vec![report.epochs_run as i64])),
        Arc::new(Float64Array::from(vec![report.seconds])),
    ];
    match RecordBatch::try_new(Arc::clone(&schema), columns)
        .map_err(datafusion::error::DataFusionError::from)
        .and_then(|b| MemoryStream::try_new(vec![b], schema, None))
    {
        Ok(s) => StatementOutput::Rows(Box::pin(s)),
        Err(_) => StatementOutput::Done,
    }
}

#[cfg(test)]
mod tests {
    use super::renumber;

    #[test]
    fn training_rows_map_back_to_query_rows() {
        use super::query_row_numbers;
        let origin = [2, 5, 9];
        assert_eq!(
            query_row_numbers("row 3 has 40 tokens with its end token", &origin),
            "row 9 has 40 tokens with its end token"
        );
        assert_eq!(
            query_row_numbers("row 1: token id -2", &origin),
            "row 2: token id -2"
        );
        assert_eq!(query_row_numbers("row 7: ?", &origin), "row 7: ?");
        assert_eq!(
            query_row_numbers("the training set is empty", &origin),
            "the training set is empty"
        );
    }

    #[test]
    fn row_numbers_count_from_the_query_start() {
        assert_eq!(
            renumber(
                "CREATE MODEL a.b, column 'x': row 3: the vector holds 2",
                8192
            ),
            "CREATE MODEL a.b, column 'x': row 8195: the vector holds 2"
        );
        assert_eq!(renumber("no row here", 5), "no row here");
    }
}
