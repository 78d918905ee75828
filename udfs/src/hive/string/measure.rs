//! Hive's functions that measure or code single characters: `length` / `char_length` /
//! `character_length` (characters; bytes of a binary), `octet_length`, `ascii`, `chr`,
//! `soundex` (commons-codec's) and `levenshtein` (commons-lang's).

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use super::row_fn::{Arg, Out, Ret, RowFn, Val};

fn length(args: &[Val<'_>]) -> Result<Out> {
    Ok(match args[0] {
        Val::S(s) => Out::I(s.chars().count() as i64),
        Val::B(b) => Out::I(b.len() as i64),
        _ => Out::Null,
    })
}

fn octet_length(args: &[Val<'_>]) -> Result<Out> {
    Ok(match args[0] {
        Val::S(s) => Out::I(s.len() as i64),
        Val::B(b) => Out::I(b.len() as i64),
        _ => Out::Null,
    })
}

fn ascii(args: &[Val<'_>]) -> Result<Out> {
    // Hive: the first byte of the UTF-8 text, as a signed byte.
    Ok(args[0].str().map_or(Out::Null, |s| {
        Out::I(s.as_bytes().first().map_or(0, |b| i64::from(*b as i8)))
    }))
}

fn chr(args: &[Val<'_>]) -> Result<Out> {
    let Some(n) = args[0].int() else {
        return Ok(Out::Null);
    };
    if n < 0 {
        return Ok(Out::S(String::new()));
    }
    let code = u32::try_from(n % 256).unwrap_or(0);
    Ok(Out::S(
        char::from_u32(code).map(String::from).unwrap_or_default(),
    ))
}

/// commons-codec's American soundex code of an upper-case ASCII letter.
fn soundex_code(c: char) -> Option<char> {
    let i = (c as u32).checked_sub('A' as u32)? as usize;
    b"01230120022455012623010202".get(i).map(|b| *b as char)
}

fn soundex(args: &[Val<'_>]) -> Result<Out> {
    let Some(s) = args[0].str() else {
        return Ok(Out::Null);
    };
    let letters: Vec<char> = s
        .chars()
        .filter(|c| c.is_alphabetic())
        .flat_map(char::to_uppercase)
        .collect();
    let Some(&first) = letters.first() else {
        return Ok(Out::S(String::new()));
    };
    // Hive's Soundex (commons-codec) refuses a letter outside A-Z, and Hive answers NULL.
    let code_at = |i: usize| -> Option<char> {
        let c = letters[i];
        let mapped = soundex_code(c)?;
        // Letters separated by H or W with the same code are coded once.
        if i > 1 && mapped != '0' {
            let before = letters[i - 1];
            if before == 'H' || before == 'W' {
                let before2 = letters[i - 2];
                if soundex_code(before2) == Some(mapped) || before2 == 'H' || before2 == 'W' {
                    return Some('\0');
                }
            }
        }
        Some(mapped)
    };
    let mut out = vec![first, '0', '0', '0'];
    let Some(mut last) = code_at(0) else {
        return Ok(Out::Null);
    };
    let mut count = 1;
    let mut i = 1;
    while i < letters.len() && count < 4 {
        let Some(mapped) = code_at(i) else {
            return Ok(Out::Null);
        };
        i += 1;
        if mapped != '\0' {
            if mapped != '0' && mapped != last {
                out[count] = mapped;
                count += 1;
            }
            last = mapped;
        }
    }
    Ok(Out::S(out.into_iter().collect()))
}

fn levenshtein(args: &[Val<'_>]) -> Result<Out> {
    let (Some(a), Some(b)) = (args[0].str(), args[1].str()) else {
        return Ok(Out::Null);
    };
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    Ok(Out::I(previous[b.len()] as i64))
}

/// This file's functions.
pub(crate) fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        RowFn::new("length", &[Arg::StrOrBin], (1, 1), Ret::Int32, length)
            .aliases(&["char_length", "character_length"])
            .doc(
                "The number of characters in str (of bytes in a binary).",
                "length(str | bin)",
                "SELECT length('Facebook');\n-- 8",
            )
            .udf(),
        RowFn::new(
            "octet_length",
            &[Arg::StrOrBin],
            (1, 1),
            Ret::Int32,
            octet_length,
        )
        .doc(
            "The number of bytes of str in UTF-8 (of a binary).",
            "octet_length(str | bin)",
            "SELECT octet_length('abé');\n-- 4",
        )
        .udf(),
        RowFn::new("ascii", &[Arg::Str], (1, 1), Ret::Int32, ascii)
            .doc(
                "The first byte of str's UTF-8 encoding, as a signed number (0 for '').",
                "ascii(str)",
                "SELECT ascii('222');\n-- 50",
            )
            .udf(),
        RowFn::new("chr", &[Arg::Int], (1, 1), Ret::Str, chr)
            .doc(
                "The character whose code is n mod 256 ('' when n is negative).",
                "chr(n)",
                "SELECT chr(88);\n-- X",
            )
            .udf(),
        RowFn::new("soundex", &[Arg::Str], (1, 1), Ret::Str, soundex)
            .doc(
                "The American soundex code of str.",
                "soundex(str)",
                "SELECT soundex('Miller');\n-- M460",
            )
            .udf(),
        RowFn::new("levenshtein", &[Arg::Str], (2, 2), Ret::Int32, levenshtein)
            .doc(
                "The Levenshtein (edit) distance between two strings.",
                "levenshtein(str1, str2)",
                "SELECT levenshtein('kitten', 'sitting');\n-- 3",
            )
            .udf(),
    ]
}
