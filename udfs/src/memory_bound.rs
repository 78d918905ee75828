//! Functions whose results can be far larger than their arguments — `repeat`, `lpad`, `rpad`,
//! `replace`, `array_repeat`, `array_resize`, `range` and `generate_series` (their scalar
//! forms) — wrapped so that every call sizes its result from its arguments before building it.
//!
//! A call whose result would exceed [`MAX_RESULT_BYTES`] is refused; a smaller one first
//! reserves its size from the session's memory pool (`apiary serve --memory-limit`), and is
//! refused when the pool cannot give it. The reservation is held while the result is built
//! (the allocation a limit must stop) and released when the call returns. Constant folding
//! calls the same functions, so `SELECT repeat('x', 2000000000)` is refused while planning.
//!
//! [`register_memory_bounds`] replaces the functions of a session by their bounded wrappers,
//! under the same names and aliases; everything but the call itself is delegated.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, FieldRef, Int64Type, IntervalUnit, TimeUnit};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::execution::FunctionRegistry;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryPool};
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::interval_arithmetic::Interval;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::sort_properties::{ExprProperties, SortProperties};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature,
};

/// The largest result one call of a bounded function may build: 1 GiB (Arrow's string and
/// list arrays address at most 2 GiB; no reasonable query needs one value this large).
pub const MAX_RESULT_BYTES: usize = 1 << 30;

/// How a function's result size follows from its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResultSize {
    /// `repeat(s, n)`: `len(s) * n` bytes.
    Repeat,
    /// `lpad(s, n [, fill])`, `rpad(...)`: `n` characters.
    Pad,
    /// `replace(s, from, to)`: every occurrence of `from` becomes `to`.
    Replace,
    /// `array_repeat(x, n)`: `n` copies of `x`.
    ArrayRepeat,
    /// `array_resize(a, n [, x])`: `n` elements.
    ArrayResize,
    /// `range(...)` (`inclusive: false`) or `generate_series(...)`: one element per step.
    Range {
        /// Whether the stop value is part of the result.
        inclusive: bool,
    },
}

/// The functions bounded by [`register_memory_bounds`], with how their results are sized.
pub const BOUNDED_FUNCTIONS: &[(&str, ResultSize)] = &[
    ("repeat", ResultSize::Repeat),
    ("lpad", ResultSize::Pad),
    ("rpad", ResultSize::Pad),
    ("replace", ResultSize::Replace),
    ("array_repeat", ResultSize::ArrayRepeat),
    ("array_resize", ResultSize::ArrayResize),
    ("range", ResultSize::Range { inclusive: false }),
    ("generate_series", ResultSize::Range { inclusive: true }),
    // Spark's, when a session registers it.
    ("sequence", ResultSize::Range { inclusive: true }),
];

/// Replaces each function of [`BOUNDED_FUNCTIONS`] registered in `state` by its bounded
/// wrapper, which reserves from the session's memory pool.
pub fn register_memory_bounds(state: &mut SessionState) -> Result<()> {
    let pool = Arc::clone(&state.runtime_env().memory_pool);
    for (name, size) in BOUNDED_FUNCTIONS {
        let Some(inner) = state.scalar_functions().get(*name).cloned() else {
            continue;
        };
        let any: &dyn std::any::Any = inner.inner().as_ref();
        if any.is::<MemoryBounded>() {
            continue;
        }
        let bounded = MemoryBounded::new(inner, *size, Arc::clone(&pool));
        state.register_udf(Arc::new(ScalarUDF::new_from_impl(bounded)))?;
    }
    Ok(())
}

/// A function whose calls size their result first (see the module docs).
#[derive(Debug)]
pub struct MemoryBounded {
    inner: Arc<ScalarUDF>,
    size: ResultSize,
    pool: Arc<dyn MemoryPool>,
}

impl MemoryBounded {
    /// `inner`, bounded: results sized by `size`, reserved from `pool`.
    pub fn new(inner: Arc<ScalarUDF>, size: ResultSize, pool: Arc<dyn MemoryPool>) -> Self {
        Self { inner, size, pool }
    }

