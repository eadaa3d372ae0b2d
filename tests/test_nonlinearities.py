import numpy as np
import pytest

from regkit import backend
from regkit.nonlinearities import (identity, linear, rectify, sigmoid,
                                   softmax, tanh)
from regkit.layers import InputLayer

from conftest import evaluate

T = backend.tensor
ELEMENTWISE = [(rectify, lambda a: np.maximum(a, 0)),
               (sigmoid, lambda a: 1 / (1 + np.exp(-a))),
               (tanh, np.tanh),
               (identity, lambda a: a)]


@pytest.mark.parametrize("fn, reference", ELEMENTWISE)
def test_elementwise_values_shape_and_dtype(fn, reference, rng):
    data = rng.normal(size=(2, 3, 4)).astype("float32")
    x = T.tensor3(dtype="float32")
    result = fn(x)
    assert result.dtype == "float32"
    np.testing.assert_allclose(evaluate(result, {x: data}), reference(data),
                               rtol=1e-6)
    assert linear is identity


def test_softmax_rows_sum_to_one(rng):
    data = rng.normal(size=(5, 3))
    x = T.matrix()
    value = evaluate(softmax(x), {x: data})
    expected = np.exp(data) / np.exp(data).sum(1, keepdims=True)
    np.testing.assert_allclose(value, expected, rtol=1e-10)


@pytest.mark.parametrize("fn", [rectify, sigmoid, tanh, softmax, identity])
@pytest.mark.parametrize("bad", [None, "x", {"x": 1}, np.array([object()])])
def test_non_tensors_are_refused_by_name(fn, bad):
    with pytest.raises(TypeError, match="%s: x must be a tensor"
                       % fn.__name__):
        fn(bad)
    with pytest.raises(TypeError, match=fn.__name__):
        fn(InputLayer((None, 2)))


def test_softmax_needs_a_matrix():
    # Theano's softmax turns a vector into a 1-row matrix, PyTensor's keeps
    # it a vector: regkit allows only the case both agree on.
    for bad in (T.vector(), T.tensor3(), np.ones(3)):
        with pytest.raises(ValueError, match="softmax: x must be a"):
            softmax(bad)
