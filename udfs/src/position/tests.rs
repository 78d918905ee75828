//! Exactness and property tests of the position family, on the kernels (random vectors from
//! a seeded generator), plus the functions through SQL in a plain DataFusion session.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, FixedSizeListArray, Float32Array, Float64Array, Int64Array,
    LargeListArray, ListArray,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Float32Type, Float64Type};
use datafusion::prelude::SessionContext;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::rope::{ArgNames, Positions, RopeSpec, rope_array};
use super::token_vector::{SeededTokenVectors, Token, TokenVectors};
use super::{RopeStyle, all_scalar_functions};

const NAMES: ArgNames = ArgNames {
    function: "rope",
    vec: "argument 1 (vec)",
    pos: "argument 2 (pos)",
};

const STYLES: [RopeStyle; 2] = [RopeStyle::Interleaved, RopeStyle::Half];

/// The pair of coordinates pair `i` of a `d`-vector rotates.
fn pair(style: RopeStyle, i: usize, d: usize) -> (usize, usize) {
    match style {
        RopeStyle::Interleaved => (2 * i, 2 * i + 1),
        RopeStyle::Half => (i, i + d / 2),
    }
}

/// RoPE as the issue writes it, all in float64 with the standard library.
fn reference(x: &[f64], m: u64, base: f64, style: RopeStyle) -> Vec<f64> {
    let d = x.len();
    let mut y = vec![0.0; d];
    for i in 0..d / 2 {
        let theta = base.powf(-(2.0 * i as f64) / d as f64);
        let (s, c) = (m as f64 * theta).sin_cos();
        let (a, b) = pair(style, i, d);
        y[a] = x[a] * c - x[b] * s;
        y[b] = x[a] * s + x[b] * c;
    }
    y
}

fn fixed_f64(values: Vec<f64>, d: usize) -> ArrayRef {
    Arc::new(
        FixedSizeListArray::try_new(
            Arc::new(Field::new_list_field(DataType::Float64, true)),
            d as i32,
            Arc::new(Float64Array::from(values)),
            None,
        )
        .unwrap(),
    )
}

fn fixed_f32(values: Vec<f32>, d: usize) -> ArrayRef {
    Arc::new(
        FixedSizeListArray::try_new(
            Arc::new(Field::new_list_field(DataType::Float32, true)),
            d as i32,
            Arc::new(Float32Array::from(values)),
            None,
        )
        .unwrap(),
    )
}

fn f64_values(array: &ArrayRef) -> Vec<f64> {
    array
        .as_fixed_size_list()
        .values()
        .as_primitive::<Float64Type>()
        .values()
        .to_vec()
}

fn f32_values(array: &ArrayRef) -> Vec<f32> {
    array
        .as_fixed_size_list()
        .values()
        .as_primitive::<Float32Type>()
        .values()
        .to_vec()
}

