//! A column of float vectors — `List`, `LargeList` or `FixedSizeList` of `Float32`/`Float64`
//! — read as one flat values slice plus row ranges, and written back in the same layout.
//!
//! Every function of the family works on the flat child buffer: no per-row arrays, slices
//! of `ArrayRef` or builders.

use std::ops::{Add, Mul, Range, Sub};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, FixedSizeListArray, GenericListArray, PrimitiveArray,
};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use datafusion::arrow::datatypes::{
    ArrowNativeType, ArrowPrimitiveType, DataType, Field, Float32Type, Float64Type,
};
use datafusion::common::{Result, exec_err};

use super::execution_error;

/// The element types of vectors: `f32` and `f64`.
pub(crate) trait VectorFloat:
    ArrowNativeType
    + Copy
    + Default
    + PartialEq
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Send
    + Sync
    + 'static
{
    /// The Arrow type of the element.
    type Arrow: ArrowPrimitiveType<Native = Self>;
    /// `v` rounded to this type.
    fn from_f64(v: f64) -> Self;
    /// This value widened to `f64` (exact).
    fn to_f64(self) -> f64;
}

impl VectorFloat for f32 {
    type Arrow = Float32Type;
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

impl VectorFloat for f64 {
    type Arrow = Float64Type;
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
}

/// Where each row's elements lie in the child values.
#[derive(Debug, Clone, Copy)]
enum Layout<'a> {
    Offsets32(&'a [i32]),
    Offsets64(&'a [i64]),
    Fixed(usize),
}

/// A read-only view of a float vector column (or of one constant vector, repeated).
#[derive(Debug)]
pub(crate) struct Vectors<'a, T> {
    values: &'a [T],
    value_nulls: Option<&'a NullBuffer>,
    layout: Layout<'a>,
    nulls: Option<&'a NullBuffer>,
    len: usize,
    /// One vector standing for every row (a constant argument).
    broadcast: bool,
}

impl<'a, T: VectorFloat> Vectors<'a, T> {
    /// A view of `array`, which must be a list of `T` (the function's `coerce_types` made it one).
    pub(crate) fn new(array: &'a ArrayRef) -> Result<Self> {
        let (child, layout) = match array.data_type() {
            DataType::List(_) => {
                let list = array.as_list::<i32>();
                (list.values(), Layout::Offsets32(list.value_offsets()))
            }
            DataType::LargeList(_) => {
                let list = array.as_list::<i64>();
                (list.values(), Layout::Offsets64(list.value_offsets()))
            }
            DataType::FixedSizeList(_, size) => {
                let list = array.as_fixed_size_list();
                (
                    list.values(),
                    Layout::Fixed(usize::try_from(*size).unwrap_or(0)),
                )
            }
            other => return exec_err!("expected an array of floats, got {other}"),
        };
        let Some(values) = child.as_primitive_opt::<T::Arrow>() else {
            return exec_err!(
                "expected an array of {}, got {}",
                T::Arrow::DATA_TYPE,
                array.data_type()
            );
        };
        Ok(Self {
            values: values.values(),
            value_nulls: values.nulls(),
            layout,
            nulls: array.nulls(),
            len: array.len(),
            broadcast: false,
        })
    }

    /// The same view, its first row standing for every row.
    pub(crate) fn broadcast(mut self) -> Self {
        self.broadcast = true;
        self
    }

    #[inline(always)]
    fn index(&self, row: usize) -> usize {
        if self.broadcast { 0 } else { row }
    }

    /// The number of rows of the column (1 for a broadcast constant).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether row `row` holds a vector (is not NULL).
    #[inline(always)]
    pub(crate) fn is_valid(&self, row: usize) -> bool {
        let row = self.index(row);
        self.nulls.is_none_or(|n| n.is_valid(row))
    }

    /// Where row `row`'s elements lie in [`Self::values`].
    #[inline(always)]
    pub(crate) fn range(&self, row: usize) -> Range<usize> {
        let row = self.index(row);
        match self.layout {
            Layout::Offsets32(o) => o[row].as_usize()..o[row + 1].as_usize(),
            Layout::Offsets64(o) => o[row].as_usize()..o[row + 1].as_usize(),
            Layout::Fixed(n) => row * n..row * n + n,
        }
    }

