//! The seeded random numbers behind samples, completions and initial weights.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

/// The generator every sample and completion draws from: ChaCha8, portable and reproducible.
pub type SampleRng = ChaCha8Rng;

/// The generator of stream `stream` under `seed`: `sample(…, seed)` draws sample number `k`
/// from `sample_rng(seed, k)`, so a sample depends only on (model, temperature, seed, k) and
/// not on how the samples are split into batches or threads. Use distinct streams for
/// independent draws (for example one per completion of a `generate` row).
pub fn sample_rng(seed: u64, stream: u64) -> SampleRng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// A uniform draw from [0, 1) with 53 random bits.
#[inline]
pub(crate) fn uniform(rng: &mut dyn RngCore) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A uniform draw from [−scale, scale) in f32.
#[inline]
pub(crate) fn uniform_f32(rng: &mut dyn RngCore, scale: f32) -> f32 {
    let u = (rng.next_u32() >> 8) as f32 * (1.0 / (1u32 << 24) as f32);
    (2.0 * u - 1.0) * scale
}
