//! Hive's `rand([seed])`: a double in [0, 1) per row, from Java's `java.util.Random`, so that
//! `rand(seed)` gives Hive's very sequence (`rand(0)` is 0.730967787376657 on the first row).
//! As in Hive, where every mapper starts its own generator, the sequence starts again for
//! each batch of rows; without a seed the generator is seeded from the clock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{ArrayRef, Float64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_MATH;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};

use super::super::{hive_arg_error, hive_doc};

/// `rand([seed])`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct RandFunc {
    signature: Signature,
}

impl Default for RandFunc {
    fn default() -> Self {
        Self {
            signature: Signature::one_of(
                vec![
                    TypeSignature::Nullary,
                    TypeSignature::Exact(vec![DataType::Int64]),
                ],
                Volatility::Volatile,
            ),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_MATH,
        "rand([seed]) - Returns a pseudorandom number between 0 and 1 (Java's Random, \
         deterministic for a seed)",
        "rand([seed])",
        "SELECT rand(0); -- 0.730967787376657",
    )
});

/// Java's `java.util.Random` (a 48-bit linear congruential generator).
pub(super) struct JavaRandom {
    seed: u64,
}

const MULTIPLIER: u64 = 0x5_DEEC_E66D;
const MASK: u64 = (1 << 48) - 1;

impl JavaRandom {
    /// `new Random(seed)`.
    pub(super) fn new(seed: i64) -> Self {
        Self {
            seed: (seed as u64 ^ MULTIPLIER) & MASK,
        }
    }

    fn next(&mut self, bits: u32) -> u64 {
        self.seed = (self.seed.wrapping_mul(MULTIPLIER).wrapping_add(0xB)) & MASK;
        self.seed >> (48 - bits)
    }

    /// `nextDouble()`.
    pub(super) fn next_double(&mut self) -> f64 {
        let high = self.next(26) << 27;
        let low = self.next(27);
        (high + low) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

static UNSEEDED: AtomicU64 = AtomicU64::new(0);

fn clock_seed() -> i64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    (nanos ^ UNSEEDED.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)) as i64
}

impl ScalarUDFImpl for RandFunc {
    fn name(&self) -> &str {
        "rand"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let seed = match args.args.first() {
            None => clock_seed(),
            Some(ColumnarValue::Scalar(ScalarValue::Int64(Some(s)))) => *s,
            // Hive reads a NULL seed as 0.
            Some(ColumnarValue::Scalar(_)) => 0,
            Some(ColumnarValue::Array(_)) => {
                return Err(hive_arg_error("rand", "the seed must be a constant"));
            }
        };
        let mut random = JavaRandom::new(seed);
        let out: Float64Array = (0..args.number_rows)
            .map(|_| Some(random.next_double()))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out) as ArrayRef))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}

#[cfg(test)]
mod tests {
    use super::JavaRandom;

    #[test]
    fn java_sequence() {
        assert_eq!(JavaRandom::new(0).next_double(), 0.730967787376657);
        assert_eq!(JavaRandom::new(1).next_double(), 0.7308781907032909);
        assert_eq!(JavaRandom::new(42).next_double(), 0.7275636800328681);
    }
}
