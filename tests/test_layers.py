import os
import subprocess
import sys

import numpy as np
import pytest

import regkit
from regkit import backend
from regkit import layers as L
from regkit.layers import (Constant, DenseLayer, ElemwiseSumLayer,
                           GlorotUniform, InputLayer, Layer, MergeLayer,
                           count_params, get_all_layers, get_all_param_values,
                           get_all_params, get_output, get_outputs,
                           layer_names, set_all_param_values)

from conftest import evaluate

T = backend.tensor


class Passthrough(Layer):
    def get_output_for(self, input, **kwargs):
        return input


class Concat(MergeLayer):
    def get_output_shape_for(self, input_shapes):
        return input_shapes[0]

    def get_output_for(self, inputs, **kwargs):
        return sum(inputs[1:], inputs[0])


# ------------------------------------------------------------- add_param --

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


# ------------------------------------------------------------ get_params --

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


def _expression_network():
    """A network whose parameters are expressions of shared variables, and
    the names of those variables in Lasagne's order."""
    shared = {name: backend.shared(np.full(shape, i + 1.0), name=name)
              for i, (name, shape) in enumerate([
                  ("W1", (4, 3)), ("W2", (3, 3)), ("x", (3,)), ("y", (3,))])}
    l_in = InputLayer((None, 4))
    hid = DenseLayer(l_in, 3, W=T.dot(shared["W1"], shared["W2"]),
                     b=shared["x"] ** 2 + T.log(shared["y"]))
    out = DenseLayer(hid, 2, W=np.full((3, 2), 5.0), b=np.full(2, 6.0))
    return out, ["W1", "W2", "x", "y", "W", "b"]


def test_expression_parameters_unwrap_in_lasagnes_order():
    # first appearance in a depth-first walk, operands left to right: the
    # same on both backends (PyTensor's own order is W2, W1 / y, x)
    out, expected = _expression_network()
    assert [p.name for p in get_all_params(out)] == expected
    assert [v.shape for v in get_all_param_values(out)] == [
        (4, 3), (3, 3), (3,), (3,), (3, 2), (2,)]


_SAVE_VALUES = r"""
import sys
import numpy as np
sys.path.insert(0, sys.argv[2])
from test_layers import _expression_network
from regkit.layers import get_all_param_values
np.savez(sys.argv[1], *get_all_param_values(_expression_network()[0]))
"""


