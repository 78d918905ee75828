//! `apiary bench position`: `rope` over float32 vectors inside a query, in GB/s, against a
//! plain copy of the same column (`SELECT vec`) and `vec_scale(vec, 1.0)` in the same run.
//!
//! The data: `rows` vectors of `dim` float32 (`ARRAY<FLOAT>`, one Parquet column, plain
//! encoding, uncompressed) with a position `pos = id % seq_len` (sequences of `seq_len`
//! tokens), written to a scratch directory.
//!
//! In a query: each statement's result stream is drained batch by batch and dropped, the same
//! consumer for every statement, so the figures are the time to produce the column: the
//! Parquet scan, then the expression. `SELECT vec` is the copy: decoding the column writes the
//! vectors into fresh Arrow buffers, and nothing else happens. (An aggregate such as
//! `sum(cardinality(vec))` would add its own work and read only the offsets of what was
//! decoded; collecting the results would add allocation and memory pressure to the timing.)
//! GB/s counts the vectors' bytes (rows·dim·4, 10^9 bytes per GB) over the median time.
//!
//! Kernel only: the same vectors, decoded once into memory, through `memcpy`, `vec_scale` and
//! `rope` invoked directly on each batch in one thread — the functions' own bandwidth against
//! a copy of the same bytes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float32Builder, Int64Array, ListBuilder, RecordBatch,
};
use datafusion::arrow::datatypes::{DataType, Field, Float32Type, Float64Type, Schema};
use datafusion::common::ScalarValue;
use datafusion::common::config::ConfigOptions;
use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::prelude::ParquetReadOptions;
use futures::StreamExt;

use super::{median, ms};
use crate::error::{ApiaryError, Result};
use crate::session::ApiaryContext;

/// Arguments of `apiary bench position`.
#[derive(Debug, Clone, clap::Args)]
pub struct PositionArgs {
    /// Vectors of generated data.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: usize,
    /// Length of every vector (even).
    #[arg(long, default_value_t = 128)]
    pub dim: usize,
    /// Sequence length: positions run 0..seq_len-1, then start again.
    #[arg(long, default_value_t = 2048)]
    pub seq_len: u64,
    /// Timed runs per statement (the median is reported), after one warm-up run each.
    #[arg(long, default_value_t = 7)]
    pub runs: usize,
    /// Seed of the data generator.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// The goal: rope's bandwidth over the copy's, in the query.
const GOAL: f64 = 0.5;

/// The timed statements; the first is the copy the others are compared with.
const WORKLOADS: &[(&str, &str)] = &[
    ("copy: SELECT vec", "SELECT vec FROM bench"),
    (
        "vec_scale(vec, 1.0)",
        "SELECT vec_scale(vec, 1.0) FROM bench",
    ),
    ("rope(vec, pos)", "SELECT rope(vec, pos) FROM bench"),
    (
        "array_scale(vec, 1.0) [DataFusion, DOUBLE out]",
        "SELECT array_scale(vec, 1.0) FROM bench",
    ),
];

fn bench_error(message: impl Into<String>) -> ApiaryError {
    ApiaryError::Usage(format!("bench position: {}", message.into()))
}

/// SplitMix64: a small, seeded, portable generator for reproducible data.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    fn unit(&mut self) -> f32 {
        ((self.next() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
}

/// Writes `id BIGINT, pos BIGINT, vec ARRAY<FLOAT>` (`rows` rows of `dim` values).
fn write_data(path: &std::path::Path, args: &PositionArgs) -> Result<()> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("pos", DataType::Int64, false),
        Field::new("vec", DataType::new_list(DataType::Float32, true), true),
    ]));
    let file = std::fs::File::create(path).map_err(|source| ApiaryError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    // Random floats neither compress nor repeat: plain pages, as most vector files are.
    let properties = WriterProperties::builder()
        .set_dictionary_enabled(false)
        .build();
    let mut writer = ArrowWriter::try_new(file, Arc::clone(&schema), Some(properties))
        .map_err(|e| ApiaryError::DataFusion(e.into()))?;
    let mut rng = SplitMix(args.seed);
    let seq_len = args.seq_len.max(1) as i64;
    let chunk = 64 * 1024;
    let mut start = 0;
    while start < args.rows {
        let n = chunk.min(args.rows - start);
        let ids: Vec<i64> = (start..start + n).map(|i| i as i64).collect();
        let positions: Vec<i64> = ids.iter().map(|i| i % seq_len).collect();
        let mut vectors =
            ListBuilder::with_capacity(Float32Builder::with_capacity(n * args.dim), n);
        for _ in 0..n {
            for _ in 0..args.dim {
                vectors.values().append_value(rng.unit());
            }
            vectors.append(true);
        }
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(Int64Array::from(ids)),
                Arc::new(Int64Array::from(positions)),
                Arc::new(vectors.finish()),
            ],
        )
        .map_err(|e| ApiaryError::DataFusion(e.into()))?;
        writer
            .write(&batch)
            .map_err(|e| ApiaryError::DataFusion(e.into()))?;
        start += n;
    }
    writer
        .close()
        .map_err(|e| ApiaryError::DataFusion(e.into()))?;
    Ok(())
}

