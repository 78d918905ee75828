//! Table-generating functions (Hive's UDTFs): one input row in, zero or more rows out.
//!
//! Every generator, built in or user defined, implements [`Generator`]. The engine's single
//! `Generate` operator drives them batch by batch; it handles `LATERAL VIEW OUTER` (a
//! NULL-padded row for an input row that produced nothing) so that no generator has to.

mod explode;
mod inline;
mod json_tuple;
pub(crate) mod parse_url_tuple;
mod replicate_rows;
mod stack;

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, UInt32Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::Documentation;

pub use explode::{Explode, PosExplode};
pub use inline::Inline;
pub use json_tuple::JsonTuple;
pub use parse_url_tuple::ParseUrlTuple;
pub use replicate_rows::ReplicateRows;
pub use stack::Stack;

/// What the planner knows about one argument of a generator call.
#[derive(Debug, Clone)]
pub struct GeneratorArg {
    /// The argument's type (and nullability) after planning.
    pub field: FieldRef,
    /// The argument's value when it is a constant (a literal, possibly folded).
    pub literal: Option<ScalarValue>,
}

impl GeneratorArg {
    /// The argument's data type.
    pub fn data_type(&self) -> &DataType {
        self.field.data_type()
    }
}

/// Where a generator stopped inside a batch: the next input row, and how far into that
/// row's output it already got (for rows that yield more than one chunk).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GenerateCursor {
    /// Index of the next input row of the batch to generate from.
    pub row: usize,
    /// Number of output rows already produced for `row`.
    pub offset: usize,
}

/// One chunk of generated rows.
#[derive(Debug, Clone)]
pub struct GeneratedRows {
    /// For each output row, the index of the input row it came from, in non-decreasing order.
    pub row_ids: UInt32Array,
    /// The generated columns, one per output field, each `row_ids.len()` long.
    pub columns: Vec<ArrayRef>,
}

/// A table-generating function.
///
/// `output_fields` is called at plan time (type errors belong there); `generate` is called
/// repeatedly on the evaluated arguments of one input batch until the cursor passes the last
/// row. Each call returns at most `max_rows` rows, so one input row that explodes into
/// millions of values is streamed, never materialized whole.
pub trait Generator: Debug + Send + Sync {
    /// The SQL name, lower case.
    fn name(&self) -> &str;

    /// Usage, description and example, shown by `DESCRIBE FUNCTION` and `SHOW FUNCTIONS`.
    fn documentation(&self) -> &Documentation;

    /// The types the arguments must be cast to before `generate` sees them.
    /// The default accepts the arguments as they are.
    fn coerce_arguments(&self, args: &[GeneratorArg]) -> Result<Vec<DataType>> {
        Ok(args.iter().map(|a| a.data_type().clone()).collect())
    }

    /// The generated fields (Hive's default names) for arguments of these types.
    fn output_fields(&self, args: &[GeneratorArg]) -> Result<Vec<Field>>;

    /// Generates up to `max_rows` rows from `args` (each `num_rows` long), starting at
    /// `cursor` and advancing it. Done with the batch when `cursor.row >= num_rows`.
    fn generate(
        &self,
        args: &[ArrayRef],
        num_rows: usize,
        cursor: &mut GenerateCursor,
        max_rows: usize,
    ) -> Result<GeneratedRows>;
}

/// The generators Apiary ships, in the order `SHOW FUNCTIONS` lists them: the Hive ones,
/// then those of the other families (`rope_embed`).
pub fn all_generators() -> Vec<Arc<dyn Generator>> {
    let mut generators: Vec<Arc<dyn Generator>> = vec![
        Arc::new(Explode),
        Arc::new(PosExplode),
        Arc::new(Inline),
        Arc::new(Stack),
        Arc::new(JsonTuple),
        Arc::new(ParseUrlTuple),
        Arc::new(ReplicateRows),
    ];
    generators.extend(crate::position::all_generators());
    generators
}

/// Generators by (lower-case) name: the built-ins plus any the user registers.
#[derive(Debug, Clone)]
pub struct GeneratorRegistry {
    generators: BTreeMap<String, Arc<dyn Generator>>,
}

impl Default for GeneratorRegistry {
    fn default() -> Self {
        let mut registry = Self {
            generators: BTreeMap::new(),
        };
        for g in all_generators() {
            registry.register(g);
        }
        registry
    }
}

impl GeneratorRegistry {
    /// An empty registry (no built-ins).
    pub fn empty() -> Self {
        Self {
            generators: BTreeMap::new(),
        }
    }

    /// Adds or replaces a generator; returns the one it replaced.
    pub fn register(&mut self, generator: Arc<dyn Generator>) -> Option<Arc<dyn Generator>> {
        self.generators
            .insert(generator.name().to_ascii_lowercase(), generator)
    }

