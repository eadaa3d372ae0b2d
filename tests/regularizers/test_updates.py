"""Hooks on parameter updates: MaxNorm, UnitNorm, MinMaxNorm, NonNeg and
DecoupledWeightDecay (regkit/regularizers/updates.py)."""
import warnings

import numpy as np
import pytest

import regkit
from regkit import backend
from regkit.layers import get_outputs
from regkit.nonlinearities import softmax
from regkit.regularizers import (MaxNorm, REGISTRY, apply_update_hooks,
                                 from_kwargs, total_penalty)

from conftest import (B_HID, W_HID, W_OUT, evaluate, fixed_net, graph_mlp,
                      mlp, sample_x, sample_y)

T = backend.tensor
FLOATX = backend.floatX


def _column_norms(W):
    return np.sqrt((np.asarray(W, dtype="float64") ** 2).sum(axis=0))


def test_max_norm_bounds_each_unit_and_leaves_the_rest():
    _, hid, out = fixed_net()
    original = list(zip([hid.W, hid.b, out.W], [hid.W * 3, hid.b * 5,
                                                 out.W * 0.01]))
    updates = apply_update_hooks([MaxNorm(weight=1.5)], out, original)
    # the caller's list is not changed; b (1-D, not regularizable) is kept
    assert original[0][1] is not updates[hid.W]
    assert updates[hid.b] is original[1][1]
    new_hid, new_out = evaluate([updates[hid.W], updates[out.W]])
    assert (_column_norms(new_hid) <= 1.5 * (1 + 1e-5)).all()
    np.testing.assert_allclose(new_out, W_OUT * 0.01)  # within the bound
    expected = 3 * W_HID * np.minimum(1, 1.5 / _column_norms(3 * W_HID))
    np.testing.assert_allclose(new_hid, expected, rtol=1e-6)


def test_max_norm_pattern_axes_and_plain_dicts():
    _, hid, out = fixed_net()
    updates = apply_update_hooks([MaxNorm("out.*", 0.5)], out,
                                 {hid.W: hid.W * 1, out.W: out.W * 1})
    assert updates[hid.W].eval().tolist() == W_HID.tolist()
    assert (_column_norms(updates[out.W].eval()) <= 0.5 * (1 + 1e-5)).all()
    # rows instead of columns
    updates = apply_update_hooks([MaxNorm("hid.W", 0.5, norm_axes=1)], out,
                                 {hid.W: hid.W * 1})
    assert (np.linalg.norm(updates[hid.W].eval(), axis=1)
            <= 0.5 * (1 + 1e-5)).all()
    # a plain dict: names are the variables' own names
    plain = {hid.W: hid.W * 1, hid.b: hid.b * 1}
    MaxNorm("hid.W", 0.5).modify_updates(plain)
    assert (_column_norms(plain[hid.W].eval()) <= 0.5 * (1 + 1e-5)).all()
    assert plain[hid.b].eval().tolist() == B_HID.tolist()
    MaxNorm(weight=0.5).modify_updates(plain)  # default: skips the bias
    assert plain[hid.b].eval().tolist() == B_HID.tolist()


def test_max_norm_errors_and_warnings():
    _, hid, out = fixed_net()
    with pytest.raises(ValueError, match="MaxNorm: parameter 'hid.b' has 1 "
                       "dimensions; give norm_axes"):
        apply_update_hooks([MaxNorm("hid.b", 1.0, tags={})], out,
                           {hid.b: hid.b})
    with pytest.warns(UserWarning, match="matches no parameter"):
        apply_update_hooks([MaxNorm("nothing.*", 1.0)], out, {hid.W: hid.W})
    for weight, error in [(0, ValueError), (-1, ValueError),
                          (np.inf, ValueError), ("3", TypeError)]:
        with pytest.raises(error, match="MaxNorm: weight"):
            MaxNorm(weight=weight)
    with pytest.raises(TypeError, match="MaxNorm: norm_axes"):
        MaxNorm(norm_axes="0")
    with pytest.raises(TypeError, match="MaxNorm: norm_axes"):
        MaxNorm(norm_axes=())
    with pytest.raises(ValueError, match="MaxNorm: epsilon"):
        MaxNorm(epsilon=-1.0)
    with pytest.raises(TypeError, match="updates must be a dict"):
        apply_update_hooks([MaxNorm()], out, None)
    with pytest.raises(TypeError, match="item 0 must be a .parameter"):
        apply_update_hooks([MaxNorm()], out, [hid.W])
    with pytest.raises(TypeError, match="item 0 must update a shared"):
        apply_update_hooks([MaxNorm()], out, [(hid.W * 2, hid.W)])
    with pytest.raises(TypeError, match="apply_update_hooks: regularizers"):
        apply_update_hooks(["max_norm"], out, {})


