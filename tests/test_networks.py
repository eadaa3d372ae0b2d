"""Networks regkit did not build: Lasagne layers (faithful protocol doubles,
written from Lasagne's documented behaviour: Lasagne itself is not on the
package registry) and plain symbolic graphs, on both backends."""
from collections import OrderedDict
import warnings

import numpy as np
import pytest

import regkit
from regkit import backend

T = backend.tensor
FLOATX = backend.floatX


# --- Lasagne's layer protocol ------------------------------------------------
# What regkit reads: input_layer / input_layers / input_var, params (an
# OrderedDict parameter -> set of tags), get_params(unwrap_shared, **tags),
# name, output_shape (for a given input), get_output_for.  Everything below
# follows lasagne/layers/base.py: a named layer prefixes its parameters'
# names ("hid.W"), trainable and regularizable are default tags, an
# InputLayer has input_var and no input_layer.

class LasagneLayer(object):
    def __init__(self, incoming, name=None):
        if isinstance(incoming, tuple):
            self.input_shape, self.input_layer = incoming, None
        else:
            self.input_shape, self.input_layer = incoming.output_shape, incoming
        self.name = name
        self.params = OrderedDict()
        self.get_output_kwargs = []

    @property
    def output_shape(self):
        return self.get_output_shape_for(self.input_shape)

    def get_output_shape_for(self, input_shape):
        return input_shape

    def add_param(self, spec, shape, name=None, **tags):
        if name is not None and self.name is not None:
            name = "%s.%s" % (self.name, name)
        param = backend.shared(np.asarray(spec, FLOATX).reshape(shape),
                               name=name)
        tags["trainable"] = tags.get("trainable", True)
        tags["regularizable"] = tags.get("regularizable", True)
        self.params[param] = set(tag for tag, value in tags.items() if value)
        return param

    def get_params(self, unwrap_shared=True, **tags):
        result = list(self.params.keys())
        only = set(tag for tag, value in tags.items() if value)
        if only:
            result = [p for p in result if not (only - self.params[p])]
        exclude = set(tag for tag, value in tags.items() if not value)
        if exclude:
            result = [p for p in result if not (self.params[p] & exclude)]
        return result


class LasagneMergeLayer(LasagneLayer):
    def __init__(self, incomings, name=None):
        self.input_shapes = [incoming.output_shape for incoming in incomings]
        self.input_layers = list(incomings)
        self.name = name
        self.params = OrderedDict()
        self.get_output_kwargs = []

    @property
    def output_shape(self):
        return self.input_shapes[0]


class InputLayer(LasagneLayer):
    def __init__(self, shape, input_var=None, name=None):
        self.shape = shape
        self.input_var = input_var if input_var is not None \
            else T.matrix(name or "input")
        self.name = name
        self.params = OrderedDict()

    @property
    def output_shape(self):
        return self.shape


class DenseLayer(LasagneLayer):
    def __init__(self, incoming, num_units, W, b=0.0, tanh=True, name=None,
                 **w_tags):
        super(DenseLayer, self).__init__(incoming, name)
        self.num_units = num_units
        num_inputs = self.input_shape[1]
        self.W = self.add_param(W, (num_inputs, num_units), name="W",
                                **w_tags)
        self.b = None if b is None else self.add_param(
            np.full(num_units, b), (num_units,), name="b",
            regularizable=False)
        self.tanh = tanh

    def get_output_shape_for(self, input_shape):
        return (input_shape[0], self.num_units)

    def get_output_for(self, input, **kwargs):
        out = T.dot(input, self.W)
        if self.b is not None:
            out = out + self.b
        return T.tanh(out) if self.tanh else out


class Conv2DLayer(LasagneLayer):
    """A 1x1 convolution (filters of shape (num_filters, channels, 1, 1)):
    Lasagne's parameter layout, without a backend-specific conv."""

    def __init__(self, incoming, num_filters, W, name=None):
        super(Conv2DLayer, self).__init__(incoming, name)
        channels = self.input_shape[1]
        self.num_filters = num_filters
        self.W = self.add_param(W, (num_filters, channels, 1, 1), name="W")
        self.b = self.add_param(np.zeros(num_filters), (num_filters,),
                                name="b", regularizable=False)

    def get_output_shape_for(self, input_shape):
        return (input_shape[0], self.num_filters) + tuple(input_shape[2:])

    def get_output_for(self, input, **kwargs):
        out = T.tensordot(input, self.W[:, :, 0, 0], axes=[[1], [1]])
        return out.dimshuffle(0, 3, 1, 2) + self.b.dimshuffle("x", 0, "x", "x")


