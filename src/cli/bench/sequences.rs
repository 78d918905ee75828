//! `apiary bench sequences`: the sequence models of `apiary-models` on the `words` sample
//! tables (66,101 training / 7,344 test words), against the PyTorch reference
//! (`models/reference/pytorch_transformer.py`) run on the same machine in the same run.
//!
//! 1. Training throughput: the transformer of issue 7 (2 layers, d_model 64, 4 heads, MLP 256,
//!    context 32, batch 128 words; the defaults) for `--steps` steps, in predicted tokens per
//!    second of training (validation passes excluded), and PyTorch's figure for the same
//!    configuration when `--pytorch` is given and `python3` can import torch.
//! 2. Scoring: `loglik` over the test words repeated to `--words`, in batches of 8,192 (each
//!    split over two threads).
//! 3. Sampling: `--samples` words drawn with the key/value cache and without it (the whole
//!    prefix recomputed before each token), in generated tokens per second.
//! 4. With `--quality`: the bigram and the transformer with default options, test nats per
//!    character (one end token per word counted) and training time.

use std::hint::black_box;
use std::time::Instant;

use apiary_models::{
    EpochProgress, Model, NoProgress, RngCore, SampleOptions, SequenceModel, SequenceOptions,
    TrainProgress, TrainingRows, sample_rng, train_sequences,
};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::error::DataFusionError;

use crate::error::{ApiaryError, Result};
use crate::session::ApiaryContext;

/// Arguments of `apiary bench sequences`.
#[derive(Debug, Clone, clap::Args)]
pub struct SequencesArgs {
    /// Training steps of the throughput run.
    #[arg(long, default_value_t = 300)]
    pub steps: usize,
    /// Words scored.
    #[arg(long, default_value_t = 200_000)]
    pub words: usize,
    /// Words sampled, with and without the cache.
    #[arg(long, default_value_t = 500)]
    pub samples: usize,
    /// Also run the PyTorch reference script for the same steps (needs python3 with torch).
    #[arg(long)]
    pub pytorch: bool,
    /// Threads for PyTorch (`torch.set_num_threads`); Apiary always splits a batch in two.
    #[arg(long, default_value_t = 2)]
    pub torch_threads: usize,
    /// Also train the bigram and the default transformer to the end and report test quality.
    #[arg(long)]
    pub quality: bool,
}

fn model_error(e: apiary_models::ModelError) -> ApiaryError {
    ApiaryError::Usage(format!("bench sequences: {e}"))
}

/// Mean training throughput over the progress reports after the first `skip` steps.
#[derive(Default)]
struct Throughput {
    skip: usize,
    rates: Vec<f64>,
}

impl TrainProgress for Throughput {
    fn epoch_done(&mut self, p: &EpochProgress) {
        if p.epoch > self.skip
            && let Some(r) = p.tokens_per_second
        {
            self.rates.push(r);
        }
    }
}

/// Runs the sequence benchmarks and prints their reports.
pub async fn run(args: &SequencesArgs) -> Result<()> {
    let ctx = ApiaryContext::new().await?;
    let train_words = words(&ctx, "words_train").await?;
    let test_words = words(&ctx, "words_test").await?;
    let rows = TrainingRows::Strings(train_words);

    let options = |pairs: &[(&str, String)]| {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        SequenceOptions::from_options("transformer", &pairs).map_err(model_error)
    };
    println!(
        "training throughput: transformer, default options (2 layers, d_model 64, 4 heads, MLP 256, context 32, batch 128 words), {} steps",
        args.steps
    );
    let o = options(&[
        ("steps", args.steps.to_string()),
        ("validation_fraction", "0".into()),
    ])?;
    let mut progress = Throughput {
        skip: 20.min(args.steps / 2),
        ..Throughput::default()
    };
    let (model, _) = train_sequences(&o, &rows, &mut progress).map_err(model_error)?;
    let ours = progress.rates.iter().sum::<f64>() / progress.rates.len().max(1) as f64;
    println!("{:<28} {:>12.0} tokens/s", "apiary (2 shards)", ours);
    let torch = if args.pytorch {
        match pytorch_rates(args.steps, args.torch_threads, test_words.len()) {
            Ok(torch) => {
                println!(
                    "{:<28} {:>12.0} tokens/s   apiary / pytorch = {:.2}",
                    format!("pytorch ({} threads)", args.torch_threads),
                    torch.train,
                    ours / torch.train
                );
                Some(torch)
            }
            Err(e) => {
                println!("pytorch: not measured ({e})");
                None
            }
        }
    } else {
        None
    };

    let model = sequence(&model)?;
    let encoded: Vec<Vec<u32>> = test_words
        .iter()
        .map(|w| model.encode_str(w))
        .collect::<apiary_models::Result<_>>()
        .map_err(model_error)?;
    println!();
    println!(
        "loglik over {} words (the test words repeated), batches of 8,192 (each split over two threads)",
        args.words
    );
    let mut done = 0;
    let mut out = vec![0.0; 8192];
    let start = Instant::now();
    while done < args.words {
        let batch: Vec<&[u32]> = encoded
            .iter()
            .cycle()
            .skip(done % encoded.len().max(1))
            .take(8192.min(args.words - done))
            .map(Vec::as_slice)
            .collect();
        model
            .loglik_batch(&batch, &mut out[..batch.len()])
            .map_err(model_error)?;
        black_box(&out);
        done += batch.len();
    }
    let rate = done as f64 / start.elapsed().as_secs_f64();
    println!("{:<28} {:>12.0} words/s", "apiary, two threads", rate);
    if let Some(score) = torch.as_ref().and_then(|t| t.score) {
        println!(
            "{:<28} {:>12.0} words/s   apiary / pytorch = {:.2}   (its evaluation of the test words: batches of 1,024 padded words, no_grad)",
            format!("pytorch ({} threads)", args.torch_threads),
            score,
            rate / score
        );
    }

    println!();
    println!(
        "sampling {} words (temperature 1), one thread",
        args.samples
    );
    let rng = |k: usize| Box::new(sample_rng(7, k as u64)) as Box<dyn RngCore>;
    let so = SampleOptions::default();
    let start = Instant::now();
    let cached = model
        .complete(&[], args.samples, &so, rng)
        .map_err(model_error)?;
    let cached_s = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let full = model
        .complete_uncached(&[], args.samples, &so, rng)
        .map_err(model_error)?;
    let full_s = start.elapsed().as_secs_f64();
    // Each sample's tokens plus its end token (when it ended) were generated.
    let tokens: usize = cached.iter().map(|s| s.len() + 1).sum();
    println!(
        "{:<28} {:>12.0} tokens/s\n{:<28} {:>12.0} tokens/s   cache speed-up {:.1}x (same samples: {})",
        "with the KV cache",
        tokens as f64 / cached_s,
        "recomputing the prefix",
        tokens as f64 / full_s,
        full_s / cached_s,
        cached == full
    );

    if args.quality {
        println!();
        println!("quality on words_test, nats per character (one end token per word counted)");
        for (label, model_type) in [("bigram", "bigram"), ("transformer", "transformer")] {
            let o = SequenceOptions::from_options(model_type, &[]).map_err(model_error)?;
            let start = Instant::now();
            let (m, report) = train_sequences(&o, &rows, &mut NoProgress).map_err(model_error)?;
            let seconds = start.elapsed().as_secs_f64();
            let m = sequence(&m)?;
            let nll = nats_per_token(m, &test_words)?;
            println!(
                "{label:<12} {nll:>7.4}   {seconds:>7.1} s training, {} steps, best {}",
                report.epochs_run, report.best_epoch
            );
        }
    }
    Ok(())
}

