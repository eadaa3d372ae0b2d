"""The modern catalogue (issue 19), the part that has landed: L2-SP, the
confidence penalty, label smoothing with its cross-entropy, Keras'
constraints as update hooks, and spatial dropout and noise (shared_axes).
Each against numpy, with gradients, round trips and from_kwargs keys."""
import json
import pickle

import numpy as np
import pytest

import regkit
from regkit import backend

T = backend.tensor
FLOATX = backend.floatX


def _net():
    regkit.set_rng(0)
    l_in = regkit.InputLayer((None, 3), name="in")
    hid = regkit.DenseLayer(l_in, 4, name="hid")
    out = regkit.DenseLayer(hid, 2, name="out",
                            nonlinearity=regkit.nonlinearities.softmax)
    return l_in, hid, out


# --- L2-SP --------------------------------------------------------------------

def test_l2sp_is_the_squared_distance_from_the_start():
    _, hid, out = _net()
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
    _, hid, out = _net()
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
    _, hid, out = _net()
    with pytest.raises(ValueError, match="no starting value for 'out.W'"):
        regkit.L2SP(start={"hid.W": hid.W.get_value()}).loss(out, {})
    with pytest.raises(ValueError, match="has shape"):
        regkit.L2SP("hid.W", start={"hid.W": np.zeros(3)}).loss(out, {})


# --- the confidence penalty and label smoothing --------------------------------

def test_confidence_penalty_is_the_mean_negative_entropy():
    p = np.array([[0.2, 0.8], [1.0, 0.0], [0.5, 0.5]], FLOATX)
    _, _, out = _net()
    term = regkit.ConfidencePenalty(weight=0.1).loss(out, {"out:out": p})
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(p), 0.0)
    np.testing.assert_allclose(float(term.eval()), plogp.sum(axis=1).mean(),
                               rtol=1e-5)
    # its default pattern: the output layers
    outputs = regkit.get_outputs(out)
    assert regkit.ConfidencePenalty().output_names(out, outputs) == [
        "out:out"]


def test_confidence_penalty_gradient_through_a_softmax():
    z0 = np.random.default_rng(0).normal(size=(3, 4))
    pen = regkit.ConfidencePenalty("p")

    def term(z):
        return pen.term(backend.softmax(z), "p", None, {})
    backend.verify_grad(term, [z0], rng=np.random.RandomState(1))
    # finite at a probability of exactly 0
    p = T.matrix("p")
    grad = backend.function([p], backend.grad(pen.term(p, "p", None, {}),
                                              p))
    assert np.isfinite(grad(np.array([[1.0, 0.0]], FLOATX))).all()


def test_smooth_labels_and_the_crossentropy():
    y = np.array([0, 2, 1], "int32")
    smoothed = regkit.smooth_labels(y, 3, 0.3).eval()
    want = np.full((3, 3), 0.1)
    want[np.arange(3), y] = 0.8
    np.testing.assert_allclose(smoothed, want, rtol=1e-6)
    np.testing.assert_allclose(
        regkit.smooth_labels(np.eye(3)[y].astype(FLOATX), 3, 0.3).eval(),
        want, rtol=1e-6)
    assert regkit.smooth_labels(T.ivector(), 3, 0.1).ndim == 2
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.3, 0.4, 0.3]])
    ce = regkit.categorical_crossentropy(p, want).eval()
    np.testing.assert_allclose(ce, -(want * np.log(p)).sum(axis=1).mean(),
                               rtol=1e-6)
    backend.verify_grad(
        lambda z: regkit.categorical_crossentropy(backend.softmax(z), want),
        [np.random.default_rng(2).normal(size=(3, 3))],
        rng=np.random.RandomState(3))


# --- Keras' constraints as update hooks ------------------------------------------

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
    _, hid, out = _net()
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


# --- spatial dropout and noise ----------------------------------------------------

def _image_net(reg):
    x = T.tensor4("img")
    l_in = regkit.InputLayer((None, 3, 4, 5), input_var=x, name="img")
    outputs = regkit.get_outputs(l_in, regularizers=[reg])
    fn = backend.function([x], outputs["img:out"],
                          updates=regkit.random_updates(outputs))
    return fn


