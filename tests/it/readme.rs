//! The README's SQL runs: every ```sql block, in order, on one fresh warehouse, each block in
//! a new session (so a block's `USE` does not reach the next). A statement that fails, or a
//! statement whose result has columns but no rows, fails the test (DDL, `SET` and `USE`
//! return no columns; INSERT returns its count). A block preceded by an HTML comment
//! starting `<!-- no-test` (with the reason) is skipped: one that needs a server, or trains
//! for minutes.

use std::sync::Arc;

use apiary::session::{ApiaryContext, SessionOptions, StatementOutput};
use apiary::warehouse::Warehouse;

/// A ```sql block: the README line of its first statement line, and its text.
struct SqlBlock {
    line: usize,
    text: String,
}

/// The ```sql blocks of `readme` not marked `<!-- no-test ... -->`.
fn sql_blocks(readme: &str) -> Vec<SqlBlock> {
    let lines: Vec<&str> = readme.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() != "```sql" {
            i += 1;
            continue;
        }
        let marked = lines[..i]
            .iter()
            .rev()
            .find(|l| !l.trim().is_empty())
            .is_some_and(|l| l.trim_start().starts_with("<!-- no-test"));
        let start = i + 1;
        let mut end = start;
        while end < lines.len() && lines[end].trim() != "```" {
            end += 1;
        }
        if !marked {
            blocks.push(SqlBlock {
                line: start + 1,
                text: lines[start..end].join("\n"),
            });
        }
        i = end + 1;
    }
    blocks
}

#[test]
fn blocks_are_found_and_marked_ones_skipped() {
    let readme = "x\n```sql\nSELECT 1;\n```\n<!-- no-test: needs a server -->\n```sql\nSELECT 2;\n```\n```sh\nls\n```\n";
    let blocks = sql_blocks(readme);
    assert_eq!(blocks.len(), 1);
    assert_eq!((blocks[0].line, blocks[0].text.as_str()), (3, "SELECT 1;"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_readme_sql_block_runs_and_its_queries_return_rows() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let blocks = sql_blocks(&readme);
    assert!(blocks.len() >= 5, "only {} sql blocks found", blocks.len());
    let dir = tempfile::tempdir().unwrap();
    let warehouse = Arc::new(Warehouse::open(dir.path()).unwrap());
    let mut failures = Vec::new();
    for block in &blocks {
        let mut ctx = ApiaryContext::open(Arc::clone(&warehouse), SessionOptions::default())
            .await
            .unwrap();
        let split = apiary::sql::split_script(&block.text);
        for statement in split.statements.into_iter().chain(split.rest) {
            let line = block.line + statement.line - 1;
            let text = statement.text.trim();
            match ctx.execute(text).await {
                Err(e) => failures.push(format!("README line {line}: {text}\n  failed: {e}")),
                Ok(StatementOutput::Rows(stream)) => {
                    let columns = stream.schema().fields().len();
                    match datafusion::physical_plan::common::collect(stream).await {
                        Err(e) => {
                            failures.push(format!("README line {line}: {text}\n  failed: {e}"))
                        }
                        Ok(batches) => {
                            let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
                            if columns > 0 && rows == 0 {
                                failures.push(format!(
                                    "README line {line}: {text}\n  returned no rows"
                                ));
                            }
                        }
                    }
                }
                Ok(_) => {}
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
