//! Float vector arithmetic: `vec_dot`, `vec_cosine`, `vec_norm`, `vec_add`, `vec_scale`,
//! `vec_normalize`.
//!
//! DataFusion 55 has near relatives (`inner_product`, `cosine_distance`, `array_add`,
//! `array_scale`, `array_normalize`), but they cast `ARRAY<FLOAT>` to `ARRAY<DOUBLE>` and
//! `FixedSizeList` to `List` (twice the bytes out, and a different type than `rope` returns),
//! turn a NULL element into a NULL result instead of an error, and build their output one
//! element at a time. These keep the element type and list layout, refuse NULL elements and
//! mismatched lengths with an error naming the argument, and loop over the flat values.
//! Sums (dot products, norms) are taken in float64 whatever the element type.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use datafusion::arrow::buffer::{NullBuffer, ScalarBuffer};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    Volatility,
};

use super::float_vectors::{VectorFloat, Vectors, with_values_like};
use super::{
    double_type, element_type, execution_error, plan_error, position_doc, vector_type,
    with_element_type,
};

/// The vector functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VectorOp {
    /// `vec_dot(a, b)`: Σ a[i]·b[i].
    Dot,
    /// `vec_cosine(a, b)`: the cosine similarity.
    Cosine,
    /// `vec_norm(a)`: the Euclidean (L2) norm.
    Norm,
    /// `vec_add(a, b)`: the element-wise sum.
    Add,
    /// `vec_scale(a, s)`: a·s.
    Scale,
    /// `vec_normalize(a)`: a / ‖a‖.
    Normalize,
}

impl VectorOp {
    /// Every vector function, in the order they are registered.
    pub const ALL: [VectorOp; 6] = [
        VectorOp::Dot,
        VectorOp::Cosine,
        VectorOp::Norm,
        VectorOp::Add,
        VectorOp::Scale,
        VectorOp::Normalize,
    ];

    /// The SQL name.
    pub fn name(self) -> &'static str {
        match self {
            VectorOp::Dot => "vec_dot",
            VectorOp::Cosine => "vec_cosine",
            VectorOp::Norm => "vec_norm",
            VectorOp::Add => "vec_add",
            VectorOp::Scale => "vec_scale",
            VectorOp::Normalize => "vec_normalize",
        }
    }

    /// The argument names, as errors and documentation give them.
    fn arguments(self) -> &'static [&'static str] {
        match self {
            VectorOp::Dot | VectorOp::Cosine | VectorOp::Add => {
                &["argument 1 (a)", "argument 2 (b)"]
            }
            VectorOp::Norm | VectorOp::Normalize => &["argument 1 (a)"],
            VectorOp::Scale => &["argument 1 (a)", "argument 2 (s)"],
        }
    }

    fn returns_vector(self) -> bool {
        matches!(self, VectorOp::Add | VectorOp::Scale | VectorOp::Normalize)
    }
}

/// One of the vector functions.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct VectorFunc {
    op: VectorOp,
    signature: Signature,
}

