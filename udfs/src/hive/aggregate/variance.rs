//! Hive's variance family: `variance`/`var_pop`, `var_samp`, `stddev`/`std`/`stddev_pop`,
//! `stddev_samp`.
//!
//! DataFusion's `stddev` and `variance`-like names mean the *sample* statistics and answer
//! NULL for one value; Hive's `stddev`, `std` and `variance` are the *population* ones, and
//! Hive's sample statistics of a single value are 0. The running sums follow Hive's
//! `GenericUDAFVariance` (Chan's pairwise update, the same merge), so the last digits agree.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type, Int64Type};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::aggregate_doc_sections::DOC_SECTION_STATISTICAL;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, Signature, Volatility,
};

use crate::hive::{hive_arg_error, hive_doc};

/// Which statistic a variance-family function returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Statistic {
    VarPop,
    VarSamp,
    StddevPop,
    StddevSamp,
}

/// One of Hive's variance-family aggregates.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct VarianceFunc {
    name: &'static str,
    aliases: Vec<String>,
    statistic: Statistic,
    signature: Signature,
}

static VAR_POP_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    doc(
        "Returns the population variance of a numeric column (variance and var_pop are the \
         same function). NULL values are skipped; no values give NULL.",
        "var_pop(x)",
        "SELECT var_pop(x) FROM VALUES (1), (2), (3), (4), (10) t(x);\n-- 10.0",
    )
});
static VAR_SAMP_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    doc(
        "Returns the sample variance of a numeric column (0 for a single value, as in Hive). \
         NULL values are skipped; no values give NULL.",
        "var_samp(x)",
        "SELECT var_samp(x) FROM VALUES (1), (2), (3), (4), (10) t(x);\n-- 12.5",
    )
});
static STDDEV_POP_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    doc(
        "Returns the population standard deviation of a numeric column (stddev, std and \
         stddev_pop are the same function). NULL values are skipped; no values give NULL.",
        "stddev_pop(x)",
        "SELECT stddev_pop(x) FROM VALUES (1), (2), (3), (4), (10) t(x);\n-- 3.1622776601683795",
    )
});
static STDDEV_SAMP_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    doc(
        "Returns the sample standard deviation of a numeric column (0 for a single value, as \
         in Hive). NULL values are skipped; no values give NULL.",
        "stddev_samp(x)",
        "SELECT stddev_samp(x) FROM VALUES (1), (2), (3), (4), (10) t(x);\n-- 3.5355339059327378",
    )
});

fn doc(description: &str, syntax: &str, example: &str) -> Documentation {
    hive_doc(DOC_SECTION_STATISTICAL, description, syntax, example)
}

impl VarianceFunc {
    fn new(name: &'static str, aliases: &[&str], statistic: Statistic) -> Self {
        Self {
            name,
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            statistic,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }

    /// `var_pop(x)`, also called `variance(x)`.
    pub fn var_pop() -> Self {
        Self::new("var_pop", &["variance"], Statistic::VarPop)
    }

    /// `var_samp(x)`.
    pub fn var_samp() -> Self {
        Self::new("var_samp", &[], Statistic::VarSamp)
    }

    /// `stddev_pop(x)`.
    pub fn stddev_pop() -> Self {
        Self::new("stddev_pop", &[], Statistic::StddevPop)
    }

    /// `stddev(x)` (Hive's population deviation; DataFusion's is the sample one).
    pub fn stddev() -> Self {
        Self::new("stddev", &[], Statistic::StddevPop)
    }

    /// `std(x)` (the population deviation).
    pub fn std() -> Self {
        Self::new("std", &[], Statistic::StddevPop)
    }

    /// `stddev_samp(x)`.
    pub fn stddev_samp() -> Self {
        Self::new("stddev_samp", &[], Statistic::StddevSamp)
    }
}

impl AggregateUDFImpl for VarianceFunc {
    fn name(&self) -> &str {
        self.name
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [t] if t.is_numeric() || t == &DataType::Null => Ok(vec![DataType::Float64]),
            [t] => Err(hive_arg_error(
                self.name,
                format!("the argument must be numeric, got {t}"),
            )),
            _ => Err(hive_arg_error(
                self.name,
                format!("takes exactly one argument, got {}", arg_types.len()),
            )),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new(
                format_state_name(args.name, "count"),
                DataType::Int64,
                true,
            )),
            Arc::new(Field::new(
                format_state_name(args.name, "sum"),
                DataType::Float64,
                true,
            )),
            Arc::new(Field::new(
                format_state_name(args.name, "variance"),
                DataType::Float64,
                true,
            )),
        ])
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(VarianceAccumulator {
            statistic: self.statistic,
            moments: Moments::default(),
        }))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(match self.statistic {
            Statistic::VarPop => &VAR_POP_DOC,
            Statistic::VarSamp => &VAR_SAMP_DOC,
            Statistic::StddevPop => &STDDEV_POP_DOC,
            Statistic::StddevSamp => &STDDEV_SAMP_DOC,
        })
    }
}

