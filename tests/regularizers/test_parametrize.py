"""Parametrizations (regkit/regularizers/parametrize.py): the same function
before and after parametrize, orthogonality after many SGD steps on every
linker, gradients by finite differences, bake, round trips, network forms,
composition with a penalty, bad input."""
import importlib
import json
import pickle
import warnings

import numpy as np
import pytest

import regkit
from regkit import backend

from conftest import graph_mlp
from test_lasagne import DenseLayer as LasagneDense
from test_lasagne import InputLayer as LasagneInput

T = backend.tensor
# Theano's expm gradient is NaN at repeated eigenvalues: no matrix_exp there
METHODS = [m for m in regkit.parametrizations.ORTHOGONAL_METHODS
           if backend.NAME == "pytensor" or m != "matrix_exp"]


def _orthogonal(rows, cols, seed=0, dtype="float64"):
    """A matrix with orthonormal columns (or rows, if wider than tall)."""
    a = np.random.default_rng(seed).standard_normal((max(rows, cols),) * 2)
    q, _ = np.linalg.qr(a)
    return q[:rows, :cols].astype(dtype) if rows >= cols \
        else q[:cols, :rows].T.astype(dtype)


def _net(W, dtype="float64"):
    x = T.matrix("x", dtype=dtype)
    l_in = regkit.InputLayer((None, W.shape[0]), input_var=x, name="in")
    out = regkit.DenseLayer(l_in, W.shape[1], W=W, b=np.zeros(W.shape[1],
                                                              dtype),
                            nonlinearity=regkit.nonlinearities.tanh,
                            name="out")
    return l_in, out


def _gap(w):
    """max |W^T W - I| over the smaller side."""
    w = w if w.shape[0] >= w.shape[1] else w.T
    return np.abs(w.T @ w - np.eye(w.shape[1])).max()


PARAMETRIZATIONS = [
    lambda: regkit.WeightNorm("out.W", axis=1),
    lambda: regkit.WeightNorm("out.W", axis=0),
    lambda: regkit.Orthogonal("out.W", method="cayley"),
    lambda: regkit.Orthogonal("out.W", method="householder"),
    lambda: regkit.Orthogonal("out.W", method="householder", reflections=2),
] + ([lambda: regkit.Orthogonal("out.W", method="matrix_exp")]
     if backend.NAME == "pytensor" else [])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5), (1, 1)])
@pytest.mark.parametrize("make", PARAMETRIZATIONS)
def test_the_network_computes_the_same_function_after_parametrize(
        make, shape, dtype):
    reg = make()
    if getattr(reg, "reflections", None) and reg.reflections > max(shape):
        pytest.skip("more reflections than rows")
    W = _orthogonal(*shape, dtype=dtype)
    l_in, out = _net(W, dtype)
    y = regkit.get_output(out)
    p = regkit.parametrize(out, [reg])
    assert list(p.replacements) == [out.W]
    rebuilt = p.replacements[out.W]
    assert rebuilt.dtype == dtype
    X = np.random.default_rng(1).standard_normal((1, shape[0])).astype(dtype)
    before, after = backend.function([l_in.input_var], [y, p.apply(y)])(X)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(after, before, rtol=tol, atol=tol)
    # the shared variables are untouched
    np.testing.assert_array_equal(out.W.get_value(), W)


# the same numbers as the C linker to float rounding (MLX computes float64
# exp and cos to float32 accuracy: see the Backends page)
RTOL = dict(MLX=1e-6)


def _parametrized_training(method, linker, steps=50):
    """`steps` SGD steps of a 5x3 tanh layer with its weight under
    Orthogonal(method) (or WeightNorm for method "weight_norm"): the losses
    and the last weight."""
    W = _orthogonal(5, 3)
    l_in, out = _net(W)
    x, prediction = l_in.input_var, regkit.get_output(out)
    network, name = out, "out.W"
    y = T.vector("y")
    reg = (regkit.WeightNorm(name) if method == "weight_norm"
           else regkit.Orthogonal(name, method=method))
    p = regkit.parametrize(network, [reg])
    loss = p.apply(T.mean((prediction[:, 0] - y) ** 2))
    original = list(p.replacements)[0]
    params = p.trainable(regkit.get_all_params(network, trainable=True))
    assert original not in params and p.params[0] in params
    updates = [(q, q - 0.1 * g) for q, g in zip(params,
                                                 backend.grad(loss, params))]
    train = backend.function([x, y], [loss, p.replacements[original]],
                             updates=updates,
                             mode=backend.linker_modes()[linker])
    rng = np.random.default_rng(2)
    X, Y = rng.standard_normal((8, 5)), rng.uniform(-0.9, 0.9, 8)
    losses = []
    for _ in range(steps):
        value, w = train(X, Y)
        losses.append(float(value))
    return np.array(losses), np.asarray(w), W


