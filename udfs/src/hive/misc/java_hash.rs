//! Hive's `ObjectInspectorUtils.hashCode`: the Java hash code of one value of any Hive type,
//! the building block of `hash(a1, a2, ...)` (and of Hive's old bucketing).

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Date64Type, Decimal128Type, Float32Type, Float64Type, Int8Type,
    Int16Type, Int32Type, Int64Type, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use datafusion::common::{Result, exec_err};

/// Java's `Long.hashCode`: the two halves xor-ed.
pub(super) fn long_hash(a: i64) -> i32 {
    (((a as u64) >> 32) as i64 ^ a) as i32
}

/// Java's `Float.floatToIntBits` (every NaN is the canonical one).
pub(super) fn float_to_int_bits(x: f32) -> i32 {
    if x.is_nan() {
        0x7fc0_0000
    } else {
        x.to_bits() as i32
    }
}

/// Java's `Double.doubleToLongBits` (every NaN is the canonical one).
pub(super) fn double_to_long_bits(x: f64) -> i64 {
    if x.is_nan() {
        0x7ff8_0000_0000_0000
    } else {
        x.to_bits() as i64
    }
}

/// `31 * h + b` over the signed bytes, starting from `start` (0 for Hive's strings, 1 for
/// Hadoop's `BytesWritable`).
fn bytes_hash(bytes: &[u8], start: i32) -> i32 {
    bytes.iter().fold(start, |h, &b| {
        h.wrapping_mul(31).wrapping_add(i32::from(b as i8))
    })
}

/// Seconds and nanoseconds of a timestamp value of `unit` (floor seconds, nanos 0..1e9).
pub(super) fn seconds_nanos(value: i64, unit: &TimeUnit) -> (i64, i64) {
    let per_second: i64 = match unit {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    };
    let seconds = value.div_euclid(per_second);
    let nanos = value.rem_euclid(per_second) * (1_000_000_000 / per_second);
    (seconds, nanos)
}

/// Java's `BigDecimal.hashCode` of a Hive decimal (trailing fraction zeros stripped, as Hive
/// normalizes decimals): `31 * unscaled.hashCode() + scale`.
fn decimal_hash(unscaled: i128, scale: i8) -> i32 {
    let (mut unscaled, mut scale) = (unscaled, i32::from(scale));
    while scale > 0 && unscaled != 0 && unscaled % 10 == 0 {
        unscaled /= 10;
        scale -= 1;
    }
    if unscaled == 0 {
        scale = 0;
    }
    let magnitude = unscaled.unsigned_abs();
    let mut h: i32 = 0;
    let mut started = false;
    for i in (0..4).rev() {
        let word = (magnitude >> (32 * i)) as u32;
        if word != 0 || started {
            started = true;
            h = h.wrapping_mul(31).wrapping_add(word as i32);
        }
    }
    if unscaled < 0 {
        h = h.wrapping_neg();
    }
    h.wrapping_mul(31).wrapping_add(scale)
}
/// A per-value hash of row `row` of an array.
pub(super) type RowHash = fn(&dyn Array, usize) -> Result<i32>;

/// Hive's hash of a nested value (a non-NULL row) from its parts' hashes: a list's or a struct's
/// elements combined as `31 * h + hash(element)`, a map's entries summed as
/// `hash(key) ^ value_hash(value)`, a dictionary's value hashed as itself; `None` for a value
/// that is not nested.
pub(super) fn nested_hash(
    array: &dyn Array,
    row: usize,
    hash: RowHash,
    value_hash: RowHash,
) -> Result<Option<i32>> {
    let combine = |parts: &mut dyn Iterator<Item = Result<i32>>| -> Result<i32> {
        let mut h: i32 = 0;
        for part in parts {
            h = h.wrapping_mul(31).wrapping_add(part?);
        }
        Ok(h)
    };
    Ok(Some(match array.data_type() {
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _) => {
            let values = list_value(array, row)?;
            combine(&mut (0..values.len()).map(|i| hash(values.as_ref(), i)))?
        }
        DataType::Map(_, _) => {
            let entries = array.as_map().value(row);
            let (keys, values) = (entries.column(0), entries.column(1));
            let mut h: i32 = 0;
            for i in 0..entries.len() {
                h = h.wrapping_add(hash(keys.as_ref(), i)? ^ value_hash(values.as_ref(), i)?);
            }
            h
        }
        DataType::Struct(_) => combine(
            &mut array
                .as_struct()
                .columns()
                .iter()
                .map(|c| hash(c.as_ref(), row)),
        )?,
        DataType::Dictionary(_, _) => {
            let dict = array.as_any_dictionary();
            let key = dict.normalized_keys()[row];
            hash(dict.values().as_ref(), key)?
        }
        _ => return Ok(None),
    }))
}

