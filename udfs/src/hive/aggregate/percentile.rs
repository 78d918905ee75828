//! Hive's exact percentiles, p in [0, 1] or an array of such p, at position (n - 1) * p of
//! the sorted values:
//!
//! * `percentile(x, p)`: integer columns, interpolated between the two nearest values
//!   (Hive's `UDAFPercentile`);
//! * `percentile_cont(x, p)` / `percentile_cont(p) WITHIN GROUP (ORDER BY x [DESC])`: any
//!   numeric column, interpolated, always a double (Hive 4; DataFusion's keeps the input
//!   type);
//! * `percentile_disc(...)`: the same without interpolation: at a fractional position the
//!   value just after it (Hive 4's `GenericUDAFPercentileDisc`).

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, ListArray};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::aggregate_doc_sections::DOC_SECTION_GENERAL;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, Signature, Volatility,
};

use super::args::{constant_arg, constant_doubles, double_list, double_list_type, is_array};
use crate::hive::{hive_arg_error, hive_doc};

/// Which exact percentile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Method {
    Percentile,
    Cont,
    Disc,
}

/// `percentile(x, p)`, `percentile_cont(x, p)` or `percentile_disc(x, p)` → double, or
/// `array<double>` for an array of `p`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PercentileFunc {
    method: Method,
    signature: Signature,
}

impl PercentileFunc {
    fn with(method: Method) -> Self {
        Self {
            method,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }

    /// `percentile(x, p)`.
    pub fn percentile() -> Self {
        Self::with(Method::Percentile)
    }

    /// `percentile_cont(x, p)`.
    pub fn cont() -> Self {
        Self::with(Method::Cont)
    }

    /// `percentile_disc(x, p)`.
    pub fn disc() -> Self {
        Self::with(Method::Disc)
    }
}

static CONT_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_GENERAL,
        "Returns the exact pth percentile (p between 0 and 1, or an array of such p) of a \
         numeric column, interpolating between the two nearest values; also written \
         percentile_cont(p) WITHIN GROUP (ORDER BY expr [DESC]). NULLs are skipped; no values \
         give NULL.",
        "percentile_cont(expr, pc)",
        "SELECT percentile_cont(x, 0.5) FROM VALUES (1), (2), (3), (4) t(x);\n-- 2.5",
    )
});

static DISC_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_GENERAL,
        "Returns the pth percentile (p between 0 and 1, or an array of such p) of a numeric \
         column without interpolation: at a fractional position (n - 1) * p, the next value; \
         also written percentile_disc(p) WITHIN GROUP (ORDER BY expr [DESC]).",
        "percentile_disc(expr, pc)",
        "SELECT percentile_disc(x, 0.5) FROM VALUES (1), (2), (3), (4) t(x);\n-- 3.0",
    )
});

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_GENERAL,
        "Returns the exact pth percentile (p between 0 and 1, or an array of such p) of an \
         integer column, interpolating between the two nearest values. NULL values are \
         skipped; no values give NULL.",
        "percentile(expr, pc)",
        "SELECT percentile(x, 0.5) FROM VALUES (1), (2), (3), (4) t(x);\n-- 2.5",
    )
});

/// The state: `[v1, c1, v2, c2, ...]`, each distinct value and its count.
fn state_type() -> DataType {
    DataType::new_list(DataType::Float64, true)
}

impl AggregateUDFImpl for PercentileFunc {
    fn name(&self) -> &str {
        match self.method {
            Method::Percentile => "percentile",
            Method::Cont => "percentile_cont",
            Method::Disc => "percentile_disc",
        }
    }

    fn supports_within_group_clause(&self) -> bool {
        self.method != Method::Percentile
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [x, p] = arg_types else {
            return Err(hive_arg_error(
                self.name(),
                format!("takes 2 arguments (expr, pc), got {}", arg_types.len()),
            ));
        };
        let integer = x.is_integer() || x == &DataType::Null;
        if self.method == Method::Percentile && !integer {
            return Err(hive_arg_error(
                self.name(),
                format!("the first argument must be an integer type (tinyint to bigint), got {x}"),
            ));
        }
        if !(integer || x.is_numeric()) {
            return Err(hive_arg_error(
                self.name(),
                format!("the first argument must be numeric, got {x}"),
            ));
        }
        let p = if is_array(p) {
            double_list_type()
        } else if p.is_numeric() || p == &DataType::Null {
            DataType::Float64
        } else {
            return Err(hive_arg_error(
                self.name(),
                format!("the percentile must be a number or an array of numbers, got {p}"),
            ));
        };
        Ok(vec![
            if integer {
                DataType::Int64
            } else {
                DataType::Float64
            },
            p,
        ])
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types.get(1) {
            Some(p) if is_array(p) => Ok(double_list_type()),
            _ => Ok(DataType::Float64),
        }
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format_state_name(args.name, "counts"),
            state_type(),
            true,
        ))])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let name = self.name();
        let p = constant_arg(name, args.exprs, 1)?;
        let percentiles = constant_doubles(name, &p)?;
        if let Some(bad) = percentiles.iter().find(|q| !(0.0..=1.0).contains(*q)) {
            return Err(hive_arg_error(
                name,
                format!("percentile value must be within the range of 0 to 1, got {bad}"),
            ));
        }
        let descending = args
            .order_bys
            .first()
            .is_some_and(|sort| sort.options.descending);
        Ok(Box::new(PercentileAccumulator {
            counts: BTreeMap::new(),
            percentiles,
            many: is_array(args.return_field.data_type()),
            discrete: self.method == Method::Disc,
            descending,
        }))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(match self.method {
            Method::Percentile => &DOC,
            Method::Cont => &CONT_DOC,
            Method::Disc => &DISC_DOC,
        })
    }
}

