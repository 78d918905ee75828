//! `ngrams(sentences, n, k [, pf])` and `context_ngrams(sentences, context, k [, pf])`:
//! Hive's estimates of the top-k n-grams of arrays of words (or arrays of sentences, each an
//! array of words, as `sentences(...)` returns them).
//!
//! As Hive's `NGramEstimator`: counts are kept for at most 2·k·pf n-grams (pf at least
//! 1000 / k), trimmed to the k·pf most frequent when exceeded; the result is the k most
//! frequent, by frequency descending then by the words. Where Hive drops one of several
//! n-grams tied at the trimming edge by Java's hash order, Apiary drops the greatest by the
//! words. N-grams with a NULL word are skipped.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, ListArray, StringArray, StructArray,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::aggregate_doc_sections::DOC_SECTION_GENERAL;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, Signature, Volatility,
};

use super::args::constant_arg;
use crate::hive::{hive_arg_error, hive_doc};

/// Which of the two aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    NGrams,
    Context,
}

/// `ngrams(...)` or `context_ngrams(...)` →
/// `array<struct<ngram:array<string>, estfrequency:double>>`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct NGramsFunc {
    kind: Kind,
    signature: Signature,
}

impl NGramsFunc {
    /// `ngrams(expr, n, k [, pf])`.
    pub fn ngrams() -> Self {
        Self {
            kind: Kind::NGrams,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }

    /// `context_ngrams(expr, context, k [, pf])`.
    pub fn context_ngrams() -> Self {
        Self {
            kind: Kind::Context,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

static NGRAMS_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_GENERAL,
        "Estimates the top-k n-grams in rows that are arrays of words, or arrays of sentences \
         (arrays of words); pf is an optional precision factor that bounds memory use.",
        "ngrams(expr, n, k [, pf])",
        "SELECT ngrams(array(array('the', 'cat'), array('the', 'cat', 'sat')), 2, 1);\n\
         -- [{ngram: [the, cat], estfrequency: 2.0}]",
    )
});

static CONTEXT_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_GENERAL,
        "Estimates the top-k n-grams that fit the context: an array of words where each NULL \
         is a blank an n-gram word fills; pf is an optional precision factor.",
        "context_ngrams(expr, array(word1, NULL, ...), k [, pf])",
        "SELECT context_ngrams(array(array('the', 'cat'), array('the', 'dog')), array('the', NULL), 5);\n\
         -- [{ngram: [cat], estfrequency: 1.0}, {ngram: [dog], estfrequency: 1.0}]",
    )
});

fn struct_fields() -> Fields {
    Fields::from(vec![
        Field::new("ngram", DataType::new_list(DataType::Utf8, true), true),
        Field::new("estfrequency", DataType::Float64, true),
    ])
}

fn result_type() -> DataType {
    DataType::new_list(DataType::Struct(struct_fields()), true)
}

/// The state: the n-grams and their counts, as `array<string>` rows of n words then the
/// count's text (as Hive serializes them).
fn state_type() -> DataType {
    DataType::new_list(DataType::Utf8, true)
}

/// Whether a type is an array of strings (depth 1) or of arrays of strings (depth 2).
fn word_depth(data_type: &DataType) -> Option<usize> {
    match data_type {
        DataType::List(f) | DataType::LargeList(f) => match f.data_type() {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => Some(1),
            DataType::List(g) | DataType::LargeList(g)
                if matches!(
                    g.data_type(),
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null
                ) =>
            {
                Some(2)
            }
            _ => None,
        },
        _ => None,
    }
}

fn int_arg(name: &str, what: &str, args: &AccumulatorArgs, index: usize) -> Result<usize> {
    let value = constant_arg(name, args.exprs, index)?;
    match value.cast_to(&DataType::Int64) {
        Ok(ScalarValue::Int64(Some(v))) if v >= 1 => Ok(usize::try_from(v).unwrap_or(1)),
        _ => Err(hive_arg_error(
            name,
            format!("needs '{what}' to be at least 1, but you supplied {value}"),
        )),
    }
}

