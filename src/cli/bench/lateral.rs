//! `apiary bench lateral`: LATERAL VIEW generators against DataFusion's own `unnest`, on the
//! same generated Parquet data in the same process, reported as time ratios.

use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::{
    ArrayRef, Int64Array, Int64Builder, ListBuilder, RecordBatch, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::prelude::ParquetReadOptions;

use super::median;
use crate::error::{ApiaryError, Result};
use crate::session::ApiaryContext;

/// Arguments of `apiary bench lateral` (and of a plain `apiary bench`).
#[derive(Debug, Clone, clap::Args)]
pub struct LateralArgs {
    /// Rows of generated data.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: usize,
    /// Timed runs per query (the median is reported), after one warm-up run.
    #[arg(long, default_value_t = 9)]
    pub runs: usize,
    /// Seed of the data generator.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// One workload: the Apiary (LATERAL VIEW) query and its DataFusion `unnest` baseline.
struct Workload {
    name: &'static str,
    apiary: &'static str,
    unnest: &'static str,
}

const WORKLOADS: &[Workload] = &[
    Workload {
        name: "count exploded rows",
        apiary: "SELECT count(*) FROM bench LATERAL VIEW explode(arr) v AS x",
        unnest: "SELECT count(*) FROM (SELECT unnest(arr) AS x FROM bench)",
    },
    Workload {
        name: "sum by id % 100",
        apiary: "SELECT id % 100 AS g, sum(x) FROM bench LATERAL VIEW explode(arr) v AS x GROUP BY id % 100",
        unnest: "SELECT g, sum(x) FROM (SELECT id % 100 AS g, unnest(arr) AS x FROM bench) GROUP BY g",
    },
    Workload {
        name: "word count (split)",
        apiary: "SELECT w, count(*) FROM bench LATERAL VIEW explode(split(text, ',')) v AS w GROUP BY w",
        unnest: "SELECT w, count(*) FROM (SELECT unnest(split(text, ',')) AS w FROM bench) GROUP BY w",
    },
    Workload {
        name: "posexplode, pos < 3",
        apiary: "SELECT count(*), sum(x) FROM bench LATERAL VIEW posexplode(arr) v AS p, x WHERE p < 3",
        unnest: "SELECT count(*), sum(x) FROM (SELECT unnest(range(0, cardinality(arr))) AS p, unnest(arr) AS x FROM bench) WHERE p < 3",
    },
];

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

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const VOCABULARY: &[&str] = &[
    "bee", "hive", "honey", "queen", "drone", "worker", "comb", "wax", "pollen", "nectar", "swarm",
    "flower", "meadow", "clover", "lavender", "apiary", "keeper", "smoke", "frame", "brood",
];

/// Writes `rows` rows of `id BIGINT, arr ARRAY<BIGINT> (0–20 elements), text STRING`.
fn write_data(path: &std::path::Path, rows: usize, seed: u64) -> Result<()> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("arr", DataType::new_list(DataType::Int64, true), true),
        Field::new("text", DataType::Utf8, true),
    ]));
    let file = std::fs::File::create(path).map_err(|source| ApiaryError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut writer = ArrowWriter::try_new(file, Arc::clone(&schema), None)
        .map_err(|e| ApiaryError::DataFusion(e.into()))?;
    let mut rng = SplitMix(seed);
    let chunk = 64 * 1024;
    let mut start = 0;
    while start < rows {
        let n = chunk.min(rows - start);
        let ids: ArrayRef = Arc::new(Int64Array::from_iter_values(
            (start..start + n).map(|i| i as i64),
        ));
        let mut lists = ListBuilder::new(Int64Builder::new());
        let mut texts = StringBuilder::new();
        for _ in 0..n {
            let len = rng.below(21);
            for _ in 0..len {
                lists.values().append_value(rng.below(1000) as i64);
            }
            lists.append(true);
            let words = 1 + rng.below(10);
            let text: Vec<&str> = (0..words)
                .map(|_| VOCABULARY[rng.below(VOCABULARY.len() as u64) as usize])
                .collect();
            texts.append_value(text.join(","));
        }
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![ids, Arc::new(lists.finish()), Arc::new(texts.finish())],
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

async fn run_query(ctx: &ApiaryContext, sql: &str) -> Result<(Duration, Vec<RecordBatch>)> {
    let started = Instant::now();
    let plan = ctx.plan_sql(sql).await?.remove(0);
    let batches = ctx
        .session()
        .execute_logical_plan(plan)
        .await?
        .collect()
        .await?;
    Ok((started.elapsed(), batches))
}

/// The result as sorted text lines (values only: the two queries name their columns apart,
/// and a table's padding follows its headers), to compare two queries' answers.
fn sorted_rows(batches: &[RecordBatch]) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    for batch in batches {
        for row in 0..batch.num_rows() {
            let cells = batch
                .columns()
                .iter()
                .map(|c| array_value_to_string(c, row))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| ApiaryError::DataFusion(e.into()))?;
            lines.push(cells.join("|"));
        }
    }
    lines.sort();
    Ok(lines)
}

/// Runs the benchmark and prints a table of timings and ratios.
pub async fn run(args: &LateralArgs) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("apiary-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|source| ApiaryError::Io {
        path: dir.clone(),
        source,
    })?;
    let path = dir.join("bench.parquet");
    eprintln!(
        "generating {} rows (seed {}) into {} ...",
        args.rows,
        args.seed,
        path.display()
    );
    write_data(&path, args.rows, args.seed)?;
    let ctx = ApiaryContext::new().await?;
    ctx.session()
        .register_parquet(
            "bench",
            path.to_string_lossy().as_ref(),
            ParquetReadOptions::default(),
        )
        .await?;
    println!(
        "{:<22} {:>12} {:>12} {:>8}",
        "workload", "apiary (ms)", "unnest (ms)", "ratio"
    );
    let runs = args.runs.max(1);
    for w in WORKLOADS {
        // One warm-up each, then alternate the two so that drift hits both alike.
        let (_, a_rows) = run_query(&ctx, w.apiary).await?;
        let (_, u_rows) = run_query(&ctx, w.unnest).await?;
        let (mut a_times, mut u_times) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            a_times.push(run_query(&ctx, w.apiary).await?.0);
            u_times.push(run_query(&ctx, w.unnest).await?.0);
        }
        let (a, u) = (median(a_times), median(u_times));
        if sorted_rows(&a_rows)? != sorted_rows(&u_rows)? {
            return Err(ApiaryError::Usage(format!(
                "{}: LATERAL VIEW and unnest returned different results",
                w.name
            )));
        }
        println!(
            "{:<22} {:>12.1} {:>12.1} {:>8.2}",
            w.name,
            a.as_secs_f64() * 1e3,
            u.as_secs_f64() * 1e3,
            a.as_secs_f64() / u.as_secs_f64()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