@pytest.mark.parametrize("linker", sorted(backend.linker_modes()))
@pytest.mark.parametrize("method", METHODS + ["weight_norm"])
def test_50_sgd_steps_on_every_linker(method, linker):
    if linker == "MLX" and method == "matrix_exp":
        pytest.skip("PyTensor's MLX linker has no kernel for the matrix "
                    "exponential")
    if linker == "PYTORCH":
        pytest.skip("PyTensor's PyTorch linker has no kernel for the LU "
                    "solve and the matrix exponential, and cannot "
                    "differentiate a bias broadcast over the batch "
                    "(Backends page)")
    losses, w, W = _parametrized_training(method, linker)
    if method != "weight_norm":
        assert _gap(w) < 1e-10  # orthonormal columns to float rounding
    assert losses[-1] < losses[0]  # it trains
    assert np.abs(w - W).max() > 1e-3  # and the weight moved
    # and every linker computes the C linker's numbers, step after step
    ref_losses, ref_w, _ = _parametrized_training(method, "cvm")
    rtol = RTOL.get(linker, 1e-9)
    np.testing.assert_allclose(losses, ref_losses, rtol=rtol)
    np.testing.assert_allclose(w, ref_w, rtol=rtol, atol=rtol)


def test_householder_is_the_product_of_its_reflections():
    # the compact form against the definition, one reflection at a time,
    # for every count of reflections and a 1x1 weight
    # the module, not the function regkit.regularizers re-exports as
    # `parametrize`
    module = importlib.import_module("regkit.regularizers.parametrize")
    rng = np.random.default_rng(4)
    for n, count in [(1, 1), (4, 1), (4, 2), (4, 4), (7, 7)]:
        a = rng.standard_normal((n, count))
        product = np.eye(n)
        for v in a.T:
            product = product @ (np.eye(n) - 2.0 * np.outer(v, v) / (v @ v))
        np.testing.assert_allclose(module._householder_np(a), product,
                                   atol=1e-12)
        symbolic = module._householder(backend.shared(a), n, count).eval()
        np.testing.assert_allclose(symbolic, product, atol=1e-12)


@pytest.mark.parametrize("make", PARAMETRIZATIONS)
def test_gradients_by_finite_differences(make):
    reg = make()
    W = _orthogonal(3, 2) + (0.1 if isinstance(reg, regkit.WeightNorm)
                             else 0.0)
    _, out = _net(W)
    p = regkit.parametrize(out, [reg])
    expr = p.replacements[out.W]
    free = p.params
    values = [q.get_value() + 0.05 * np.random.default_rng(i).standard_normal(
        q.get_value().shape) for i, q in enumerate(free)]
    weights = np.random.default_rng(9).standard_normal(W.shape)

    def function(*args):
        return (backend.clone_replace(expr, dict(zip(free, args)))
                * weights).sum()
    backend.verify_grad(function, values, rng=np.random.RandomState(0))


def test_weight_norm_lengths_directions_and_a_zero_column():
    W = np.array([[3.0, 0.0], [4.0, 0.0]])
    _, out = _net(W)
    p = regkit.parametrize(out, [regkit.WeightNorm("out.W", axis=1)])
    g, v = p.params
    assert g.name == "out.W.g" and v.name == "out.W.v"
    np.testing.assert_array_equal(g.get_value(), [5.0, 0.0])
    expr = p.replacements[out.W]
    value, *grads = backend.function([], [expr] + backend.grad(
        (expr * np.array([[1.0, 2.0], [3.0, 4.0]])).sum(), [g, v]))()
    np.testing.assert_allclose(value, W)
    assert all(np.isfinite(grad).all() for grad in grads)
    # the length follows g, the direction V
    g.set_value(np.array([10.0, 0.0]))
    np.testing.assert_allclose(expr.eval(), [[6.0, 0.0], [8.0, 0.0]])


