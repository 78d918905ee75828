//! Per-position cos/sin tables for RoPE.
//!
//! For a vector of length d = 2h and base b, pair i (0 ≤ i < h) turns by the angle m·θ_i at
//! position m, with θ_i = b^(−2i/d). Angles and their cos/sin are computed in float64
//! (with `libm`, the same bits on every machine), then stored rounded to the vector's
//! element type, so a float32 vector is rotated in float32 from float64 sin/cos.
//!
//! Positions repeat across rows and batches (every sequence has a position 0), so tables are
//! computed once per position: positions below a cap are served by a dense table shared by
//! the whole process (grown on demand, a few MiB, least recently used evicted); the rest —
//! huge positions — get a table of the batch's distinct positions.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use super::float_vectors::VectorFloat;

/// The most memory one shared dense table may take.
const DENSE_TABLE_BYTES: usize = 8 << 20;
/// The most shared dense tables kept (one per vector length, base and element type).
const DENSE_TABLES: usize = 8;
/// The fewest positions a new dense table covers (tables are cheap; growing is not free).
const DENSE_MIN_POSITIONS: usize = 512;

/// θ_i = base^(−2i/d) for i in 0..half, d = 2·half, in float64.
pub(crate) fn frequencies(half: usize, base: f64) -> Vec<f64> {
    let d = (2 * half) as f64;
    (0..half)
        .map(|i| libm::pow(base, -(2.0 * i as f64) / d))
        .collect()
}

/// cos(m·θ_i) and sin(m·θ_i) for a list of positions, one row of `half` values per position.
#[derive(Debug, Clone)]
pub(crate) struct AngleTable<T> {
    half: usize,
    cos: Vec<T>,
    sin: Vec<T>,
}

impl<T: VectorFloat> AngleTable<T> {
    fn new(half: usize) -> Self {
        Self {
            half,
            cos: Vec::new(),
            sin: Vec::new(),
        }
    }

    /// Appends the row of position `m`.
    fn push(&mut self, m: u64, theta: &[f64]) {
        let m = m as f64;
        for &t in theta {
            let (s, c) = libm::sincos(m * t);
            self.cos.push(T::from_f64(c));
            self.sin.push(T::from_f64(s));
        }
    }

    /// The number of rows.
    fn rows(&self) -> usize {
        self.cos.len().checked_div(self.half).unwrap_or(usize::MAX)
    }

    /// Row `slot`: (cos, sin), `half` values each.
    #[inline(always)]
    fn row(&self, slot: usize) -> Option<(&[T], &[T])> {
        let range = slot * self.half..(slot + 1) * self.half;
        Some((self.cos.get(range.clone())?, self.sin.get(range)?))
    }
}

/// Element types with a process-wide cache of dense tables.
pub(crate) trait CachedAngles: VectorFloat {
    /// The cache of this element type's dense tables.
    fn dense_cache() -> &'static Mutex<DenseCache<Self>>;
}

static F32_TABLES: LazyLock<Mutex<DenseCache<f32>>> =
    LazyLock::new(|| Mutex::new(DenseCache::default()));
static F64_TABLES: LazyLock<Mutex<DenseCache<f64>>> =
    LazyLock::new(|| Mutex::new(DenseCache::default()));

impl CachedAngles for f32 {
    fn dense_cache() -> &'static Mutex<DenseCache<Self>> {
        &F32_TABLES
    }
}

impl CachedAngles for f64 {
    fn dense_cache() -> &'static Mutex<DenseCache<Self>> {
        &F64_TABLES
    }
}

/// Dense tables (positions 0..n) by (half, base), least recently used evicted.
#[derive(Debug)]
pub(crate) struct DenseCache<T> {
    entries: Vec<DenseEntry<T>>,
    clock: u64,
}

impl<T> Default for DenseCache<T> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            clock: 0,
        }
    }
}

#[derive(Debug)]
struct DenseEntry<T> {
    half: usize,
    base_bits: u64,
    table: Arc<AngleTable<T>>,
    used: u64,
}

/// How many positions a dense table of this shape may cover.
fn dense_cap<T>(half: usize) -> usize {
    DENSE_TABLE_BYTES / (2 * half.max(1) * size_of::<T>())
}

