"""The Jacobian penalties: Contractive, R1Penalty and JacobianProjection
(regkit/regularizers/contractive.py)."""
import numpy as np
import pytest

import regkit
from regkit import backend
from regkit.layers import get_outputs
from regkit.regularizers import Contractive

from conftest import X, compile_fast, evaluate, fixed_net, loss_value, mlp

T = backend.tensor
FLOATX = backend.floatX


def _numeric_jacobian_norm(fn, data, eps=1e-6):
    """mean_i ||d f(x)_i / d x_i||_F^2 by central differences."""
    total = 0.0
    for i in range(data.shape[0]):
        rows = []
        for k in range(data.shape[1]):
            up, down = data.copy(), data.copy()
            up[i, k] += eps
            down[i, k] -= eps
            rows.append((fn(up)[i] - fn(down)[i]) / (2 * eps))
        total += (np.array(rows) ** 2).sum()
    return total / data.shape[0]


@pytest.mark.parametrize("pattern", ["hid:out", "out:out"])
def test_contractive_matches_finite_differences(pattern):
    l_in, hid, out = fixed_net()
    layer = hid if pattern == "hid:out" else out
    fn = backend.function([l_in.input_var], regkit.get_output(layer))
    expected = _numeric_jacobian_norm(fn, X)
    # hid:out takes the dense closed form, out:out (two layers above the
    # input) the general per-unit path
    assert np.isclose(loss_value(Contractive(pattern)), expected, rtol=1e-5)


def test_contractive_closed_form_equals_general_path():
    l_in, hid, out = fixed_net(nonlinearity=regkit.layers.tanh)
    outputs = get_outputs(out)
    closed = Contractive("hid:out").loss(out, outputs)
    general = regkit.regularizers.contractive._jacobian_norm(outputs["hid:out"],
                                                 outputs["in:out"])
    values = evaluate([closed, general], {l_in.input_var: X})
    assert np.isclose(values[0], values[1], rtol=1e-8)


def test_contractive_is_not_the_gradient_of_the_mean():
    # theanets' formula: ||d mean(h) / d x||^2, a different number
    l_in, hid, _ = fixed_net()
    h = regkit.get_output(hid)
    theanets = T.sum(T.sqr(backend.grad(T.mean(h), l_in.input_var)))
    assert not np.isclose(evaluate(theanets, {l_in.input_var: X}),
                          loss_value(Contractive("hid:out")))


def test_contractive_names_unnamed_layers_like_get_outputs():
    l_in = regkit.InputLayer((None, 2))
    a = regkit.DenseLayer(l_in, 2, W=np.eye(2), nonlinearity=None)
    b = regkit.DenseLayer(l_in, 2, W=10 * np.eye(2), nonlinearity=None)
    out = regkit.ElemwiseSumLayer([a, b], name="out")
    outputs = regkit.get_outputs(out, np.ones((3, 2)))
    reg = regkit.Contractive("dense1:out", wrt="input1:out")
    want = float(reg.loss(out, outputs).eval())
    layers = regkit.get_all_layers(out)
    for listed in (layers[::-1], [b, out, a, l_in]):
        assert float(reg.loss(listed, dict(outputs)).eval()) == want
    assert want == 2.0  # the first dense layer: ||I||^2


# --- R1Penalty ---------------------------------------------------------------

def _critic(nonlinearity):
    regkit.set_rng(1)
    l_in = regkit.InputLayer((None, 3), name="in")
    out = regkit.DenseLayer(l_in, 1, name="critic",
                            nonlinearity=nonlinearity)
    return l_in, out


def test_r1_penalty_against_numpy():
    l_in, out = _critic(regkit.nonlinearities.tanh)
    x = np.random.default_rng(7).normal(size=(5, 3)).astype(FLOATX)
    r1 = regkit.R1Penalty(weight=10.0)
    outputs = regkit.get_outputs(out)
    term = backend.function([l_in.input_var], r1.loss(out, outputs))(x)
    W, b = out.W.get_value(), out.b.get_value()
    slope = 1 - np.tanh(x @ W + b) ** 2  # (5, 1)
    grads = slope * W.T  # d D(x_i) / d x_i, (5, 3)
    np.testing.assert_allclose(term, (grads ** 2).sum() / 5 / 2, rtol=1e-5)
    assert r1.output_names(out, outputs) == ["critic:out"]
    assert regkit.deserialize(regkit.serialize(r1)).weight == 10.0


def test_r1_penalty_gradient_by_finite_differences():
    x = np.random.default_rng(8).normal(size=(4, 3))

    def r1_of(W):
        # the term R1Penalty builds, as a function of the weights
        X = T.as_tensor_variable(x)
        return regkit.R1Penalty._term(T.tanh(T.dot(X, W)), "d:out",
                                      {"in:out": X}, {}, {}, ["in:out"])
    backend.verify_grad(r1_of, [np.random.default_rng(9).normal(size=(3, 2))],
                        rng=np.random.RandomState(2))