def test_spatial_dropout_drops_whole_feature_maps():
    fn = _image_net(regkit.BernoulliDropout("img:out", 0.5, rng=0,
                                            shared_axes=(2, 3)))
    out = fn(np.ones((6, 3, 4, 5), FLOATX))
    per_map = out.reshape(6, 3, -1)
    # each (example, channel) map is all 0 or all 2
    assert ((per_map == per_map[:, :, :1]).all())
    assert set(np.unique(per_map).tolist()) == {0.0, 2.0}
    assert 0 < (per_map[:, :, 0] == 0).mean() < 1


def test_noise_shared_along_axes_and_negative_axes():
    fn = _image_net(regkit.GaussianNoise("img:out", 1.0, rng=1,
                                         shared_axes=[0, -1]))
    out = fn(np.zeros((6, 3, 4, 5), FLOATX))
    assert (out == out[:1, :, :, :1]).all()  # the same for every example
    assert np.unique(out).size == 3 * 4


def test_shared_axes_round_trip_and_refusals():
    drop = regkit.BernoulliDropout("x", 0.5, rng=2, shared_axes=(2, 3))
    copy = regkit.deserialize(regkit.serialize(drop))
    assert copy.shared_axes == (2, 3)
    with pytest.raises(TypeError, match="shared_axes"):
        regkit.BernoulliDropout(shared_axes="2")
    with pytest.raises(ValueError, match="names an axis twice"):
        regkit.GaussianNoise(shared_axes=(1, 1))
    with pytest.raises(ValueError, match="shared_axes"):
        _image_net(regkit.BernoulliDropout("img:out", 0.5,
                                           shared_axes=(4,)))


# --- alpha dropout and Monte Carlo dropout -------------------------------------------

SATURATION = -1.0507009873554805 * 1.6732632423543772


def test_alpha_dropout_values_and_moments():
    p = 0.3
    l_in = regkit.InputLayer((None, 50000), name="in")
    drop = regkit.AlphaDropout("in:out", p, rng=3)
    out = regkit.get_output(l_in, regularizers=[drop])
    fn = backend.function([l_in.input_var], out,
                          updates=regkit.random_updates(out))
    x = np.random.default_rng(4).standard_normal((4, 50000)).astype(FLOATX)
    y = fn(x)
    a = ((1 - p) * (1 + p * SATURATION ** 2)) ** -0.5
    b = -a * SATURATION * p
    dropped = np.isclose(y, a * SATURATION + b, rtol=1e-5)
    np.testing.assert_allclose(y[~dropped], a * x[~dropped] + b, rtol=1e-4,
                               atol=1e-5)
    assert abs(dropped.mean() - p) < 0.01
    # zero mean and unit variance are kept (Klambauer et al., eq. 4 and 5)
    assert abs(y.mean()) < 0.01 and abs(y.var() - 1) < 0.02
    assert not np.array_equal(fn(x), fn(x))
    test = regkit.get_output(l_in, regularizers=[drop], deterministic=True)
    assert test is l_in.input_var
    (built,) = regkit.from_kwargs(l_in, alpha_dropout={"pattern": "in:out",
                                                       "weight": 0.1})
    assert isinstance(built, regkit.AlphaDropout)
    assert regkit.deserialize(regkit.serialize(drop)).weight == p


def test_mc_predict_mean_and_variance():
    l_in = regkit.InputLayer((None, 4), name="in")
    out = regkit.DenseLayer(l_in, 1, W=np.ones((4, 1)), nonlinearity=None)
    drop = regkit.BernoulliDropout("in:out", 0.5, rng=5)
    prediction = regkit.get_output(out, regularizers=[drop])
    mean, var = regkit.mc_predict(prediction,
                                  {l_in.input_var: np.ones((3, 4), FLOATX)},
                                  n=3000)
    # each input survives with 1/2, scaled by 2: mean 4, variance 4 * 1
    np.testing.assert_allclose(mean, 4.0, rtol=0.05)
    np.testing.assert_allclose(var, 4.0, rtol=0.1)
    plain = regkit.get_output(out)
    mean, var = regkit.mc_predict(plain, {l_in.input_var: np.ones((3, 4),
                                                                  FLOATX)},
                                  n=3)
    np.testing.assert_array_equal(var, 0.0)


# --- AR and TAR through existing classes -------------------------------------------