class DropoutLayer(LasagneLayer):
    """Lasagne's inverted dropout, drawn with regkit's generator."""

    def __init__(self, incoming, p=0.5, name=None):
        super(DropoutLayer, self).__init__(incoming, name)
        self.p = p

    def get_output_for(self, input, deterministic=False, **kwargs):
        if deterministic or self.p == 0:
            return input
        keep = backend.bernoulli(input.shape, 1 - self.p, input.dtype,
                                 np.random.SeedSequence(11))
        return input * keep / (1 - self.p)


class ElemwiseSumLayer(LasagneMergeLayer):
    def get_output_for(self, inputs, **kwargs):
        return inputs[0] + inputs[1]


class DictMergeLayer(LasagneLayer):
    """Lasagne's dict form of a merge layer: input_layers by name."""

    def __init__(self, incomings, name=None):
        self.input_layers = OrderedDict(incomings)
        self.name = name
        self.params = OrderedDict()

    @property
    def output_shape(self):
        return list(self.input_layers.values())[0].output_shape

    def get_output_for(self, inputs, **kwargs):
        return inputs["a"] - inputs["b"]


def _lasagne_net():
    rng = np.random.default_rng(0)
    l_in = InputLayer((None, 4), T.matrix("x"), name="in")
    hid = DenseLayer(l_in, 5, rng.normal(size=(4, 5)), b=0.1, name="hid")
    drop = DropoutLayer(hid, 0.5, name="drop")
    side = DenseLayer(l_in, 5, rng.normal(size=(4, 5)), name="side",
                      frozen=True)
    merged = ElemwiseSumLayer([drop, side], name="sum")
    out = DenseLayer(merged, 3, rng.normal(size=(5, 3)), b=None, tanh=False)
    return l_in, hid, side, out


def _x():
    return np.random.default_rng(1).normal(size=(6, 4)).astype(FLOATX)


def test_lasagne_layers_walk_tags_names_and_roles():
    l_in, hid, side, out = _lasagne_net()
    layers = regkit.get_all_layers(out)
    assert [layer.name for layer in layers] == ["in", "hid", "drop", "side",
                                                "sum", None]
    assert list(regkit.layer_names(layers).values())[-1] == "dense1"
    roles = regkit.layer_roles(out)
    assert [roles[layer] for layer in layers] == [
        "input", "hidden", "hidden", "hidden", "hidden", "output"]
    assert regkit.get_all_params(out, regularizable=True) == [
        hid.W, side.W, out.W]
    assert regkit.get_all_params(out, frozen=False) == [hid.W, hid.b, side.b,
                                                        out.W]
    assert [name for name, _ in regkit.named_params(out)] == [
        "hid.W", "hid.b", "side.W", "side.b", "dense1.W"]


def test_lasagne_layers_with_the_penalty_helpers():
    _, hid, side, out = _lasagne_net()
    weights = [p.get_value() for p in (hid.W, side.W, out.W)]
    total = regkit.regularize_network_params(out, regkit.l2)
    np.testing.assert_allclose(float(total.eval()),
                               sum((w ** 2).sum() for w in weights),
                               rtol=1e-5)
    weighted = regkit.regularize_layer_params_weighted({hid: 0.1, out: 0.5},
                                                       regkit.l1)
    np.testing.assert_allclose(
        float(weighted.eval()),
        0.1 * np.abs(weights[0]).sum() + 0.5 * np.abs(weights[2]).sum(),
        rtol=1e-5)
    frozen = regkit.regularize_network_params(out, regkit.l2, tags={
        "regularizable": True, "frozen": True})
    np.testing.assert_allclose(float(frozen.eval()), (weights[1] ** 2).sum(),
                               rtol=1e-5)


def test_lasagne_layers_with_regularizers_by_pattern_and_role():
    l_in, hid, side, out = _lasagne_net()
    regs = [regkit.WeightL2("hid.W", 1e-3), regkit.HiddenL1("hid:out", 1e-2)]
    outputs = regkit.get_outputs(out, regularizers=regs)
    assert "drop:out" in outputs and "dense1:out" in outputs
    fn = backend.function([l_in.input_var],
                          [r.loss(out, outputs) for r in regs])
    l2_term, l1_term = fn(_x())
    np.testing.assert_allclose(l2_term, (hid.W.get_value() ** 2).sum(),
                               rtol=1e-5)
    h = np.tanh(_x() @ hid.W.get_value() + hid.b.get_value())
    np.testing.assert_allclose(l1_term, np.abs(h).sum(axis=1).mean(),
                               rtol=1e-5)


