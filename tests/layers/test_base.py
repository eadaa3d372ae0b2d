"""Layer and MergeLayer, and the creation of parameters
(regkit/layers/base.py)."""
import numpy as np
import pytest

from regkit import backend
from regkit import layers as L
from regkit.layers import DenseLayer, InputLayer, Layer, MergeLayer

from conftest import Concat, Passthrough

T = backend.tensor


# --- add_param ---------------------------------------------------------------

def test_add_param_from_array_copies_and_keeps_dtype():
    layer = Layer((None, 3), name="hid")
    array = np.arange(6, dtype="float32").reshape(3, 2)
    W = layer.add_param(array, (3, 2), name="W")
    assert isinstance(W, backend.SharedVariable)
    assert W.dtype == "float32" and W.name == "hid.W"
    array[0, 0] = 100.0
    assert W.get_value()[0, 0] == 0.0  # a copy, not an alias


def test_add_param_from_callable_casts_to_floatx():
    layer = Layer((None, 3))
    p = layer.add_param(lambda shape: np.ones(shape, dtype="float64"), (2, 2),
                        name="p")
    assert p.dtype == backend.floatX
    assert p.name == "p"  # unnamed layer: bare name
    np.testing.assert_array_equal(p.get_value(), np.ones((2, 2)))


def test_add_param_shared_and_expression_used_as_is():
    layer = Layer((None, 3), name="hid")
    w = backend.shared(np.zeros((3, 2)), name="mine")
    assert layer.add_param(w, (3, 2), name="W") is w
    assert w.name == "mine"  # the caller's variable is not renamed
    assert layer.param_names[w] == "hid.W"
    expr = 2 * w
    assert layer.add_param(expr, (3, 2), name="V") is expr


def test_add_param_tags():
    layer = Layer((None, 3))
    a = layer.add_param(np.zeros(2), (2,), name="a")
    b = layer.add_param(np.zeros(2), (2,), name="b", regularizable=False)
    c = layer.add_param(np.zeros(2), (2,), name="c", custom=True,
                        trainable=False, other=False)
    assert layer.params[a] == {"trainable", "regularizable"}
    assert layer.params[b] == {"trainable"}
    assert layer.params[c] == {"regularizable", "custom"}
    assert list(layer.params) == [a, b, c]


@pytest.mark.parametrize("spec, shape", [
    (np.zeros((3, 2)), (2, 3)),
    (lambda shape: np.zeros((1, 1)), (2, 3)),
    (backend.shared(np.zeros((3, 3))), (3, 2)),
    (backend.shared(np.zeros(3)), (3, 2)),
    (T.vector(), (3, 2)),
])
def test_add_param_wrong_shape(spec, shape):
    with pytest.raises(ValueError, match="shape|dimensions"):
        Layer((None, 3)).add_param(spec, shape, name="W")


@pytest.mark.parametrize("shape", [(0, 2), (3, -1)])
def test_add_param_non_positive_dimension(shape):
    with pytest.raises(ValueError, match="shape must be positive"):
        Layer((None, 3)).add_param(np.zeros((3, 2)), shape, name="W")


@pytest.mark.parametrize("spec", [None, "W", [1.0, 2.0], np.array(["a", "b"])])
def test_add_param_wrong_spec_type(spec):
    with pytest.raises(TypeError, match="spec"):
        Layer((None, 3)).add_param(spec, (2,), name="W")


def test_add_param_bad_shape_type():
    with pytest.raises(TypeError, match="shape"):
        Layer((None, 3)).add_param(np.zeros(2), 2)
    with pytest.raises(TypeError, match="shape"):
        Layer((None, 3)).add_param(np.zeros(2), (2.0,))