/// Hive's running state: the count, the sum and n times the population variance.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Moments {
    /// The number of values.
    pub(crate) count: i64,
    /// Their sum.
    pub(crate) sum: f64,
    /// n times their population variance.
    pub(crate) variance: f64,
}

impl Moments {
    /// Hive's `iterate`.
    pub(crate) fn add(&mut self, v: f64) {
        self.count += 1;
        self.sum += v;
        if self.count > 1 {
            let n = self.count as f64;
            let t = n * v - self.sum;
            self.variance += (t * t) / (n * (n - 1.0));
        }
    }

    /// Undoes [`Moments::add`] of `v` (a value leaving a sliding window frame).
    pub(crate) fn remove(&mut self, v: f64) {
        if self.count <= 1 {
            *self = Moments::default();
            return;
        }
        let n = self.count as f64;
        let t = n * v - self.sum;
        self.variance = (self.variance - (t * t) / (n * (n - 1.0))).max(0.0);
        self.count -= 1;
        self.sum -= v;
    }

    /// Hive's `merge`.
    pub(crate) fn merge(&mut self, other: Moments) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = other;
            return;
        }
        let m = self.count as f64;
        let n = other.count as f64;
        let t = (m / n) * other.sum - self.sum;
        self.variance += other.variance + ((n / m) / (n + m)) * t * t;
        self.count += other.count;
        self.sum += other.sum;
    }
}

#[derive(Debug)]
struct VarianceAccumulator {
    statistic: Statistic,
    moments: Moments,
}

impl Accumulator for VarianceAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(values) = values.first() else {
            return Ok(());
        };
        let values = cast(values, &DataType::Float64)?;
        for v in values.as_primitive::<Float64Type>().iter().flatten() {
            self.moments.add(v);
        }
        Ok(())
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(values) = values.first() else {
            return Ok(());
        };
        let values = cast(values, &DataType::Float64)?;
        for v in values.as_primitive::<Float64Type>().iter().flatten() {
            self.moments.remove(v);
        }
        Ok(())
    }

    fn supports_retract_batch(&self) -> bool {
        true
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let [count, sum, variance] = states else {
            return Err(hive_arg_error("variance", "malformed aggregate state"));
        };
        let count = count.as_primitive::<Int64Type>();
        let sum = sum.as_primitive::<Float64Type>();
        let variance = variance.as_primitive::<Float64Type>();
        for i in 0..count.len() {
            if count.is_valid(i) {
                self.moments.merge(Moments {
                    count: count.value(i),
                    sum: sum.value(i),
                    variance: variance.value(i),
                });
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let m = self.moments;
        Ok(vec![
            ScalarValue::Int64(Some(m.count)),
            ScalarValue::Float64(Some(m.sum)),
            ScalarValue::Float64(Some(m.variance)),
        ])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let m = self.moments;
        if m.count == 0 {
            return Ok(ScalarValue::Float64(None));
        }
        let n = m.count as f64;
        let value = match self.statistic {
            Statistic::VarPop => m.variance / n,
            Statistic::StddevPop => (m.variance / n).sqrt(),
            Statistic::VarSamp if m.count > 1 => m.variance / (n - 1.0),
            Statistic::StddevSamp if m.count > 1 => (m.variance / (n - 1.0)).sqrt(),
            Statistic::VarSamp | Statistic::StddevSamp => 0.0,
        };
        Ok(ScalarValue::Float64(Some(value)))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_and_merged_sums_agree_with_one_pass() {
        let values = [1.0, 2.0, 3.0, 4.0, 10.0];
        let mut all = Moments::default();
        values.iter().for_each(|v| all.add(*v));
        assert_eq!(all.variance / 5.0, 10.0);
        let (mut left, mut right) = (Moments::default(), Moments::default());
        values[..2].iter().for_each(|v| left.add(*v));
        values[2..].iter().for_each(|v| right.add(*v));
        left.merge(right);
        assert!((left.variance / 5.0 - 10.0).abs() < 1e-12);
        assert_eq!(left.count, 5);
    }

    #[test]
    fn removing_a_value_undoes_adding_it() {
        let mut m = Moments::default();
        [1.0, 2.0, 3.0, 4.0, 10.0].iter().for_each(|v| m.add(*v));
        m.remove(1.0);
        m.remove(2.0);
        let mut direct = Moments::default();
        [3.0, 4.0, 10.0].iter().for_each(|v| direct.add(*v));
        assert_eq!(m.count, 3);
        assert!((m.sum - direct.sum).abs() < 1e-12);
        assert!(
            (m.variance - direct.variance).abs() < 1e-9,
            "{m:?} {direct:?}"
        );
    }
}
