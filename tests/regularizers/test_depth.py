"""Stochastic depth (regkit/regularizers/depth.py)."""
import numpy as np
import pytest

import regkit
from regkit import backend

from conftest import compile_fast, residual

T = backend.tensor
FLOATX = backend.floatX


def _residual_net():
    x = regkit.InputLayer((None, 2), name="x")
    f = regkit.DenseLayer(x, 2, W=np.array([[1.0, 2.0], [3.0, 4.0]]),
                          nonlinearity=None, name="f")
    res = regkit.ElemwiseSumLayer([x, f], name="res")
    g = regkit.DenseLayer(res, 2, W=np.eye(2), nonlinearity=None, name="g")
    res2 = regkit.ElemwiseSumLayer([g, res], name="res2")
    return x, res, res2


def test_stochastic_depth_drops_whole_branches_and_scales_at_inference():
    x, res, res2 = _residual_net()
    depth = regkit.StochasticDepth("res:out", 0.3, rng=10)
    train = regkit.get_output(res, regularizers=[depth])
    fn = backend.function([x.input_var], train,
                          updates=regkit.random_updates(train))
    X = np.ones((1, 2), FLOATX)
    shortcut, full = X, X + X @ np.array([[1.0, 2.0], [3.0, 4.0]])
    calls = [fn(X) for _ in range(400)]
    dropped = [np.allclose(c, shortcut) for c in calls]
    assert all(d or np.allclose(c, full) for d, c in zip(dropped, calls))
    assert abs(np.mean(dropped) - 0.3) < 0.08
    test = regkit.get_output(res, regularizers=[depth], deterministic=True)
    np.testing.assert_allclose(backend.function([x.input_var], test)(X),
                               X + 0.7 * (full - X), rtol=1e-6)


def test_stochastic_depth_default_selects_every_sum_and_takes_a_branch():
    x, res, res2 = _residual_net()
    depth = regkit.StochasticDepth(weight=0.5, branch=0, rng=11)
    test = regkit.get_outputs(res2, regularizers=[depth], deterministic=True)
    X = np.ones((1, 2), FLOATX)
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    # res: the branch is input 0, the InputLayer; res2: input 0 is g
    res_value = 0.5 * X + X @ W
    np.testing.assert_allclose(
        backend.function([x.input_var], test["res2:out"])(X),
        0.5 * res_value + res_value, rtol=1e-6)
    copy = regkit.deserialize(regkit.serialize(depth))
    assert (copy.branch, copy.rng, copy.weight) == (0, 11, 0.5)
    with pytest.warns(UserWarning, match="matches no sum"):
        regkit.get_outputs(res2, regularizers=[regkit.StochasticDepth(
            "nothing:out", 0.5)])
    with pytest.raises(ValueError, match="branch 5 is out of range"):
        regkit.get_outputs(res2, regularizers=[regkit.StochasticDepth(
            weight=0.5, branch=5)])


# --- the branch, and composition ---------------------------------------------

def _plain_residual():
    x = T.vector("x")
    f = 2 * x
    f.name = "f"
    s = f + x
    s.name = "s"
    return x, s


def test_stochastic_depth_on_a_plain_graph_drops_the_branch_not_the_input():
    x, s = _plain_residual()
    depth = regkit.StochasticDepth("s:out", 0.5, rng=0)
    graph = regkit.apply_regularizers(s, [depth])
    train = compile_fast([x], graph.train, updates=graph.updates)
    seen = {float(train(np.array([2.0], x.dtype))[0]) for _ in range(40)}
    assert seen == {2.0, 6.0}  # x, or x + f(x)
    assert float(compile_fast([x], graph.inference)(
        np.array([2.0], x.dtype))[0]) == 4.0  # x + 0.5 f(x)
    # a branch given by hand that another summand reads (here x, read by
    # f) is scaled where it is summed, not inside f
    graph = regkit.apply_regularizers(s, [regkit.StochasticDepth(
        "s:out", 0.5, branch=1, rng=0)])
    train = compile_fast([x], graph.train, updates=graph.updates)
    seen = {float(train(np.array([2.0], x.dtype))[0]) for _ in range(40)}
    assert seen == {4.0, 6.0}  # f(x), or f(x) + x
    assert float(compile_fast([x], graph.inference)(
        np.array([2.0], x.dtype))[0]) == 5.0


@pytest.mark.parametrize("order", [("x", "f"), ("f", "x")])
def test_stochastic_depth_finds_the_branch_in_either_order(order):
    x, f, res = residual(order, gain=2.0)
    test = regkit.get_output(res, regularizers=[
        regkit.StochasticDepth(weight=0.5, rng=0)], deterministic=True)
    np.testing.assert_allclose(compile_fast([x.input_var], test)(
        np.ones((1, 2), x.input_var.dtype)), [[2.0, 2.0]])  # x + f(x) / 2


def test_stochastic_depth_asks_for_the_branch_of_a_projection_shortcut():
    x = regkit.InputLayer((None, 2), name="x")
    proj = regkit.DenseLayer(x, 2, W=np.eye(2), b=None, name="proj")
    f = regkit.DenseLayer(x, 2, W=np.eye(2), b=None, name="f")
    res = regkit.ElemwiseSumLayer([proj, f], name="res")
    with pytest.raises(ValueError, match="give branch="):
        regkit.get_output(res, regularizers=[regkit.StochasticDepth(
            weight=0.5)])
    test = regkit.get_output(res, regularizers=[regkit.StochasticDepth(
        weight=0.5, branch=1)], deterministic=True)
    np.testing.assert_allclose(compile_fast([x.input_var], test)(
        np.ones((1, 2), x.input_var.dtype)), [[1.5, 1.5]])


