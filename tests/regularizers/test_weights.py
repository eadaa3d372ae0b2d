"""Penalties on parameters, WeightL2, WeightL1 and L2SP
(regkit/regularizers/weights.py), and every weight term at its edges: zero
and identity weights, 1-D to 4-D, float32."""
import json
import pickle

import numpy as np
import pytest

import regkit
from regkit import backend
from regkit.layers import DenseLayer, InputLayer, get_outputs
from regkit.nonlinearities import softmax
from regkit.regularizers import MaxNorm, WeightL1, WeightL2

from conftest import (B_HID, W_HID, W_OUT, compile_fast, evaluate, fixed_net,
                      graph_mlp, loss_value, mlp, plain_network, top_sigma,
                      trained)

T = backend.tensor
FLOATX = backend.floatX


def test_weight_penalties_match_numpy():
    assert np.isclose(loss_value(WeightL2()), (W_HID ** 2).sum()
                      + (W_OUT ** 2).sum())
    assert np.isclose(loss_value(WeightL1()), np.abs(W_HID).sum()
                      + np.abs(W_OUT).sum())
    assert np.isclose(loss_value(WeightL2("hid.*")), (W_HID ** 2).sum())
    assert np.isclose(loss_value(WeightL2(("hid.W", "out.W"))),
                      (W_HID ** 2).sum() + (W_OUT ** 2).sum())
    assert np.isclose(loss_value(WeightL2("*.b", tags={})), (B_HID ** 2).sum())


def test_weight_penalty_equals_regularize_network_params():
    _, _, out = fixed_net()
    a = WeightL2().loss(out, get_outputs(out))
    b = regkit.regularize_network_params(out, regkit.l2)
    assert np.isclose(evaluate(a), evaluate(b))


def test_unnamed_layers_get_automatic_names():
    l_in = InputLayer((None, 3))
    hid = DenseLayer(l_in, 4, W=W_HID)
    out = DenseLayer(hid, 2, W=W_OUT)
    assert np.isclose(evaluate(WeightL2("dense1.W").loss(out, {})),
                      (W_HID ** 2).sum())
    assert "dense1:out" in get_outputs(out)


def test_weight_regularizers_reject_tags_no_parameter_carries():
    net = fixed_net()
    _, hid, out = net
    hid.add_param(np.ones(2), (2,), name="gain", special=True)
    for reg in (WeightL2(tags={"regularisable": True}),
                MaxNorm(tags={"regularisable": True})):
        with pytest.raises(ValueError, match="^%s: .*'regularisable'"
                                             % type(reg).__name__):
            reg.named_params(out)
    with pytest.raises(ValueError, match="WeightL1: .*'regularisable'"):
        regkit.total_penalty([WeightL1(tags={"regularisable": True})], out,
                             get_outputs(out))
    assert np.isclose(loss_value(WeightL2(tags={"special": True}), net),
                      2.0)


def test_a_pattern_or_graph_that_matches_nothing_warns_and_adds_zero():
    g = graph_mlp()
    with pytest.warns(UserWarning, match="matches no parameter"):
        total = regkit.total_penalty([regkit.WeightL2("nothing*", 1.0)],
                                     g["loss"], {})
    assert total == 0  # exactly 0, not a symbolic term
    x = T.matrix("x")
    with pytest.warns(UserWarning):
        assert regkit.WeightL2(weight=1.0).params(2 * x) == []


# --- L2-SP -------------------------------------------------------------------

def test_l2sp_is_the_squared_distance_from_the_start():
    _, hid, out = mlp(seed=0, out={"nonlinearity": softmax})
    start = {name: p.get_value().copy()
             for name, p in regkit.named_params(out, regularizable=True)}
    sp = regkit.L2SP(weight=0.01).capture(out)
    assert set(sp.start) == {"hid.W", "out.W"}
    assert float(sp.loss(out, {}).eval()) == 0.0
    hid.W.set_value(hid.W.get_value() + 0.5)
    want = ((hid.W.get_value() - start["hid.W"]) ** 2).sum()
    np.testing.assert_allclose(float(sp.loss(out, {}).eval()), want,
                               rtol=1e-5)
    # its gradient: 2 (w - w0)
    grad = backend.function([], backend.grad(sp.loss(out, {}), hid.W))()
    np.testing.assert_allclose(grad, 2 * (hid.W.get_value()
                                          - start["hid.W"]), rtol=1e-5)


