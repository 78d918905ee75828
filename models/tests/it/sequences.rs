//! Sequence models through the public API: training is deterministic, models survive a
//! safetensors round trip, decoding with the key/value cache draws exactly what full
//! recomputation draws, the bigram is normalised, and bad input is a clear error.

use apiary_models::{
    Model, ModelError, NoProgress, RngCore, SampleOptions, SequenceModel, SequenceOptions,
    TrainingRows, sample_rng, train_sequences,
};

/// Words with structure worth learning: syllables from a small inventory.
fn words(count: usize, seed: u64) -> Vec<String> {
    let syllables = ["ba", "ko", "ri", "tu", "men", "sa", "lo", "qui", "x"];
    let mut rng = sample_rng(seed, 5);
    (0..count)
        .map(|_| {
            let n = 1 + rng.next_u32() as usize % 4;
            (0..n)
                .map(|_| syllables[rng.next_u32() as usize % syllables.len()])
                .collect()
        })
        .collect()
}

fn options(model_type: &str, extra: &[(&str, &str)]) -> SequenceOptions {
    let mut pairs: Vec<(String, String)> = [
        ("layers", "1"),
        ("d_model", "16"),
        ("heads", "2"),
        ("mlp", "32"),
        ("context", "16"),
        ("steps", "60"),
        ("eval_every", "20"),
        ("batch_size", "32"),
        ("learning_rate", "0.01"),
    ]
    .iter()
    .filter(|_| model_type == "transformer")
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in extra {
        pairs.retain(|(name, _)| name != k);
        pairs.push((k.to_string(), v.to_string()));
    }
    SequenceOptions::from_options(model_type, &pairs).unwrap()
}

fn trained(model_type: &str, extra: &[(&str, &str)]) -> Model {
    let rows = TrainingRows::Strings(words(400, 1));
    train_sequences(&options(model_type, extra), &rows, &mut NoProgress)
        .unwrap()
        .0
}

fn seq(m: &Model) -> &SequenceModel {
    m.as_sequence().unwrap()
}

#[test]
fn same_seed_same_weights_and_training_learns() {
    let a = trained("transformer", &[]);
    let b = trained("transformer", &[]);
    assert!(
        seq(&a).same_weights(seq(&b)),
        "same options and rows, same model"
    );
    let c = trained("transformer", &[("seed", "1")]);
    assert!(
        !seq(&a).same_weights(seq(&c)),
        "another seed, other weights"
    );
    let report = a.report().unwrap();
    // The syllable words are far more predictable than uniform over the vocabulary.
    let uniform = (seq(&a).vocab().len() as f64).ln();
    assert!(
        report.validation_nll.unwrap() < 0.75 * uniform,
        "{report:?}"
    );
    assert_eq!(report.train_rows + report.validation_rows, 400);
    // The transformer beats the bigram on held-out words of the same kind.
    let bigram = trained("bigram", &[]);
    let test = words(300, 2);
    let nll = |m: &Model| {
        let m = seq(m);
        let enc: Vec<Vec<u32>> = test.iter().map(|w| m.encode_str(w).unwrap()).collect();
        let seqs: Vec<&[u32]> = enc.iter().map(Vec::as_slice).collect();
        let mut ll = vec![0.0; seqs.len()];
        m.loglik_batch(&seqs, &mut ll).unwrap();
        -ll.iter().sum::<f64>() / seqs.iter().map(|s| s.len() + 1).sum::<usize>() as f64
    };
    let long = trained("transformer", &[("steps", "300"), ("eval_every", "100")]);
    assert!(
        nll(&long) < nll(&bigram),
        "{} vs {}",
        nll(&long),
        nll(&bigram)
    );
}

