//! The numerical building blocks of every model: exp, sigmoid and log-sigmoid written as plain
//! arithmetic that the compiler vectorises, and [`with_avx2!`] to compile a kernel twice.
//!
//! Everything here uses only `+ - * /`, fused multiply-add (`mul_add`, always rounded once),
//! `sqrt`, comparisons and bit operations on IEEE values, in a fixed order: results are the
//! same bit for bit on every x86-64 and AArch64 machine, whichever of the two compilations of a
//! kernel runs (no reordered sums, no platform `libm`; the few scalar logarithms go through the
//! pure-Rust `libm` crate). The price: on an x86-64 CPU without FMA (before 2013) the portable
//! copy computes each `mul_add` in software and is many times slower.

/// Defines a function whose body is compiled twice, for baseline x86-64 and for AVX2 with FMA,
/// and runs the AVX2 copy when the CPU has both. The body is generic over an [`Isa`] named in the
/// signature (`fn name<S>(…)`), through which it reaches the hand-written kernels
/// ([`Isa::dot`]); everything else it calls must be `#[inline(always)]` to be compiled with AVX2
/// as well. Both copies give identical results (see the module doc).
macro_rules! with_avx2 {
    ($(#[$meta:meta])* $vis:vis fn $name:ident<$isa:ident>($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn generic<$isa: $crate::math::Isa>($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                fn avx2($($arg: $ty),*) $(-> $ret)? {
                    generic::<$crate::math::Avx2>($($arg),*)
                }
                if $crate::math::has_avx2() {
                    // SAFETY: the running CPU supports AVX2 and FMA, checked on the line above.
                    return unsafe { avx2($($arg),*) };
                }
            }
            generic::<$crate::math::Portable>($($arg),*)
        }
    };
}
pub(crate) use with_avx2;

/// Whether `with_avx2!` functions run their AVX2 + FMA copy (tests can force the portable one).
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn has_avx2() -> bool {
    #[cfg(test)]
    if FORCE_PORTABLE.with(std::cell::Cell::get) {
        return false;
    }
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
}