def test_a_weight_that_is_not_orthogonal_starts_from_its_polar_factor():
    W = np.array([[2.0, 0.0], [0.0, 0.5], [0.0, 0.0]])
    _, out = _net(W)
    with pytest.warns(UserWarning, match=r"'out.W' is not orthogonal"):
        p = regkit.parametrize(out, [regkit.Orthogonal("out.W")])
    np.testing.assert_allclose(p.replacements[out.W].eval(),
                               [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]],
                               atol=1e-12)


def test_bake_writes_the_trained_weights_back():
    W = _orthogonal(4, 4)
    l_in, out = _net(W)
    p = regkit.parametrize(out, [regkit.Orthogonal("out.W",
                                                   method="householder")])
    a = p.params[0]
    a.set_value(a.get_value() + 0.3)
    y = regkit.get_output(out)
    X = np.ones((2, 4))
    want = p.apply(y).eval({l_in.input_var: X})
    assert not np.allclose(y.eval({l_in.input_var: X}), want)
    p.bake()
    np.testing.assert_allclose(y.eval({l_in.input_var: X}), want,
                               rtol=1e-12)
    assert _gap(out.W.get_value()) < 1e-12
    p.bake()  # once more: the compiled function is kept


@pytest.mark.parametrize("order", ["penalty first", "parametrization first"])
def test_a_penalty_on_a_parametrized_weight_sees_the_rebuilt_weight(order):
    W = np.array([[3.0, 1.0], [4.0, 2.0], [0.0, 2.0]])
    l_in, out = _net(W)
    weight_norm = regkit.WeightNorm("out.W", axis=1)
    l2 = regkit.WeightL2("out.W", weight=0.5)
    if order == "penalty first":
        penalty = regkit.total_penalty([l2], out, regkit.get_outputs(out))
        p = regkit.parametrize(out, [weight_norm])
    else:
        p = regkit.parametrize(out, [weight_norm])
        penalty = regkit.total_penalty([l2], out, regkit.get_outputs(out))
    rebuilt = p.apply(penalty)
    g = p.params[0]
    g.set_value(2 * g.get_value())  # every column twice as long
    assert float(rebuilt.eval()) == pytest.approx(0.5 * 4 * (W ** 2).sum())
    assert float(penalty.eval()) == pytest.approx(0.5 * (W ** 2).sum())


def test_a_lasagne_network_and_a_plain_graph():
    l_in = LasagneInput((None, 3), name="in")
    dense = LasagneDense(l_in, 3, W=_orthogonal(3, 3), name="hid")
    p = regkit.parametrize(dense, [regkit.Orthogonal("hid.W",
                                                     method=METHODS[-1])])
    assert list(p.replacements) == [dense.W]
    y = regkit.get_output(dense)
    X = np.ones((2, 3), backend.floatX)
    np.testing.assert_allclose(p.apply(y).eval({l_in.input_var: X}),
                               y.eval({l_in.input_var: X}), rtol=1e-6)
    g = graph_mlp()
    q = regkit.parametrize(g["pred"], [regkit.WeightNorm("W1", axis=1)])
    assert [v.name for v in q.params] == ["W1.g", "W1.v"]
    # the free parameters are what the graph trains now; the state is not
    rebuilt = q.apply(g["loss"])
    found = regkit.get_all_params(rebuilt, trainable=True)
    assert set(q.params) <= set(found) and g["W1"] not in found


@pytest.mark.parametrize("reg", [
    regkit.WeightNorm("*.W", axis=-1),
    regkit.Orthogonal("hid.W", method="householder", reflections=3,
                      tags={"trainable": True}),
])
def test_serialize_and_pickle_round_trips(reg):
    data = json.loads(json.dumps(regkit.serialize(reg)))
    again = regkit.deserialize(data)
    assert repr(again) == repr(reg) and "weight" not in data["config"]
    assert repr(pickle.loads(pickle.dumps(reg))) == repr(reg)