def test_max_norm_from_kwargs_and_no_loss_term():
    _, _, out = fixed_net()
    regs = from_kwargs(out, max_norm=3.0, weight_l2=0.5)
    assert type(regs[0]) is MaxNorm and regs[0].max_norm == 3.0
    assert REGISTRY["max_norm"] is MaxNorm
    penalty = total_penalty(regs, out, get_outputs(out, regularizers=regs))
    np.testing.assert_allclose(evaluate(penalty), 0.5 * (
        (W_HID ** 2).sum() + (W_OUT ** 2).sum()))


def test_max_norm_in_sgd_training_loop():
    rng = np.random.default_rng(3)
    inputs = rng.normal(size=(128, 8)).astype(backend.floatX)
    targets = (inputs @ rng.normal(size=(8, 3))).astype(backend.floatX)
    l_in, hid, out = mlp((8, 16, 3), seed=2, out={"nonlinearity": None})
    regs = from_kwargs(out, max_norm=1.0)
    y = T.matrix("y", dtype=backend.floatX)
    outputs = get_outputs(out, regularizers=regs)
    loss = T.mean(T.sum(T.sqr(outputs["out:out"] - y), axis=1))
    params = regkit.get_all_params(out, trainable=True)
    grads = backend.grad(loss, params)
    sgd = [(p, p - np.asarray(0.05, p.dtype) * g)
           for p, g in zip(params, grads)]
    updates = apply_update_hooks(regs, out, sgd)
    train = backend.function([l_in.input_var, y], loss, updates=updates)
    losses, worst = [], 0.0
    for _ in range(100):
        losses.append(float(train(inputs, targets)))
        worst = max(worst, _column_norms(hid.W.get_value()).max(),
                    _column_norms(out.W.get_value()).max())
    assert worst <= 1.0 * (1 + 1e-5)
    assert hid.W.get_value().dtype == backend.floatX
    assert np.mean(losses[-10:]) < 0.5 * losses[0]
    # without the hook the same training leaves the ball
    plain = backend.function([l_in.input_var, y], loss, updates=sgd)
    for _ in range(100):
        plain(inputs, targets)
    assert _column_norms(out.W.get_value()).max() > 1.2


# --- Keras' constraints as update hooks --------------------------------------

def _apply(hook, W):
    param = backend.shared(W.copy(), name="W")
    updates = regkit.ParamUpdates({param: param * 1})
    hook.modify_updates(updates)
    return updates[param].eval()


def test_unit_norm_min_max_norm_and_non_neg_against_numpy():
    W = np.random.default_rng(4).normal(size=(5, 3)) * 3
    norms = np.sqrt((W ** 2).sum(axis=0))
    np.testing.assert_allclose(_apply(regkit.UnitNorm("W"), W),
                               W / norms, rtol=1e-5)
    np.testing.assert_allclose(_apply(regkit.UnitNorm("W", 2.0), W),
                               2 * W / norms, rtol=1e-5)
    low, high, rate = 0.5, 2.0, 0.7
    target = rate * np.clip(norms, low, high) + (1 - rate) * norms
    np.testing.assert_allclose(
        _apply(regkit.MinMaxNorm("W", rate, low, high), W),
        W * target / norms, rtol=1e-5)
    np.testing.assert_array_equal(_apply(regkit.NonNeg("W"), W),
                                  np.maximum(W, 0))
    # a filter bank: one norm per filter (axes 1, 2, 3), as MaxNorm
    F = np.random.default_rng(5).normal(size=(2, 3, 2, 2))
    got = _apply(regkit.UnitNorm("W"), F)
    np.testing.assert_allclose(np.sqrt((got ** 2).sum(axis=(1, 2, 3))), 1.0,
                               rtol=1e-5)


