//! `apiary bench models`: the generative models of `apiary-models` against the PyTorch
//! reference numbers of issue 6, measured on this machine.
//!
//! 1. Training: each model type with its default options on `digits_train` (1,500 rows of 64
//!    bits), held-out NLL on `digits_test` (297 rows), wall-clock training time.
//! 2. Scoring: `loglik` over `--rows` vectors on `--threads` threads, in batches of 8,192 rows
//!    (as the SQL functions get them): n = 64 with the models trained in (1) on digits rows
//!    (tiled), n = 784 with freshly initialised models on random bits (15 % ones, about the
//!    density of binarized MNIST).
//! 3. Sampling: `--samples` samples of each digits model, on `--threads` threads.

use std::hint::black_box;
use std::time::Instant;

use apiary_models::{BinaryModel, BitMatrix, NoProgress, RngCore, TrainOptions, sample_rng};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int32Type};
use datafusion::error::DataFusionError;

use crate::error::{ApiaryError, Result};
use crate::session::ApiaryContext;

/// Arguments of `apiary bench models`.
#[derive(Debug, Clone, clap::Args)]
pub struct ModelsArgs {
    /// Vectors scored per model and input length.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: usize,
    /// Samples drawn per model.
    #[arg(long, default_value_t = 100_000)]
    pub samples: usize,
    /// Threads for scoring and sampling.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Run only one of the three benchmarks (training always runs: the others use its models).
    #[arg(long, value_enum)]
    pub only: Option<ModelsBench>,
}

/// The benchmarks of `apiary bench models`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModelsBench {
    /// Training time and test NLL on the digits.
    Train,
    /// loglik throughput at n = 64 and n = 784.
    Score,
    /// Sampling throughput.
    Sample,
}

/// Rows per scoring batch: DataFusion's default batch size.
const BATCH: usize = 8_192;
/// Scoring inputs are cycled from a pool of at most this many rows.
const POOL_ROWS: usize = 131_072;

/// One model of the comparison, with issue 6's PyTorch numbers for it.
struct Entry {
    label: &'static str,
    model_type: &'static str,
    hidden: Option<&'static str>,
    /// Test NLL of the PyTorch implementation (nats per image).
    torch_nll: f64,
    /// PyTorch's training time in seconds (`None`: not given).
    torch_train_s: Option<f64>,
    /// PyTorch's scoring throughput at n = 64, images/s (the upper end where a range is given).
    torch_score: Option<f64>,
}

const ENTRIES: [Entry; 4] = [
    Entry {
        label: "bernoulli",
        model_type: "bernoulli",
        hidden: None,
        torch_nll: 25.22,
        torch_train_s: None,
        torch_score: None,
    },
    Entry {
        label: "fvsbn",
        model_type: "fvsbn",
        hidden: None,
        torch_nll: 18.27,
        torch_train_s: Some(3.0),
        torch_score: Some(1_000_000.0),
    },
    Entry {
        label: "nade-32",
        model_type: "nade",
        hidden: Some("32"),
        torch_nll: 17.51,
        torch_train_s: Some(24.0),
        torch_score: Some(160_000.0),
    },
    Entry {
        label: "nade-128",
        model_type: "nade",
        hidden: Some("128"),
        torch_nll: 16.93,
        torch_train_s: Some(190.0),
        torch_score: Some(120_000.0),
    },
];

fn options(e: &Entry) -> Result<TrainOptions> {
    let pairs: Vec<(String, String)> = e
        .hidden
        .map(|h| vec![("hidden".to_string(), h.to_string())])
        .unwrap_or_default();
    TrainOptions::from_options(e.model_type, &pairs).map_err(model_error)
}

fn model_error(e: apiary_models::ModelError) -> ApiaryError {
    ApiaryError::Usage(format!("bench models: {e}"))
}

