//! `rope_embed(model, seq)`: a transformer's token embeddings, each rotated by RoPE at its
//! position with the model's own base and style.
//!
//! The function library's `rope_embed` (token and vector forms) cannot see models, so the
//! session registers [`ModelRopeEmbed`] under the same name: a call whose first argument is
//! a string and whose second is a sequence (a `STRING` or an array — never the integer `dim`
//! of the token form) is the model form; every other call goes to the library's generator
//! unchanged. The model form's rows come from the library's own token path
//! ([`RopeEmbed::generate_tokens`]) with the model's embedding table as the
//! [`TokenVectors`] source, so `embedding` is exactly `rope(v, pos, base, style)` of the
//! token's embedding row v: position 0 (the first token) is v itself.

use std::sync::{Arc, LazyLock};

use apiary_models::{Model, SequenceModel, Vocab};
use apiary_udfs::generator::{GenerateCursor, GeneratedRows, Generator, GeneratorArg};
use apiary_udfs::position::{RopeEmbed, RopeStyle, Token, TokenVectors};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::Documentation;

use super::generators::{ModelContext, model_arg};
use super::sequences::{
    SeqKind, as_id_lists, check_input, input_description, model_kind, token_type,
};

const WHAT: &str = "rope_embed(model, seq)";

/// The library's documentation with the model form added.
static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    let library = RopeEmbed.documentation().clone();
    let description = format!(
        "{} rope_embed(model, seq) takes a transformer's name and a sequence of its input \
         kind (a STRING or an ARRAY of token ids) and returns pos, token and embedding = \
         rope(the model's embedding of the token, pos, the model's rope_base, its rope_style).",
        library.description
    );
    let syntax = format!("{} or rope_embed(model, seq)", library.syntax_example);
    let mut doc = Documentation::builder(library.doc_section, description, syntax);
    if let Some(example) = library.sql_example {
        doc = doc.with_sql_example(example);
    }
    doc.build()
});

/// `rope_embed`, with the model form added in front of the library's forms.
#[derive(Debug)]
pub struct ModelRopeEmbed {
    library: RopeEmbed,
    models: ModelContext,
}

impl ModelRopeEmbed {
    pub(crate) fn new(models: ModelContext) -> Self {
        Self {
            library: RopeEmbed,
            models,
        }
    }
}

/// Whether argument types `types` are the model form: a string, then a sequence.
fn is_model_form(types: &[&DataType]) -> bool {
    let string =
        |t: &DataType| matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
    let sequence = |t: &DataType| {
        string(t)
            || matches!(
                t,
                DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _)
            )
    };
    types.len() >= 2 && string(types[0]) && sequence(types[1])
}

/// The transformer a model-form call needs: a bigram or a binary model has no token
/// embeddings.
fn transformer<'a>(named: &str, model: &'a Model) -> Result<&'a SequenceModel> {
    let refuse = |what: String| {
        DataFusionError::Plan(format!(
            "{named}: {what}; rope_embed(model, seq) needs a transformer"
        ))
    };
    match model {
        Model::Binary(_) => Err(refuse(format!(
            "a {} model (it takes {}) has no token embeddings",
            model.model_type(),
            input_description(model)
        ))),
        Model::Sequence(seq) if seq.rope().is_err() => Err(refuse(format!(
            "a {} model has no token embeddings or RoPE",
            seq.model_type()
        ))),
        Model::Sequence(seq) => Ok(seq),
    }
}

/// The style of the `rope` function that is the model's.
fn rope_style(style: apiary_models::RopeStyle) -> RopeStyle {
    match style {
        apiary_models::RopeStyle::Interleaved => RopeStyle::Interleaved,
        apiary_models::RopeStyle::Half => RopeStyle::Half,
    }
}

/// A transformer's token-embedding table as a [`TokenVectors`] source: a character (of a
/// string model; an unknown one is the unknown token's row) or a token id (of an id model;
/// one outside the vocabulary is an error).
#[derive(Debug)]
pub struct ModelTokenVectors<'a> {
    model: &'a SequenceModel,
    /// The call and model, for errors.
    what: &'a str,
}

impl<'a> ModelTokenVectors<'a> {
    /// The embeddings of `model`; errors name `what`.
    pub fn new(model: &'a SequenceModel, what: &'a str) -> Self {
        Self { model, what }
    }

