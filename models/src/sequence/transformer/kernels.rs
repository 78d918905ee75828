//! The transformer's elementwise and per-row kernels: LayerNorm, GELU, causal attention with
//! its backward pass, and matrix–vector products for decoding one token at a time. Each is
//! compiled twice by `with_avx2!` (baseline and AVX2 + FMA).

use crate::math::{exp_f32, with_avx2};

/// LayerNorm's ε (PyTorch's default).
pub(crate) const LN_EPS: f32 = 1e-5;

/// erf(x/√2) and the standard normal density φ(x) = e^(−x²/2)/√(2π), sharing one exp
/// (Abramowitz & Stegun 7.1.26: |error| < 1.5e-7).
#[inline(always)]
fn erf_and_density(x: f32) -> (f32, f32) {
    const P: f32 = 0.327_591_1;
    const A: [f32; 5] = [
        0.254_829_6,
        -0.284_496_74,
        1.421_413_7,
        -1.453_152_1,
        1.061_405_4,
    ];
    let z = x.abs() * std::f32::consts::FRAC_1_SQRT_2;
    let t = 1.0 / P.mul_add(z, 1.0);
    let poly = A[4]
        .mul_add(t, A[3])
        .mul_add(t, A[2])
        .mul_add(t, A[1])
        .mul_add(t, A[0])
        * t;
    let e = exp_f32(-0.5 * x * x);
    let erf = (-poly).mul_add(e, 1.0);
    (
        if x < 0.0 { -erf } else { erf },
        e * 0.398_942_3, // 1/√(2π)
    )
}

/// Σ a_i b_i over short vectors (a head's dimension): eight partial sums, then a fixed tree.
#[inline(always)]
fn short_dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ac, bc) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ar, br) = (ac.remainder(), bc.remainder());
    for (x, y) in ac.zip(bc) {
        for l in 0..8 {
            acc[l] = x[l].mul_add(y[l], acc[l]);
        }
    }
    for (l, (&x, &y)) in ar.iter().zip(br).enumerate() {
        acc[l] = x.mul_add(y, acc[l]);
    }
    lanes_total(acc)
}

/// Σ x_i: eight partial sums, then a fixed tree.
#[inline(always)]
fn short_sum(x: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let c = x.chunks_exact(8);
    let r = c.remainder();
    for v in c {
        for l in 0..8 {
            acc[l] += v[l];
        }
    }
    for (l, &v) in r.iter().enumerate() {
        acc[l] += v;
    }
    lanes_total(acc)
}

#[inline(always)]
fn lanes_total(a: [f32; 8]) -> f32 {
    ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]))
}

with_avx2! {
    /// g = GELU(h) = h·Φ(h) (the exact form, PyTorch's `nn.GELU()`).
    pub(crate) fn gelu<S>(h: &[f32], g: &mut [f32]) {
        for (g, &x) in g.iter_mut().zip(h) {
            let (erf, _) = erf_and_density(x);
            *g = 0.5 * x * (1.0 + erf);
        }
    }
}

with_avx2! {
    /// d ← d · GELU′(h), GELU′(h) = Φ(h) + h·φ(h).
    pub(crate) fn gelu_back<S>(h: &[f32], d: &mut [f32]) {
        for (d, &x) in d.iter_mut().zip(h) {
            let (erf, density) = erf_and_density(x);
            *d *= x.mul_add(density, 0.5 * (1.0 + erf));
        }
    }
}

with_avx2! {
    /// LayerNorm of each row of `x` (width `d`): `xhat` = (x − mean)/√(var + ε), `rstd` =
    /// 1/√(var + ε) per row, `out` = xhat·w + b.
    pub(crate) fn layer_norm<S>(
        x: &[f32],
        d: usize,
        w: &[f32],
        b: &[f32],
        xhat: &mut [f32],
        rstd: &mut [f32],
        out: &mut [f32],
    ) {
        let rows = x.chunks_exact(d).zip(xhat.chunks_exact_mut(d)).zip(out.chunks_exact_mut(d));
        for (((x, xh), o), rs) in rows.zip(rstd.iter_mut()) {
            let mean = short_sum(x) / d as f32;
            for k in 0..d {
                xh[k] = x[k] - mean;
            }
            let var = short_dot(xh, xh) / d as f32;
            let r = 1.0 / (var + LN_EPS).sqrt();
            *rs = r;
            for k in 0..d {
                let h = xh[k] * r;
                xh[k] = h;
                o[k] = h.mul_add(w[k], b[k]);
            }
        }
    }
}

