//! Tests of the result printer: exact text for every format.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::io;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, DictionaryArray,
    FixedSizeListArray, Int32Array, Int32Builder, Int64Array, LargeListArray, ListArray,
    ListBuilder, MapBuilder, NullArray, RecordBatchOptions, StringBuilder, StructArray,
    TimestampMicrosecondArray, TimestampMillisecondArray, TimestampNanosecondArray,
    TimestampSecondArray,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{Field, Fields, SchemaRef};
use datafusion::physical_plan::memory::MemoryStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;

use super::*;

/// Every row of `array` through [`hive_text`].
fn texts(array: &dyn Array) -> Vec<Option<String>> {
    (0..array.len()).map(|row| hive_text(array, row)).collect()
}

/// `values` as the `Some` texts [`texts`] returns.
fn some(values: &[&str]) -> Vec<Option<String>> {
    values.iter().map(|v| Some((*v).to_string())).collect()
}

/// Prints `batches` in `format`, returning the text and the row count.
async fn render(
    batches: Vec<RecordBatch>,
    schema: SchemaRef,
    format: OutputFormat,
) -> (String, usize) {
    let stream = MemoryStream::try_new(batches, schema, None).unwrap();
    let mut out: Vec<u8> = Vec::new();
    let rows = print_stream(&mut out, Box::pin(stream), format)
        .await
        .unwrap();
    (String::from_utf8(out).unwrap(), rows)
}

fn point_fields() -> Fields {
    Fields::from(vec![
        Field::new("x", DataType::Int32, true),
        Field::new("y", DataType::Utf8, true),
    ])
}

/// Structs `{x, y}` with rows `{1,"s"}`, `{2,null}` and a NULL struct.
fn points() -> StructArray {
    StructArray::try_new(
        point_fields(),
        vec![
            Arc::new(Int32Array::from(vec![1, 2, 3])) as ArrayRef,
            Arc::new(StringArray::from(vec![Some("s"), None, Some("t")])),
        ],
        Some(NullBuffer::from(vec![true, true, false])),
    )
    .unwrap()
}

/// Three rows covering quoting, escaping, collections, doubles and timestamps.
fn sample() -> RecordBatch {
    let mut tags = ListBuilder::new(StringBuilder::new());
    tags.values().append_value("a");
    tags.values().append_null();
    tags.values().append_value("b");
    tags.append(true);
    tags.append(true);
    tags.append(false);

    let mut attrs = MapBuilder::new(None, StringBuilder::new(), Int32Builder::new());
    attrs.keys().append_value("a");
    attrs.values().append_value(1);
    attrs.keys().append_value("b");
    attrs.values().append_value(2);
    attrs.append(true).unwrap();
    attrs.append(true).unwrap();
    attrs.append(false).unwrap();

    RecordBatch::try_from_iter(vec![
        ("id", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef),
        (
            "name",
            Arc::new(StringArray::from(vec![
                Some("plain"),
                Some("has,comma \"q\"\nline2"),
                None,
            ])),
        ),
        (
            "note",
            Arc::new(StringArray::from(vec!["", "tab\there", "back\\slash"])),
        ),
        (
            "score",
            Arc::new(Float64Array::from(vec![1.0, 0.5, f64::NAN])),
        ),
        ("tags", Arc::new(tags.finish())),
        ("attrs", Arc::new(attrs.finish())),
        ("point", Arc::new(points())),
        (
            "ts",
            Arc::new(TimestampMicrosecondArray::from(vec![
                Some(1_704_164_645_000_000),
                Some(1_704_164_645_500_000),
                None,
            ])),
        ),
    ])
    .unwrap()
}