#[cfg(test)]
thread_local! {
    /// Set by tests on their own thread to run the portable copy of every kernel.
    pub(crate) static FORCE_PORTABLE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The kernels that autovectorisation does not get right (reductions), per instruction set.
/// Every implementation gives the same bits: the same lanes, added in the same order.
pub(crate) trait Isa {
    /// Σ a_i b_i in f32: lane l of [`LANES`] partial sums takes the products i ≡ l mod LANES,
    /// the tail goes to the first lanes, and the lanes are summed by a fixed tree.
    fn dot(a: &[f32], b: &[f32]) -> f32;

    /// Σ_i log p(x_i) for independent bits with logits z: see [`bits_loglik`], whose lanes
    /// and order every implementation follows.
    fn bits_loglik(z: &[f32], x: &[u8]) -> f64;
}

/// Plain Rust, for any CPU.
pub(crate) struct Portable;

impl Isa for Portable {
    #[inline(always)]
    fn dot(a: &[f32], b: &[f32]) -> f32 {
        dot(a, b)
    }

    #[inline(always)]
    fn bits_loglik(z: &[f32], x: &[u8]) -> f64 {
        bits_loglik(z, x)
    }
}

/// AVX2 and FMA intrinsics; only instantiated inside `with_avx2!`'s AVX2 copy.
#[cfg(target_arch = "x86_64")]
pub(crate) struct Avx2;

#[cfg(target_arch = "x86_64")]
impl Isa for Avx2 {
    #[inline(always)]
    fn dot(a: &[f32], b: &[f32]) -> f32 {
        use std::arch::x86_64::{
            _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_setzero_ps, _mm256_storeu_ps,
        };
        let len = a.len().min(b.len());
        let full = len / LANES * LANES;
        let mut acc = [0.0f32; LANES];
        // SAFETY: `Avx2` is only used in code compiled for AVX2 and FMA and run after the CPU
        // was checked for both (`with_avx2!`); every load reads 8 floats inside a[..full] or
        // b[..full], every store writes 8 floats inside `acc`.
        unsafe {
            let (pa, pb) = (a.as_ptr(), b.as_ptr());
            let mut s = [_mm256_setzero_ps(); 4];
            let mut i = 0;
            while i < full {
                for (k, sk) in s.iter_mut().enumerate() {
                    let x = _mm256_loadu_ps(pa.add(i + 8 * k));
                    let y = _mm256_loadu_ps(pb.add(i + 8 * k));
                    *sk = _mm256_fmadd_ps(x, y, *sk);
                }
                i += LANES;
            }
            for (k, sk) in s.iter().enumerate() {
                _mm256_storeu_ps(acc.as_mut_ptr().add(8 * k), *sk);
            }
        }
        dot_finish(acc, &a[full..len], &b[full..len])
    }

    #[inline(always)]
    fn bits_loglik(z: &[f32], x: &[u8]) -> f64 {
        use std::arch::x86_64::{
            __m256d, _mm_cvtepu8_epi32, _mm_cvtsi32_si128, _mm_loadu_ps, _mm256_add_epi64,
            _mm256_add_pd, _mm256_blendv_pd, _mm256_castpd_si256, _mm256_castsi256_pd,
            _mm256_cvtepi32_pd, _mm256_cvtps_pd, _mm256_fmadd_pd, _mm256_max_pd, _mm256_mul_pd,
            _mm256_or_pd, _mm256_set_pd, _mm256_set1_epi64x, _mm256_set1_pd, _mm256_setzero_pd,
            _mm256_slli_epi64, _mm256_storeu_pd, _mm256_sub_pd,
        };
        /// lin and fac of 4 positions, as the portable loop's two lines compute them.
        #[inline(always)]
        fn four(z: __m256d, x: __m256d) -> (__m256d, __m256d) {
            // SAFETY: only reached from `Avx2::bits_loglik` (AVX2 and FMA checked).
            unsafe {
                let sign = _mm256_set1_pd(-0.0);
                let lin = _mm256_sub_pd(_mm256_mul_pd(z, x), _mm256_max_pd(z, _mm256_setzero_pd()));
                let neg_abs = _mm256_or_pd(z, sign);
                // exp_neg_f64, step by step.
                let v = _mm256_max_pd(neg_abs, _mm256_set1_pd(-700.0));
                let magic = _mm256_set1_pd(EXP_MAGIC);
                let t = _mm256_fmadd_pd(v, _mm256_set1_pd(std::f64::consts::LOG2_E), magic);
                let k = _mm256_sub_pd(t, magic);
                let r = _mm256_fmadd_pd(k, _mm256_set1_pd(-LN2_HI), v);
                let r = _mm256_fmadd_pd(k, _mm256_set1_pd(-LN2_LO), r);
                let c = |i: usize| _mm256_set1_pd(EXP_TAYLOR[i]);
                let pair = |a: usize| _mm256_fmadd_pd(c(a + 1), r, c(a));
                let r2 = _mm256_mul_pd(r, r);
                let r4 = _mm256_mul_pd(r2, r2);
                let r8 = _mm256_mul_pd(r4, r4);
                let p0_3 = _mm256_fmadd_pd(pair(2), r2, pair(0));
                let p4_7 = _mm256_fmadd_pd(pair(6), r2, pair(4));
                let p8_12 = _mm256_fmadd_pd(c(12), r4, _mm256_fmadd_pd(pair(10), r2, pair(8)));
                let p = _mm256_fmadd_pd(p8_12, r8, _mm256_fmadd_pd(p4_7, r4, p0_3));
                let bits = _mm256_slli_epi64(
                    _mm256_add_epi64(_mm256_castpd_si256(t), _mm256_set1_epi64x(1023)),
                    52,
                );
                let e = _mm256_mul_pd(p, _mm256_castsi256_pd(bits));
                (lin, _mm256_add_pd(_mm256_set1_pd(1.0), e))
            }
        }
        let n = z.len().min(x.len());
        let full = n / 8 * 8;
        let mut total = 0.0f64;
        let mut linear = [0.0f64; 8];
        // SAFETY: `Avx2` runs only on CPUs with AVX2 and FMA (`with_avx2!`); loads read 8
        // floats of z[..full] (two times 4), 4 bytes of x[..full] at a time, or the local
        // padded arrays; stores write into the local 8-lane arrays.
        unsafe {
            let (mut lin_a, mut lin_b) = (_mm256_setzero_pd(), _mm256_setzero_pd());
            let (mut prod_a, mut prod_b) = (_mm256_set1_pd(1.0), _mm256_set1_pd(1.0));
            let load_x4 = |p: *const u8| {
                let word = i32::from_le_bytes([*p, *p.add(1), *p.add(2), *p.add(3)]);
                _mm256_cvtepi32_pd(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(word)))
            };
            let flush = |total: &mut f64, pa: &mut __m256d, pb: &mut __m256d| {
                let mut p = [0.0f64; 8];
                _mm256_storeu_pd(p.as_mut_ptr(), *pa);
                _mm256_storeu_pd(p.as_mut_ptr().add(4), *pb);
                *total -= libm::log(product(&p));
                *pa = _mm256_set1_pd(1.0);
                *pb = _mm256_set1_pd(1.0);
            };
            let mut chunks = 0;
            let mut i = 0;
            while i < full {
                let za = _mm256_cvtps_pd(_mm_loadu_ps(z.as_ptr().add(i)));
                let zb = _mm256_cvtps_pd(_mm_loadu_ps(z.as_ptr().add(i + 4)));
                let (la, fa) = four(za, load_x4(x.as_ptr().add(i)));
                let (lb, fb) = four(zb, load_x4(x.as_ptr().add(i + 4)));
                lin_a = _mm256_add_pd(lin_a, la);
                lin_b = _mm256_add_pd(lin_b, lb);
                prod_a = _mm256_mul_pd(prod_a, fa);
                prod_b = _mm256_mul_pd(prod_b, fb);
                i += 8;
                chunks += 1;
                // 256 positions: 32 factors ≤ 2 per lane (as the portable 4 blocks of 64).
                if chunks == 32 {
                    flush(&mut total, &mut prod_a, &mut prod_b);
                    chunks = 0;
                }
            }
            if full < n {
                // The portable loop leaves a short block's missing lanes at 0 and 1.
                let mut zt = [0.0f32; 8];
                let mut xt = [0u8; 8];
                zt[..n - full].copy_from_slice(&z[full..n]);
                xt[..n - full].copy_from_slice(&x[full..n]);
                let live = |lane: usize| if lane < n - full { -1.0 } else { 0.0 };
                let mask_a = _mm256_set_pd(live(3), live(2), live(1), live(0));
                let mask_b = _mm256_set_pd(live(7), live(6), live(5), live(4));
                let za = _mm256_cvtps_pd(_mm_loadu_ps(zt.as_ptr()));
                let zb = _mm256_cvtps_pd(_mm_loadu_ps(zt.as_ptr().add(4)));
                let (la, fa) = four(za, load_x4(xt.as_ptr()));
                let (lb, fb) = four(zb, load_x4(xt.as_ptr().add(4)));
                let (zero, one) = (_mm256_setzero_pd(), _mm256_set1_pd(1.0));
                lin_a = _mm256_add_pd(lin_a, _mm256_blendv_pd(zero, la, mask_a));
                lin_b = _mm256_add_pd(lin_b, _mm256_blendv_pd(zero, lb, mask_b));
                prod_a = _mm256_mul_pd(prod_a, _mm256_blendv_pd(one, fa, mask_a));
                prod_b = _mm256_mul_pd(prod_b, _mm256_blendv_pd(one, fb, mask_b));
                chunks += 1;
            }
            if chunks > 0 {
                flush(&mut total, &mut prod_a, &mut prod_b);
            }
            _mm256_storeu_pd(linear.as_mut_ptr(), lin_a);
            _mm256_storeu_pd(linear.as_mut_ptr().add(4), lin_b);
        }
        finish_linear(total, linear)
    }
}