with_avx2! {
    /// LayerNorm's backward pass: `dx` += ∂L/∂x, `dw`, `db` += the weight and bias gradients,
    /// from `dout` = ∂L/∂out.
    pub(crate) fn layer_norm_back<S>(
        dout: &[f32],
        d: usize,
        w: &[f32],
        xhat: &[f32],
        rstd: &[f32],
        dw: &mut [f32],
        db: &mut [f32],
        dx: &mut [f32],
    ) {
        let rows = dout.chunks_exact(d).zip(xhat.chunks_exact(d)).zip(dx.chunks_exact_mut(d));
        for (((g, xh), dx), &r) in rows.zip(rstd) {
            let mut a1 = [0.0f32; 8];
            let mut a2 = [0.0f32; 8];
            for k in 0..d {
                let dxh = g[k] * w[k];
                a1[k % 8] += dxh;
                a2[k % 8] = dxh.mul_add(xh[k], a2[k % 8]);
                dw[k] = g[k].mul_add(xh[k], dw[k]);
                db[k] += g[k];
            }
            let (m1, m2) = (lanes_total(a1) / d as f32, lanes_total(a2) / d as f32);
            for k in 0..d {
                dx[k] += r * (g[k] * w[k] - m1 - xh[k] * m2);
            }
        }
    }
}

/// Where one head's rows sit in the packed q|k|v matrix.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeadSlots {
    /// Row stride of the q|k|v matrix (3·d_model).
    pub(crate) stride: usize,
    /// Offsets of this head's query, key and value within a row.
    pub(crate) q: usize,
    pub(crate) k: usize,
    pub(crate) v: usize,
    /// Head dimension.
    pub(crate) dim: usize,
}

impl HeadSlots {
    /// Head `h` of `d_model` = `d` split into heads of `dim`.
    pub(crate) fn new(d: usize, dim: usize, h: usize) -> Self {
        Self {
            stride: 3 * d,
            q: h * dim,
            k: d + h * dim,
            v: 2 * d + h * dim,
            dim,
        }
    }
}

/// Copies one head's keys (or values) of a sequence into `out` transposed, [dim × stride]
/// with `stride` = len rounded up to 8 and zeros after len, so that the scores of a query
/// against eight positions are one register of multiply-adds per dimension.
#[inline(always)]
fn transpose_head(
    qkv: &[f32],
    row_stride: usize,
    off: usize,
    dim: usize,
    len: usize,
    out: &mut [f32],
) {
    let stride = len.next_multiple_of(8);
    out.fill(0.0);
    for j in 0..len {
        let row = &qkv[j * row_stride + off..j * row_stride + off + dim];
        for (c, &x) in row.iter().enumerate() {
            out[c * stride + j] = x;
        }
    }
}

/// s[j] = Σ_c a[c] · t[c][j] for j < n (t from [`transpose_head`] for `len` positions).
#[inline(always)]
fn dots_transposed(a: &[f32], t: &[f32], len: usize, n: usize, s: &mut [f32]) {
    let stride = len.next_multiple_of(8);
    let mut j0 = 0;
    while j0 < n {
        let mut acc = [0.0f32; 8];
        for (c, &x) in a.iter().enumerate() {
            let col = &t[c * stride + j0..c * stride + j0 + 8];
            for l in 0..8 {
                acc[l] = x.mul_add(col[l], acc[l]);
            }
        }
        let take = (n - j0).min(8);
        s[j0..j0 + take].copy_from_slice(&acc[..take]);
        j0 += 8;
    }
}

/// out = Σ_j w[j] · rows[j] (row j at `j * stride + off`, `out.len()` values), eight
/// columns at a time in registers.
#[inline(always)]
fn weighted_rows(w: &[f32], rows: &[f32], stride: usize, off: usize, out: &mut [f32]) {
    let dim = out.len();
    let mut c0 = 0;
    while c0 + 8 <= dim {
        let mut acc = [0.0f32; 8];
        for (j, &wj) in w.iter().enumerate() {
            let r = &rows[j * stride + off + c0..j * stride + off + c0 + 8];
            for l in 0..8 {
                acc[l] = wj.mul_add(r[l], acc[l]);
            }
        }
        out[c0..c0 + 8].copy_from_slice(&acc);
        c0 += 8;
    }
    for c in c0..dim {
        let mut acc = 0.0f32;
        for (j, &wj) in w.iter().enumerate() {
            acc = wj.mul_add(rows[j * stride + off + c], acc);
        }
        out[c] = acc;
    }
}

/// p ← e^(p − max p) / Σ e^(p − max p), in place.
#[inline(always)]
fn softmax_in_place(p: &mut [f32]) {
    let max = p.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    for x in p.iter_mut() {
        *x = exp_f32(*x - max);
    }
    let inv = 1.0 / short_sum(p);
    for x in p.iter_mut() {
        *x *= inv;
    }
}

