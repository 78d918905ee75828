//! Hive's statistics of number pairs (y, x): `corr` and the `regr_*` family, computed with
//! Hive's running averages and co-moments (`GenericUDAFCorrelation`, and for `regr_sxx`,
//! `regr_syy`, `regr_avgx`, `regr_avgy` Hive's variance and average sums) so that the last
//! digits agree with Hive's: DataFusion's functions of these names sum differently and differ
//! in the last place. Pairs with a NULL are skipped.

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

use super::variance::Moments;
use crate::hive::{hive_arg_error, hive_doc};

/// Which statistic of the pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PairStat {
    /// `corr(y, x)`: Pearson's correlation coefficient.
    Corr,
    /// `covar_pop(x, y)`: the population covariance.
    CovarPop,
    /// `covar_samp(x, y)`: the sample covariance (NULL for one pair).
    CovarSamp,
    /// `regr_count(y, x)`: the number of non-NULL pairs.
    Count,
    /// `regr_slope(y, x)`.
    Slope,
    /// `regr_intercept(y, x)`.
    Intercept,
    /// `regr_r2(y, x)`.
    R2,
    /// `regr_sxx(y, x)`.
    Sxx,
    /// `regr_syy(y, x)`.
    Syy,
    /// `regr_sxy(y, x)`.
    Sxy,
    /// `regr_avgx(y, x)`.
    AvgX,
    /// `regr_avgy(y, x)`.
    AvgY,
}

impl PairStat {
    /// Every statistic, one aggregate each.
    pub const ALL: [PairStat; 12] = [
        PairStat::Corr,
        PairStat::CovarPop,
        PairStat::CovarSamp,
        PairStat::Count,
        PairStat::Slope,
        PairStat::Intercept,
        PairStat::R2,
        PairStat::Sxx,
        PairStat::Syy,
        PairStat::Sxy,
        PairStat::AvgX,
        PairStat::AvgY,
    ];

    fn name(self) -> &'static str {
        match self {
            PairStat::Corr => "corr",
            PairStat::CovarPop => "covar_pop",
            PairStat::CovarSamp => "covar_samp",
            PairStat::Count => "regr_count",
            PairStat::Slope => "regr_slope",
            PairStat::Intercept => "regr_intercept",
            PairStat::R2 => "regr_r2",
            PairStat::Sxx => "regr_sxx",
            PairStat::Syy => "regr_syy",
            PairStat::Sxy => "regr_sxy",
            PairStat::AvgX => "regr_avgx",
            PairStat::AvgY => "regr_avgy",
        }
    }

    fn doc(self) -> &'static Documentation {
        let i = PairStat::ALL.iter().position(|s| *s == self).unwrap_or(0);
        &DOCS[i]
    }
}

/// `corr(y, x)` or one of the `regr_*(y, x)` → double (`regr_count`: bigint).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PairStatFunc {
    stat: PairStat,
    signature: Signature,
}