    /// Refuses a call whose result would be too large; otherwise reserves its size.
    fn reserve(
        &self,
        args: &ScalarFunctionArgs,
    ) -> Result<datafusion::execution::memory_pool::MemoryReservation> {
        let name = self.inner.name();
        let bytes = result_bytes(self.size, &args.args, args.number_rows)?;
        if bytes > MAX_RESULT_BYTES as u128 {
            return Err(DataFusionError::ResourcesExhausted(format!(
                "{name}: the result would take {}, more than the {} one function call may \
                 build",
                human_bytes(bytes),
                human_bytes(MAX_RESULT_BYTES as u128)
            )));
        }
        let reservation = MemoryConsumer::new(format!("{name}()")).register(&self.pool);
        reservation.try_grow(bytes as usize).map_err(|e| {
            DataFusionError::ResourcesExhausted(format!(
                "{name}: the result would take {}, more than the memory pool can give: {}",
                human_bytes(bytes),
                e.strip_backtrace()
            ))
        })?;
        Ok(reservation)
    }
}

impl PartialEq for MemoryBounded {
    fn eq(&self, other: &Self) -> bool {
        self.inner == other.inner && self.size == other.size && Arc::ptr_eq(&self.pool, &other.pool)
    }
}

impl Eq for MemoryBounded {}

impl Hash for MemoryBounded {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inner.hash(state);
        self.size.hash(state);
    }
}

impl ScalarUDFImpl for MemoryBounded {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn schema_name(&self, args: &[Expr]) -> Result<String> {
        self.inner.inner().schema_name(args)
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn is_strict(&self) -> bool {
        self.inner.inner().is_strict()
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let reservation = self.reserve(&args)?;
        let result = self.inner.invoke_with_args(args);
        drop(reservation);
        result
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        self.inner.simplify(args, info)
    }

    fn short_circuits(&self) -> bool {
        self.inner.short_circuits()
    }

    fn evaluate_bounds(&self, input: &[&Interval]) -> Result<Interval> {
        self.inner.evaluate_bounds(input)
    }

    fn propagate_constraints(
        &self,
        interval: &Interval,
        inputs: &[&Interval],
    ) -> Result<Option<Vec<Interval>>> {
        self.inner.propagate_constraints(interval, inputs)
    }

    fn output_ordering(&self, inputs: &[ExprProperties]) -> Result<SortProperties> {
        self.inner.output_ordering(inputs)
    }

    fn preserves_lex_ordering(&self, inputs: &[ExprProperties]) -> Result<bool> {
        self.inner.preserves_lex_ordering(inputs)
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }
}

/// `bytes` for people: `10.9 TiB`, `2.0 GiB`, `512.0 MiB`, `300 bytes`.
pub fn human_bytes(bytes: u128) -> String {
    const UNITS: [(&str, u128); 4] = [
        ("TiB", 1 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
    ];
    for (unit, size) in UNITS {
        if bytes >= size {
            return format!("{:.1} {unit}", bytes as f64 / size as f64);
        }
    }
    format!("{bytes} bytes")
}

/// An upper bound of the bytes a call's result takes (its values, not Arrow's offsets and
/// validity, which are a small fraction).
pub fn result_bytes(size: ResultSize, args: &[ColumnarValue], number_rows: usize) -> Result<u128> {
    let rows = if args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_))) {
        1
    } else {
        number_rows
    };
    let arg = |i: usize| args.get(i).map(|a| Column::of(a, rows));
    let mut total: u128 = 0;
    match size {
        ResultSize::Repeat => {
            let (Some(text), Some(count)) = (arg(0), arg(1)) else {
                return Ok(0);
            };
            let (text, count) = (text.string_bytes()?, count.integers()?);
            for row in 0..rows {
                if let (Some(len), Some(n)) = (text.at(row), count.at(row)) {
                    total = total.saturating_add((len.0 as u128).saturating_mul(n.max(0) as u128));
                }
            }
        }
        ResultSize::Pad => {
            let (Some(text), Some(length)) = (arg(0), arg(1)) else {
                return Ok(0);
            };
            let (text, length) = (text.string_bytes()?, length.integers()?);
            let fill = arg(2).map(|f| f.string_bytes()).transpose()?;
            for row in 0..rows {
                let (Some(len), Some(n)) = (text.at(row), length.at(row)) else {
                    continue;
                };
                let ascii = len.1 && fill.as_ref().is_none_or(|f| f.at(row).is_none_or(|f| f.1));
                let char_bytes: u128 = if ascii { 1 } else { 4 };
                total = total.saturating_add(
                    (len.0 as u128).max((n.max(0) as u128).saturating_mul(char_bytes)),
                );
            }
        }
        ResultSize::Replace => {
            let (Some(text), Some(from), Some(to)) = (arg(0), arg(1), arg(2)) else {
                return Ok(0);
            };
            let (text, from, to) = (
                text.string_bytes()?,
                from.string_bytes()?,
                to.string_bytes()?,
            );
            for row in 0..rows {
                if let (Some(len), Some(from), Some(to)) = (text.at(row), from.at(row), to.at(row))
                {
                    // An empty pattern matches between every two characters.
                    let matches = len.0 as u128 / (from.0 as u128).max(1) + 1;
                    total = total
                        .saturating_add(len.0 as u128)
                        .saturating_add(matches.saturating_mul(to.0 as u128));
                }
            }
        }
        ResultSize::ArrayRepeat => {
            let (Some(element), Some(count)) = (arg(0), arg(1)) else {
                return Ok(0);
            };
            let (element, count) = (element.element_bytes()?, count.integers()?);
            for row in 0..rows {
                if let Some(n) = count.at(row) {
                    total = total.saturating_add(
                        (element.at(row).unwrap_or(1) as u128).saturating_mul(n.max(0) as u128),
                    );
                }
            }
        }
        ResultSize::ArrayResize => {
            let (Some(list), Some(length)) = (arg(0), arg(1)) else {
                return Ok(0);
            };
            let element = list_element_bytes(list.value)?;
            let fill = arg(2).map(|f| f.element_bytes()).transpose()?;
            let length = length.integers()?;
            for row in 0..rows {
                if let Some(n) = length.at(row) {
                    let width = element.max(fill.as_ref().and_then(|f| f.at(row)).unwrap_or(1));
                    total = total.saturating_add((width as u128).saturating_mul(n.max(0) as u128));
                }
            }
        }
        ResultSize::Range { inclusive } => {
            total = range_bytes(args, rows, inclusive)?;
        }
    }
    Ok(total)
}