fn rope64(x: &[f64], m: u64, base: f64, style: RopeStyle) -> Vec<f64> {
    let positions = Int64Array::from(vec![m as i64]);
    let out = rope_array(
        &fixed_f64(x.to_vec(), x.len()),
        Positions::Column(&positions),
        RopeSpec { base, style },
        NAMES,
    )
    .unwrap();
    f64_values(&out)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn max_abs(x: &[f64]) -> f64 {
    x.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// Every even dimension 2..=128, every position 0..=4095, both bases, both styles: float64
/// within 1e-9·max(1, max|x|) of the reference, float32 within
/// (4e-6 + 2.5e-7·(pos+1))·max(1, max|x|).
#[test]
fn exact_to_the_formula_for_all_dims_positions_and_bases() {
    let mut rng = StdRng::seed_from_u64(5);
    let positions = Int64Array::from_iter_values(0..4096);
    let mut worst64 = 0.0f64;
    let mut worst32 = 0.0f64;
    for d in (2..=128).step_by(2) {
        // Vectors with coordinates up to ±8 exercise the max(1, max|x|) scale.
        let x64: Vec<f64> = (0..4096 * d).map(|_| rng.random_range(-8.0..8.0)).collect();
        let x32: Vec<f32> = x64.iter().map(|&v| v as f32).collect();
        for base in [10_000.0, 500_000.0] {
            for style in STYLES {
                let spec = RopeSpec { base, style };
                let got64 = f64_values(
                    &rope_array(
                        &fixed_f64(x64.clone(), d),
                        Positions::Column(&positions),
                        spec,
                        NAMES,
                    )
                    .unwrap(),
                );
                let got32 = f32_values(
                    &rope_array(
                        &fixed_f32(x32.clone(), d),
                        Positions::Column(&positions),
                        spec,
                        NAMES,
                    )
                    .unwrap(),
                );
                for m in 0..4096usize {
                    let row = m * d..(m + 1) * d;
                    let want = reference(&x64[row.clone()], m as u64, base, style);
                    let scale = max_abs(&x64[row.clone()]).max(1.0);
                    let x32_row: Vec<f64> =
                        x32[row.clone()].iter().map(|&v| f64::from(v)).collect();
                    let want32 = reference(&x32_row, m as u64, base, style);
                    let scale32 = max_abs(&x32_row).max(1.0);
                    let tol64 = 1e-9 * scale;
                    let tol32 = (4e-6 + 2.5e-7 * (m as f64 + 1.0)) * scale32;
                    for k in 0..d {
                        let e64 = (got64[row.start + k] - want[k]).abs();
                        let e32 = (f64::from(got32[row.start + k]) - want32[k]).abs();
                        assert!(
                            e64 <= tol64,
                            "f64 d={d} m={m} base={base} {style:?} k={k}: error {e64}"
                        );
                        assert!(
                            e32 <= tol32,
                            "f32 d={d} m={m} base={base} {style:?} k={k}: error {e32}"
                        );
                        worst64 = worst64.max(e64 / scale);
                        worst32 = worst32.max(e32 / scale32);
                    }
                }
            }
        }
    }
    // Far inside the tolerances (float32 angles would be off by ~1e-4 at m = 4095): what is
    // left is one rounding of θ_i (libm's pow against std's) times m.
    assert!(worst64 < 1e-11, "worst float64 error {worst64}");
    assert!(worst32 < 2e-6, "worst float32 error {worst32}");
}

/// vec_dot(rope(q, m), rope(k, n)) = vec_dot(q, rope(k, n − m)), and rotation keeps the norm.
#[test]
fn relative_position_property_and_norm_preservation() {
    let mut rng = StdRng::seed_from_u64(7);
    for _ in 0..2000 {
        let d = 2 * rng.random_range(1..=64usize);
        let base = if rng.random_bool(0.5) {
            10_000.0
        } else {
            500_000.0
        };
        let style = STYLES[rng.random_range(0..2)];
        let q: Vec<f64> = (0..d).map(|_| rng.random_range(-1.0..1.0)).collect();
        let k: Vec<f64> = (0..d).map(|_| rng.random_range(-1.0..1.0)).collect();
        let m = rng.random_range(0..4096u64);
        let n = rng.random_range(m..m + 4096);
        let left = dot(&rope64(&q, m, base, style), &rope64(&k, n, base, style));
        let right = dot(&q, &rope64(&k, n - m, base, style));
        let scale = dot(&q, &q).sqrt() * dot(&k, &k).sqrt();
        assert!(
            (left - right).abs() <= 1e-9 * scale,
            "d={d} m={m} n={n} base={base} {style:?}: {left} vs {right}"
        );
        let rotated = rope64(&q, m, base, style);
        let (before, after) = (dot(&q, &q).sqrt(), dot(&rotated, &rotated).sqrt());
        assert!(
            (before - after).abs() <= 1e-12 * before.max(1.0),
            "norm {before} became {after}"
        );
    }
}

/// Float32 vectors are rotated in float32 from float64 sin/cos: bit for bit the float32
/// formula with cos/sin rounded from float64, and close to the float64 path — while float32
/// angles would be far off at large positions.
#[test]
fn float32_path_rotates_in_float32_from_float64_angles() {
    let mut rng = StdRng::seed_from_u64(11);
    let d = 64;
    let base = 10_000.0f64;
    let x: Vec<f32> = (0..d).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    for m in [0u64, 1, 17, 4095, 1 << 20] {
        for style in STYLES {
            let positions = Int64Array::from(vec![m as i64]);
            let spec = RopeSpec { base, style };
            let got = f32_values(
                &rope_array(
                    &fixed_f32(x.clone(), d),
                    Positions::Column(&positions),
                    spec,
                    NAMES,
                )
                .unwrap(),
            );
            let mut manual = vec![0.0f32; d];
            let mut f32_angles = vec![0.0f32; d];
            for i in 0..d / 2 {
                let theta = libm::pow(base, -(2.0 * i as f64) / d as f64);
                let (s, c) = libm::sincos(m as f64 * theta);
                let (s, c) = (s as f32, c as f32);
                let (a, b) = pair(style, i, d);
                manual[a] = x[a] * c - x[b] * s;
                manual[b] = x[a] * s + x[b] * c;
                let angle = m as f32 * (base as f32).powf(-(2.0 * i as f32) / d as f32);
                let (s, c) = angle.sin_cos();
                f32_angles[a] = x[a] * c - x[b] * s;
                f32_angles[b] = x[a] * s + x[b] * c;
            }
            assert_eq!(got, manual, "m={m} {style:?}");
            let x64: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
            let via64 = rope64(&x64, m, base, style);
            let off = |y: &[f32]| {
                y.iter()
                    .zip(&via64)
                    .map(|(&a, b)| (f64::from(a) - b).abs())
                    .fold(0.0, f64::max)
            };
            assert!(off(&got) < 1e-6, "m={m}: float32 path off by {}", off(&got));
            if m == 4095 {
                assert!(
                    off(&f32_angles) > 1e-5,
                    "float32 angles should be visibly off at m=4095"
                );
            }
        }
    }
}

#[test]
fn huge_positions_stay_finite_and_match_the_reference() {
    let x = [0.5, -1.5, 2.0, 0.25];
    for m in [(1u64 << 31) - 1, 1 << 31, 1 << 40, i64::MAX as u64] {
        for style in STYLES {
            let got = rope64(&x, m, 10_000.0, style);
            assert!(got.iter().all(|v| v.is_finite()), "m={m}: {got:?}");
            let want = reference(&x, m, 10_000.0, style);
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() < 1e-9, "m={m}: {got:?} vs {want:?}");
            }
        }
    }
}

