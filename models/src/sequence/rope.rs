//! RoPE inside attention: each head's query and key at position m are rotated pair by pair,
//! pair i by the angle m·θ_i with θ_i = base^(−2i/h) (h the head dimension), exactly the
//! rotation of the `rope(vec, pos, base, style)` SQL function applied to a vector of length h:
//! angles and their cos/sin in float64 (`libm`, the same bits everywhere), rounded to f32.
//! Then q·k depends on the two positions only through their offset.

use crate::sequence::options::RopeStyle;

/// Per-position cos/sin tables of one head dimension.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rope {
    half: usize,
    style: RopeStyle,
    /// cos(m·θ_i) at [m · half + i].
    cos: Vec<f32>,
    /// sin(m·θ_i) at [m · half + i].
    sin: Vec<f32>,
}

impl Rope {
    /// The tables for vectors of even length `dim` at positions 0..`positions`.
    pub(crate) fn new(dim: usize, base: f64, style: RopeStyle, positions: usize) -> Self {
        let half = dim / 2;
        let theta: Vec<f64> = (0..half)
            .map(|i| libm::pow(base, -(2.0 * i as f64) / dim as f64))
            .collect();
        let mut cos = Vec::with_capacity(positions * half);
        let mut sin = Vec::with_capacity(positions * half);
        for m in 0..positions {
            for &t in &theta {
                let (s, c) = libm::sincos(m as f64 * t);
                cos.push(c as f32);
                sin.push(s as f32);
            }
        }
        Self {
            half,
            style,
            cos,
            sin,
        }
    }

    /// Rotates `x` (one head's vector) to position `pos`; `inverse` rotates back (the
    /// transpose, which carries gradients through the rotation).
    #[inline]
    pub(crate) fn rotate(&self, x: &mut [f32], pos: usize, inverse: bool) {
        let h = self.half;
        let cos = &self.cos[pos * h..(pos + 1) * h];
        let sin = &self.sin[pos * h..(pos + 1) * h];
        let turn = |a: f32, b: f32, c: f32, s: f32| {
            let s = if inverse { -s } else { s };
            (a * c - b * s, a * s + b * c)
        };
        match self.style {
            RopeStyle::Interleaved => {
                for (i, pair) in x.chunks_exact_mut(2).enumerate() {
                    (pair[0], pair[1]) = turn(pair[0], pair[1], cos[i], sin[i]);
                }
            }
            RopeStyle::Half => {
                let (lo, hi) = x.split_at_mut(h);
                for i in 0..h {
                    (lo[i], hi[i]) = turn(lo[i], hi[i], cos[i], sin[i]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rotation_keeps_norms_relative_dots_and_inverts() {
        for style in [RopeStyle::Half, RopeStyle::Interleaved] {
            let rope = Rope::new(8, 10_000.0, style, 40);
            let q: Vec<f32> = (0..8).map(|i| (i as f32 * 0.37).sin()).collect();
            let k: Vec<f32> = (0..8).map(|i| (i as f32 * 0.91).cos()).collect();
            let dot_at = |m: usize, n: usize| {
                let (mut a, mut b) = (q.clone(), k.clone());
                rope.rotate(&mut a, m, false);
                rope.rotate(&mut b, n, false);
                a.iter().zip(&b).map(|(x, y)| x * y).sum::<f32>()
            };
            assert!((dot_at(3, 1) - dot_at(30, 28)).abs() < 1e-4);
            let mut x = q.clone();
            rope.rotate(&mut x, 17, false);
            rope.rotate(&mut x, 17, true);
            for (a, b) in x.iter().zip(&q) {
                assert!((a - b).abs() < 1e-6);
            }
        }
    }
}