def test_initializer_failures_and_complex_values_are_named():
    def broken(shape):
        raise RuntimeError("no weights today")

    with pytest.raises(ValueError, match="DenseLayer.add_param: the "
                                         "initializer .* for 'W' failed"):
        DenseLayer(InputLayer((None, 2)), 2, W=broken)
    with pytest.raises(TypeError, match="dtype complex128"):
        DenseLayer(InputLayer((None, 2)), 2,
                   W=lambda shape: np.ones(shape) * 1j)
    with pytest.raises(ValueError, match="set_rng: an int seed must be "
                                         "non-negative"):
        L.set_rng(-1)


# --- get_params --------------------------------------------------------------

def _tagged_layer():
    layer = Layer((None, 3))
    a = layer.add_param(np.zeros(1), (1,), name="a")                # t, r
    b = layer.add_param(np.zeros(1), (1,), name="b", regularizable=False)
    c = layer.add_param(np.zeros(1), (1,), name="c", trainable=False)
    d = layer.add_param(np.zeros(1), (1,), name="d", trainable=False,
                        regularizable=False, special=True)
    return layer, a, b, c, d


def test_get_params_tag_semantics():
    layer, a, b, c, d = _tagged_layer()
    assert layer.get_params() == [a, b, c, d]
    assert layer.get_params(trainable=True) == [a, b]
    assert layer.get_params(trainable=False) == [c, d]
    assert layer.get_params(regularizable=True) == [a, c]
    assert layer.get_params(trainable=True, regularizable=True) == [a]
    assert layer.get_params(trainable=False, regularizable=False) == [d]
    assert layer.get_params(special=True) == [d]
    assert layer.get_params(special=False) == [a, b, c]
    assert layer.get_params(unknown=True) == []


def test_get_params_unwraps_expressions():
    layer = Layer((None, 3))
    w1 = backend.shared(np.ones((3, 2)), name="w1")
    w2 = backend.shared(np.ones((3, 2)), name="w2")
    expr = T.tanh(w1) * 2 + w2 * w1
    layer.add_param(expr, (3, 2), name="W")
    assert layer.get_params() == [w1, w2]
    assert layer.get_params(unwrap_shared=False) == [expr]
    assert layer.get_params(regularizable=False) == []


# --- Layer and MergeLayer ----------------------------------------------------

def test_layer_incoming_validation():
    with pytest.raises(TypeError, match="incoming"):
        Passthrough("input")
    with pytest.raises(ValueError, match="positive"):
        Passthrough((None, 0))
    with pytest.raises(TypeError, match="name"):
        Passthrough((None, 3), name=3)
    with pytest.raises(TypeError, match="incomings"):
        Concat(InputLayer((None, 2)))
    with pytest.raises(TypeError, match="incomings"):
        Concat([InputLayer((None, 2)), "x"])
    with pytest.raises(ValueError, match="empty"):
        Concat([])


def test_base_classes_require_implementations():
    with pytest.raises(NotImplementedError):
        Layer((None, 2)).get_output_for(T.matrix())
    merge = MergeLayer([(None, 2)])
    with pytest.raises(NotImplementedError):
        merge.output_shape
    with pytest.raises(NotImplementedError):
        merge.get_output_for([T.matrix()])


def test_symbolic_output_shape_is_refused_naming_the_layer():
    class Symbolic(Layer):
        def get_output_shape_for(self, input_shape):
            return (input_shape[0], T.iscalar("n"))

    layer = Symbolic((None, 3), name="weird")
    with pytest.raises(ValueError, match="Symbolic.*'weird'.*symbolic"):
        layer.output_shape
    with pytest.raises(ValueError, match="Symbolic.*'weird'"):
        DenseLayer(layer, 2)


def test_renaming_a_layer_with_parameters_is_refused():
    layer = DenseLayer(InputLayer((None, 2)), 2, name="hidden")
    with pytest.raises(ValueError, match="cannot rename layer 'hidden'"):
        layer.name = "h"
    layer.name = "hidden"  # the same name is fine
    assert [n for n, _ in L.named_params(layer)] == ["hidden.W", "hidden.b"]
    fresh = Layer((None, 2))
    fresh.name = "later"  # no parameters yet
    assert fresh.name == "later"