    fn id(&self, token: Token<'_>, ids: &mut Vec<u32>) -> Result<u32> {
        ids.clear();
        let vocab = self.model.vocab();
        let fail =
            |message: String| DataFusionError::Execution(format!("{}: {message}", self.what));
        match (token, vocab) {
            (Token::Text(s), Vocab::Chars(_)) => {
                vocab.encode_str(s, ids).map_err(|e| fail(e.to_string()))?;
                match ids.as_slice() {
                    [id] => Ok(*id),
                    _ => Err(fail(format!("the token '{s}' is not one character"))),
                }
            }
            (Token::Id(id), Vocab::Ids(n)) => {
                vocab.encode_ids(&[id], ids).map_err(|_| {
                    fail(format!(
                        "token id {id} is outside the vocabulary (0 to {})",
                        n.saturating_sub(1)
                    ))
                })?;
                ids.first()
                    .copied()
                    .ok_or_else(|| fail(format!("token id {id} has no embedding")))
            }
            (Token::Text(_), Vocab::Ids(_)) => {
                Err(fail("the model takes token ids, not strings".to_string()))
            }
            (Token::Id(_), Vocab::Chars(_)) => {
                Err(fail("the model takes strings, not token ids".to_string()))
            }
        }
    }
}

impl TokenVectors for ModelTokenVectors<'_> {
    fn dim(&self) -> usize {
        self.model.options().d_model
    }

    fn append_vectors(&self, tokens: &[Token<'_>], out: &mut Vec<f32>) -> Result<()> {
        out.reserve(tokens.len() * self.dim());
        let mut ids = Vec::with_capacity(4);
        for &token in tokens {
            let id = self.id(token, &mut ids)?;
            let row = self
                .model
                .token_embedding(id)
                .map_err(|e| DataFusionError::Execution(format!("{}: {e}", self.what)))?;
            out.extend_from_slice(row);
        }
        Ok(())
    }
}

/// The model form's rows for a batch: `sequences` is the `seq` argument.
pub fn model_rows(
    model: &SequenceModel,
    what: &str,
    sequences: &ArrayRef,
    num_rows: usize,
    cursor: &mut GenerateCursor,
    max_rows: usize,
) -> Result<GeneratedRows> {
    let (base, style) = model
        .rope()
        .map_err(|e| DataFusionError::Plan(format!("{what}: {e}")))?;
    let sequences: ArrayRef = match model_kind(model) {
        SeqKind::Chars => Arc::clone(sequences),
        SeqKind::Ids => Arc::new(as_id_lists(what, sequences)?),
    };
    RopeEmbed::generate_tokens(
        &ModelTokenVectors::new(model, what),
        base,
        rope_style(style),
        &sequences,
        num_rows,
        cursor,
        max_rows,
    )
}

impl Generator for ModelRopeEmbed {
    fn name(&self) -> &str {
        self.library.name()
    }

    fn documentation(&self) -> &Documentation {
        &DOC
    }

