"""Changes of weights in the graph: DropConnect and SpectralNormalization
(regkit/regularizers/weight_changes.py)."""
import numpy as np
import pytest

import regkit
from regkit import backend
from regkit.nonlinearities import softmax

from conftest import compile_fast, mlp, plain_network, top_sigma

T = backend.tensor
FLOATX = backend.floatX


def test_dropconnect_drops_connections_of_the_matched_layer_only():
    l_in, hid, out = mlp(seed=0, out={"nonlinearity": softmax})
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
    l_in, hid, out = mlp(seed=0, out={"nonlinearity": softmax})
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


@pytest.mark.parametrize("shape", [(3, 2), (4, 2, 3, 3)])
def test_spectral_normalization_at_zero_and_in_float32_underflow(shape):
    l_in = regkit.InputLayer((None, 4), name="in")
    for scale in (0.0, 1e-25):
        values = scale * np.random.default_rng(1).normal(size=(4, 3))
        out = regkit.DenseLayer(l_in, 3, W=values.astype("float32"), b=None,
                                nonlinearity=None, name="out")
        sn = regkit.SpectralNormalization("out.W", n_iter=30, rng=0)
        y = regkit.get_output(out, regularizers=[sn])
        grad = backend.grad(y.sum(), out.W)
        x = np.eye(4, dtype="float32")
        value, gradient = compile_fast([l_in.input_var], [y, grad])(
            x.astype(l_in.input_var.dtype))
        assert np.isfinite(value).all() and np.isfinite(gradient).all()
        if scale == 0:
            assert not value.any()
        else:  # W / sigma(W), though sigma's square underflows float32
            want = values / top_sigma(values)
            np.testing.assert_allclose(value, want, rtol=1e-3, atol=1e-6)
    # N-D weights through a plain graph: finite at zero as well
    W = backend.shared(np.zeros(shape, FLOATX), name="W")
    x = T.vector("x")
    h = T.sum(W) * x
    h.name = "h"
    graph = regkit.apply_regularizers(h.sum(), [
        regkit.SpectralNormalization("W", rng=0)])
    assert compile_fast([x], graph.train)(np.ones(2, FLOATX)) == 0


@pytest.mark.parametrize("order", ["as listed", "reversed"])
def test_two_changes_on_one_weight_both_apply_in_either_order(order):
    x, W1, W2, h, z, p = plain_network(FLOATX)
    regs = [regkit.DropConnect("W1", 0.5, rng=3),
            regkit.SpectralNormalization("W1", n_iter=30, rng=4)]
    regs = regs if order == "as listed" else regs[::-1]
    pre = T.dot(x, W1)
    pre.name = "pre"
    graph = regkit.apply_regularizers(pre.sum() * 1, regs)
    rows = regkit.get_outputs(pre.sum() * 1, regularizers=regs)["pre:out"]
    fn = compile_fast([x], rows, updates=regkit.random_updates(rows))
    W = W1.get_value()
    trained = fn(np.eye(3, dtype=FLOATX))  # the effective weight
    kept = trained != 0
    assert 0.2 < kept.mean() < 0.8  # DropConnect ran
    infer = compile_fast([x], regkit.get_outputs(
        pre.sum() * 1, regularizers=regs, deterministic=True)["pre:out"])(
            np.eye(3, dtype=FLOATX))
    np.testing.assert_allclose(infer, W / top_sigma(W), rtol=1e-5)
    assert graph.inference is not None
