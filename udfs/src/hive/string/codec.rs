//! Hive's byte codecs: `base64` / `unbase64` (commons-codec's lenient decoder) and
//! `encode` / `decode` between strings and the bytes of a character set (Hive's are text
//! codecs; DataFusion's functions of these names are base64/hex encoders).

use std::sync::Arc;

use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::row_fn::{Arg, Out, Ret, RowFn, Val};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64(args: &[Val<'_>]) -> Result<Out> {
    let Val::B(bytes) = args[0] else {
        return Ok(Out::Null);
    };
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    Ok(Out::S(out))
}

fn base64_value(c: u8) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' | b'-' => 62,
        b'/' | b'_' => 63,
        _ => return None,
    } as u32)
}

fn unbase64(args: &[Val<'_>]) -> Result<Out> {
    let Some(s) = args[0].str() else {
        return Ok(Out::Null);
    };
    // commons-codec: characters outside the alphabet are skipped, '=' ends the input, and a
    // trailing partial group yields the whole bytes it holds.
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let mut acc = 0u32;
    let mut held = 0;
    for c in s.bytes() {
        if c == b'=' {
            break;
        }
        let Some(v) = base64_value(c) else { continue };
        acc = (acc << 6) | v;
        held += 1;
        if held == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            held = 0;
        }
    }
    match held {
        2 => out.push((acc >> 4) as u8),
        3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => {}
    }
    Ok(Out::B(out))
}

/// The character sets Hive documents for `encode` / `decode`, by Java's names and aliases.
#[derive(Clone, Copy)]
enum Charset {
    Utf8,
    Ascii,
    Latin1,
    Utf16,
    Utf16Be,
    Utf16Le,
}

fn charset(function: &str, name: &str) -> Result<Charset> {
    Ok(match name.to_ascii_uppercase().replace('_', "-").as_str() {
        "UTF-8" | "UTF8" => Charset::Utf8,
        "US-ASCII" | "ASCII" | "ISO646-US" => Charset::Ascii,
        "ISO-8859-1" | "ISO8859-1" | "LATIN1" | "ISO-LATIN-1" => Charset::Latin1,
        "UTF-16" | "UTF16" => Charset::Utf16,
        "UTF-16BE" | "UTF16BE" => Charset::Utf16Be,
        "UTF-16LE" | "UTF16LE" => Charset::Utf16Le,
        _ => {
            return exec_err!(
                "{function}: unsupported character set '{name}' (Apiary supports US-ASCII, \
                 ISO-8859-1, UTF-8, UTF-16BE, UTF-16LE and UTF-16)"
            );
        }
    })
}

fn encode(args: &[Val<'_>]) -> Result<Out> {
    let (Some(s), Some(name)) = (args[0].str(), args[1].str()) else {
        return Ok(Out::Null);
    };
    let unmappable = |c: char| exec_err!("encode: the character '{c}' cannot be encoded in {name}");
    Ok(Out::B(match charset("encode", name)? {
        Charset::Utf8 => s.as_bytes().to_vec(),
        Charset::Ascii | Charset::Latin1 => {
            let limit = if matches!(charset("encode", name)?, Charset::Ascii) {
                0x7F
            } else {
                0xFF
            };
            let mut out = Vec::with_capacity(s.len());
            for c in s.chars() {
                match u8::try_from(u32::from(c)) {
                    Ok(b) if u32::from(b) <= limit => out.push(b),
                    _ => return unmappable(c),
                }
            }
            out
        }
        Charset::Utf16 => [0xFE, 0xFF]
            .into_iter()
            .chain(s.encode_utf16().flat_map(u16::to_be_bytes))
            .collect(),
        Charset::Utf16Be => s.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        Charset::Utf16Le => s.encode_utf16().flat_map(u16::to_le_bytes).collect(),
    }))
}

fn decode_utf16(bytes: &[u8], little_endian: bool, name: &str) -> Result<String> {
    if !bytes.len().is_multiple_of(2) {
        return exec_err!("decode: the bytes are not valid {name} (odd length)");
    }
    let units = bytes.chunks_exact(2).map(|p| {
        if little_endian {
            u16::from_le_bytes([p[0], p[1]])
        } else {
            u16::from_be_bytes([p[0], p[1]])
        }
    });
    match String::from_utf16(&units.collect::<Vec<_>>()) {
        Ok(s) => Ok(s),
        Err(_) => exec_err!("decode: the bytes are not valid {name}"),
    }
}

fn decode(args: &[Val<'_>]) -> Result<Out> {
    let (Val::B(bytes), Some(name)) = (args[0], args[1].str()) else {
        return Ok(Out::Null);
    };
    Ok(Out::S(match charset("decode", name)? {
        Charset::Utf8 => match std::str::from_utf8(bytes) {
            Ok(s) => s.to_owned(),
            Err(e) => return exec_err!("decode: the bytes are not valid UTF-8: {e}"),
        },
        Charset::Ascii => {
            if let Some(b) = bytes.iter().find(|b| **b > 0x7F) {
                return exec_err!("decode: the byte {b:#04x} is not US-ASCII");
            }
            bytes.iter().map(|b| char::from(*b)).collect()
        }
        Charset::Latin1 => bytes.iter().map(|b| char::from(*b)).collect(),
        Charset::Utf16 => match bytes {
            [0xFE, 0xFF, rest @ ..] => decode_utf16(rest, false, name)?,
            [0xFF, 0xFE, rest @ ..] => decode_utf16(rest, true, name)?,
            _ => decode_utf16(bytes, false, name)?,
        },
        Charset::Utf16Be => decode_utf16(bytes, false, name)?,
        Charset::Utf16Le => decode_utf16(bytes, true, name)?,
    }))
}

/// This file's functions.
pub(crate) fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        RowFn::new("base64", &[Arg::Bin], (1, 1), Ret::Str, base64)
            .doc(
                "The base-64 text of a binary.",
                "base64(bin)",
                "SELECT base64(CAST('abc' AS BINARY));\n-- YWJj",
            )
            .udf(),
        RowFn::new("unbase64", &[Arg::Str], (1, 1), Ret::Bin, unbase64)
            .doc(
                "The bytes a base-64 text stands for (characters outside the alphabet are \
                 skipped).",
                "unbase64(str)",
                "SELECT unbase64('YWJj');\n-- abc as bytes",
            )
            .udf(),
        RowFn::new("encode", &[Arg::Str], (2, 2), Ret::Bin, encode)
            .doc(
                "The bytes of str in the character set charset (US-ASCII, ISO-8859-1, UTF-8, \
                 UTF-16BE, UTF-16LE, UTF-16).",
                "encode(str, charset)",
                "SELECT encode('abé', 'ISO-8859-1');\n-- the bytes 61 62 e9",
            )
            .udf(),
        RowFn::new("decode", &[Arg::Bin, Arg::Str], (2, 2), Ret::Str, decode)
            .doc(
                "The string that bin holds in the character set charset (US-ASCII, \
                 ISO-8859-1, UTF-8, UTF-16BE, UTF-16LE, UTF-16).",
                "decode(bin, charset)",
                "SELECT decode(encode('abé', 'UTF-16LE'), 'UTF-16LE');\n-- abé",
            )
            .udf(),
    ]
}
