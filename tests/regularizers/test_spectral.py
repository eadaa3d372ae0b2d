"""The terms by power iteration: SpectralNorm and SRIP
(regkit/regularizers/spectral.py)."""
import pickle
import textwrap

import numpy as np
import pytest

import regkit
from regkit import backend
from regkit.nonlinearities import softmax

from conftest import compile_fast, mlp, run_fresh, top_sigma, trained

FLOATX = backend.floatX


def _converged(reg, net, steps=60):
    step = backend.function([], reg.loss(net, {}), updates=list(
        regkit.apply_update_hooks([reg], net, {}).items()))
    for _ in range(steps):
        value = step()
    return float(value)


def test_spectral_norm_converges_to_the_largest_singular_value():
    _, hid, out = mlp(seed=0, out={"nonlinearity": softmax})
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
    _, hid, out = mlp(seed=0, out={"nonlinearity": softmax})
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


def test_power_iteration_hooks_on_a_plain_dict_skip_biases():
    W = backend.shared(np.eye(3, dtype=FLOATX) * 2, name="W")
    b = backend.shared(np.zeros(3, FLOATX), name="b")
    updates = {W: W * 1, b: b + 1}
    regkit.SpectralNorm(weight=1.0, rng=0).modify_updates(updates)
    assert len(updates) == 3 and updates[b] is not None


# --- at their edges: zero, optimum, float32 underflow ------------------------

def _orthonormal(shape):
    """A weight whose columns (2-D) or filters (N-D) are exactly
    orthonormal (the identity, cut to the shape): ``W^T W - I`` is 0."""
    if len(shape) == 2:
        return np.eye(*shape)
    return np.eye(shape[0], int(np.prod(shape[1:]))).reshape(shape)


