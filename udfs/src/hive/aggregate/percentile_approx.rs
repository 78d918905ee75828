//! `percentile_approx(x, p [, B])`: Hive's approximate percentile, read off a streaming
//! histogram of `B` bins (default 10000), as Hive computes it.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::aggregate_doc_sections::DOC_SECTION_APPROXIMATE;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, Signature, Volatility,
};

use super::args::{
    constant_arg, constant_doubles, double_list, double_list_rows, double_list_type, is_array,
};
use super::histogram::NumericHistogram;
use crate::hive::{hive_arg_error, hive_doc};

/// Hive's default number of histogram bins.
const DEFAULT_BINS: usize = 10_000;

/// `percentile_approx(x, p [, B])` → double, or `array<double>` for an array of `p`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PercentileApproxFunc {
    signature: Signature,
}

impl PercentileApproxFunc {
    /// Creates the aggregate.
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl Default for PercentileApproxFunc {
    fn default() -> Self {
        Self::new()
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_APPROXIMATE,
        "Returns an approximate pth percentile of a numeric column (p strictly between 0 and \
         1, or an array of such p for an array of percentiles). The optional B (default \
         10000) is the number of histogram bins: higher is more accurate and slower. NULL \
         values are skipped; no values give NULL.",
        "percentile_approx(expr, pc, [nb])",
        "SELECT percentile_approx(x, 0.5) FROM VALUES (1), (2), (3), (4), (10) t(x);\n-- 2.5",
    )
});

/// Checks the argument types shared by `percentile_approx` and `histogram_numeric`: a
/// numeric first argument.
pub(crate) fn check_numeric(name: &str, data_type: &DataType) -> Result<()> {
    if data_type.is_numeric() || data_type == &DataType::Null {
        Ok(())
    } else {
        Err(hive_arg_error(
            name,
            format!("the first argument must be numeric, got {data_type}"),
        ))
    }
}

/// A constant integer argument (the number of bins), at least `min`.
pub(crate) fn bins_arg(
    name: &str,
    args: &AccumulatorArgs,
    index: usize,
    min: i64,
) -> Result<usize> {
    let value = constant_arg(name, args.exprs, index)?;
    match value.cast_to(&DataType::Int64) {
        Ok(ScalarValue::Int64(Some(n))) if n >= min => Ok(usize::try_from(n).unwrap_or(0)),
        _ => Err(hive_arg_error(
            name,
            format!(
                "the number of histogram bins must be an integer of at least {min}, got {value}"
            ),
        )),
    }
}

impl AggregateUDFImpl for PercentileApproxFunc {
    fn name(&self) -> &str {
        "percentile_approx"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if !(2..=3).contains(&arg_types.len()) {
            return Err(hive_arg_error(
                self.name(),
                format!("takes 2 or 3 arguments, got {}", arg_types.len()),
            ));
        }
        check_numeric(self.name(), &arg_types[0])?;
        let p = &arg_types[1];
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
        let mut out = vec![DataType::Float64, p];
        if let Some(b) = arg_types.get(2) {
            if !b.is_integer() {
                return Err(hive_arg_error(
                    self.name(),
                    format!("the number of bins must be an integer, got {b}"),
                ));
            }
            out.push(DataType::Int64);
        }
        Ok(out)
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types.get(1) {
            Some(p) if is_array(p) => Ok(double_list_type()),
            _ => Ok(DataType::Float64),
        }
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format_state_name(args.name, "histogram"),
            double_list_type(),
            true,
        ))])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let name = self.name();
        let p = constant_arg(name, args.exprs, 1)?;
        let quantiles = constant_doubles(name, &p)?;
        if let Some(bad) = quantiles.iter().find(|q| !(**q > 0.0 && **q < 1.0)) {
            return Err(hive_arg_error(
                name,
                format!("percentile values must lie strictly between 0 and 1, got {bad}"),
            ));
        }
        let bins = if args.exprs.len() > 2 {
            bins_arg(name, &args, 2, 1)?
        } else {
            DEFAULT_BINS
        };
        Ok(Box::new(PercentileApproxAccumulator {
            histogram: NumericHistogram::new(bins),
            quantiles,
            many: is_array(args.return_field.data_type()),
        }))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}

#[derive(Debug)]
struct PercentileApproxAccumulator {
    histogram: NumericHistogram,
    quantiles: Vec<f64>,
    many: bool,
}

/// Adds the non-NULL values of `values` (cast to double) to `histogram`.
pub(crate) fn add_values(histogram: &mut NumericHistogram, values: &[ArrayRef]) -> Result<()> {
    let Some(values) = values.first() else {
        return Ok(());
    };
    let values = cast(values, &DataType::Float64)?;
    for v in values.as_primitive::<Float64Type>().iter().flatten() {
        histogram.add(v);
    }
    Ok(())
}

/// Merges serialized histograms (the state column) into `histogram`.
pub(crate) fn merge_states(histogram: &mut NumericHistogram, states: &[ArrayRef]) -> Result<()> {
    if let Some(state) = states.first() {
        for row in double_list_rows(state)? {
            histogram.merge_serialized(&row);
        }
    }
    Ok(())
}

impl Accumulator for PercentileApproxAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        add_values(&mut self.histogram, values)
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        merge_states(&mut self.histogram, states)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![double_list(self.histogram.serialize())])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.histogram.bins().is_empty() {
            return Ok(if self.many {
                ScalarValue::try_from(&double_list_type())?
            } else {
                ScalarValue::Float64(None)
            });
        }
        let values: Vec<f64> = self
            .quantiles
            .iter()
            .filter_map(|q| self.histogram.quantile(*q))
            .collect();
        Ok(if self.many {
            double_list(values)
        } else {
            ScalarValue::Float64(values.first().copied())
        })
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.histogram.size() + self.quantiles.capacity() * 8
    }
}
