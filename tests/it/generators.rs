//! A generator defined outside the `udfs` crate plugs in exactly like the built-ins.

use std::sync::{Arc, LazyLock};

use apiary::udfs::{GenerateCursor, GeneratedRows, Generator, GeneratorArg};
use apiary::{ApiaryContext, StatementOutput};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Int32Builder, RecordBatch, StringBuilder, UInt32Array,
};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::{DocSection, Documentation};
use futures::TryStreamExt;

/// `char_ngrams(text, n)` → one row per character n-gram: `pos`, `gram`.
#[derive(Debug)]
struct CharNgrams;

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DocSection {
            include: true,
            label: "Test",
            description: None,
        },
        "Character n-grams of a string.",
        "char_ngrams(text, n)",
    )
    .with_sql_example("SELECT * FROM char_ngrams('abc', 2)")
    .build()
});

impl Generator for CharNgrams {
    fn name(&self) -> &str {
        "char_ngrams"
    }

    fn documentation(&self) -> &Documentation {
        &DOC
    }

    fn coerce_arguments(&self, args: &[GeneratorArg]) -> Result<Vec<DataType>> {
        match args {
            [_, n] if matches!(n.literal, Some(ScalarValue::Int64(Some(v))) if v > 0) => {
                Ok(vec![DataType::Utf8, DataType::Int64])
            }
            _ => plan_err!("char_ngrams(text, n) needs a positive constant n"),
        }
    }

    fn output_fields(&self, _args: &[GeneratorArg]) -> Result<Vec<Field>> {
        Ok(vec![
            Field::new("pos", DataType::Int32, true),
            Field::new("gram", DataType::Utf8, true),
        ])
    }

    fn generate(
        &self,
        args: &[ArrayRef],
        num_rows: usize,
        cursor: &mut GenerateCursor,
        max_rows: usize,
    ) -> Result<GeneratedRows> {
        let text = args[0].as_string::<i32>();
        let n = args[1]
            .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
            .value(0) as usize;
        let mut ids = Vec::new();
        let mut pos = Int32Builder::new();
        let mut grams = StringBuilder::new();
        while cursor.row < num_rows && ids.len() < max_rows {
            let chars: Vec<char> = if text.is_valid(cursor.row) {
                text.value(cursor.row).chars().collect()
            } else {
                vec![]
            };
            let count = chars.len().saturating_sub(n - 1);
            while cursor.offset < count && ids.len() < max_rows {
                ids.push(cursor.row as u32);
                pos.append_value(cursor.offset as i32);
                grams.append_value(
                    chars[cursor.offset..cursor.offset + n]
                        .iter()
                        .collect::<String>(),
                );
                cursor.offset += 1;
            }
            if cursor.offset >= count {
                cursor.row += 1;
                cursor.offset = 0;
            }
        }
        Ok(GeneratedRows {
            row_ids: UInt32Array::from(ids),
            columns: vec![Arc::new(pos.finish()), Arc::new(grams.finish())],
        })
    }
}

async fn query(ctx: &mut ApiaryContext, sql: &str) -> Vec<RecordBatch> {
    match ctx.execute(sql).await.unwrap() {
        StatementOutput::Rows(s) => s.try_collect().await.unwrap(),
        other => panic!("expected rows, got {other:?}"),
    }
}

fn strings(batches: &[RecordBatch], column: usize) -> Vec<String> {
    batches
        .iter()
        .flat_map(|b| {
            let c = datafusion::arrow::compute::cast(b.column(column), &DataType::Utf8).unwrap();
            (0..c.len())
                .map(|i| {
                    if c.is_null(i) {
                        "NULL".to_string()
                    } else {
                        c.as_string::<i32>().value(i).to_string()
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test]
async fn user_defined_generator_in_lateral_view_select_list_and_from() {
    let mut ctx = ApiaryContext::new().await.unwrap();
    ctx.register_generator(Arc::new(CharNgrams)).unwrap();

    let b = query(
        &mut ctx,
        "SELECT w.word, g.pos, g.gram FROM (SELECT 'hive' AS word UNION ALL SELECT 'db') w \
         LATERAL VIEW char_ngrams(w.word, 3) g AS pos, gram ORDER BY w.word, g.pos",
    )
    .await;
    assert_eq!(strings(&b, 0), vec!["hive", "hive"]);
    assert_eq!(strings(&b, 2), vec!["hiv", "ive"]);

    // OUTER keeps 'db', which has no 3-gram.
    let b = query(
        &mut ctx,
        "SELECT w.word, g.gram FROM (SELECT 'hive' AS word UNION ALL SELECT 'db') w \
         LATERAL VIEW OUTER char_ngrams(w.word, 3) g AS pos, gram ORDER BY w.word, g.gram",
    )
    .await;
    assert_eq!(strings(&b, 0), vec!["db", "hive", "hive"]);
    assert_eq!(strings(&b, 1), vec!["NULL", "hiv", "ive"]);

    let b = query(&mut ctx, "SELECT char_ngrams('abcd', 2) AS (p, g)").await;
    assert_eq!(strings(&b, 1), vec!["ab", "bc", "cd"]);

    let b = query(
        &mut ctx,
        "SELECT gram FROM char_ngrams('xyz', 1) ORDER BY pos DESC",
    )
    .await;
    assert_eq!(strings(&b, 0), vec!["z", "y", "x"]);

    // Plan-time errors come from the generator itself.
    let err = ctx
        .execute("SELECT * FROM char_ngrams('abc', 0)")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("positive constant n"), "{err}");

    // It is listed and documented like a built-in.
    let b = query(&mut ctx, "SHOW FUNCTIONS LIKE 'char_n*'").await;
    assert_eq!(strings(&b, 0), vec!["char_ngrams"]);
    let b = query(&mut ctx, "DESCRIBE FUNCTION char_ngrams").await;
    assert!(
        strings(&b, 0)
            .iter()
            .any(|l| l.contains("char_ngrams(text, n)"))
    );
}

#[tokio::test]
async fn every_generator_and_hive_function_is_documented() {
    let mut ctx = ApiaryContext::new().await.unwrap();
    let mut names: Vec<String> = apiary::udfs::all_generators()
        .iter()
        .map(|g| g.name().to_string())
        .collect();
    names.extend(
        apiary::udfs::hive::all_scalar_functions()
            .iter()
            .map(|f| f.name().to_string()),
    );
    names.extend(
        apiary::udfs::hive::all_aggregate_functions()
            .iter()
            .map(|f| f.name().to_string()),
    );
    assert!(names.len() >= 20, "{names:?}");
    for name in names {
        let b = query(&mut ctx, &format!("DESCRIBE FUNCTION EXTENDED {name}")).await;
        let lines = strings(&b, 0);
        // Hive's functions start with Hive's usage line (`name(args) - what it does`),
        // Apiary's own with `Usage: `.
        let hive_usage = apiary_udfs::hive::catalog::hive_function(&name)
            .map(|f| f.usage)
            .filter(|u| !u.is_empty());
        if let Some(usage) = hive_usage {
            assert_eq!(lines[0], usage, "{name}");
            continue;
        }
        assert!(lines[0].starts_with("Usage: "), "{name}: {lines:?}");
        assert!(
            lines.iter().any(|l| l == "Example:"),
            "{name} has no example: {lines:?}"
        );
    }
}