/// Runs the model benchmarks and prints their reports.
pub async fn run(args: &ModelsArgs) -> Result<()> {
    let threads = args.threads.max(1);
    let ctx = ApiaryContext::new().await?;
    let train_rows = digits(&ctx, "digits_train").await?;
    let test_rows = digits(&ctx, "digits_test").await?;

    println!(
        "training on digits_train ({} rows, default options); NLL on digits_test ({} rows), nats per image",
        train_rows.rows(),
        test_rows.rows()
    );
    println!(
        "{:<10} {:>9} {:>9} {:>9} {:>9} {:>10} {:>8}",
        "model", "test NLL", "PyTorch", "epochs", "seconds", "PyTorch s", "ratio"
    );
    let mut models = Vec::new();
    for e in &ENTRIES {
        let start = Instant::now();
        let (model, report) = apiary_models::train(&options(e)?, &train_rows, &mut NoProgress)
            .map_err(model_error)?;
        let seconds = start.elapsed().as_secs_f64();
        let model = model.as_binary().map_err(model_error)?.clone();
        let mut ll = vec![0.0; test_rows.rows()];
        model
            .loglik_batch(&test_rows, &mut ll)
            .map_err(model_error)?;
        let nll = -ll.iter().sum::<f64>() / ll.len().max(1) as f64;
        println!(
            "{:<10} {:>9.3} {:>9.2} {:>9} {:>9.2} {:>10} {:>8}",
            e.label,
            nll,
            e.torch_nll,
            format!("{}/{}", report.best_epoch, report.epochs_run),
            seconds,
            e.torch_train_s.map_or("-".into(), |s| format!("{s:.0}")),
            e.torch_train_s
                .map_or("-".into(), |s| format!("{:.3}", seconds / s)),
        );
        models.push((e, model));
    }

    if args.only.is_none() || args.only == Some(ModelsBench::Score) {
        println!();
        println!(
            "loglik over {} vectors, {threads} threads, batches of {BATCH} rows (n = 64: digits models on digits rows; n = 784: initialised models on random bits)",
            args.rows
        );
        println!(
            "{:<10} {:>5} {:>14} {:>16} {:>8}",
            "model", "n", "images/s", "PyTorch (n=64)", "ratio"
        );
        let pool64 = tile(&train_rows, &test_rows, args.rows.min(POOL_ROWS));
        for (e, model) in &models {
            let rate = score_rate(model, &pool64, args.rows, threads)?;
            print_rate(e.label, 64, rate, e.torch_score);
        }
        let pool784 = random_bits(784, args.rows.min(POOL_ROWS), 0.15, 7);
        for e in &ENTRIES {
            let model = BinaryModel::init(&options(e)?, 784).map_err(model_error)?;
            let rate = score_rate(&model, &pool784, args.rows, threads)?;
            print_rate(e.label, 784, rate, None);
        }
    }

    if args.only.is_none() || args.only == Some(ModelsBench::Sample) {
        println!();
        println!(
            "sample of {} vectors (n = 64, digits models, temperature 1), {threads} threads",
            args.samples
        );
        println!("{:<10} {:>14}", "model", "samples/s");
        for (e, model) in &models {
            let rate = sample_rate(model, args.samples, threads)?;
            println!("{:<10} {:>14.0}", e.label, rate);
        }
    }
    Ok(())
}

fn print_rate(label: &str, n: usize, rate: f64, torch: Option<f64>) {
    println!(
        "{:<10} {:>5} {:>14.0} {:>16} {:>8}",
        label,
        n,
        rate,
        torch.map_or("-".into(), |t| format!("{t:.0}")),
        torch.map_or("-".into(), |t| format!("{:.2}", rate / t)),
    );
}

