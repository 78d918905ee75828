//! Hive's `sentences(str[, lang[, country]])`: the sentences of a text, each an array of its
//! words, split as Java's `BreakIterator` (the JDK's rule-based sentence and word iterators)
//! splits English text; only words starting with a letter or a digit are kept.
//!
//! Sentences end after `!` or `?` (with closing quotes and spaces), and after `.` followed by
//! spaces and a character that is not a lower-case letter. A word is letters joined by single
//! `- ' " . _` characters, digits joined by `, . ' "`, and such runs of letters and numbers
//! next to each other; a number may end with `%`. A word that starts with a currency sign or
//! `#` (`$5`, `#1`) is dropped, as Java's iterator makes it one word starting with the sign.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, ListBuilder, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_STRING;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::super::{evaluate_rowwise, hive_arg_error, hive_doc};

fn is_letter(c: char) -> bool {
    c.is_alphabetic()
}

fn is_closing(c: char) -> bool {
    matches!(c, '"' | '\'' | ')' | ']' | '}' | '»' | '’' | '”')
}

/// The sentences of `text`, as byte ranges.
fn split_sentences(text: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].1;
        let terminator = matches!(c, '!' | '?');
        let period = c == '.';
        if !(terminator || period) {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < chars.len() && matches!(chars[j].1, '!' | '?' | '.') {
            j += 1;
        }
        let all_periods = chars[i..j].iter().all(|(_, c)| *c == '.');
        while j < chars.len() && is_closing(chars[j].1) {
            j += 1;
        }
        let spaces_start = j;
        while j < chars.len() && chars[j].1.is_whitespace() {
            j += 1;
        }
        let end = chars.get(j).map_or(text.len(), |(b, _)| *b);
        let breaks =
            j >= chars.len() || !all_periods || (j > spaces_start && !chars[j].1.is_lowercase());
        if breaks {
            out.push(&text[start..end]);
            start = end;
        }
        i = j.max(i + 1);
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

fn is_currency(c: char) -> bool {
    matches!(c, '$' | '£' | '¥' | '€' | '¢' | '₹' | '₩' | '#')
}

/// The words of one sentence that start with a letter or a digit.
fn words(sentence: &str) -> Vec<String> {
    let chars: Vec<char> = sentence.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let starts_with_sign =
            is_currency(c) && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit());
        if !(is_letter(c) || c.is_numeric() || starts_with_sign) {
            i += 1;
            continue;
        }
        let start = i;
        if starts_with_sign {
            i += 1;
        }
        // Alternating runs of letters and numbers, each with its joiners.
        while let Some(&c) = chars.get(i) {
            if is_letter(c) {
                while i < chars.len() {
                    let joined = matches!(chars[i], '-' | '\'' | '"' | '.' | '_' | '\u{00AD}')
                        && chars.get(i + 1).is_some_and(|n| is_letter(*n));
                    if is_letter(chars[i]) || is_mark(chars[i]) || joined {
                        i += 1;
                    } else {
                        break;
                    }
                }
            } else if c.is_numeric() {
                while i < chars.len() {
                    let joined = matches!(chars[i], ',' | '.' | '\'' | '"')
                        && chars.get(i + 1).is_some_and(|n| n.is_numeric());
                    if chars[i].is_numeric() || joined {
                        i += 1;
                    } else {
                        break;
                    }
                }
                if chars.get(i).is_some_and(|c| matches!(c, '%' | '‰')) {
                    i += 1;
                    break;
                }
            } else {
                break;
            }
        }
        if !starts_with_sign {
            out.push(chars[start..i].iter().collect());
        }
    }
    out
}

fn is_mark(c: char) -> bool {
    // Combining marks stay with the letter before them.
    ('\u{0300}'..='\u{036F}').contains(&c)
}

fn sentences_columns(columns: &[ArrayRef]) -> Result<ArrayRef> {
    let Some(texts) = columns.first().and_then(|c| c.as_string_opt::<i32>()) else {
        return exec_err!("sentences: the text must be a string");
    };
    let mut builder = ListBuilder::new(ListBuilder::new(StringBuilder::new()));
    for row in 0..texts.len() {
        if texts.is_null(row) {
            builder.append(false);
            continue;
        }
        for sentence in split_sentences(texts.value(row)) {
            let inner = builder.values();
            for word in words(sentence) {
                inner.values().append_value(word);
            }
            inner.append(true);
        }
        builder.append(true);
    }
    Ok(Arc::new(builder.finish()))
}

/// `sentences(str[, lang[, country]])` → `array<array<string>>`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct SentencesFunc {
    signature: Signature,
    doc: Documentation,
}

fn return_type() -> DataType {
    DataType::new_list(DataType::new_list(DataType::Utf8, true), true)
}

impl ScalarUDFImpl for SentencesFunc {
    fn name(&self) -> &str {
        "sentences"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.is_empty() || arg_types.len() > 3 {
            return Err(hive_arg_error(
                "sentences",
                format!("takes 1 to 3 arguments, got {}", arg_types.len()),
            ));
        }
        Ok(vec![DataType::Utf8; arg_types.len()])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(return_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        // The language and country choose Java's locale; the rules above are the English ones.
        evaluate_rowwise(&args.args, sentences_columns)
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.doc)
    }
}

/// This file's functions.
pub(crate) fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![Arc::new(ScalarUDF::from(SentencesFunc {
        signature: Signature::user_defined(Volatility::Immutable),
        doc: hive_doc(
            DOC_SECTION_STRING,
            "Splits a natural-language text into sentences, each an array of words (English \
             rules; lang and country are accepted).",
            "sentences(str[, lang[, country]])",
            "SELECT sentences('Hello there! How are you?');\n-- [[Hello, there], [How, are, you]]",
        ),
    }))]
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn s(text: &str) -> Vec<Vec<String>> {
        split_sentences(text).into_iter().map(words).collect()
    }

    #[test]
    fn splits_as_java_break_iterator_does() {
        assert_eq!(
            s("Hello there! How are you?"),
            [vec!["Hello", "there"], vec!["How", "are", "you"]]
        );
        assert_eq!(s("one two. three"), [vec!["one", "two", "three"]]);
        assert_eq!(
            s("Über café naïve 42 3,000 a.b c_d"),
            [vec!["Über", "café", "naïve", "42", "3,000", "a.b", "c_d"]]
        );
        assert_eq!(s("U.S.A. is big"), [vec!["U.S.A", "is", "big"]]);
        assert_eq!(
            s("$5 and 50% off #1 e-mail"),
            [vec!["and", "50%", "off", "e-mail"]]
        );
        assert_eq!(s("a.\nb"), [vec!["a", "b"]]);
        assert_eq!(
            s("Hi!Bye. \"Yes.\" No"),
            [vec!["Hi"], vec!["Bye"], vec!["Yes"], vec!["No"]]
        );
        assert_eq!(
            s("Hi, Im here... OK?! \"quoted\" text (paren) end"),
            [
                vec!["Hi", "Im", "here"],
                vec!["OK"],
                vec!["quoted", "text", "paren", "end"]
            ]
        );
        assert!(s("").is_empty());
    }
}