/// One argument of a call, row by row: a scalar stands for every row.
struct Column<'a> {
    value: &'a ColumnarValue,
    rows: usize,
}

/// Per-row values of an argument, or one value for every row.
enum Values<T> {
    Same(Option<T>),
    Rows(Vec<Option<T>>),
}

impl<T: Copy> Values<T> {
    fn at(&self, row: usize) -> Option<T> {
        match self {
            Values::Same(v) => *v,
            Values::Rows(v) => v.get(row).copied().flatten(),
        }
    }
}

impl<'a> Column<'a> {
    fn of(value: &'a ColumnarValue, rows: usize) -> Self {
        Self { value, rows }
    }

    /// The argument as 64-bit integers (NULL, or not an integer: `None`).
    fn integers(&self) -> Result<Values<i64>> {
        match self.value {
            ColumnarValue::Scalar(s) => Ok(Values::Same(
                s.cast_to(&DataType::Int64).ok().and_then(|v| match v {
                    ScalarValue::Int64(v) => v,
                    _ => None,
                }),
            )),
            ColumnarValue::Array(a) => {
                let a = datafusion::arrow::compute::cast(a, &DataType::Int64)?;
                let a = a.as_primitive::<Int64Type>();
                Ok(Values::Rows(
                    (0..self.rows.min(a.len()))
                        .map(|i| a.is_valid(i).then(|| a.value(i)))
                        .collect(),
                ))
            }
        }
    }

    /// The argument's string values: byte length and whether they are ASCII.
    fn string_bytes(&self) -> Result<Values<(usize, bool)>> {
        match self.value {
            ColumnarValue::Scalar(s) => Ok(Values::Same(match s {
                ScalarValue::Utf8(Some(v))
                | ScalarValue::LargeUtf8(Some(v))
                | ScalarValue::Utf8View(Some(v)) => Some((v.len(), v.is_ascii())),
                _ => None,
            })),
            ColumnarValue::Array(a) => {
                let n = self.rows.min(a.len());
                let lengths = match a.data_type() {
                    DataType::Utf8 => {
                        let s = a.as_string::<i32>();
                        (0..n)
                            .map(|i| s.is_valid(i).then(|| text_bytes(s.value(i))))
                            .collect()
                    }
                    DataType::LargeUtf8 => {
                        let s = a.as_string::<i64>();
                        (0..n)
                            .map(|i| s.is_valid(i).then(|| text_bytes(s.value(i))))
                            .collect()
                    }
                    DataType::Utf8View => {
                        let s = a.as_string_view();
                        (0..n)
                            .map(|i| s.is_valid(i).then(|| text_bytes(s.value(i))))
                            .collect()
                    }
                    _ => vec![None; n],
                };
                Ok(Values::Rows(lengths))
            }
        }
    }

