"""DenseLayer (regkit/layers/dense.py)."""
import numpy as np
import pytest

from regkit import backend
from regkit import layers as L
from regkit.layers import DenseLayer, InputLayer, get_output

from conftest import evaluate

T = backend.tensor


def test_dense_layer_output_matches_numpy(rng):
    W = rng.normal(size=(4, 3))
    b = rng.normal(size=3)
    data = rng.normal(size=(5, 4))
    l_in = InputLayer((None, 4))
    for nonlinearity, reference in [
            (L.rectify, lambda a: np.maximum(a, 0)),
            (L.sigmoid, lambda a: 1 / (1 + np.exp(-a))),
            (L.tanh, np.tanh),
            (None, lambda a: a),
            (L.identity, lambda a: a),
            (L.softmax, lambda a: np.exp(a) / np.exp(a).sum(1, keepdims=True))]:
        layer = DenseLayer(l_in, 3, W=W, b=b, nonlinearity=nonlinearity)
        out = evaluate(get_output(layer), {l_in.input_var: data})
        np.testing.assert_allclose(out, reference(data @ W + b), rtol=1e-6)


def test_dense_layer_flattens_and_no_bias(rng):
    data = rng.normal(size=(2, 3, 4))
    W = rng.normal(size=(12, 5))
    l_in = InputLayer((None, 3, 4))
    layer = DenseLayer(l_in, 5, W=W, b=None, nonlinearity=None)
    assert layer.b is None and list(layer.params) == [layer.W]
    out = evaluate(get_output(layer), {l_in.input_var: data})
    np.testing.assert_allclose(out, data.reshape(2, -1) @ W, rtol=1e-6)


def test_dense_layer_parameters_and_defaults():
    L.set_rng(0)
    layer = DenseLayer(InputLayer((None, 30)), 20, name="hid")
    assert layer.W.get_value().shape == (30, 20)
    assert layer.params[layer.W] == {"trainable", "regularizable"}
    assert layer.params[layer.b] == {"trainable"}
    assert [layer.param_names[p] for p in layer.params] == ["hid.W", "hid.b"]
    bound = np.sqrt(6.0 / 50)
    w = layer.W.get_value()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert w.dtype == backend.floatX
    np.testing.assert_array_equal(layer.b.get_value(), np.zeros(20))
    L.set_rng(0)
    again = DenseLayer(InputLayer((None, 30)), 20)
    np.testing.assert_array_equal(again.W.get_value(), w)


@pytest.mark.parametrize("num_units, error", [
    (0, ValueError), (-3, ValueError), ("3", TypeError), (2.5, TypeError),
    (True, TypeError)])
def test_dense_layer_bad_num_units(num_units, error):
    with pytest.raises(error, match="num_units"):
        DenseLayer(InputLayer((None, 3)), num_units)


def test_dense_layer_other_errors():
    with pytest.raises(TypeError, match="nonlinearity"):
        DenseLayer(InputLayer((None, 3)), 2, nonlinearity="relu")
    with pytest.raises(ValueError, match="input shape"):
        DenseLayer(InputLayer((None, None)), 2)
    with pytest.raises(ValueError, match="num_leading_axes=1 .* no trailing"):
        DenseLayer(InputLayer((None,)), 2)
    with pytest.raises(ValueError, match="shape"):
        DenseLayer(InputLayer((None, 3)), 2, W=np.zeros((2, 3)))


@pytest.mark.parametrize("leading, out_shape, W_shape", [
    (1, (None, 2), (12, 2)),
    (2, (None, 3, 2), (4, 2)),
    (-1, (None, 3, 2), (4, 2)),
    (-2, (None, 2), (12, 2)),
])
def test_dense_layer_num_leading_axes_matches_numpy(leading, out_shape,
                                                    W_shape, rng):
    data = rng.normal(size=(5, 3, 4))
    W = rng.normal(size=W_shape)
    b = rng.normal(size=2)
    layer = DenseLayer(InputLayer((None, 3, 4)), 2, W=W, b=b,
                       nonlinearity=None, num_leading_axes=leading)
    assert layer.output_shape == out_shape
    x = T.tensor3()
    got = backend.function([x], layer.get_output_for(x))(data)
    kept = leading % 3
    expected = data.reshape(data.shape[:kept] + (-1,)).dot(W) + b
    assert got.shape == (5,) + out_shape[1:]
    np.testing.assert_allclose(got, expected, rtol=1e-10)


@pytest.mark.parametrize("leading, match", [
    (3, "num_leading_axes=3 for a 3-dimensional input .* no trailing"),
    (-4, "num_leading_axes=-4 .* more trailing axes"),
    (0, "known along the trailing axes"),
])
def test_dense_layer_impossible_num_leading_axes(leading, match):
    with pytest.raises(ValueError, match=match):
        DenseLayer(InputLayer((None, 3, 4)), 2, num_leading_axes=leading)
    with pytest.raises(TypeError, match="num_leading_axes"):
        DenseLayer(InputLayer((None, 3)), 2, num_leading_axes=1.0)
