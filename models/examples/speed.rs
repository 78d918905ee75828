//! Scoring, sampling and training-step throughput of freshly initialised models, without the
//! SQL engine (`apiary bench models` measures the same on trained digits models):
//!
//! ```text
//! cargo run --release -p apiary-models --example speed [-- ROWS THREADS]
//! ```

use std::error::Error;
use std::hint::black_box;
use std::time::Instant;

use apiary_models::{BinaryModel, BitMatrix, RngCore, TrainOptions, sample_rng};

const BATCH: usize = 8_192;

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rows: usize = args.first().map_or(Ok(1_000_000), |s| s.parse())?;
    let threads: usize = args.get(1).map_or(Ok(2), |s| s.parse())?;
    // (label, model type, hidden units)
    let models = [
        ("bernoulli", "bernoulli", None),
        ("fvsbn", "fvsbn", None),
        ("nade-32", "nade", Some("32")),
        ("nade-128", "nade", Some("128")),
    ];
    let options = |t: &str, hidden: Option<&str>| {
        let pairs: Vec<(String, String)> = hidden
            .map(|h| ("hidden".to_string(), h.to_string()))
            .into_iter()
            .collect();
        TrainOptions::from_options(t, &pairs)
    };
    println!(
        "loglik of {rows} random vectors (25 % ones at n = 64, 15 % at n = 784), {threads} threads"
    );
    for n in [64, 784] {
        let pool = random_bits(n, rows.min(131_072), if n == 64 { 0.25 } else { 0.15 });
        for (label, t, hidden) in models {
            let model = BinaryModel::init(&options(t, hidden)?, n)?;
            let start = Instant::now();
            let batches: Vec<BitMatrix> = pool
                .as_slice()
                .chunks(BATCH * n)
                .map(|c| BitMatrix::from_vec(n, c.to_vec()))
                .collect::<Result<_, _>>()?;
            let total: f64 = std::thread::scope(|s| {
                let hs: Vec<_> = (0..threads)
                    .map(|th| {
                        let (model, batches) = (&model, &batches);
                        s.spawn(move || {
                            let mut out = vec![0.0; BATCH];
                            let mut sum = 0.0;
                            let mut k = th;
                            while k * BATCH < rows {
                                let _ = model.loglik_batch(&batches[k % batches.len()], &mut out);
                                sum += out[0];
                                k += threads;
                            }
                            sum
                        })
                    })
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap_or(0.0)).sum()
            });
            black_box(total);
            let rate = rows as f64 / start.elapsed().as_secs_f64();
            println!("  {label:<10} n = {n:<4} {rate:>12.0} images/s");
        }
    }
    println!("sample of 100000 vectors, n = 64, one thread");
    for (label, t, hidden) in models {
        let model = BinaryModel::init(&options(t, hidden)?, 64)?;
        let start = Instant::now();
        black_box(model.sample(100_000, 1.0, 0)?);
        let rate = 100_000.0 / start.elapsed().as_secs_f64();
        println!("  {label:<10} {rate:>12.0} samples/s");
    }
    Ok(())
}

fn random_bits(n: usize, rows: usize, p: f64) -> BitMatrix {
    let mut rng = sample_rng(1, 0);
    let threshold = (p * f64::from(u32::MAX)) as u32;
    let bits = (0..n * rows)
        .map(|_| u8::from(rng.next_u32() < threshold))
        .collect();
    BitMatrix::from_vec(n, bits).unwrap_or_else(|_| BitMatrix::new(n))
}