def test_l2sp_captures_once_and_its_start_survives_a_round_trip():
    _, hid, out = mlp(seed=0, out={"nonlinearity": softmax})
    sp = regkit.L2SP("hid.W", 1.0)
    first = float(sp.loss(out, {}).eval())  # captures here
    hid.W.set_value(hid.W.get_value() * 2)
    moved = float(sp.loss(out, {}).eval())
    assert first == 0.0 and moved > 0
    data = regkit.serialize(sp)
    json.dumps(data)  # plain data
    again = regkit.deserialize(data)
    np.testing.assert_allclose(float(again.loss(out, {}).eval()), moved,
                               rtol=1e-6)
    unpickled = pickle.loads(pickle.dumps(sp))
    np.testing.assert_array_equal(unpickled.start["hid.W"],
                                  sp.start["hid.W"])
    (built,) = regkit.from_kwargs(out, l2_sp={"weight": 0.1,
                                              "start": data["config"]["start"]})
    assert isinstance(built, regkit.L2SP) and built.weight == 0.1


def test_l2sp_refuses_a_start_that_does_not_fit():
    _, hid, out = mlp(seed=0, out={"nonlinearity": softmax})
    with pytest.raises(ValueError, match="no starting value for 'out.W'"):
        regkit.L2SP(start={"hid.W": hid.W.get_value()}).loss(out, {})
    with pytest.raises(ValueError, match="has shape"):
        regkit.L2SP("hid.W", start={"hid.W": np.zeros(3)}).loss(out, {})


def test_l2sp_capture_after_compiling_moves_the_start():
    W = backend.shared(np.ones((2, 2)), name="W")
    loss = (W * 1).sum()
    sp = regkit.L2SP(weight=1.0).capture(loss)
    term = compile_fast([], sp.loss(loss, {}))
    W.set_value(W.get_value() + 1.0)
    assert float(term()) == pytest.approx(4.0)
    sp.capture(loss)
    assert float(term()) == 0.0


def test_l2sp_keeps_each_parameter_s_start_whatever_the_network_argument():
    x = T.matrix("x")
    Wa = backend.shared(np.ones((2, 2)), name="W")
    Wb = backend.shared(3 * np.ones((2, 2)), name="W")
    h1 = T.dot(x, Wa)
    h1.name = "h1"
    h2 = T.dot(x, Wb)
    h2.name = "h2"
    cost = h1.sum() + h2.sum()
    sp = regkit.L2SP(weight=1.0).capture(cost)
    for network in (cost, [h2, h1], h2):
        assert float(compile_fast([], sp.loss(network, {}))()) == 0.0


@pytest.mark.parametrize("value, error, match", [
    ("1.5", TypeError, "array of numbers"),
    (["1.5", "2"], TypeError, "real numbers"),
    (np.array([1 + 2j]), TypeError, "real numbers"),
    ([[10 ** 400]], ValueError, "beyond the float range"),
    ([np.nan], ValueError, "NaN"),
    ([[1.0], [2.0, 3.0]], TypeError, "array of numbers"),
])
def test_l2sp_start_refuses_what_is_not_a_real_array(value, error, match):
    with pytest.raises(error, match=match):
        regkit.L2SP(start={"W": value})
    with pytest.raises(error, match=match):
        regkit.deserialize({"name": "l2_sp", "config": {"start": {"W": value}}})


@pytest.mark.parametrize("start, error, match", [
    (None, TypeError, "array of numbers"),
    (np.ma.masked_array(np.ones((2, 2)), mask=np.eye(2)), TypeError,
     "masked"),
])
def test_l2sp_start_refuses_none_and_masked_arrays(start, error, match):
    with pytest.raises(error, match=match):
        regkit.L2SP(start={"W": start})


def test_l2sp_start_must_fit_the_parameter_dtype_and_name_a_parameter():
    W = backend.shared(np.ones((2, 2), "float32"), name="W")
    with pytest.raises(ValueError, match="beyond the range"):
        regkit.L2SP(start={"W": np.full((2, 2), 1e300)}).loss(W.sum(), {})
    with pytest.warns(UserWarning, match="'typo.W'"):
        regkit.L2SP(start={"W": np.ones((2, 2)), "typo.W": [1.0]}).loss(
            W.sum(), {})


# --- every weight term at its edges ------------------------------------------
# One table of the terms on weights, regularizers and penalties alike, so
# that a new one gets a row, not a new test.

_rng = np.random.default_rng(20261204)
_NORMAL = {shape: _rng.normal(size=shape) for shape in
           [(3, 2), (2, 3, 2), (4, 2, 3, 3)]}


#: name -> weight value: zero, the identity, 1-D, 2-D to 4-D.
WEIGHTS = {
    "zero": np.zeros((3, 2)),
    "zero-4d": np.zeros((4, 2, 3, 3)),
    "identity": np.eye(3),
    "1d": np.linspace(-1.0, 1.0, 4),
    "2d": _NORMAL[(3, 2)],
    "3d": _NORMAL[(2, 3, 2)],
    "4d": _NORMAL[(4, 2, 3, 3)],
}