#[test]
fn scalars_print_as_hive_does() {
    assert_eq!(
        texts(&StringArray::from(vec![Some("a b"), None])),
        vec![Some("a b".into()), None]
    );
    assert_eq!(texts(&StringViewArray::from(vec!["view"])), some(&["view"]));
    assert_eq!(texts(&Int64Array::from(vec![-5, 42])), some(&["-5", "42"]));
    assert_eq!(
        texts(&BooleanArray::from(vec![true, false])),
        some(&["true", "false"])
    );
    assert_eq!(
        texts(&Date32Array::from(vec![19_724])),
        some(&["2024-01-02"])
    );
    let decimal = Decimal128Array::from(vec![12_345, -5])
        .with_precision_and_scale(10, 2)
        .unwrap();
    assert_eq!(texts(&decimal), some(&["123.45", "-0.05"]));
    assert_eq!(
        texts(&BinaryArray::from(vec![&b"\xde\xad"[..]])),
        some(&["dead"])
    );
    assert_eq!(texts(&NullArray::new(2)), vec![None, None]);
    assert_eq!(hive_text(&Int64Array::from(vec![1]), 5), None);
}

#[test]
fn floats_print_as_java_does() {
    let doubles = Float64Array::from(vec![
        1.0,
        0.5,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        1e7,
        1.5e-5,
        123_456.789,
        -0.0,
        0.001,
        1e20,
        100.0,
        -2.5,
    ]);
    assert_eq!(
        texts(&doubles),
        some(&[
            "1.0",
            "0.5",
            "NaN",
            "Infinity",
            "-Infinity",
            "1.0E7",
            "1.5E-5",
            "123456.789",
            "-0.0",
            "0.001",
            "1.0E20",
            "100.0",
            "-2.5",
        ])
    );
    let floats = Float32Array::from(vec![0.1_f32, 3.4e38, 2.0]);
    assert_eq!(texts(&floats), some(&["0.1", "3.4E38", "2.0"]));
}

#[test]
fn timestamps_show_a_fraction_only_when_there_is_one() {
    let micros =
        TimestampMicrosecondArray::from(vec![1_704_164_645_000_000, 1_704_164_645_500_000]);
    assert_eq!(
        texts(&micros),
        some(&["2024-01-02 03:04:05", "2024-01-02 03:04:05.5"])
    );
    let nanos = TimestampNanosecondArray::from(vec![1_704_164_645_123_456_789]);
    assert_eq!(texts(&nanos), some(&["2024-01-02 03:04:05.123456789"]));
    let millis = TimestampMillisecondArray::from(vec![1_704_164_645_120, -500]);
    assert_eq!(
        texts(&millis),
        some(&["2024-01-02 03:04:05.12", "1969-12-31 23:59:59.5"])
    );
    let zoned = TimestampSecondArray::from(vec![1_704_164_645]).with_timezone("+02:00");
    assert_eq!(texts(&zoned), some(&["2024-01-02 05:04:05"]));
}