/// A double ordered by `total_cmp`, as a map key.
#[derive(Debug, Clone, Copy)]
struct Key(f64);

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.0.total_cmp(&other.0).is_eq()
    }
}

impl Eq for Key {}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

#[derive(Debug)]
struct PercentileAccumulator {
    counts: BTreeMap<Key, i64>,
    percentiles: Vec<f64>,
    many: bool,
    discrete: bool,
    descending: bool,
}

/// Hive's `getPercentile`: `cumulative` holds (value, running count) in sort order; a
/// discrete percentile takes the next value where the continuous one interpolates.
fn percentile_at(cumulative: &[(f64, i64)], position: f64, discrete: bool) -> f64 {
    let lower = position.floor() as i64;
    let higher = position.ceil() as i64;
    let mut i = 0;
    while i + 1 < cumulative.len() && cumulative[i].1 < lower + 1 {
        i += 1;
    }
    let lower_key = cumulative[i].0;
    if higher == lower {
        return lower_key;
    }
    if i + 1 < cumulative.len() && cumulative[i].1 < higher + 1 {
        i += 1;
    }
    let higher_key = cumulative[i].0;
    if discrete {
        return higher_key;
    }
    if higher_key == lower_key {
        return lower_key;
    }
    (higher as f64 - position) * lower_key + (position - lower as f64) * higher_key
}

impl Accumulator for PercentileAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(values) = values.first() else {
            return Ok(());
        };
        let values = cast(values, &DataType::Float64)?;
        for v in values.as_primitive::<Float64Type>().iter().flatten() {
            *self.counts.entry(Key(v)).or_insert(0) += 1;
        }
        Ok(())
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(values) = values.first() else {
            return Ok(());
        };
        let values = cast(values, &DataType::Float64)?;
        for v in values.as_primitive::<Float64Type>().iter().flatten() {
            if let Some(c) = self.counts.get_mut(&Key(v)) {
                *c -= 1;
                if *c <= 0 {
                    self.counts.remove(&Key(v));
                }
            }
        }
        Ok(())
    }

    fn supports_retract_batch(&self) -> bool {
        true
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let Some(lists) = states.first().and_then(|s| s.as_list_opt::<i32>()) else {
            return Err(hive_arg_error("percentile", "malformed aggregate state"));
        };
        for i in 0..lists.len() {
            if !lists.is_valid(i) {
                continue;
            }
            let row = lists.value(i);
            let row = row.as_primitive::<Float64Type>();
            for pair in row.values().chunks_exact(2) {
                *self.counts.entry(Key(pair[0])).or_insert(0) += pair[1] as i64;
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let flat =
            Float64Array::from_iter_values(self.counts.iter().flat_map(|(v, c)| [v.0, *c as f64]));
        let list = ListArray::new(
            Arc::new(Field::new_list_field(DataType::Float64, true)),
            OffsetBuffer::from_lengths([flat.len()]),
            Arc::new(flat),
            None,
        );
        Ok(vec![ScalarValue::List(Arc::new(list))])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.counts.is_empty() {
            return if self.many {
                ScalarValue::try_from(&double_list_type())
            } else {
                Ok(ScalarValue::Float64(None))
            };
        }
        let mut total = 0i64;
        let mut running = |(v, c): (&Key, &i64)| {
            total += c;
            (v.0, total)
        };
        let cumulative: Vec<(f64, i64)> = if self.descending {
            self.counts.iter().rev().map(&mut running).collect()
        } else {
            self.counts.iter().map(&mut running).collect()
        };
        let values: Vec<f64> = self
            .percentiles
            .iter()
            .map(|p| percentile_at(&cumulative, (total - 1) as f64 * p, self.discrete))
            .collect();
        Ok(if self.many {
            double_list(values)
        } else {
            ScalarValue::Float64(values.first().copied())
        })
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
            + self.counts.len() * 4 * std::mem::size_of::<i64>()
            + self.percentiles.capacity() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_as_hive() {
        // 1, 2, 3, 4 → median 2.5; 1, 2, 3, 4, 10 → 0.25 gives 2.0.
        let c = [(1.0, 1), (2.0, 2), (3.0, 3), (4.0, 4)];
        assert_eq!(percentile_at(&c, 3.0 * 0.5, false), 2.5);
        assert_eq!(percentile_at(&c, 3.0 * 0.5, true), 3.0);
        let c = [(1.0, 1), (2.0, 2), (3.0, 3), (4.0, 4), (10.0, 5)];
        assert_eq!(percentile_at(&c, 4.0 * 0.25, false), 2.0);
        assert_eq!(percentile_at(&c, 4.0, false), 10.0);
        // Repeated values: 5, 5, 7 → median 5.
        assert_eq!(percentile_at(&[(5.0, 2), (7.0, 3)], 1.0, false), 5.0);
    }
}