/// What a statement produced: vectors, values, and (when asked) sums to compare results.
#[derive(Debug, Default, Clone, Copy)]
struct Produced {
    vectors: usize,
    values: usize,
    sum: f64,
    sum_of_squares: f64,
}

impl Produced {
    fn add(&mut self, column: &ArrayRef, with_sums: bool) -> Result<()> {
        let Some(list) = column.as_list_opt::<i32>() else {
            return Err(bench_error(format!(
                "expected a list column, got {}",
                column.data_type()
            )));
        };
        let offsets = list.value_offsets();
        let (first, last) = (
            offsets.first().copied().unwrap_or(0) as usize,
            offsets.last().copied().unwrap_or(0) as usize,
        );
        self.vectors += list.len();
        self.values += last - first;
        if with_sums {
            let values = list.values();
            let mut add = |v: f64| {
                self.sum += v;
                self.sum_of_squares += v * v;
            };
            match values.data_type() {
                DataType::Float32 => values.as_primitive::<Float32Type>().values()[first..last]
                    .iter()
                    .for_each(|&v| add(f64::from(v))),
                DataType::Float64 => values.as_primitive::<Float64Type>().values()[first..last]
                    .iter()
                    .for_each(|&v| add(v)),
                other => return Err(bench_error(format!("unexpected elements {other}"))),
            }
        }
        Ok(())
    }
}

/// Plans and runs `sql`, draining its stream; the time includes planning.
async fn drain(ctx: &ApiaryContext, sql: &str, with_sums: bool) -> Result<(Duration, Produced)> {
    let started = Instant::now();
    let Some(plan) = ctx.plan_sql(sql).await?.into_iter().next() else {
        return Err(bench_error(format!("no statement in {sql}")));
    };
    let mut stream = ctx
        .session()
        .execute_logical_plan(plan)
        .await?
        .execute_stream()
        .await?;
    let mut produced = Produced::default();
    while let Some(batch) = stream.next().await {
        produced.add(batch?.column(0), with_sums)?;
    }
    Ok((started.elapsed(), produced))
}

/// GB/s (10^9 bytes) of `bytes` in `time`.
fn gb_s(bytes: usize, time: Duration) -> f64 {
    bytes as f64 / time.as_secs_f64().max(1e-9) / 1e9
}

/// Checks the warm-up results against the copy: same shape, `vec_scale(vec, 1.0)` the same
/// values, `rope` the same total squared norm (a rotation keeps norms).
fn check(name: &str, copy: &Produced, got: &Produced) -> Result<()> {
    if got.vectors != copy.vectors || got.values != copy.values {
        return Err(bench_error(format!(
            "{name}: {} vectors of {} values, the copy has {} of {}",
            got.vectors, got.values, copy.vectors, copy.values
        )));
    }
    let same_norm =
        (got.sum_of_squares - copy.sum_of_squares).abs() <= 1e-6 * copy.sum_of_squares.max(1.0);
    let ok = if name.starts_with("rope") {
        same_norm
    } else {
        same_norm && got.sum == copy.sum
    };
    if ok {
        Ok(())
    } else {
        Err(bench_error(format!(
            "{name}: the result does not match the copy (sum {} vs {}, squared norm {} vs {})",
            got.sum, copy.sum, got.sum_of_squares, copy.sum_of_squares
        )))
    }
}