impl VectorFunc {
    /// Creates the function `op`.
    pub fn new(op: VectorOp) -> Self {
        Self {
            op,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

const VECTOR: &str = "ARRAY<FLOAT> or ARRAY<DOUBLE>";

static DOCS: LazyLock<[Documentation; 6]> = LazyLock::new(|| {
    [
        position_doc(
            "The dot product Σ a[i]·b[i] of two vectors of equal length, as a DOUBLE (summed in \
             float64). NULL when a or b is NULL; different lengths or a NULL element are errors.",
            "vec_dot(a, b)",
            "SELECT vec_dot(array(1.0, 2.0, 3.0), array(4.0, 5.0, 6.0));\n-- 32.0",
            &[("a", VECTOR), ("b", VECTOR)],
        ),
        position_doc(
            "The cosine similarity vec_dot(a, b) / (‖a‖·‖b‖) of two vectors of equal length, a \
             DOUBLE in [-1, 1]. NULL when a or b is NULL or all zeros; different lengths or a \
             NULL element are errors.",
            "vec_cosine(a, b)",
            "SELECT vec_cosine(array(1.0, 0.0), array(1.0, 1.0));\n-- 0.7071067811865475",
            &[("a", VECTOR), ("b", VECTOR)],
        ),
        position_doc(
            "The Euclidean (L2) norm sqrt(Σ a[i]²) of a vector, as a DOUBLE. NULL when a is \
             NULL; a NULL element is an error.",
            "vec_norm(a)",
            "SELECT vec_norm(array(3.0, 4.0));\n-- 5.0",
            &[("a", VECTOR)],
        ),
        position_doc(
            "The element-wise sum of two vectors of equal length, with a's list layout (FLOAT \
             when both are FLOAT, DOUBLE otherwise). NULL when a or b is NULL; different \
             lengths or a NULL element are errors.",
            "vec_add(a, b)",
            "SELECT vec_add(array(1.0, 2.0), array(10.0, 20.0));\n-- [11.0, 22.0]",
            &[("a", VECTOR), ("b", VECTOR)],
        ),
        position_doc(
            "a multiplied by s, element by element, with a's type (an ARRAY<FLOAT> stays FLOAT: \
             each product is taken in float64 and rounded once). NULL when a or s is NULL; a \
             NULL element is an error.",
            "vec_scale(a, s)",
            "SELECT vec_scale(array(1.0, -2.0), 0.5);\n-- [0.5, -1.0]",
            &[("a", VECTOR), ("s", "a number (column or constant)")],
        ),
        position_doc(
            "a divided by its L2 norm (a unit vector), with a's type. NULL when a is NULL or all \
             zeros; a NULL element is an error.",
            "vec_normalize(a)",
            "SELECT vec_normalize(array(3.0, 4.0));\n-- [0.6, 0.8]",
            &[("a", VECTOR)],
        ),
    ]
});

impl ScalarUDFImpl for VectorFunc {
    fn name(&self) -> &str {
        self.op.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name();
        let names = self.op.arguments();
        if arg_types.len() != names.len() {
            return Err(plan_error(
                name,
                format!(
                    "takes {} argument{}, got {}",
                    names.len(),
                    if names.len() == 1 { "" } else { "s" },
                    arg_types.len()
                ),
            ));
        }
        let a = vector_type(name, names[0], &arg_types[0])?;
        match self.op {
            VectorOp::Norm | VectorOp::Normalize => Ok(vec![a]),
            VectorOp::Scale => Ok(vec![a, double_type(name, names[1], &arg_types[1])?]),
            VectorOp::Dot | VectorOp::Cosine | VectorOp::Add => {
                let b = vector_type(name, names[1], &arg_types[1])?;
                if let (DataType::FixedSizeList(_, n), DataType::FixedSizeList(_, m)) = (&a, &b)
                    && n != m
                {
                    return Err(plan_error(
                        name,
                        format!("{} has {n} elements but {} has {m}", names[0], names[1]),
                    ));
                }
                let common = match (element_type(&a), element_type(&b)) {
                    (Some(DataType::Float32), Some(DataType::Float32)) => DataType::Float32,
                    _ => DataType::Float64,
                };
                Ok(vec![
                    with_element_type(&a, &common),
                    with_element_type(&b, &common),
                ])
            }
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        if self.op.returns_vector() {
            match arg_types.first() {
                Some(t) => vector_type(self.name(), "argument 1 (a)", t),
                None => Err(plan_error(self.name(), "takes at least one argument")),
            }
        } else {
            Ok(DataType::Float64)
        }
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let types: Vec<DataType> = args
            .arg_fields
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        Ok(Arc::new(Field::new(
            self.name(),
            self.return_type(&types)?,
            true,
        )))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        let result = match &args.args[..] {
            [a] => {
                let a = a.to_array(rows)?;
                match (self.op, element_type(a.data_type())) {
                    (VectorOp::Norm, Some(DataType::Float32)) => norms::<f32>(self.op, &a)?,
                    (VectorOp::Norm, _) => norms::<f64>(self.op, &a)?,
                    (_, Some(DataType::Float32)) => normalize::<f32>(&a)?,
                    _ => normalize::<f64>(&a)?,
                }
            }
            [a, s] if self.op == VectorOp::Scale => {
                let a = a.to_array(rows)?;
                match element_type(a.data_type()) {
                    Some(DataType::Float32) => scale::<f32>(&a, s)?,
                    _ => scale::<f64>(&a, s)?,
                }
            }
            [a, b] => {
                // The first vector sets the output layout: it is materialized; a constant
                // second vector is read once for every row.
                let a = if self.op == VectorOp::Add {
                    a.to_array(rows)?
                } else {
                    Broadcast::of(a)?.array
                };
                let b = Broadcast::of(b)?;
                match element_type(a.data_type()) {
                    Some(DataType::Float32) => pairwise::<f32>(self.op, rows, &a, &b)?,
                    _ => pairwise::<f64>(self.op, rows, &a, &b)?,
                }
            }
            _ => return exec_err!("{}: wrong number of arguments", self.name()),
        };
        if all_scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &result, 0,
            )?))
        } else {
            Ok(ColumnarValue::Array(result))
        }
    }