/// The shared dense table for (half, base), covering at least positions 0..needed
/// (`needed` ≤ [`dense_cap`]).
fn dense_table<T: CachedAngles>(half: usize, base: f64, needed: usize) -> Arc<AngleTable<T>> {
    let cap = dense_cap::<T>(half);
    let mut cache = T::dense_cache()
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    cache.clock += 1;
    let clock = cache.clock;
    let base_bits = base.to_bits();
    if let Some(entry) = cache
        .entries
        .iter_mut()
        .find(|e| e.half == half && e.base_bits == base_bits)
    {
        entry.used = clock;
        let have = entry.table.rows();
        if have < needed {
            // Double, so that a query walking up the positions grows the table log-many times.
            let target = needed.max(2 * have).min(cap);
            let mut grown = entry.table.as_ref().clone();
            let theta = frequencies(half, base);
            for m in have..target {
                grown.push(m as u64, &theta);
            }
            entry.table = Arc::new(grown);
        }
        return Arc::clone(&entry.table);
    }
    let target = needed.max(DENSE_MIN_POSITIONS).min(cap);
    let theta = frequencies(half, base);
    let mut table = AngleTable::new(half);
    for m in 0..target {
        table.push(m as u64, &theta);
    }
    let table = Arc::new(table);
    if cache.entries.len() >= DENSE_TABLES
        && let Some(oldest) = cache
            .entries
            .iter()
            .enumerate()
            .min_by_key(|(_, e)| e.used)
            .map(|(i, _)| i)
    {
        cache.entries.swap_remove(oldest);
    }
    cache.entries.push(DenseEntry {
        half,
        base_bits,
        table: Arc::clone(&table),
        used: clock,
    });
    table
}

/// The cos/sin rows a batch needs for one vector length: the shared dense table for small
/// positions, a table of the batch's distinct positions for the others.
#[derive(Debug)]
pub(crate) struct PositionAngles<T> {
    dense: Option<Arc<AngleTable<T>>>,
    dense_rows: u64,
    sparse: AngleTable<T>,
    sparse_slots: HashMap<u64, usize>,
}

impl<T: CachedAngles> PositionAngles<T> {
    /// The rows for vectors of length 2·`half` at `positions` (repeats allowed).
    pub(crate) fn new(half: usize, base: f64, positions: &[u64]) -> Self {
        let cap = dense_cap::<T>(half) as u64;
        let dense_needed = positions.iter().filter(|&&m| m < cap).max().map(|&m| m + 1);
        let dense = dense_needed.map(|n| dense_table::<T>(half, base, n as usize));
        let dense_rows = dense.as_ref().map_or(0, |t| t.rows() as u64);
        let mut sparse = AngleTable::new(half);
        let mut sparse_slots = HashMap::new();
        let mut theta = None;
        for &m in positions.iter().filter(|&&m| m >= dense_rows) {
            if !sparse_slots.contains_key(&m) {
                let theta = theta.get_or_insert_with(|| frequencies(half, base));
                sparse_slots.insert(m, sparse_slots.len());
                sparse.push(m, theta);
            }
        }
        Self {
            dense,
            dense_rows,
            sparse,
            sparse_slots,
        }
    }

    /// (cos, sin) at position `m`; `None` when `m` was not among the positions given to `new`.
    #[inline(always)]
    pub(crate) fn get(&self, m: u64) -> Option<(&[T], &[T])> {
        if m < self.dense_rows {
            self.dense.as_ref()?.row(m as usize)
        } else {
            self.sparse.row(*self.sparse_slots.get(&m)?)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn dense_and_sparse_rows_agree_with_the_formula() {
        let half = 3;
        let base = 10_000.0;
        let cap = dense_cap::<f64>(half) as u64;
        let positions = [0, 5, 5, 1 << 31, cap + 7, 42];
        let angles = PositionAngles::<f64>::new(half, base, &positions);
        for &m in &positions {
            let (c, s) = angles.get(m).unwrap();
            for i in 0..half {
                let theta = base.powf(-(2.0 * i as f64) / 6.0);
                let angle = m as f64 * theta;
                assert!((c[i] - angle.cos()).abs() < 1e-15, "cos m={m} i={i}");
                assert!((s[i] - angle.sin()).abs() < 1e-15, "sin m={m} i={i}");
            }
        }
        assert!(angles.get(7).is_some(), "dense rows cover small positions");
        assert!(
            angles.get(cap + 8).is_none(),
            "sparse rows only hold what was asked"
        );
    }

    #[test]
    fn dense_tables_grow_and_stay_shared() {
        // A shape no other test uses, so the shared cache state is this test's.
        let (half, base) = (5, 12_345.0);
        let small = dense_table::<f32>(half, base, 10);
        assert_eq!(small.rows(), DENSE_MIN_POSITIONS);
        let again = dense_table::<f32>(half, base, 100);
        assert!(Arc::ptr_eq(&small, &again));
        let grown = dense_table::<f32>(half, base, DENSE_MIN_POSITIONS + 1);
        assert_eq!(grown.rows(), 2 * DENSE_MIN_POSITIONS);
        assert_eq!(grown.row(3), small.row(3));
        let cap = dense_cap::<f32>(half);
        assert_eq!(dense_table::<f32>(half, base, cap).rows(), cap);
    }
}
