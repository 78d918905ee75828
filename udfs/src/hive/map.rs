//! `map(k1, v1, k2, v2, …)`: Hive's map constructor.
//!
//! DataFusion's `map` refuses duplicate keys; Hive's keeps the last value of a repeated key
//! (at the position where the key first appeared). The function itself takes DataFusion's
//! two-list form `map([keys], [values])`; [`super::HiveExprPlanner`] turns the alternating
//! form into it, `map(array(k1, k2, …), array(v1, v2, …))`.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, MapArray, StructArray, UInt32Array};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::compute::{cast, take};
use datafusion::arrow::datatypes::{ArrowNativeType, DataType, Field, FieldRef, Fields};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_MAP;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::{evaluate_rowwise, hive_arg_error, hive_doc};

/// `map(array_of_keys, array_of_values)` → `map<K, V>`, duplicate keys resolved as Hive does.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MapFunc {
    signature: Signature,
}

impl Default for MapFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl MapFunc {
    /// Creates the `map` function.
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_MAP,
        "Returns a map of the given key/value pairs. A repeated key keeps its last value; \
         keys must not be NULL. `map([k1, k2], [v1, v2])` (two arrays) builds the same map.",
        "map(key1, value1, key2, value2, ...)",
        "SELECT map('a', 1, 'b', 2, 'a', 3);\n-- {a: 3, b: 2}",
    )
});

/// The field of a map's entries, named as DataFusion names them (`entries`, `key`, `value`).
pub(crate) fn map_entries_field(key: DataType, value: DataType) -> FieldRef {
    let fields = Fields::from(vec![
        Field::new("key", key, false),
        Field::new("value", value, true),
    ]);
    Arc::new(Field::new("entries", DataType::Struct(fields), false))
}

/// `map<key, value>` as DataFusion represents it.
pub(crate) fn map_type(key: DataType, value: DataType) -> DataType {
    DataType::Map(map_entries_field(key, value), false)
}

/// The element type of a list-like type (`Null` for a bare NULL).
fn element_type(name: &str, position: usize, data_type: &DataType) -> Result<DataType> {
    match data_type {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            Ok(f.data_type().clone())
        }
        DataType::Null => Ok(DataType::Null),
        other => Err(hive_arg_error(
            name,
            format!("argument {position} must be an array, got {other}"),
        )),
    }
}

/// Builds map rows from parallel key and value lists: row `i` pairs `keys[i]` with
/// `values[i]`. Either list NULL makes the map NULL; a NULL key or lists of different
/// lengths are errors. A repeated key keeps its first position and its last value.
pub(crate) fn maps_from_lists(keys: &ArrayRef, values: &ArrayRef) -> Result<ArrayRef> {
    let keys = cast(
        keys,
        &DataType::new_list(element_type("map", 1, keys.data_type())?, true),
    )?;
    let values = cast(
        values,
        &DataType::new_list(element_type("map", 2, values.data_type())?, true),
    )?;
    let keys = keys.as_list::<i32>();
    let values = values.as_list::<i32>();
    let key_values = keys.values();
    let converter = RowConverter::new(vec![SortField::new(key_values.data_type().clone())])?;
    let key_rows = converter.convert_columns(std::slice::from_ref(key_values))?;

    let key_nulls = key_values.logical_nulls();
    let nulls = NullBuffer::union(keys.nulls(), values.nulls());
    let mut key_take: Vec<u32> = Vec::with_capacity(key_values.len());
    let mut value_take: Vec<u32> = Vec::with_capacity(key_values.len());
    let mut lengths: Vec<usize> = Vec::with_capacity(keys.len());
    let mut seen = HashMap::new();
    for row in 0..keys.len() {
        if nulls.as_ref().is_some_and(|n| n.is_null(row)) {
            lengths.push(0);
            continue;
        }
        let key_range =
            keys.value_offsets()[row].as_usize()..keys.value_offsets()[row + 1].as_usize();
        let value_start = values.value_offsets()[row].as_usize();
        let value_len = values.value_length(row).as_usize();
        if key_range.len() != value_len {
            return exec_err!(
                "map: row {row} has {} keys but {value_len} values",
                key_range.len()
            );
        }
        seen.clear();
        let row_start = key_take.len();
        for (j, key_index) in key_range.enumerate() {
            if key_nulls.as_ref().is_some_and(|n| n.is_null(key_index)) {
                return exec_err!("map: map keys cannot be NULL");
            }
            let value_index = index_u32(value_start + j)?;
            match seen.entry(key_rows.row(key_index)) {
                Entry::Occupied(slot) => value_take[*slot.get()] = value_index,
                Entry::Vacant(slot) => {
                    slot.insert(key_take.len());
                    key_take.push(index_u32(key_index)?);
                    value_take.push(value_index);
                }
            }
        }
        lengths.push(key_take.len() - row_start);
    }

    let entries_field = map_entries_field(
        key_values.data_type().clone(),
        values.values().data_type().clone(),
    );
    let DataType::Struct(entry_fields) = entries_field.data_type() else {
        return exec_err!("map: malformed entries type");
    };
    let entries = StructArray::try_new(
        entry_fields.clone(),
        vec![
            take(key_values, &UInt32Array::from(key_take), None)?,
            take(values.values(), &UInt32Array::from(value_take), None)?,
        ],
        None,
    )?;
    Ok(Arc::new(MapArray::try_new(
        entries_field,
        OffsetBuffer::from_lengths(lengths),
        entries,
        nulls,
        false,
    )?))
}