def test_lasagne_layers_get_dropout_and_noise_by_graph_modification():
    l_in, hid, side, out = _lasagne_net()
    regs = regkit.from_kwargs(out, dropout={"side:out": 0.5},
                              weight_l2=1e-4)
    train = regkit.get_output(out, regularizers=regs)
    test = regkit.get_output(out, regularizers=regs, deterministic=True)
    # the DropoutLayer's own draw and regkit's dropout on side:out
    updates = regkit.random_updates(train)
    assert len(updates) == 2
    fresh = backend.function([l_in.input_var], train, updates=updates)
    frozen = backend.function([l_in.input_var], train)
    clean = backend.function([l_in.input_var], test)
    x = _x()
    assert not np.array_equal(fresh(x), fresh(x))
    np.testing.assert_array_equal(frozen(x), frozen(x))
    np.testing.assert_array_equal(clean(x), clean(x))
    np.testing.assert_allclose(
        clean(x), (np.tanh(x @ hid.W.get_value() + hid.b.get_value())
                   + np.tanh(x @ side.W.get_value() + side.b.get_value()))
        @ out.W.get_value(), rtol=1e-5)


def test_lasagne_layers_with_update_hooks():
    l_in = InputLayer((None, 3, 4, 4), T.tensor4("img"), name="img")
    conv = Conv2DLayer(l_in, 2, np.full((2, 3, 1, 1), 5.0), name="conv")
    updates = {conv.W: conv.W * 2, conv.b: conv.b + 1}
    new = regkit.apply_update_hooks([regkit.MaxNorm(weight=1.0)], conv,
                                    updates)
    W = new[conv.W].eval()
    np.testing.assert_allclose(np.sqrt((W ** 2).sum(axis=(1, 2, 3))), 1.0,
                               rtol=1e-5)
    # the bias (not regularizable) is left alone
    np.testing.assert_allclose(new[conv.b].eval(), 1.0)
    out = backend.function([l_in.input_var], regkit.get_output(conv))(
        np.ones((1, 3, 4, 4), FLOATX))
    assert out.shape == (1, 2, 4, 4)


def test_a_lasagne_merge_layer_in_dict_form():
    l_in, hid, side, _ = _lasagne_net()
    diff = DictMergeLayer([("a", hid), ("b", side)], name="diff")
    assert regkit.get_all_layers(diff)[-1] is diff
    assert set(regkit.get_all_layers(diff)) == {l_in, hid, side, diff}
    value = backend.function([l_in.input_var], regkit.get_output(diff))(_x())
    np.testing.assert_allclose(
        value, np.tanh(_x() @ hid.W.get_value() + hid.b.get_value())
        - np.tanh(_x() @ side.W.get_value() + side.b.get_value()),
        rtol=1e-5)


def test_a_lasagne_input_layer_takes_an_input_expression():
    l_in, hid, _, out = _lasagne_net()
    given = T.matrix("given")
    expr = regkit.get_output(hid, given)
    value = backend.function([given], expr)(_x())
    np.testing.assert_allclose(
        value, np.tanh(_x() @ hid.W.get_value() + hid.b.get_value()),
        rtol=1e-5)


# --- plain graphs ------------------------------------------------------------

def _graph():
    """A two-layer MLP written by hand, its inputs and parameters."""
    rng = np.random.default_rng(2)
    x, y = T.matrix("x"), T.matrix("y")
    W1 = backend.shared(rng.normal(size=(4, 5)).astype(FLOATX), name="W1")
    b1 = backend.shared(np.zeros(5, FLOATX), name="b1")
    W2 = backend.shared(rng.normal(size=(5, 2)).astype(FLOATX), name="W2")
    steps = backend.shared(np.int64(0), name="steps")
    h = T.tanh(T.dot(x, W1) + b1)
    h.name = "h"
    pred = T.dot(h, W2)
    pred.name = "pred"
    loss = T.mean((pred - y) ** 2) + 0 * steps
    return dict(x=x, y=y, W1=W1, b1=b1, W2=W2, steps=steps, h=h, pred=pred,
                loss=loss)


def _y():
    return np.random.default_rng(3).normal(size=(6, 2)).astype(FLOATX)


def test_a_graph_has_its_shared_variables_as_parameters():
    g = _graph()
    # every shared variable, as Lasagne lists every parameter when no tag
    # is given
    assert regkit.get_all_params(g["loss"]) == [g["W1"], g["b1"], g["W2"],
                                                g["steps"]]
    # weights (2 or more dimensions) are regularizable, vectors are not;
    # integer state has no tag: neither trained nor penalized
    assert regkit.get_all_params(g["loss"], regularizable=True) == [
        g["W1"], g["W2"]]
    assert regkit.get_all_params(g["loss"], trainable=True) == [
        g["W1"], g["b1"], g["W2"]]
    assert [name for name, _ in regkit.named_params(g["loss"])] == [
        "W1", "b1", "W2", "steps"]
    roles = regkit.layer_roles(g["loss"])
    assert [(layer.name, role) for layer, role in roles.items()] == [
        ("x", "input"), ("h", "hidden"), ("pred", "hidden"),
        ("y", "input"), (None, "output")]
    total = regkit.regularize_network_params(g["loss"], regkit.l2)
    np.testing.assert_allclose(
        float(total.eval()),
        (g["W1"].get_value() ** 2).sum() + (g["W2"].get_value() ** 2).sum(),
        rtol=1e-5)


