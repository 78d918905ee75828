//! Models through the `apiary` binary: DESCRIBE MODEL, persistence across processes, the
//! progress bar on a terminal (and not in scripts), and Ctrl-C cancelling a training run —
//! for binary models and for sequence models (steps, nats per token).

use std::path::Path;
use std::process::Command;

fn apiary_in(warehouse: &Path) -> Command {
    let mut cmd = super::apiary();
    cmd.arg("--warehouse").arg(warehouse);
    cmd
}

fn run(warehouse: &Path, sql: &str) -> (String, String) {
    let o = apiary_in(warehouse)
        .args(["--format", "csv", "-e", sql])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{sql}\n{err}");
    (out, err)
}

#[test]
fn describe_model_and_a_second_process_see_the_trained_model() {
    let dir = tempfile::tempdir().unwrap();
    let (_, err) = run(
        dir.path(),
        "CREATE MODEL d OPTIONS (model_type = 'nade', hidden = 8, epochs = 7, patience = 100) \
         AS SELECT pixels FROM digits_train",
    );
    // Piped stderr: no progress bar.
    assert!(!err.contains("epoch"), "{err}");
    let (out, _) = run(dir.path(), "DESCRIBE MODEL d");
    let rows: Vec<(String, String)> = out
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(','))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let get = |k: &str| {
        rows.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {k} in {out}"))
    };
    assert_eq!(get("model"), "default.d");
    assert_eq!(get("model_type"), "nade");
    assert_eq!(get("input"), "ARRAY<INT> of 64 bits");
    // NADE: hidden and output biases, W (H×(n−1): x_{n−1} conditions nothing) and V (n×H).
    assert_eq!(get("parameters"), (8 + 64 + (2 * 64 - 1) * 8).to_string());
    assert_eq!(get("epochs_run"), "7");
    assert_eq!(get("option.hidden"), "8");
    assert_eq!(get("train_rows"), "1350");
    assert_eq!(get("validation_rows"), "150");
    let train: f64 = get("train_nll").parse().unwrap();
    let valid: f64 = get("validation_nll").parse().unwrap();
    assert!(train > 10.0 && train < 45.0, "{train}");
    assert!(valid > 10.0 && valid < 45.0, "{valid}");
    let seconds: f64 = get("training_seconds").parse().unwrap();
    assert!(seconds >= 0.0);
    assert!(Path::new(&get("file")).exists());

    // Another process scores with the stored weights: the same numbers as this one.
    let query = "SELECT id, loglik('d', pixels) FROM digits_test ORDER BY id LIMIT 5";
    let (first, _) = run(dir.path(), query);
    let (second, _) = run(dir.path(), query);
    assert_eq!(first, second);
    assert_eq!(first.lines().count(), 6, "{first}");
}

