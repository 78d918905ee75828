//! Held-out quality on the binarized UCI digits with default options, against issue 6's
//! PyTorch numbers (goal: within 0.3 nats per image). Slow in a debug build and needs the
//! digits CSVs (`$APIARY_DIGITS_DIR`, default `/work/shared/data`), so it is ignored by
//! default: `cargo test -p apiary-models --release -- --ignored quality`.

use apiary_models::{BitMatrix, NoProgress, TrainOptions, train};

fn read_digits(name: &str) -> BitMatrix {
    let dir = std::env::var("APIARY_DIGITS_DIR").unwrap_or_else(|_| "/work/shared/data".into());
    let path = format!("{dir}/digits_{name}.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut rows = BitMatrix::new(64);
    for line in text.lines().skip(1) {
        let (start, end) = (line.find('[').unwrap(), line.rfind(']').unwrap());
        let pixels: Vec<i32> = line[start + 1..end]
            .split(',')
            .map(|v| v.trim().parse().unwrap())
            .collect();
        rows.push_row_values(&pixels).unwrap();
    }
    rows
}

#[test]
#[ignore = "slow; needs the digits CSVs"]
fn quality_on_digits_is_within_0_3_nats_of_pytorch() {
    let (train_rows, test_rows) = (read_digits("train"), read_digits("test"));
    assert_eq!((train_rows.rows(), test_rows.rows()), (1500, 297));
    for (model_type, hidden, pytorch) in [
        ("bernoulli", None, 25.22),
        ("fvsbn", None, 18.27),
        ("nade", Some("32"), 17.51),
        ("nade", Some("128"), 16.93),
    ] {
        let pairs: Vec<(String, String)> = hidden
            .map(|h| ("hidden".to_string(), h.to_string()))
            .into_iter()
            .collect();
        let options = TrainOptions::from_options(model_type, &pairs).unwrap();
        let (model, _) = train(&options, &train_rows, &mut NoProgress).unwrap();
        let mut ll = vec![0.0; test_rows.rows()];
        model
            .as_binary()
            .unwrap()
            .loglik_batch(&test_rows, &mut ll)
            .unwrap();
        let nll = -ll.iter().sum::<f64>() / ll.len() as f64;
        assert!(
            nll < pytorch + 0.3,
            "{model_type} {hidden:?}: test NLL {nll:.3}, PyTorch {pytorch}"
        );
    }
}
