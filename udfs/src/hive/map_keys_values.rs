//! `map_keys(m)` and `map_values(m)`: the keys or the values of a map as an array.
//!
//! DataFusion's versions answer NULL for a NULL map; Hive's answer an empty array, and never
//! NULL. The element types are DataFusion's: `array<K>` with nullable elements for the keys,
//! `array<V>` with the value field's nullability for the values.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, ListArray, MapArray};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::filter;
use datafusion::arrow::datatypes::{ArrowNativeType, DataType, Field, FieldRef};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_MAP;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    Volatility,
};

use super::{evaluate_rowwise, hive_arg_error, hive_doc};

/// Which half of a map's entries a function returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum MapPart {
    Keys,
    Values,
}

/// `map_keys(map<K, V>)` → `array<K>` and `map_values(map<K, V>)` → `array<V>`; a NULL map
/// gives an empty array.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MapPartFunc {
    signature: Signature,
    part: MapPart,
}

impl MapPartFunc {
    fn with_part(part: MapPart) -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
            part,
        }
    }

    /// Creates `map_keys`.
    pub fn keys() -> Self {
        Self::with_part(MapPart::Keys)
    }

    /// Creates `map_values`.
    pub fn values() -> Self {
        Self::with_part(MapPart::Values)
    }
}

static MAP_KEYS_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_MAP,
        "Returns the keys of the map as an array, in the map's order. A NULL map gives an \
         empty array.",
        "map_keys(map)",
        "SELECT map_keys(map('a', 1, 'b', 2));\n-- [a, b]",
    )
});

static MAP_VALUES_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_MAP,
        "Returns the values of the map as an array, in the map's order. A NULL map gives an \
         empty array.",
        "map_values(map)",
        "SELECT map_values(map('a', 1, 'b', 2));\n-- [1, 2]",
    )
});

/// The element field of the array that `part` of a map of this type makes.
fn element_field(name: &str, part: MapPart, map_type: &DataType) -> Result<FieldRef> {
    let DataType::Map(entries, _) = map_type else {
        return Err(hive_arg_error(
            name,
            format!("argument 1 must be a map, got {map_type}"),
        ));
    };
    let DataType::Struct(fields) = entries.data_type() else {
        return exec_err!("{name}: malformed map type {map_type}");
    };
    let [key, value] = fields.iter().collect::<Vec<_>>()[..] else {
        return exec_err!("{name}: malformed map type {map_type}");
    };
    Ok(Arc::new(match part {
        MapPart::Keys => Field::new_list_field(key.data_type().clone(), true),
        MapPart::Values => value
            .as_ref()
            .clone()
            .with_name(Field::LIST_FIELD_DEFAULT_NAME),
    }))
}

/// The offsets and items of `part` of every map, a NULL map counted as an empty one. Arrow
/// lets a NULL map keep entries behind it; those are dropped.
fn offsets_without_null_maps(
    maps: &MapArray,
    items: &ArrayRef,
) -> Result<(OffsetBuffer<i32>, ArrayRef)> {
    let offsets = maps.value_offsets();
    let Some(nulls) = maps.nulls().filter(|n| n.null_count() > 0) else {
        return Ok((maps.offsets().clone(), Arc::clone(items)));
    };
    let hides_entries = nulls
        .iter()
        .enumerate()
        .any(|(row, valid)| !valid && offsets[row] != offsets[row + 1]);
    if !hides_entries {
        return Ok((maps.offsets().clone(), Arc::clone(items)));
    }
    let mut keep = vec![false; items.len()];
    let mut lengths = Vec::with_capacity(maps.len());
    for (row, valid) in nulls.iter().enumerate() {
        if valid {
            let range = offsets[row].as_usize()..offsets[row + 1].as_usize();
            lengths.push(range.len());
            keep[range].fill(true);
        } else {
            lengths.push(0);
        }
    }
    let kept = filter(items.as_ref(), &BooleanArray::from(keep))?;
    Ok((OffsetBuffer::from_lengths(lengths), kept))
}

/// The keys or values of each map in `maps`, as a list array without NULLs.
fn map_part_arrays(name: &str, part: MapPart, maps: &ArrayRef) -> Result<ArrayRef> {
    let field = element_field(name, part, maps.data_type())?;
    let Some(maps) = maps.as_map_opt() else {
        return exec_err!("{name}: argument 1 must be a map");
    };
    let items = match part {
        MapPart::Keys => maps.keys(),
        MapPart::Values => maps.values(),
    };
    let (offsets, items) = offsets_without_null_maps(maps, items)?;
    Ok(Arc::new(ListArray::try_new(field, offsets, items, None)?))
}