#[test]
fn progress_on_a_terminal_and_ctrl_c_cancels_training() {
    let dir = tempfile::tempdir().unwrap();
    run(
        dir.path(),
        "CREATE MODEL big OPTIONS (model_type = 'bernoulli', epochs = 1, validation_fraction = 0) \
         AS SELECT pixels FROM digits_train",
    );
    let mut cmd = apiary_in(dir.path());
    cmd.args(["--format", "csv"]);
    let mut p = rexpect::session::spawn_command(cmd, Some(60_000)).unwrap();
    p.exp_string("apiary> ").unwrap();
    // A long run (NADE, many epochs) that would replace the stored model.
    p.send_line(
        "CREATE OR REPLACE MODEL big OPTIONS (model_type = 'nade', hidden = 256, \
         epochs = 100000, patience = 100000) AS SELECT pixels FROM digits_train;",
    )
    .unwrap();
    p.exp_string("big [").unwrap();
    p.exp_string("epoch ").unwrap();
    p.send_control('c').unwrap();
    p.exp_string("Query cancelled").unwrap();
    p.exp_string("apiary> ").unwrap();
    // Nothing was stored: the model is the one trained before.
    p.send_line("SHOW MODELS;").unwrap();
    p.exp_string("big,bernoulli").unwrap();
    p.exp_string("apiary> ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
    let (out, _) = run(dir.path(), "SHOW MODELS");
    assert!(out.contains("big,bernoulli"), "{out}");
}

/// The `DESCRIBE MODEL` rows as (property, value) pairs.
fn describe(warehouse: &Path, model: &str) -> Vec<(String, String)> {
    let (out, _) = run(warehouse, &format!("DESCRIBE MODEL {model}"));
    out.lines()
        .skip(1)
        .filter_map(|l| l.split_once(','))
        .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
        .collect()
}

#[test]
fn a_sequence_model_is_described_in_steps_and_nats_per_token_and_survives_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let (summary, err) = run(
        dir.path(),
        "CREATE MODEL w OPTIONS (model_type = 'transformer', steps = 40, d_model = 16, \
         heads = 2, mlp = 32, layers = 1, eval_every = 20, context = 24, \
         validation_fraction = 0.05, seed = 7) AS SELECT word FROM words_train WHERE id % 5 = 0",
    );
    // Piped stderr: no progress bar.
    assert!(!err.contains("step"), "{err}");
    // The summary row: the context is the input length, `epochs` counts steps.
    let row: Vec<&str> = summary.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(
        &row[..4],
        &["default.w", "transformer", "24", "3180"],
        "{summary}"
    );
    assert_eq!(row[6], "40", "{summary}");

    let rows = describe(dir.path(), "w");
    let get = |k: &str| {
        rows.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {k} in {rows:?}"))
    };
    assert_eq!(get("model"), "default.w");
    assert_eq!(get("model_type"), "transformer");
    assert_eq!(get("input"), "STRING (26 characters)");
    assert_eq!(get("nll_unit"), "nats per token (end tokens counted)");
    assert_eq!(get("vocabulary"), "28 tokens: 26 characters, end, unknown");
    assert_eq!(get("context"), "24");
    assert_eq!(get("steps_run"), "40");
    // Validation passes at steps 20 and 40: the kept weights are one of them.
    assert!(
        ["20", "40"].contains(&get("best_step").as_str()),
        "{rows:?}"
    );
    assert!(!rows.iter().any(|(k, _)| k == "epochs_run"), "{rows:?}");
    assert_eq!(get("option.d_model"), "16");
    assert_eq!(get("option.rope_style"), "half");
    let words: usize = get("train_rows").parse::<usize>().unwrap()
        + get("validation_rows").parse::<usize>().unwrap();
    let (count, _) = run(
        dir.path(),
        "SELECT count(*) FROM words_train WHERE id % 5 = 0",
    );
    assert_eq!(count.lines().nth(1), Some(words.to_string().as_str()));
    let train: f64 = get("train_nll").parse().unwrap();
    let valid: f64 = get("validation_nll").parse().unwrap();
    // Nats per token: below the uniform ln 28 = 3.33, above what 40 steps can reach.
    for nll in [train, valid] {
        assert!(nll > 2.0 && nll < 28f64.ln(), "{nll}");
    }

    // Another process scores and completes with the stored weights: the same answers.
    let query = "SELECT id, loglik('w', word) FROM words_test ORDER BY id LIMIT 5; \
                 SELECT g.sample_id, g.seq FROM (VALUES ('qu')) t(p) \
                 LATERAL VIEW generate('w', p, 3, 1.0, 42) g AS sample_id, seq; \
                 SELECT * FROM sample('w', 3, 0.9, 5)";
    let (first, _) = run(dir.path(), query);
    let (second, _) = run(dir.path(), query);
    assert_eq!(first, second);
    assert!(first.contains("\n0,qu"), "{first}");
    assert_eq!(first.lines().count(), 6 + 4 + 4, "{first}");

    let (shown, _) = run(dir.path(), "SHOW MODELS");
    assert!(
        shown.contains("w,transformer,STRING (26 characters),3180,"),
        "{shown}"
    );
    run(dir.path(), "DROP MODEL w");
    let (shown, _) = run(dir.path(), "SHOW MODELS");
    assert_eq!(shown.lines().count(), 1, "{shown}");
}

#[test]
fn a_transformer_shows_steps_on_a_terminal_and_ctrl_c_cancels_it() {
    let dir = tempfile::tempdir().unwrap();
    run(
        dir.path(),
        "CREATE MODEL seq OPTIONS (model_type = 'bigram') AS SELECT word FROM words_train",
    );
    let mut cmd = apiary_in(dir.path());
    cmd.args(["--format", "csv"]);
    let mut p = rexpect::session::spawn_command(cmd, Some(60_000)).unwrap();
    p.exp_string("apiary> ").unwrap();
    // A long run (many steps, evaluated rarely) that would replace the stored bigram.
    p.send_line(
        "CREATE OR REPLACE MODEL seq OPTIONS (model_type = 'transformer', d_model = 16, \
         heads = 2, mlp = 32, layers = 1, steps = 10000000, eval_every = 1000000) \
         AS SELECT word FROM words_train;",
    )
    .unwrap();
    p.exp_string("seq [").unwrap();
    p.exp_string("step ").unwrap();
    p.exp_string("nats/token").unwrap();
    p.exp_string("tok/s").unwrap();
    p.send_control('c').unwrap();
    p.exp_string("Query cancelled").unwrap();
    p.exp_string("apiary> ").unwrap();
    // Nothing was stored: the model is the bigram trained before.
    p.send_line("SHOW MODELS;").unwrap();
    p.exp_string("seq,bigram").unwrap();
    p.exp_string("apiary> ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
    let (out, _) = run(dir.path(), "SHOW MODELS");
    assert!(out.contains("seq,bigram"), "{out}");
}
