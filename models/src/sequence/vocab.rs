//! [`Vocab`]: how a sequence model's tokens map to the ids it computes with.
//!
//! Id 0 is the end token, which also starts every sequence (the model predicts the first
//! token from it). A character vocabulary has the unknown token at id 1 and the training
//! characters, in code-point order, from id 2; a token-id vocabulary maps the user's id k to
//! k + 1.

use crate::error::{ModelError, Result};

/// The id of the end (and start) token.
pub const END: u32 = 0;
/// The id of the unknown character (character vocabularies only).
pub const UNKNOWN: u32 = 1;
/// The largest vocabulary accepted (ids and characters alike).
pub const MAX_VOCAB: usize = 1 << 20;

/// What a sequence's tokens are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Vocab {
    /// The characters of a string; unknown characters map to [`UNKNOWN`].
    Chars(Vec<char>),
    /// Integer token ids 0..`size`; an id outside is an error.
    Ids(usize),
}

impl Vocab {
    /// The vocabulary of the characters in `rows`, in code-point order.
    pub fn from_strings<'a>(rows: impl IntoIterator<Item = &'a str>) -> Result<Self> {
        let mut seen = std::collections::BTreeSet::new();
        for row in rows {
            seen.extend(row.chars());
            if seen.len() > MAX_VOCAB {
                return Err(ModelError::BadInput(format!(
                    "the rows hold more than {MAX_VOCAB} distinct characters"
                )));
            }
        }
        Ok(Vocab::Chars(seen.into_iter().collect()))
    }

    /// The number of ids, the end token (and unknown token) included.
    pub fn len(&self) -> usize {
        match self {
            Vocab::Chars(c) => c.len() + 2,
            Vocab::Ids(n) => n + 1,
        }
    }

    /// Always false: every vocabulary has an end token.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Whether the tokens are characters.
    pub fn is_chars(&self) -> bool {
        matches!(self, Vocab::Chars(_))
    }

    /// The ids of a string's characters (unknown characters → [`UNKNOWN`]), appended to `out`.
    pub fn encode_str(&self, s: &str, out: &mut Vec<u32>) -> Result<()> {
        let Vocab::Chars(chars) = self else {
            return Err(ModelError::BadInput(
                "the model was trained on arrays of token ids, not strings".into(),
            ));
        };
        out.extend(s.chars().map(|c| match chars.binary_search(&c) {
            Ok(i) => i as u32 + 2,
            Err(_) => UNKNOWN,
        }));
        Ok(())
    }

    /// The ids of token ids, appended to `out`; an id outside the vocabulary is an error.
    pub fn encode_ids(&self, ids: &[i64], out: &mut Vec<u32>) -> Result<()> {
        let Vocab::Ids(size) = self else {
            return Err(ModelError::BadInput(
                "the model was trained on strings, not arrays of token ids".into(),
            ));
        };
        for (position, &id) in ids.iter().enumerate() {
            if id < 0 || id as u64 >= *size as u64 {
                return Err(ModelError::BadInput(format!(
                    "token id {id} at position {position} is outside the vocabulary (0 to {})",
                    size - 1
                )));
            }
            out.push(id as u32 + 1);
        }
        Ok(())
    }

    /// The character of an id; `None` for the end token, `'\u{FFFD}'` for the unknown one.
    pub fn char_of(&self, id: u32) -> Option<char> {
        match self {
            Vocab::Chars(chars) => match id {
                END => None,
                UNKNOWN => Some('\u{FFFD}'),
                i => chars.get(i as usize - 2).copied(),
            },
            Vocab::Ids(_) => None,
        }
    }

    /// The user's token id of an id; `None` for the end token.
    pub fn id_of(&self, id: u32) -> Option<i64> {
        match (self, id) {
            (_, END) => None,
            (Vocab::Chars(_), _) => Some(i64::from(id)),
            (Vocab::Ids(_), i) => Some(i64::from(i) - 1),
        }
    }

    /// The string of a sequence of character ids (ids of an id vocabulary are skipped).
    pub fn decode_str(&self, ids: &[u32]) -> String {
        ids.iter().filter_map(|&i| self.char_of(i)).collect()
    }

    /// Ids that sampling never draws: the unknown token of a character vocabulary.
    pub(crate) fn never_sampled(&self) -> Option<u32> {
        self.is_chars().then_some(UNKNOWN)
    }

    /// The vocabulary as stored: the characters as one string, or the id count.
    pub(crate) fn to_metadata(&self) -> (String, String) {
        match self {
            Vocab::Chars(c) => ("vocab_chars".into(), c.iter().collect()),
            Vocab::Ids(n) => ("vocab_size".into(), n.to_string()),
        }
    }

    /// The vocabulary from its stored form.
    pub(crate) fn from_metadata(chars: Option<&str>, size: Option<&str>) -> Result<Self> {
        match (chars, size) {
            (Some(s), None) => {
                let chars: Vec<char> = s.chars().collect();
                if !chars.windows(2).all(|w| w[0] < w[1]) {
                    return Err(ModelError::Corrupt(
                        "vocab_chars is not in code-point order".into(),
                    ));
                }
                Ok(Vocab::Chars(chars))
            }
            (None, Some(n)) => n
                .parse::<usize>()
                .ok()
                .filter(|&n| (1..=MAX_VOCAB).contains(&n))
                .map(Vocab::Ids)
                .ok_or_else(|| ModelError::Corrupt("vocab_size is not a valid size".into())),
            _ => Err(ModelError::Corrupt(
                "exactly one of vocab_chars and vocab_size must be stored".into(),
            )),
        }
    }
}