/// Lanes of the partial sums in [`Isa::dot`]: four AVX registers, so that four add chains
/// overlap.
const LANES: usize = 32;

/// e^x in f32, within about 2 ulp; `x` is clamped to [-87, 88] (results stay normal and finite).
#[inline(always)]
pub(crate) fn exp_f32(x: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0; // 1.5 · 2^23: adding it rounds to an integer
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = x.clamp(-87.0, 88.0);
    let t = x.mul_add(LOG2E, MAGIC);
    let k = t - MAGIC;
    let r = k.mul_add(-LN2_LO, k.mul_add(-LN2_HI, x));
    let z = r * r;
    // Cephes expf's minimax polynomial on |r| ≤ ln 2 / 2.
    let mut p = 1.987_569_2e-4f32.mul_add(r, 1.398_199_9e-3);
    p = p.mul_add(r, 8.333_452e-3);
    p = p.mul_add(r, 4.166_579_6e-2);
    p = p.mul_add(r, 1.666_666_5e-1);
    p = p.mul_add(r, 0.5);
    let p = p.mul_add(z, r) + 1.0;
    // 2^k from the low bits of t, which hold 2^22 + k.
    let scale = f32::from_bits(t.to_bits().wrapping_add(127) << 23);
    p * scale
}

/// The logistic function 1 / (1 + e^-x) in f32.
#[inline(always)]
pub(crate) fn sigmoid_f32(x: f32) -> f32 {
    1.0 / (1.0 + exp_f32(-x))
}

