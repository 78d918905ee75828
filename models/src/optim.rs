//! AdamW (Loshchilov & Hutter), as PyTorch's `torch.optim.AdamW` computes it.

use std::ops::Range;

use crate::math::with_avx2;

/// β1, β2 and ε of every training run.
const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPS: f32 = 1e-8;

/// The optimiser's moments, one pair per parameter.
pub(crate) struct AdamW {
    m: Vec<f32>,
    v: Vec<f32>,
    /// β1^t and β2^t after t steps (products, not `powi`, for the same bits everywhere).
    beta1_t: f64,
    beta2_t: f64,
}

impl AdamW {
    /// Zero moments for `len` parameters.
    pub(crate) fn new(len: usize) -> Self {
        Self {
            m: vec![0.0; len],
            v: vec![0.0; len],
            beta1_t: 1.0,
            beta2_t: 1.0,
        }
    }

    /// One step: θ ← θ(1 − lr·wd) on the `decayed` ranges, then
    /// θ ← θ − lr/(1−β1^t) · m / (√v/√(1−β2^t) + ε).
    pub(crate) fn step_ranges(
        &mut self,
        params: &mut [f32],
        grad: &[f32],
        lr: f64,
        weight_decay: f64,
        decayed: &[Range<usize>],
    ) {
        self.beta1_t *= BETA1;
        self.beta2_t *= BETA2;
        let bc1 = 1.0 - self.beta1_t;
        let bc2 = 1.0 - self.beta2_t;
        if weight_decay > 0.0 {
            let keep = (1.0 - lr * weight_decay) as f32;
            for range in decayed {
                for p in &mut params[range.clone()] {
                    *p *= keep;
                }
            }
        }
        adam_update(
            params,
            grad,
            &mut self.m,
            &mut self.v,
            (lr / bc1) as f32,
            (1.0 / bc2.sqrt()) as f32,
        );
    }
}

with_avx2! {
    /// The moment updates and the parameter step, elementwise.
    fn adam_update<S>(
        params: &mut [f32],
        grad: &[f32],
        m: &mut [f32],
        v: &mut [f32],
        step_size: f32,
        inv_sqrt_bc2: f32,
    ) {
        let (b1, b2) = (BETA1 as f32, BETA2 as f32);
        for (((p, &g), m), v) in params.iter_mut().zip(grad).zip(m.iter_mut()).zip(v.iter_mut()) {
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * (g * g);
            *p -= step_size * *m / (v.sqrt() * inv_sqrt_bc2 + EPS);
        }
    }
}