/// `udf` applied to one batch of `vec` (and `pos`), as a query would call it.
fn invoke(udf: &ScalarUDF, batch: &RecordBatch, args: Vec<ColumnarValue>) -> Result<ArrayRef> {
    let arg_fields = args
        .iter()
        .enumerate()
        .map(|(i, a)| Arc::new(Field::new(format!("a{i}"), a.data_type(), true)))
        .collect();
    let return_field = Arc::new(Field::new(
        udf.name(),
        batch.column(1).data_type().clone(),
        true,
    ));
    let out = udf.invoke_with_args(ScalarFunctionArgs {
        args,
        arg_fields,
        number_rows: batch.num_rows(),
        return_field,
        config_options: Arc::new(ConfigOptions::default()),
    })?;
    Ok(out.to_array(batch.num_rows())?)
}

/// Times `step` over every batch in one thread; the median of `runs` passes.
fn time_kernel(
    batches: &[RecordBatch],
    runs: usize,
    mut step: impl FnMut(&RecordBatch) -> Result<usize>,
) -> Result<Duration> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs + 1 {
        let started = Instant::now();
        let mut values = 0;
        for batch in batches {
            values += step(batch)?;
        }
        std::hint::black_box(values);
        times.push(started.elapsed());
    }
    times.remove(0); // the warm-up pass
    Ok(median(times))
}

/// The Float32 values of a batch's `vec` column (column 1).
fn vector_values(batch: &RecordBatch) -> Result<&[f32]> {
    let list = batch
        .column(1)
        .as_list_opt::<i32>()
        .ok_or_else(|| bench_error("vec is not a list"))?;
    let values = list
        .values()
        .as_primitive_opt::<Float32Type>()
        .ok_or_else(|| bench_error("vec is not ARRAY<FLOAT>"))?;
    let offsets = list.value_offsets();
    let (first, last) = (
        offsets.first().copied().unwrap_or(0) as usize,
        offsets.last().copied().unwrap_or(0) as usize,
    );
    Ok(&values.values()[first..last])
}