    /// The bytes one copy of the argument's value takes, per row.
    fn element_bytes(&self) -> Result<Values<usize>> {
        match self.value {
            ColumnarValue::Scalar(s) => Ok(Values::Same(Some(scalar_bytes(s)))),
            ColumnarValue::Array(a) => {
                let n = self.rows.min(a.len());
                if let Some(width) = a.data_type().primitive_width() {
                    return Ok(Values::Same(Some(width)));
                }
                let strings = Column::of(self.value, self.rows).string_bytes()?;
                if let Values::Rows(rows) = &strings
                    && rows.iter().any(Option::is_some)
                {
                    return Ok(Values::Rows(
                        (0..n)
                            .map(|i| Some(strings.at(i).map_or(0, |s| s.0) + 4))
                            .collect(),
                    ));
                }
                // Nested values: the array's average row (never less than one byte).
                let average = a.get_array_memory_size() / a.len().max(1);
                Ok(Values::Same(Some(average.max(1))))
            }
        }
    }
}

fn text_bytes(s: &str) -> (usize, bool) {
    (s.len(), s.is_ascii())
}

/// The bytes of one scalar value as an array element.
fn scalar_bytes(value: &ScalarValue) -> usize {
    let data_type = value.data_type();
    if let Some(width) = data_type.primitive_width() {
        return width;
    }
    match value {
        ScalarValue::Utf8(v) | ScalarValue::LargeUtf8(v) | ScalarValue::Utf8View(v) => {
            v.as_ref().map_or(0, String::len) + 4
        }
        ScalarValue::Binary(v) | ScalarValue::LargeBinary(v) | ScalarValue::BinaryView(v) => {
            v.as_ref().map_or(0, Vec::len) + 4
        }
        other => other
            .size()
            .saturating_sub(std::mem::size_of::<ScalarValue>())
            .max(1),
    }
}

/// The bytes of one element of a list argument (its value type's width, or the list's
/// average element for variable-width values).
fn list_element_bytes(list: &ColumnarValue) -> Result<usize> {
    let (data_type, values): (DataType, Option<ArrayRef>) = match list {
        ColumnarValue::Scalar(ScalarValue::List(l)) => {
            (l.value_type(), Some(Arc::clone(l.values())))
        }
        ColumnarValue::Scalar(ScalarValue::LargeList(l)) => {
            (l.value_type(), Some(Arc::clone(l.values())))
        }
        ColumnarValue::Array(a) => match a.data_type() {
            DataType::List(_) => {
                let l = a.as_list::<i32>();
                (l.value_type(), Some(Arc::clone(l.values())))
            }
            DataType::LargeList(_) => {
                let l = a.as_list::<i64>();
                (l.value_type(), Some(Arc::clone(l.values())))
            }
            other => (other.clone(), None),
        },
        other => (other.data_type(), None),
    };
    if let Some(width) = data_type.primitive_width() {
        return Ok(width);
    }
    Ok(values.map_or(8, |v| (v.get_array_memory_size() / v.len().max(1)).max(1)))
}

/// `range`/`generate_series`: one element per step from start to stop, for integers, dates
/// and timestamps (an interval step counts its months as 28 days, so the count is an upper
/// bound).
fn range_bytes(args: &[ColumnarValue], rows: usize, inclusive: bool) -> Result<u128> {
    let Some(first) = args.first() else {
        return Ok(0);
    };
    let column = |i: usize| args.get(i).map(|a| Column::of(a, rows));
    let extra = u128::from(inclusive);
    let mut total: u128 = 0;
    match first.data_type() {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => {
            let (start, stop, step) = match args.len() {
                1 => (None, column(0), None),
                2 => (column(0), column(1), None),
                _ => (column(0), column(1), column(2)),
            };
            let start = start.map(|c| c.integers()).transpose()?;
            let stop = stop.map(|c| c.integers()).transpose()?;
            let step = step.map(|c| c.integers()).transpose()?;
            let Some(stop) = stop else {
                return Ok(0);
            };
            for row in 0..rows {
                let begin = match &start {
                    Some(s) => s.at(row),
                    None => Some(0),
                };
                let by = match &step {
                    Some(s) => s.at(row),
                    None => Some(1),
                };
                if let (Some(begin), Some(end), Some(by)) = (begin, stop.at(row), by) {
                    total = total.saturating_add(
                        steps(begin as i128, end as i128, by as i128, extra).saturating_mul(8),
                    );
                }
            }
        }
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _) => {
            let (Some(start), Some(stop), Some(step)) = (args.first(), args.get(1), args.get(2))
            else {
                return Ok(0);
            };
            let start = nanos(start, rows)?;
            let stop = nanos(stop, rows)?;
            let step = interval_nanos(step, rows)?;
            let width = if matches!(first.data_type(), DataType::Timestamp(_, _)) {
                8
            } else {
                4
            };
            for row in 0..rows {
                if let (Some(begin), Some(end), Some(by)) =
                    (start.at(row), stop.at(row), step.at(row))
                {
                    total =
                        total.saturating_add(steps(begin, end, by, extra).saturating_mul(width));
                }
            }
        }
        _ => {}
    }
    Ok(total)
}