def test_the_audit_lists_a_parametrization():
    _, out = _net(_orthogonal(3, 3))
    report = regkit.audit(out, [regkit.Orthogonal("out.W")])
    rows = {row["name"]: row for row in report.params}
    assert [label for label, _ in rows["out.W"]["terms"]] == ["orthogonal"]


@pytest.mark.parametrize("make, error, match", [
    (lambda out: regkit.parametrize(out, [regkit.WeightL2()]), TypeError,
     r"parametrizations\[0\] must be a WeightNorm, an Orthogonal or a "
     "SpectralNormalization"),
    (lambda out: regkit.parametrize(out, [regkit.WeightNorm("out.W"),
                                          regkit.Orthogonal("out.W")]),
     ValueError, "'out.W' is chosen by WeightNorm and by Orthogonal"),
    (lambda out: regkit.parametrize(out, [regkit.WeightNorm(
        "out.b", tags={"trainable": True})]), ValueError,
     "'out.b' has 1 dimension"),
    (lambda out: regkit.parametrize(out, [regkit.WeightNorm("out.W",
                                                            axis=2)]),
     ValueError, "axis 2 is out of range for 'out.W'"),
    (lambda out: regkit.WeightNorm(axis=1.0), TypeError,
     "axis must be an int"),
    (lambda out: regkit.Orthogonal(method="qr"), ValueError,
     "method must be one of cayley, matrix_exp, householder"),
    (lambda out: regkit.Orthogonal(reflections=2), ValueError,
     "reflections is for method='householder'"),
    (lambda out: regkit.Orthogonal(method="householder", reflections=0),
     ValueError, "reflections"),
    (lambda out: regkit.parametrize(out, [regkit.Orthogonal(
        "out.W", method="householder", reflections=4)]), ValueError,
     "4 reflections for the 3x3 'out.W'; at most 3"),
    (lambda out: regkit.parametrize(out, [regkit.Orthogonal(
        "out.b", tags={"trainable": True})]), ValueError,
     "'out.b' has 1 dimension"),
])
def test_bad_input(make, error, match):
    _, out = _net(_orthogonal(3, 3))
    with pytest.raises(error, match=match):
        make(out)


@pytest.mark.skipif(backend.NAME != "theano", reason="Theano's expm")
def test_theano_refuses_the_matrix_exponential():
    with pytest.raises(ValueError, match="matrix_exp' needs PyTensor"):
        regkit.Orthogonal(method="matrix_exp")


def test_apply_refuses_what_is_not_an_expression():
    _, out = _net(_orthogonal(2, 2))
    p = regkit.parametrize(out, [regkit.Orthogonal("out.W")])
    with pytest.raises(TypeError, match="Parametrized.apply: expr must be"):
        p.apply("loss")