@pytest.mark.parametrize("shape", [(4, 6, 3), (2, 9, 5)])
def test_ar_and_tar_are_hidden_l2_and_recurrent_state_rescaled(shape):
    _, _, out = _net()
    batch, steps, features = shape
    h = np.random.default_rng(6).normal(size=shape)
    outs = {"rnn:out": h}
    alpha, beta = 2.0, 0.5
    ar = regkit.HiddenL2("rnn:out", alpha / (steps * features))
    tar = regkit.RecurrentState("rnn:out", beta / features)
    total = regkit.total_penalty([ar, tar], out, outs)
    want = alpha * (h ** 2).mean() + beta * ((h[:, 1:] - h[:, :-1]) ** 2
                                             ).mean()
    np.testing.assert_allclose(float(total.eval()), want, rtol=1e-10)


# --- input-gradient penalties ---------------------------------------------------------

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


def test_gradient_penalty_is_wgan_gp():
    w = backend.shared(np.array([[1.0], [2.0], [2.0]], FLOATX), name="w")

    def linear(x):
        return T.dot(x, w)
    real = np.random.default_rng(10).normal(size=(6, 3)).astype(FLOATX)
    fake = np.zeros((6, 3), FLOATX)
    penalty = regkit.gradient_penalty(linear, real, fake, rng=3)
    # the gradient of a linear critic is w at every interpolate
    assert float(backend.function([], penalty)()) == pytest.approx(4.0)

    def tanh_critic(x):
        return T.tanh(T.dot(x, w))
    # real == fake: the interpolate is real itself, whatever the draw
    same = regkit.gradient_penalty(tanh_critic, real, real, rng=4)
    slope = 1 - np.tanh(real @ w.get_value()) ** 2
    norms = np.sqrt(((slope * w.get_value().T) ** 2).sum(axis=1))
    np.testing.assert_allclose(float(backend.function([], same)()),
                               ((norms - 1) ** 2).mean(), rtol=1e-5)
    # with random updates the interpolates change on every call
    moving = regkit.gradient_penalty(tanh_critic, real, fake, rng=5)
    updates = regkit.random_updates(moving)
    assert len(updates) == 1
    fn = backend.function([], moving, updates=updates)
    assert fn() != fn()


def test_gradient_penalty_gradient_by_finite_differences():
    real = np.random.default_rng(11).normal(size=(3, 2))

    def penalty(W):
        return regkit.gradient_penalty(lambda x: T.tanh(T.dot(x, W)), real,
                                       real, rng=0)
    backend.verify_grad(penalty, [np.random.default_rng(12).normal(
        size=(2, 2))], rng=np.random.RandomState(4))


# --- Jacobian regularization by random projections ------------------------------------

def _projection_net(nonlinearity):
    regkit.set_rng(3)
    l_in = regkit.InputLayer((None, 3), name="in")
    hid = regkit.DenseLayer(l_in, 4, name="hid", nonlinearity=nonlinearity)
    out = regkit.DenseLayer(hid, 1, name="out")
    return l_in, hid, out


def _estimates(term, l_in, x, calls):
    fn = backend.function([l_in.input_var], term,
                          updates=regkit.random_updates(term))
    return np.array([float(fn(x)) for _ in range(calls)])


def test_jacobian_projection_is_unbiased_for_the_contractive_term():
    l_in, hid, out = _projection_net(regkit.nonlinearities.tanh)
    x = np.random.default_rng(13).normal(size=(5, 3)).astype(FLOATX)
    outputs = regkit.get_outputs(out)
    exact = backend.function([l_in.input_var], regkit.Contractive(
        "hid:out").loss(out, outputs))(x)
    estimate = regkit.JacobianProjection("hid:out", rng=6).loss(out, outputs)
    values = _estimates(estimate, l_in, x, 1500)
    assert values.std() > 0  # it is random
    np.testing.assert_allclose(values.mean(), exact, rtol=0.05)


def test_jacobian_projection_variance_is_the_documented_one():
    l_in, hid, out = _projection_net(None)  # J = W^T for every example
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


# --- spectral norm and SRIP ------------------------------------------------------------

def _converged(reg, net, steps=60):
    step = backend.function([], reg.loss(net, {}), updates=list(
        regkit.apply_update_hooks([reg], net, {}).items()))
    for _ in range(steps):
        value = step()
    return float(value)