    fn documentation(&self) -> Option<&Documentation> {
        let index = VectorOp::ALL
            .iter()
            .position(|&op| op == self.op)
            .unwrap_or(0);
        DOCS.get(index)
    }
}

/// A vector argument: its array, and whether it is one constant standing for every row.
struct Broadcast {
    array: ArrayRef,
    constant: bool,
}

impl Broadcast {
    fn of(value: &ColumnarValue) -> Result<Self> {
        Ok(match value {
            ColumnarValue::Scalar(s) => Self {
                array: s.to_array_of_size(1)?,
                constant: true,
            },
            ColumnarValue::Array(a) => Self {
                array: Arc::clone(a),
                constant: false,
            },
        })
    }

    fn vectors<T: VectorFloat>(&self) -> Result<Vectors<'_, T>> {
        let v = Vectors::new(&self.array)?;
        Ok(if self.constant { v.broadcast() } else { v })
    }
}

/// A view of argument `a`, with its NULL elements refused.
fn view<'a, T: VectorFloat>(
    op: VectorOp,
    index: usize,
    vectors: Vectors<'a, T>,
) -> Result<Vectors<'a, T>> {
    vectors.check_no_null_elements(op.name(), op.arguments()[index])?;
    Ok(vectors)
}

/// Σ a[i]·b[i] in float64, four running sums (the loop vectorizes; the order is fixed).
#[inline]
fn dot<T: VectorFloat>(a: &[T], b: &[T]) -> f64 {
    let mut sums = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..4 {
            sums[k] += x[k].to_f64() * y[k].to_f64();
        }
    }
    let mut total = (sums[0] + sums[1]) + (sums[2] + sums[3]);
    for (x, y) in ra.iter().zip(rb) {
        total += x.to_f64() * y.to_f64();
    }
    total
}

/// A Float64 column from values and validity.
fn doubles(values: Vec<f64>, valid: Vec<bool>) -> ArrayRef {
    let nulls = (!valid.iter().all(|&v| v)).then(|| NullBuffer::from(valid));
    Arc::new(Float64Array::new(ScalarBuffer::from(values), nulls))
}

/// `vec_norm`.
fn norms<T: VectorFloat>(op: VectorOp, a: &ArrayRef) -> Result<ArrayRef> {
    let a = view(op, 0, Vectors::<T>::new(a)?)?;
    let mut values = Vec::with_capacity(a.len());
    let mut valid = Vec::with_capacity(a.len());
    for row in 0..a.len() {
        match a.get(row) {
            Some(x) => {
                values.push(libm::sqrt(dot(x, x)));
                valid.push(true);
            }
            None => {
                values.push(0.0);
                valid.push(false);
            }
        }
    }
    Ok(doubles(values, valid))
}