impl ScalarUDFImpl for MapPartFunc {
    fn name(&self) -> &str {
        match self.part {
            MapPart::Keys => "map_keys",
            MapPart::Values => "map_values",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [map_type] = arg_types else {
            return Err(hive_arg_error(
                self.name(),
                format!("takes 1 argument (a map), got {}", arg_types.len()),
            ));
        };
        element_field(self.name(), self.part, map_type)?;
        Ok(vec![map_type.clone()])
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        let [map_type] = arg_types else {
            return Err(hive_arg_error(self.name(), "takes 1 argument (a map)"));
        };
        Ok(DataType::List(element_field(
            self.name(),
            self.part,
            map_type,
        )?))
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let types: Vec<DataType> = args
            .arg_fields
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        // Never NULL: a NULL map gives an empty array.
        Ok(Arc::new(Field::new(
            self.name(),
            self.return_type(&types)?,
            false,
        )))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (name, part) = (self.name(), self.part);
        evaluate_rowwise(&args.args, |columns| match columns {
            [maps] => map_part_arrays(name, part, maps),
            _ => Err(hive_arg_error(name, "takes 1 argument (a map)")),
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(match self.part {
            MapPart::Keys => &MAP_KEYS_DOC,
            MapPart::Values => &MAP_VALUES_DOC,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use datafusion::arrow::array::{
        Int32Array, Int32Builder, MapBuilder, StringArray, StringBuilder,
    };
    use datafusion::arrow::buffer::NullBuffer;

    use super::*;

    /// Three maps: `{a: 1, b: NULL}`, NULL, `{}`.
    fn maps() -> ArrayRef {
        let mut builder = MapBuilder::new(None, StringBuilder::new(), Int32Builder::new());
        builder.keys().append_value("a");
        builder.values().append_value(1);
        builder.keys().append_value("b");
        builder.values().append_null();
        builder.append(true).unwrap();
        builder.append(false).unwrap();
        builder.append(true).unwrap();
        Arc::new(builder.finish())
    }

    #[test]
    fn null_maps_give_empty_arrays() {
        let keys = map_part_arrays("map_keys", MapPart::Keys, &maps()).unwrap();
        let keys_list = keys.as_list::<i32>();
        assert_eq!(keys_list.value_length(1), 0);
        let first = keys_list.value(0);
        let first = first.as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(first.iter().collect::<Vec<_>>(), vec![Some("a"), Some("b")]);
        assert_eq!((keys_list.len(), keys_list.null_count()), (3, 0));

        let values = map_part_arrays("map_values", MapPart::Values, &maps()).unwrap();
        let values_list = values.as_list::<i32>();
        let first = values_list.value(0);
        let first = first.as_any().downcast_ref::<Int32Array>().unwrap();
        assert_eq!(first.iter().collect::<Vec<_>>(), vec![Some(1), None]);
        assert_eq!(values_list.value_length(1), 0);
        assert_eq!(values_list.value_length(2), 0);
        assert_eq!(values_list.null_count(), 0);
    }

    #[test]
    fn entries_behind_a_null_map_are_dropped() {
        let maps = maps();
        let maps = maps.as_map();
        // The same entries, the first map now NULL: its two entries stay behind it.
        let hidden = MapArray::try_new(
            Arc::new(Field::new(
                "entries",
                maps.entries().data_type().clone(),
                false,
            )),
            maps.offsets().clone(),
            maps.entries().clone(),
            Some(NullBuffer::from(vec![false, true, true])),
            false,
        )
        .unwrap();
        let hidden: ArrayRef = Arc::new(hidden);
        let keys = map_part_arrays("map_keys", MapPart::Keys, &hidden).unwrap();
        let keys = keys.as_list::<i32>();
        assert_eq!(keys.values().len(), 0);
        assert_eq!(
            (0..3).map(|i| keys.value_length(i)).collect::<Vec<_>>(),
            vec![0, 0, 0]
        );
    }

    #[test]
    fn types_follow_datafusion_and_non_maps_are_refused() {
        let map_type = maps().data_type().clone();
        let keys = MapPartFunc::keys();
        let values = MapPartFunc::values();
        assert_eq!(
            keys.return_type(std::slice::from_ref(&map_type)).unwrap(),
            DataType::new_list(DataType::Utf8, true)
        );
        assert_eq!(
            values.return_type(std::slice::from_ref(&map_type)).unwrap(),
            DataType::new_list(DataType::Int32, true)
        );
        let err = keys
            .coerce_types(&[DataType::new_list(DataType::Utf8, true)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("map_keys: argument 1 must be a map"), "{err}");
        assert!(values.coerce_types(&[DataType::Null]).is_err());
        assert_eq!(values.name(), "map_values");
    }
}
