//! `histogram_numeric(x, b)`: Hive's streaming histogram of a numeric column in `b`
//! non-uniform bins, as an `array<struct<x:double, y:double>>` (centre and height).

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, Float64Array, ListArray, StructArray};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::aggregate_doc_sections::DOC_SECTION_APPROXIMATE;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, Signature, Volatility,
};

use super::args::{double_list, double_list_type};
use super::histogram::NumericHistogram;
use super::percentile_approx::{add_values, bins_arg, check_numeric, merge_states};
use crate::hive::{hive_arg_error, hive_doc};

/// `histogram_numeric(x, b)` → `array<struct<x:double, y:double>>`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct HistogramNumericFunc {
    signature: Signature,
}

impl HistogramNumericFunc {
    /// Creates the aggregate.
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl Default for HistogramNumericFunc {
    fn default() -> Self {
        Self::new()
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_APPROXIMATE,
        "Computes a histogram of a numeric column using b non-uniformly spaced bins: an array \
         of (x, y) pairs, the bins' centres and heights. NULL values are skipped; no values \
         give NULL.",
        "histogram_numeric(expr, nb)",
        "SELECT histogram_numeric(x, 3) FROM VALUES (1), (2), (3), (4), (10), (11), (30) t(x);\n\
         -- [{x: 2.5, y: 4.0}, {x: 10.5, y: 2.0}, {x: 30.0, y: 1.0}]",
    )
});

fn bin_fields() -> Fields {
    Fields::from(vec![
        Field::new("x", DataType::Float64, true),
        Field::new("y", DataType::Float64, true),
    ])
}

fn result_type() -> DataType {
    DataType::new_list(DataType::Struct(bin_fields()), true)
}

impl AggregateUDFImpl for HistogramNumericFunc {
    fn name(&self) -> &str {
        "histogram_numeric"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [x, b] => {
                check_numeric(self.name(), x)?;
                if !b.is_integer() {
                    return Err(hive_arg_error(
                        self.name(),
                        format!("the number of bins must be an integer, got {b}"),
                    ));
                }
                Ok(vec![DataType::Float64, DataType::Int64])
            }
            _ => Err(hive_arg_error(
                self.name(),
                format!("takes 2 arguments (expr, nb), got {}", arg_types.len()),
            )),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(result_type())
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format_state_name(args.name, "histogram"),
            double_list_type(),
            true,
        ))])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let bins = bins_arg(self.name(), &args, 1, 2)?;
        Ok(Box::new(HistogramAccumulator {
            histogram: NumericHistogram::new(bins),
        }))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}

#[derive(Debug)]
struct HistogramAccumulator {
    histogram: NumericHistogram,
}

impl Accumulator for HistogramAccumulator {
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
        let bins = self.histogram.bins();
        if bins.is_empty() {
            return ScalarValue::try_from(&result_type());
        }
        let xs = Float64Array::from_iter_values(bins.iter().map(|b| b.x));
        let ys = Float64Array::from_iter_values(bins.iter().map(|b| b.y));
        let structs = StructArray::try_new(
            bin_fields(),
            vec![Arc::new(xs) as ArrayRef, Arc::new(ys) as ArrayRef],
            None,
        )?;
        let list = ListArray::try_new(
            Arc::new(Field::new_list_field(DataType::Struct(bin_fields()), true)),
            OffsetBuffer::from_lengths([structs.len()]),
            Arc::new(structs),
            None,
        )?;
        Ok(ScalarValue::List(Arc::new(list)))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.histogram.size()
    }
}