/// 1.5 · 2^52: adding it to a double rounds it to an integer.
const EXP_MAGIC: f64 = 6_755_399_441_055_744.0;
/// ln 2 in two parts (Cody & Waite), for exact k · ln 2 with |k| < 2^11.
const LN2_HI: f64 = 6.931_471_803_691_238e-1;
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
/// 1 / k! for k = 0 … 12.
const EXP_TAYLOR: [f64; 13] = [
    1.0,
    1.0,
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5_040.0,
    1.0 / 40_320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
    1.0 / 39_916_800.0,
    1.0 / 479_001_600.0,
];

/// e^x in f64 for x ≤ 0, within a few ulp; below -700 it returns e^-700.
#[inline(always)]
pub(crate) fn exp_neg_f64(x: f64) -> f64 {
    let x = x.max(-700.0);
    let t = x.mul_add(std::f64::consts::LOG2_E, EXP_MAGIC);
    let k = t - EXP_MAGIC;
    let r = k.mul_add(-LN2_LO, k.mul_add(-LN2_HI, x));
    // Taylor series to r^12 / 12! (error below 2e-16 relative for |r| ≤ ln 2 / 2), in
    // Estrin's scheme: a dependency chain of 5 multiply-adds instead of 12.
    let c = EXP_TAYLOR;
    let pair = |a: usize| c[a + 1].mul_add(r, c[a]);
    let r2 = r * r;
    let r4 = r2 * r2;
    let r8 = r4 * r4;
    let p0_3 = pair(2).mul_add(r2, pair(0));
    let p4_7 = pair(6).mul_add(r2, pair(4));
    let p8_12 = c[12].mul_add(r4, pair(10).mul_add(r2, pair(8)));
    let p = p8_12.mul_add(r8, p4_7.mul_add(r4, p0_3));
    // 2^k from the low bits of t, which hold 2^51 + k (k ≥ -1010 keeps the exponent positive).
    let scale = f64::from_bits(t.to_bits().wrapping_add(1023) << 52);
    p * scale
}

/// log σ(z) = log p(x = 1) for logit `z`, stable for any z; log σ(-z) is log p(x = 0).
pub fn log_sigmoid(z: f64) -> f64 {
    z.min(0.0) - libm::log1p(libm::exp(-z.abs()))
}