def _filters_as_columns(W):
    return W if W.ndim == 2 else W.reshape(W.shape[0], -1).T


def _srip_reference(W):
    V = _filters_as_columns(W)
    return np.abs(np.linalg.eigvalsh(V.T @ V - np.eye(V.shape[1]))).max()


def _tv_reference(W):
    return (np.abs(np.diff(W, axis=-1)).sum()
            + np.abs(np.diff(W, axis=-2)).sum())


def _orthogonality_reference(W):
    V = _filters_as_columns(W)
    return ((V.T @ V - np.eye(V.shape[1])) ** 2).sum()


#: name -> (term of a shared variable W, numpy reference, smallest ndim,
#: whether the power iteration needs steps to converge).
WEIGHT_TERMS = {
    "WeightL2": (lambda W: regkit.WeightL2("W", 1.0, tags={}).loss(
        W.sum(), {}), lambda W: (W ** 2).sum(), 1, False),
    "WeightL1": (lambda W: regkit.WeightL1("W", 1.0, tags={}).loss(
        W.sum(), {}), lambda W: np.abs(W).sum(), 1, False),
    "L2SP": (lambda W: regkit.L2SP("W", 1.0, tags={}).loss(W.sum(), {}),
             lambda W: 0.0, 1, False),  # captured at W
    "SpectralNorm": (lambda W: regkit.SpectralNorm(
        "W", 1.0, n_iter=5, tags={}, rng=0), lambda W: top_sigma(W) ** 2,
        2, True),
    "SRIP": (lambda W: regkit.SRIP("W", 1.0, n_iter=5, tags={}, rng=0),
             _srip_reference, 2, True),
    "l2": (regkit.l2, lambda W: (W ** 2).sum(), 1, False),
    "l1": (regkit.l1, lambda W: np.abs(W).sum(), 1, False),
    "elastic_net": (regkit.elastic_net,
                    lambda W: 0.5 * np.abs(W).sum() + 0.5 * (W ** 2).sum(),
                    1, False),
    "group_lasso": (regkit.group_lasso,
                    lambda W: np.sqrt((W ** 2).sum(axis=-1)).sum(), 1, False),
    "orthogonality": (regkit.orthogonality, _orthogonality_reference, 2,
                      False),
    "total_variation": (regkit.total_variation, _tv_reference, 2, False),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("weight", sorted(WEIGHTS))
@pytest.mark.parametrize("term", sorted(WEIGHT_TERMS))
def test_weight_terms_at_their_edges(term, weight, dtype):
    build, reference, min_ndim, iterates = WEIGHT_TERMS[term]
    values = WEIGHTS[weight].astype(dtype)
    W = backend.shared(values, name="W")
    if values.ndim < min_ndim:
        with pytest.raises(ValueError, match="W"):
            built = build(W)
            if iterates:
                built.loss(W.sum(), {})
        return
    if iterates:
        value, grad = trained(build(W), W, steps=60)
    else:
        expr = build(W)
        value, grad = compile_fast([], [expr, backend.grad(expr, W)])()
        assert np.asarray(value).dtype == np.dtype(dtype)
    rtol = 1e-4 if dtype == "float32" else 1e-7
    assert float(value) == pytest.approx(reference(values.astype(float)),
                                         rel=rtol, abs=1e-6)
    assert grad.shape == values.shape and np.isfinite(grad).all()
    if not values.any():  # at zero every term is at its minimum
        assert not grad.any() or term in ("SRIP", "orthogonality", "l1",
                                          "elastic_net", "WeightL1")


# --- composition: two on one target, both orders -----------------------------

@pytest.mark.parametrize("order", ["as listed", "reversed"])
def test_two_terms_on_one_weight_add_up_in_either_order(order):
    x, W1, W2, h, z, p = plain_network(FLOATX)
    loss = p.sum()
    regs = [regkit.WeightL2("W1", 0.5), regkit.L2SP("W1", 2.0),
            regkit.SpectralNorm("W1", 0.25, n_iter=30, rng=0)]
    regs = regs if order == "as listed" else regs[::-1]
    W1.set_value(W1.get_value())  # the start is captured here
    total = regkit.total_penalty(regs, loss, {})
    W1.set_value(W1.get_value() + 0.5)
    value = float(compile_fast([], total)())
    W = W1.get_value()
    want = 0.5 * (W ** 2).sum() + 2.0 * (0.5 ** 2) * W.size \
        + 0.25 * top_sigma(W) ** 2
    assert value == pytest.approx(want, rel=1e-6)
