//! Arbitrary text through Apiary's SQL front end, executing nothing: script splitting,
//! `${}` substitution, command classification, Hive type names, parsing (tokenizer, LATERAL
//! VIEW token rewrite, Hive and model statement parsers, AST rewrite, security guard),
//! placeholders, and planning (`ApiaryContext::plan_sql`, the parameter schema a prepared
//! statement announces, DataFusion's optimizer and, for queries, the physical planner).
//!
//! One context on a temporary warehouse is built once per process, on one worker thread with
//! the statement stack (`apiary::exec::STATEMENT_STACK_SIZE`) that owns a tokio runtime; each
//! input is handed to that thread. A panic there aborts the process (libfuzzer-sys's panic
//! hook), which libFuzzer reports as a crash.

#![no_main]

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Mutex, OnceLock};

use apiary::ApiaryContext;
use apiary::server::prepared::parameter_schema;
use apiary::sql::command::{Command, classify};
use apiary::sql::hive_types::parse_hive_type;
use apiary::sql::params::placeholders;
use apiary::sql::{Variables, is_complete, split_script};
use datafusion::logical_expr::LogicalPlan;
use libfuzzer_sys::fuzz_target;

/// The worker's two ends: inputs in, "done" out.
struct Worker {
    inputs: SyncSender<String>,
    done: Receiver<()>,
}

static WORKER: OnceLock<Mutex<Worker>> = OnceLock::new();

/// Variables as a script might define them: plain values, one holding a whole clause, ones that
/// refer to others, one to itself, and one that doubles each round.
fn variables() -> Variables {
    let mut v = Variables::default();
    for (k, val) in [
        ("t", "pageads"),
        ("n", "3"),
        ("cols", "a, b, c"),
        ("where", "WHERE x > ${n}"),
        ("db", "default"),
        ("self", "${self}"),
        ("twice", "${twice}${twice}"),
        ("empty", ""),
    ] {
        v.hivevar.insert(k.into(), val.into());
    }
    v.hiveconf.insert("c".into(), "${hivevar:n}".into());
    v
}

fn start() -> Mutex<Worker> {
    let (inputs, rx) = sync_channel::<String>(0);
    let (tx, done) = sync_channel::<()>(0);
    std::thread::Builder::new()
        .name("statement".into())
        .stack_size(apiary::exec::STATEMENT_STACK_SIZE)
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let ctx = runtime.block_on(ApiaryContext::new()).unwrap();
            let vars = variables();
            for text in rx {
                runtime.block_on(front_end(&ctx, &vars, &text));
                if tx.send(()).is_err() {
                    break;
                }
            }
        })
        .unwrap();
    Mutex::new(Worker { inputs, done })
}

/// One script through everything before execution. Errors are fine; panics are not.
async fn front_end(ctx: &ApiaryContext, vars: &Variables, text: &str) {
    let _ = is_complete(text);
    let script = split_script(text);
    for statement in script.statements.iter().chain(script.rest.as_ref()) {
        let Ok(sql) = vars.substitute(&statement.text, false) else {
            continue;
        };
        if classify(&sql) != Command::Sql {
            continue;
        }
        let _ = parse_hive_type(&sql);
        let Ok(parsed) = ctx.parse(&sql) else {
            continue;
        };
        for p in &parsed {
            let _ = placeholders(p);
        }
        let Ok(plans) = ctx.plan_sql(&sql).await else {
            continue;
        };
        let state = ctx.session().state();
        for plan in plans {
            let _ = parameter_schema(&plan);
            match plan {
                // Statements whose physical plans would write (or do nothing): optimize only.
                LogicalPlan::Ddl(_)
                | LogicalPlan::Dml(_)
                | LogicalPlan::Copy(_)
                | LogicalPlan::Statement(_)
                | LogicalPlan::DescribeTable(_) => {
                    let _ = state.optimize(&plan);
                }
                _ => {
                    let _ = state.create_physical_plan(&plan).await;
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let worker = WORKER.get_or_init(start).lock().unwrap();
    worker.inputs.send(text.to_string()).unwrap();
    worker.done.recv().unwrap();
});