def test_state_that_is_not_trained_is_never_penalized():
    g = _graph()
    running = backend.shared(np.ones((5, 5), FLOATX), name="running")
    # pytensor-ml marks such state by its class
    running.__class__ = type("NonTrainableParameter", (type(running),), {})
    loss = g["loss"] + T.sum(T.dot(g["h"], running))
    assert running not in regkit.get_all_params(loss, trainable=True)
    assert running not in regkit.get_all_params(loss, regularizable=True)
    assert regkit.WeightL2(weight=1.0).params(loss) == [g["W1"], g["W2"]]


def test_output_regularizers_select_a_graphs_named_variables():
    g = _graph()
    regs = [regkit.HiddenL1("h:out", 1.0), regkit.WeightL2("W*", 1e-3)]
    outputs = regkit.get_outputs(g["loss"], regularizers=regs)
    fn = backend.function([g["x"]], regs[0].loss(g["loss"], outputs))
    h = np.tanh(_x() @ g["W1"].get_value())
    np.testing.assert_allclose(fn(_x()), np.abs(h).sum(axis=1).mean(),
                               rtol=1e-5)
    # the default pattern of an activity term: the hidden variables
    names = regkit.HiddenL2(weight=1.0).output_names(g["loss"], outputs)
    assert names == ["h:out", "pred:out"]


def test_a_pattern_or_graph_that_matches_nothing_warns_and_adds_zero():
    g = _graph()
    with pytest.warns(UserWarning, match="matches no parameter"):
        total = regkit.total_penalty([regkit.WeightL2("nothing*", 1.0)],
                                     g["loss"], {})
    assert total == 0  # exactly 0, not a symbolic term
    x = T.matrix("x")
    with pytest.warns(UserWarning):
        assert regkit.WeightL2(weight=1.0).params(2 * x) == []


def test_apply_regularizers_rewrites_a_graph_and_leaves_it_untouched():
    g = _graph()
    regs = [regkit.BernoulliDropout("h:out", 0.5, rng=0),
            regkit.GaussianNoise("x:out", 0.1, rng=1)]
    before = backend.function([g["x"], g["y"]], g["loss"])(_x(), _y())
    graph = regkit.apply_regularizers(g["loss"], regs)
    assert graph.inference is g["loss"]
    assert len(graph.updates) == 2
    train = backend.function([g["x"], g["y"]], graph.train,
                             updates=graph.updates)
    frozen = backend.function([g["x"], g["y"]], graph.train)
    losses = [float(train(_x(), _y())) for _ in range(3)]
    assert len(set(losses)) == 3  # fresh masks and noise on every call
    assert float(frozen(_x(), _y())) == float(frozen(_x(), _y()))
    after = backend.function([g["x"], g["y"]], graph.inference)(_x(), _y())
    assert float(after) == float(before)
    # the dropped hidden units: zeros in the rebuilt h, none in the original
    h_train = backend.function([g["x"]], graph.outputs["h:out"],
                               updates=graph.updates)(_x())
    assert (h_train == 0).any()
    assert "h:out-predrop" in graph.outputs


def test_apply_regularizers_on_layers_and_lists():
    g = _graph()
    graph = regkit.apply_regularizers(
        [g["pred"], g["h"]], [regkit.BernoulliDropout("h:out", 0.5, rng=2)])
    assert isinstance(graph.train, list) and len(graph.train) == 2
    assert graph.inference == [g["pred"], g["h"]]
    l_in, hid, side, out = _lasagne_net()
    graph = regkit.apply_regularizers(out, [regkit.GaussianNoise(
        "hid:out", 0.5, rng=3)])
    clean = backend.function([l_in.input_var], graph.inference)(_x())
    plain = backend.function([l_in.input_var], regkit.get_output(
        out, deterministic=True))(_x())
    np.testing.assert_array_equal(clean, plain)


# --- decoupled weight decay --------------------------------------------------

def _train(g, loss, rule, hooks, steps=4, lr=0.05):
    params = [g["W1"], g["b1"], g["W2"]]
    grads = backend.grad(loss, params)
    updates = rule(params, grads, lr)
    updates = regkit.apply_update_hooks(hooks, g["loss"], updates)
    fn = backend.function([g["x"], g["y"]], loss, updates=updates)
    for _ in range(steps):
        fn(_x(), _y())
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
        g = _graph()
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
    g = _graph()
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