@pytest.mark.parametrize("first", ["dropout", "depth"])
def test_stochastic_depth_composes_with_dropout_in_both_orders(first):
    x = regkit.InputLayer((None, 2000), name="x")
    f = regkit.DenseLayer(x, 2000, W=np.eye(2000, dtype=FLOATX), b=None,
                          nonlinearity=None, name="f")
    res = regkit.ElemwiseSumLayer([x, f], name="res")
    drop = regkit.BernoulliDropout("res:out", 0.5, rng=1)
    depth = regkit.StochasticDepth(weight=0.0, rng=2)
    regs = [drop, depth] if first == "dropout" else [depth, drop]
    graph = regkit.apply_regularizers(res, regs)
    train = compile_fast([x.input_var], graph.train, updates=graph.updates)
    data = np.ones((1, 2000), x.input_var.dtype)
    dropped = np.mean(train(data) == 0)
    assert 0.45 < dropped < 0.55
    # and the inference graph keeps both inference forms (none for dropout)
    np.testing.assert_allclose(compile_fast([x.input_var], graph.inference)(
        data), 2 * data)


def test_two_stochastic_depths_on_one_sum_both_apply():
    x, f, res = residual()
    regs = [regkit.StochasticDepth(weight=0.3, rng=2),
            regkit.StochasticDepth("res:out", 0.3, rng=3)]
    test = regkit.get_output(res, regularizers=regs, deterministic=True)
    data = np.ones((1, 2), x.input_var.dtype)
    np.testing.assert_allclose(compile_fast([x.input_var], test)(data),
                               (1 + 0.7 * 0.7) * data)
    train = regkit.get_output(res, regularizers=regs)
    fn = compile_fast([x.input_var], train,
                      updates=regkit.random_updates(train))
    seen = {float(fn(data)[0, 0]) for _ in range(60)}
    assert seen == {1.0, 2.0}  # the branch dropped by either, or kept


def test_stochastic_depth_refuses_a_plain_variable_that_is_not_a_sum():
    x = T.vector("x")
    f = 2 * x
    f.name = "f"
    p = x * f
    p.name = "p"
    with pytest.raises(ValueError, match="not their sum"):
        regkit.apply_regularizers(p, [regkit.StochasticDepth("p:out", 0.5)])
    # a sum whose summands read nothing regkit sees as a layer, none
    # computed from all the others: no branch to find
    y = T.vector("y")
    q = x + y
    q.name = "q"
    with pytest.raises(ValueError, match="cannot tell the residual branch"):
        regkit.apply_regularizers(q, [regkit.StochasticDepth("q:out", 0.5)])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_stochastic_depth_finds_an_unnamed_branch_of_a_plain_sum(dtype):
    # res = h + tanh(h W): only h and res named; the branch is the operand
    # of the addition computed from the other, and dropout on h composes
    x = T.vector("x", dtype=dtype)
    h = 2 * x
    h.name = "h"
    W = backend.shared(np.eye(1, dtype=dtype), name="W")
    res = h + T.dot(h[None, :], W)[0] * 3
    res.name = "res"
    depth = regkit.StochasticDepth("res:out", 0.5, rng=0)
    graph = regkit.apply_regularizers(res, [depth])
    train = compile_fast([x], graph.train, updates=graph.updates)
    one = np.array([1.0], dtype)
    seen = {float(train(one)[0]) for _ in range(40)}
    assert seen == {2.0, 8.0}  # h, or h + 3h
    assert float(compile_fast([x], graph.inference)(one)[0]) == 5.0
    out = compile_fast([x], graph.train)(one)
    assert out.dtype == dtype
    # with dropout on h too, in both orders: the branch reads the dropped h
    for regs in ([regkit.BernoulliDropout("h:out", 0.5, rng=1), depth],
                 [depth, regkit.BernoulliDropout("h:out", 0.5, rng=1)]):
        graph = regkit.apply_regularizers(res, regs)
        train = compile_fast([x], graph.train, updates=graph.updates)
        seen = {float(train(one)[0]) for _ in range(60)}
        assert seen == {0.0, 4.0, 16.0}, regs  # h dropped or doubled


def test_two_stochastic_depths_compose_on_a_plain_sum():
    x = T.vector("x")
    h = 2 * x
    h.name = "h"
    res = h + 3 * h
    res.name = "res"
    regs = [regkit.StochasticDepth("res:out", 0.3, rng=0),
            regkit.StochasticDepth("res:out", 0.5, rng=1)]
    test = regkit.get_output(res, regularizers=regs, deterministic=True)
    one = np.array([1.0], x.dtype)
    # h + 0.7 * 0.5 * 3h
    np.testing.assert_allclose(compile_fast([x], test)(one), [2 + 0.35 * 6])


def test_a_plain_sum_of_two_unrelated_summands_has_no_branch():
    # hh + tanh(x W): the layer reads hh and x, but x is no summand, and
    # neither summand is computed from the other
    x = T.matrix("x")
    hh = T.tanh(T.dot(x, backend.shared(np.ones((2, 2)), name="V")))
    hh.name = "hh"
    r2 = hh + T.tanh(T.dot(x, backend.shared(np.ones((2, 2)), name="W")))
    r2.name = "r2"
    with pytest.raises(ValueError, match="cannot tell the residual branch"):
        regkit.apply_regularizers(r2, [regkit.StochasticDepth("r2:out", 0.5)])