def test_spectral_norm_converges_to_the_largest_singular_value():
    _, hid, out = _net()
    sn = regkit.SpectralNorm(weight=1e-3, rng=1)
    value = _converged(sn, out)
    want = sum(np.linalg.svd(p.get_value(), compute_uv=False)[0] ** 2
               for p in (hid.W, out.W))
    np.testing.assert_allclose(value, want, rtol=1e-5)
    # its gradient, the vectors held: 2 sigma v u^T = d sigma^2 / dW
    grad = backend.function([], backend.grad(sn.loss(out, {}), hid.W))()
    U, S, Vt = np.linalg.svd(hid.W.get_value())
    np.testing.assert_allclose(grad, 2 * S[0] * np.outer(U[:, 0], Vt[0]),
                               rtol=1e-3, atol=1e-6)


def test_spectral_norm_reads_filters_first_and_keeps_its_vector():
    W = backend.shared(np.random.default_rng(16).normal(
        size=(4, 2, 3, 3)).astype(FLOATX), name="conv.W")
    net = regkit.InputLayer((None, 2, 5, 5), name="img")
    sn = regkit.SpectralNorm("conv.W", 1.0, rng=2)
    # a plain dict of updates: matched by the shared variable's own name
    updates = {W: W * 1}
    sn.modify_updates(updates)
    (vector,) = [key for key in updates if key is not W]
    assert vector.get_value().shape == (2 * 3 * 3,)
    step = backend.function([], sn._sigma(W, "conv.W") ** 2,
                            updates=[(vector, updates[vector])])
    for _ in range(60):
        value = step()
    sigma = np.linalg.svd(W.get_value().reshape(4, -1), compute_uv=False)[0]
    np.testing.assert_allclose(value, sigma ** 2, rtol=1e-5)
    bias_graph = backend.shared(np.ones(3, FLOATX), name="b") * 2
    with pytest.raises(ValueError, match="needs 2 or more"):
        regkit.SpectralNorm("b", 1.0, tags={}).loss(bias_graph, {})
    del net
    copy = pickle.loads(pickle.dumps(sn))
    assert copy.power.shared == {} and copy.get_config() == sn.get_config()
    assert regkit.deserialize(regkit.serialize(sn)).n_iter == 1


def test_srip_against_numpy_and_by_finite_differences():
    _, hid, out = _net()
    srip = regkit.SRIP("hid.W", 0.1, n_iter=2, rng=3)
    value = _converged(srip, out)
    W = hid.W.get_value()
    want = np.abs(np.linalg.eigvalsh(W.T @ W - np.eye(W.shape[1]))).max()
    np.testing.assert_allclose(value, want, rtol=1e-5)
    # the converged estimate as a function of W, the vector held
    vector = srip.power.shared[hid.W]
    u0 = vector.get_value()

    def estimate(M):
        fixed = backend.shared(u0)
        return abs(srip.power.sigma_of(srip._gram(M), fixed))
    backend.verify_grad(estimate, [W], rng=np.random.RandomState(6))


# --- graph changes on weights: DropConnect, spectral normalization ---------------------

def test_dropconnect_drops_connections_of_the_matched_layer_only():
    l_in, hid, out = _net()
    drop = regkit.DropConnect("hid.W", 0.5, rng=9)
    outputs = regkit.get_outputs(out, regularizers=[drop])
    pre = outputs["hid:pre"]
    fn = backend.function([l_in.input_var], pre,
                          updates=regkit.random_updates(outputs))
    frozen = backend.function([l_in.input_var], pre)
    # one-hot inputs read single rows of the (masked) weight matrix
    x = np.eye(3, dtype=FLOATX)
    W, b = hid.W.get_value(), hid.b.get_value()
    rows = fn(x) - b
    kept = ~np.isclose(rows, 0)
    np.testing.assert_allclose(rows[kept], 2 * W[kept], rtol=1e-5)
    assert 0 < kept.mean() < 1
    assert not np.array_equal(fn(x), fn(x))
    np.testing.assert_array_equal(frozen(x), frozen(x))
    # the output layer and the inference graph are untouched
    clean = regkit.get_outputs(out, regularizers=[drop], deterministic=True)
    np.testing.assert_allclose(
        backend.function([l_in.input_var], clean["hid:pre"])(x), W + b,
        rtol=1e-6)
    assert hid.W in regkit.get_all_params(out)  # the parameter itself
    assert regkit.deserialize(regkit.serialize(drop)).rng == 9
    with pytest.warns(UserWarning, match="matches no parameter"):
        regkit.get_outputs(out, regularizers=[regkit.DropConnect("zz*", 0.5)])


