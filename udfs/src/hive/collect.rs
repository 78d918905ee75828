//! `collect_list(x)` and `collect_set(x)`: Hive's aggregates into arrays.
//!
//! Unlike DataFusion's `array_agg`, NULL inputs are skipped and a group without values
//! gives an empty array, not NULL. `collect_list` keeps the input order (within one
//! partition, as in Hive); `collect_set` keeps the first occurrence of each value.

use std::collections::HashSet;
use std::mem::size_of_val;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, ListArray, UInt32Array, new_empty_array};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::{concat, filter, is_not_null, take};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::aggregate_doc_sections::DOC_SECTION_GENERAL;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, Signature, Volatility,
};

use super::{hive_arg_error, hive_doc};

/// `collect_list(x)` → `array<T>`: the non-NULL values of `x`, in input order.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CollectListFunc {
    signature: Signature,
}

/// `collect_set(x)` → `array<T>`: the distinct non-NULL values of `x`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CollectSetFunc {
    signature: Signature,
}

impl Default for CollectListFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl CollectListFunc {
    /// Creates the `collect_list` aggregate.
    pub fn new() -> Self {
        Self {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl Default for CollectSetFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl CollectSetFunc {
    /// Creates the `collect_set` aggregate.
    pub fn new() -> Self {
        Self {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

static COLLECT_LIST_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_GENERAL,
        "Returns an array of the non-NULL values of x, in input order (duplicates kept). \
         An empty group, or one of NULLs only, gives an empty array.",
        "collect_list(x)",
        "SELECT k, collect_list(v) FROM VALUES ('a', 1), ('a', NULL), ('a', 1) t(k, v) GROUP BY k;\n\
         -- a, [1, 1]",
    )
});

static COLLECT_SET_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_GENERAL,
        "Returns an array of the distinct non-NULL values of x (in no guaranteed order; \
         wrap it in sort_array for a stable one). An empty group gives an empty array.",
        "collect_set(x)",
        "SELECT sort_array(collect_set(v)) FROM VALUES (2), (1), (2), (NULL) t(v);\n-- [1, 2]",
    )
});

/// `array<T>` for values of type `T`.
fn list_of(element: &DataType) -> DataType {
    DataType::new_list(element.clone(), true)
}

/// The single state field of both aggregates: the values collected so far.
fn state_field(args: &StateFieldsArgs, state: &str) -> Result<Vec<FieldRef>> {
    let Some(input) = args.input_fields.first() else {
        return Err(hive_arg_error(args.name, "takes exactly one argument"));
    };
    Ok(vec![Arc::new(Field::new(
        format_state_name(args.name, state),
        list_of(input.data_type()),
        true,
    ))])
}

/// The element type of the aggregate's `array<T>` result.
fn element_type(args: &AccumulatorArgs) -> Result<DataType> {
    match args.return_field.data_type() {
        DataType::List(field) => Ok(field.data_type().clone()),
        other => exec_err!("{}: unexpected result type {other}", args.name),
    }
}

/// A one-row `array<T>` scalar holding `chunks` concatenated.
fn list_scalar(element: &DataType, chunks: &[ArrayRef]) -> Result<ScalarValue> {
    let values = match chunks {
        [] => new_empty_array(element),
        [one] => Arc::clone(one),
        many => {
            let parts: Vec<&dyn Array> = many.iter().map(|c| c.as_ref()).collect();
            concat(&parts)?
        }
    };
    let list = ListArray::try_new(
        Arc::new(Field::new_list_field(element.clone(), true)),
        OffsetBuffer::from_lengths([values.len()]),
        values,
        None,
    )?;
    Ok(ScalarValue::List(Arc::new(list)))
}

/// The non-NULL values of `values`.
fn without_nulls(values: &ArrayRef) -> Result<ArrayRef> {
    if values.logical_null_count() == 0 {
        Ok(Arc::clone(values))
    } else {
        Ok(filter(values, &is_not_null(values)?)?)
    }
}

/// The values of the valid rows of a state column (a list array), row by row.
fn state_values(states: &[ArrayRef]) -> Result<Vec<ArrayRef>> {
    let Some(lists) = states.first().and_then(|s| s.as_list_opt::<i32>()) else {
        return exec_err!("collect: malformed aggregate state");
    };
    Ok((0..lists.len())
        .filter(|&i| lists.is_valid(i))
        .map(|i| lists.value(i))
        .collect())
}

impl AggregateUDFImpl for CollectListFunc {
    fn name(&self) -> &str {
        "collect_list"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types {
            [element] => Ok(list_of(element)),
            _ => Err(hive_arg_error(self.name(), "takes exactly one argument")),
        }
    }

    fn is_nullable(&self) -> bool {
        false
    }

    fn default_value(&self, data_type: &DataType) -> Result<ScalarValue> {
        match data_type {
            DataType::List(field) => list_scalar(field.data_type(), &[]),
            other => ScalarValue::try_from(other),
        }
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        state_field(
            &args,
            if args.is_distinct {
                "collect_set"
            } else {
                "collect_list"
            },
        )
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let element = element_type(&args)?;
        if args.is_distinct {
            Ok(Box::new(CollectSetAccumulator::try_new(element)?))
        } else {
            Ok(Box::new(CollectListAccumulator::new(element)))
        }
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&COLLECT_LIST_DOC)
    }
}

impl AggregateUDFImpl for CollectSetFunc {
    fn name(&self) -> &str {
        "collect_set"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types {
            [element] => Ok(list_of(element)),
            _ => Err(hive_arg_error(self.name(), "takes exactly one argument")),
        }
    }

    fn is_nullable(&self) -> bool {
        false
    }

    fn default_value(&self, data_type: &DataType) -> Result<ScalarValue> {
        match data_type {
            DataType::List(field) => list_scalar(field.data_type(), &[]),
            other => ScalarValue::try_from(other),
        }
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        state_field(&args, "collect_set")
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(CollectSetAccumulator::try_new(element_type(
            &args,
        )?)?))
    }

    fn create_sliding_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let element = element_type(&args)?;
        Ok(Box::new(SlidingCollectSet {
            list: CollectListAccumulator::new(element.clone()),
            element,
        }))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&COLLECT_SET_DOC)
    }
}

/// Collects the non-NULL values it sees, in order.
#[derive(Debug)]
struct CollectListAccumulator {
    element: DataType,
    chunks: Vec<ArrayRef>,
}

impl CollectListAccumulator {
    fn new(element: DataType) -> Self {
        Self {
            element,
            chunks: Vec::new(),
        }
    }

    fn push(&mut self, values: &ArrayRef) -> Result<()> {
        let values = without_nulls(values)?;
        if !values.is_empty() {
            self.chunks.push(values);
        }
        Ok(())
    }
}

impl Accumulator for CollectListAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        match values.first() {
            Some(values) => self.push(values),
            None => exec_err!("collect_list: takes exactly one argument"),
        }
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        for values in state_values(states)? {
            self.push(&values)?;
        }
        Ok(())
    }

    /// Values leave a sliding window frame in the order they came: drop as many of the
    /// oldest as there are non-NULL values leaving.
    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(values) = values.first() else {
            return exec_err!("collect_list: takes exactly one argument");
        };
        let mut leaving = without_nulls(values)?.len();
        while leaving > 0 && !self.chunks.is_empty() {
            let first = self.chunks[0].len();
            if first <= leaving {
                self.chunks.remove(0);
                leaving -= first;
            } else {
                self.chunks[0] = self.chunks[0].slice(leaving, first - leaving);
                leaving = 0;
            }
        }
        Ok(())
    }

    fn supports_retract_batch(&self) -> bool {
        true
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.evaluate()?])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        // Concatenate once so that later calls (state, then evaluate) do not repeat the work.
        if self.chunks.len() > 1 {
            let all = list_scalar(&self.element, &self.chunks)?;
            if let ScalarValue::List(list) = &all {
                self.chunks = vec![list.value(0)];
            }
            return Ok(all);
        }
        list_scalar(&self.element, &self.chunks)
    }

    fn size(&self) -> usize {
        size_of_val(self)
            + self
                .chunks
                .iter()
                .map(|c| c.get_array_memory_size())
                .sum::<usize>()
    }
}

/// Collects the distinct non-NULL values it sees, in order of first occurrence.
#[derive(Debug)]
struct CollectSetAccumulator {
    element: DataType,
    converter: RowConverter,
    seen: HashSet<Box<[u8]>>,
    seen_bytes: usize,
    chunks: Vec<ArrayRef>,
}

impl CollectSetAccumulator {
    fn try_new(element: DataType) -> Result<Self> {
        let converter = RowConverter::new(vec![SortField::new(element.clone())])?;
        Ok(Self {
            element,
            converter,
            seen: HashSet::new(),
            seen_bytes: 0,
            chunks: Vec::new(),
        })
    }

    fn push(&mut self, values: &ArrayRef) -> Result<()> {
        let values = without_nulls(values)?;
        if values.is_empty() {
            return Ok(());
        }
        let rows = self
            .converter
            .convert_columns(std::slice::from_ref(&values))?;
        let mut fresh: Vec<u32> = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let bytes = row.as_ref();
            if !self.seen.contains(bytes) {
                self.seen_bytes += bytes.len();
                self.seen.insert(Box::from(bytes));
                fresh.push(
                    u32::try_from(i)
                        .map_err(|_| hive_arg_error("collect_set", "batch too large"))?,
                );
            }
        }
        if fresh.len() == values.len() {
            self.chunks.push(values);
        } else if !fresh.is_empty() {
            self.chunks
                .push(take(values.as_ref(), &UInt32Array::from(fresh), None)?);
        }
        Ok(())
    }
}