/// An index into an Arrow array as the `u32` that `take` expects.
fn index_u32(index: usize) -> Result<u32> {
    u32::try_from(index).map_err(|_| hive_arg_error("map", "too many entries in one batch"))
}

impl ScalarUDFImpl for MapFunc {
    fn name(&self) -> &str {
        "map"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [keys, values] = arg_types else {
            return Err(hive_arg_error(
                self.name(),
                format!(
                    "takes key/value pairs or two arrays (keys, values), got {} argument(s)",
                    arg_types.len()
                ),
            ));
        };
        Ok(vec![
            DataType::new_list(element_type(self.name(), 1, keys)?, true),
            DataType::new_list(element_type(self.name(), 2, values)?, true),
        ])
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        let [keys, values] = arg_types else {
            return Err(hive_arg_error(
                self.name(),
                "takes two arrays (keys, values)",
            ));
        };
        Ok(map_type(
            element_type(self.name(), 1, keys)?,
            element_type(self.name(), 2, values)?,
        ))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        evaluate_rowwise(&args.args, |arrays| match arrays {
            [keys, values] => maps_from_lists(keys, values),
            _ => Err(hive_arg_error(
                self.name(),
                "takes two arrays (keys, values)",
            )),
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use datafusion::arrow::array::{Int32Array, ListArray, StringArray};
    use datafusion::arrow::datatypes::Int32Type;

    use super::*;

    fn string_lists(rows: Vec<Option<Vec<Option<&str>>>>) -> ArrayRef {
        let mut builder = datafusion::arrow::array::ListBuilder::new(
            datafusion::arrow::array::StringBuilder::new(),
        );
        for row in rows {
            match row {
                Some(items) => {
                    for item in items {
                        builder.values().append_option(item);
                    }
                    builder.append(true);
                }
                None => builder.append(false),
            }
        }
        Arc::new(builder.finish())
    }

    fn int_lists(rows: Vec<Option<Vec<Option<i32>>>>) -> ArrayRef {
        Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(rows))
    }

    #[test]
    fn later_duplicate_keys_win_in_first_position() {
        let keys = string_lists(vec![Some(vec![Some("a"), Some("b"), Some("a")])]);
        let values = int_lists(vec![Some(vec![Some(1), Some(2), Some(3)])]);
        let maps = maps_from_lists(&keys, &values).unwrap();
        let maps = maps.as_map();
        let entries = maps.value(0);
        let k = entries
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        let v = entries
            .column(1)
            .as_any()
            .downcast_ref::<Int32Array>()
            .unwrap();
        assert_eq!(k.iter().collect::<Vec<_>>(), vec![Some("a"), Some("b")]);
        assert_eq!(v.iter().collect::<Vec<_>>(), vec![Some(3), Some(2)]);
    }

    #[test]
    fn null_lists_give_null_maps_and_values_may_be_null() {
        let keys = string_lists(vec![None, Some(vec![Some("x")]), Some(vec![])]);
        let values = int_lists(vec![Some(vec![Some(1)]), Some(vec![None]), Some(vec![])]);
        let maps = maps_from_lists(&keys, &values).unwrap();
        let maps = maps.as_map();
        assert!(maps.is_null(0));
        assert_eq!(maps.value(1).len(), 1);
        assert!(maps.value(1).column(1).is_null(0));
        assert_eq!(maps.value(2).len(), 0);
    }

    #[test]
    fn null_keys_and_length_mismatches_are_errors() {
        let keys = string_lists(vec![Some(vec![None])]);
        let values = int_lists(vec![Some(vec![Some(1)])]);
        let err = maps_from_lists(&keys, &values).unwrap_err().to_string();
        assert!(err.contains("map keys cannot be NULL"), "{err}");

        let keys = string_lists(vec![Some(vec![Some("a"), Some("b")])]);
        let err = maps_from_lists(&keys, &values).unwrap_err().to_string();
        assert!(err.contains("2 keys but 1 values"), "{err}");
    }
}