    fn coerce_arguments(&self, args: &[GeneratorArg]) -> Result<Vec<DataType>> {
        let types: Vec<&DataType> = args.iter().map(GeneratorArg::data_type).collect();
        if !is_model_form(&types) {
            return self.library.coerce_arguments(args);
        }
        Ok(types
            .iter()
            .enumerate()
            .map(|(i, t)| match t {
                DataType::LargeUtf8 | DataType::Utf8View => DataType::Utf8,
                DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _)
                    if i == 1 && super::sequences::seq_kind(t).is_some() =>
                {
                    DataType::new_list(DataType::Int64, true)
                }
                t => (*t).clone(),
            })
            .collect())
    }

    fn output_fields(&self, args: &[GeneratorArg]) -> Result<Vec<Field>> {
        let types: Vec<&DataType> = args.iter().map(GeneratorArg::data_type).collect();
        if !is_model_form(&types) {
            return self.library.output_fields(args);
        }
        if args.len() != 2 {
            return Err(DataFusionError::Plan(format!(
                "{WHAT} takes 2 arguments (a model, then a STRING or an ARRAY of token ids), got \
                 {}",
                args.len()
            )));
        }
        let (loaded, named) = self.models.model(WHAT, &model_arg(WHAT, args)?)?;
        let model = loaded.model.as_ref();
        let seq = transformer(&named, model)?;
        check_input(&named, model, seq, types[1])?;
        Ok(vec![
            Field::new("pos", DataType::Int32, true),
            Field::new("token", token_type(model_kind(seq)), true),
            Field::new(
                "embedding",
                DataType::new_list(DataType::Float32, true),
                true,
            ),
        ])
    }

    fn generate(
        &self,
        args: &[ArrayRef],
        num_rows: usize,
        cursor: &mut GenerateCursor,
        max_rows: usize,
    ) -> Result<GeneratedRows> {
        let types: Vec<&DataType> = args.iter().map(|a| a.data_type()).collect();
        if !is_model_form(&types) {
            return self.library.generate(args, num_rows, cursor, max_rows);
        }
        let (model, named) = self.models.batch_model(WHAT, args)?;
        let seq = transformer(&named, &model)?;
        check_input(&named, &model, seq, types[1])?;
        model_rows(seq, &named, &args[1], num_rows, cursor, max_rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apiary_models::{NoProgress, SequenceOptions, TrainingRows, train_sequences};
    use datafusion::arrow::array::{Array, AsArray, Int64Array, ListArray, StringArray};
    use datafusion::arrow::datatypes::{Float32Type, Int64Type};

    fn tiny(rows: TrainingRows, extra: &[(&str, &str)]) -> Result<Model> {
        let pairs: Vec<(String, String)> = [
            ("steps", "2"),
            ("d_model", "8"),
            ("heads", "2"),
            ("mlp", "8"),
            ("layers", "1"),
            ("context", "8"),
            ("validation_fraction", "0"),
        ]
        .iter()
        .chain(extra)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let options = SequenceOptions::from_options("transformer", &pairs)
            .map_err(|e| DataFusionError::Plan(e.to_string()))?;
        train_sequences(&options, &rows, &mut NoProgress)
            .map(|(m, _)| m)
            .map_err(|e| DataFusionError::Plan(e.to_string()))
    }

    fn embedding(rows: &GeneratedRows, i: usize) -> Vec<f32> {
        let list = rows.columns[2].as_list::<i32>();
        list.value(i)
            .as_primitive::<Float32Type>()
            .values()
            .to_vec()
    }

    #[test]
    fn position_zero_is_the_token_embedding_and_unknown_characters_have_one() -> Result<()> {
        let model = tiny(TrainingRows::Strings(vec!["ab".into(), "ba".into()]), &[])?;
        let seq = model
            .as_sequence()
            .map_err(|e| DataFusionError::Plan(e.to_string()))?;
        let strings: ArrayRef = Arc::new(StringArray::from(vec![Some("ba"), None, Some("ü")]));
        let mut cursor = GenerateCursor::default();
        let rows = model_rows(seq, "f", &strings, 3, &mut cursor, 100)?;
        assert_eq!(cursor.row, 3);
        assert_eq!(rows.row_ids.values().to_vec(), vec![0, 0, 2]);
        let tokens = rows.columns[1].as_string::<i32>();
        assert_eq!(
            tokens.iter().collect::<Vec<_>>(),
            vec![Some("b"), Some("a"), Some("ü")]
        );
        let id_of = |s: &str| -> Result<u32> {
            seq.encode_str(s)
                .map_err(|e| DataFusionError::Plan(e.to_string()))
                .map(|ids| ids[0])
        };
        let raw = |id: u32| -> Result<Vec<f32>> {
            seq.token_embedding(id)
                .map(<[f32]>::to_vec)
                .map_err(|e| DataFusionError::Plan(e.to_string()))
        };
        // Position 0: no rotation at all.
        assert_eq!(embedding(&rows, 0), raw(id_of("b")?)?);
        assert_eq!(embedding(&rows, 2), raw(apiary_models::UNKNOWN)?);
        // Position 1 is rotated: same norm, another vector.
        let a = raw(id_of("a")?)?;
        let rotated = embedding(&rows, 1);
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm(&a) - norm(&rotated)).abs() < 1e-5);
        assert_ne!(a, rotated);
        Ok(())
    }

    #[test]
    fn id_models_take_ids_in_their_vocabulary() -> Result<()> {
        let model = tiny(
            TrainingRows::Ids(vec![vec![0, 1, 2], vec![2, 1]]),
            &[("vocab_size", "4")],
        )?;
        let seq = model
            .as_sequence()
            .map_err(|e| DataFusionError::Plan(e.to_string()))?;
        let ids: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
            Some(vec![Some(3), Some(0)]),
        ]));
        let mut cursor = GenerateCursor::default();
        let rows = model_rows(seq, "f", &ids, 1, &mut cursor, 100)?;
        let tokens: &Int64Array = rows.columns[1].as_primitive();
        assert_eq!(tokens.values().to_vec(), vec![3, 0]);
        // User id k is model id k + 1.
        let raw = seq
            .token_embedding(4)
            .map_err(|e| DataFusionError::Plan(e.to_string()))?;
        assert_eq!(embedding(&rows, 0), raw);

        let bad: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
            Some(vec![Some(4)]),
        ]));
        let err = model_rows(seq, "f", &bad, 1, &mut GenerateCursor::default(), 100)
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("f: token id 4 is outside the vocabulary (0 to 3)")),
            "{err:?}"
        );
        assert_eq!(bad.len(), 1);
        Ok(())
    }

    #[test]
    fn the_forms_are_told_apart_by_the_second_argument() {
        let list = DataType::new_list(DataType::Int64, true);
        assert!(is_model_form(&[&DataType::Utf8, &DataType::Utf8]));
        assert!(is_model_form(&[&DataType::Utf8, &list]));
        // rope_embed(word, 8): the token form's dim.
        assert!(!is_model_form(&[&DataType::Utf8, &DataType::Int64]));
        assert!(!is_model_form(&[&list, &DataType::Int64]));
        assert!(!is_model_form(&[&DataType::Utf8]));
    }
}
