"""The outputs of a network, get_output and get_outputs, and
apply_regularizers on a graph built elsewhere (regkit/layers/outputs.py):
the inference graph is the same from every route."""
import numpy as np
import pytest

import regkit
from regkit import backend
from regkit import layers as L
from regkit.layers import (DenseLayer, ElemwiseSumLayer, InputLayer, Layer,
                           get_output, get_outputs)

from conftest import (FAST, compile_fast, constant_net, evaluate, graph_mlp,
                      plain_network, residual, residual_graph, sample_x,
                      sample_y)

T = backend.tensor
FLOATX = backend.floatX


def test_get_output_input_forms(rng):
    l_in, hid, out = constant_net()
    data = rng.normal(size=(5, 3))
    expected_hid = np.maximum(data @ np.full((3, 4), 0.5) + 1, 0)
    expected = expected_hid @ np.full((4, 2), -1.0)
    np.testing.assert_allclose(
        evaluate(get_output(out), {l_in.input_var: data}), expected)
    x = T.matrix("x")
    np.testing.assert_allclose(evaluate(get_output(out, x), {x: data}),
                               expected)
    np.testing.assert_allclose(
        evaluate(get_output(out, {l_in: x}), {x: data}), expected)
    np.testing.assert_allclose(evaluate(get_output(out, data)), expected)
    # a dict entry for a hidden layer replaces its output
    h = T.matrix("h")
    np.testing.assert_allclose(
        evaluate(get_output(out, {hid: h}), {h: expected_hid}), expected)
    both = get_output([hid, out], x)
    assert isinstance(both, list) and len(both) == 2
    np.testing.assert_allclose(evaluate(both[0], {x: data}), expected_hid)


def test_get_output_errors():
    l_in, hid, out = constant_net()
    with pytest.raises(TypeError, match="keys of inputs must be layers"):
        get_output(out, {"in": T.matrix()})
    with pytest.raises(TypeError, match="input for"):
        get_output(out, {l_in: "data"})
    with pytest.raises(ValueError, match="dimensions"):
        get_output(out, T.tensor3())
    # sizes known before run time must agree with the declared shape
    with pytest.raises(ValueError, match=r"has shape \(5, 4\), expected "
                       r"\(None, 3\)"):
        get_output(out, np.ones((5, 4)))
    with pytest.raises(ValueError, match="has shape"):
        get_output(out, {l_in: T.col()})
    assert get_output(out, np.ones((5, 3))).ndim == 2
    other = InputLayer((None, 3), name="in2")
    merged = ElemwiseSumLayer([hid, DenseLayer(other, 4)])
    with pytest.raises(ValueError, match="2 input layers"):
        get_output(merged, T.matrix())
    floating = DenseLayer((None, 3), 2)
    with pytest.raises(ValueError, match="built from a shape"):
        get_output(floating)
    x = T.matrix()
    assert evaluate(get_output(floating, {floating: x}),
                    {x: np.ones((1, 2))}).shape == (1, 2)
    with pytest.raises(TypeError, match="layer_or_layers"):
        get_output("out")


def test_get_output_passes_kwargs_to_layers():
    seen = {}

    class Spy(Layer):
        def get_output_for(self, input, **kwargs):
            seen.update(kwargs)
            return input
    get_output(Spy(InputLayer((None, 2))), deterministic=True, flag=1)
    assert seen == {"deterministic": True, "flag": 1}


def test_layer_without_out_key_rejected():
    class Broken(Layer):
        def get_outputs_for(self, input, **kwargs):
            return {"value": input}
    broken = Broken(InputLayer((None, 2)))
    with pytest.raises(ValueError, match="'out'"):
        get_output(broken)


def test_inputs_for_a_layer_outside_the_network_are_refused():
    _, _, out = constant_net()
    stranger = InputLayer((None, 3), name="stranger")
    with pytest.raises(ValueError, match="not a layer of the network"):
        get_output(out, inputs={stranger: T.matrix()})


def test_a_layer_cycle_is_a_value_error_naming_a_layer():
    l_in = InputLayer((None, 2))
    a = DenseLayer(l_in, 2, name="a")
    b = DenseLayer(a, 2, name="b")
    a.input_layer = b
    with pytest.raises(ValueError, match="cycle: DenseLayer\\(name='[ab]'"):
        get_output(b)