impl PairStatFunc {
    /// Creates the aggregate for `stat`.
    pub fn new(stat: PairStat) -> Self {
        Self {
            stat,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

static DOCS: LazyLock<Vec<Documentation>> = LazyLock::new(|| {
    PairStat::ALL
        .iter()
        .map(|s| {
            let (description, example) = match s {
                PairStat::Corr => (
                    "Returns the Pearson coefficient of correlation between a set of number \
                     pairs. NULL for no pairs, or when either column is constant.",
                    "SELECT corr(y, x) FROM VALUES (2, 1), (4, 2), (7, 3) t(y, x);\n-- 0.9933992677987827",
                ),
                PairStat::CovarPop => (
                    "Returns the population covariance of a set of number pairs; NULL for no \
                     pairs.",
                    "SELECT covar_pop(x, y) FROM VALUES (1, 2), (2, 4), (3, 7) t(x, y);\n-- 1.6666666666666667",
                ),
                PairStat::CovarSamp => (
                    "Returns the sample covariance of a set of number pairs; NULL for fewer \
                     than 2 pairs.",
                    "SELECT covar_samp(x, y) FROM VALUES (1, 2), (2, 4), (3, 7) t(x, y);\n-- 2.5",
                ),
                PairStat::Count => (
                    "Returns the number of non-NULL pairs.",
                    "SELECT regr_count(y, x) FROM VALUES (2, 1), (NULL, 2) t(y, x);\n-- 1",
                ),
                PairStat::Slope => (
                    "Returns the slope of the linear regression line; NULL for fewer than 2 \
                     pairs or a constant x.",
                    "SELECT regr_slope(y, x) FROM VALUES (2, 1), (4, 2), (7, 3) t(y, x);\n-- 2.5",
                ),
                PairStat::Intercept => (
                    "Returns the y-intercept of the regression line; NULL for no pairs or a \
                     constant x.",
                    "SELECT regr_intercept(y, x) FROM VALUES (2, 1), (4, 2), (7, 3) t(y, x);\n-- -0.666666666666667",
                ),
                PairStat::R2 => (
                    "Returns the coefficient of determination (R-squared) of the regression \
                     line: NULL for fewer than 2 pairs or a constant x, 1 for a constant y.",
                    "SELECT regr_r2(y, x) FROM VALUES (2, 1), (4, 2), (7, 3) t(y, x);\n-- 0.9868421052631579",
                ),
                PairStat::Sxx => (
                    "Auxiliary analytic function: SUM(x*x) - SUM(x)*SUM(x)/N.",
                    "SELECT regr_sxx(y, x) FROM VALUES (2, 1), (4, 2), (7, 3) t(y, x);\n-- 2.0",
                ),
                PairStat::Syy => (
                    "Auxiliary analytic function: SUM(y*y) - SUM(y)*SUM(y)/N.",
                    "SELECT regr_syy(y, x) FROM VALUES (2, 1), (4, 2), (7, 3) t(y, x);\n-- 12.666666666666666",
                ),
                PairStat::Sxy => (
                    "Auxiliary analytic function: SUM(x*y) - SUM(x)*SUM(y)/N.",
                    "SELECT regr_sxy(y, x) FROM VALUES (2, 1), (4, 2), (7, 3) t(y, x);\n-- 5.0",
                ),
                PairStat::AvgX => (
                    "Returns the average of the independent variable x over the non-NULL pairs.",
                    "SELECT regr_avgx(y, x) FROM VALUES (2, 1), (4, 2), (7, NULL) t(y, x);\n-- 1.5",
                ),
                PairStat::AvgY => (
                    "Returns the average of the dependent variable y over the non-NULL pairs.",
                    "SELECT regr_avgy(y, x) FROM VALUES (2, 1), (4, 2), (7, NULL) t(y, x);\n-- 3.0",
                ),
            };
            hive_doc(
                DOC_SECTION_STATISTICAL,
                description,
                &if matches!(s, PairStat::CovarPop | PairStat::CovarSamp) {
                    format!("{}(x, y)", s.name())
                } else {
                    format!("{}(y, x)", s.name())
                },
                example,
            )
        })
        .collect()
});

const STATE: [&str; 12] = [
    "count", "xavg", "yavg", "xvar", "yvar", "covar", "xs_count", "xs_sum", "xs_var", "ys_count",
    "ys_sum", "ys_var",
];

impl AggregateUDFImpl for PairStatFunc {
    fn name(&self) -> &str {
        self.stat.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [y, x] => {
                for t in [y, x] {
                    if !(t.is_numeric() || t == &DataType::Null) {
                        return Err(hive_arg_error(
                            self.stat.name(),
                            format!("only numeric arguments are accepted, got {t}"),
                        ));
                    }
                }
                Ok(vec![DataType::Float64, DataType::Float64])
            }
            _ => Err(hive_arg_error(
                self.stat.name(),
                format!("takes 2 arguments (y, x), got {}", arg_types.len()),
            )),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(if self.stat == PairStat::Count {
            DataType::Int64
        } else {
            DataType::Float64
        })
    }

    fn is_nullable(&self) -> bool {
        self.stat != PairStat::Count
    }

    fn default_value(&self, data_type: &DataType) -> Result<ScalarValue> {
        if self.stat == PairStat::Count {
            Ok(ScalarValue::Int64(Some(0)))
        } else {
            ScalarValue::try_from(data_type)
        }
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(STATE
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let data_type = if i == 0 || i == 6 || i == 9 {
                    DataType::Int64
                } else {
                    DataType::Float64
                };
                Arc::new(Field::new(
                    format_state_name(args.name, name),
                    data_type,
                    true,
                ))
            })
            .collect())
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(PairAccumulator {
            stat: self.stat,
            co: CoMoments::default(),
            xs: Moments::default(),
            ys: Moments::default(),
        }))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(self.stat.doc())
    }
}