    /// The generator called `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Generator>> {
        self.generators.get(&name.to_ascii_lowercase())
    }

    /// True when `name` names a generator.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// All generators, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Generator>> {
        self.generators.values()
    }
}

/// Builds a generator's documentation in DataFusion's format.
pub(crate) fn generator_doc(description: &str, syntax: &str, example: &str) -> Documentation {
    Documentation::builder(
        datafusion::logical_expr::DocSection {
            include: true,
            label: "Generators (table-generating functions)",
            description: Some("Functions that turn one row into zero or more rows."),
        },
        description,
        syntax,
    )
    .with_sql_example(example)
    .build()
}

/// The error for a generator called with arguments it cannot take.
pub(crate) fn arg_error(
    name: &str,
    message: impl std::fmt::Display,
) -> datafusion::error::DataFusionError {
    datafusion::error::DataFusionError::Plan(format!("{name}: {message}"))
}

#[cfg(test)]
mod tests;

/// Row ids for generators that emit exactly one row per input row: the next
/// `min(max_rows, remaining)` rows from the cursor.
pub(crate) fn one_row_each(
    num_rows: usize,
    cursor: &mut GenerateCursor,
    max_rows: usize,
) -> (UInt32Array, std::ops::Range<usize>) {
    let start = cursor.row;
    let end = num_rows.min(start.saturating_add(max_rows.max(1)));
    cursor.row = end;
    cursor.offset = 0;
    ((start as u32..end as u32).collect(), start..end)
}

/// `array` as a Utf8 string array (Utf8View and LargeUtf8 are cast): the planner may settle
/// on a different string type after the generator checked its arguments.
pub(crate) fn utf8(array: &ArrayRef) -> Result<ArrayRef> {
    match array.data_type() {
        DataType::Utf8 => Ok(Arc::clone(array)),
        _ => Ok(datafusion::arrow::compute::cast(
            array.as_ref(),
            &DataType::Utf8,
        )?),
    }
}

/// Checks a `name(text, k1, ..., kn)` call: at least two arguments, all strings; asks for Utf8.
pub(crate) fn string_tuple_arguments(
    name: &str,
    usage: &str,
    args: &[GeneratorArg],
) -> Result<Vec<DataType>> {
    if args.len() < 2 {
        return Err(arg_error(
            name,
            format!("takes at least 2 arguments ({usage}), got {}", args.len()),
        ));
    }
    for (i, a) in args.iter().enumerate() {
        if !matches!(
            a.data_type(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null
        ) {
            return Err(arg_error(
                name,
                format!("argument {} must be a string, got {}", i + 1, a.data_type()),
            ));
        }
    }
    Ok(vec![DataType::Utf8; args.len()])
}

/// The string columns `c0 ... c(n-1)` of a `name(text, k1, ..., kn)` generator.
pub(crate) fn string_tuple_fields(args: &[GeneratorArg]) -> Vec<Field> {
    (1..args.len())
        .map(|i| Field::new(format!("c{}", i - 1), DataType::Utf8, true))
        .collect()
}

/// Generates for a `name(text, k1, ..., kn)` generator: one row per input row, column `i` is
/// `extract(parse(text), k_i)`. `parse` runs once per row; NULL text or key gives NULL.
pub(crate) fn string_tuple_generate<P>(
    args: &[ArrayRef],
    num_rows: usize,
    cursor: &mut GenerateCursor,
    max_rows: usize,
    parse: impl Fn(&str) -> Option<P>,
    extract: impl Fn(&P, &str) -> Option<String>,
) -> Result<GeneratedRows> {
    use datafusion::arrow::array::{Array, StringBuilder};
    use datafusion::common::cast::as_string_array;

    let (row_ids, rows) = one_row_each(num_rows, cursor, max_rows);
    let args = args.iter().map(utf8).collect::<Result<Vec<_>>>()?;
    let text = as_string_array(&args[0])?;
    let keys = args[1..]
        .iter()
        .map(|a| as_string_array(a))
        .collect::<Result<Vec<_>>>()?;
    let mut builders: Vec<StringBuilder> = keys.iter().map(|_| StringBuilder::new()).collect();
    for r in rows {
        let parsed = if text.is_valid(r) {
            parse(text.value(r))
        } else {
            None
        };
        for (b, k) in builders.iter_mut().zip(&keys) {
            b.append_option(match (&parsed, k.is_valid(r)) {
                (Some(p), true) => extract(p, k.value(r)),
                _ => None,
            });
        }
    }
    Ok(GeneratedRows {
        row_ids,
        columns: builders
            .into_iter()
            .map(|mut b| Arc::new(b.finish()) as ArrayRef)
            .collect(),
    })
}