# --- get_outputs, and the hooks that change them -----------------------------

def test_get_outputs_names_and_values(rng):
    l_in, hid, out = constant_net()
    outputs = get_outputs(out)
    assert list(outputs) == ["in:out", "hid:pre", "hid:out", "out:pre",
                             "out:out"]
    data = rng.normal(size=(2, 3))
    pre = evaluate(outputs["hid:pre"], {l_in.input_var: data})
    np.testing.assert_allclose(pre, data @ np.full((3, 4), 0.5) + 1)
    np.testing.assert_allclose(
        evaluate(outputs["hid:out"], {l_in.input_var: data}),
        np.maximum(pre, 0))


def test_get_outputs_keeps_names_and_roles_of_layers():
    l_in, hid, out = constant_net()
    outputs = get_outputs(out)
    assert isinstance(outputs, L.NetworkOutputs)
    assert dict(outputs.roles) == {"in": "input", "hid": "hidden",
                                   "out": "output"}
    assert dict(outputs.layers) == {"in": l_in, "hid": hid, "out": out}
    assert outputs.names_by_role() == {"input": ["in"], "hidden": ["hid"],
                                       "output": ["out"]}
    import pickle
    copy = pickle.loads(pickle.dumps(L.NetworkOutputs(
        [("x:out", 1)], [("x", None)], [("x", "hidden")])))
    assert (dict(copy), dict(copy.layers), dict(copy.roles)) == (
        {"x:out": 1}, {"x": None}, {"x": "hidden"})
    # given inputs cut the walk: names and roles are those of the layers
    # actually built
    given = get_outputs(out, inputs={hid: T.matrix()})
    assert dict(given.roles) == {"hid": "hidden", "out": "output"}


class _Scale(L.OutputHook):
    """A minimal graph hook: the protocol class, not a Regularizer."""

    def __init__(self, pattern, factor, stochastic=False):
        self.pattern, self.factor, self.stochastic = pattern, factor, stochastic

    def modify_graph(self, outputs):
        for name in list(outputs):
            if name == self.pattern:
                outputs[name] = outputs[name] * self.factor


def test_regularizers_modify_each_layer_before_later_layers_read(rng):
    l_in, hid, out = constant_net()
    data = rng.normal(size=(2, 3))
    clean = evaluate(get_output(out), {l_in.input_var: data})
    scaled = get_outputs(out, regularizers=[_Scale("hid:out", 3.0)])
    np.testing.assert_allclose(
        evaluate(scaled["out:out"], {l_in.input_var: data}), 3 * clean)
    # a stochastic one is left out of the deterministic graph
    noisy = _Scale("hid:out", 3.0, stochastic=True)
    np.testing.assert_allclose(
        evaluate(get_output(out, regularizers=[noisy], deterministic=True),
                 {l_in.input_var: data}), clean)
    np.testing.assert_allclose(
        evaluate(get_output(out, regularizers=noisy),
                 {l_in.input_var: data}), 3 * clean)
    with pytest.raises(TypeError, match="modify_graph"):
        get_output(out, regularizers=["dropout"])
    with pytest.raises(TypeError, match="regularizers"):
        get_output(out, regularizers=5)


def test_check_matches_called_once_per_graph():
    calls = []

    class Checker(L.OutputHook):
        def modify_graph(self, outputs):
            pass

        def check_matches(self, named):
            calls.append(list(named))

    _, _, out = constant_net()
    get_outputs(out, regularizers=[Checker()])
    assert calls == [["in:out", "hid:pre", "hid:out", "out:pre", "out:out"]]