/// Hive's correlation `StdAgg`: the count, the averages, and n times the variances and
/// covariance.
#[derive(Debug, Default, Clone, Copy)]
struct CoMoments {
    count: i64,
    xavg: f64,
    yavg: f64,
    xvar: f64,
    yvar: f64,
    covar: f64,
}

impl CoMoments {
    fn add(&mut self, vy: f64, vx: f64) {
        let dx = vx - self.xavg;
        let dy = vy - self.yavg;
        self.count += 1;
        let n = self.count as f64;
        self.xavg += dx / n;
        self.yavg += dy / n;
        if self.count > 1 {
            self.covar += dx * (vy - self.yavg);
            self.xvar += dx * (vx - self.xavg);
            self.yvar += dy * (vy - self.yavg);
        }
    }

    /// Undoes [`CoMoments::add`] of a pair (leaving a sliding window frame).
    fn remove(&mut self, vy: f64, vx: f64) {
        if self.count <= 1 {
            *self = CoMoments::default();
            return;
        }
        let n = self.count as f64;
        let xavg = (n * self.xavg - vx) / (n - 1.0);
        let yavg = (n * self.yavg - vy) / (n - 1.0);
        let dx = vx - xavg;
        let dy = vy - yavg;
        self.covar -= dx * (vy - self.yavg);
        self.xvar = (self.xvar - dx * (vx - self.xavg)).max(0.0);
        self.yvar = (self.yvar - dy * (vy - self.yavg)).max(0.0);
        self.xavg = xavg;
        self.yavg = yavg;
        self.count -= 1;
    }

    fn merge(&mut self, b: CoMoments) {
        if b.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = b;
            return;
        }
        let (na, nb) = (self.count as f64, b.count as f64);
        let (xa, ya) = (self.xavg, self.yavg);
        self.count += b.count;
        let n = self.count as f64;
        self.xavg = (xa * na + b.xavg * nb) / n;
        self.yavg = (ya * na + b.yavg * nb) / n;
        self.xvar += b.xvar + (xa - b.xavg) * (xa - b.xavg) * na * nb / n;
        self.yvar += b.yvar + (ya - b.yavg) * (ya - b.yavg) * na * nb / n;
        self.covar += b.covar + (xa - b.xavg) * (ya - b.yavg) * (na * nb / n);
    }
}

/// The pairs' co-moments, and Hive's variance sums of x and of y alone.
#[derive(Debug)]
struct PairAccumulator {
    stat: PairStat,
    co: CoMoments,
    xs: Moments,
    ys: Moments,
}

impl PairAccumulator {
    /// Adds (`remove`: false) or removes each pair where neither value is NULL.
    fn apply(&mut self, values: &[ArrayRef], remove: bool) -> Result<()> {
        let [y, x] = values else {
            return Err(hive_arg_error("corr", "takes 2 arguments (y, x)"));
        };
        let y = cast(y, &DataType::Float64)?;
        let x = cast(x, &DataType::Float64)?;
        let (y, x) = (
            y.as_primitive::<Float64Type>(),
            x.as_primitive::<Float64Type>(),
        );
        for i in 0..y.len() {
            if y.is_valid(i) && x.is_valid(i) {
                // Hive's covariance takes its first argument as x, the others as y.
                let (a, b) = if matches!(self.stat, PairStat::CovarPop | PairStat::CovarSamp) {
                    (x.value(i), y.value(i))
                } else {
                    (y.value(i), x.value(i))
                };
                if remove {
                    self.co.remove(a, b);
                    self.xs.remove(x.value(i));
                    self.ys.remove(y.value(i));
                } else {
                    self.co.add(a, b);
                    self.xs.add(x.value(i));
                    self.ys.add(y.value(i));
                }
            }
        }
        Ok(())
    }
}

