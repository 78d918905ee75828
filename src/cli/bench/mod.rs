//! `apiary bench`: measurements of Apiary against DataFusion doing the same work in the same
//! process, reported as time ratios (and, for the metastore, in milliseconds).
//!
//! ```text
//! apiary bench [--rows N ...]            the LATERAL VIEW suite (as `apiary bench lateral`)
//! apiary bench lateral [--rows N ...]    LATERAL VIEW explode against DataFusion's unnest
//! apiary bench warehouse [--rows N ...]  INSERT against COPY, and metastore scale
//! apiary bench flight [--rows N ...]     Flight SQL streaming against in-process, latency
//! apiary bench models [--rows N ...]     model training, loglik and sampling against PyTorch's numbers
//! apiary bench position [--rows N ...]   rope over float32 vectors against a copy, in GB/s
//! apiary bench sequences [--pytorch ...]  the transformer's training, scoring and sampling
//! ```

pub mod flight;
pub mod lateral;
pub mod models;
pub mod position;
pub mod sequences;
pub mod warehouse;

use std::time::Duration;

use crate::error::Result;

pub use flight::FlightArgs;
pub use lateral::LateralArgs;
pub use models::ModelsArgs;
pub use position::PositionArgs;
pub use sequences::SequencesArgs;
pub use warehouse::WarehouseArgs;

/// Arguments of `apiary bench`: a suite, or the LATERAL VIEW suite's flags directly.
#[derive(Debug, clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_value_name = "SUITE"
)]
pub struct BenchArgs {
    /// The suite to run [default: lateral].
    #[command(subcommand)]
    pub suite: Option<BenchSuite>,
    /// Flags of the default suite (`apiary bench --rows N` is `apiary bench lateral --rows N`).
    #[command(flatten)]
    pub lateral: LateralArgs,
}

/// The benchmark suites.
#[derive(Debug, clap::Subcommand)]
pub enum BenchSuite {
    /// LATERAL VIEW explode against DataFusion's unnest on generated data (the default).
    Lateral(LateralArgs),
    /// Warehouse INSERT against DataFusion's COPY, and metastore scale (open, SHOW TABLES).
    Warehouse(WarehouseArgs),
    /// Flight SQL result streaming over loopback against in-process, and time to first batch.
    Flight(FlightArgs),
    /// Generative models: training time and test NLL on the digits, loglik and sampling speed.
    Models(ModelsArgs),
    /// rope over 1M float32 vectors in a query, in GB/s, against a copy and vec_scale.
    Position(PositionArgs),
    /// Sequence models on the words: training tokens/s (against PyTorch with --pytorch),
    /// loglik words/s, sampling with and without the KV cache, and quality with --quality.
    Sequences(SequencesArgs),
}

/// Runs the chosen suite and prints its report.
pub async fn run(args: &BenchArgs) -> Result<()> {
    match &args.suite {
        None => lateral::run(&args.lateral).await,
        Some(BenchSuite::Lateral(a)) => lateral::run(a).await,
        Some(BenchSuite::Warehouse(a)) => warehouse::run(a).await,
        Some(BenchSuite::Flight(a)) => flight::run(a).await,
        Some(BenchSuite::Models(a)) => models::run(a).await,
        Some(BenchSuite::Position(a)) => position::run(a).await,
        Some(BenchSuite::Sequences(a)) => sequences::run(a).await,
    }
}

/// The median of `times` (the upper one of an even count); zero when empty.
fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

/// Milliseconds, for printing.
fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::args::{ApiaryCommand, Args};

    fn bench(argv: &[&str]) -> Option<BenchArgs> {
        // Not `map(|ApiaryCommand::Bench(b)| b)`: that stops compiling with a second subcommand.
        let Some(ApiaryCommand::Bench(b)) = Args::try_parse_from(argv).ok()?.command else {
            return None;
        };
        Some(b)
    }

    #[test]
    fn plain_bench_is_the_lateral_suite() {
        let b = bench(&["apiary", "bench", "--rows", "5"]);
        assert!(matches!(
            b,
            Some(BenchArgs {
                suite: None,
                lateral: LateralArgs { rows: 5, .. }
            })
        ));
        let b = bench(&["apiary", "bench", "lateral", "--rows", "5"]);
        assert!(matches!(
            b,
            Some(BenchArgs {
                suite: Some(BenchSuite::Lateral(LateralArgs { rows: 5, .. })),
                ..
            })
        ));
    }

    #[test]
    fn warehouse_suite_has_its_own_defaults() {
        let b = bench(&["apiary", "bench", "warehouse"]);
        assert!(matches!(
            b,
            Some(BenchArgs {
                suite: Some(BenchSuite::Warehouse(WarehouseArgs {
                    rows: 10_000_000,
                    tables: 1_000,
                    partitions: 10_000,
                    only: None,
                    ..
                })),
                ..
            })
        ));
        let b = bench(&[
            "apiary",
            "bench",
            "warehouse",
            "--rows",
            "100",
            "--only",
            "insert",
        ]);
        assert!(matches!(
            b,
            Some(BenchArgs {
                suite: Some(BenchSuite::Warehouse(WarehouseArgs {
                    rows: 100,
                    only: Some(warehouse::WarehouseBench::Insert),
                    ..
                })),
                ..
            })
        ));
    }

    #[test]
    fn suite_flags_go_after_the_suite() {
        assert!(bench(&["apiary", "bench", "--rows", "5", "warehouse"]).is_none());
    }
}
