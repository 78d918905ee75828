//! Dense f32 matrix products for the transformer's layers, on `matrixmultiply`'s sgemm. All
//! matrices are row-major and contiguous; weights are stored [out, in] as in PyTorch.

/// c[m×n] = a[m×k] · b[n×k]ᵀ + beta · c (a layer's forward pass: x · Wᵀ).
pub(crate) fn matmul_nt(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    b: &[f32],
    beta: f32,
    c: &mut [f32],
) {
    assert!(a.len() == m * k && b.len() == n * k && c.len() == m * n);
    // SAFETY: the lengths were checked above; a is m×k with strides (k, 1), b read as its
    // transpose k×n with strides (1, k), c is m×n with strides (n, 1).
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            1,
            k as isize,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

/// c[m×n] = a[m×k] · b[k×n] + beta · c (a layer's input gradient: dy · W).
pub(crate) fn matmul_nn(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    b: &[f32],
    beta: f32,
    c: &mut [f32],
) {
    assert!(a.len() == m * k && b.len() == k * n && c.len() == m * n);
    // SAFETY: the lengths were checked above; all three are row-major and contiguous.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            n as isize,
            1,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

/// c[m×n] += a[k×m]ᵀ · b[k×n] (a layer's weight gradient: dyᵀ · x, summed over positions).
pub(crate) fn matmul_tn_acc(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    assert!(a.len() == k * m && b.len() == k * n && c.len() == m * n);
    // SAFETY: the lengths were checked above; a read as its transpose m×k with strides
    // (1, m), b is k×n row-major, c is m×n row-major.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            1,
            m as isize,
            b.as_ptr(),
            n as isize,
            1,
            1.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_match_the_definition() {
        let (m, k, n) = (3, 4, 5);
        let a: Vec<f32> = (0..m * k).map(|i| i as f32 * 0.5 - 2.0).collect();
        let b: Vec<f32> = (0..n * k).map(|i| (i % 7) as f32 - 3.0).collect();
        let mut c = vec![1.0; m * n];
        matmul_nt(m, k, n, &a, &b, 1.0, &mut c);
        for i in 0..m {
            for j in 0..n {
                let want: f32 = 1.0 + (0..k).map(|l| a[i * k + l] * b[j * k + l]).sum::<f32>();
                assert!((c[i * n + j] - want).abs() < 1e-4);
            }
        }
        // b as k×n for nn; a as k×m for tn.
        let mut c = vec![0.0; m * n];
        matmul_nn(m, k, n, &a, &b[..k * n], 0.0, &mut c);
        for i in 0..m {
            for j in 0..n {
                let want: f32 = (0..k).map(|l| a[i * k + l] * b[l * n + j]).sum();
                assert!((c[i * n + j] - want).abs() < 1e-4);
            }
        }
        let mut c = vec![2.0; m * n];
        matmul_tn_acc(m, k, n, &a, &b[..k * n], &mut c);
        for i in 0..m {
            for j in 0..n {
                let want: f32 = 2.0 + (0..k).map(|l| a[l * m + i] * b[l * n + j]).sum::<f32>();
                assert!((c[i * n + j] - want).abs() < 1e-4);
            }
        }
    }
}