impl AggregateUDFImpl for NGramsFunc {
    fn name(&self) -> &str {
        match self.kind {
            Kind::NGrams => "ngrams",
            Kind::Context => "context_ngrams",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name();
        if !(3..=4).contains(&arg_types.len()) {
            return Err(hive_arg_error(
                name,
                format!("takes 3 or 4 arguments, got {}", arg_types.len()),
            ));
        }
        let words = match word_depth(&arg_types[0]) {
            Some(1) => DataType::new_list(DataType::Utf8, true),
            Some(_) => DataType::new_list(DataType::new_list(DataType::Utf8, true), true),
            None => {
                return Err(hive_arg_error(
                    name,
                    format!(
                        "only array<string> or array<array<string>> is allowed, but {} was \
                         passed as parameter 1",
                        arg_types[0]
                    ),
                ));
            }
        };
        let mut out = vec![words];
        for (i, t) in arg_types.iter().enumerate().skip(1) {
            if i == 1 && self.kind == Kind::Context {
                if word_depth(t) != Some(1) {
                    return Err(hive_arg_error(
                        name,
                        format!("the context must be an array of strings, got {t}"),
                    ));
                }
                out.push(DataType::new_list(DataType::Utf8, true));
            } else if t.is_integer() {
                out.push(DataType::Int64);
            } else {
                return Err(hive_arg_error(
                    name,
                    format!(
                        "only integers are accepted but {t} was passed as parameter {}",
                        i + 1
                    ),
                ));
            }
        }
        Ok(out)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(result_type())
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format_state_name(args.name, "ngrams"),
            state_type(),
            true,
        ))])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let name = self.name();
        let (n, context) = match self.kind {
            Kind::NGrams => (int_arg(name, "n", &args, 1)?, None),
            Kind::Context => {
                let value = constant_arg(name, args.exprs, 1)?;
                let context = context_words(name, &value)?;
                let blanks = context.iter().filter(|w| w.is_none()).count();
                if blanks == 0 {
                    return Err(hive_arg_error(
                        name,
                        "the context must contain at least one NULL (a blank for the n-gram)",
                    ));
                }
                (blanks, Some(context))
            }
        };
        let k = int_arg(name, "k", &args, 2)?;
        let pf = if args.exprs.len() > 3 {
            int_arg(name, "pf", &args, 3)?
        } else {
            1
        };
        Ok(Box::new(NGramsAccumulator {
            n,
            context,
            estimator: Estimator::new(k, pf),
        }))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(match self.kind {
            Kind::NGrams => &NGRAMS_DOC,
            Kind::Context => &CONTEXT_DOC,
        })
    }
}

/// The words of a constant context array (NULL for a blank).
fn context_words(name: &str, value: &ScalarValue) -> Result<Vec<Option<String>>> {
    let ScalarValue::List(list) = value else {
        return Err(hive_arg_error(
            name,
            format!("the context must be a constant array of strings, got {value}"),
        ));
    };
    if list.is_empty() || list.is_null(0) {
        return Err(hive_arg_error(name, "the context must not be NULL"));
    }
    let words = cast(&list.value(0), &DataType::Utf8)?;
    let words = words.as_string::<i32>();
    Ok(words.iter().map(|w| w.map(str::to_string)).collect())
}

/// Hive's `NGramEstimator`: counts of n-grams, trimmed to bound memory.
#[derive(Debug)]
struct Estimator {
    k: usize,
    pf: usize,
    counts: HashMap<Vec<String>, f64>,
}

impl Estimator {
    fn new(k: usize, pf: usize) -> Self {
        let pf = if k * pf < 1000 { 1000 / k } else { pf };
        Self {
            k,
            pf: pf.max(1),
            counts: HashMap::new(),
        }
    }

    fn add(&mut self, ngram: Vec<String>, count: f64) {
        *self.counts.entry(ngram).or_insert(0.0) += count;
        if self.counts.len() > self.k * self.pf * 2 {
            self.trim(self.k * self.pf);
        }
    }

    /// The n-grams by frequency descending, then by their words (Hive's final order).
    fn sorted(&self) -> Vec<(&Vec<String>, f64)> {
        let mut all: Vec<(&Vec<String>, f64)> = self.counts.iter().map(|(k, v)| (k, *v)).collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        all
    }

    /// Keeps the `keep` most frequent n-grams.
    fn trim(&mut self, keep: usize) {
        if self.counts.len() <= keep {
            return;
        }
        let drop: Vec<Vec<String>> = self
            .sorted()
            .into_iter()
            .skip(keep)
            .map(|(k, _)| k.clone())
            .collect();
        for key in drop {
            self.counts.remove(&key);
        }
    }
}

#[derive(Debug)]
struct NGramsAccumulator {
    n: usize,
    context: Option<Vec<Option<String>>>,
    estimator: Estimator,
}

