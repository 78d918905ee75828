//! Models survive a safetensors round trip bit for bit, and corrupt files are errors.

use apiary_models::{Model, ModelError, ModelType, NoProgress, train};

use crate::{all_vectors, binary, small_options, toy_data};

#[test]
fn round_trip_keeps_every_bit() {
    let data = toy_data(10, 200, 4);
    let all = all_vectors(10);
    for t in ModelType::BINARY {
        let (model, report) = train(&small_options(t, 5), &data, &mut NoProgress).unwrap();
        let bytes = model.to_safetensors();
        let back = Model::from_safetensors(&bytes).unwrap();
        assert_eq!(back, model, "{t}: weights, options and report");
        assert_eq!(back.report(), Some(&report));
        assert_eq!(
            back.to_safetensors(),
            bytes,
            "{t}: writing is deterministic"
        );
        let (a, b) = (binary(model), binary(back));
        let (mut la, mut lb) = (vec![0.0; 1024], vec![0.0; 1024]);
        a.loglik_batch(&all, &mut la).unwrap();
        b.loglik_batch(&all, &mut lb).unwrap();
        assert!(la.iter().zip(&lb).all(|(x, y)| x.to_bits() == y.to_bits()));
        assert_eq!(a.sample(10, 1.0, 3).unwrap(), b.sample(10, 1.0, 3).unwrap());
    }
}

#[test]
fn untrained_models_round_trip_without_a_report() {
    for model in crate::untrained_models(7)
        .into_iter()
        .chain(crate::untrained_models(1))
    {
        let model = Model::from(model);
        let back = Model::from_safetensors(&model.to_safetensors()).unwrap();
        assert_eq!(back, model);
        assert!(back.report().is_none());
    }
}

#[test]
fn the_file_is_standard_safetensors() {
    let model = Model::from(crate::untrained_models(5).remove(2)); // nade, hidden 8
    let bytes = model.to_safetensors();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    assert_eq!(header_len % 8, 0);
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
    assert_eq!(header["__metadata__"]["model_type"], "nade");
    assert_eq!(header["__metadata__"]["input_len"], "5");
    assert_eq!(header["input_weight"]["shape"], serde_json::json!([4, 8]));
    assert_eq!(header["output_weight"]["dtype"], "F32");
    let data_len = bytes.len() - 8 - header_len;
    assert_eq!(data_len, 4 * model.param_count());
}

#[test]
fn corrupt_files_are_errors_not_panics() {
    let data = toy_data(6, 50, 5);
    for t in ModelType::BINARY {
        let (model, _) = train(&small_options(t, 2), &data, &mut NoProgress).unwrap();
        let bytes = model.to_safetensors();
        for len in 0..bytes.len() {
            assert!(
                Model::from_safetensors(&bytes[..len]).is_err(),
                "{t}: cut at {len}"
            );
        }
        // Flip every byte of the header and a sample of the data: error or a model, never a panic.
        for i in (0..bytes.len()).step_by(3) {
            let mut b = bytes.clone();
            b[i] ^= 0x5a;
            let _ = Model::from_safetensors(&b);
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(Model::from_safetensors(&extra).is_err());
    }
    let not_ours = b"\x10\x00\x00\x00\x00\x00\x00\x00{}              ";
    assert!(matches!(
        Model::from_safetensors(not_ours),
        Err(ModelError::Corrupt(_))
    ));
    let err = Model::from_safetensors(b"garbage").unwrap_err();
    assert!(err.to_string().contains("corrupt model file"), "{err}");
}

#[test]
fn a_nan_weight_is_refused() {
    let model = Model::from(crate::untrained_models(4).remove(0)); // bernoulli: 4 logits
    let mut bytes = model.to_safetensors();
    let at = bytes.len() - 4;
    bytes[at..].copy_from_slice(&f32::NAN.to_le_bytes());
    let err = Model::from_safetensors(&bytes).unwrap_err();
    assert!(err.to_string().contains("non-finite"), "{err}");
}
