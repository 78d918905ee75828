#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, ListArray, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Int64Type};
use datafusion::common::ScalarValue;

use super::*;

fn arg(dt: DataType) -> GeneratorArg {
    GeneratorArg {
        field: Arc::new(Field::new("a", dt, true)),
        literal: None,
    }
}

fn drain(g: &dyn Generator, args: &[ArrayRef], max_rows: usize) -> Vec<GeneratedRows> {
    let n = args[0].len();
    let mut cursor = GenerateCursor::default();
    let mut out = vec![];
    while cursor.row < n {
        let chunk = g.generate(args, n, &mut cursor, max_rows).unwrap();
        assert!(chunk.row_ids.len() <= max_rows);
        out.push(chunk);
    }
    out
}

#[test]
fn explode_streams_in_bounded_chunks_and_skips_null_and_empty() {
    let list = ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
        Some(vec![Some(1), Some(2), Some(3)]),
        None,
        Some(vec![]),
        Some(vec![Some(4), None]),
    ]);
    let args: Vec<ArrayRef> = vec![Arc::new(list)];
    let chunks = drain(&Explode, &args, 2);
    let ids: Vec<u32> = chunks
        .iter()
        .flat_map(|c| c.row_ids.values().to_vec())
        .collect();
    assert_eq!(ids, vec![0, 0, 0, 3, 3]);
    let vals: Vec<Option<i64>> = chunks
        .iter()
        .flat_map(|c| {
            c.columns[0]
                .as_primitive::<Int64Type>()
                .iter()
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(vals, vec![Some(1), Some(2), Some(3), Some(4), None]);
}

#[test]
fn posexplode_positions_continue_across_chunks() {
    let list = ListArray::from_iter_primitive::<Int64Type, _, _>(vec![Some(
        (0..5).map(Some).collect::<Vec<_>>(),
    )]);
    let args: Vec<ArrayRef> = vec![Arc::new(list)];
    let chunks = drain(&PosExplode, &args, 2);
    let pos: Vec<i32> = chunks
        .iter()
        .flat_map(|c| c.columns[0].as_primitive::<Int32Type>().values().to_vec())
        .collect();
    assert_eq!(pos, vec![0, 1, 2, 3, 4]);
    assert_eq!(chunks.len(), 3);
}

#[test]
fn stack_pads_the_last_row_with_null() {
    let n: ArrayRef = Arc::new(Int64Array::from(vec![2]));
    let a: ArrayRef = Arc::new(StringArray::from(vec!["a"]));
    let b: ArrayRef = Arc::new(StringArray::from(vec!["b"]));
    let c: ArrayRef = Arc::new(StringArray::from(vec!["c"]));
    let mut literal = arg(DataType::Int64);
    literal.literal = Some(ScalarValue::Int64(Some(2)));
    let fields = Stack
        .output_fields(&[
            literal,
            arg(DataType::Utf8),
            arg(DataType::Utf8),
            arg(DataType::Utf8),
        ])
        .unwrap();
    assert_eq!(fields.len(), 2);
    let chunks = drain(&Stack, &[n, a, b, c], 100);
    let col1 = chunks[0].columns[1].as_string::<i32>();
    assert_eq!(col1.value(0), "b");
    assert!(col1.is_null(1));
}

#[test]
fn stack_rejects_non_constant_n() {
    let err = Stack
        .output_fields(&[arg(DataType::Int64), arg(DataType::Utf8)])
        .unwrap_err();
    assert!(err.to_string().contains("constant"), "{err}");
}

#[test]
fn json_tuple_reads_keys_and_nulls_invalid_json() {
    let json: ArrayRef = Arc::new(StringArray::from(vec![
        Some(r#"{"a": 1, "b": "x", "c": {"d": [1,2]}}"#),
        Some("not json"),
        None,
    ]));
    let k = |s: &str| Arc::new(StringArray::from(vec![s; 3])) as ArrayRef;
    let chunks = drain(&JsonTuple, &[json, k("a"), k("b"), k("c")], 10);
    let c = &chunks[0].columns;
    assert_eq!(c[0].as_string::<i32>().value(0), "1");
    assert_eq!(c[1].as_string::<i32>().value(0), "x");
    assert_eq!(c[2].as_string::<i32>().value(0), r#"{"d":[1,2]}"#);
    assert!(c[0].is_null(1) && c[0].is_null(2));
    assert_eq!(chunks[0].row_ids.len(), 3);
}

#[test]
fn url_parts_match_java_url() {
    let u = crate::hive::string::java_url::JavaUrl::parse(
        "http://user:pw@example.com:8080/a/b.php?k1=v1&k2=v%202#frag",
    )
    .unwrap();
    assert_eq!(
        parse_url_tuple::url_part(&u, "HOST").as_deref(),
        Some("example.com")
    );
    assert_eq!(
        parse_url_tuple::url_part(&u, "PATH").as_deref(),
        Some("/a/b.php")
    );
    assert_eq!(
        parse_url_tuple::url_part(&u, "QUERY").as_deref(),
        Some("k1=v1&k2=v%202")
    );
    assert_eq!(
        parse_url_tuple::url_part(&u, "QUERY:k2").as_deref(),
        Some("v%202")
    );
    assert_eq!(parse_url_tuple::url_part(&u, "QUERY:zz"), None);
    assert_eq!(
        parse_url_tuple::url_part(&u, "REF").as_deref(),
        Some("frag")
    );
    assert_eq!(
        parse_url_tuple::url_part(&u, "FILE").as_deref(),
        Some("/a/b.php?k1=v1&k2=v%202")
    );
    assert_eq!(
        parse_url_tuple::url_part(&u, "AUTHORITY").as_deref(),
        Some("user:pw@example.com:8080")
    );
    assert_eq!(
        parse_url_tuple::url_part(&u, "USERINFO").as_deref(),
        Some("user:pw")
    );
    assert_eq!(
        parse_url_tuple::url_part(&u, "PROTOCOL").as_deref(),
        Some("http")
    );
    // Java's URL: no path is '', the host keeps its case, unknown protocols are refused.
    let bare = crate::hive::string::java_url::JavaUrl::parse("http://Example.COM").unwrap();
    assert_eq!(
        parse_url_tuple::url_part(&bare, "PATH").as_deref(),
        Some("")
    );
    assert_eq!(
        parse_url_tuple::url_part(&bare, "HOST").as_deref(),
        Some("Example.COM")
    );
    assert!(crate::hive::string::java_url::JavaUrl::parse("foo://a/b").is_none());
    let keyless = crate::hive::string::java_url::JavaUrl::parse("http://a/p?x&y=2").unwrap();
    assert_eq!(parse_url_tuple::url_part(&keyless, "QUERY:x"), None);
}