/// The number of values from `start` towards `stop` by `step` (0 for a step of 0, which the
/// function itself refuses).
fn steps(start: i128, stop: i128, step: i128, inclusive: u128) -> u128 {
    let span = stop.saturating_sub(start);
    if step == 0 || span.signum() * step.signum() < 0 {
        return inclusive;
    }
    (span / step).unsigned_abs().saturating_add(1)
}

/// Dates and timestamps as nanoseconds since the epoch.
fn nanos(value: &ColumnarValue, rows: usize) -> Result<Values<i128>> {
    const DAY: i128 = 86_400_000_000_000;
    let scale: i128 = match value.data_type() {
        DataType::Date32 => DAY,
        DataType::Date64 | DataType::Timestamp(TimeUnit::Millisecond, _) => 1_000_000,
        DataType::Timestamp(TimeUnit::Second, _) => 1_000_000_000,
        DataType::Timestamp(TimeUnit::Microsecond, _) => 1_000,
        _ => 1,
    };
    let raw = match value {
        ColumnarValue::Scalar(s) => ColumnarValue::Array(s.to_array()?),
        ColumnarValue::Array(a) => ColumnarValue::Array(Arc::clone(a)),
    };
    let ColumnarValue::Array(a) = &raw else {
        return Ok(Values::Same(None));
    };
    let a = datafusion::arrow::compute::cast(a, &DataType::Int64)?;
    let a = a.as_primitive::<Int64Type>();
    let values: Vec<Option<i128>> = (0..a.len())
        .map(|i| {
            a.is_valid(i)
                .then(|| (a.value(i) as i128).saturating_mul(scale))
        })
        .collect();
    Ok(match value {
        ColumnarValue::Scalar(_) => Values::Same(values.first().copied().flatten()),
        ColumnarValue::Array(_) => Values::Rows(values.into_iter().take(rows).collect()),
    })
}

/// An interval step in nanoseconds (a month counted as 28 days: never fewer steps than real).
fn interval_nanos(value: &ColumnarValue, rows: usize) -> Result<Values<i128>> {
    const DAY: i128 = 86_400_000_000_000;
    let one = |s: &ScalarValue| -> Option<i128> {
        match s {
            ScalarValue::IntervalMonthDayNano(Some(v)) => {
                Some(v.months as i128 * 28 * DAY + v.days as i128 * DAY + v.nanoseconds as i128)
            }
            ScalarValue::IntervalDayTime(Some(v)) => {
                Some(v.days as i128 * DAY + v.milliseconds as i128 * 1_000_000)
            }
            ScalarValue::IntervalYearMonth(Some(v)) => Some(*v as i128 * 28 * DAY),
            _ => None,
        }
    };
    match value {
        ColumnarValue::Scalar(s) => Ok(Values::Same(one(s))),
        ColumnarValue::Array(a) => {
            if !matches!(
                a.data_type(),
                DataType::Interval(
                    IntervalUnit::MonthDayNano | IntervalUnit::DayTime | IntervalUnit::YearMonth
                )
            ) {
                return Ok(Values::Same(None));
            }
            let mut out = Vec::with_capacity(rows.min(a.len()));
            for i in 0..rows.min(a.len()) {
                out.push(one(&ScalarValue::try_from_array(a, i)?));
            }
            Ok(Values::Rows(out))
        }
    }
}

#[cfg(test)]
mod tests;