#[test]
fn list_layouts_keep_their_type_and_nulls() {
    let values = Float32Array::from(vec![1.0, 0.0, 0.0, 1.0, 3.0, 4.0]);
    let field = Arc::new(Field::new_list_field(DataType::Float32, true));
    let list: ArrayRef = Arc::new(ListArray::new(
        Arc::clone(&field),
        OffsetBuffer::from_lengths([2, 0, 4]),
        Arc::new(values.clone()),
        Some(vec![true, false, true].into()),
    ));
    let large: ArrayRef = Arc::new(LargeListArray::new(
        Arc::clone(&field),
        OffsetBuffer::from_lengths([2, 0, 4]),
        Arc::new(values),
        Some(vec![true, false, true].into()),
    ));
    let positions = Int64Array::from(vec![Some(1), Some(1), None]);
    for array in [list, large] {
        let sliced = array.slice(0, 3);
        let out = rope_array(
            &sliced,
            Positions::Column(&positions),
            RopeSpec {
                base: 10_000.0,
                style: RopeStyle::Interleaved,
            },
            NAMES,
        )
        .unwrap();
        assert_eq!(out.data_type(), array.data_type());
        assert_eq!(out.len(), 3);
        assert!(out.is_valid(0) && out.is_null(1) && out.is_null(2));
    }
    // A slice that starts past the first row rebases its offsets.
    let values = Float64Array::from(vec![9.0, 9.0, 1.0, 0.0]);
    let list: ArrayRef = Arc::new(ListArray::new(
        Arc::new(Field::new_list_field(DataType::Float64, true)),
        OffsetBuffer::from_lengths([2, 2]),
        Arc::new(values),
        None,
    ));
    let out = rope_array(
        &list.slice(1, 1),
        Positions::Constant(Some(0)),
        RopeSpec {
            base: 10_000.0,
            style: RopeStyle::Half,
        },
        NAMES,
    )
    .unwrap();
    let out = out.as_list::<i32>();
    assert_eq!(
        out.value(0).as_primitive::<Float64Type>().values().to_vec(),
        vec![1.0, 0.0]
    );
}