    /// Row `row`'s vector, `None` when the row is NULL.
    #[inline(always)]
    pub(crate) fn get(&self, row: usize) -> Option<&'a [T]> {
        if self.is_valid(row) {
            Some(&self.values[self.range(row)])
        } else {
            None
        }
    }

    /// All child values.
    pub(crate) fn values(&self) -> &'a [T] {
        self.values
    }

    /// The child values the rows use, first to last (what an output of the same layout holds).
    pub(crate) fn span(&self) -> Range<usize> {
        if self.len == 0 {
            return 0..0;
        }
        match self.layout {
            Layout::Offsets32(o) => o[0].as_usize()..o[self.len].as_usize(),
            Layout::Offsets64(o) => o[0].as_usize()..o[self.len].as_usize(),
            Layout::Fixed(n) => 0..self.len * n,
        }
    }

    /// Fails when a non-NULL vector has a NULL element, naming the function and argument.
    pub(crate) fn check_no_null_elements(&self, function: &str, argument: &str) -> Result<()> {
        let Some(value_nulls) = self.value_nulls.filter(|n| n.null_count() > 0) else {
            return Ok(());
        };
        for row in 0..self.len {
            if !self.is_valid(row) {
                continue;
            }
            let range = self.range(row);
            if range.clone().any(|i| value_nulls.is_null(i)) {
                return Err(execution_error(
                    function,
                    format!(
                        "{argument} has a NULL element (at index {}); vectors must not contain NULLs",
                        range
                            .clone()
                            .position(|i| value_nulls.is_null(i))
                            .unwrap_or(0)
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// A column laid out like `like` (same list type, child field, offsets and row count) with new
/// child values — `values` replaces `like`'s [`Vectors::span`] — and validity `nulls`.
pub(crate) fn with_values_like<T: VectorFloat>(
    like: &ArrayRef,
    values: Vec<T>,
    nulls: Option<NullBuffer>,
) -> Result<ArrayRef> {
    let values: ArrayRef = Arc::new(PrimitiveArray::<T::Arrow>::new(
        ScalarBuffer::from(values),
        None,
    ));
    Ok(match like.data_type() {
        DataType::List(field) => {
            let offsets = like.as_list::<i32>().offsets();
            Arc::new(GenericListArray::<i32>::try_new(
                Arc::clone(field),
                rebased(offsets),
                values,
                nulls,
            )?)
        }
        DataType::LargeList(field) => {
            let offsets = like.as_list::<i64>().offsets();
            Arc::new(GenericListArray::<i64>::try_new(
                Arc::clone(field),
                rebased(offsets),
                values,
                nulls,
            )?)
        }
        DataType::FixedSizeList(field, size) => Arc::new(FixedSizeListArray::try_new(
            Arc::clone(field),
            *size,
            values,
            nulls,
        )?),
        other => return exec_err!("expected an array of floats, got {other}"),
    })
}

/// Offsets starting at zero.
fn rebased<O: ArrowNativeType + std::ops::Sub<Output = O>>(
    offsets: &OffsetBuffer<O>,
) -> OffsetBuffer<O> {
    let first = offsets.first().copied().unwrap_or_default();
    if first == O::default() {
        return offsets.clone();
    }
    OffsetBuffer::new(offsets.iter().map(|&o| o - first).collect())
}

/// A `List` of `T` from flat values and per-row lengths; `None` lengths are NULL rows.
pub(crate) fn list_from_lengths<T: VectorFloat>(
    values: Vec<T>,
    lengths: &[Option<usize>],
) -> Result<ArrayRef> {
    let offsets = OffsetBuffer::<i32>::from_lengths(lengths.iter().map(|l| l.unwrap_or(0)));
    let nulls = if lengths.iter().any(Option::is_none) {
        Some(NullBuffer::from_iter(lengths.iter().map(Option::is_some)))
    } else {
        None
    };
    let values: ArrayRef = Arc::new(PrimitiveArray::<T::Arrow>::new(
        ScalarBuffer::from(values),
        None,
    ));
    Ok(Arc::new(GenericListArray::<i32>::try_new(
        Arc::new(Field::new_list_field(T::Arrow::DATA_TYPE, true)),
        offsets,
        values,
        nulls,
    )?))
}
