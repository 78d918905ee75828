//! log p(x) is an exact log-probability: it sums to one over {0,1}^n, and the per-position
//! conditionals add up to it.

use crate::{all_vectors, trained_models, untrained_models};

#[test]
fn probabilities_sum_to_one_over_all_1024_vectors() {
    let all = all_vectors(10);
    for model in untrained_models(10).into_iter().chain(trained_models(10)) {
        let mut ll = vec![0.0; all.rows()];
        model.loglik_batch(&all, &mut ll).unwrap();
        let total: f64 = ll.iter().map(|l| l.exp()).sum();
        let trained = model.report().is_some();
        assert!(
            (total - 1.0).abs() < 1e-9,
            "{} (trained: {trained}): Σ exp(loglik) = {total:.15}",
            model.model_type()
        );
    }
}

#[test]
fn batch_single_and_logprobs_agree() {
    let all = all_vectors(10);
    for model in trained_models(10) {
        let mut ll = vec![0.0; all.rows() + 3];
        model.loglik_batch(&all, &mut ll).unwrap();
        for (k, x) in all.iter_rows().enumerate().step_by(7) {
            let single = model.loglik(x).unwrap();
            assert_eq!(single.to_bits(), ll[k].to_bits(), "one row as in a batch");
            let lp = model.logprobs(x).unwrap();
            assert_eq!(lp.len(), 10);
            assert!(lp.iter().all(|&l| l <= 0.0));
            let sum: f64 = lp.iter().sum();
            assert!(
                (sum - single).abs() < 1e-9,
                "{}: Σ logprobs {sum} vs loglik {single}",
                model.model_type()
            );
        }
    }
}

#[test]
fn training_beats_the_untrained_model() {
    let data = crate::toy_data(10, 300, 2);
    let mut ll = vec![0.0; data.rows()];
    for (untrained, trained) in untrained_models(10).into_iter().zip(trained_models(10)) {
        untrained.loglik_batch(&data, &mut ll).unwrap();
        let before: f64 = ll.iter().sum();
        trained.loglik_batch(&data, &mut ll).unwrap();
        let after: f64 = ll.iter().sum();
        assert!(
            after > before + 20.0,
            "{}: {before} → {after}",
            trained.model_type()
        );
    }
}