#[test]
fn collections_print_compact_with_quoted_strings() {
    let batch = sample();
    assert_eq!(
        texts(batch.column(4).as_ref()),
        vec![Some(r#"["a",null,"b"]"#.into()), Some("[]".into()), None]
    );
    assert_eq!(
        texts(batch.column(5).as_ref()),
        vec![Some(r#"{"a":1,"b":2}"#.into()), Some("{}".into()), None]
    );
    assert_eq!(
        texts(batch.column(6).as_ref()),
        vec![
            Some(r#"{"x":1,"y":"s"}"#.into()),
            Some(r#"{"x":2,"y":null}"#.into()),
            None
        ]
    );

    let mut quoted = ListBuilder::new(StringBuilder::new());
    quoted.values().append_value("say \"hi\"\n\\");
    quoted.append(true);
    assert_eq!(texts(&quoted.finish()), some(&[r#"["say \"hi\"\n\\"]"#]));
}

#[test]
fn map_keys_are_quoted_only_when_strings() {
    let mut map = MapBuilder::new(None, Int32Builder::new(), StringBuilder::new());
    map.keys().append_value(1);
    map.values().append_value("a");
    map.keys().append_value(2);
    map.values().append_null();
    map.append(true).unwrap();
    assert_eq!(texts(&map.finish()), some(&[r#"{1:"a",2:null}"#]));
}

#[test]
fn nested_collections_recurse() {
    let list = ListArray::try_new(
        Arc::new(Field::new_list_field(
            DataType::Struct(point_fields()),
            true,
        )),
        OffsetBuffer::from_lengths([2, 1, 0]),
        Arc::new(points()),
        None,
    )
    .unwrap();
    assert_eq!(
        texts(&list),
        some(&[r#"[{"x":1,"y":"s"},{"x":2,"y":null}]"#, "[null]", "[]"])
    );

    let mut lists = ListBuilder::new(ListBuilder::new(Int32Builder::new()));
    lists.values().values().append_value(1);
    lists.values().values().append_value(2);
    lists.values().append(true);
    lists.values().values().append_value(3);
    lists.values().append(true);
    lists.values().append(false);
    lists.append(true);
    assert_eq!(texts(&lists.finish()), some(&["[[1,2],[3],null]"]));

    let fixed = FixedSizeListArray::from_iter_primitive::<Int32Type, _, _>(
        vec![
            Some(vec![Some(1), Some(2)]),
            None,
            Some(vec![None, Some(4)]),
        ],
        2,
    );
    assert_eq!(
        texts(&fixed),
        vec![Some("[1,2]".into()), None, Some("[null,4]".into())]
    );
    assert_eq!(texts(&fixed.slice(2, 1)), some(&["[null,4]"]));

    let large = LargeListArray::from_iter_primitive::<Int64Type, _, _>(vec![Some(vec![Some(5)])]);
    assert_eq!(texts(&large), some(&["[5]"]));
}

#[test]
fn sliced_and_dictionary_arrays_print_their_own_rows() {
    let batch = sample().slice(1, 2);
    assert_eq!(
        texts(batch.column(4).as_ref()),
        vec![Some("[]".into()), None]
    );
    assert_eq!(
        texts(batch.column(6).as_ref()),
        vec![Some(r#"{"x":2,"y":null}"#.into()), None]
    );

    let dictionary: DictionaryArray<Int32Type> = vec![Some("a"), None, Some("b"), Some("a")]
        .into_iter()
        .collect();
    assert_eq!(
        texts(&dictionary),
        vec![Some("a".into()), None, Some("b".into()), Some("a".into())]
    );
}

#[tokio::test]
async fn csv_quotes_and_keeps_one_line_per_row() {
    let batch = sample();
    let (text, rows) = render(vec![batch.clone()], batch.schema(), OutputFormat::Csv).await;
    assert_eq!(rows, 3);
    assert_eq!(
        text,
        concat!(
            "id,name,note,score,tags,attrs,point,ts\n",
            r#"1,plain,"",1.0,"[""a"",null,""b""]","{""a"":1,""b"":2}","{""x"":1,""y"":""s""}",2024-01-02 03:04:05"#,
            "\n",
            r#"2,"has,comma ""q""\nline2",tab	here,0.5,[],{},"{""x"":2,""y"":null}",2024-01-02 03:04:05.5"#,
            "\n",
            "3,,back\\slash,NaN,,,,\n",
        )
    );
    assert_eq!(text.lines().count(), 4);
}

#[tokio::test]
async fn tsv_escapes_tabs_newlines_and_backslashes() {
    let batch = sample();
    let (text, rows) = render(vec![batch.clone()], batch.schema(), OutputFormat::Tsv).await;
    assert_eq!(rows, 3);
    assert_eq!(
        text,
        concat!(
            "id\tname\tnote\tscore\ttags\tattrs\tpoint\tts\n",
            "1\tplain\t\t1.0\t[\"a\",null,\"b\"]\t{\"a\":1,\"b\":2}\t{\"x\":1,\"y\":\"s\"}\t2024-01-02 03:04:05\n",
            "2\thas,comma \"q\"\\nline2\ttab\\there\t0.5\t[]\t{}\t{\"x\":2,\"y\":null}\t2024-01-02 03:04:05.5\n",
            "3\tNULL\tback\\\\slash\tNaN\tNULL\tNULL\tNULL\tNULL\n",
        )
    );
}

#[tokio::test]
async fn json_writes_one_object_per_row_with_native_types() {
    let batch = sample();
    let (text, rows) = render(vec![batch.clone()], batch.schema(), OutputFormat::Json).await;
    assert_eq!(rows, 3);
    assert_eq!(
        text,
        concat!(
            r#"{"id":1,"name":"plain","note":"","score":1.0,"tags":["a",null,"b"],"attrs":{"a":1,"b":2},"point":{"x":1,"y":"s"},"ts":"2024-01-02 03:04:05"}"#,
            "\n",
            r#"{"id":2,"name":"has,comma \"q\"\nline2","note":"tab\there","score":0.5,"tags":[],"attrs":{},"point":{"x":2,"y":null},"ts":"2024-01-02 03:04:05.5"}"#,
            "\n",
            r#"{"id":3,"name":null,"note":"back\\slash","score":null,"tags":null,"attrs":null,"point":null,"ts":null}"#,
            "\n",
        )
    );
    for line in text.lines() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(value.is_object());
    }
}

#[tokio::test]
async fn json_map_keys_become_strings_and_infinities_null() {
    let mut map = MapBuilder::new(None, Int32Builder::new(), StringBuilder::new());
    map.keys().append_value(1);
    map.values().append_value("a");
    map.append(true).unwrap();
    map.append(true).unwrap();
    let batch = RecordBatch::try_from_iter(vec![
        ("m", Arc::new(map.finish()) as ArrayRef),
        ("f", Arc::new(Float64Array::from(vec![f64::INFINITY, 1e20]))),
        ("b", Arc::new(BooleanArray::from(vec![true, false]))),
        ("d", Arc::new(Date32Array::from(vec![19_724, 0]))),
    ])
    .unwrap();
    let (text, _) = render(vec![batch.clone()], batch.schema(), OutputFormat::Json).await;
    assert_eq!(
        text,
        concat!(
            r#"{"m":{"1":"a"},"f":null,"b":true,"d":"2024-01-02"}"#,
            "\n",
            r#"{"m":{},"f":1.0E20,"b":false,"d":"1970-01-01"}"#,
            "\n",
        )
    );
    for line in text.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
}

#[tokio::test]
async fn table_aligns_numbers_right_draws_lines_and_truncates_long_cells() {
    let long = "x".repeat(65);
    let batch = RecordBatch::try_from_iter(vec![
        (
            "id",
            Arc::new(Int64Array::from(vec![Some(1), Some(22), None])) as ArrayRef,
        ),
        (
            "name",
            Arc::new(StringArray::from(vec![
                Some("a\nb"),
                None,
                Some(long.as_str()),
            ])),
        ),
        (
            "score",
            Arc::new(Float64Array::from(vec![Some(1.5), None, Some(10.0)])),
        ),
    ])
    .unwrap();
    let (text, rows) = render(vec![batch.clone()], batch.schema(), OutputFormat::Table).await;
    assert_eq!(rows, 3);
    let border = format!("+------+-{}-+-------+\n", "-".repeat(60));
    let expected = [
        border.clone(),
        format!("|   id | {:<60} | score |\n", "name"),
        border.clone(),
        // A value with a newline is drawn on two lines of its row.
        format!("|    1 | {:<60} |   1.5 |\n", "a"),
        format!("|      | {:<60} |       |\n", "b"),
        format!("|   22 | {:<60} |  NULL |\n", "NULL"),
        format!("| NULL | {}… |  10.0 |\n", "x".repeat(59)),
        border,
    ]
    .concat();
    assert_eq!(text, expected);
}

#[tokio::test]
async fn table_with_no_rows_prints_the_header_box() {
    let schema = Arc::new(Schema::new(vec![
        Field::new("a", DataType::Int32, true),
        Field::new("bee", DataType::Utf8, true),
    ]));
    let (text, rows) = render(vec![], schema, OutputFormat::Table).await;
    assert_eq!(rows, 0);
    assert_eq!(text, "+---+-----+\n| a | bee |\n+---+-----+\n");
}

#[tokio::test]
async fn results_without_columns_print_nothing() {
    let schema = Arc::new(Schema::empty());
    let batch = RecordBatch::try_new_with_options(
        schema.clone(),
        vec![],
        &RecordBatchOptions::new().with_row_count(Some(3)),
    )
    .unwrap();
    for format in [
        OutputFormat::Table,
        OutputFormat::Csv,
        OutputFormat::Tsv,
        OutputFormat::Json,
    ] {
        let (text, rows) = render(vec![batch.clone()], schema.clone(), format).await;
        assert_eq!((text.as_str(), rows), ("", 0), "{format:?}");
    }
}

#[tokio::test]
async fn empty_results_keep_the_csv_and_tsv_header() {
    let schema = Arc::new(Schema::new(vec![
        Field::new("a,b", DataType::Int32, true),
        Field::new("c", DataType::Utf8, true),
    ]));
    let (csv, _) = render(vec![], schema.clone(), OutputFormat::Csv).await;
    assert_eq!(csv, "\"a,b\",c\n");
    let (tsv, _) = render(vec![], schema.clone(), OutputFormat::Tsv).await;
    assert_eq!(tsv, "a,b\tc\n");
    let (json, _) = render(vec![], schema, OutputFormat::Json).await;
    assert_eq!(json, "");
}

#[tokio::test]
async fn batches_are_written_as_they_arrive() {
    let first = RecordBatch::try_from_iter(vec![(
        "n",
        Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef,
    )])
    .unwrap();
    let second =
        RecordBatch::try_from_iter(vec![("n", Arc::new(Int64Array::from(vec![3])) as ArrayRef)])
            .unwrap();
    let schema = first.schema();
    let (text, rows) = render(
        vec![first.clone(), second],
        schema.clone(),
        OutputFormat::Csv,
    )
    .await;
    assert_eq!((text.as_str(), rows), ("n\n1\n2\n3\n", 3));

    // A failure after the first batch leaves that batch already written.
    let batches = futures::stream::iter(vec![
        Ok(first),
        Err(DataFusionError::Execution("boom".into())),
    ]);
    let stream = Box::pin(RecordBatchStreamAdapter::new(schema, batches));
    let mut out: Vec<u8> = Vec::new();
    let err = print_stream(&mut out, stream, OutputFormat::Tsv)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("boom"), "{err}");
    assert_eq!(String::from_utf8(out).unwrap(), "n\n1\n2\n");
}

/// A writer whose reader has gone away.
struct ClosedPipe;

impl io::Write for ClosedPipe {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::ErrorKind::BrokenPipe.into())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_broken_pipe_is_an_io_error() {
    let batch = sample();
    for format in [
        OutputFormat::Table,
        OutputFormat::Csv,
        OutputFormat::Tsv,
        OutputFormat::Json,
    ] {
        let stream = MemoryStream::try_new(vec![batch.clone()], batch.schema(), None).unwrap();
        let err = print_stream(&mut ClosedPipe, Box::pin(stream), format)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, DataFusionError::IoError(e) if e.kind() == io::ErrorKind::BrokenPipe),
            "{format:?}: {err:?}"
        );
    }
}

/// One Int64 column `n` per batch.
fn numbers(values: &[i64]) -> RecordBatch {
    RecordBatch::try_from_iter(vec![(
        "n",
        Arc::new(Int64Array::from(values.to_vec())) as ArrayRef,
    )])
    .unwrap()
}

async fn render_limited(
    batches: Vec<Result<RecordBatch>>,
    limits: TableLimits,
) -> (String, Result<usize>) {
    let schema = numbers(&[]).schema();
    let stream = Box::pin(RecordBatchStreamAdapter::new(
        schema,
        futures::stream::iter(batches),
    ));
    let mut out: Vec<u8> = Vec::new();
    let rows = print_stream_limited(&mut out, stream, OutputFormat::Table, limits).await;
    (String::from_utf8(out).unwrap(), rows)
}

#[tokio::test]
async fn table_draws_at_most_max_rows_and_counts_the_rest() {
    let batches = vec![
        Ok(numbers(&[1, 2])),
        Ok(numbers(&[3, 4])),
        Ok(numbers(&[5, 6])),
    ];
    let limits = TableLimits {
        max_rows: 3,
        max_width: 60,
    };
    let (text, rows) = render_limited(batches, limits).await;
    assert_eq!(rows.unwrap(), 6);
    assert_eq!(
        text,
        "+---+\n| n |\n+---+\n| 1 |\n| 2 |\n| 3 |\n+---+\n\
         (3 more rows not shown: 6 rows in all; --max-rows 0 shows every row)\n"
    );
    let all = TableLimits {
        max_rows: 0,
        max_width: 60,
    };
    let (text, rows) = render_limited(vec![Ok(numbers(&[1, 2])), Ok(numbers(&[3]))], all).await;
    assert_eq!(rows.unwrap(), 3);
    assert_eq!(text, "+---+\n| n |\n+---+\n| 1 |\n| 2 |\n| 3 |\n+---+\n");
}

#[tokio::test]
async fn table_widens_a_column_when_a_later_batch_needs_it() {
    let (text, _) = render_limited(
        vec![Ok(numbers(&[1])), Ok(numbers(&[12345]))],
        TableLimits::default(),
    )
    .await;
    assert_eq!(
        text,
        "+---+\n| n |\n+---+\n| 1 |\n+-------+\n| 12345 |\n+-------+\n"
    );
}

#[tokio::test]
async fn table_rows_are_written_as_they_arrive_and_failures_before_them_write_nothing() {
    let (text, rows) = render_limited(
        vec![
            Ok(numbers(&[7])),
            Err(DataFusionError::Execution("boom".into())),
        ],
        TableLimits::default(),
    )
    .await;
    assert!(rows.is_err());
    assert_eq!(text, "+---+\n| n |\n+---+\n| 7 |\n");
    for format in [OutputFormat::Table, OutputFormat::Csv, OutputFormat::Tsv] {
        let batches = futures::stream::iter(vec![Err(DataFusionError::Execution("boom".into()))]);
        let stream = Box::pin(RecordBatchStreamAdapter::new(
            numbers(&[]).schema(),
            batches,
        ));
        let mut out: Vec<u8> = Vec::new();
        assert!(print_stream(&mut out, stream, format).await.is_err());
        assert_eq!(String::from_utf8(out).unwrap(), "", "{format:?}");
    }
}

#[tokio::test]
async fn table_cells_are_cut_only_when_a_width_is_set() {
    let long = "y".repeat(70);
    let batch = RecordBatch::try_from_iter(vec![(
        "s",
        Arc::new(StringArray::from(vec![long.as_str()])) as ArrayRef,
    )])
    .unwrap();
    for (max_width, cell) in [(10, format!("{}…", "y".repeat(9))), (0, long.clone())] {
        let stream = MemoryStream::try_new(vec![batch.clone()], batch.schema(), None).unwrap();
        let mut out: Vec<u8> = Vec::new();
        let limits = TableLimits {
            max_rows: 40,
            max_width,
        };
        print_stream_limited(&mut out, Box::pin(stream), OutputFormat::Table, limits)
            .await
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(&format!("| {cell} |")), "{text}");
    }
}