#[test]
fn token_vectors_are_unit_norm_and_pinned() {
    let source = SeededTokenVectors::new(8, 0);
    let mut out = Vec::new();
    source
        .append_vectors(
            &[Token::Text("bee"), Token::Id(42), Token::Text("bee")],
            &mut out,
        )
        .unwrap();
    assert_eq!(out.len(), 24);
    assert_eq!(out[..8], out[16..], "same token, same vector");
    assert_ne!(out[..8], out[8..16]);
    for v in out.chunks(8) {
        let norm: f64 = v
            .iter()
            .map(|&x| f64::from(x) * f64::from(x))
            .sum::<f64>()
            .sqrt();
        assert!((norm - 1.0).abs() < 1e-6, "norm {norm}");
    }
    // XXH64 as specified (the reference value of the empty input, seed 0).
    assert_eq!(twox_hash::XxHash64::oneshot(0, b""), 0xEF46_DB37_51D8_E999);
    // Another seed gives another vector.
    let mut other = Vec::new();
    SeededTokenVectors::new(8, 1)
        .append_vectors(&[Token::Text("bee")], &mut other)
        .unwrap();
    assert_ne!(other[..], out[..8]);
}

/// A DataFusion session with this family's functions.
fn context() -> SessionContext {
    let ctx = SessionContext::new();
    for udf in all_scalar_functions() {
        ctx.register_udf(udf.as_ref().clone());
    }
    ctx
}

async fn one_value(ctx: &SessionContext, sql: &str) -> ArrayRef {
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    Arc::clone(batches[0].column(0))
}

async fn error(ctx: &SessionContext, sql: &str) -> String {
    match ctx.sql(sql).await {
        Err(e) => e.to_string(),
        Ok(df) => match df.collect().await {
            Err(e) => e.to_string(),
            Ok(_) => panic!("{sql} should fail"),
        },
    }
}

#[tokio::test]
async fn functions_keep_float32_and_fixed_size_lists() {
    let ctx = context();
    let v = "arrow_cast([1.0, 2.0, 3.0, 4.0], 'FixedSizeList(4, Float32)')";
    for sql in [
        format!("SELECT rope({v}, 3)"),
        format!("SELECT rope({v}, 3, 500000, 'half')"),
        format!("SELECT vec_add({v}, {v})"),
        format!("SELECT vec_scale({v}, 2)"),
        format!("SELECT vec_normalize({v})"),
    ] {
        let out = one_value(&ctx, &sql).await;
        assert_eq!(
            out.data_type(),
            &DataType::FixedSizeList(Arc::new(Field::new_list_field(DataType::Float32, true)), 4),
            "{sql}"
        );
    }
    let out = one_value(&ctx, &format!("SELECT vec_dot({v}, {v})")).await;
    assert_eq!(out.as_primitive::<Float64Type>().value(0), 30.0);
}

#[tokio::test]
async fn errors_name_the_function_and_argument() {
    let ctx = context();
    for (sql, want) in [
        (
            "SELECT rope([1.0, 2.0, 3.0], 1)",
            "rope: argument 1 (vec) has odd length 3",
        ),
        (
            "SELECT rope([1.0, 2.0], -1)",
            "rope: argument 2 (pos) must be >= 0, got -1",
        ),
        (
            "SELECT rope([1.0, NULL], 1)",
            "rope: argument 1 (vec) has a NULL element",
        ),
        (
            "SELECT rope([1.0, 2.0], 1, 10000, 'spiral')",
            "rope: argument 4 (style) must be 'interleaved' or 'half'",
        ),
        (
            "SELECT rope([1.0, 2.0], 1, 0)",
            "rope: argument 3 (base) must be a finite number > 0",
        ),
        (
            "SELECT rope([1.0, 2.0], 1.5)",
            "rope: argument 2 (pos) must be an integer",
        ),
        (
            "SELECT vec_dot([1.0, 2.0], [1.0])",
            "vec_dot: argument 1 (a) has 2 elements but argument 2 (b) has 1",
        ),
        (
            "SELECT vec_add([1.0, 2.0], [1.0, NULL])",
            "vec_add: argument 2 (b) has a NULL element",
        ),
        (
            "SELECT sinusoidal_position(1, 0)",
            "sinusoidal_position: argument 2 (dim) must be between 2 and 65536, got 0",
        ),
        (
            "SELECT sinusoidal_position(1, 3)",
            "sinusoidal_position: argument 2 (dim) must be even",
        ),
        (
            "SELECT token_vector('a', -4)",
            "token_vector: argument 2 (dim) must be between 1 and 65536",
        ),
    ] {
        let got = error(&ctx, sql).await;
        assert!(got.contains(want), "{sql}: {got}");
    }
}
