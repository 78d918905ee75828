//! The catalog of Hive's built-in functions (`udfs/src/hive/catalog/*.tsv`) against the engine:
//! every function marked as answering like Hive exists in a session and describes itself with
//! Hive's usage line; every refused one fails with its reason; the README lists them all.

use apiary::{ApiaryContext, StatementOutput};
use apiary_udfs::hive::catalog::{Family, Status, hive_functions};
use datafusion::arrow::array::AsArray;
use futures::TryStreamExt;

/// The first column of a statement's rows, as text.
async fn lines(ctx: &mut ApiaryContext, sql: &str) -> Vec<String> {
    let StatementOutput::Rows(stream) = ctx.execute(sql).await.unwrap() else {
        panic!("{sql}: no rows");
    };
    let batches: Vec<_> = stream.try_collect().await.unwrap();
    let mut out = Vec::new();
    for b in batches {
        let column = datafusion::arrow::compute::cast(
            b.column(0),
            &datafusion::arrow::datatypes::DataType::Utf8,
        )
        .unwrap();
        out.extend(
            column
                .as_string::<i32>()
                .iter()
                .map(|v| v.unwrap_or("NULL").to_string()),
        );
    }
    out
}

#[tokio::test]
async fn every_hive_function_exists_and_describes_itself_as_hive_does() {
    let mut ctx = ApiaryContext::new().await.unwrap();
    let names = ctx.function_names();
    let mut absent = Vec::new();
    for f in hive_functions() {
        match f.status {
            Status::Hive => {
                if !names.iter().any(|n| n == f.name) {
                    absent.push(f.name);
                }
            }
            Status::Syntax | Status::Refused | Status::Missing => {}
        }
        if matches!(f.status, Status::Hive | Status::Syntax) {
            let described = lines(&mut ctx, &format!("DESCRIBE FUNCTION {}", f.name)).await;
            assert_eq!(described, [f.usage], "DESCRIBE FUNCTION {}", f.name);
        }
    }
    assert!(
        absent.is_empty(),
        "marked `hive` in the catalog but not registered: {absent:?}"
    );
}

#[tokio::test]
async fn a_refused_hive_function_says_why() {
    let mut ctx = ApiaryContext::new().await.unwrap();
    let refused: Vec<_> = hive_functions()
        .iter()
        .filter(|f| f.status == Status::Refused)
        .collect();
    assert!(!refused.is_empty());
    for f in refused {
        let error = match ctx.execute(&format!("SELECT {}(1)", f.name)).await {
            Ok(StatementOutput::Rows(stream)) => stream
                .try_collect::<Vec<_>>()
                .await
                .err()
                .map(|e| e.to_string()),
            Ok(_) => None,
            Err(e) => Some(e.to_string()),
        };
        let error = error.unwrap_or_else(|| panic!("{} answered", f.name));
        assert!(
            error.contains(f.note) && error.contains("not supported"),
            "{}: {error}",
            f.name
        );
    }
}

/// The README's list of Hive functions: one `- **Family** (n): a, b, ...` line per family,
/// under the heading `### Hive built-in functions`.
fn readme_families() -> Vec<(String, Vec<String>)> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("### Hive built-in functions")
        .nth(1)
        .expect("README has a `### Hive built-in functions` section");
    let section = section.split("\n#").next().unwrap_or(section);
    section
        .lines()
        .filter_map(|l| l.strip_prefix("- **"))
        .filter_map(|l| {
            let (family, rest) = l.split_once("**")?;
            let (_, names) = rest.split_once(':')?;
            // Each item is a name in backticks, maybe followed by a remark in parentheses.
            let names = names
                .split(',')
                .filter_map(|item| item.split('`').nth(1))
                .map(str::to_string)
                .collect();
            Some((family.to_string(), names))
        })
        .collect()
}

#[test]
fn the_readme_lists_every_hive_function_by_family() {
    let listed = readme_families();
    for family in Family::ALL {
        let expected: Vec<&str> = hive_functions()
            .iter()
            .filter(|f| f.family == family && matches!(f.status, Status::Hive | Status::Syntax))
            .map(|f| f.name)
            .collect();
        if expected.is_empty() {
            continue;
        }
        let title = readme_title(family);
        let Some((_, names)) = listed.iter().find(|(f, _)| f == title) else {
            panic!("the README lists no **{title}** functions");
        };
        assert_eq!(names, &expected, "README's **{title}** list");
    }
    let gaps: Vec<&str> = hive_functions()
        .iter()
        .filter(|f| {
            matches!(f.status, Status::Missing | Status::Refused) && f.family != Family::Internal
        })
        .map(|f| f.name)
        .collect();
    let listed_gaps: Vec<&str> = listed
        .iter()
        .filter(|(f, _)| f == "Not offered")
        .flat_map(|(_, names)| names.iter().map(String::as_str))
        .collect();
    assert_eq!(listed_gaps, gaps, "README's **Not offered** list");
}

/// The README's title for a family.
fn readme_title(family: Family) -> &'static str {
    match family {
        Family::Math => "Mathematical",
        Family::Collection => "Collection",
        Family::Conversion => "Type conversion",
        Family::Date => "Date",
        Family::Conditional => "Conditional",
        Family::String => "String",
        Family::Masking => "Data masking",
        Family::Misc => "Miscellaneous",
        Family::Aggregate => "Aggregate",
        Family::Generator => "Table-generating",
        Family::Window => "Windowing",
        Family::Internal => "Hive internals",
    }
}