/// The hash code of row `row` of `array`, as Hive's `ObjectInspectorUtils.hashCode`; NULL is 0.
pub(super) fn java_hash(array: &dyn Array, row: usize) -> Result<i32> {
    if array.is_null(row) {
        return Ok(0);
    }
    if let Some(h) = nested_hash(array, row, java_hash, java_hash)? {
        return Ok(h);
    }
    Ok(match array.data_type() {
        DataType::Null => 0,
        DataType::Boolean => i32::from(array.as_boolean().value(row)),
        DataType::Int8 => i32::from(array.as_primitive::<Int8Type>().value(row)),
        DataType::Int16 => i32::from(array.as_primitive::<Int16Type>().value(row)),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(row),
        DataType::Int64 => long_hash(array.as_primitive::<Int64Type>().value(row)),
        DataType::UInt8 => i32::from(array.as_primitive::<UInt8Type>().value(row)),
        DataType::UInt16 => i32::from(array.as_primitive::<UInt16Type>().value(row)),
        DataType::UInt32 => long_hash(i64::from(array.as_primitive::<UInt32Type>().value(row))),
        DataType::UInt64 => long_hash(array.as_primitive::<UInt64Type>().value(row) as i64),
        DataType::Float32 => float_to_int_bits(array.as_primitive::<Float32Type>().value(row)),
        DataType::Float64 => long_hash(double_to_long_bits(
            array.as_primitive::<Float64Type>().value(row),
        )),
        DataType::Utf8 => bytes_hash(array.as_string::<i32>().value(row).as_bytes(), 0),
        DataType::LargeUtf8 => bytes_hash(array.as_string::<i64>().value(row).as_bytes(), 0),
        DataType::Utf8View => bytes_hash(array.as_string_view().value(row).as_bytes(), 0),
        DataType::Binary => bytes_hash(array.as_binary::<i32>().value(row), 1),
        DataType::LargeBinary => bytes_hash(array.as_binary::<i64>().value(row), 1),
        DataType::BinaryView => bytes_hash(array.as_binary_view().value(row), 1),
        DataType::Date32 => array.as_primitive::<Date32Type>().value(row),
        DataType::Date64 => array
            .as_primitive::<Date64Type>()
            .value(row)
            .div_euclid(86_400_000) as i32,
        DataType::Timestamp(unit, _) => {
            let value = match unit {
                TimeUnit::Second => array.as_primitive::<TimestampSecondType>().value(row),
                TimeUnit::Millisecond => {
                    array.as_primitive::<TimestampMillisecondType>().value(row)
                }
                TimeUnit::Microsecond => {
                    array.as_primitive::<TimestampMicrosecondType>().value(row)
                }
                TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().value(row),
            };
            let (seconds, nanos) = seconds_nanos(value, unit);
            long_hash((seconds << 30) | nanos)
        }
        DataType::Decimal128(_, scale) => {
            decimal_hash(array.as_primitive::<Decimal128Type>().value(row), *scale)
        }
        other => return exec_err!("hash: values of type {other} cannot be hashed"),
    })
}

/// The elements of the list at `row`.
pub(super) fn list_value(array: &dyn Array, row: usize) -> Result<std::sync::Arc<dyn Array>> {
    Ok(match array.data_type() {
        DataType::List(_) => array.as_list::<i32>().value(row),
        DataType::LargeList(_) => array.as_list::<i64>().value(row),
        DataType::FixedSizeList(_, _) => array.as_fixed_size_list().value(row),
        other => return exec_err!("hash: {other} is not a list"),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{
        ArrayRef, BinaryArray, Decimal128Array, Int64Array, StringArray,
    };

    use super::*;

    fn hash_of(array: ArrayRef) -> i32 {
        java_hash(array.as_ref(), 0).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn values_hash_as_in_hive() {
        // Answers of Hive 2.3's GenericUDFHash (the oracle).
        assert_eq!(hash_of(Arc::new(StringArray::from(vec!["abc"]))), 96354);
        assert_eq!(hash_of(Arc::new(StringArray::from(vec!["é"]))), -1978);
        assert_eq!(hash_of(Arc::new(Int64Array::from(vec![-1]))), 0);
        assert_eq!(
            hash_of(Arc::new(Int64Array::from(vec![5_000_000_000]))),
            705_032_705
        );
        assert_eq!(
            hash_of(Arc::new(BinaryArray::from(vec![&b"abc"[..]]))),
            126_145
        );
        let decimal = Decimal128Array::from(vec![150]).with_precision_and_scale(10, 2);
        let decimal = decimal.unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(hash_of(Arc::new(decimal)), 466);
        assert_eq!(float_to_int_bits(1.5), 1_069_547_520);
    }
}