#[test]
fn round_trip_keeps_every_bit() {
    for model in [trained("transformer", &[]), trained("bigram", &[])] {
        let bytes = model.to_safetensors();
        let back = Model::from_safetensors(&bytes).unwrap();
        assert_eq!(back, model);
        assert_eq!(back.to_safetensors(), bytes, "writing is deterministic");
        let (a, b) = (seq(&model), seq(&back));
        let x = a.encode_str("kobaqui").unwrap();
        assert_eq!(
            a.loglik(&x).unwrap().to_bits(),
            b.loglik(&x).unwrap().to_bits()
        );
        // A damaged file is an error, not a panic.
        let mut broken = bytes.clone();
        broken.truncate(bytes.len() - 4);
        assert!(matches!(
            Model::from_safetensors(&broken),
            Err(ModelError::Corrupt(_))
        ));
    }
}

#[test]
fn cached_sampling_draws_what_recomputation_draws() {
    let model = trained("transformer", &[]);
    let m = seq(&model);
    let rng = |k: usize| Box::new(sample_rng(42, k as u64)) as Box<dyn RngCore>;
    for (prefix, o) in [
        ("", SampleOptions::default()),
        (
            "ko",
            SampleOptions {
                temperature: 0.7,
                ..Default::default()
            },
        ),
        (
            "x",
            SampleOptions {
                top_k: Some(3),
                ..Default::default()
            },
        ),
        (
            "",
            SampleOptions {
                top_p: Some(0.8),
                max_len: Some(6),
                ..Default::default()
            },
        ),
    ] {
        let p = m.encode_str(prefix).unwrap();
        let cached = m.complete(&p, 20, &o, rng).unwrap();
        let full = m.complete_uncached(&p, 20, &o, rng).unwrap();
        assert_eq!(cached, full, "prefix '{prefix}'");
        for s in &cached {
            assert!(s.starts_with(&p));
            assert!(s.len() <= o.max_len.unwrap_or(15));
        }
        let again = m.complete(&p, 20, &o, rng).unwrap();
        assert_eq!(cached, again, "same seed, same samples");
    }
    // Samples look like the training words: mostly made of its syllables' letters.
    let samples = m.complete(&[], 50, &SampleOptions::default(), rng).unwrap();
    let text: String = samples.iter().map(|s| m.vocab().decode_str(s)).collect();
    assert!(!text.is_empty() && !text.contains('\u{FFFD}'), "{text}");
}

#[test]
fn bigram_distribution_sums_to_one() {
    // Strings over {a, b}: all sequences up to length L ending, plus those cut at L + 1.
    let rows = TrainingRows::Strings(vec!["ab".into(), "b".into(), "aab".into(), String::new()]);
    let (model, _) = train_sequences(&options("bigram", &[]), &rows, &mut NoProgress).unwrap();
    let m = seq(&model);
    let tokens: Vec<u32> = (1..m.vocab().len() as u32).collect(); // unknown, a, b
    let mut total = 0.0;
    let mut level: Vec<Vec<u32>> = vec![vec![]];
    for _ in 0..=5 {
        let mut next = Vec::new();
        for s in &level {
            total += m.loglik(s).unwrap().exp();
            for &t in &tokens {
                let mut q = s.clone();
                q.push(t);
                next.push(q);
            }
        }
        level = next;
    }
    // What is left is the probability of not having ended within 5 tokens.
    let unfinished: f64 = level
        .iter()
        .map(|s| m.logprobs(s).unwrap()[..s.len()].iter().sum::<f64>().exp())
        .sum();
    assert!(
        (total + unfinished - 1.0).abs() < 1e-6,
        "{total} + {unfinished}"
    );
}

