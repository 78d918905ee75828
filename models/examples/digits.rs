//! Quality on the binarized UCI digits (1,500 train / 297 test rows of 64 bits): trains each
//! model with its default options and reports held-out test NLL in nats per image.
//!
//! ```text
//! cargo run --release -p apiary-models --example digits                  # the quality table
//! cargo run --release -p apiary-models --example digits -- sweep nade hidden=32 \
//!     learning_rate=0.002,0.005,0.01 weight_decay=0,0.01,0.05            # validation NLL only
//! ```
//!
//! The data are the CSV copies of `sample_data/digits_*.parquet` (`pixels` as "[0,1,…]"),
//! read from `$APIARY_DIGITS_DIR` or `/work/shared/data`. `sweep` trains every combination of
//! the listed values and prints the validation NLL (a slice of the *training* rows) and never
//! the test NLL, so that options are chosen without looking at the test rows.

use std::error::Error;
use std::time::Instant;

use apiary_models::{BitMatrix, NoProgress, TrainOptions, train};

type Res<T> = std::result::Result<T, Box<dyn Error>>;

fn main() -> Res<()> {
    let dir = std::env::var("APIARY_DIGITS_DIR").unwrap_or_else(|_| "/work/shared/data".into());
    let train_rows = read_digits(&format!("{dir}/digits_train.csv"))?;
    let test_rows = read_digits(&format!("{dir}/digits_test.csv"))?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("quality") => quality(&train_rows, &test_rows),
        Some("sweep") => sweep(&train_rows, &args[1..]),
        Some(other) => Err(format!("unknown mode '{other}' (quality, sweep)").into()),
    }
}

/// The quality table: every model with its defaults (NADE at 32 and 128 hidden units).
fn quality(train_rows: &BitMatrix, test_rows: &BitMatrix) -> Res<()> {
    // (model type, hidden units, PyTorch's test NLL from issue 6)
    let runs = [
        ("bernoulli", None, 25.22),
        ("fvsbn", None, 18.27),
        ("nade", Some("32"), 17.51),
        ("nade", Some("128"), 16.93),
    ];
    println!(
        "{:<10} {:>6} {:>9} {:>9} {:>9} {:>9} {:>7} {:>8}",
        "model", "hidden", "train", "valid", "test", "pytorch", "epochs", "seconds"
    );
    for (model_type, hidden, reference) in runs {
        let pairs: Vec<(String, String)> = hidden
            .map(|h| ("hidden".to_string(), h.to_string()))
            .into_iter()
            .collect();
        let options = TrainOptions::from_options(model_type, &pairs)?;
        let start = Instant::now();
        let (model, report) = train(&options, train_rows, &mut NoProgress)?;
        let seconds = start.elapsed().as_secs_f64();
        let mut ll = vec![0.0; test_rows.rows()];
        model.as_binary()?.loglik_batch(test_rows, &mut ll)?;
        let test_nll = -ll.iter().sum::<f64>() / ll.len() as f64;
        println!(
            "{:<10} {:>6} {:>9.3} {:>9.3} {:>9.3} {:>9.2} {:>3}/{:<3} {:>8.2}",
            model_type,
            options.hidden.map_or("-".to_string(), |h| h.to_string()),
            report.train_nll,
            report.validation_nll.unwrap_or(f64::NAN),
            test_nll,
            reference,
            report.best_epoch,
            report.epochs_run,
            seconds,
        );
    }
    Ok(())
}

/// Trains every combination of `key=v1,v2,…` for one model type; prints validation NLL only.
/// `seeds=0,1,2` is not a grid axis: each combination is trained once per seed (so on as many
/// validation splits) and the mean validation NLL is printed.
fn sweep(train_rows: &BitMatrix, args: &[String]) -> Res<()> {
    let model_type = args.first().ok_or("sweep needs a model type")?;
    let mut grid: Vec<Vec<(String, String)>> = vec![vec![]];
    let mut seeds = vec!["0".to_string()];
    for spec in &args[1..] {
        let (key, values) = spec.split_once('=').ok_or("expected key=v1,v2")?;
        if key == "seeds" {
            seeds = values.split(',').map(str::to_string).collect();
            continue;
        }
        grid = grid
            .into_iter()
            .flat_map(|base| {
                values.split(',').map(move |v| {
                    let mut next = base.clone();
                    next.push((key.to_string(), v.to_string()));
                    next
                })
            })
            .collect();
    }
    for pairs in grid {
        let start = Instant::now();
        let (mut valid, mut train_nll, mut epochs) = (0.0, 0.0, Vec::new());
        for seed in &seeds {
            let mut with_seed = pairs.clone();
            with_seed.push(("seed".to_string(), seed.clone()));
            let options = TrainOptions::from_options(model_type, &with_seed)?;
            let (_, report) = train(&options, train_rows, &mut NoProgress)?;
            valid += report.validation_nll.unwrap_or(f64::NAN) / seeds.len() as f64;
            train_nll += report.train_nll / seeds.len() as f64;
            epochs.push(format!("{}/{}", report.best_epoch, report.epochs_run));
        }
        let label: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!(
            "{:<55} train {:>7.3} valid {:>7.3} epochs {:<20} {:>6.1}s",
            label.join(" "),
            train_nll,
            valid,
            epochs.join(","),
            start.elapsed().as_secs_f64() / seeds.len() as f64
        );
    }
    Ok(())
}

/// The `pixels` column of a digits CSV file as a 64-bit matrix.
fn read_digits(path: &str) -> Res<BitMatrix> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut rows = BitMatrix::new(64);
    for line in text.lines().skip(1) {
        let start = line
            .find('[')
            .ok_or_else(|| format!("{path}: no pixels in {line}"))?;
        let end = line
            .rfind(']')
            .ok_or_else(|| format!("{path}: no pixels in {line}"))?;
        let pixels: Vec<i32> = line[start + 1..end]
            .split(',')
            .map(|v| v.trim().parse::<i32>())
            .collect::<Result<_, _>>()?;
        rows.push_row_values(&pixels)?;
    }
    Ok(rows)
}