impl Accumulator for PairAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.apply(values, false)
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.apply(values, true)
    }

    fn supports_retract_batch(&self) -> bool {
        true
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let [count, rest @ ..] = states else {
            return Err(hive_arg_error("corr", "malformed aggregate state"));
        };
        if rest.len() != STATE.len() - 1 {
            return Err(hive_arg_error("corr", "malformed aggregate state"));
        }
        let count = count.as_primitive::<Int64Type>();
        let f = |j: usize| rest[j - 1].as_primitive::<Float64Type>();
        let n = |j: usize| rest[j - 1].as_primitive::<Int64Type>();
        for i in 0..count.len() {
            if count.is_valid(i) {
                self.co.merge(CoMoments {
                    count: count.value(i),
                    xavg: f(1).value(i),
                    yavg: f(2).value(i),
                    xvar: f(3).value(i),
                    yvar: f(4).value(i),
                    covar: f(5).value(i),
                });
                self.xs.merge(Moments {
                    count: n(6).value(i),
                    sum: f(7).value(i),
                    variance: f(8).value(i),
                });
                self.ys.merge(Moments {
                    count: n(9).value(i),
                    sum: f(10).value(i),
                    variance: f(11).value(i),
                });
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let (c, xs, ys) = (self.co, self.xs, self.ys);
        Ok(vec![
            ScalarValue::Int64(Some(c.count)),
            ScalarValue::Float64(Some(c.xavg)),
            ScalarValue::Float64(Some(c.yavg)),
            ScalarValue::Float64(Some(c.xvar)),
            ScalarValue::Float64(Some(c.yvar)),
            ScalarValue::Float64(Some(c.covar)),
            ScalarValue::Int64(Some(xs.count)),
            ScalarValue::Float64(Some(xs.sum)),
            ScalarValue::Float64(Some(xs.variance)),
            ScalarValue::Int64(Some(ys.count)),
            ScalarValue::Float64(Some(ys.sum)),
            ScalarValue::Float64(Some(ys.variance)),
        ])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let c = self.co;
        let value = match self.stat {
            PairStat::Count => return Ok(ScalarValue::Int64(Some(c.count))),
            _ if c.count == 0 => None,
            PairStat::Corr if c.xvar == 0.0 || c.yvar == 0.0 => None,
            PairStat::Corr => Some(c.covar / c.yvar.sqrt() / c.xvar.sqrt()),
            PairStat::CovarPop => Some(c.covar / c.count as f64),
            PairStat::CovarSamp if c.count < 2 => None,
            PairStat::CovarSamp => Some(c.covar / (c.count - 1) as f64),
            PairStat::Slope | PairStat::R2 if c.count < 2 || c.xvar == 0.0 => None,
            PairStat::Slope => Some(c.covar / c.xvar),
            PairStat::R2 if c.yvar == 0.0 => Some(1.0),
            PairStat::R2 => Some(c.covar * c.covar / c.xvar / c.yvar),
            PairStat::Intercept if c.xvar == 0.0 => None,
            PairStat::Intercept => Some(c.yavg - c.covar / c.xvar * c.xavg),
            PairStat::Sxy => Some(c.covar),
            PairStat::Sxx => Some(self.xs.variance),
            PairStat::Syy => Some(self.ys.variance),
            PairStat::AvgX => Some(self.xs.sum / self.xs.count as f64),
            PairStat::AvgY => Some(self.ys.sum / self.ys.count as f64),
        };
        Ok(ScalarValue::Float64(value))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }
}