SHAPES = [(3, 2), (2, 3, 2), (4, 2, 3, 3)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", SHAPES)
def test_power_iteration_at_a_zero_weight(dtype, shape):
    W = backend.shared(np.zeros(shape, dtype), name="W")
    for reg, want in ((regkit.SpectralNorm("W", 1.0, rng=0), 0.0),
                      (regkit.SRIP("W", 1.0, rng=0), 1.0)):  # |0 - I| = 1
        value, grad = trained(reg, W)
        assert value == pytest.approx(want, abs=1e-6), type(reg).__name__
        assert np.isfinite(grad).all() and not grad.any()
        vector = reg.power.shared[W].get_value()  # kept a unit vector
        assert np.linalg.norm(vector) == pytest.approx(1.0, rel=1e-5)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", SHAPES)
def test_srip_at_its_optimum(dtype, shape):
    W = backend.shared(_orthonormal(shape).astype(dtype), name="W")
    value, grad = trained(regkit.SRIP("W", 1.0, rng=0), W)
    assert abs(value) < 1e-5 and np.isfinite(grad).all()


def test_power_vector_recovers_once_the_weight_is_nonzero():
    W = backend.shared(np.zeros((3, 4)), name="W")
    sn = regkit.SpectralNorm("W", 1.0, rng=0)
    trained(sn, W, steps=3)  # steps at zero
    values = np.random.default_rng(5).normal(size=(3, 4))
    W.set_value(values)
    value, _ = trained(sn, W, steps=1)
    # the same vector, advanced on a non-zero weight, converges
    net = (W * 1).sum()
    step = compile_fast([], sn.loss(net, {}), updates=list(
        regkit.apply_update_hooks([sn], net, {}).items()))
    for _ in range(60):
        value = float(step())
    assert value == pytest.approx(top_sigma(values) ** 2, rel=1e-5)
    # a vector that is NaN (or zero) is re-seeded in the graph
    sn.power.shared[W].set_value(np.full(4, np.nan))
    for _ in range(60):
        value = float(step())
    assert value == pytest.approx(top_sigma(values) ** 2, rel=1e-5)
    assert np.isfinite(sn.power.shared[W].get_value()).all()


def test_saved_power_vectors_are_checked():
    with pytest.raises(ValueError, match="NaN"):
        regkit.SpectralNorm(vectors={"W": [np.nan, 1.0]})
    with pytest.raises(ValueError, match="1-d"):
        regkit.SpectralNorm(vectors={"W": [[1.0]]})
    W = backend.shared(np.ones((2, 3)), name="W")
    with pytest.raises(ValueError, match="saved vector of 'W'"):
        regkit.SpectralNorm("W", 1.0, vectors={"W": [1.0, 0.0]}).loss(
            W.sum(), {})


def test_one_power_iteration_regularizer_on_two_networks():
    def network(values):
        return regkit.DenseLayer(regkit.InputLayer(
            (None, values.shape[0]), name="in"), values.shape[1],
            W=values, b=None, name="out")
    sn = regkit.SpectralNorm(weight=1.0, rng=0)
    first, second = np.ones((3, 2)), np.ones((4, 5))
    for values in (first, second):  # the same name, another shape
        net = network(values)
        step = compile_fast([], sn.loss(net, {}), updates=list(
            regkit.apply_update_hooks([sn], net, {}).items()))
        for _ in range(5):
            value = float(step())
        assert value == pytest.approx(top_sigma(values) ** 2, rel=1e-6)


def test_srip_of_huge_float32_weights_has_a_finite_gradient():
    W = backend.shared((1e20 * np.eye(3, 2)).astype("float32"), name="W")
    srip = regkit.SRIP("W", 1.0, rng=0)
    term = srip.loss(W.sum(), {})
    assert term.dtype == "float32"
    grad = compile_fast([], backend.grad(term, W))()
    assert np.isfinite(grad).all()


# --- saved and reloaded in a fresh process -----------------------------------

_SAVED_MODEL = textwrap.dedent("""
    import json, pickle, sys
    import numpy as np
    import regkit
    from regkit import backend

    def build(values):
        l_in = regkit.InputLayer((None, 3), name="in")
        hid = regkit.DenseLayer(l_in, 4, W=values[0], name="hid")
        out = regkit.DenseLayer(hid, 2, W=values[1], nonlinearity=None,
                                name="out")
        return l_in, out

    def results(regs, l_in, out):
        sn, norm, srip = regs
        y = regkit.get_output(out, regularizers=[sn], deterministic=True)
        terms = [norm.loss(out, {}), srip.loss(out, {})]
        fn = backend.function([l_in.input_var], [y] + terms)
        value = fn(np.ones((2, 3), l_in.input_var.dtype))
        return [np.asarray(v).tolist() for v in value]

    path = sys.argv[2]
    if sys.argv[1] == "save":
        rng = np.random.default_rng(0)
        values = [rng.normal(size=(3, 4)), rng.normal(size=(4, 2))]
        l_in, out = build(values)
        regs = [regkit.SpectralNormalization("out.W", rng=1),
                regkit.SpectralNorm("*.W", 1.0, rng=2),
                regkit.SRIP("*.W", 1.0, rng=3)]
        regkit.get_output(out, regularizers=regs[:1])
        for reg in regs[1:]:
            reg.loss(out, {})
        updates = regkit.apply_update_hooks(regs, out, {})
        step = backend.function([], [], updates=list(updates.items()))
        for _ in range(2):  # vectors part-way: not yet converged
            step()
        with open(path + ".pickle", "wb") as f:
            pickle.dump((values, regs), f)
        with open(path + ".json", "w") as f:
            json.dump([regkit.serialize(r) for r in regs], f)
        print(json.dumps(results(regs, l_in, out)))
    else:
        with open(path + ".pickle", "rb") as f:
            values, pickled = pickle.load(f)
        with open(path + ".json") as f:
            loaded = [regkit.deserialize(d) for d in json.load(f)]
        print(json.dumps([results(regs, *build(values))
                          for regs in (pickled, loaded)]))
""")


@pytest.mark.slow
def test_power_vectors_survive_save_and_reload_in_a_fresh_process(tmp_path):
    script = tmp_path / "model.py"
    script.write_text(_SAVED_MODEL)
    before = run_fresh(script, "save", str(tmp_path / "model"))
    pickled, loaded = run_fresh(script, "load", str(tmp_path / "model"))
    for after in (pickled, loaded):
        for want, got in zip(before, after):
            np.testing.assert_allclose(got, want, rtol=1e-6)
