//! The bounded functions through SQL, in sessions with and without a memory limit.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Int64Type;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

use super::*;

/// A session with the bounded functions; a memory pool of `limit` bytes when given.
fn context(limit: Option<usize>) -> SessionContext {
    let mut runtime = RuntimeEnvBuilder::new();
    if let Some(bytes) = limit {
        runtime = runtime.with_memory_limit(bytes, 1.0);
    }
    let mut state = SessionStateBuilder::new()
        .with_config(SessionConfig::new())
        .with_runtime_env(runtime.build_arc().unwrap())
        .with_default_features()
        .build();
    register_memory_bounds(&mut state).unwrap();
    SessionContext::new_with_state(state)
}

async fn error(ctx: &SessionContext, sql: &str) -> String {
    match ctx.sql(sql).await {
        Err(e) => e.to_string(),
        Ok(df) => match df.collect().await {
            Err(e) => e.to_string(),
            Ok(_) => panic!("{sql} succeeded"),
        },
    }
}

async fn one_int(ctx: &SessionContext, sql: &str) -> i64 {
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    let column = batches[0].column(0);
    let column = datafusion::arrow::compute::cast(column, &DataType::Int64).unwrap();
    column.as_primitive::<Int64Type>().value(0)
}

#[tokio::test]
async fn results_beyond_the_cap_are_refused_while_folding_constants() {
    let ctx = context(None);
    for (sql, name, size) in [
        ("SELECT repeat('x', 2000000000)", "repeat", "1.9 GiB"),
        ("SELECT lpad('x', 2000000000, 'y')", "lpad", "1.9 GiB"),
        ("SELECT rpad('x', 1500000000)", "rpad", "1.4 GiB"),
        ("SELECT range(300000000)", "range", "2.2 GiB"),
        (
            "SELECT generate_series(1, 300000000)",
            "generate_series",
            "2.2 GiB",
        ),
        (
            "SELECT array_repeat(1, 300000000)",
            "array_repeat",
            "2.2 GiB",
        ),
        (
            "SELECT array_resize([1], 300000000)",
            "array_resize",
            "2.2 GiB",
        ),
        (
            "SELECT replace(repeat('a', 100000), 'a', repeat('b', 20000))",
            "replace",
            "1.9 GiB",
        ),
        ("SELECT lpad('x', 500000000, 'é')", "lpad", "1.9 GiB"),
    ] {
        let message = error(&ctx, sql).await;
        assert!(
            message.contains(&format!("{name}: the result would take {size}, more than the 1.0 GiB one function call may build")),
            "{sql}: {message}"
        );
    }
}

#[tokio::test]
async fn column_arguments_are_summed_over_the_batch() {
    let ctx = context(None);
    // Each row alone is small; the batch's result is 2.5 GB.
    let message = error(
        &ctx,
        "SELECT length(repeat('x', n)) FROM (VALUES (500000000), (500000000), (500000000), \
         (500000000), (500000000)) t(n)",
    )
    .await;
    assert!(
        message.contains("repeat: the result would take 2.3 GiB"),
        "{message}"
    );
}

#[tokio::test]
async fn the_memory_pool_is_asked_first() {
    let ctx = context(Some(8 << 20));
    let message = error(&ctx, "SELECT length(repeat('x', 20000000))").await;
    assert!(
        message
            .contains("repeat: the result would take 19.1 MiB, more than the memory pool can give"),
        "{message}"
    );
    let message = error(&ctx, "SELECT cardinality(range(5000000))").await;
    assert!(
        message.contains("range: the result would take 38.1 MiB"),
        "{message}"
    );
    // Results that fit work as before, and the reservations are given back after each call.
    for _ in 0..3 {
        assert_eq!(
            one_int(&ctx, "SELECT length(repeat('ab', 1000000))").await,
            2_000_000
        );
    }
    assert_eq!(
        one_int(&ctx, "SELECT cardinality(range(100000))").await,
        100_000
    );
    assert_eq!(
        one_int(&ctx, "SELECT cardinality(generate_series(1, 10))").await,
        10
    );
    assert_eq!(
        one_int(&ctx, "SELECT length(lpad('x', 1000, 'é'))").await,
        1000
    );
    assert_eq!(
        one_int(&ctx, "SELECT cardinality(array_repeat('abc', 1000))").await,
        1000
    );
    assert_eq!(
        one_int(&ctx, "SELECT cardinality(array_resize([1, 2], 50))").await,
        50
    );
    assert_eq!(
        one_int(&ctx, "SELECT length(replace('banana', 'a', 'oo'))").await,
        9
    );
    assert_eq!(
        one_int(
            &ctx,
            "SELECT cardinality(range(DATE '2024-01-01', DATE '2024-03-01', INTERVAL '1' DAY))"
        )
        .await,
        60
    );
    assert_eq!(ctx.runtime_env().memory_pool.reserved(), 0);
}

#[test]
fn sizes_follow_the_arguments() {
    use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray};
    let scalar = |v: ScalarValue| ColumnarValue::Scalar(v);
    let text = |s: &str| scalar(ScalarValue::Utf8(Some(s.into())));
    let int = |n: i64| scalar(ScalarValue::Int64(Some(n)));
    let size = |kind, args: &[ColumnarValue], rows| result_bytes(kind, args, rows).unwrap();
    assert_eq!(size(ResultSize::Repeat, &[text("abc"), int(10)], 1), 30);
    assert_eq!(size(ResultSize::Repeat, &[text("abc"), int(-5)], 1), 0);
    assert_eq!(
        size(
            ResultSize::Repeat,
            &[text("abc"), scalar(ScalarValue::Int64(None))],
            1
        ),
        0
    );
    let strings: ArrayRef =
        std::sync::Arc::new(StringArray::from(vec![Some("a"), None, Some("bcd")]));
    let counts: ArrayRef = std::sync::Arc::new(Int64Array::from(vec![4, 100, 2]));
    assert_eq!(
        size(
            ResultSize::Repeat,
            &[ColumnarValue::Array(strings), ColumnarValue::Array(counts)],
            3
        ),
        4 + 6
    );
    assert_eq!(size(ResultSize::Pad, &[text("abc"), int(10)], 1), 10);
    assert_eq!(
        size(ResultSize::Pad, &[text("abc"), int(10), text("é")], 1),
        40
    );
    assert_eq!(size(ResultSize::Pad, &[text("abcdef"), int(2)], 1), 6);
    assert_eq!(
        size(
            ResultSize::Replace,
            &[text("aaaa"), text("a"), text("bb")],
            1
        ),
        4 + 5 * 2
    );
    assert_eq!(size(ResultSize::ArrayRepeat, &[int(7), int(1000)], 1), 8000);
    assert_eq!(size(ResultSize::ArrayRepeat, &[text("xy"), int(10)], 1), 60);
    assert_eq!(
        size(ResultSize::Range { inclusive: false }, &[int(100)], 1),
        101 * 8
    );
    assert_eq!(
        size(
            ResultSize::Range { inclusive: true },
            &[int(10), int(0), int(-2)],
            1
        ),
        6 * 8
    );
    assert_eq!(
        size(
            ResultSize::Range { inclusive: false },
            &[int(10), int(0)],
            1
        ),
        0
    );
    assert_eq!(human_bytes(12_000_000_000_000), "10.9 TiB");
    assert_eq!(human_bytes(2_000_000_000), "1.9 GiB");
    assert_eq!(human_bytes(1536), "1.5 KiB");
    assert_eq!(human_bytes(12), "12 bytes");
}