/// Runs the benchmark and prints its report.
pub async fn run(args: &PositionArgs) -> Result<()> {
    if args.dim == 0 || !args.dim.is_multiple_of(2) {
        return Err(bench_error(format!(
            "--dim must be even and > 0, got {}",
            args.dim
        )));
    }
    let dir = std::env::temp_dir().join(format!("apiary-bench-position-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|source| ApiaryError::Io {
        path: dir.clone(),
        source,
    })?;
    let result = run_in(args, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run_in(args: &PositionArgs, dir: &std::path::Path) -> Result<()> {
    let path = dir.join("vectors.parquet");
    let bytes = args.rows * args.dim * size_of::<f32>();
    eprintln!(
        "generating {} vectors of {} float32 ({:.0} MB, seed {}) into {} ...",
        args.rows,
        args.dim,
        bytes as f64 / 1e6,
        args.seed,
        path.display()
    );
    write_data(&path, args)?;
    let ctx = ApiaryContext::new().await?;
    ctx.session()
        .register_parquet(
            "bench",
            path.to_string_lossy().as_ref(),
            ParquetReadOptions::default(),
        )
        .await?;
    let runs = args.runs.max(1);

    // Warm-up (also fills the page cache and rope's position tables), with checks.
    let mut warm = Vec::with_capacity(WORKLOADS.len());
    for (name, sql) in WORKLOADS {
        let (_, produced) = drain(&ctx, sql, true).await?;
        if let Some(copy) = warm.first() {
            check(name, copy, &produced)?;
        }
        warm.push(produced);
    }
    // Timed runs, the statements taking turns so that drift hits them alike.
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(runs); WORKLOADS.len()];
    for _ in 0..runs {
        for (i, (_, sql)) in WORKLOADS.iter().enumerate() {
            times[i].push(drain(&ctx, sql, false).await?.0);
        }
    }
    let spread = |t: &[Duration]| {
        let min = t.iter().min().copied().unwrap_or_default();
        let max = t.iter().max().copied().unwrap_or_default();
        (ms(min), ms(max))
    };
    let medians: Vec<Duration> = times.iter().map(|t| median(t.clone())).collect();
    println!(
        "rope over {} vectors of {} float32 ({:.0} MB), positions id % {}, median of {runs} runs",
        args.rows,
        args.dim,
        bytes as f64 / 1e6,
        args.seq_len
    );
    println!();
    println!("in a query (Parquet scan + expression, result stream drained):");
    println!(
        "{:<48} {:>9} {:>17} {:>7} {:>8}",
        "statement", "ms", "min-max ms", "GB/s", "vs copy"
    );
    let copy = medians.first().copied().unwrap_or_default();
    for (((name, _), t), all) in WORKLOADS.iter().zip(&medians).zip(&times) {
        let (lo, hi) = spread(all);
        println!(
            "{:<48} {:>9.1} {:>8.1}-{:<8.1} {:>7.2} {:>8.2}",
            name,
            ms(*t),
            lo,
            hi,
            gb_s(bytes, *t),
            copy.as_secs_f64() / t.as_secs_f64().max(1e-9)
        );
    }
    let rope_ratio = copy.as_secs_f64() / medians.get(2).copied().unwrap_or(copy).as_secs_f64();
    println!(
        "rope's bandwidth / the copy's: {:.2} (goal >= {GOAL:.2}: {})",
        rope_ratio,
        if rope_ratio >= GOAL { "met" } else { "NOT met" }
    );

    // Kernel only: decoded once, then the functions on each batch in one thread.
    let batches: Vec<RecordBatch> = ctx
        .session()
        .sql("SELECT pos, vec FROM bench")
        .await?
        .collect()
        .await?;
    let rope = ctx.session().udf("rope")?;
    let scale = ctx.session().udf("vec_scale")?;
    let memcpy = time_kernel(&batches, runs, |b| {
        let copied = vector_values(b)?.to_vec();
        Ok(std::hint::black_box(copied).len())
    })?;
    let scaled = time_kernel(&batches, runs, |b| {
        let args = vec![
            ColumnarValue::Array(Arc::clone(b.column(1))),
            ColumnarValue::Scalar(ScalarValue::Float64(Some(1.0))),
        ];
        Ok(invoke(&scale, b, args)?.len())
    })?;
    let rotated = time_kernel(&batches, runs, |b| {
        let args = vec![
            ColumnarValue::Array(Arc::clone(b.column(1))),
            ColumnarValue::Array(Arc::clone(b.column(0))),
        ];
        Ok(invoke(&rope, b, args)?.len())
    })?;
    println!();
    println!(
        "kernel only (in memory, one thread, {} batches):",
        batches.len()
    );
    println!(
        "{:<48} {:>9} {:>7} {:>8}",
        "kernel", "ms", "GB/s", "vs copy"
    );
    for (name, t) in [
        ("memcpy of the values", memcpy),
        ("vec_scale(vec, 1.0)", scaled),
        ("rope(vec, pos)", rotated),
    ] {
        println!(
            "{:<48} {:>9.1} {:>7.2} {:>8.2}",
            name,
            ms(t),
            gb_s(bytes, t),
            memcpy.as_secs_f64() / t.as_secs_f64().max(1e-9)
        );
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::args::{ApiaryCommand, Args};
    use crate::cli::bench::{BenchArgs, BenchSuite};

    #[test]
    fn position_suite_parses_with_its_defaults() {
        let parsed = Args::try_parse_from(["apiary", "bench", "position", "--rows", "5"])
            .ok()
            .and_then(|a| a.command);
        let Some(ApiaryCommand::Bench(BenchArgs {
            suite: Some(BenchSuite::Position(p)),
            ..
        })) = parsed
        else {
            panic!("`apiary bench position` did not parse as the position suite");
        };
        assert_eq!((p.rows, p.dim, p.seq_len, p.runs), (5, 128, 2048, 7));
    }

    /// A small run end to end: the warm-up checks compare every statement with the copy
    /// (vec_scale(vec, 1.0) the same values, rope the same norms, array_scale the same values).
    #[tokio::test]
    async fn a_small_run_checks_its_results() {
        let args = PositionArgs {
            rows: 3000,
            dim: 8,
            seq_len: 100,
            runs: 1,
            seed: 3,
        };
        run(&args).await.unwrap();
        let odd = PositionArgs { dim: 7, ..args };
        assert!(run(&odd).await.is_err());
    }
}