def test_dropconnect_gradient_by_finite_differences():
    x = np.random.default_rng(17).normal(size=(4, 3))
    drop = regkit.DropConnect(weight=0.3, rng=1)

    def output(W):
        # without random updates the mask is fixed: a function of W
        return T.sum(T.tanh(T.dot(x, drop.change(W, "W"))))
    backend.verify_grad(output, [np.random.default_rng(18).normal(
        size=(3, 2))], rng=np.random.RandomState(7))


def test_spectral_normalization_divides_by_the_largest_singular_value():
    l_in, hid, out = _net()
    sn = regkit.SpectralNormalization("hid.W", n_iter=1, rng=4)
    train = regkit.get_outputs(out, regularizers=[sn])
    updates = regkit.apply_update_hooks([sn], out, {})
    step = backend.function([l_in.input_var], train["hid:pre"],
                            updates=list(updates.items()))
    x = np.random.default_rng(19).normal(size=(5, 3)).astype(FLOATX)
    for _ in range(60):
        got = step(x)
    W, b = hid.W.get_value(), hid.b.get_value()
    sigma = np.linalg.svd(W, compute_uv=False)[0]
    np.testing.assert_allclose(got, x @ (W / sigma) + b, rtol=1e-4)
    # inference uses it too, reading the vector without advancing it
    test = regkit.get_outputs(out, regularizers=[sn], deterministic=True)
    np.testing.assert_allclose(
        backend.function([l_in.input_var], test["hid:pre"])(x),
        x @ (W / sigma) + b, rtol=1e-4)
    copy = regkit.deserialize(regkit.serialize(sn))
    assert isinstance(copy, regkit.SpectralNormalization)


# --- stochastic depth ---------------------------------------------------------------------

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


def test_off_diagonal_orthogonality_against_numpy_and_its_gradient():
    W = np.random.default_rng(20).normal(size=(5, 3))
    gram = W.T @ W
    want = (gram ** 2).sum() - (np.diag(gram) ** 2).sum()
    np.testing.assert_allclose(
        float(regkit.orthogonality(W, off_diagonal=True).eval()), want,
        rtol=1e-10)
    # norms are free: scaling orthogonal columns costs nothing
    Q = np.linalg.qr(np.random.default_rng(21).normal(size=(5, 3)))[0]
    assert float(regkit.orthogonality(3 * Q, off_diagonal=True).eval()) \
        == pytest.approx(0.0, abs=1e-9)
    assert float(regkit.orthogonality(3 * Q).eval()) > 1
    backend.verify_grad(lambda w: regkit.orthogonality(w, off_diagonal=True),
                        [W], rng=np.random.RandomState(8))
    # through the helpers, as every penalty
    _, hid, out = _net()
    term = regkit.regularize_network_params(out, regkit.orthogonality,
                                            off_diagonal=True)
    assert float(term.eval()) > 0


NEW_KEYS = ["l2_sp", "spectral_norm", "spectral_normalization", "srip",
            "drop_connect", "alpha_dropout", "stochastic_depth",
            "confidence_penalty", "r1_penalty", "jacobian_projection",
            "non_neg", "unit_norm", "min_max_norm", "decoupled_weight_decay"]


@pytest.mark.parametrize("key", NEW_KEYS)
def test_every_new_regularizer_has_its_registry_key_and_keyword(key):
    _, _, out = _net()
    weight = 0.0 if key == "non_neg" else 0.1
    (built,) = regkit.from_kwargs(out, **{key: weight})
    assert regkit.REGISTRY[key] is type(built)
    assert regkit.serialize(built)["name"] == key
    assert type(regkit.deserialize(regkit.serialize(built))) is type(built)


def test_power_iteration_hooks_on_a_plain_dict_skip_biases():
    W = backend.shared(np.eye(3, dtype=FLOATX) * 2, name="W")
    b = backend.shared(np.zeros(3, FLOATX), name="b")
    updates = {W: W * 1, b: b + 1}
    regkit.SpectralNorm(weight=1.0, rng=0).modify_updates(updates)
    assert len(updates) == 3 and updates[b] is not None
