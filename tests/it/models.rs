//! Models through the `apiary` binary: DESCRIBE MODEL, persistence across processes, the
//! progress bar on a terminal (and not in scripts), and Ctrl-C cancelling a training run.

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
