//! serde: JSON round trips are exact, the format is the documented one, and bad input is an error.
#![cfg(feature = "serde")]

use rand_pcg::Pcg64Mcg;
use serde_json::Value;
use static_rnn::init::{BiasInit, Scheme};
use static_rnn::rand_core::SeedableRng;
use static_rnn::{Identity, Params, Relu, Rnn, Sigmoid, Softmax, Tanh, Tensors};

/// Whether every scalar of `a` and `b` has the same bits (`==` would equate `0.0` and `−0.0`).
fn bitwise_eq_f32<const I: usize, const H: usize, const O: usize>(
    a: &Params<I, H, O, f32>,
    b: &Params<I, H, O, f32>,
) -> bool {
    a.tensors()
        .iter()
        .zip(b.tensors())
        .all(|(x, y)| x.iter().zip(y).all(|(x, y)| x.to_bits() == y.to_bits()))
}

fn bitwise_eq_f64<const I: usize, const H: usize, const O: usize>(
    a: &Params<I, H, O, f64>,
    b: &Params<I, H, O, f64>,
) -> bool {
    a.tensors()
        .iter()
        .zip(b.tensors())
        .all(|(x, y)| x.iter().zip(y).all(|(x, y)| x.to_bits() == y.to_bits()))
}

/// Random parameters with full-precision mantissas, plus the awkward finite values in `b_y`.
fn awkward_f32() -> Params<5, 16, 6, f32> {
    let scheme = Scheme {
        b_h: BiasInit::Uniform { bound: 1e-3 },
        ..Scheme::keras()
    };
    let mut p = Params::<5, 16, 6, f32>::init(&mut Pcg64Mcg::seed_from_u64(1), scheme);
    p.b_y.copy_from_slice(&[
        -0.0,
        f32::MIN_POSITIVE,
        f32::from_bits(1), // the smallest subnormal
        f32::MAX,
        -f32::MAX,
        0.1,
    ]);
    p
}

fn awkward_f64() -> Params<5, 16, 6, f64> {
    let mut p = Params::<5, 16, 6, f64>::init(&mut Pcg64Mcg::seed_from_u64(2), Scheme::pytorch());
    p.b_y.copy_from_slice(&[
        -0.0,
        f64::MIN_POSITIVE,
        f64::from_bits(1),
        f64::MAX,
        -f64::MAX,
        0.1,
    ]);
    p
}

#[test]
fn params_round_trip_through_json_bit_for_bit_in_f32() {
    let p = awkward_f32();
    let json = serde_json::to_string(&p).unwrap();
    let back: Params<5, 16, 6, f32> = serde_json::from_str(&json).unwrap();
    assert!(bitwise_eq_f32(&p, &back), "{json}");
}

#[test]
fn params_round_trip_through_json_bit_for_bit_in_f64() {
    let p = awkward_f64();
    let json = serde_json::to_string(&p).unwrap();
    let back: Params<5, 16, 6, f64> = serde_json::from_str(&json).unwrap();
    assert!(bitwise_eq_f64(&p, &back), "{json}");
}

#[test]
fn models_round_trip_through_json_bit_for_bit() {
    let rnn = Rnn::<5, 16, 6, Tanh, Softmax, f32>::from_params(awkward_f32());
    let json = serde_json::to_string_pretty(&rnn).unwrap();
    let back: Rnn<5, 16, 6, Tanh, Softmax, f32> = serde_json::from_str(&json).unwrap();
    assert!(bitwise_eq_f32(&rnn.params, &back.params));

    let rnn = Rnn::<5, 16, 6, Relu, Identity, f64>::from_params(awkward_f64());
    let json = serde_json::to_string(&rnn).unwrap();
    let back: Rnn<5, 16, 6, Relu, Identity, f64> = serde_json::from_str(&json).unwrap();
    assert!(bitwise_eq_f64(&rnn.params, &back.params));
}

#[test]
fn a_model_is_written_as_its_parameters_only() {
    let p = awkward_f64();
    let model = Rnn::<5, 16, 6, Sigmoid, Sigmoid, f64>::from_params(p);
    assert_eq!(
        serde_json::to_value(model).unwrap(),
        serde_json::to_value(p).unwrap()
    );
    // So the reader's type decides the activations.
    let json = serde_json::to_string(&model).unwrap();
    let as_tanh: Rnn<5, 16, 6, Tanh, Identity, f64> = serde_json::from_str(&json).unwrap();
    assert!(bitwise_eq_f64(&as_tanh.params, &p));
}

#[test]
fn the_format_is_five_named_column_major_sequences() {
    let p = awkward_f64();
    let value = serde_json::to_value(p).unwrap();
    let object = value.as_object().unwrap();
    let names: Vec<&str> = object.keys().map(String::as_str).collect();
    let mut expected = Params::<5, 16, 6, f64>::names().to_vec();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    expected.sort_unstable();
    assert_eq!(sorted, expected);
    // W_x is 16 × 5; its element k is row k mod 16 of column k div 16.
    let w_x = object["w_x"].as_array().unwrap();
    assert_eq!(w_x.len(), 16 * 5);
    for (k, x) in w_x.iter().enumerate() {
        assert_eq!(
            x.as_f64().unwrap().to_bits(),
            p.w_x[(k % 16, k / 16)].to_bits()
        );
    }
    assert_eq!(object["b_y"].as_array().unwrap().len(), 6);
}

#[test]
fn a_tensor_of_the_wrong_length_is_an_error() {
    let mut value = serde_json::to_value(awkward_f64()).unwrap();
    // One number too few, then one too many.
    value["b_h"].as_array_mut().unwrap().pop();
    assert!(serde_json::from_value::<Params<5, 16, 6, f64>>(value.clone()).is_err());
    value["b_h"]
        .as_array_mut()
        .unwrap()
        .extend([Value::from(0.0), Value::from(0.0)]);
    assert!(serde_json::from_value::<Params<5, 16, 6, f64>>(value).is_err());
    // A model of another shape.
    let json = serde_json::to_string(&awkward_f64()).unwrap();
    assert!(serde_json::from_str::<Params<5, 17, 6, f64>>(&json).is_err());
}

#[test]
fn missing_and_unknown_fields_are_errors() {
    let value = serde_json::to_value(awkward_f64()).unwrap();
    let mut missing = value.clone();
    missing.as_object_mut().unwrap().remove("w_y");
    assert!(serde_json::from_value::<Params<5, 16, 6, f64>>(missing).is_err());
    let mut unknown = value;
    unknown
        .as_object_mut()
        .unwrap()
        .insert("w_z".into(), Value::from(1.0));
    assert!(serde_json::from_value::<Params<5, 16, 6, f64>>(unknown).is_err());
}

#[test]
fn a_non_finite_parameter_does_not_survive_json() {
    // JSON has no NaN or infinity: serde_json writes `null`, which does not read back as a number.
    let mut p = awkward_f64();
    p.w_h[(0, 0)] = f64::NAN;
    let json = serde_json::to_string(&p).unwrap();
    assert!(json.contains("null"));
    assert!(serde_json::from_str::<Params<5, 16, 6, f64>>(&json).is_err());
}