/// log p(x_i | x_<i) of bit `x` under logit `z`, computed as in [`log_sigmoid`].
#[inline]
pub(crate) fn log_prob_of_bit(z: f64, x: u8) -> f64 {
    if x == 1 {
        log_sigmoid(z)
    } else {
        log_sigmoid(-z)
    }
}

/// σ(z / T) in f64: the probability of a 1 under logit `z` at temperature `t`.
#[inline(always)]
pub(crate) fn prob_one(z: f64, t: f64) -> f64 {
    let z = z / t;
    let e = exp_neg_f64(-z.abs());
    if z >= 0.0 {
        1.0 / (1.0 + e)
    } else {
        e / (1.0 + e)
    }
}

/// Σ_i log p(x_i) for independent bits with logits `z` (f32, widened to f64): the exact
/// log-likelihood of a row once its conditional logits are known.
///
/// Each term is log σ(±z) = x·z − max(z, 0) − log(1 + e^−|z|). The logarithms of up to 256
/// consecutive terms are taken as one logarithm of their product (each factor lies in (1, 2],
/// so the product stays finite and exact to ~1e-14): one `log` per 256 positions instead of
/// one per position. Blocks of 64 positions go through two simple loops that vectorise.
#[inline(always)]
pub(crate) fn bits_loglik(z: &[f32], x: &[u8]) -> f64 {
    const BLOCK: usize = 64;
    const LANES: usize = 8;
    let mut linear = [0.0f64; LANES];
    let mut prod = [1.0f64; LANES];
    let mut total = 0.0f64;
    let mut blocks = 0;
    for (zb, xb) in z.chunks(BLOCK).zip(x.chunks(BLOCK)) {
        // A short last block leaves its tail neutral (0 and 1).
        let mut lin = [0.0f64; BLOCK];
        let mut fac = [1.0f64; BLOCK];
        for ((l, f), (&zi, &xi)) in lin.iter_mut().zip(fac.iter_mut()).zip(zb.iter().zip(xb)) {
            let zl = f64::from(zi);
            *l = zl * f64::from(xi) - if zl > 0.0 { zl } else { 0.0 };
            *f = 1.0 + exp_neg_f64(-zl.abs());
        }
        for (l8, f8) in lin.chunks_exact(LANES).zip(fac.chunks_exact(LANES)) {
            for k in 0..LANES {
                linear[k] += l8[k];
                prod[k] *= f8[k];
            }
        }
        blocks += 1;
        // 4 blocks: each lane holds 32 factors ≤ 2, all lanes together ≤ 2^256.
        if blocks == 4 {
            total -= libm::log(product(&prod));
            prod = [1.0; LANES];
            blocks = 0;
        }
    }
    if blocks > 0 {
        total -= libm::log(product(&prod));
    }
    finish_linear(total, linear)
}

/// total + the 8 linear lanes, summed by a fixed tree.
#[inline(always)]
fn finish_linear(total: f64, mut linear: [f64; 8]) -> f64 {
    let mut width = 4;
    while width > 0 {
        for k in 0..width {
            linear[k] += linear[k + width];
        }
        width /= 2;
    }
    total + linear[0]
}

/// The product of 8 lanes, in a fixed tree order.
#[inline(always)]
fn product(p: &[f64; 8]) -> f64 {
    ((p[0] * p[4]) * (p[1] * p[5])) * ((p[2] * p[6]) * (p[3] * p[7]))
}

/// Σ a_i b_i in f32 with [`LANES`] partial sums, added in a fixed order (see [`Isa::dot`]).
#[inline(always)]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let ac = a.chunks_exact(LANES);
    let bc = b.chunks_exact(LANES);
    let (ar, br) = (ac.remainder(), bc.remainder());
    for (x, y) in ac.zip(bc) {
        for l in 0..LANES {
            acc[l] = x[l].mul_add(y[l], acc[l]);
        }
    }
    dot_finish(acc, ar, br)
}

