"""ElemwiseSumLayer (regkit/layers/merge.py)."""
import numpy as np
import pytest

from regkit import backend
from regkit.layers import ElemwiseSumLayer, InputLayer, get_output

from conftest import evaluate

T = backend.tensor


def test_elemwise_sum_layer(rng):
    a, b = InputLayer((None, 3)), InputLayer((None, 3))
    layer = ElemwiseSumLayer([a, b], coeffs=[0.5, -2])
    x, y = rng.normal(size=(2, 4, 3))
    out = evaluate(get_output(layer), {a.input_var: x, b.input_var: y})
    np.testing.assert_allclose(out, 0.5 * x - 2 * y)
    assert ElemwiseSumLayer([a, b], coeffs=3).coeffs == [3, 3]
    assert ElemwiseSumLayer([(None, 3), (5, None)]).output_shape == (5, 3)


def test_elemwise_sum_layer_errors():
    a, b = InputLayer((None, 3)), InputLayer((None, 4))
    with pytest.raises(ValueError, match="shapes do not match"):
        ElemwiseSumLayer([a, b])
    with pytest.raises(ValueError, match="dimensions"):
        ElemwiseSumLayer([a, InputLayer((None, 3, 1))])
    with pytest.raises(ValueError, match="coeffs has 3 values for 2"):
        ElemwiseSumLayer([a, a], coeffs=[1, 2, 3])
    with pytest.raises(TypeError, match="coeffs"):
        ElemwiseSumLayer([a, a], coeffs="1")
    with pytest.raises(TypeError, match="coeffs"):
        ElemwiseSumLayer([a, a], coeffs=[1, None])


def test_elemwise_sum_never_truncates_a_coefficient():
    a = InputLayer((None, 2), T.imatrix("a"))
    b = InputLayer((None, 2), T.imatrix("b"))
    ones = np.ones((1, 2), "int32")
    half = get_output(ElemwiseSumLayer([a, b], coeffs=0.5))
    assert half.dtype == backend.floatX
    np.testing.assert_allclose(evaluate(half, {a.input_var: ones,
                                               b.input_var: ones}), [[1, 1]])
    # integer coefficients keep integer sums exact
    twice = get_output(ElemwiseSumLayer([a, b], coeffs=[2, -1]))
    assert twice.dtype.startswith("int")
    np.testing.assert_array_equal(
        evaluate(twice, {a.input_var: ones, b.input_var: ones}), [[1, 1]])
    for bad, error in ((np.nan, ValueError), (np.inf, ValueError),
                       (1 + 2j, TypeError), ("1", TypeError)):
        with pytest.raises(error, match="ElemwiseSumLayer: coeffs"):
            ElemwiseSumLayer([a, b], coeffs=bad)