# --- JacobianProjection ------------------------------------------------------

def _estimates(term, l_in, x, calls):
    fn = backend.function([l_in.input_var], term,
                          updates=regkit.random_updates(term))
    return np.array([float(fn(x)) for _ in range(calls)])


def test_jacobian_projection_is_unbiased_for_the_contractive_term():
    l_in, hid, out = mlp((3, 4, 1), seed=3,
                         hid={"nonlinearity": regkit.nonlinearities.tanh})
    x = np.random.default_rng(13).normal(size=(5, 3)).astype(FLOATX)
    outputs = regkit.get_outputs(out)
    exact = backend.function([l_in.input_var], regkit.Contractive(
        "hid:out").loss(out, outputs))(x)
    estimate = regkit.JacobianProjection("hid:out", rng=6).loss(out, outputs)
    values = _estimates(estimate, l_in, x, 1500)
    assert values.std() > 0  # it is random
    np.testing.assert_allclose(values.mean(), exact, rtol=0.05)


def test_jacobian_projection_variance_is_the_documented_one():
    # linear hidden units: J = W^T for every example
    l_in, hid, out = mlp((3, 4, 1), seed=3, hid={"nonlinearity": None})
    x = np.ones((1, 3), FLOATX)
    outputs = regkit.get_outputs(out)
    for n_proj in (1, 4):
        estimate = regkit.JacobianProjection("hid:out", n_proj=n_proj,
                                             rng=7).loss(out, outputs)
        values = _estimates(estimate, l_in, x, 2500)
        W = hid.W.get_value()
        A = W.T @ W  # J J^T, C = 4
        units = 4
        want = 2 * units / (units + 2) * (
            np.trace(A @ A) - np.trace(A) ** 2 / units) / n_proj
        np.testing.assert_allclose(values.mean(), np.trace(A), rtol=0.05)
        np.testing.assert_allclose(values.var(), want, rtol=0.2)


def test_jacobian_projection_gradient_and_round_trip():
    x = np.random.default_rng(14).normal(size=(4, 3))
    proj = regkit.JacobianProjection("h", n_proj=2, rng=8)

    def term(W):
        X = T.as_tensor_variable(x)
        # without random updates the projections repeat: a fixed function
        return proj._term(T.tanh(T.dot(X, W)), "h", {"in:out": X}, {}, {},
                          ["in:out"])
    backend.verify_grad(term, [np.random.default_rng(15).normal(
        size=(3, 2))], rng=np.random.RandomState(5))
    copy = regkit.deserialize(regkit.serialize(proj))
    assert (copy.n_proj, copy.rng) == (2, 8)


def test_jacobian_projections_are_fresh_with_the_usual_recipe():
    l_in, hid, out = mlp(hid={"W": np.random.default_rng(0).normal(
        size=(3, 4))})
    jp = regkit.JacobianProjection("hid:out", 1.0, rng=0)
    drop = regkit.BernoulliDropout("in:out", 0.2, rng=1)
    outputs = regkit.get_outputs(out, regularizers=[drop])
    loss = regkit.total_penalty([jp], out, outputs)
    data = np.random.default_rng(2).normal(size=(5, 3)).astype(
        l_in.input_var.dtype)
    recipes = {
        "outputs": regkit.random_updates(outputs),
        "loss": regkit.random_updates(loss),
        "both": regkit.random_updates(outputs, loss),
        "sum": [] + regkit.random_updates(outputs)
        + regkit.random_updates(loss),
    }
    counts = {name: len(updates) for name, updates in recipes.items()}
    assert counts == {"outputs": 2, "loss": 2, "both": 2, "sum": 2}
    for updates in recipes.values():
        fn = compile_fast([l_in.input_var], loss, updates=updates)
        values = [float(fn(data)) for _ in range(5)]
        assert len(set(values)) == 5
    frozen = compile_fast([l_in.input_var], loss)
    assert len({float(frozen(data)) for _ in range(3)}) == 1
    # apply_regularizers' updates, read after the loss is built, too
    graph = regkit.apply_regularizers(out, [drop, jp])
    loss = regkit.total_penalty([jp], out, graph.outputs)
    fn = compile_fast([l_in.input_var], loss, updates=[] + graph.updates)
    assert len({float(fn(data)) for _ in range(5)}) == 5
    # the recorded draws are never selected as outputs
    assert "hid:out-projection" in outputs
    assert regkit.HiddenL1("*").output_names(out, outputs) == [
        name for name in outputs if not name.endswith(
            ("-predrop", "-projection"))]