/// The `pixels` column of a digits sample table, in file order.
async fn digits(ctx: &ApiaryContext, table: &str) -> Result<BitMatrix> {
    let batches: Vec<RecordBatch> = ctx
        .session()
        .sql(&format!("SELECT pixels FROM {table}"))
        .await?
        .collect()
        .await?;
    let mut m = BitMatrix::new(64);
    for batch in batches {
        let list = batch.column(0).as_list::<i32>();
        let values = cast(list.values(), &DataType::Int32).map_err(DataFusionError::from)?;
        let values = values.as_primitive::<Int32Type>().values();
        for i in 0..list.len() {
            let (start, end) = (list.value_offsets()[i], list.value_offsets()[i + 1]);
            m.push_row_values(&values[start as usize..end as usize])
                .map_err(model_error)?;
        }
    }
    Ok(m)
}

/// `rows` rows cycling through the rows of `a` then `b`.
fn tile(a: &BitMatrix, b: &BitMatrix, rows: usize) -> BitMatrix {
    let mut m = BitMatrix::with_capacity(a.n(), rows);
    let source: Vec<&[u8]> = a.iter_rows().chain(b.iter_rows()).collect();
    for row in source.iter().cycle().take(rows) {
        // Rows of a valid matrix are valid rows.
        let _ = m.push_row(row);
    }
    m
}

/// `rows` rows of `n` independent bits, each 1 with probability `p`.
fn random_bits(n: usize, rows: usize, p: f64, seed: u64) -> BitMatrix {
    let mut rng = sample_rng(seed, 0);
    let threshold = (p * f64::from(u32::MAX)) as u32;
    let bits = (0..n * rows)
        .map(|_| u8::from(rng.next_u32() < threshold))
        .collect();
    BitMatrix::from_vec(n, bits).unwrap_or_else(|_| BitMatrix::new(n))
}

/// Images per second of `loglik_batch` over `rows` rows cycled from `pool`, on `threads`.
fn score_rate(model: &BinaryModel, pool: &BitMatrix, rows: usize, threads: usize) -> Result<f64> {
    let n = pool.n();
    let batches: Vec<BitMatrix> = pool
        .as_slice()
        .chunks(BATCH * n)
        .filter_map(|c| BitMatrix::from_vec(n, c.to_vec()).ok())
        .collect();
    if batches.is_empty() {
        return Ok(0.0);
    }
    let start = Instant::now();
    let scored = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let batches = &batches;
                s.spawn(move || -> apiary_models::Result<(usize, f64)> {
                    let mut out = vec![0.0; BATCH];
                    let (mut done, mut total) = (0, 0.0);
                    // Thread t scores batches t, t + threads, … of the cycled pool.
                    let mut k = t;
                    while k * BATCH < rows {
                        let batch = &batches[k % batches.len()];
                        let take = batch.rows().min(rows - k * BATCH);
                        model.loglik_batch(batch, &mut out)?;
                        total += out[..take].iter().sum::<f64>();
                        done += take;
                        k += threads;
                    }
                    Ok((done, total))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Ok((0, 0.0))))
            .collect::<apiary_models::Result<Vec<_>>>()
    })
    .map_err(model_error)?;
    let seconds = start.elapsed().as_secs_f64();
    black_box(scored.iter().map(|(_, t)| t).sum::<f64>());
    let done: usize = scored.iter().map(|(d, _)| d).sum();
    Ok(done as f64 / seconds)
}

/// Samples per second of `sample_range` producing `count` samples on `threads`.
fn sample_rate(model: &BinaryModel, count: usize, threads: usize) -> Result<f64> {
    let start = Instant::now();
    let made = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || -> apiary_models::Result<usize> {
                    let (from, to) = (count * t / threads, count * (t + 1) / threads);
                    let mut made = 0;
                    let mut first = from;
                    while first < to {
                        let take = BATCH.min(to - first);
                        let m = model.sample_range(first as u64, take, 1.0, 0)?;
                        made += black_box(m).rows();
                        first += take;
                    }
                    Ok(made)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Ok(0)))
            .collect::<apiary_models::Result<Vec<_>>>()
    })
    .map_err(model_error)?;
    let seconds = start.elapsed().as_secs_f64();
    Ok(made.iter().sum::<usize>() as f64 / seconds)
}
