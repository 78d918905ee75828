//! `aes_encrypt(input, key)` and `aes_decrypt(input, key)`: AES in ECB mode with PKCS#5
//! padding (Java's `AES/ECB/PKCS5Padding`, which Hive uses). The key is a string's UTF-8 bytes
//! or a binary of 16, 24 or 32 bytes (AES-128/192/256); another length, a NULL argument or (for
//! decryption) input that does not decrypt gives NULL.

use std::sync::{Arc, LazyLock};

use aes::cipher::{BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use aes::{Aes128, Aes192, Aes256, Block};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BinaryArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_OTHER;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::digest::is_binary;
use crate::hive::{evaluate_rowwise, hive_arg_error, hive_doc};

const BLOCK: usize = 16;

/// An AES cipher of one of the three key lengths.
enum Cipher {
    Aes128(Box<Aes128>),
    Aes192(Box<Aes192>),
    Aes256(Box<Aes256>),
}

impl Cipher {
    /// The cipher for `key`, or `None` when its length is not 16, 24 or 32 bytes.
    fn new(key: &[u8]) -> Option<Self> {
        Some(match key.len() {
            16 => Cipher::Aes128(Box::new(Aes128::new_from_slice(key).ok()?)),
            24 => Cipher::Aes192(Box::new(Aes192::new_from_slice(key).ok()?)),
            32 => Cipher::Aes256(Box::new(Aes256::new_from_slice(key).ok()?)),
            _ => return None,
        })
    }

    fn encrypt(&self, block: &mut Block) {
        match self {
            Cipher::Aes128(c) => c.encrypt_block(block),
            Cipher::Aes192(c) => c.encrypt_block(block),
            Cipher::Aes256(c) => c.encrypt_block(block),
        }
    }

    fn decrypt(&self, block: &mut Block) {
        match self {
            Cipher::Aes128(c) => c.decrypt_block(block),
            Cipher::Aes192(c) => c.decrypt_block(block),
            Cipher::Aes256(c) => c.decrypt_block(block),
        }
    }
}

/// ECB encryption with PKCS#5 padding (always 1 to 16 bytes of padding).
fn encrypt(cipher: &Cipher, input: &[u8]) -> Vec<u8> {
    let pad = BLOCK - input.len() % BLOCK;
    let mut data = input.to_vec();
    data.extend(std::iter::repeat_n(pad as u8, pad));
    for chunk in data.chunks_exact_mut(BLOCK) {
        let mut block = Block::default();
        block.copy_from_slice(chunk);
        cipher.encrypt(&mut block);
        chunk.copy_from_slice(&block);
    }
    data
}

/// ECB decryption; `None` when the input is not whole blocks or the padding is wrong.
fn decrypt(cipher: &Cipher, input: &[u8]) -> Option<Vec<u8>> {
    if input.is_empty() || !input.len().is_multiple_of(BLOCK) {
        return None;
    }
    let mut data = input.to_vec();
    for chunk in data.chunks_exact_mut(BLOCK) {
        let mut block = Block::default();
        block.copy_from_slice(chunk);
        cipher.decrypt(&mut block);
        chunk.copy_from_slice(&block);
    }
    let pad = usize::from(*data.last()?);
    if pad == 0
        || pad > BLOCK
        || data[data.len() - pad..]
            .iter()
            .any(|&b| usize::from(b) != pad)
    {
        return None;
    }
    data.truncate(data.len() - pad);
    Some(data)
}

/// `aes_encrypt` or `aes_decrypt`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct AesFunc {
    decrypts: bool,
    signature: Signature,
}

impl AesFunc {
    fn new(decrypts: bool) -> Self {
        Self {
            decrypts,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }

    /// Creates `aes_encrypt`.
    pub fn encrypt() -> Self {
        Self::new(false)
    }

    /// Creates `aes_decrypt`.
    pub fn decrypt() -> Self {
        Self::new(true)
    }
}

static ENCRYPT_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_OTHER,
        "Encrypts input using AES (ECB mode, PKCS#5 padding). The key is 128, 192 or 256 bits \
         (a string or binary of 16, 24 or 32 bytes); another length or a NULL argument gives \
         NULL.",
        "aes_encrypt(input string/binary, key string/binary)",
        "SELECT base64(aes_encrypt('ABC', '1234567890123456'));\n-- y6Ss+zCYObpCbgfWfyNWTw==",
    )
});

