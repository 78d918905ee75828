//! Bad input is an error that names the problem.

use apiary_models::{
    BinaryModel, BitMatrix, ModelError, ModelType, NoProgress, TrainOptions, train,
};

use crate::trained_models;

#[test]
fn wrong_lengths_and_values() {
    for model in trained_models(6) {
        assert!(matches!(
            model.loglik(&[0, 1, 0]),
            Err(ModelError::WrongInputLength {
                expected: 6,
                found: 3
            })
        ));
        let err = model.loglik(&[0, 1, 0, 2, 0, 0]).unwrap_err();
        assert!(matches!(
            err,
            ModelError::NotABit {
                position: 3,
                value: 2
            }
        ));
        assert!(err.to_string().contains("position 3"), "{err}");
        assert!(model.logprobs(&[1; 7]).is_err());
        assert!(model.embed(&[1; 5]).is_err());
        assert!(matches!(
            model.complete(&[0; 7], 1.0, &mut apiary_models::sample_rng(0, 0)),
            Err(ModelError::PrefixTooLong { n: 6, found: 7 })
        ));
        assert!(
            model
                .complete(&[0, 3], 1.0, &mut apiary_models::sample_rng(0, 0))
                .is_err()
        );
        let other = BitMatrix::zeros(5, 2);
        assert!(model.loglik_batch(&other, &mut [0.0; 2]).is_err());
        let same = BitMatrix::zeros(6, 3);
        assert!(matches!(
            model.loglik_batch(&same, &mut [0.0; 2]),
            Err(ModelError::WrongOutputLength {
                expected: 3,
                found: 2
            })
        ));
        model.loglik_batch(&BitMatrix::new(6), &mut []).unwrap();
    }
}

#[test]
fn training_refuses_empty_and_absurd_inputs() {
    let o = TrainOptions::defaults(ModelType::Fvsbn);
    assert!(matches!(
        train(&o, &BitMatrix::new(4), &mut NoProgress),
        Err(ModelError::EmptyTrainingSet)
    ));
    let zero_width = BitMatrix::new(0);
    assert!(matches!(
        train(&o, &zero_width, &mut NoProgress),
        Err(ModelError::EmptyTrainingSet)
    ));
    let err = BinaryModel::init(&o, 0).unwrap_err();
    assert!(err.to_string().contains("input length 0"), "{err}");
    let err = BinaryModel::init(&o, 20_000).unwrap_err();
    assert!(err.to_string().contains("parameters"), "{err}");
    let mut nade = TrainOptions::defaults(ModelType::Nade);
    nade.hidden = Some(60_000);
    assert!(BinaryModel::init(&nade, 1_000).is_err());
    assert!(BinaryModel::init(&TrainOptions::defaults(ModelType::Bernoulli), 2_000_000).is_err());
}

#[test]
fn one_bit_and_one_row_train() {
    for t in ModelType::BINARY {
        let mut data = BitMatrix::new(1);
        data.push_row(&[1]).unwrap();
        let (model, report) = train(&crate::small_options(t, 3), &data, &mut NoProgress).unwrap();
        assert_eq!(report.validation_rows, 0, "one row: nothing to hold out");
        assert!(report.validation_nll.is_none());
        let m = model.as_binary().unwrap();
        let p1 = m.loglik(&[1]).unwrap().exp();
        let p0 = m.loglik(&[0]).unwrap().exp();
        assert!((p0 + p1 - 1.0).abs() < 1e-12 && p1 > 0.5, "{t}: {p1}");
    }
}
