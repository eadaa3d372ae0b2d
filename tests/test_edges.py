"""The edges of the catalogue's formulas and of its graph changes: zero and
identity weights, float32 underflow, the inference graph from every route,
composition of two changes on one output in both orders, names that are
not unique, state kept in shared variables (compiled functions see a later
capture; a saved model predicts the same after reload in a fresh process),
fresh random draws over several calls, and bounds on every count.

Value tests compile with FAST_COMPILE (the cheapest linker that runs the
same Ops); tests/test_linkers.py covers every linker."""
from collections import OrderedDict
import json
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import regkit
from regkit import backend

T = backend.tensor
FLOATX = backend.floatX
FAST = "FAST_COMPILE"


def compile_(inputs, outputs, **kwargs):
    return backend.function(inputs, outputs, mode=FAST,
                            on_unused_input="ignore", **kwargs)


def _top_sigma(W):
    matrix = W if W.ndim == 2 else W.reshape(W.shape[0], -1)
    return np.linalg.svd(matrix, compute_uv=False)[0]


def _orthonormal(shape):
    """A weight whose columns (2-D) or filters (N-D) are exactly
    orthonormal (the identity, cut to the shape): ``W^T W - I`` is 0."""
    if len(shape) == 2:
        return np.eye(*shape)
    return np.eye(shape[0], int(np.prod(shape[1:]))).reshape(shape)


def _trained(reg, W, steps=30):
    """The regularizer's term over `steps` steps that advance its vectors
    (``W`` a shared variable of a plain graph), and its gradient."""
    net = (W * 1).sum()
    term = reg.loss(net, {})
    updates = regkit.apply_update_hooks([reg], net, {})
    grad = backend.grad(term, W)
    step = compile_([], [term, grad], updates=list(updates.items()))
    for _ in range(steps):
        value, gradient = step()
    return float(value), gradient


SHAPES = [(3, 2), (2, 3, 2), (4, 2, 3, 3)]


# --- 1. spectral terms at zero, at their optimum, in float32 underflow -------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", SHAPES)
def test_power_iteration_at_a_zero_weight(dtype, shape):
    W = backend.shared(np.zeros(shape, dtype), name="W")
    for reg, want in ((regkit.SpectralNorm("W", 1.0, rng=0), 0.0),
                      (regkit.SRIP("W", 1.0, rng=0), 1.0)):  # |0 - I| = 1
        value, grad = _trained(reg, W)
        assert value == pytest.approx(want, abs=1e-6), type(reg).__name__
        assert np.isfinite(grad).all() and not grad.any()
        vector = reg.power.shared[W].get_value()  # kept a unit vector
        assert np.linalg.norm(vector) == pytest.approx(1.0, rel=1e-5)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", SHAPES)
def test_srip_at_its_optimum(dtype, shape):
    W = backend.shared(_orthonormal(shape).astype(dtype), name="W")
    value, grad = _trained(regkit.SRIP("W", 1.0, rng=0), W)
    assert abs(value) < 1e-5 and np.isfinite(grad).all()


def test_power_vector_recovers_once_the_weight_is_nonzero():
    W = backend.shared(np.zeros((3, 4)), name="W")
    sn = regkit.SpectralNorm("W", 1.0, rng=0)
    _trained(sn, W, steps=3)  # steps at zero
    values = np.random.default_rng(5).normal(size=(3, 4))
    W.set_value(values)
    value, _ = _trained(sn, W, steps=1)
    # the same vector, advanced on a non-zero weight, converges
    net = (W * 1).sum()
    step = compile_([], sn.loss(net, {}), updates=list(
        regkit.apply_update_hooks([sn], net, {}).items()))
    for _ in range(60):
        value = float(step())
    assert value == pytest.approx(_top_sigma(values) ** 2, rel=1e-5)
    # a vector that is NaN (or zero) is re-seeded in the graph
    sn.power.shared[W].set_value(np.full(4, np.nan))
    for _ in range(60):
        value = float(step())
    assert value == pytest.approx(_top_sigma(values) ** 2, rel=1e-5)
    assert np.isfinite(sn.power.shared[W].get_value()).all()


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
        value, gradient = compile_([l_in.input_var], [y, grad])(
            x.astype(l_in.input_var.dtype))
        assert np.isfinite(value).all() and np.isfinite(gradient).all()
        if scale == 0:
            assert not value.any()
        else:  # W / sigma(W), though sigma's square underflows float32
            want = values / _top_sigma(values)
            np.testing.assert_allclose(value, want, rtol=1e-3, atol=1e-6)
    # N-D weights through a plain graph: finite at zero as well
    W = backend.shared(np.zeros(shape, FLOATX), name="W")
    x = T.vector("x")
    h = T.sum(W) * x
    h.name = "h"
    graph = regkit.apply_regularizers(h.sum(), [
        regkit.SpectralNormalization("W", rng=0)])
    assert compile_([x], graph.train)(np.ones(2, FLOATX)) == 0


# --- 2. inference graphs from every route ------------------------------------

def _residual(order=("x", "f"), gain=1.0):
    x = regkit.InputLayer((None, 2), name="x")
    f = regkit.DenseLayer(x, 2, W=gain * np.eye(2), b=None, nonlinearity=None,
                          name="f")
    parts = {"x": x, "f": f}
    res = regkit.ElemwiseSumLayer([parts[k] for k in order], name="res")
    return x, f, res