static DECRYPT_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_OTHER,
        "Decrypts input using AES (ECB mode, PKCS#5 padding). The key is 128, 192 or 256 bits; \
         another length, a NULL argument or input that does not decrypt with the key gives \
         NULL.",
        "aes_decrypt(input binary, key string/binary)",
        "SELECT aes_decrypt(unbase64('y6Ss+zCYObpCbgfWfyNWTw=='), '1234567890123456');\n-- ABC",
    )
});

/// The input and key types: strings and binaries as `Binary` (a string's UTF-8 bytes).
fn binary_type(name: &str, what: &str, data_type: &DataType, strings: bool) -> Result<DataType> {
    match data_type {
        t if is_binary(t) || t.is_null() => Ok(DataType::Binary),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View if strings => {
            Ok(DataType::Binary)
        }
        DataType::Dictionary(_, value) => binary_type(name, what, value, strings),
        t => Err(hive_arg_error(
            name,
            format!(
                "the {what} must be {}, got {t}",
                if strings {
                    "a string or binary"
                } else {
                    "a binary"
                }
            ),
        )),
    }
}

impl ScalarUDFImpl for AesFunc {
    fn name(&self) -> &str {
        if self.decrypts {
            "aes_decrypt"
        } else {
            "aes_encrypt"
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [input, key] => Ok(vec![
                binary_type(self.name(), "input", input, !self.decrypts)?,
                binary_type(self.name(), "key", key, true)?,
            ]),
            _ => Err(hive_arg_error(
                self.name(),
                format!("takes 2 arguments (input, key), got {}", arg_types.len()),
            )),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Binary)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let decrypts = self.decrypts;
        evaluate_rowwise(&args.args, |columns| {
            let [input, key] = columns else {
                return Err(hive_arg_error("aes_encrypt", "takes 2 arguments"));
            };
            let input = cast(input, &DataType::Binary)?;
            let key = cast(key, &DataType::Binary)?;
            let (input, key) = (input.as_binary::<i32>(), key.as_binary::<i32>());
            let mut cached: Option<(Vec<u8>, Option<Cipher>)> = None;
            let mut out: Vec<Option<Vec<u8>>> = Vec::with_capacity(input.len());
            for row in 0..input.len() {
                if input.is_null(row) || key.is_null(row) {
                    out.push(None);
                    continue;
                }
                let k = key.value(row);
                if cached
                    .as_ref()
                    .is_none_or(|(cached_key, _)| cached_key.as_slice() != k)
                {
                    cached = Some((k.to_vec(), Cipher::new(k)));
                }
                let cipher = cached.as_ref().and_then(|(_, c)| c.as_ref());
                out.push(cipher.and_then(|c| {
                    if decrypts {
                        decrypt(c, input.value(row))
                    } else {
                        Some(encrypt(c, input.value(row)))
                    }
                }));
            }
            Ok(Arc::new(BinaryArray::from_iter(out)) as ArrayRef)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(if self.decrypts {
            &DECRYPT_DOC
        } else {
            &ENCRYPT_DOC
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_wrong_keys() {
        let cipher = Cipher::new(b"1234567890123456").unwrap_or_else(|| unreachable!());
        let sealed = encrypt(&cipher, b"ABC");
        assert_eq!(sealed.len(), 16);
        assert_eq!(decrypt(&cipher, &sealed).as_deref(), Some(&b"ABC"[..]));
        assert_eq!(encrypt(&cipher, b"").len(), 16);
        assert!(Cipher::new(b"12345").is_none());
        assert!(decrypt(&cipher, b"garbage").is_none());
    }
}
