//! Sequence models on the English words (66,101 train / 7,344 test): trains a model and
//! reports held-out nats per character (one end token per word counted) and throughput.
//!
//! ```text
//! cargo run --release -p apiary-models --example words -- bigram
//! cargo run --release -p apiary-models --example words -- transformer steps=3000
//! ```
//!
//! Options after the model type are `OPTIONS` pairs (`name=value`). The data are the CSV
//! copies of `sample_data/words_*.parquet`, read from `$APIARY_WORDS_DIR` or
//! `/work/shared/data`.

use std::error::Error;
use std::time::Instant;

use apiary_models::{EpochProgress, SequenceOptions, TrainProgress, TrainingRows, train_sequences};

type Res<T> = std::result::Result<T, Box<dyn Error>>;

struct Log;

impl TrainProgress for Log {
    fn epoch_done(&mut self, p: &EpochProgress) {
        if p.epoch.is_multiple_of(100) || p.done >= 1.0 {
            eprintln!(
                "step {:>6}  loss {:.4}  valid {}  {:.0} tokens/s  {:.1} s",
                p.epoch,
                p.train_loss,
                p.validation_nll.map_or("-".into(), |v| format!("{v:.4}")),
                p.tokens_per_second.unwrap_or(0.0),
                p.elapsed.as_secs_f64()
            );
        }
    }
}

fn main() -> Res<()> {
    let dir = std::env::var("APIARY_WORDS_DIR").unwrap_or_else(|_| "/work/shared/data".into());
    let train_rows = read_words(&format!("{dir}/words_train.csv"))?;
    let test_rows = read_words(&format!("{dir}/words_test.csv"))?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let model_type = args.first().map_or("transformer", String::as_str);
    let pairs: Vec<(String, String)> = args[1.min(args.len())..]
        .iter()
        .map(|a| {
            let (k, v) = a
                .split_once('=')
                .ok_or_else(|| format!("'{a}' is not name=value"))?;
            Ok((k.to_string(), v.to_string()))
        })
        .collect::<Res<_>>()?;
    let options = SequenceOptions::from_options(model_type, &pairs)?;
    let started = Instant::now();
    let (model, report) = train_sequences(&options, &TrainingRows::Strings(train_rows), &mut Log)?;
    let seconds = started.elapsed().as_secs_f64();
    let model = model.as_sequence()?;
    let encoded: Vec<Vec<u32>> = test_rows
        .iter()
        .map(|w| model.encode_str(w))
        .collect::<Result<_, _>>()?;
    let seqs: Vec<&[u32]> = encoded.iter().map(Vec::as_slice).collect();
    let mut ll = vec![0.0; seqs.len()];
    let scoring = Instant::now();
    model.loglik_batch(&seqs, &mut ll)?;
    let score_secs = scoring.elapsed().as_secs_f64();
    let tokens: usize = seqs.iter().map(|s| s.len() + 1).sum();
    println!(
        "{model_type}: test {:.4} nats/char, train {:.4}, validation {}, {} steps, best {}, \
         {:.1} s training, {} parameters; scoring {:.0} words/s",
        -ll.iter().sum::<f64>() / tokens as f64,
        report.train_nll,
        report
            .validation_nll
            .map_or("-".into(), |v| format!("{v:.4}")),
        report.epochs_run,
        report.best_epoch,
        seconds,
        report.param_count,
        seqs.len() as f64 / score_secs
    );
    Ok(())
}

/// The `word` column of a words CSV (`id,word`).
fn read_words(path: &str) -> Res<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    Ok(text
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(',').map(|(_, w)| w.to_string()))
        .collect())
}