def test_the_inference_graph_is_the_same_from_every_route():
    l_in = regkit.InputLayer((None, 2), name="in")
    out = regkit.DenseLayer(l_in, 2, W=np.array([[4.0, 0.0], [0.0, 1.0]]),
                            b=None, nonlinearity=None, name="out")
    sn = regkit.SpectralNormalization("out.W", n_iter=5, rng=0)
    data = np.ones((1, 2), l_in.input_var.dtype)
    routes = [regkit.get_output(out, regularizers=[sn], deterministic=True),
              regkit.apply_regularizers(out, [sn]).inference]
    for route in routes:
        np.testing.assert_allclose(
            compile_([l_in.input_var], route)(data), [[1, 0.25]], rtol=1e-6)
    x, f, res = _residual()
    depth = regkit.StochasticDepth(weight=0.5, rng=0)
    data = np.ones((1, 2), x.input_var.dtype)
    routes = [regkit.get_output(res, regularizers=[depth],
                                deterministic=True),
              regkit.apply_regularizers(res, [depth]).inference]
    for route in routes:
        np.testing.assert_allclose(compile_([x.input_var], route)(data),
                                   [[1.5, 1.5]])
    # mc_predict averages the training graph: its mean is the inference
    train = regkit.get_output(res, regularizers=[depth])
    mean, _ = regkit.mc_predict(train, {x.input_var: data}, n=400, mode=FAST)
    np.testing.assert_allclose(mean, [[1.5, 1.5]], atol=0.15)


def test_apply_regularizers_without_an_inference_form_returns_the_graph():
    x = T.matrix("x")
    h = T.tanh(x)
    h.name = "h"
    y = h.sum()
    graph = regkit.apply_regularizers(y, [regkit.BernoulliDropout("h:out",
                                                                  0.5)])
    assert graph.inference is y


# --- 3. and 4. stochastic depth: the branch, and composition -----------------

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
    train = compile_([x], graph.train, updates=graph.updates)
    seen = {float(train(np.array([2.0], x.dtype))[0]) for _ in range(40)}
    assert seen == {2.0, 6.0}  # x, or x + f(x)
    assert float(compile_([x], graph.inference)(
        np.array([2.0], x.dtype))[0]) == 4.0  # x + 0.5 f(x)
    # a branch given by hand that another summand reads (here x, read by
    # f) is scaled where it is summed, not inside f
    graph = regkit.apply_regularizers(s, [regkit.StochasticDepth(
        "s:out", 0.5, branch=1, rng=0)])
    train = compile_([x], graph.train, updates=graph.updates)
    seen = {float(train(np.array([2.0], x.dtype))[0]) for _ in range(40)}
    assert seen == {4.0, 6.0}  # f(x), or f(x) + x
    assert float(compile_([x], graph.inference)(
        np.array([2.0], x.dtype))[0]) == 5.0


