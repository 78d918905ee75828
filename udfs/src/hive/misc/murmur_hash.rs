//! Hive's `ObjectInspectorUtils.hashCodeMurmur`: the Murmur3 hash of one value, the building
//! block of Hive 4's `murmur_hash(a1, a2, ...)`. Numbers are hashed as Java's big-endian
//! `ByteBuffer` writes them, quirks included (a float is written as the float value of its
//! bit pattern).

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
};
use datafusion::common::{Result, exec_err};

use super::java_hash::{double_to_long_bits, float_to_int_bits, java_hash, nested_hash};
use super::murmur3::{DEFAULT_SEED, hash32};

fn murmur(bytes: &[u8]) -> i32 {
    hash32(bytes, DEFAULT_SEED)
}

/// The Murmur3 hash of row `row` of `array`; NULL is 0.
pub(super) fn murmur_hash(array: &dyn Array, row: usize) -> Result<i32> {
    if array.is_null(row) {
        return Ok(0);
    }
    // Hive hashes map keys with Murmur3 and values with Java hash codes.
    if let Some(h) = nested_hash(array, row, murmur_hash, java_hash)? {
        return Ok(h);
    }
    Ok(match array.data_type() {
        DataType::Null => 0,
        DataType::Boolean => i32::from(array.as_boolean().value(row)),
        DataType::Int8 => i32::from(array.as_primitive::<Int8Type>().value(row)),
        DataType::Int16 => murmur(&array.as_primitive::<Int16Type>().value(row).to_be_bytes()),
        DataType::Int32 => murmur(&array.as_primitive::<Int32Type>().value(row).to_be_bytes()),
        DataType::Int64 => murmur(&array.as_primitive::<Int64Type>().value(row).to_be_bytes()),
        DataType::Float32 => {
            // byteBuffer.putFloat(Float.floatToIntBits(x)): the int is widened to a float.
            let bits = float_to_int_bits(array.as_primitive::<Float32Type>().value(row));
            murmur(&(bits as f32).to_be_bytes())
        }
        DataType::Float64 => {
            let bits = double_to_long_bits(array.as_primitive::<Float64Type>().value(row));
            murmur(&(bits as f64).to_be_bytes())
        }
        DataType::Utf8 => murmur(array.as_string::<i32>().value(row).as_bytes()),
        DataType::LargeUtf8 => murmur(array.as_string::<i64>().value(row).as_bytes()),
        DataType::Utf8View => murmur(array.as_string_view().value(row).as_bytes()),
        DataType::Binary => murmur(array.as_binary::<i32>().value(row)),
        DataType::LargeBinary => murmur(array.as_binary::<i64>().value(row)),
        DataType::BinaryView => murmur(array.as_binary_view().value(row)),
        DataType::Date32 => murmur(&array.as_primitive::<Date32Type>().value(row).to_be_bytes()),
        other => {
            return exec_err!(
                "murmur_hash: values of type {other} are not supported (Hive hashes their \
                 internal serialized form)"
            );
        }
    })
}