@pytest.mark.parametrize("direction", ["other-to-this", "this-to-other"])
def test_values_saved_on_one_backend_load_on_the_other(direction, tmp_path):
    other = "pytensor" if backend.NAME == "theano" else "theano"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    python = os.path.join(root, ".venv", other, "bin", "python")
    if not os.path.exists(python):
        pytest.skip("no %s environment at %s (make builds it)"
                    % (other, python))
    here = os.path.dirname(os.path.abspath(__file__))
    path = str(tmp_path / "values.npz")
    if direction == "other-to-this":
        env = dict(os.environ, REGKIT_BACKEND=other)
        env.pop("THEANO_FLAGS", None)
        subprocess.run([python, "-c", _SAVE_VALUES, path, here], env=env,
                       check=True, capture_output=True, timeout=600)
        with np.load(path) as saved:
            values = [saved["arr_%d" % i] for i in range(len(saved.files))]
        out, _ = _expression_network()
        set_all_param_values(out, values)
        for value, param in zip(values, get_all_params(out)):
            np.testing.assert_array_equal(param.get_value(), value)
    else:
        out, _ = _expression_network()
        np.savez(path, *get_all_param_values(out))
        env = dict(os.environ, REGKIT_BACKEND=other)
        env.pop("THEANO_FLAGS", None)
        check = (_SAVE_VALUES.replace("np.savez(sys.argv[1], *", "mine = (")
                 + "saved = np.load(sys.argv[1])\n"
                 "assert all(np.array_equal(saved['arr_%d' % i], v) "
                 "for i, v in enumerate(mine)), 'order differs'\n")
        result = subprocess.run([python, "-c", check, path, here], env=env,
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------- layers --

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


def test_input_layer():
    l_in = InputLayer((None, 4), name="x")
    assert l_in.input_var.ndim == 2
    assert l_in.input_var.dtype == backend.floatX
    assert l_in.output_shape == (None, 4)
    var = T.tensor3("v")
    assert InputLayer((None, 2, 3), input_var=var).input_var is var
    with pytest.raises(ValueError, match="dimensions"):
        InputLayer((None, 4), input_var=var)
    with pytest.raises(TypeError, match="input_var"):
        InputLayer((None, 4), input_var=np.zeros((2, 4)))
    with pytest.raises(ValueError, match="positive"):
        InputLayer((None, -4))
    with pytest.raises(ValueError, match=r"input_var has shape \(None, 1\), "
                       r"expected \(None, 4\)"):
        InputLayer((None, 4), input_var=T.col())
    assert InputLayer((None, 1), input_var=T.col()).output_shape == (None, 1)
    assert "InputLayer" in repr(l_in) and "'x'" in repr(l_in)


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


def test_input_layer_default_variable_is_lasagnes():
    assert InputLayer((1, 2)).input_var.broadcastable == (True, False)
    assert InputLayer((None, 1, 5)).input_var.broadcastable == (
        False, True, False)
    assert InputLayer((None, 2), name="foo").input_var.name == "foo.input"
    assert InputLayer((None, 2)).input_var.name == "input"
    assert InputLayer((None, 2)).input_var.dtype == backend.floatX


def test_symbolic_output_shape_is_refused_naming_the_layer():
    class Symbolic(Layer):
        def get_output_shape_for(self, input_shape):
            return (input_shape[0], T.iscalar("n"))

    layer = Symbolic((None, 3), name="weird")
    with pytest.raises(ValueError, match="Symbolic.*'weird'.*symbolic"):
        layer.output_shape
    with pytest.raises(ValueError, match="Symbolic.*'weird'"):
        DenseLayer(layer, 2)


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


def test_initialisers():
    w = GlorotUniform(gain=2.0, rng=np.random.default_rng(1))((10, 6))
    assert np.abs(w).max() <= 2.0 * np.sqrt(6.0 / 16)
    conv = GlorotUniform()((8, 4, 3, 3))
    assert np.abs(conv).max() <= np.sqrt(6.0 / ((4 + 8) * 9))
    with pytest.raises(ValueError, match="at least 2"):
        GlorotUniform()((5,))
    np.testing.assert_array_equal(Constant(2.0)((2, 2)), np.full((2, 2), 2.0))
    # Lasagne's gain="relu" means sqrt(2); seeds are taken as rng
    assert GlorotUniform(gain="relu").gain == np.sqrt(2.0)
    np.testing.assert_array_equal(GlorotUniform(rng=5)((3, 2)),
                                  GlorotUniform(rng=5)((3, 2)))
    for gain in (0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="GlorotUniform: gain"):
            GlorotUniform(gain=gain)
    for gain in ("tanh", None):
        with pytest.raises(TypeError, match="GlorotUniform: gain"):
            GlorotUniform(gain=gain)
    with pytest.raises(TypeError, match="GlorotUniform: rng"):
        GlorotUniform(rng="seed")
    with pytest.raises(TypeError, match="Constant: value"):
        Constant("0")
    with pytest.raises(ValueError, match="Constant: value must be finite"):
        Constant(np.nan)
    with pytest.raises(TypeError, match="rng"):
        L.set_rng("seed")
    L.set_rng(np.random.RandomState(3))
    assert isinstance(L.get_rng(), np.random.RandomState)
    L.set_rng(L.DEFAULT_SEED)


# ------------------------------------------------------------ graph walk --

def _names(layers):
    return [layer.name for layer in layers]


def test_walk_stack():
    l_in = InputLayer((None, 2), name="in")
    l1 = Passthrough(l_in, name="l1")
    l2 = Passthrough(l1, name="l2")
    assert _names(get_all_layers(l2)) == ["in", "l1", "l2"]
    assert _names(get_all_layers([l2, l1])) == ["in", "l1", "l2"]
    assert _names(get_all_layers(l1)) == ["in", "l1"]


def test_walk_merge_takes_inputs_in_order():
    a = InputLayer((None, 2), name="a")
    b = InputLayer((None, 2), name="b")
    pb = Passthrough(b, name="pb")
    merge = Concat([pb, a], name="m")
    assert _names(get_all_layers(merge)) == ["b", "pb", "a", "m"]


def test_walk_split_and_bridge():
    # in -> h1 -> (h2a, h2b) -> merge; plus a bridge from h1 to the merge
    l_in = InputLayer((None, 2), name="in")
    h1 = Passthrough(l_in, name="h1")
    h2a = Passthrough(h1, name="h2a")
    h2b = Passthrough(h1, name="h2b")
    merge = Concat([h2a, h2b, h1], name="m")
    assert _names(get_all_layers(merge)) == ["in", "h1", "h2a", "h2b", "m"]
    bridge = Concat([h1, h2b], name="bridge")
    assert _names(get_all_layers(bridge)) == ["in", "h1", "h2b", "bridge"]


def test_walk_query_order_and_treat_as_input():
    l_in = InputLayer((None, 2), name="in")
    h1 = Passthrough(l_in, name="h1")
    h2 = Passthrough(h1, name="h2")
    other = Passthrough(l_in, name="other")
    assert _names(get_all_layers([other, h2])) == ["in", "other", "h1", "h2"]
    assert _names(get_all_layers([h2, other])) == ["in", "h1", "h2", "other"]
    assert _names(get_all_layers(h2, treat_as_input=[h1])) == ["h1", "h2"]
    assert _names(get_all_layers(h2, treat_as_input=[h2])) == ["h2"]
    assert _names(get_all_layers([h2, other], treat_as_input=[h1])) == [
        "h1", "h2", "in", "other"]


def test_walk_terminates_on_cycle():
    l_in = InputLayer((None, 2), name="in")
    a = Passthrough(l_in, name="a")
    b = Passthrough(a, name="b")
    a.input_layer = b  # a <-> b
    result = get_all_layers(b)
    assert sorted(_names(result)) == ["a", "b"]
    assert len(result) == 2


def test_walk_skips_shape_inputs():
    merge = Concat([(None, 2), InputLayer((None, 2), name="in")], name="m")
    assert _names(get_all_layers(merge)) == ["in", "m"]


def test_walk_deep_chain_without_recursion():
    layer = InputLayer((None, 2))
    for _ in range(10000):
        layer = Passthrough(layer)
    assert len(get_all_layers(layer)) == 10001


def test_walk_bad_arguments():
    with pytest.raises(TypeError, match="layer"):
        get_all_layers(None)
    with pytest.raises(TypeError, match="layer"):
        get_all_layers([InputLayer((None, 2)), "x"])
    with pytest.raises(TypeError, match="treat_as_input"):
        get_all_layers(InputLayer((None, 2)), treat_as_input=["x"])


def test_get_all_params_order_tags_and_sharing():
    l_in = InputLayer((None, 3))
    h1 = DenseLayer(l_in, 3, name="h1")
    h2 = DenseLayer(h1, 3, W=h1.W, name="h2")  # tied weights
    out = DenseLayer(h2, 2, name="out")
    params = get_all_params(out)
    assert params == [h1.W, h1.b, h2.b, out.W, out.b]
    assert get_all_params(out, regularizable=True) == [h1.W, out.W]
    assert get_all_params(out, trainable=True, regularizable=False) == [
        h1.b, h2.b, out.b]
    assert get_all_params([out, h1]) == params


def test_network_functions_reject_tags_no_parameter_carries():
    l_in = InputLayer((None, 3))
    hid = DenseLayer(l_in, 3, name="hid")
    out = DenseLayer(hid, 2, name="out")
    frozen = out.add_param(np.zeros(2), (2,), name="f", frozen=True)
    calls = {
        "get_all_params": lambda: get_all_params(out, regularisable=True),
        "count_params": lambda: L.count_params(out, trainabel=True),
        "get_all_param_values": lambda: L.get_all_param_values(
            out, trainable=True, regularisable=True),
        "set_all_param_values": lambda: L.set_all_param_values(
            out, [], regularisable=True),
        "named_params": lambda: L.named_params([out, hid],
                                               regularisable=True),
    }
    for caller, call in calls.items():
        with pytest.raises(ValueError) as info:
            call()
        message = str(info.value)
        assert message.startswith(caller + ":")
        assert "'regularisable'" in message or "'trainabel'" in message
        assert "frozen, regularizable, trainable" in message
    # known custom tags, the standard tags and tag=False are all accepted
    assert get_all_params(out, frozen=True) == [frozen]
    assert get_all_params(out, notatag=False) == get_all_params(out)
    assert frozen not in get_all_params(out, frozen=False)
    assert get_all_params(l_in, trainable=True) == []
    assert L.count_params(hid, frozen=False) == 12
    with pytest.raises(ValueError, match="frozen"):
        get_all_params(hid, frozen=True)  # carried only above hid
    # the per-layer query does not check: other layers may carry the tag
    assert hid.get_params(frozen=True) == []


def test_get_all_params_unwraps_shared_once():
    l_in = InputLayer((None, 3))
    base = backend.shared(np.ones((3, 3)), name="base")
    h1 = DenseLayer(l_in, 3, W=base, b=None)
    h2 = DenseLayer(h1, 3, W=base * 2, b=None)
    assert get_all_params(h2) == [base]
    assert len(get_all_params(h2, unwrap_shared=False)) == 2


def test_count_and_values_round_trip(rng):
    l_in = InputLayer((None, 4))
    net = DenseLayer(DenseLayer(l_in, 3), 2)
    assert count_params(net) == 4 * 3 + 3 + 3 * 2 + 2
    assert count_params(net, regularizable=True) == 12 + 6
    assert count_params(net, trainable=False) == 0
    values = [rng.normal(size=v.shape) for v in get_all_param_values(net)]
    set_all_param_values(net, values)
    for got, want in zip(get_all_param_values(net), values):
        np.testing.assert_allclose(got, want.astype(got.dtype))
        assert got.dtype == backend.floatX
    set_all_param_values(net, [np.zeros((4, 3)), np.zeros((3, 2))],
                         regularizable=True)
    assert all(not v.any() for v in get_all_param_values(
        net, regularizable=True))


def test_set_all_param_values_errors_leave_values_unchanged():
    net = DenseLayer(DenseLayer(InputLayer((None, 4)), 3), 2)
    before = get_all_param_values(net)
    with pytest.raises(ValueError, match="3 values for 4 parameters"):
        set_all_param_values(net, before[:3])
    wrong = [np.ones_like(v) for v in before]
    wrong[-1] = np.ones(5)
    with pytest.raises(ValueError, match=r"shape \(5,\), expected \(2,\)"):
        set_all_param_values(net, wrong)
    with pytest.raises(TypeError, match="values"):
        set_all_param_values(net, None)
    for got, want in zip(get_all_param_values(net), before):
        np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------- output --

def _mlp():
    l_in = InputLayer((None, 3), name="in")
    hid = DenseLayer(l_in, 4, W=np.full((3, 4), 0.5), b=np.ones(4),
                     name="hid")
    out = DenseLayer(hid, 2, W=np.full((4, 2), -1.0), nonlinearity=None,
                     name="out")
    return l_in, hid, out


def test_get_output_input_forms(rng):
    l_in, hid, out = _mlp()
    data = rng.normal(size=(5, 3))
    expected_hid = np.maximum(data @ np.full((3, 4), 0.5) + 1, 0)
    expected = expected_hid @ np.full((4, 2), -1.0)
    np.testing.assert_allclose(
        evaluate(get_output(out), {l_in.input_var: data}), expected)
    x = T.matrix("x")
    np.testing.assert_allclose(evaluate(get_output(out, x), {x: data}),
                               expected)
    np.testing.assert_allclose(
        evaluate(get_output(out, {l_in: x}), {x: data}), expected)
    np.testing.assert_allclose(evaluate(get_output(out, data)), expected)
    # a dict entry for a hidden layer replaces its output
    h = T.matrix("h")
    np.testing.assert_allclose(
        evaluate(get_output(out, {hid: h}), {h: expected_hid}), expected)
    both = get_output([hid, out], x)
    assert isinstance(both, list) and len(both) == 2
    np.testing.assert_allclose(evaluate(both[0], {x: data}), expected_hid)


def test_get_output_errors():
    l_in, hid, out = _mlp()
    with pytest.raises(TypeError, match="keys of inputs must be layers"):
        get_output(out, {"in": T.matrix()})
    with pytest.raises(TypeError, match="input for"):
        get_output(out, {l_in: "data"})
    with pytest.raises(ValueError, match="dimensions"):
        get_output(out, T.tensor3())
    # sizes known before run time must agree with the declared shape
    with pytest.raises(ValueError, match=r"has shape \(5, 4\), expected "
                       r"\(None, 3\)"):
        get_output(out, np.ones((5, 4)))
    with pytest.raises(ValueError, match="has shape"):
        get_output(out, {l_in: T.col()})
    assert get_output(out, np.ones((5, 3))).ndim == 2
    other = InputLayer((None, 3), name="in2")
    merged = ElemwiseSumLayer([hid, DenseLayer(other, 4)])
    with pytest.raises(ValueError, match="2 input layers"):
        get_output(merged, T.matrix())
    floating = DenseLayer((None, 3), 2)
    with pytest.raises(ValueError, match="built from a shape"):
        get_output(floating)
    x = T.matrix()
    assert evaluate(get_output(floating, {floating: x}),
                    {x: np.ones((1, 2))}).shape == (1, 2)
    with pytest.raises(TypeError, match="layer_or_layers"):
        get_output("out")


def test_get_outputs_names_and_values(rng):
    l_in, hid, out = _mlp()
    outputs = get_outputs(out)
    assert list(outputs) == ["in:out", "hid:pre", "hid:out", "out:pre",
                             "out:out"]
    data = rng.normal(size=(2, 3))
    pre = evaluate(outputs["hid:pre"], {l_in.input_var: data})
    np.testing.assert_allclose(pre, data @ np.full((3, 4), 0.5) + 1)
    np.testing.assert_allclose(
        evaluate(outputs["hid:out"], {l_in.input_var: data}),
        np.maximum(pre, 0))


def test_layer_names_automatic_and_stable():
    l_in = InputLayer((None, 3))
    h1 = DenseLayer(l_in, 3)
    h2 = DenseLayer(h1, 3, name="dense2")  # taken: automatic names skip it
    h3 = DenseLayer(h2, 3)
    merged = ElemwiseSumLayer([h3, h1])
    names = layer_names(get_all_layers(merged))
    assert list(names.values()) == ["input1", "dense1", "dense2", "dense3",
                                    "elemwisesum1"]
    assert list(get_outputs(merged))[0] == "input1:out"
    assert layer_names(get_all_layers(merged)) == names


def test_duplicate_layer_names_are_made_unique_with_a_warning():
    # legal in Lasagne (name="hidden" in a loop): the later layers get #2...
    l_in = InputLayer((None, 3), name="x")
    with pytest.warns(UserWarning, match="2 layers are named 'x'.*'x#2'"):
        outputs = get_outputs(DenseLayer(l_in, 2, name="x"))
    assert list(outputs) == ["x:out", "x#2:pre", "x#2:out"]


class _Scale(L.OutputHook):
    """A minimal graph hook: the protocol class, not a Regularizer."""

    def __init__(self, pattern, factor, stochastic=False):
        self.pattern, self.factor, self.stochastic = pattern, factor, stochastic

    def modify_graph(self, outputs):
        for name in list(outputs):
            if name == self.pattern:
                outputs[name] = outputs[name] * self.factor


def test_regularizers_modify_each_layer_before_later_layers_read(rng):
    l_in, hid, out = _mlp()
    data = rng.normal(size=(2, 3))
    clean = evaluate(get_output(out), {l_in.input_var: data})
    scaled = get_outputs(out, regularizers=[_Scale("hid:out", 3.0)])
    np.testing.assert_allclose(
        evaluate(scaled["out:out"], {l_in.input_var: data}), 3 * clean)
    # a stochastic one is left out of the deterministic graph
    noisy = _Scale("hid:out", 3.0, stochastic=True)
    np.testing.assert_allclose(
        evaluate(get_output(out, regularizers=[noisy], deterministic=True),
                 {l_in.input_var: data}), clean)
    np.testing.assert_allclose(
        evaluate(get_output(out, regularizers=noisy),
                 {l_in.input_var: data}), 3 * clean)
    with pytest.raises(TypeError, match="modify_graph"):
        get_output(out, regularizers=["dropout"])
    with pytest.raises(TypeError, match="regularizers"):
        get_output(out, regularizers=5)


def test_layer_without_out_key_rejected():
    class Broken(Layer):
        def get_outputs_for(self, input, **kwargs):
            return {"value": input}
    broken = Broken(InputLayer((None, 2)))
    with pytest.raises(ValueError, match="'out'"):
        get_output(broken)


def test_get_output_passes_kwargs_to_layers():
    seen = {}

    class Spy(Layer):
        def get_output_for(self, input, **kwargs):
            seen.update(kwargs)
            return input
    get_output(Spy(InputLayer((None, 2))), deterministic=True, flag=1)
    assert seen == {"deterministic": True, "flag": 1}


# ------------------------------------------------- names, roles, outputs --

def test_named_params_full_names_tags_and_unwrapping():
    l_in = InputLayer((None, 3))
    base = backend.shared(np.ones((3, 3)), name="base")
    hid = DenseLayer(l_in, 3, W=base * 2, name="hid")
    out = DenseLayer(hid, 2)  # unnamed: automatic name dense1
    extra = out.add_param(np.zeros(2), (2,), regularizable=False)
    named = L.named_params(out)
    assert [name for name, _ in named] == ["hid.W", "hid.b", "dense1.W",
                                           "dense1.b", "dense1.2"]
    assert named[0][1] is base and named[-1][1] is extra
    assert [n for n, _ in L.named_params(out, regularizable=True)] == [
        "hid.W", "dense1.W"]
    assert L.named_params(out, unwrap_shared=False)[0][1] is not base


def test_layer_roles():
    a, b = InputLayer((None, 2), name="a"), InputLayer((None, 2), name="b")
    h = DenseLayer(a, 2, name="h")
    merged = ElemwiseSumLayer([h, b], name="m")
    top = DenseLayer(merged, 2, name="top")
    expected = {"a": "input", "h": "hidden", "b": "input", "m": "hidden",
                "top": "output"}
    # roles come from the graph: a queried layer that another layer reads
    # is hidden, and the model's layers in any order give the same roles
    for query in ([top], [top, h], [h, top], L.get_all_layers(top),
                  L.get_all_layers(top)[::-1]):
        roles = L.layer_roles(query)
        assert {l.name: r for l, r in roles.items()} == expected
        assert list(roles) == L.get_all_layers(top)


def test_two_output_layers_roles_and_names_from_all_layers():
    l_in = InputLayer((None, 2))
    trunk = DenseLayer(l_in, 3)
    left, right = DenseLayer(trunk, 2), DenseLayer(trunk, 1)
    roles = L.layer_roles([left, right])
    assert list(roles.values()) == ["input", "hidden", "output", "output"]
    everything = L.get_all_layers([left, right])
    # the model's layers (theanets' `layers`) give the same roles and names
    assert L.layer_roles(everything) == roles
    assert list(L.get_outputs(everything)) == list(
        L.get_outputs([left, right]))
    assert [n for n, _ in L.named_params(everything)] == [
        n for n, _ in L.named_params([left, right])]
    # in another order, the roles are still the graph's
    assert dict(L.layer_roles(everything[::-1])) == dict(roles)


def test_layer_outputs_seen_by_modify_graph():
    seen = []

    class Spy(L.OutputHook):
        def modify_graph(self, outputs):
            assert isinstance(outputs, L.LayerOutputs)
            seen.append((outputs.name, outputs.role, list(outputs)))

    l_in, hid, out = _mlp()
    get_outputs(out, regularizers=[Spy()])
    assert seen == [("in", "input", ["in:out"]),
                    ("hid", "hidden", ["hid:pre", "hid:out"]),
                    ("out", "output", ["out:pre", "out:out"])]
    import pickle
    copy = pickle.loads(pickle.dumps(L.LayerOutputs(None, "x", "hidden",
                                                    [("x:out", 1)])))
    assert (copy.name, copy.role, dict(copy)) == ("x", "hidden", {"x:out": 1})


def test_check_matches_called_once_per_graph():
    calls = []

    class Checker(L.OutputHook):
        def modify_graph(self, outputs):
            pass

        def check_matches(self, named):
            calls.append(list(named))

    _, _, out = _mlp()
    get_outputs(out, regularizers=[Checker()])
    assert calls == [["in:out", "hid:pre", "hid:out", "out:pre", "out:out"]]


def test_get_outputs_keeps_names_and_roles_of_layers():
    l_in, hid, out = _mlp()
    outputs = get_outputs(out)
    assert isinstance(outputs, L.NetworkOutputs)
    assert dict(outputs.roles) == {"in": "input", "hid": "hidden",
                                   "out": "output"}
    assert dict(outputs.layers) == {"in": l_in, "hid": hid, "out": out}
    assert outputs.names_by_role() == {"input": ["in"], "hidden": ["hid"],
                                       "output": ["out"]}
    import pickle
    copy = pickle.loads(pickle.dumps(L.NetworkOutputs(
        [("x:out", 1)], [("x", None)], [("x", "hidden")])))
    assert (dict(copy), dict(copy.layers), dict(copy.roles)) == (
        {"x:out": 1}, {"x": None}, {"x": "hidden"})
    # given inputs cut the walk: names and roles are those of the layers
    # actually built
    given = get_outputs(out, inputs={hid: T.matrix()})
    assert dict(given.roles) == {"hid": "hidden", "out": "output"}


def test_graph_hooks_must_follow_the_protocol():
    class NotAHook(object):
        def modify_graph(self, outputs):
            pass
    _, _, out = _mlp()
    with pytest.raises(TypeError, match="OutputHook"):
        get_outputs(out, regularizers=[NotAHook()])


# -- hardening, round two ------------------------------------------------------

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


def test_one_shot_iterators_are_refused_where_a_network_is_expected():
    _, _, out = _mlp()
    for call in (lambda net: L.get_all_layers(net),
                 lambda net: L.get_all_params(net),
                 lambda net: L.layer_roles(net),
                 lambda net: L.get_outputs(net),
                 lambda net: regkit.regularize_network_params(net, regkit.l2),
                 lambda net: regkit.from_kwargs(net, hidden_dropout=0.5),
                 lambda net: regkit.apply_update_hooks([], net, {}),
                 lambda net: regkit.total_penalty([], net, {})):
        with pytest.raises(TypeError, match="one-shot iterator"):
            call(layer for layer in [out])
        with pytest.raises(TypeError, match="one-shot iterator"):
            call(iter([out]))
        call([out])  # a list is fine


def test_a_layer_cycle_is_a_value_error_naming_a_layer():
    l_in = InputLayer((None, 2))
    a = DenseLayer(l_in, 2, name="a")
    b = DenseLayer(a, 2, name="b")
    a.input_layer = b
    with pytest.raises(ValueError, match="cycle: DenseLayer\\(name='[ab]'"):
        get_output(b)


def test_renaming_a_layer_with_parameters_is_refused():
    layer = DenseLayer(InputLayer((None, 2)), 2, name="hidden")
    with pytest.raises(ValueError, match="cannot rename layer 'hidden'"):
        layer.name = "h"
    layer.name = "hidden"  # the same name is fine
    assert [n for n, _ in L.named_params(layer)] == ["hidden.W", "hidden.b"]
    fresh = Layer((None, 2))
    fresh.name = "later"  # no parameters yet
    assert fresh.name == "later"


def test_tag_values_must_be_booleans():
    _, _, out = _mlp()
    for call in (lambda: L.get_all_params(out, regularizable="false"),
                 lambda: out.get_params(trainable=1),
                 lambda: regkit.regularize_network_params(
                     out, regkit.l2, tags={"regularizable": "false"}),
                 lambda: regkit.WeightL2(tags={"regularizable": None})):
        with pytest.raises(TypeError, match="must be True or False"):
            call()
    assert L.get_all_params(out, regularizable=np.bool_(True))


def test_inputs_for_a_layer_outside_the_network_are_refused():
    _, _, out = _mlp()
    stranger = InputLayer((None, 3), name="stranger")
    with pytest.raises(ValueError, match="not a layer of the network"):
        get_output(out, inputs={stranger: T.matrix()})


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


@pytest.mark.parametrize("index, value, error, text", [
    (0, np.full((3, 4), np.nan), ValueError, "NaN or infinity"),
    (0, np.full((3, 4), np.inf), ValueError, "NaN or infinity"),
    (0, np.ones((3, 4)) + 1j, ValueError, "is complex"),
    (0, np.full((3, 4), None), TypeError, "numeric array"),
    (0, [[1, 2], [3]], TypeError, "not an array"),
    (0, np.full((3, 4), "a"), TypeError, "numeric array"),
    (2, np.array([0.7, 1.0]), ValueError, "fractional values"),
    (2, np.array([np.nan, 1.0]), ValueError, "NaN or infinity"),
    (2, np.array([1e30, 1.0]), ValueError, "beyond the range of int64"),
])
def test_set_all_param_values_refuses_values_it_would_change(
        index, value, error, text):
    l_in = InputLayer((None, 3))
    layer = DenseLayer(l_in, 4, name="d")
    counts = layer.add_param(np.zeros(2, "int64"), (2,), name="k",
                             regularizable=False)
    before = [p.get_value().copy() for p in L.get_all_params(layer)]
    values = [np.ones((3, 4)), np.zeros(4), np.array([2, 3])]
    values[index] = value
    with pytest.raises(error, match=text):
        L.set_all_param_values(layer, values)
    # atomic: nothing was written
    for param, old in zip(L.get_all_params(layer), before):
        np.testing.assert_array_equal(param.get_value(), old)
    L.set_all_param_values(layer, [np.ones((3, 4)), np.zeros(4),
                                   np.array([2.0, 3.0])])
    assert counts.get_value().tolist() == [2, 3]


def test_float32_parameter_refuses_values_beyond_float32():
    layer = Layer((None, 2))
    layer.add_param(np.zeros(2, "float32"), (2,), name="p")
    with pytest.raises(ValueError, match="beyond the range of float32"):
        L.set_all_param_values(layer, [np.array([1e300, 0.0])])


def test_noise_on_the_activation_reaches_the_output(rng):
    l_in = InputLayer((None, 3), name="in")
    hid = DenseLayer(l_in, 4, name="hid", nonlinearity=lambda a: 2 * a)
    out = DenseLayer(hid, 2, name="out", nonlinearity=None)
    data = rng.normal(size=(5, 3)).astype(backend.floatX)
    clean = evaluate(get_output(out), {l_in.input_var: data})
    for regs in ([regkit.GaussianNoise("hid:pre", 3.0, rng=1)],
                 [regkit.GaussianNoise("hid:pre", 3.0, rng=1),
                  regkit.BernoulliDropout("hid:out", 0.5, rng=2)]):
        outputs = get_outputs(out, regularizers=regs)
        fn = backend.function(
            [l_in.input_var],
            [outputs["hid:pre"], outputs["hid:out"], outputs["out:out"],
             outputs["hid:pre-prenoise"]],
            updates=regkit.random_updates(outputs))
        for _ in range(2):  # fresh draws each call, still consistent
            pre, hidden, result, clean_pre = fn(data)
            assert not np.allclose(pre, clean_pre)
            if len(regs) == 1:
                np.testing.assert_allclose(hidden, 2 * pre, rtol=1e-5)
            else:  # dropout applies to the noisy activation
                kept = hidden != 0
                np.testing.assert_allclose(hidden[kept], 4 * pre[kept],
                                           rtol=1e-5)
            assert not np.allclose(result, clean)
        # the inference graph is the clean one
        np.testing.assert_allclose(evaluate(get_output(
            out, regularizers=regs, deterministic=True),
            {l_in.input_var: data}), clean)