fn sequence(m: &Model) -> Result<&SequenceModel> {
    m.as_sequence().map_err(model_error)
}

/// −Σ loglik / Σ (length + 1) over `words`.
fn nats_per_token(model: &SequenceModel, words: &[String]) -> Result<f64> {
    let encoded: Vec<Vec<u32>> = words
        .iter()
        .map(|w| model.encode_str(w))
        .collect::<apiary_models::Result<_>>()
        .map_err(model_error)?;
    let seqs: Vec<&[u32]> = encoded.iter().map(Vec::as_slice).collect();
    let mut ll = vec![0.0; seqs.len()];
    model.loglik_batch(&seqs, &mut ll).map_err(model_error)?;
    let tokens: usize = seqs.iter().map(|s| s.len() + 1).sum();
    Ok(-ll.iter().sum::<f64>() / tokens as f64)
}

/// What the PyTorch reference measured: training tokens/s, and test-set scoring words/s.
struct TorchRates {
    train: f64,
    score: Option<f64>,
}

/// Runs the PyTorch reference for `steps` steps on `threads` threads and reads its
/// throughput line and its timed final evaluation of the test words.
fn pytorch_rates(
    steps: usize,
    threads: usize,
    test_words: usize,
) -> std::result::Result<TorchRates, String> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/models/reference/pytorch_transformer.py"
    );
    let output = std::process::Command::new("python3")
        .args([
            script,
            "--steps",
            &steps.to_string(),
            "--threads",
            &threads.to_string(),
        ])
        .output()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let err = String::from_utf8_lossy(&output.stderr);
        return Err(err.lines().last().unwrap_or("failed").to_string());
    }
    // "throughput over steps 21..300: 27978 tok/s, 49763 padded tok/s (…)"
    let train = text
        .lines()
        .find_map(|l| l.strip_prefix("throughput over steps "))
        .and_then(|l| l.split_once(": "))
        .and_then(|(_, rest)| rest.split_once(" tok/s"))
        .and_then(|(v, _)| v.trim().parse().ok())
        .ok_or_else(|| "no throughput line in its output".to_string())?;
    // "test 1.9517 nats/char (1.3 s)"
    let score = text
        .lines()
        .filter(|l| l.starts_with("test "))
        .find_map(|l| l.rsplit_once('(').and_then(|(_, t)| t.strip_suffix(" s)")))
        .and_then(|t| t.trim().parse::<f64>().ok())
        .filter(|&t| t > 0.0)
        .map(|t| test_words as f64 / t);
    Ok(TorchRates { train, score })
}

/// The `word` column of a words sample table, NULLs left out.
async fn words(ctx: &ApiaryContext, table: &str) -> Result<Vec<String>> {
    let batches: Vec<RecordBatch> = ctx
        .session()
        .sql(&format!("SELECT word FROM {table}"))
        .await?
        .collect()
        .await?;
    let mut out = Vec::new();
    for batch in batches {
        let column = cast(batch.column(0), &DataType::Utf8).map_err(DataFusionError::from)?;
        let strings = column.as_string::<i32>();
        for i in 0..strings.len() {
            if strings.is_valid(i) {
                out.push(strings.value(i).to_string());
            }
        }
    }
    Ok(out)
}