def test_a_pattern_that_matches_nothing_warns_and_changes_nothing():
    _, out = _net(_orthogonal(2, 2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        p = regkit.parametrize(out, [regkit.Orthogonal("nope.W")])
    assert any("matches no parameter" in str(w.message) for w in caught)
    assert p.params == [] and not p.replacements


def test_spectral_normalization_joins_the_parametrize_route():
    # the same W / sigma as the graph-change route; W stays the free
    # parameter, the power-iteration vector is state the hooks advance
    W = np.array([[3.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    l_in, out = _net(W)
    sn = regkit.SpectralNormalization("out.W", rng=0)
    p = regkit.parametrize(out, [sn])
    assert p.params == [out.W]
    assert p.trainable(regkit.get_all_params(out, trainable=True)) == \
        regkit.get_all_params(out, trainable=True)
    step = backend.function([], [], updates=list(regkit.apply_update_hooks(
        [sn], out, {out.W: out.W}).items()))
    for _ in range(30):
        step()
    rebuilt = p.replacements[out.W].eval()
    np.testing.assert_allclose(np.linalg.svd(rebuilt, compute_uv=False)[0],
                               1.0, rtol=1e-6)
    X = np.ones((2, 3))
    graph_route = regkit.get_output(out, regularizers=[sn])
    np.testing.assert_allclose(
        p.apply(regkit.get_output(out)).eval({l_in.input_var: X}),
        graph_route.eval({l_in.input_var: X}), rtol=1e-12)


def test_a_nearly_orthogonal_weight_starts_exactly_orthogonal():
    # a float32 checkpoint in a float64 network: orthogonal to 1e-8, no
    # warning, and the parametrized weight orthogonal to float64 rounding
    W = _orthogonal(6, 4).astype(np.float32).astype(np.float64)
    assert 1e-9 < _gap(W) < 1e-6
    _, out = _net(W)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = regkit.parametrize(out, [regkit.Orthogonal("out.W")])
    w = p.replacements[out.W].eval()
    assert _gap(w) < 1e-14
    np.testing.assert_allclose(w, W, atol=1e-6)


def test_a_weight_that_is_not_finite_is_refused_by_name():
    W = _orthogonal(3, 3)
    W[1, 1] = np.nan
    _, out = _net(W)
    with pytest.raises(ValueError, match="'out.W' has values that are not "
                       "finite"):
        regkit.parametrize(out, [regkit.Orthogonal("out.W")])


def test_a_weight_takes_one_parametrization_across_calls_until_baked():
    _, out = _net(_orthogonal(3, 3))
    p = regkit.parametrize(out, [regkit.WeightNorm("out.W", axis=1)])
    with pytest.raises(ValueError, match="'out.W' is already parametrized "
                       r"\(by WeightNorm"):
        regkit.parametrize(out, [regkit.Orthogonal("out.W")])
    p.bake()
    again = regkit.parametrize(out, [regkit.Orthogonal("out.W")])
    assert list(again.replacements) == [out.W]


@pytest.mark.parametrize("dtype, scale", [("float32", 1e-10),
                                          ("float32", 1e25),
                                          ("float64", 1e-20),
                                          ("float64", 1e150)])
def test_weight_norm_keeps_tiny_and_huge_weights(dtype, scale):
    # the norm of a slice is taken of the slice over its largest entry:
    # nothing is floored away, nothing overflows
    W = (_orthogonal(3, 2) * scale).astype(dtype)
    _, out = _net(W, dtype)
    p = regkit.parametrize(out, [regkit.WeightNorm("out.W", axis=1)])
    w = p.replacements[out.W].eval()
    np.testing.assert_allclose(w, W, rtol=1e-5 if dtype == "float32"
                               else 1e-12)


@pytest.mark.parametrize("route", ["get_output", "apply_regularizers",
                                   "total_penalty", "apply_update_hooks",
                                   "from_kwargs"])
@pytest.mark.parametrize("make", [lambda: regkit.WeightNorm("out.W"),
                                  lambda: regkit.Orthogonal("out.W")])
def test_the_regularizer_routes_refuse_a_parametrization(route, make):
    # they would change nothing: a TypeError pointing at parametrize
    reg = make()
    _, out = _net(_orthogonal(3, 3))
    calls = {
        "get_output": lambda: regkit.get_output(out, regularizers=[reg]),
        "apply_regularizers": lambda: regkit.apply_regularizers(out, [reg]),
        "total_penalty": lambda: regkit.total_penalty(
            [reg], out, regkit.get_outputs(out)),
        "apply_update_hooks": lambda: regkit.apply_update_hooks(
            [reg], out, {out.W: out.W * 1}),
        "from_kwargs": lambda: regkit.from_kwargs(
            out, regularizers=[reg]),
    }
    with pytest.raises(TypeError, match="is a parametrization: apply it "
                       "with regkit.parametrize"):
        calls[route]()


def test_spectral_normalization_keeps_its_vector_in_states():
    W = np.array([[3.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    _, out = _net(W)
    p = regkit.parametrize(out, [regkit.SpectralNormalization("out.W",
                                                              rng=0)])
    assert [s.name for s in p.states] == ["out.W.power_vector"]


def test_from_kwargs_refuses_a_parametrization_key():
    _, out = _net(_orthogonal(3, 3))
    with pytest.raises(TypeError, match="weight_norm.*is a parametrization"):
        regkit.from_kwargs(out, weight_norm={"pattern": "out.W"})
