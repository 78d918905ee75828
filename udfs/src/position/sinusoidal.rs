//! `sinusoidal_position(pos, dim [, base])`: the sinusoidal position encoding of Vaswani et al.
//! (2017), PE[2i] = sin(pos / base^(2i/dim)), PE[2i+1] = cos(pos / base^(2i/dim)).

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, Int64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    Volatility,
};

use super::float_vectors::list_from_lengths;
use super::{
    DEFAULT_BASE, constant, double_type, execution_error, integer_type, parse_base, parse_dim,
    plan_error, position_doc,
};

const NAME: &str = "sinusoidal_position";
const POS: &str = "argument 1 (pos)";
const DIM: &str = "argument 2 (dim)";
const BASE: &str = "argument 3 (base)";

/// `sinusoidal_position(pos, dim [, base])` → `ARRAY<DOUBLE>` of length dim.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SinusoidalPositionFunc {
    signature: Signature,
}

impl Default for SinusoidalPositionFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl SinusoidalPositionFunc {
    /// Creates the `sinusoidal_position` function.
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    position_doc(
        "The sinusoidal position encoding of \"Attention Is All You Need\": an ARRAY<DOUBLE> of \
         length dim with PE[2i] = sin(pos / base^(2i/dim)) and PE[2i+1] = cos(pos / base^(2i/dim)), \
         computed in float64. A NULL pos gives NULL; a negative pos is an error.",
        "sinusoidal_position(pos, dim [, base])",
        "SELECT sinusoidal_position(3, 4);\n-- [0.1411200080598672, -0.9899924966004454, 0.02999550020249566, 0.9995500337489875]",
        &[
            ("pos", "the position, an integer >= 0 (column or constant)"),
            ("dim", "constant even integer, 2 to 65536"),
            ("base", "constant > 0, default 10000"),
        ],
    )
});

impl ScalarUDFImpl for SinusoidalPositionFunc {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if !(2..=3).contains(&arg_types.len()) {
            return Err(plan_error(
                NAME,
                format!(
                    "takes 2 or 3 arguments (pos, dim [, base]), got {}",
                    arg_types.len()
                ),
            ));
        }
        let mut types = vec![
            integer_type(NAME, POS, &arg_types[0])?,
            integer_type(NAME, DIM, &arg_types[1])?,
        ];
        if let Some(t) = arg_types.get(2) {
            types.push(double_type(NAME, BASE, t)?);
        }
        Ok(types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::new_list(DataType::Float64, true))
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        if let Some(Some(dim)) = args.scalar_arguments.get(1) {
            parse_dim(NAME, DIM, dim, true)?;
        }
        if let Some(Some(base)) = args.scalar_arguments.get(2) {
            parse_base(NAME, BASE, base)?;
        }
        Ok(Arc::new(Field::new(
            NAME,
            DataType::new_list(DataType::Float64, true),
            true,
        )))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let dim = match constant(NAME, DIM, args.args.get(1))? {
            Some(v) => parse_dim(NAME, DIM, v, true)?,
            None => return Err(plan_error(NAME, "takes 2 or 3 arguments")),
        };
        let base = match constant(NAME, BASE, args.args.get(2))? {
            Some(v) => parse_base(NAME, BASE, v)?,
            None => DEFAULT_BASE,
        };
        let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let positions = args.args[0].to_array(if scalar { 1 } else { args.number_rows })?;
        let positions = datafusion::arrow::compute::cast(&positions, &DataType::Int64)?;
        let Some(positions) = positions.as_any().downcast_ref::<Int64Array>() else {
            return exec_err!("{NAME}: positions must be integers");
        };
        // pos / base^(2i/dim), as the formula is written (a division, not a multiplication
        // by base^(-2i/dim)).
        let denominators: Vec<f64> = (0..dim / 2)
            .map(|i| libm::pow(base, (2 * i) as f64 / dim as f64))
            .collect();
        let mut values = Vec::with_capacity(positions.len() * dim);
        let mut lengths = Vec::with_capacity(positions.len());
        for row in 0..positions.len() {
            if positions.is_null(row) {
                lengths.push(None);
                continue;
            }
            let m = positions.value(row);
            if m < 0 {
                return Err(execution_error(
                    NAME,
                    format!("{POS} must be >= 0, got {m}"),
                ));
            }
            let m = m as f64;
            for &d in &denominators {
                let (s, c) = libm::sincos(m / d);
                values.push(s);
                values.push(c);
            }
            lengths.push(Some(dim));
        }
        let result = list_from_lengths(values, &lengths)?;
        if scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &result, 0,
            )?))
        } else {
            Ok(ColumnarValue::Array(result))
        }
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