@pytest.mark.parametrize("order", [("x", "f"), ("f", "x")])
def test_stochastic_depth_finds_the_branch_in_either_order(order):
    x, f, res = _residual(order, gain=2.0)
    test = regkit.get_output(res, regularizers=[
        regkit.StochasticDepth(weight=0.5, rng=0)], deterministic=True)
    np.testing.assert_allclose(compile_([x.input_var], test)(
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
    np.testing.assert_allclose(compile_([x.input_var], test)(
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
    train = compile_([x.input_var], graph.train, updates=graph.updates)
    data = np.ones((1, 2000), x.input_var.dtype)
    dropped = np.mean(train(data) == 0)
    assert 0.45 < dropped < 0.55
    # and the inference graph keeps both inference forms (none for dropout)
    np.testing.assert_allclose(compile_([x.input_var], graph.inference)(
        data), 2 * data)


# --- 5. and 21. unique names -------------------------------------------------

def test_two_shared_variables_of_one_name_get_unique_names():
    x = T.matrix("x")
    W1 = backend.shared(np.ones((2, 2)), name="W")
    W2 = backend.shared(2 * np.ones((2, 2)), name="W")
    loss = T.dot(T.dot(x, W1), W2).sum()
    named = regkit.named_params(loss)
    assert [name for name, _ in named] == ["W", "W#2"]
    sp = regkit.L2SP(weight=1.0).capture(loss)
    assert float(compile_([], sp.loss(loss, {}))()) == 0.0
    W2.set_value(W2.get_value() + 1.5)
    assert float(compile_([], sp.loss(loss, {}))()) == pytest.approx(9.0)


class _ProtocolDense(object):
    """Lasagne's DenseLayer as far as regkit reads it; given a shared
    variable as W it keeps it (and its name), as Lasagne's add_param
    does, which is how Lasagne ties weights."""

    def __init__(self, incoming, W, name):
        self.input_layer, self.name = incoming, name
        if not isinstance(W, backend.SharedVariable):
            W = backend.shared(np.asarray(W, FLOATX), name=name + ".W")
        self.W = W
        self.params = OrderedDict([(W, {"trainable", "regularizable"})])

    @property
    def output_shape(self):
        return (None, self.W.get_value().shape[1])

    def get_params(self, unwrap_shared=True, **tags):
        return list(self.params)

    def get_output_for(self, input, **kwargs):
        return T.dot(input, self.W)


class _ProtocolInput(object):
    def __init__(self, name):
        self.input_var, self.name = T.matrix(name), name
        self.params = OrderedDict()
        self.output_shape = (None, 2)

    def get_params(self, unwrap_shared=True, **tags):
        return []


def test_a_tied_weight_has_one_name_for_every_consumer():
    l_in = _ProtocolInput("in")
    d1 = _ProtocolDense(l_in, 2 * np.eye(2), "d1")
    d2 = _ProtocolDense(d1, d1.W, "d2")  # tied
    assert [n for n, _ in regkit.named_params(d2)] == ["d1.W"]
    sn = regkit.SpectralNormalization("d1.W", n_iter=10, rng=0)
    y = regkit.get_output(d2, regularizers=[sn])  # no warning
    np.testing.assert_allclose(compile_([l_in.input_var], y)(
        np.eye(2, dtype=l_in.input_var.dtype)), np.eye(2), rtol=1e-6)
    with pytest.warns(UserWarning, match="matches no parameter"):
        regkit.get_output(d2, regularizers=[regkit.DropConnect("d2.W", 0.5)])


# --- 6. L2-SP capture reaches compiled functions ------------------------------

def test_l2sp_capture_after_compiling_moves_the_start():
    W = backend.shared(np.ones((2, 2)), name="W")
    loss = (W * 1).sum()
    sp = regkit.L2SP(weight=1.0).capture(loss)
    term = compile_([], sp.loss(loss, {}))
    W.set_value(W.get_value() + 1.0)
    assert float(term()) == pytest.approx(4.0)
    sp.capture(loss)
    assert float(term()) == 0.0


# --- 7. fresh Jacobian projections with the documented recipe -----------------

def test_jacobian_projections_are_fresh_with_the_usual_recipe():
    l_in = regkit.InputLayer((None, 3), name="in")
    hid = regkit.DenseLayer(l_in, 4, W=np.random.default_rng(0).normal(
        size=(3, 4)), name="hid")
    out = regkit.DenseLayer(hid, 2, name="out")
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
        fn = compile_([l_in.input_var], loss, updates=updates)
        values = [float(fn(data)) for _ in range(5)]
        assert len(set(values)) == 5
    frozen = compile_([l_in.input_var], loss)
    assert len({float(frozen(data)) for _ in range(3)}) == 1
    # apply_regularizers' updates, read after the loss is built, too
    graph = regkit.apply_regularizers(out, [drop, jp])
    loss = regkit.total_penalty([jp], out, graph.outputs)
    fn = compile_([l_in.input_var], loss, updates=[] + graph.updates)
    assert len({float(fn(data)) for _ in range(5)}) == 5
    # the recorded draws are never selected as outputs
    assert "hid:out-projection" in outputs
    assert regkit.HiddenL1("*").output_names(out, outputs) == [
        name for name in outputs if not name.endswith(
            ("-predrop", "-projection"))]


# --- 8. saved and reloaded in a fresh process ---------------------------------

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
        fn = backend.function([l_in.input_var], [y] + terms,
                              mode="FAST_COMPILE")
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
        step = backend.function([], [], updates=list(updates.items()),
                                mode="FAST_COMPILE")
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


def _run_fresh(script, *args):
    """The JSON that `script` prints last, run in a fresh process that
    imports the regkit under test."""
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(
        os.path.abspath(regkit.__file__))))
    done = subprocess.run([sys.executable, str(script)] + list(args),
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_power_vectors_survive_save_and_reload_in_a_fresh_process(tmp_path):
    script = tmp_path / "model.py"
    script.write_text(_SAVED_MODEL)
    before = _run_fresh(script, "save", str(tmp_path / "model"))
    pickled, loaded = _run_fresh(script, "load", str(tmp_path / "model"))
    for after in (pickled, loaded):
        for want, got in zip(before, after):
            np.testing.assert_allclose(got, want, rtol=1e-6)


# --- 10., 13. and 14. what a config may hold ----------------------------------

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


@pytest.mark.parametrize("name, config", [
    ("spectral_norm", {"n_iter": 10 ** 9}),
    ("srip", {"n_iter": 101}),
    ("spectral_normalization", {"n_iter": 10 ** 400}),
    ("jacobian_projection", {"n_proj": 101}),
])
def test_counts_in_a_config_are_bounded(name, config):
    with pytest.raises(ValueError, match="at most 100"):
        regkit.deserialize({"name": name, "config": config})


def test_saved_power_vectors_are_checked():
    with pytest.raises(ValueError, match="NaN"):
        regkit.SpectralNorm(vectors={"W": [np.nan, 1.0]})
    with pytest.raises(ValueError, match="1-d"):
        regkit.SpectralNorm(vectors={"W": [[1.0]]})
    W = backend.shared(np.ones((2, 3)), name="W")
    with pytest.raises(ValueError, match="saved vector of 'W'"):
        regkit.SpectralNorm("W", 1.0, vectors={"W": [1.0, 0.0]}).loss(
            W.sum(), {})


# --- 11. Contractive names layers as get_outputs does --------------------------

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


# --- 12. two attributes, and rng reaching every draw ---------------------------

def test_hooks_say_whether_they_are_training_only_and_whether_they_draw():
    table = {
        regkit.BernoulliDropout: (True, True),
        regkit.GaussianNoise: (True, True),
        regkit.AlphaDropout: (True, True),
        regkit.DropConnect: (True, True),
        regkit.StochasticDepth: (False, True),
        regkit.SpectralNormalization: (False, True),
        regkit.SpectralNorm: (False, True),
        regkit.SRIP: (False, True),
        regkit.JacobianProjection: (False, True),
        regkit.WeightL2: (False, False),
        regkit.MaxNorm: (False, False),
    }
    for cls, (training_only, draws) in table.items():
        assert (cls.training_only, cls.draws_random) == (training_only,
                                                         draws), cls

    class Legacy(regkit.OutputHook):
        stochastic = True
    assert Legacy.training_only and Legacy().stochastic


def test_from_kwargs_rng_seeds_every_regularizer_that_draws():
    net = regkit.DenseLayer(regkit.InputLayer((None, 2), name="in"), 2,
                            name="out")
    keys = dict(stochastic_depth=0.5, jacobian_projection=0.1,
                spectral_norm=0.1, srip=0.1, spectral_normalization=0.0,
                drop_connect=0.5, hidden_dropout=None)
    seeds = [[r.rng for r in regkit.from_kwargs(net, rng=rng, **keys)]
             for rng in (1, 2, 1)]
    assert None not in seeds[0]
    assert seeds[0] == seeds[2] and seeds[0] != seeds[1]
    assert len(set(seeds[0])) == len(seeds[0])


# --- 15. and 16. what a regularizer adds to a plain graph ----------------------

def test_state_a_regularizer_adds_is_never_a_parameter():
    x = T.matrix("x")
    W = backend.shared(np.ones((2, 3)), name="W")
    out = T.dot(x, W).sum()
    regs = [regkit.SpectralNorm(weight=0.1, rng=0), regkit.L2SP(weight=0.1)]
    loss = out + regkit.total_penalty(regs, out, {})
    params = regkit.get_all_params(loss, trainable=True)
    assert params == [W]
    backend.grad(loss, params)  # no DisconnectedInputError
    assert regkit.named_params(loss) == [("W", W)]


@pytest.mark.parametrize("reg", [regkit.ConfidencePenalty(weight=0.1),
                                 regkit.R1Penalty(weight=0.1)])
def test_a_default_pattern_that_cannot_apply_is_a_clear_error(reg):
    x, y = T.matrix("x"), T.ivector("y")
    W = backend.shared(np.ones((3, 2)), name="W")
    p = backend.softmax(T.dot(x, W))
    loss = T.mean(-T.log(p[T.arange(y.shape[0]), y]))
    with pytest.raises(ValueError, match="the default pattern .* 0-d"):
        regkit.total_penalty([reg], loss, regkit.get_outputs(loss))


# --- 22. every glob of a pattern must match --------------------------------------

def test_each_glob_that_matches_nothing_warns():
    net = regkit.DenseLayer(regkit.InputLayer((None, 2), name="in"), 2,
                            name="out")
    with pytest.warns(UserWarning, match="glob 'b1'"):
        regkit.L2SP(["out.W", "b1"], 0.1).loss(net, {})
    with pytest.warns(UserWarning, match="glob 'nope:out'"):
        regkit.HiddenL1(["out:out", "nope:out"], 0.1).loss(
            net, regkit.get_outputs(net))


# =============================================================================
# The sweep: every class and function of the catalogue at its edges.  One
# table per kind (weight terms, output terms, graph changes, draws, saved
# models, counts), so that a new regularizer gets a row, not a new test.
# =============================================================================

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
        "W", 1.0, n_iter=5, tags={}, rng=0), lambda W: _top_sigma(W) ** 2,
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
        value, grad = _trained(build(W), W, steps=60)
    else:
        expr = build(W)
        value, grad = compile_([], [expr, backend.grad(expr, W)])()
        assert np.asarray(value).dtype == np.dtype(dtype)
    rtol = 1e-4 if dtype == "float32" else 1e-7
    assert float(value) == pytest.approx(reference(values.astype(float)),
                                         rel=rtol, abs=1e-6)
    assert grad.shape == values.shape and np.isfinite(grad).all()
    if not values.any():  # at zero every term is at its minimum
        assert not grad.any() or term in ("SRIP", "orthogonality", "l1",
                                          "elastic_net", "WeightL1")


def _plain_network(dtype, steps=None):
    """A plain graph: x -> h = tanh(x W1) -> z = h W2 -> p = softmax(z),
    each named; with `steps`, x is (batch, time, 3) and h recurrent-shaped."""
    rng = np.random.default_rng(3)
    x = T.tensor3("x", dtype=dtype) if steps else T.matrix("x", dtype=dtype)
    W1 = backend.shared(rng.normal(size=(3, 4)).astype(dtype), name="W1")
    W2 = backend.shared(rng.normal(size=(4, 2)).astype(dtype), name="W2")
    h = T.tanh(T.dot(x, W1))
    h.name = "h"
    z = T.dot(h, W2)
    z.name = "z"
    p = backend.softmax(z) if not steps else T.nnet.sigmoid(z) \
        if backend.NAME == "theano" else backend.sigmoid(z)
    p.name = "p"
    return x, W1, W2, h, z, p


def _dense_contractive(x, W1):
    h = np.tanh(x @ W1)
    return ((1 - h ** 2) ** 2 * (W1 ** 2).sum(axis=0)).sum() / len(x)


def _r1_reference(x, W1, W2):
    h = np.tanh(x @ W1)
    grad = ((1 - h ** 2) * W2.sum(axis=1)) @ W1.T  # d sum(z) / dx per row
    return (grad ** 2).sum() / (2 * len(x))


#: name -> (regularizer, numpy reference of (x, W1, W2) or None).
OUTPUT_TERMS = {
    "HiddenL1": (regkit.HiddenL1("h:out", 1.0),
                 lambda x, W1, W2: np.abs(np.tanh(x @ W1)).sum() / len(x)),
    "HiddenL2": (regkit.HiddenL2("h:out", 1.0),
                 lambda x, W1, W2: (np.tanh(x @ W1) ** 2).sum() / len(x)),
    "KLSparsity": (regkit.KLSparsity("p:out", 1.0, target=0.1), None),
    "ConfidencePenalty": (regkit.ConfidencePenalty("p:out", 1.0), None),
    "Contractive": (regkit.Contractive("h:out", 1.0, wrt="x:out"),
                    lambda x, W1, W2: _dense_contractive(x, W1)),
    "R1Penalty": (regkit.R1Penalty("z:out", 1.0, wrt="x:out"),
                  _r1_reference),
    "JacobianProjection": (regkit.JacobianProjection(
        "h:out", 1.0, wrt="x:out", rng=0), None),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("data", ["zero", "batch-of-1", "batch-of-5"])
@pytest.mark.parametrize("term", sorted(OUTPUT_TERMS))
def test_output_terms_at_their_edges(term, data, dtype):
    reg, reference = OUTPUT_TERMS[term]
    x, W1, W2, h, z, p = _plain_network(dtype)
    loss = p.sum()
    outputs = regkit.get_outputs(loss)
    expr = regkit.total_penalty([reg], loss, outputs)
    value, g1, g2 = compile_([x], [expr] + backend.grad(
        expr, [W1, W2], disconnected_inputs="ignore"))(
        {"zero": np.zeros((2, 3)), "batch-of-1": np.ones((1, 3)),
         "batch-of-5": np.random.default_rng(4).normal(size=(5, 3))}[
             data].astype(dtype))
    assert np.asarray(value).dtype == np.dtype(dtype)
    assert np.isfinite(value) and np.isfinite(g1).all() \
        and np.isfinite(g2).all()
    if reference is not None:
        xs = {"zero": np.zeros((2, 3)), "batch-of-1": np.ones((1, 3)),
              "batch-of-5": np.random.default_rng(4).normal(size=(5, 3))}
        want = reference(xs[data], W1.get_value().astype(float),
                         W2.get_value().astype(float))
        rtol = 1e-4 if dtype == "float32" else 1e-7
        assert float(value) == pytest.approx(want, rel=rtol, abs=1e-6)


@pytest.mark.parametrize("steps", [1, 2, 5])
@pytest.mark.parametrize("cls", [regkit.RecurrentNorm, regkit.RecurrentState])
def test_recurrent_terms_at_their_edges(cls, steps):
    x, W1, W2, h, z, p = _plain_network(FLOATX, steps=steps)
    loss = p.sum()
    expr = cls("h:out", 1.0).loss(loss, regkit.get_outputs(loss))
    for data in (np.zeros((1, steps, 3)),
                 np.random.default_rng(5).normal(size=(2, steps, 3))):
        value, grad = compile_([x], [expr, backend.grad(expr, W1)])(
            data.astype(FLOATX))
        hs = np.tanh(data @ W1.get_value())
        if cls is regkit.RecurrentState:
            pairs = ((hs[:, 1:] - hs[:, :-1]) ** 2).sum(-1)
        else:
            norms = np.sqrt((hs ** 2).sum(-1))
            pairs = (norms[:, 1:] - norms[:, :-1]) ** 2
        want = pairs.mean() if pairs.size else 0.0  # one step: no pair
        assert float(value) == pytest.approx(want, rel=1e-6, abs=1e-9)
        assert np.isfinite(grad).all()


# --- graph changes: the inference graph from every route ------------------------

def _residual_graph():
    x = T.matrix("x")
    f = T.dot(x, backend.shared(2 * np.eye(3), name="Wf"))
    f.name = "f"
    s = f + x
    s.name = "s"
    out = T.dot(s, backend.shared(np.ones((3, 1)), name="Wo"))
    return x, out


#: name -> (regularizer, network builder); every graph change.
GRAPH_CHANGES = {
    "BernoulliDropout": lambda: regkit.BernoulliDropout("h:out", 0.5, rng=1),
    "GaussianNoise": lambda: regkit.GaussianNoise("h:out", 0.5, rng=1),
    "AlphaDropout": lambda: regkit.AlphaDropout("h:out", 0.2, rng=1),
    "DropConnect": lambda: regkit.DropConnect("W2", 0.5, rng=1),
    "SpectralNormalization": lambda: regkit.SpectralNormalization(
        "W2", n_iter=20, rng=1),
    "StochasticDepth": lambda: regkit.StochasticDepth("s:out", 0.5, rng=1),
}


@pytest.mark.parametrize("change", sorted(GRAPH_CHANGES))
def test_every_route_gives_the_same_inference_graph(change):
    reg = GRAPH_CHANGES[change]()
    if change == "StochasticDepth":
        x, out = _residual_graph()
    else:
        x, W1, W2, h, out, p = _plain_network(FLOATX)
    data = np.random.default_rng(6).normal(size=(1, 3)).astype(FLOATX)
    by_hand = compile_([x], regkit.get_output(out, regularizers=[reg],
                                              deterministic=True))(data)
    graph = regkit.apply_regularizers(out, [reg])
    applied = compile_([x], graph.inference)(data)
    np.testing.assert_allclose(applied, by_hand, rtol=1e-7)
    plain = compile_([x], out)(data)
    if reg.training_only:  # left out: the graph as it was
        np.testing.assert_allclose(applied, plain, rtol=1e-7)
    else:  # its inference form changes the numbers
        assert not np.allclose(applied, plain)
    if change in ("BernoulliDropout", "GaussianNoise", "DropConnect",
                  "StochasticDepth"):  # linear after the change: E = inference
        mean, var = regkit.mc_predict(graph.train, {x: data}, n=3000,
                                      mode=FAST)
        np.testing.assert_allclose(mean, applied, rtol=0.1, atol=0.1)
        assert (var > 0).all()


# --- composition: two on one target, both orders ------------------------------------

@pytest.mark.parametrize("order", ["as listed", "reversed"])
def test_two_terms_on_one_weight_add_up_in_either_order(order):
    x, W1, W2, h, z, p = _plain_network(FLOATX)
    loss = p.sum()
    regs = [regkit.WeightL2("W1", 0.5), regkit.L2SP("W1", 2.0),
            regkit.SpectralNorm("W1", 0.25, n_iter=30, rng=0)]
    regs = regs if order == "as listed" else regs[::-1]
    W1.set_value(W1.get_value())  # the start is captured here
    total = regkit.total_penalty(regs, loss, {})
    W1.set_value(W1.get_value() + 0.5)
    value = float(compile_([], total)())
    W = W1.get_value()
    want = 0.5 * (W ** 2).sum() + 2.0 * (0.5 ** 2) * W.size \
        + 0.25 * _top_sigma(W) ** 2
    assert value == pytest.approx(want, rel=1e-6)


@pytest.mark.parametrize("order", ["as listed", "reversed"])
def test_an_activity_term_reads_the_changed_output_in_either_order(order):
    x, W1, W2, h, z, p = _plain_network(FLOATX)
    loss = p.sum()
    regs = [regkit.HiddenL1("h:out", 1.0),
            regkit.BernoulliDropout("h:out", 0.5, rng=2)]
    regs = regs if order == "as listed" else regs[::-1]
    outputs = regkit.get_outputs(loss, regularizers=regs)
    term = regkit.total_penalty(regs, loss, outputs)
    fn = compile_([x], [term, outputs["h:out"]])
    value, dropped = fn(np.ones((4, 3), FLOATX))
    assert (dropped == 0).any()  # the dropout ran
    assert float(value) == pytest.approx(np.abs(dropped).sum() / 4)


@pytest.mark.parametrize("order", ["as listed", "reversed"])
def test_two_changes_on_one_weight_both_apply_in_either_order(order):
    x, W1, W2, h, z, p = _plain_network(FLOATX)
    regs = [regkit.DropConnect("W1", 0.5, rng=3),
            regkit.SpectralNormalization("W1", n_iter=30, rng=4)]
    regs = regs if order == "as listed" else regs[::-1]
    pre = T.dot(x, W1)
    pre.name = "pre"
    graph = regkit.apply_regularizers(pre.sum() * 1, regs)
    rows = regkit.get_outputs(pre.sum() * 1, regularizers=regs)["pre:out"]
    fn = compile_([x], rows, updates=regkit.random_updates(rows))
    W = W1.get_value()
    trained = fn(np.eye(3, dtype=FLOATX))  # the effective weight
    kept = trained != 0
    assert 0.2 < kept.mean() < 0.8  # DropConnect ran
    infer = compile_([x], regkit.get_outputs(
        pre.sum() * 1, regularizers=regs, deterministic=True)["pre:out"])(
            np.eye(3, dtype=FLOATX))
    np.testing.assert_allclose(infer, W / _top_sigma(W), rtol=1e-5)
    assert graph.inference is not None


@pytest.mark.parametrize("order", ["noise first", "dropout first"])
def test_dropout_and_noise_on_one_output_apply_in_list_order(order):
    x, W1, W2, h, z, p = _plain_network(FLOATX)
    drop = regkit.BernoulliDropout("h:out", 0.5, rng=5)
    noise = regkit.GaussianNoise("h:out", 1.0, rng=6)
    regs = [noise, drop] if order == "noise first" else [drop, noise]
    outputs = regkit.get_outputs(p.sum(), regularizers=regs)
    fn = compile_([x], outputs["h:out"],
                  updates=regkit.random_updates(outputs))
    value = fn(np.ones((50, 3), FLOATX))
    zeros = np.mean(value == 0)
    if order == "noise first":  # noisy values dropped: exact zeros
        assert 0.4 < zeros < 0.6
    else:  # dropped values made noisy: no exact zeros
        assert zeros == 0


# --- every draw fresh with the recipe, repeated without -------------------------------

def _drawing_cases():
    def from_outputs(regs, network="loss", term=None):
        def build():
            x, W1, W2, h, z, p = _plain_network(FLOATX)
            net = z.sum()  # (p sums to the batch size, whatever h is)
            if network == "residual":
                x, net = _residual_graph()
            outputs = regkit.get_outputs(net, regularizers=regs())
            value = outputs[list(outputs)[-1]] if term is None else \
                regkit.total_penalty(term(), net, outputs)
            return x, value, outputs
        return build

    def gradient_penalty():
        x = T.matrix("x")
        w = backend.shared(np.array([1.0, -2.0, 0.5]), name="w")
        value = regkit.gradient_penalty(lambda v: T.tanh(T.dot(v, w)), x,
                                        2 * x, rng=0)
        return x, value, value

    def dropout_mask():
        x = T.matrix("x")
        value = (x * regkit.dropout_mask(x, 0.5, rng=0)).sum()
        return x, value, value

    return {
        "BernoulliDropout": from_outputs(lambda: [regkit.BernoulliDropout(
            "h:out", 0.5, rng=1)]),
        "GaussianNoise": from_outputs(lambda: [regkit.GaussianNoise(
            "h:out", 0.5, rng=1)]),
        "AlphaDropout": from_outputs(lambda: [regkit.AlphaDropout(
            "h:out", 0.3, rng=1)]),
        "DropConnect": from_outputs(lambda: [regkit.DropConnect(
            "W1", 0.5, rng=1)]),
        "StochasticDepth": from_outputs(lambda: [regkit.StochasticDepth(
            "s:out", 0.5, rng=1)], network="residual"),
        "JacobianProjection": from_outputs(lambda: [], term=lambda: [
            regkit.JacobianProjection("h:out", 1.0, wrt="x:out", rng=1)]),
        "gradient_penalty": gradient_penalty,
        "dropout_mask": dropout_mask,
    }


DRAWING = _drawing_cases()


@pytest.mark.parametrize("case", sorted(DRAWING))
def test_every_draw_is_fresh_with_the_recipe_and_repeated_without(case):
    x, value, outputs = DRAWING[case]()
    data = np.random.default_rng(7).normal(size=(6, 3)).astype(FLOATX)
    fresh = compile_([x], value, updates=regkit.random_updates(outputs))
    values = [np.asarray(fresh(data)).copy() for _ in range(12)]
    distinct = len({v.tobytes() for v in values})
    if case == "StochasticDepth":  # one branch kept or dropped per call
        assert distinct == 2
    else:
        assert distinct == len(values)
    frozen = compile_([x], value)
    repeated = [np.asarray(frozen(data)).copy() for _ in range(3)]
    assert all(np.array_equal(repeated[0], other) for other in repeated[1:])


# --- every count bounded ------------------------------------------------------------

@pytest.mark.parametrize("call, match", [
    (lambda: regkit.SpectralNorm(n_iter=101), "n_iter must be at most 100"),
    (lambda: regkit.SRIP(n_iter=10 ** 9), "n_iter must be at most 100"),
    (lambda: regkit.SpectralNormalization(n_iter=10 ** 400),
     "n_iter must be at most 100"),
    (lambda: regkit.JacobianProjection(n_proj=101),
     "n_proj must be at most 100"),
    (lambda: regkit.smooth_labels(np.array([0]), 10 ** 400, 0.1),
     "num_classes must be at most"),
    (lambda: regkit.mc_predict(T.matrix("x") * 1,
                               {T.matrix("y"): np.ones((1, 1))}, n=10 ** 12),
     "n must be at most 100000"),
    (lambda: regkit.StochasticDepth(weight=10 ** 400), "weight"),
    (lambda: regkit.UnitNorm(norm_axes=10 ** 400), "norm_axes"),
])
def test_every_count_is_bounded(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --- every class saved and reloaded in a fresh process -----------------------------

#: registry name -> constructor arguments on the network of _SAVED_SWEEP.
SAVED_ROWS = {
    "hidden_l1": {"pattern": "h:out", "weight": 0.1},
    "hidden_l2": {"pattern": "h:out", "weight": 0.1},
    "kl_sparsity": {"pattern": "p:out", "weight": 0.1, "target": 0.2},
    "recurrent_norm": {"pattern": "seq:out", "weight": 0.1},
    "recurrent_state": {"pattern": "seq:out", "weight": 0.1},
    "confidence_penalty": {"pattern": "p:out", "weight": 0.1},
    "contractive": {"pattern": "h:out", "weight": 0.1, "wrt": "x:out"},
    "r1_penalty": {"pattern": "z:out", "weight": 0.1, "wrt": "x:out"},
    "jacobian_projection": {"pattern": "h:out", "weight": 0.1,
                            "wrt": "x:out", "n_proj": 2, "rng": 3},
    "bernoulli_dropout": {"pattern": "h:out", "weight": 0.5, "rng": 4},
    "gaussian_noise": {"pattern": "h:out", "weight": 0.5, "rng": 5},
    "alpha_dropout": {"pattern": "h:out", "weight": 0.2, "rng": 6},
    "drop_connect": {"pattern": "W1", "weight": 0.5, "rng": 7},
    "stochastic_depth": {"pattern": "r:out", "weight": 0.5, "rng": 8},
    "max_norm": {"pattern": "W*", "weight": 0.5},
    "decoupled_weight_decay": {"pattern": "W*", "weight": 0.1},
    "unit_norm": {"pattern": "W*"},
    "min_max_norm": {"pattern": "W*", "weight": 0.5, "min_value": 0.5,
                     "max_value": 0.8},
    "non_neg": {"pattern": "W*"},
    "weight_l2": {"pattern": "W*", "weight": 0.1},
    "weight_l1": {"pattern": "W*", "weight": 0.1},
    "l2_sp": {"pattern": "W1", "weight": 0.1,
              "start": {"W1": np.full((3, 4), 0.25).tolist()}},
    "spectral_norm": {"pattern": "W*", "weight": 0.1, "rng": 9},
    "srip": {"pattern": "W*", "weight": 0.1, "rng": 10},
    "spectral_normalization": {"pattern": "W2", "n_iter": 2, "rng": 11},
}

_SAVED_SWEEP = textwrap.dedent("""
    import json, pickle, sys
    import numpy as np
    import regkit
    from regkit import backend
    T = backend.tensor

    def network():
        rng = np.random.default_rng(0)
        x = T.matrix("x")
        shared = {name: backend.shared(rng.normal(size=shape), name=name)
                  for name, shape in (("W1", (3, 4)), ("Wr", (4, 4)),
                                      ("W2", (4, 2)))}
        h = T.tanh(T.dot(x, shared["W1"])); h.name = "h"
        f = T.dot(h, shared["Wr"]); f.name = "f"
        r = f + h; r.name = "r"
        z = T.dot(r, shared["W2"]); z.name = "z"
        p = backend.softmax(z); p.name = "p"
        seq = T.stack([h, 2 * h], axis=1); seq.name = "seq"
        return x, shared, z.sum() + (p * p).sum() + seq.sum()

    def results(reg, built=None):
        x, shared, net = built or network()
        outputs = regkit.get_outputs(net, regularizers=[reg])
        term = T.as_tensor_variable(regkit.total_penalty([reg], net,
                                                         outputs)) * 1.0
        infer = regkit.get_output(net, regularizers=[reg],
                                  deterministic=True)
        hooks = regkit.apply_update_hooks(
            [reg], net, {p: p * 0.9 for p in shared.values()})
        fn = backend.function([x], [outputs["z:out"], infer, term]
                              + list(hooks.values()), mode="FAST_COMPILE",
                              on_unused_input="ignore")
        data = np.random.default_rng(1).normal(size=(2, 3))
        return [np.asarray(v).tolist() for v in fn(data)]

    path = sys.argv[2]
    if sys.argv[1] == "save":
        rows = json.loads(sys.argv[3])
        regs = [regkit.deserialize({"name": n, "config": c})
                for n, c in rows.items()]
        before = []
        for reg in regs:  # state advanced before the save
            built = network()
            x, shared, net = built
            regkit.total_penalty([reg], net, regkit.get_outputs(
                net, regularizers=[reg]))
            updates = regkit.apply_update_hooks([reg], net, {})
            step = backend.function([], [], updates=list(updates.items()),
                                    mode="FAST_COMPILE")
            for _ in range(2):
                step()
            before.append(results(reg, built))
        with open(path + ".pickle", "wb") as f:
            pickle.dump(regs, f)
        with open(path + ".json", "w") as f:
            json.dump([regkit.serialize(r) for r in regs], f)
        print(json.dumps(before))
    else:
        with open(path + ".pickle", "rb") as f:
            pickled = pickle.load(f)
        with open(path + ".json") as f:
            loaded = [regkit.deserialize(d) for d in json.load(f)]
        print(json.dumps([[results(r) for r in regs]
                          for regs in (pickled, loaded)]))
""")


def test_every_class_predicts_the_same_after_reload_in_a_fresh_process(
        tmp_path):
    own = {cls.registry_name for cls in regkit.REGISTRY.values()
           if cls.__module__.startswith("regkit.")}
    assert own == set(SAVED_ROWS)  # a new class needs a row here
    script = tmp_path / "sweep.py"
    script.write_text(_SAVED_SWEEP)
    path = str(tmp_path / "regs")
    before = _run_fresh(script, "save", path, json.dumps(SAVED_ROWS))
    # [training output, inference output, loss term, updated parameters]:
    # a reloaded regularizer that draws in the training graph draws anew
    # (its seed sequence continues after a pickle, restarts after a JSON
    # round trip), so only its inference output and updates must agree
    drawing = {"bernoulli_dropout", "gaussian_noise", "alpha_dropout",
               "drop_connect", "stochastic_depth", "jacobian_projection"}
    for after in _run_fresh(script, "load", path):
        for name, want, got in zip(SAVED_ROWS, before, after):
            kept = [1] + list(range(3, len(want))) if name in drawing \
                else range(len(want))
            for index in kept:
                np.testing.assert_allclose(got[index], want[index],
                                           rtol=1e-7, err_msg=name)



# --- what the first review of these fixes found ------------------------------------

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
        assert float(compile_([], sp.loss(network, {}))()) == 0.0


class _SumThatNormalizes(object):
    """A Lasagne-style merge layer whose training output differs from its
    inference output (as a sum followed by batch normalization would)."""

    def __init__(self, incomings, name):
        self.input_layers, self.name = list(incomings), name
        self.params = OrderedDict()
        self.output_shape = incomings[0].output_shape

    def get_params(self, unwrap_shared=True, **tags):
        return []

    def get_output_for(self, inputs, deterministic=False, **kwargs):
        total = inputs[0] + inputs[1]
        return total if deterministic else \
            total - total.mean(axis=0, keepdims=True)


def test_stochastic_depth_rebuilds_the_sum_in_the_graph_s_mode():
    l_in = _ProtocolInput("in")
    d = _ProtocolDense(l_in, np.eye(2), "d")
    s = _SumThatNormalizes([l_in, d], "s")
    test = regkit.get_output(s, regularizers=[regkit.StochasticDepth(
        "s:out", 0.5, rng=0)], deterministic=True)
    data = np.array([[1.0, 1.0], [3.0, 3.0]], l_in.input_var.dtype)
    np.testing.assert_allclose(compile_([l_in.input_var], test)(data),
                               1.5 * data)  # x + 0.5 x, not centred


def test_two_stochastic_depths_on_one_sum_both_apply():
    x, f, res = _residual()
    regs = [regkit.StochasticDepth(weight=0.3, rng=2),
            regkit.StochasticDepth("res:out", 0.3, rng=3)]
    test = regkit.get_output(res, regularizers=regs, deterministic=True)
    data = np.ones((1, 2), x.input_var.dtype)
    np.testing.assert_allclose(compile_([x.input_var], test)(data),
                               (1 + 0.7 * 0.7) * data)
    train = regkit.get_output(res, regularizers=regs)
    fn = compile_([x.input_var], train, updates=regkit.random_updates(train))
    seen = {float(fn(data)[0, 0]) for _ in range(60)}
    assert seen == {1.0, 2.0}  # the branch dropped by either, or kept


def test_the_old_stochastic_flag_keeps_both_its_meanings():
    class MyNoise(regkit.Regularizer):
        stochastic = True

        def __init__(self, pattern=None, weight=0.0, rng=None):
            super(MyNoise, self).__init__(pattern, weight)
            self.rng = rng

    class Flagged(regkit.OutputHook):
        stochastic = np.True_
    assert MyNoise.training_only and MyNoise.draws_random
    assert Flagged.training_only and Flagged.draws_random
    net = regkit.DenseLayer(regkit.InputLayer((None, 3), name="in"), 2,
                            name="out")
    seeds = [regkit.from_kwargs(net, rng=rng, my_noise={
        "pattern": "in:out", "weight": 0.1})[0].rng for rng in (1, 2)]
    assert None not in seeds and seeds[0] != seeds[1]


@pytest.mark.parametrize("reg", [
    regkit.DropConnect(["out.W", "typo.*"], 0.5),
    regkit.SpectralNormalization(["out.W", "typo.*"]),
    regkit.BernoulliDropout(["in:out", "typo:*"], 0.5),
    regkit.StochasticDepth(["res:out", "typo:out"], 0.5),
])
def test_each_glob_of_a_graph_change_that_matches_nothing_warns(reg):
    l_in = regkit.InputLayer((None, 2), name="in")
    out = regkit.DenseLayer(l_in, 2, name="out")
    res = regkit.ElemwiseSumLayer([l_in, out], name="res")
    with pytest.warns(UserWarning, match="glob 'typo"):
        regkit.get_output(res, regularizers=[reg])


def test_one_power_iteration_regularizer_on_two_networks():
    def network(values):
        return regkit.DenseLayer(regkit.InputLayer(
            (None, values.shape[0]), name="in"), values.shape[1],
            W=values, b=None, name="out")
    sn = regkit.SpectralNorm(weight=1.0, rng=0)
    first, second = np.ones((3, 2)), np.ones((4, 5))
    for values in (first, second):  # the same name, another shape
        net = network(values)
        step = compile_([], sn.loss(net, {}), updates=list(
            regkit.apply_update_hooks([sn], net, {}).items()))
        for _ in range(5):
            value = float(step())
        assert value == pytest.approx(_top_sigma(values) ** 2, rel=1e-6)


def test_mc_predict_leaves_the_draws_of_other_functions_alone():
    l_in = regkit.InputLayer((None, 50), name="in")
    drop = regkit.BernoulliDropout("in:out", 0.5, rng=0)
    prediction = regkit.get_output(l_in, regularizers=[drop])
    frozen = compile_([l_in.input_var], prediction)
    data = np.ones((2, 50), l_in.input_var.dtype)
    before = frozen(data)
    regkit.mc_predict(prediction, {l_in.input_var: data}, n=3, mode=FAST)
    np.testing.assert_array_equal(frozen(data), before)


def test_srip_of_huge_float32_weights_has_a_finite_gradient():
    W = backend.shared((1e20 * np.eye(3, 2)).astype("float32"), name="W")
    srip = regkit.SRIP("W", 1.0, rng=0)
    term = srip.loss(W.sum(), {})
    assert term.dtype == "float32"
    grad = compile_([], backend.grad(term, W))()
    assert np.isfinite(grad).all()


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


def test_stochastic_depth_refuses_a_plain_variable_that_is_not_a_sum():
    x = T.vector("x")
    f = 2 * x
    f.name = "f"
    p = x * f
    p.name = "p"
    with pytest.raises(ValueError, match="not their sum"):
        regkit.apply_regularizers(p, [regkit.StochasticDepth("p:out", 0.5)])
    q = x + 2 * x  # the branch is not named
    q.name = "q"
    with pytest.raises(ValueError, match="name the summands"):
        regkit.apply_regularizers(q, [regkit.StochasticDepth("q:out", 0.5)])