impl Accumulator for CollectSetAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        match values.first() {
            Some(values) => self.push(values),
            None => exec_err!("collect_set: takes exactly one argument"),
        }
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        for values in state_values(states)? {
            self.push(&values)?;
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.evaluate()?])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        list_scalar(&self.element, &self.chunks)
    }

    fn size(&self) -> usize {
        size_of_val(self)
            + self.converter.size()
            + self.seen_bytes
            + self.seen.capacity() * std::mem::size_of::<Box<[u8]>>()
            + self
                .chunks
                .iter()
                .map(|c| c.get_array_memory_size())
                .sum::<usize>()
    }
}

/// `collect_set` over a sliding window frame: the frame's values as `collect_list` keeps them
/// (values leave in the order they came), made distinct, in order of first occurrence in the
/// frame, when the frame is evaluated (as Hive computes each frame).
#[derive(Debug)]
struct SlidingCollectSet {
    element: DataType,
    list: CollectListAccumulator,
}

impl Accumulator for SlidingCollectSet {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.list.update_batch(values)
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.list.retract_batch(values)
    }

    fn supports_retract_batch(&self) -> bool {
        true
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.list.merge_batch(states)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        self.list.state()
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let mut set = CollectSetAccumulator::try_new(self.element.clone())?;
        if let ScalarValue::List(all) = self.list.evaluate()? {
            set.push(&all.value(0))?;
        }
        set.evaluate()
    }

    fn size(&self) -> usize {
        size_of_val(self) + self.list.size()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use datafusion::arrow::array::Int32Array;
    use datafusion::arrow::datatypes::Int32Type;

    use super::*;

    fn ints(values: Vec<Option<i32>>) -> ArrayRef {
        Arc::new(Int32Array::from(values))
    }

    fn list_values(scalar: ScalarValue) -> Vec<Option<i32>> {
        let ScalarValue::List(list) = scalar else {
            panic!("expected a list, got {scalar:?}");
        };
        assert_eq!(list.len(), 1);
        assert!(list.is_valid(0));
        list.value(0).as_primitive::<Int32Type>().iter().collect()
    }

    #[test]
    fn collect_list_skips_nulls_and_keeps_order() {
        let mut acc = CollectListAccumulator::new(DataType::Int32);
        acc.update_batch(&[ints(vec![Some(3), None, Some(1)])])
            .unwrap();
        acc.update_batch(&[ints(vec![Some(3)])]).unwrap();
        assert_eq!(
            list_values(acc.evaluate().unwrap()),
            [Some(3), Some(1), Some(3)]
        );
        assert_eq!(
            list_values(acc.evaluate().unwrap()),
            [Some(3), Some(1), Some(3)]
        );
    }

    #[test]
    fn empty_input_gives_an_empty_array() {
        let mut acc = CollectListAccumulator::new(DataType::Int32);
        acc.update_batch(&[ints(vec![None, None])]).unwrap();
        assert!(list_values(acc.evaluate().unwrap()).is_empty());
        let mut set = CollectSetAccumulator::try_new(DataType::Int32).unwrap();
        assert!(list_values(set.evaluate().unwrap()).is_empty());
    }

    #[test]
    fn partial_states_merge() {
        let mut left = CollectListAccumulator::new(DataType::Int32);
        left.update_batch(&[ints(vec![Some(1), Some(2)])]).unwrap();
        let mut right = CollectListAccumulator::new(DataType::Int32);
        right.update_batch(&[ints(vec![Some(3)])]).unwrap();
        let states: Vec<ScalarValue> = vec![
            left.state().unwrap().remove(0),
            right.state().unwrap().remove(0),
        ];
        let states = ScalarValue::iter_to_array(states).unwrap();
        let mut total = CollectListAccumulator::new(DataType::Int32);
        total.merge_batch(&[states]).unwrap();
        assert_eq!(
            list_values(total.evaluate().unwrap()),
            [Some(1), Some(2), Some(3)]
        );
    }

    #[test]
    fn collect_set_keeps_first_occurrences() {
        let mut acc = CollectSetAccumulator::try_new(DataType::Int32).unwrap();
        acc.update_batch(&[ints(vec![Some(2), Some(1), None, Some(2)])])
            .unwrap();
        acc.update_batch(&[ints(vec![Some(1), Some(5)])]).unwrap();
        assert_eq!(
            list_values(acc.evaluate().unwrap()),
            [Some(2), Some(1), Some(5)]
        );

        let state = ScalarValue::iter_to_array(acc.state().unwrap()).unwrap();
        let mut merged = CollectSetAccumulator::try_new(DataType::Int32).unwrap();
        merged
            .update_batch(&[ints(vec![Some(5), Some(7)])])
            .unwrap();
        merged.merge_batch(&[state]).unwrap();
        assert_eq!(
            list_values(merged.evaluate().unwrap()),
            [Some(5), Some(7), Some(2), Some(1)]
        );
    }
}