def test_noise_on_the_activation_reaches_the_output(rng):
    l_in = InputLayer((None, 3), name="in")
    hid = DenseLayer(l_in, 4, name="hid", nonlinearity=lambda a: 2 * a)
    out = DenseLayer(hid, 2, name="out", nonlinearity=None)
    data = rng.normal(size=(5, 3)).astype(backend.floatX)
    clean = evaluate(get_output(out), {l_in.input_var: data})
    for regs in ([regkit.GaussianNoise("hid:pre", 3.0, rng=1)],
                 [regkit.GaussianNoise("hid:pre", 3.0, rng=1),
                  regkit.BernoulliDropout("hid:out", 0.5, rng=2)]):
        outputs = get_outputs(out, regularizers=regs)
        fn = backend.function(
            [l_in.input_var],
            [outputs["hid:pre"], outputs["hid:out"], outputs["out:out"],
             outputs["hid:pre-prenoise"]],
            updates=regkit.random_updates(outputs))
        for _ in range(2):  # fresh draws each call, still consistent
            pre, hidden, result, clean_pre = fn(data)
            assert not np.allclose(pre, clean_pre)
            if len(regs) == 1:
                np.testing.assert_allclose(hidden, 2 * pre, rtol=1e-5)
            else:  # dropout applies to the noisy activation
                kept = hidden != 0
                np.testing.assert_allclose(hidden[kept], 4 * pre[kept],
                                           rtol=1e-5)
            assert not np.allclose(result, clean)
        # the inference graph is the clean one
        np.testing.assert_allclose(evaluate(get_output(
            out, regularizers=regs, deterministic=True),
            {l_in.input_var: data}), clean)


# --- apply_regularizers, and the inference graph from every route ------------

def test_apply_regularizers_rewrites_a_graph_and_leaves_it_untouched():
    g = graph_mlp()
    regs = [regkit.BernoulliDropout("h:out", 0.5, rng=0),
            regkit.GaussianNoise("x:out", 0.1, rng=1)]
    before = backend.function([g["x"], g["y"]], g["loss"])(
        sample_x(), sample_y())
    graph = regkit.apply_regularizers(g["loss"], regs)
    assert graph.inference is g["loss"]
    assert len(graph.updates) == 2
    train = backend.function([g["x"], g["y"]], graph.train,
                             updates=graph.updates)
    frozen = backend.function([g["x"], g["y"]], graph.train)
    losses = [float(train(sample_x(), sample_y())) for _ in range(3)]
    assert len(set(losses)) == 3  # fresh masks and noise on every call
    assert float(frozen(sample_x(), sample_y())) \
        == float(frozen(sample_x(), sample_y()))
    after = backend.function([g["x"], g["y"]], graph.inference)(
        sample_x(), sample_y())
    assert float(after) == float(before)
    # the dropped hidden units: zeros in the rebuilt h, none in the original
    h_train = backend.function([g["x"]], graph.outputs["h:out"],
                               updates=graph.updates)(sample_x())
    assert (h_train == 0).any()
    assert "h:out-predrop" in graph.outputs


def test_apply_regularizers_without_an_inference_form_returns_the_graph():
    x = T.matrix("x")
    h = T.tanh(x)
    h.name = "h"
    y = h.sum()
    graph = regkit.apply_regularizers(y, [regkit.BernoulliDropout("h:out",
                                                                  0.5)])
    assert graph.inference is y


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
            compile_fast([l_in.input_var], route)(data), [[1, 0.25]],
            rtol=1e-6)
    x, f, res = residual()
    depth = regkit.StochasticDepth(weight=0.5, rng=0)
    data = np.ones((1, 2), x.input_var.dtype)
    routes = [regkit.get_output(res, regularizers=[depth],
                                deterministic=True),
              regkit.apply_regularizers(res, [depth]).inference]
    for route in routes:
        np.testing.assert_allclose(compile_fast([x.input_var], route)(data),
                                   [[1.5, 1.5]])
    # mc_predict averages the training graph: its mean is the inference
    train = regkit.get_output(res, regularizers=[depth])
    mean, _ = regkit.mc_predict(train, {x.input_var: data}, n=400, mode=FAST)
    np.testing.assert_allclose(mean, [[1.5, 1.5]], atol=0.15)


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
        x, out = residual_graph()
    else:
        x, W1, W2, h, out, p = plain_network(FLOATX)
    data = np.random.default_rng(6).normal(size=(1, 3)).astype(FLOATX)
    by_hand = compile_fast([x], regkit.get_output(out, regularizers=[reg],
                                                  deterministic=True))(data)
    graph = regkit.apply_regularizers(out, [reg])
    applied = compile_fast([x], graph.inference)(data)
    np.testing.assert_allclose(applied, by_hand, rtol=1e-7)
    plain = compile_fast([x], out)(data)
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