/// Adds the tail (fewer than [`LANES`] products) to the first lanes, then sums the lanes by a
/// fixed tree.
#[inline(always)]
fn dot_finish(mut acc: [f32; LANES], a: &[f32], b: &[f32]) -> f32 {
    for (l, (&x, &y)) in a.iter().zip(b).enumerate() {
        acc[l] = x.mul_add(y, acc[l]);
    }
    let mut width = LANES / 2;
    while width > 0 {
        for l in 0..width {
            acc[l] += acc[l + width];
        }
        width /= 2;
    }
    acc[0]
}

/// dst += src.
#[inline(always)]
pub(crate) fn add_assign(dst: &mut [f32], src: &[f32]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d += *s;
    }
}

/// dst += alpha · src (fused).
#[inline(always)]
pub(crate) fn add_scaled(dst: &mut [f32], alpha: f32, src: &[f32]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = alpha.mul_add(*s, *d);
    }
}

/// out_k = σ(a_k).
#[inline(always)]
pub(crate) fn sigmoid_into(a: &[f32], out: &mut [f32]) {
    for (o, &x) in out.iter_mut().zip(a) {
        *o = sigmoid_f32(x);
    }
}

with_avx2! {
    /// out_k = σ(a_k), for callers outside a `with_avx2!` kernel (the portable copy's
    /// `mul_add` is slow on a CPU without FMA).
    pub(crate) fn sigmoid_slice<S>(a: &[f32], out: &mut [f32]) {
        sigmoid_into(a, out);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn exp_f32_is_accurate() {
        let mut worst = 0.0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let want = f64::from(x).exp();
            let got = f64::from(exp_f32(x));
            worst = worst.max(((got - want) / want).abs());
            x += 0.001_37;
        }
        assert!(worst < 3e-7, "worst relative error {worst}");
        assert_eq!(exp_f32(-1000.0), exp_f32(-87.0));
        assert!(exp_f32(1000.0).is_finite());
    }

    #[test]
    fn exp_neg_f64_is_accurate() {
        let mut worst = 0.0f64;
        let mut x = 0.0f64;
        while x > -700.0 {
            let want = x.exp();
            worst = worst.max(((exp_neg_f64(x) - want) / want).abs());
            x -= 0.000_731;
        }
        assert!(worst < 1e-15, "worst relative error {worst}");
        assert_eq!(exp_neg_f64(0.0), 1.0);
        assert!(exp_neg_f64(f64::NEG_INFINITY) > 0.0);
    }

    #[test]
    fn bits_loglik_matches_log_sigmoid() {
        let z: Vec<f32> = (0..700)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.37)
            .collect();
        let x: Vec<u8> = (0..700).map(|i| u8::from(i % 3 == 0)).collect();
        let want: f64 = z
            .iter()
            .zip(&x)
            .map(|(&z, &x)| log_prob_of_bit(f64::from(z), x))
            .sum();
        let got = bits_loglik(&z, &x);
        assert!((got - want).abs() < 1e-11, "{got} vs {want}");
        // Normalised for one bit: p(1) + p(0) = 1 for any logit.
        for z in [-40.0f32, -3.5, -1e-3, 0.0, 0.7, 12.0, 80.0] {
            let s = bits_loglik(&[z], &[1]).exp() + bits_loglik(&[z], &[0]).exp();
            assert!((s - 1.0).abs() < 1e-15, "{z}: {s}");
        }
    }

    #[test]
    fn dot_and_sigmoid() {
        let a: Vec<f32> = (0..37).map(|i| i as f32 * 0.25).collect();
        let b: Vec<f32> = (0..37).map(|i| 1.0 - i as f32 * 0.125).collect();
        let want: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - want).abs() < 1e-3);
        assert!((sigmoid_f32(0.0) - 0.5).abs() < 1e-7);
        assert!((sigmoid_f32(2.0) - 0.880_797_1).abs() < 1e-6);
        assert!(sigmoid_f32(-200.0) >= 0.0 && sigmoid_f32(200.0) <= 1.0);
    }
}