with_avx2! {
    /// Causal softmax attention of one head over one sequence of `len` positions: `probs`
    /// (len × len, zero above the diagonal) and the head's output rows in `y` (row stride
    /// `y_stride`, head offset `y_off`). `kt` is scratch of dim × len values.
    pub(crate) fn attend<S>(
        qkv: &[f32],
        slots: HeadSlots,
        len: usize,
        scale: f32,
        probs: &mut [f32],
        y: &mut [f32],
        y_stride: usize,
        y_off: usize,
        kt: &mut [f32],
    ) {
        let HeadSlots { stride, q, k, v, dim } = slots;
        transpose_head(qkv, stride, k, dim, len, kt);
        for i in 0..len {
            let qi = &qkv[i * stride + q..i * stride + q + dim];
            let p = &mut probs[i * len..(i + 1) * len];
            dots_transposed(qi, kt, len, i + 1, p);
            for pj in &mut p[..=i] {
                *pj *= scale;
            }
            softmax_in_place(&mut p[..=i]);
            p[i + 1..].fill(0.0);
            weighted_rows(
                &p[..=i],
                qkv,
                stride,
                v,
                &mut y[i * y_stride + y_off..i * y_stride + y_off + dim],
            );
        }
    }
}

with_avx2! {
    /// [`attend`]'s backward pass: from the head's output gradient rows in `dy`, adds
    /// ∂L/∂q, ∂L/∂k, ∂L/∂v into `dqkv` (laid out like `qkv`). `dp` is scratch of `len`
    /// values, `vt` of dim × len.
    pub(crate) fn attend_back<S>(
        qkv: &[f32],
        slots: HeadSlots,
        len: usize,
        scale: f32,
        probs: &[f32],
        dy: &[f32],
        dy_stride: usize,
        dy_off: usize,
        dqkv: &mut [f32],
        dp: &mut [f32],
        vt: &mut [f32],
    ) {
        let HeadSlots { stride, q, k, v, dim } = slots;
        transpose_head(qkv, stride, v, dim, len, vt);
        for i in 0..len {
            let dyi = &dy[i * dy_stride + dy_off..i * dy_stride + dy_off + dim];
            let p = &probs[i * len..(i + 1) * len];
            // dP_ij = dy_i · v_j; dv_j += P_ij dy_i.
            dots_transposed(dyi, vt, len, i + 1, dp);
            let mut weighted = 0.0f32;
            for j in 0..=i {
                weighted = p[j].mul_add(dp[j], weighted);
                let dvj = &mut dqkv[j * stride + v..j * stride + v + dim];
                for (o, &x) in dvj.iter_mut().zip(dyi) {
                    *o = p[j].mul_add(x, *o);
                }
            }
            // dS_ij = P_ij (dP_ij − Σ_j P_ij dP_ij), then through the scaled dot product.
            let qi0 = i * stride + q;
            for j in 0..=i {
                let ds = p[j] * (dp[j] - weighted) * scale;
                let kj0 = j * stride + k;
                for c in 0..dim {
                    dqkv[qi0 + c] = ds.mul_add(qkv[kj0 + c], dqkv[qi0 + c]);
                }
                for c in 0..dim {
                    dqkv[kj0 + c] = ds.mul_add(qkv[qi0 + c], dqkv[kj0 + c]);
                }
            }
        }
    }
}

with_avx2! {
    /// y = W·x + b for W stored [out, in] row-major (decoding one position).
    pub(crate) fn matvec<S>(w: &[f32], x: &[f32], b: &[f32], y: &mut [f32]) {
        let n = x.len();
        for ((o, row), &bias) in y.iter_mut().zip(w.chunks_exact(n)).zip(b) {
            *o = S::dot(row, x) + bias;
        }
    }
}

with_avx2! {
    /// One query against a cache of keys and values (`cached` positions, row stride
    /// `stride`, this head at offset `off`): the softmax weights in `scores`, the output in `y`.
    pub(crate) fn attend_one<S>(
        q: &[f32],
        keys: &[f32],
        values: &[f32],
        stride: usize,
        off: usize,
        cached: usize,
        scale: f32,
        scores: &mut [f32],
        y: &mut [f32],
    ) {
        let dim = q.len();
        for j in 0..cached {
            scores[j] = short_dot(q, &keys[j * stride + off..j * stride + off + dim]) * scale;
        }
        softmax_in_place(&mut scores[..cached]);
        weighted_rows(&scores[..cached], values, stride, off, y);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gelu_matches_erf_definition() {
        for i in -80..=80 {
            let x = i as f32 * 0.1;
            let mut g = [0.0];
            gelu(&[x], &mut g);
            let exact = 0.5 * x as f64 * (1.0 + libm::erf(x as f64 / std::f64::consts::SQRT_2));
            assert!(
                (g[0] as f64 - exact).abs() < 2e-6,
                "{x}: {} vs {exact}",
                g[0]
            );
            // The derivative against a central difference of the exact form.
            let f = |x: f64| 0.5 * x * (1.0 + libm::erf(x / std::f64::consts::SQRT_2));
            let numeric = (f(x as f64 + 1e-4) - f(x as f64 - 1e-4)) / 2e-4;
            let mut d = [1.0];
            gelu_back(&[x], &mut d);
            assert!((d[0] as f64 - numeric).abs() < 1e-5, "{x}");
        }
    }
}
