//! `corr(y, x)`: Hive's Pearson correlation, computed with Hive's running averages and
//! co-moments (`GenericUDAFCorrelation`) so that the last digits agree with Hive's (DataFusion's
//! `corr` sums differently and can differ in the last place). NULL for no pair, and when
//! either column is constant.

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

/// `corr(y, x)` → double.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CorrFunc {
    signature: Signature,
}

impl CorrFunc {
    /// Creates the aggregate.
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl Default for CorrFunc {
    fn default() -> Self {
        Self::new()
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_STATISTICAL,
        "Returns the Pearson coefficient of correlation between a set of number pairs; pairs \
         with a NULL are skipped. NULL for no pairs, or when either column is constant.",
        "corr(y, x)",
        "SELECT corr(y, x) FROM VALUES (2, 1), (4, 2), (7, 3) t(y, x);\n-- 0.9933992677987827",
    )
});

const STATE: [&str; 6] = ["count", "xavg", "yavg", "xvar", "yvar", "covar"];

impl AggregateUDFImpl for CorrFunc {
    fn name(&self) -> &str {
        "corr"
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
                            "corr",
                            format!("only numeric arguments are accepted, got {t}"),
                        ));
                    }
                }
                Ok(vec![DataType::Float64, DataType::Float64])
            }
            _ => Err(hive_arg_error(
                "corr",
                format!("takes 2 arguments (y, x), got {}", arg_types.len()),
            )),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(STATE
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let data_type = if i == 0 {
                    DataType::Int64
                } else {
                    DataType::Float64
                };
                Arc::new(Field::new(format_state_name(args.name, name), data_type, true))
            })
            .collect())
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(CorrAccumulator::default()))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}

/// Hive's `StdAgg`: the count, the averages, and n times the variances and covariance.
#[derive(Debug, Default, Clone, Copy)]
struct CorrAccumulator {
    count: i64,
    xavg: f64,
    yavg: f64,
    xvar: f64,
    yvar: f64,
    covar: f64,
}

impl CorrAccumulator {
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

    fn merge(&mut self, b: CorrAccumulator) {
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

impl Accumulator for CorrAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
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
                self.add(y.value(i), x.value(i));
            }
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let [count, rest @ ..] = states else {
            return Err(hive_arg_error("corr", "malformed aggregate state"));
        };
        if rest.len() != 5 {
            return Err(hive_arg_error("corr", "malformed aggregate state"));
        }
        let count = count.as_primitive::<Int64Type>();
        let f: Vec<_> = rest.iter().map(|a| a.as_primitive::<Float64Type>()).collect();
        for i in 0..count.len() {
            if count.is_valid(i) {
                self.merge(CorrAccumulator {
                    count: count.value(i),
                    xavg: f[0].value(i),
                    yavg: f[1].value(i),
                    xvar: f[2].value(i),
                    yvar: f[3].value(i),
                    covar: f[4].value(i),
                });
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![
            ScalarValue::Int64(Some(self.count)),
            ScalarValue::Float64(Some(self.xavg)),
            ScalarValue::Float64(Some(self.yavg)),
            ScalarValue::Float64(Some(self.xvar)),
            ScalarValue::Float64(Some(self.yvar)),
            ScalarValue::Float64(Some(self.covar)),
        ])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.count == 0 || self.xvar == 0.0 || self.yvar == 0.0 {
            return Ok(ScalarValue::Float64(None));
        }
        Ok(ScalarValue::Float64(Some(
            self.covar / self.yvar.sqrt() / self.xvar.sqrt(),
        )))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }
}