#[test]
fn bad_input_is_a_clear_error() {
    let err = |t: &str, rows: TrainingRows, extra: &[(&str, &str)]| {
        train_sequences(&options(t, extra), &rows, &mut NoProgress)
            .unwrap_err()
            .to_string()
    };
    let e = err("transformer", TrainingRows::Strings(vec![]), &[]);
    assert!(e.contains("empty"), "{e}");
    let long = TrainingRows::Strings(vec!["a".repeat(40)]);
    let e = err("transformer", long.clone(), &[]);
    assert!(
        e.contains("row 1 has 41 tokens") && e.contains("context = 16"),
        "{e}"
    );
    // With truncate the long row trains on its first 16 positions.
    let ok = train_sequences(
        &options("transformer", &[("truncate", "true")]),
        &long,
        &mut NoProgress,
    );
    assert!(ok.is_ok());
    let e = err("bigram", TrainingRows::Ids(vec![vec![1, -2]]), &[]);
    assert!(e.contains("token id -2 at position 1"), "{e}");
    let e = err(
        "bigram",
        TrainingRows::Ids(vec![vec![1, 7]]),
        &[("vocab_size", "5")],
    );
    assert!(e.contains("token id 7"), "{e}");

    let model = trained("transformer", &[]);
    let m = seq(&model);
    let e = m
        .loglik(&m.encode_str(&"ba".repeat(10)).unwrap())
        .unwrap_err();
    assert!(
        matches!(
            e,
            ModelError::SequenceTooLong {
                tokens: 21,
                context: 16
            }
        ),
        "{e}"
    );
    assert!(
        m.encode_ids(&[1, 2]).is_err(),
        "a string model takes no ids"
    );
    // Unknown characters score as the unknown token, and are never sampled.
    let unknown = m.encode_str("bü").unwrap();
    assert_eq!(unknown[1], apiary_models::UNKNOWN);
    assert!(m.loglik(&unknown).unwrap().is_finite());
    let o = SampleOptions {
        temperature: 0.0,
        ..Default::default()
    };
    assert!(
        m.complete(&[], 1, &o, |_| Box::new(sample_rng(0, 0)))
            .is_err()
    );
    let o = SampleOptions {
        max_len: Some(16),
        ..Default::default()
    };
    assert!(
        m.complete(&[], 1, &o, |_| Box::new(sample_rng(0, 0)))
            .is_err()
    );
    assert!(
        seq(&trained("bigram", &[])).embed(&[2]).is_err(),
        "a bigram has no embeddings"
    );

    let ids = TrainingRows::Ids(vec![vec![0, 3, 2], vec![1, 1], vec![]]);
    let (model, _) = train_sequences(&options("bigram", &[]), &ids, &mut NoProgress).unwrap();
    let m = seq(&model);
    assert_eq!(m.vocab().len(), 5, "ids 0..=3 and the end token");
    assert!(m.encode_ids(&[4]).is_err());
    assert!(m.encode_str("a").is_err(), "an id model takes no strings");
}

#[test]
fn embeddings_and_logprobs_are_consistent() {
    let model = trained("transformer", &[]);
    let m = seq(&model);
    let x = m.encode_str("menlo").unwrap();
    let lp = m.logprobs(&x).unwrap();
    assert_eq!(lp.len(), 6);
    assert!((lp.iter().sum::<f64>() - m.loglik(&x).unwrap()).abs() < 1e-9);
    let e = m.embed(&x).unwrap();
    assert_eq!(e.len(), 16);
    assert_ne!(e, m.embed(&m.encode_str("tu").unwrap()).unwrap());
    assert_eq!(m.embed(&[]).unwrap().len(), 16);
    // A large batch (scored in chunks, half on another thread) gives each sequence the
    // score it gets alone, bit for bit.
    let many: Vec<Vec<u32>> = words(2500, 3)
        .iter()
        .map(|w| m.encode_str(w).unwrap())
        .collect();
    let seqs: Vec<&[u32]> = many.iter().map(Vec::as_slice).collect();
    let mut ll = vec![0.0; seqs.len()];
    m.loglik_batch(&seqs, &mut ll).unwrap();
    for (s, l) in seqs.iter().zip(&ll).step_by(97) {
        assert_eq!(m.loglik(s).unwrap().to_bits(), l.to_bits());
    }
    let lps = m.logprobs_batch(&seqs).unwrap();
    assert_eq!(lps[2499], m.logprobs(seqs[2499]).unwrap());
    let (base, _) = m.rope().unwrap();
    assert_eq!(base, 10_000.0);
    assert_eq!(m.token_embedding(x[0]).unwrap().len(), 16);
}