impl NGramsAccumulator {
    fn add_sequence(&mut self, words: &[Option<&str>]) {
        match &self.context {
            None => {
                if words.len() < self.n {
                    return;
                }
                for window in words.windows(self.n) {
                    if let Some(ngram) = window
                        .iter()
                        .map(|w| w.map(str::to_string))
                        .collect::<Option<Vec<String>>>()
                    {
                        self.estimator.add(ngram, 1.0);
                    }
                }
            }
            Some(context) => {
                if words.len() < context.len() {
                    return;
                }
                let mut found = Vec::new();
                for window in words.windows(context.len()) {
                    let mut ngram = Vec::with_capacity(self.n);
                    let fits = window.iter().zip(context).all(|(w, c)| match (w, c) {
                        (Some(w), None) => {
                            ngram.push(w.to_string());
                            true
                        }
                        (Some(w), Some(c)) => *w == c.as_str(),
                        (None, _) => false,
                    });
                    if fits {
                        found.push(ngram);
                    }
                }
                for ngram in found {
                    self.estimator.add(ngram, 1.0);
                }
            }
        }
    }
}

/// The words of one array of strings.
fn words_of(array: &ArrayRef) -> Result<Vec<Option<String>>> {
    let words = cast(array, &DataType::Utf8)?;
    Ok(words
        .as_string::<i32>()
        .iter()
        .map(|w| w.map(str::to_string))
        .collect())
}

impl Accumulator for NGramsAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(rows) = values.first().and_then(|v| v.as_list_opt::<i32>()) else {
            return Err(hive_arg_error("ngrams", "expected an array argument"));
        };
        for r in 0..rows.len() {
            if rows.is_null(r) {
                continue;
            }
            let row = rows.value(r);
            let sentences: Vec<Vec<Option<String>>> = match row.as_list_opt::<i32>() {
                Some(inner) => (0..inner.len())
                    .filter(|&i| inner.is_valid(i))
                    .map(|i| words_of(&inner.value(i)))
                    .collect::<Result<_>>()?,
                None => vec![words_of(&row)?],
            };
            for sentence in sentences {
                let words: Vec<Option<&str>> = sentence.iter().map(|w| w.as_deref()).collect();
                self.add_sequence(&words);
            }
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let Some(lists) = states.first().and_then(|s| s.as_list_opt::<i32>()) else {
            return Err(hive_arg_error("ngrams", "malformed aggregate state"));
        };
        for r in 0..lists.len() {
            if lists.is_null(r) {
                continue;
            }
            let row = lists.value(r);
            let row = row.as_string::<i32>();
            let items: Vec<&str> = row.iter().map(|s| s.unwrap_or_default()).collect();
            for chunk in items.chunks_exact(self.n + 1) {
                let count = chunk[self.n].parse::<f64>().unwrap_or(0.0);
                let ngram = chunk[..self.n].iter().map(|w| w.to_string()).collect();
                self.estimator.add(ngram, count);
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let mut items: Vec<String> = Vec::new();
        for (ngram, count) in &self.estimator.counts {
            items.extend(ngram.iter().cloned());
            items.push(count.to_string());
        }
        let values = StringArray::from(items);
        let list = ListArray::new(
            Arc::new(Field::new_list_field(DataType::Utf8, true)),
            OffsetBuffer::from_lengths([values.len()]),
            Arc::new(values),
            None,
        );
        Ok(vec![ScalarValue::List(Arc::new(list))])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        self.estimator.trim(self.estimator.k);
        let top = self.estimator.sorted();
        if top.is_empty() {
            return ScalarValue::try_from(&result_type());
        }
        let words: Vec<&str> = top
            .iter()
            .flat_map(|(g, _)| g.iter().map(String::as_str))
            .collect();
        let words = StringArray::from(words);
        let ngrams = ListArray::try_new(
            Arc::new(Field::new_list_field(DataType::Utf8, true)),
            OffsetBuffer::from_lengths(top.iter().map(|(g, _)| g.len())),
            Arc::new(words),
            None,
        )?;
        let freqs = Float64Array::from_iter_values(top.iter().map(|(_, c)| *c));
        let structs = StructArray::try_new(
            struct_fields(),
            vec![Arc::new(ngrams) as ArrayRef, Arc::new(freqs) as ArrayRef],
            None,
        )?;
        let list = ListArray::try_new(
            Arc::new(Field::new_list_field(
                DataType::Struct(struct_fields()),
                true,
            )),
            OffsetBuffer::from_lengths([structs.len()]),
            Arc::new(structs),
            None,
        )?;
        Ok(ScalarValue::List(Arc::new(list)))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
            + self
                .estimator
                .counts
                .keys()
                .map(|k| k.iter().map(|w| w.len() + 24).sum::<usize>() + 32)
                .sum::<usize>()
    }
}
