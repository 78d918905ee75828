//! Arrow columns of 0/1 vectors in and out of the models' [`BitMatrix`].
//!
//! A binary vector is an `ARRAY<INT|TINYINT|SMALLINT|BIGINT|BOOLEAN>` (List, LargeList or
//! FixedSizeList; unsigned integers too) of 0 and 1. Rows are checked as they are read: a
//! NULL element, a value other than 0/1, or a length other than the model's is an error that
//! names the function and the row.

use std::sync::Arc;

use apiary_models::BitMatrix;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int32Array, ListArray, PrimitiveArray,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{
    ArrowNativeTypeOp, ArrowPrimitiveType, DataType, Field, Int8Type, Int16Type, Int32Type,
    Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use datafusion::common::{DataFusionError, Result};

/// Whether `t` is a list type whose elements can hold bits.
pub fn is_bit_list(t: &DataType) -> bool {
    match t {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => matches!(
            f.data_type(),
            DataType::Boolean
                | DataType::Int8
                | DataType::Int16
                | DataType::Int32
                | DataType::Int64
                | DataType::UInt8
                | DataType::UInt16
                | DataType::UInt32
                | DataType::UInt64
                | DataType::Null
        ),
        DataType::Null => true,
        _ => false,
    }
}

/// The error for a bad vector: `what` names the function and argument.
fn bad(what: &str, row: usize, message: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Execution(format!("{what}: row {}: {message}", row + 1))
}

/// Marks in the flat conversion: a NULL element, and a value other than 0/1.
const NULL_MARK: u8 = 2;
const BAD_MARK: u8 = 3;

/// Every element of a list column's values as 0, 1, or a mark, in one pass.
fn flat_bits(what: &str, values: &ArrayRef) -> Result<Vec<u8>> {
    fn ints<T: ArrowPrimitiveType>(values: &ArrayRef) -> Vec<u8> {
        let values: &PrimitiveArray<T> = values.as_primitive();
        values
            .values()
            .iter()
            .map(|&v| {
                if v.is_eq(T::Native::ZERO) {
                    0
                } else if v.is_eq(T::Native::ONE) {
                    1
                } else {
                    BAD_MARK
                }
            })
            .collect()
    }
    let mut out = match values.data_type() {
        DataType::Boolean => {
            let b: &BooleanArray = values.as_boolean();
            b.values().iter().map(u8::from).collect()
        }
        DataType::Int8 => ints::<Int8Type>(values),
        DataType::Int16 => ints::<Int16Type>(values),
        DataType::Int32 => ints::<Int32Type>(values),
        DataType::Int64 => ints::<Int64Type>(values),
        DataType::UInt8 => ints::<UInt8Type>(values),
        DataType::UInt16 => ints::<UInt16Type>(values),
        DataType::UInt32 => ints::<UInt32Type>(values),
        DataType::UInt64 => ints::<UInt64Type>(values),
        DataType::Null => vec![NULL_MARK; values.len()],
        other => {
            return Err(DataFusionError::Plan(format!(
                "{what}: expected an array of 0/1 integers or booleans, got an array of {other}"
            )));
        }
    };
    if let Some(nulls) = values.logical_nulls() {
        for (o, valid) in out.iter_mut().zip(nulls.iter()) {
            if !valid {
                *o = NULL_MARK;
            }
        }
    }
    Ok(out)
}

/// The 0/1 vectors of a column: the bits of its non-NULL rows, one after another.
#[derive(Debug, Clone, Default)]
pub struct ColumnBits {
    /// The vectors' length.
    pub n: usize,
    /// `rows × n` bits, NULL rows left out.
    pub bits: Vec<u8>,
    /// Per row of the column: false for a NULL row.
    pub valid: Vec<bool>,
}

impl ColumnBits {
    /// How many rows were not NULL.
    pub fn rows(&self) -> usize {
        self.bits.len() / self.n.max(1)
    }
}

/// The offsets of each row of a list column (NULL rows included) and its flat values.
fn list_parts(what: &str, array: &ArrayRef) -> Result<(Vec<(usize, usize)>, ArrayRef)> {
    let ranges = |offsets: &[i64]| -> Vec<(usize, usize)> {
        offsets
            .windows(2)
            .map(|w| (w[0] as usize, w[1] as usize))
            .collect()
    };
    match array.data_type() {
        DataType::List(_) => {
            let l = array.as_list::<i32>();
            let offsets: Vec<i64> = l.value_offsets().iter().map(|&o| i64::from(o)).collect();
            Ok((ranges(&offsets), Arc::clone(l.values())))
        }
        DataType::LargeList(_) => {
            let l = array.as_list::<i64>();
            Ok((ranges(l.value_offsets()), Arc::clone(l.values())))
        }
        DataType::FixedSizeList(_, size) => {
            let l = array.as_fixed_size_list();
            let size = (*size).max(0) as usize;
            let start = l.offset() * size;
            let ranges = (0..l.len())
                .map(|i| (start + i * size, start + (i + 1) * size))
                .collect();
            Ok((ranges, Arc::clone(l.values())))
        }
        DataType::Null => Ok((
            vec![(0, 0); array.len()],
            Arc::new(BooleanArray::from(Vec::<bool>::new())),
        )),
        other => Err(DataFusionError::Plan(format!(
            "{what}: expected an array of 0/1 values, got {other}"
        ))),
    }
}

/// Reads a column of 0/1 vectors. Every non-NULL row must have length `n` (when given; else
/// the first row's length): a NULL element, a value other than 0/1 or another length is an
/// error naming `what` and the row.
pub fn column_bits(what: &str, array: &ArrayRef, n: Option<usize>) -> Result<ColumnBits> {
    let (ranges, values) = list_parts(what, array)?;
    let flat = flat_bits(what, &values)?;
    let mut out = ColumnBits {
        n: n.unwrap_or(0),
        bits: Vec::with_capacity(flat.len()),
        valid: Vec::with_capacity(array.len()),
    };
    let mut known = n.is_some();
    for (row, &(start, end)) in ranges.iter().enumerate() {
        if array.is_null(row) {
            out.valid.push(false);
            continue;
        }
        let len = end - start;
        if !known {
            out.n = len;
            known = true;
        } else if len != out.n {
            return Err(bad(
                what,
                row,
                match n {
                    Some(n) => format!("the vector has {len} values; the model takes {n}"),
                    None => format!("the vectors differ in length: {len} here, {} before", out.n),
                },
            ));
        }
        let bits = flat.get(start..end).ok_or_else(|| {
            DataFusionError::Internal(format!("{what}: list offsets out of range"))
        })?;
        if let Some(k) = bits.iter().position(|&b| b > 1) {
            let message = if bits[k] == NULL_MARK {
                "the vector has NULL elements (only 0 and 1 are allowed)".to_string()
            } else {
                let v = datafusion::arrow::util::display::array_value_to_string(&values, start + k)
                    .unwrap_or_default();
                format!("the vector holds {v}; only 0 and 1 are allowed")
            };
            return Err(bad(what, row, message));
        }
        out.bits.extend_from_slice(bits);
        out.valid.push(true);
    }
    Ok(out)
}

/// Appends the non-NULL rows of `array` to `matrix` (created at the first row); returns how
/// many rows were NULL.
pub fn append_rows(what: &str, array: &ArrayRef, matrix: &mut Option<BitMatrix>) -> Result<usize> {
    let bits = column_bits(what, array, matrix.as_ref().map(BitMatrix::n))?;
    let nulls = bits.valid.iter().filter(|v| !**v).count();
    if bits.rows() == 0 {
        return Ok(nulls);
    }
    let m = matrix.get_or_insert_with(|| BitMatrix::new(bits.n));
    for row in bits.bits.chunks_exact(bits.n.max(1)) {
        m.push_row(row)
            .map_err(|e| DataFusionError::Execution(format!("{what}: {e}")))?;
    }
    Ok(nulls)
}

/// Row `i` of a list column as its element array (`None` for a NULL row).
pub fn list_row(array: &ArrayRef, i: usize) -> Option<ArrayRef> {
    if array.is_null(i) {
        return None;
    }
    match array.data_type() {
        DataType::List(_) => Some(array.as_list::<i32>().value(i)),
        DataType::LargeList(_) => Some(array.as_list::<i64>().value(i)),
        DataType::FixedSizeList(_, _) => Some(array.as_fixed_size_list().value(i)),
        _ => None,
    }
}

/// The type of a produced vector: `ARRAY<INT>`.
pub fn int_list_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Int32, true)))
}