/// `vec_dot`, `vec_cosine` and `vec_add`: two vectors per row.
fn pairwise<T: VectorFloat>(
    op: VectorOp,
    rows: usize,
    a_array: &ArrayRef,
    b: &Broadcast,
) -> Result<ArrayRef> {
    let a = Vectors::<T>::new(a_array)?;
    let a = view(op, 0, if a.len() == rows { a } else { a.broadcast() })?;
    let b = view(op, 1, b.vectors::<T>()?)?;
    let names = op.arguments();
    let pair = |row: usize| -> Result<Option<(&[T], &[T])>> {
        match (a.get(row), b.get(row)) {
            (Some(x), Some(y)) if x.len() != y.len() => Err(execution_error(
                op.name(),
                format!(
                    "{} has {} elements but {} has {}",
                    names[0],
                    x.len(),
                    names[1],
                    y.len()
                ),
            )),
            (Some(x), Some(y)) => Ok(Some((x, y))),
            _ => Ok(None),
        }
    };
    if op == VectorOp::Add {
        let span = a.span();
        let mut out: Vec<T> = Vec::with_capacity(span.len());
        let mut valid = Vec::with_capacity(rows);
        for row in 0..rows {
            match pair(row)? {
                Some((x, y)) => {
                    out.extend(x.iter().zip(y).map(|(&p, &q)| p + q));
                    valid.push(true);
                }
                None => {
                    out.extend_from_slice(&a.values()[a.range(row)]);
                    valid.push(false);
                }
            }
        }
        let nulls = (!valid.iter().all(|&v| v)).then(|| NullBuffer::from(valid));
        return with_values_like(a_array, out, nulls);
    }
    let mut values = Vec::with_capacity(rows);
    let mut valid = Vec::with_capacity(rows);
    for row in 0..rows {
        let value = match pair(row)? {
            Some((x, y)) if op == VectorOp::Dot => Some(dot(x, y)),
            Some((x, y)) => {
                let (xx, yy) = (dot(x, x), dot(y, y));
                (xx > 0.0 && yy > 0.0)
                    .then(|| (dot(x, y) / (libm::sqrt(xx) * libm::sqrt(yy))).clamp(-1.0, 1.0))
            }
            None => None,
        };
        values.push(value.unwrap_or(0.0));
        valid.push(value.is_some());
    }
    Ok(doubles(values, valid))
}

/// `vec_scale`: each element times s (taken in float64, rounded once to the element type).
fn scale<T: VectorFloat>(a_array: &ArrayRef, s: &ColumnarValue) -> Result<ArrayRef> {
    let op = VectorOp::Scale;
    let a = view(op, 0, Vectors::<T>::new(a_array)?)?;
    let scalars;
    let factor: Box<dyn Fn(usize) -> Option<f64>> = match s {
        ColumnarValue::Scalar(v) => {
            let v = match v.cast_to(&DataType::Float64)? {
                ScalarValue::Float64(v) => v,
                other => return exec_err!("vec_scale: unexpected factor {other}"),
            };
            Box::new(move |_| v)
        }
        ColumnarValue::Array(values) => {
            scalars = datafusion::arrow::compute::cast(values, &DataType::Float64)?;
            let column = scalars.as_primitive::<Float64Type>();
            Box::new(move |row| column.is_valid(row).then(|| column.value(row)))
        }
    };
    let span = a.span();
    let mut out: Vec<T> = Vec::with_capacity(span.len());
    let mut valid = Vec::with_capacity(a.len());
    for row in 0..a.len() {
        let x = &a.values()[a.range(row)];
        match (a.is_valid(row), factor(row)) {
            (true, Some(s)) => {
                out.extend(x.iter().map(|&v| T::from_f64(v.to_f64() * s)));
                valid.push(true);
            }
            _ => {
                out.extend_from_slice(x);
                valid.push(false);
            }
        }
    }
    let nulls = (!valid.iter().all(|&v| v)).then(|| NullBuffer::from(valid));
    with_values_like(a_array, out, nulls)
}

/// `vec_normalize`: a / ‖a‖ (each quotient taken in float64); all zeros give NULL.
fn normalize<T: VectorFloat>(a_array: &ArrayRef) -> Result<ArrayRef> {
    let a = view(VectorOp::Normalize, 0, Vectors::<T>::new(a_array)?)?;
    let span = a.span();
    let mut out: Vec<T> = Vec::with_capacity(span.len());
    let mut valid = Vec::with_capacity(a.len());
    for row in 0..a.len() {
        let x = &a.values()[a.range(row)];
        let norm = if a.is_valid(row) {
            libm::sqrt(dot(x, x))
        } else {
            0.0
        };
        if norm > 0.0 {
            out.extend(x.iter().map(|&v| T::from_f64(v.to_f64() / norm)));
            valid.push(true);
        } else {
            out.extend_from_slice(x);
            valid.push(false);
        }
    }
    let nulls = (!valid.iter().all(|&v| v)).then(|| NullBuffer::from(valid));
    with_values_like(a_array, out, nulls)
}
