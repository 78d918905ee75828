//! Samples follow the model's probabilities; completions keep their prefix; seeds reproduce.

use apiary_models::{BitMatrix, ModelError, sample_rng};

use crate::{all_vectors, trained_models};

/// χ² of 40,000 samples of a 3-bit model against its exact probabilities (7 degrees of
/// freedom; 24.32 is the 0.1 % critical value), for each model type.
#[test]
fn sample_frequencies_match_probabilities() {
    let all = all_vectors(3);
    for model in trained_models(3) {
        let mut ll = vec![0.0; 8];
        model.loglik_batch(&all, &mut ll).unwrap();
        let draws = 40_000;
        let samples = model.sample(draws, 1.0, 2024).unwrap();
        let mut counts = [0usize; 8];
        for x in samples.iter_rows() {
            counts[usize::from(x[0]) | usize::from(x[1]) << 1 | usize::from(x[2]) << 2] += 1;
        }
        let chi2: f64 = counts
            .iter()
            .zip(&ll)
            .map(|(&c, &l)| {
                let expected = draws as f64 * l.exp();
                (c as f64 - expected).powi(2) / expected
            })
            .sum();
        assert!(
            chi2 < 24.32,
            "{}: χ² = {chi2}, counts {counts:?}",
            model.model_type()
        );
    }
}

#[test]
fn temperature_sharpens_and_flattens() {
    for model in trained_models(8) {
        // Near zero: every bit is the likelier one given the bits before it.
        let greedy = model.sample(5, 1e-6, 1).unwrap();
        for x in greedy.iter_rows() {
            assert_eq!(x, greedy.row(0), "greedy samples are all alike");
            for (lp, &bit) in model.logprobs(x).unwrap().iter().zip(x) {
                assert!(*lp >= (0.5f64).ln() - 1e-12, "bit {bit} was the likelier");
            }
        }
        // Very hot: close to fair coins.
        let hot = model.sample(4000, 1e6, 1).unwrap();
        let ones = hot.as_slice().iter().filter(|&&b| b == 1).count() as f64;
        let share = ones / hot.as_slice().len() as f64;
        assert!((share - 0.5).abs() < 0.02, "{share}");
        for t in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                model.sample(1, t, 0),
                Err(ModelError::BadTemperature(_))
            ));
        }
    }
}

#[test]
fn samples_depend_only_on_seed_and_index() {
    for model in trained_models(12) {
        let all = model.sample(20, 1.0, 7).unwrap();
        assert_eq!(
            all,
            model.sample(20, 1.0, 7).unwrap(),
            "same seed, same samples"
        );
        assert_ne!(all, model.sample(20, 1.0, 8).unwrap(), "another seed");
        let part = model.sample_range(5, 10, 1.0, 7).unwrap();
        assert_eq!(
            part.as_slice(),
            &all.as_slice()[5 * 12..15 * 12],
            "batches of one stream"
        );
        let distinct: std::collections::HashSet<&[u8]> = all.iter_rows().collect();
        assert!(distinct.len() > 1, "samples differ from each other");
    }
}

#[test]
fn completions_keep_their_prefix() {
    for model in trained_models(10) {
        let prefix = [1u8, 0, 1, 1];
        let mut rng = sample_rng(3, 0);
        let mut completions = BitMatrix::new(10);
        for _ in 0..50 {
            let x = model.complete(&prefix, 1.0, &mut rng).unwrap();
            assert_eq!(&x[..4], &prefix);
            completions.push_row(&x).unwrap();
        }
        let distinct: std::collections::HashSet<&[u8]> = completions.iter_rows().collect();
        assert!(distinct.len() > 1, "the suffix is sampled");
        // Whole vector given: nothing to sample. Empty prefix: a sample.
        let full = [0u8, 1, 0, 1, 0, 1, 0, 1, 0, 1];
        assert_eq!(model.complete(&full, 1.0, &mut rng).unwrap(), full);
        assert_eq!(model.complete(&[], 1.0, &mut rng).unwrap().len(), 10);
        // The conditional of a completed bit is the model's: with prefix x_<9 and a near-zero
        // temperature, bit 9 is the likelier one.
        let x = model.complete(&full[..9], 1e-9, &mut rng).unwrap();
        let lp = model.logprobs(&x).unwrap();
        assert!(lp[9] >= (0.5f64).ln() - 1e-12);
    }
}

#[test]
fn embeddings_have_documented_shapes() {
    for model in trained_models(10) {
        let x = [1u8, 0, 1, 1, 0, 0, 1, 0, 1, 1];
        let e = model.embed(&x).unwrap();
        assert_eq!(e.len(), model.embed_len());
        assert!(e.iter().all(|&v| v > 0.0 && v < 1.0));
        match model.model_type() {
            apiary_models::ModelType::Nade => {
                assert_eq!(e.len(), 8);
                let mut y = x;
                y[9] = 0;
                assert_eq!(model.embed(&y).unwrap(), e, "the last bit is not read");
                y[0] = 0;
                assert_ne!(model.embed(&y).unwrap(), e);
            }
            _ => {
                // p(x_i = 1 | x_<i): the exp of the logprob of a 1.
                assert_eq!(e.len(), 10);
                let lp = model.logprobs(&x).unwrap();
                for i in 0..10 {
                    let p1 = if x[i] == 1 {
                        lp[i].exp()
                    } else {
                        1.0 - lp[i].exp()
                    };
                    assert!((f64::from(e[i]) - p1).abs() < 1e-5);
                }
            }
        }
    }
}