/// Rows of bits (each `n` long, one after another in `bits`) as an `ARRAY<INT>` column;
/// `valid[i] == false` makes row i NULL (its bits are then absent from `bits`).
pub fn bits_to_list(n: usize, bits: &[u8], valid: Option<&[bool]>) -> Result<ArrayRef> {
    let rows = valid.map_or(bits.len() / n.max(1), <[bool]>::len);
    let values = Int32Array::from_iter_values(bits.iter().map(|&b| i32::from(b)));
    let mut lengths = Vec::with_capacity(rows);
    for i in 0..rows {
        lengths.push(if valid.is_none_or(|v| v[i]) { n } else { 0 });
    }
    let nulls = valid.map(|v| datafusion::arrow::buffer::NullBuffer::from(v.to_vec()));
    let list = ListArray::try_new(
        Arc::new(Field::new_list_field(DataType::Int32, true)),
        OffsetBuffer::from_lengths(lengths),
        Arc::new(values),
        nulls,
    )?;
    Ok(Arc::new(list))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{BooleanBuilder, Int8Builder, ListBuilder};

    #[test]
    fn reads_ints_and_booleans_and_rejects_bad_rows() -> Result<()> {
        let mut b = ListBuilder::new(Int8Builder::new());
        b.append_value([Some(1), Some(0), Some(1)]);
        b.append_null();
        b.append_value([Some(0), Some(0), Some(1)]);
        let ints: ArrayRef = Arc::new(b.finish());
        let mut m = None;
        let nulls = append_rows("f", &ints, &mut m)?;
        let m = m.ok_or_else(|| DataFusionError::Internal("no rows".into()))?;
        assert_eq!((m.rows(), m.n(), nulls), (2, 3, 1));
        assert_eq!(m.row(1), &[0, 0, 1]);
        // A slice of the column reads the right rows.
        let sliced = column_bits("f", &ints.slice(2, 1), None)?;
        assert_eq!((sliced.n, sliced.bits.clone()), (3, vec![0, 0, 1]));

        let mut b = ListBuilder::new(BooleanBuilder::new());
        b.append_value([Some(true), Some(false)]);
        let bools: ArrayRef = Arc::new(b.finish());
        assert_eq!(column_bits("f", &bools, Some(2))?.bits, [1, 0]);
        let wrong = column_bits("loglik(model, x)", &bools, Some(3)).err();
        assert!(wrong.is_some_and(|e| e.to_string().contains("has 2 values; the model takes 3")));

        let err = |values: Vec<Option<i8>>| {
            let mut b = ListBuilder::new(Int8Builder::new());
            b.append_value([Some(1), Some(0)]);
            b.append_value(values);
            let a: ArrayRef = Arc::new(b.finish());
            append_rows("loglik(model, x)", &a, &mut None)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(err(vec![Some(2), Some(0)]).contains("row 2: the vector holds 2"));
        assert!(err(vec![None, Some(0)]).contains("NULL elements"));
        assert!(err(vec![Some(1)]).contains("differ in length: 1 here, 2 before"));
        Ok(())
    }

    #[test]
    fn writes_int_lists_with_null_rows() -> Result<()> {
        let list = bits_to_list(2, &[1, 0, 0, 1], Some(&[true, false, true]))?;
        assert_eq!(list.len(), 3);
        assert!(list.is_null(1));
        let row = list_row(&list, 2).ok_or_else(|| DataFusionError::Internal("null".into()))?;
        let v: &Int32Array = row.as_primitive();
        assert_eq!(v.values().to_vec(), vec![0, 1]);
        Ok(())
    }
}