def test_constraint_hooks_through_a_network_spare_biases():
    _, hid, out = mlp(seed=0, out={"nonlinearity": softmax})
    params = regkit.get_all_params(out, trainable=True)
    regs = regkit.from_kwargs(out, non_neg=0.0, unit_norm=1.0,
                              min_max_norm={"min_value": 0.1,
                                            "max_value": 0.5})
    assert [type(r).__name__ for r in regs] == ["NonNeg", "UnitNorm",
                                                "MinMaxNorm"]
    updates = regkit.apply_update_hooks(
        regs, out, [(p, p + 1) for p in params])
    W = updates[hid.W].eval()
    assert (W >= 0).all()
    np.testing.assert_allclose(np.sqrt((W ** 2).sum(axis=0)), 0.5,
                               rtol=1e-5)
    np.testing.assert_allclose(updates[hid.b].eval(),
                               hid.b.get_value() + 1)


# --- decoupled weight decay --------------------------------------------------

def _train(g, loss, rule, hooks, steps=4, lr=0.05):
    params = [g["W1"], g["b1"], g["W2"]]
    grads = backend.grad(loss, params)
    updates = rule(params, grads, lr)
    updates = regkit.apply_update_hooks(hooks, g["loss"], updates)
    fn = backend.function([g["x"], g["y"]], loss, updates=updates)
    for _ in range(steps):
        fn(sample_x(), sample_y())
    return [p.get_value() for p in params]


def _sgd(params, grads, lr):
    return [(p, p - lr * grad) for p, grad in zip(params, grads)]


def _adam(params, grads, lr, b1=0.9, b2=0.999, eps=1e-8):
    updates = []
    t = backend.shared(np.asarray(0.0, FLOATX))
    t_new = t + 1
    for p, grad in zip(params, grads):
        m = backend.shared(np.zeros_like(p.get_value()))
        v = backend.shared(np.zeros_like(p.get_value()))
        m_new = b1 * m + (1 - b1) * grad
        v_new = b2 * v + (1 - b2) * grad ** 2
        step = lr * (m_new / (1 - b1 ** t_new)) / (
            T.sqrt(v_new / (1 - b2 ** t_new)) + eps)
        updates += [(m, m_new), (v, v_new), (p, p - step)]
    updates.append((t, t_new))
    return updates


def test_decoupled_weight_decay_is_l2_under_sgd_and_not_under_adam():
    lr, c = 0.05, 0.1
    weight = 2 * c * lr  # regkit's l2 is sum(w ** 2): its gradient is 2 c w

    def run(rule, decoupled):
        g = graph_mlp()
        l2 = regkit.WeightL2(weight=c)
        if decoupled:
            return _train(g, g["loss"], rule,
                          [regkit.DecoupledWeightDecay(weight=weight)], lr=lr)
        loss = g["loss"] + c * l2.loss(g["loss"], {})
        return _train(g, loss, rule, [], lr=lr)

    for a, b in zip(run(_sgd, True), run(_sgd, False)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    adam = [np.abs(a - b).max()
            for a, b in zip(run(_adam, True), run(_adam, False))]
    assert max(adam) > 1e-3


def test_decoupled_weight_decay_spares_biases_and_round_trips():
    g = graph_mlp()
    decay = regkit.from_kwargs(g["loss"], decoupled_weight_decay=0.1)[0]
    assert isinstance(decay, regkit.DecoupledWeightDecay)
    assert regkit.deserialize(regkit.serialize(decay)).weight == 0.1
    updates = regkit.apply_update_hooks([decay], g["loss"], {
        g["W1"]: g["W1"] * 1, g["b1"]: g["b1"] + 1})
    np.testing.assert_allclose(updates[g["W1"]].eval(),
                               0.9 * g["W1"].get_value(), rtol=1e-6)
    np.testing.assert_allclose(updates[g["b1"]].eval(), 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        regkit.DecoupledWeightDecay(weight=0.0)
