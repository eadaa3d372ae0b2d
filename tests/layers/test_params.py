"""Parameters by tag and by name, and their values
(regkit/layers/params.py)."""
import os
import subprocess

import numpy as np
import pytest

import regkit
from regkit import backend
from regkit import layers as L
from regkit.layers import (DenseLayer, InputLayer, Layer, count_params,
                           get_all_param_values, get_all_params,
                           set_all_param_values)

from conftest import compile_fast, constant_net, expression_network

T = backend.tensor


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


def test_tag_values_must_be_booleans():
    _, _, out = constant_net()
    for call in (lambda: L.get_all_params(out, regularizable="false"),
                 lambda: out.get_params(trainable=1),
                 lambda: regkit.regularize_network_params(
                     out, regkit.l2, tags={"regularizable": "false"}),
                 lambda: regkit.WeightL2(tags={"regularizable": None})):
        with pytest.raises(TypeError, match="must be True or False"):
            call()
    assert L.get_all_params(out, regularizable=np.bool_(True))


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


# --- named_params ------------------------------------------------------------

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


def test_two_shared_variables_of_one_name_get_unique_names():
    x = T.matrix("x")
    W1 = backend.shared(np.ones((2, 2)), name="W")
    W2 = backend.shared(2 * np.ones((2, 2)), name="W")
    loss = T.dot(T.dot(x, W1), W2).sum()
    named = regkit.named_params(loss)
    assert [name for name, _ in named] == ["W", "W#2"]
    sp = regkit.L2SP(weight=1.0).capture(loss)
    assert float(compile_fast([], sp.loss(loss, {}))()) == 0.0
    W2.set_value(W2.get_value() + 1.5)
    assert float(compile_fast([], sp.loss(loss, {}))()) == pytest.approx(9.0)


def test_the_factors_of_an_expression_weight_match_its_name():
    A = backend.shared(np.ones((3, 1)), name="A")
    B = backend.shared(2 * np.ones((1, 2)), name="B")
    d = regkit.DenseLayer(regkit.InputLayer((None, 3), name="in"), 2,
                          W=T.dot(A, B), b=None, name="d")
    assert [n for n, _ in regkit.named_params(d)] == ["d.W", "d.W#2"]
    want = float(regkit.regularize_network_params(d, regkit.l2).eval())
    assert want == 11.0
    assert float(regkit.WeightL2("d.W", 1.0).loss(d, {}).eval()) == want
    assert float(regkit.WeightL2("d.W#2", 1.0).loss(d, {}).eval()) == 8.0


def test_expression_parameters_unwrap_in_lasagnes_order():
    # first appearance in a depth-first walk, operands left to right: the
    # same on both backends (PyTensor's own order is W2, W1 / y, x)
    out, expected = expression_network()
    assert [p.name for p in get_all_params(out)] == expected
    assert [v.shape for v in get_all_param_values(out)] == [
        (4, 3), (3, 3), (3,), (3,), (3, 2), (2,)]


_SAVE_VALUES = r"""
import sys
import numpy as np
sys.path.insert(0, sys.argv[2])
from conftest import expression_network
from regkit.layers import get_all_param_values
np.savez(sys.argv[1], *get_all_param_values(expression_network()[0]))
"""


@pytest.mark.parametrize("direction", ["other-to-this", "this-to-other"])
def test_values_saved_on_one_backend_load_on_the_other(direction, tmp_path):
    other = "pytensor" if backend.NAME == "theano" else "theano"
    tests = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    python = os.path.join(os.path.dirname(tests), ".venv", other, "bin",
                          "python")
    if not os.path.exists(python):
        pytest.skip("no %s environment at %s (make builds it)"
                    % (other, python))
    path = str(tmp_path / "values.npz")
    if direction == "other-to-this":
        env = dict(os.environ, REGKIT_BACKEND=other)
        env.pop("THEANO_FLAGS", None)
        subprocess.run([python, "-c", _SAVE_VALUES, path, tests], env=env,
                       check=True, capture_output=True, timeout=600)
        with np.load(path) as saved:
            values = [saved["arr_%d" % i] for i in range(len(saved.files))]
        out, _ = expression_network()
        set_all_param_values(out, values)
        for value, param in zip(values, get_all_params(out)):
            np.testing.assert_array_equal(param.get_value(), value)
    else:
        out, _ = expression_network()
        np.savez(path, *get_all_param_values(out))
        env = dict(os.environ, REGKIT_BACKEND=other)
        env.pop("THEANO_FLAGS", None)
        check = (_SAVE_VALUES.replace("np.savez(sys.argv[1], *", "mine = (")
                 + "saved = np.load(sys.argv[1])\n"
                 "assert all(np.array_equal(saved['arr_%d' % i], v) "
                 "for i, v in enumerate(mine)), 'order differs'\n")
        result = subprocess.run([python, "-c", check, path, tests], env=env,
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr
