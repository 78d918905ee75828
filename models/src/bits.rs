//! [`BitMatrix`]: the rows of binary vectors that models train on, score and sample.

use crate::error::{ModelError, Result};

/// Rows of `n` bits each, stored row-major as one contiguous `u8` per bit (0 or 1).
///
/// Every constructor checks the values, so the models' kernels read the bytes without checking
/// them again. Keep one and [`clear`](Self::clear) it between batches to reuse its allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitMatrix {
    n: usize,
    bits: Vec<u8>,
}

impl BitMatrix {
    /// An empty matrix of rows of length `n`.
    pub fn new(n: usize) -> Self {
        Self {
            n,
            bits: Vec::new(),
        }
    }

    /// An empty matrix of rows of length `n`, with room for `rows` rows.
    pub fn with_capacity(n: usize, rows: usize) -> Self {
        Self {
            n,
            bits: Vec::with_capacity(n.saturating_mul(rows)),
        }
    }

    /// A matrix over `bits` (row-major, `n` per row); errors on a ragged length or a non-bit.
    pub fn from_vec(n: usize, bits: Vec<u8>) -> Result<Self> {
        if n == 0 {
            if !bits.is_empty() {
                return Err(ModelError::WrongInputLength {
                    expected: 0,
                    found: bits.len(),
                });
            }
        } else if !bits.len().is_multiple_of(n) {
            return Err(ModelError::WrongInputLength {
                expected: n,
                found: bits.len() % n,
            });
        }
        check_bits(&bits, n)?;
        Ok(Self { n, bits })
    }

    /// A matrix of `rows` rows of zeros.
    pub fn zeros(n: usize, rows: usize) -> Self {
        Self {
            n,
            bits: vec![0; n.saturating_mul(rows)],
        }
    }

    /// Appends one row; errors if its length is not `n` or a value is not 0 or 1.
    pub fn push_row(&mut self, row: &[u8]) -> Result<()> {
        self.check_len(row.len())?;
        check_bits(row, self.n)?;
        self.bits.extend_from_slice(row);
        Ok(())
    }

    /// Appends one row of integers (`i8`, `i32`, `i64`, …) that must each be 0 or 1.
    pub fn push_row_values<T: Copy + Into<i64>>(&mut self, row: &[T]) -> Result<()> {
        self.check_len(row.len())?;
        for (position, &v) in row.iter().enumerate() {
            let value: i64 = v.into();
            if !(0..=1).contains(&value) {
                return Err(ModelError::NotABit { position, value });
            }
        }
        self.bits
            .extend(row.iter().map(|&v| u8::from(v.into() == 1)));
        Ok(())
    }

    /// Appends one row of booleans (`true` is 1).
    pub fn push_row_bools(&mut self, row: &[bool]) -> Result<()> {
        self.check_len(row.len())?;
        self.bits.extend(row.iter().map(|&b| u8::from(b)));
        Ok(())
    }

    /// Removes every row, keeping the allocation.
    pub fn clear(&mut self) {
        self.bits.clear();
    }

    /// The length of each row.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.bits.len().checked_div(self.n).unwrap_or(0)
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }

    /// Row `i` (0 or 1 per byte); panics if out of range, like slice indexing.
    pub fn row(&self, i: usize) -> &[u8] {
        &self.bits[i * self.n..(i + 1) * self.n]
    }

    /// All rows, row-major.
    pub fn as_slice(&self) -> &[u8] {
        &self.bits
    }

    /// The rows, one slice each.
    pub fn iter_rows(&self) -> impl ExactSizeIterator<Item = &[u8]> {
        // chunks_exact(0) panics; a zero-width matrix has no rows.
        self.bits.chunks_exact(self.n.max(1))
    }

    /// Consumes the matrix, giving its row-major bytes.
    pub fn into_vec(self) -> Vec<u8> {
        self.bits
    }

    /// Row-major bytes for crate kernels that write whole rows of valid bits.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.bits
    }

    fn check_len(&self, len: usize) -> Result<()> {
        if len == self.n {
            Ok(())
        } else {
            Err(ModelError::WrongInputLength {
                expected: self.n,
                found: len,
            })
        }
    }
}

/// Errors naming the first value of `bits` that is not 0 or 1 (its position within its row).
pub(crate) fn check_bits(bits: &[u8], n: usize) -> Result<()> {
    // The fast scan first; the position only on the error path.
    if bits.iter().fold(0u8, |acc, &b| acc | (b & !1)) == 0 {
        return Ok(());
    }
    let (i, &value) = bits
        .iter()
        .enumerate()
        .find(|&(_, &b)| b > 1)
        .unwrap_or((0, &0));
    Err(ModelError::NotABit {
        position: i % n.max(1),
        value: value.into(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn rows_are_checked() {
        let mut m = BitMatrix::new(3);
        m.push_row(&[0, 1, 1]).unwrap();
        m.push_row_values(&[1i32, 0, 1]).unwrap();
        m.push_row_bools(&[true, false, false]).unwrap();
        assert_eq!(m.rows(), 3);
        assert_eq!(m.row(1), &[1, 0, 1]);
        assert!(matches!(
            m.push_row(&[0, 1]),
            Err(ModelError::WrongInputLength {
                expected: 3,
                found: 2
            })
        ));
        assert!(matches!(
            m.push_row_values(&[0i32, 2, 0]),
            Err(ModelError::NotABit {
                position: 1,
                value: 2
            })
        ));
        assert!(matches!(
            m.push_row_values(&[0i8, 0, -1]),
            Err(ModelError::NotABit {
                position: 2,
                value: -1
            })
        ));
        assert!(matches!(
            BitMatrix::from_vec(2, vec![0, 1, 1, 7]),
            Err(ModelError::NotABit {
                position: 1,
                value: 7
            })
        ));
        assert!(BitMatrix::from_vec(2, vec![0, 1, 1]).is_err());
        assert_eq!(m.rows(), 3, "failed pushes leave the matrix as it was");
    }
}
