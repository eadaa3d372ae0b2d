"""Networks of Lasagne layers: faithful doubles of Lasagne's layer protocol
(written from Lasagne's documented behaviour: Lasagne itself is not on the
package registry), their names, roles and parameters, regularizers on them,
and the network record as Lasagne users change a network, on both backends."""
from collections import OrderedDict
import warnings

import numpy as np
import pytest

import regkit
from regkit import backend

from conftest import (InputReads, RecordBuilds, compile_fast, graph_mlp,
                      mlp, sample_x)

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


def test_lasagne_layers_walk_tags_names_and_roles():
    l_in, hid, side, out = _lasagne_net()
    layers = regkit.get_all_layers(out)
    assert [layer.name for layer in layers] == ["in", "hid", "drop", "side",
                                                "sum", None]
    assert list(regkit.layer_names(layers).values())[-1] == "dense1"
    roles = regkit.layer_roles(out)
    # Lasagne's roles: the units are hid and side; the network's
    # own dropout layer and the sum compute no units
    assert [roles[layer] for layer in layers] == [
        "input", "hidden", "internal", "hidden", "internal", "output"]
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
    l2_term, l1_term = fn(sample_x())
    np.testing.assert_allclose(l2_term, (hid.W.get_value() ** 2).sum(),
                               rtol=1e-5)
    h = np.tanh(sample_x() @ hid.W.get_value() + hid.b.get_value())
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
    x = sample_x()
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
    value = backend.function([l_in.input_var],
                             regkit.get_output(diff))(sample_x())
    np.testing.assert_allclose(
        value, np.tanh(sample_x() @ hid.W.get_value() + hid.b.get_value())
        - np.tanh(sample_x() @ side.W.get_value() + side.b.get_value()),
        rtol=1e-5)


def test_a_lasagne_input_layer_takes_an_input_expression():
    l_in, hid, _, out = _lasagne_net()
    given = T.matrix("given")
    expr = regkit.get_output(hid, given)
    value = backend.function([given], expr)(sample_x())
    np.testing.assert_allclose(
        value, np.tanh(sample_x() @ hid.W.get_value() + hid.b.get_value()),
        rtol=1e-5)


def test_apply_regularizers_on_layers_and_lists():
    g = graph_mlp()
    graph = regkit.apply_regularizers(
        [g["pred"], g["h"]], [regkit.BernoulliDropout("h:out", 0.5, rng=2)])
    assert isinstance(graph.train, list) and len(graph.train) == 2
    assert graph.inference == [g["pred"], g["h"]]
    l_in, hid, side, out = _lasagne_net()
    graph = regkit.apply_regularizers(out, [regkit.GaussianNoise(
        "hid:out", 0.5, rng=3)])
    clean = backend.function([l_in.input_var], graph.inference)(sample_x())
    plain = backend.function([l_in.input_var], regkit.get_output(
        out, deterministic=True))(sample_x())
    np.testing.assert_array_equal(clean, plain)


# --- what Lasagne allows and regkit refused ----------------------------------

def test_layers_named_alike_in_a_loop_get_unique_names_with_one_warning():
    # mnist.py style: name="hidden" for every hidden layer
    l_in = InputLayer((None, 4), name="in")
    layer, rng = l_in, np.random.default_rng(0)
    for _ in range(3):
        layer = DenseLayer(layer, 4, W=rng.normal(size=(4, 4)),
                           name="hidden")
    net = DenseLayer(layer, 2, W=rng.normal(size=(4, 2)), name="out")
    with pytest.warns(UserWarning, match="3 layers are named 'hidden'"):
        names = [n for n, _ in regkit.named_params(net, regularizable=True)]
    assert names == ["hidden.W", "hidden#2.W", "hidden#3.W", "out.W"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        want = float(regkit.regularize_network_params(net, regkit.l2).eval())
        regs = regkit.from_kwargs(net, weight_l2=1.0, hidden_dropout=0.5)
        outputs = regkit.get_outputs(net, regularizers=regs)
        total = regkit.total_penalty(regs[:1], net, outputs)
        every = regkit.WeightL2("hidden*.W", 1.0).loss(net, outputs)
    assert float(total.eval()) == pytest.approx(want)
    assert regs[1].pattern == ("hidden:out", "hidden#2:out", "hidden#3:out")
    assert "hidden#3:out-predrop" in outputs
    assert float(every.eval()) == pytest.approx(
        want - (net.W.get_value() ** 2).sum())


def test_a_layer_name_with_glob_characters_is_matched_exactly():
    l_in = InputLayer((None, 3), name="in")
    hid = DenseLayer(l_in, 3, W=np.eye(3), name="fc[1]")
    net = DenseLayer(hid, 2, W=np.ones((3, 2)), name="out")
    (drop,) = regkit.from_kwargs(net, hidden_dropout=0.5)
    outputs = regkit.get_outputs(net, regularizers=[drop])
    assert "fc[1]:out-predrop" in outputs
    # the default pattern (the hidden layers) finds it too
    assert regkit.HiddenL1(weight=1.0).output_names(net, outputs) == [
        "fc[1]:out"]


class _PeepholeLayer(DenseLayer):
    """A dense layer with a regularizable 1-D parameter, as Lasagne's LSTM
    peepholes (W_cell_to_ingate) are."""

    def __init__(self, incoming, num_units, W, name=None):
        super(_PeepholeLayer, self).__init__(incoming, num_units, W,
                                             name=name)
        self.peep = self.add_param(np.ones(num_units), (num_units,),
                                   name="W_cell_to_ingate")


def test_matrix_terms_select_matrices_by_default_and_refuse_a_named_vector():
    l_in = InputLayer((None, 3), name="in")
    net = _PeepholeLayer(l_in, 2, W=np.array([[3.0, 0], [0, 1], [0, 0]]),
                         name="lstm")
    for reg in (regkit.SpectralNorm(weight=1.0, rng=0),
                regkit.SRIP(weight=1.0, rng=0)):
        term = reg.loss(net, {})  # the 1-D peephole is left out
        assert [n for n, _ in reg.named_params(net)] == ["lstm.W"]
        assert np.isfinite(float(term.eval()))
    y = regkit.get_output(net, regularizers=[
        regkit.SpectralNormalization(n_iter=20, rng=0)], deterministic=True)
    x = np.eye(3, dtype=l_in.input_var.dtype)
    np.testing.assert_allclose(  # W / 3, the peephole left alone
        backend.function([l_in.input_var], y)(x),
        np.tanh(np.array([[1.0, 0], [0, 1.0 / 3], [0, 0]])), rtol=1e-6)
    with pytest.raises(ValueError, match="'lstm.W_cell_to_ingate' has 1"):
        regkit.SpectralNorm("lstm.W_cell*", 1.0).loss(net, {})


def test_a_model_zoo_net_dict_gets_a_short_error_with_the_way_out():
    l_in = InputLayer((None, 3), name="input")
    net = {"input": l_in}
    layer = l_in
    for index in range(300):  # a big zoo model: a long repr
        layer = DenseLayer(layer, 3, W=np.eye(3), name="fc%d" % index)
        net["fc%d" % index] = layer
    with pytest.raises(TypeError) as info:
        regkit.get_output(net)
    message = str(info.value)
    assert len(message) < 400 and "list(net.values())" in message


class _BatchNormLike(LasagneLayer):
    """Declares the keyword it takes, as Lasagne's BatchNormLayer does."""

    def __init__(self, incoming, name=None):
        super(_BatchNormLike, self).__init__(incoming, name)
        self.get_output_kwargs = ["batch_norm_use_averages"]

    def get_output_for(self, input, batch_norm_use_averages=False, **kwargs):
        return input * 2 if batch_norm_use_averages else input


def test_a_misspelt_get_output_keyword_warns_with_the_closest_name():
    l_in = InputLayer((None, 3), name="in")
    net = _BatchNormLike(DenseLayer(l_in, 3, W=np.eye(3), name="hid"),
                         name="bn")
    with pytest.warns(UserWarning, match="'batch_norm_use_avrages' \\(perhaps "
                                         "you meant 'batch_norm_use_averages'"):
        regkit.get_output(net, batch_norm_use_avrages=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = regkit.get_output(net, batch_norm_use_averages=True,
                              deterministic=True)
    x = np.ones((1, 3), l_in.input_var.dtype)
    np.testing.assert_allclose(backend.function([l_in.input_var], y)(x),
                               2 * np.tanh(x))


# --- roles on Lasagne networks: what a Lasagne user means --------------------
# More of Lasagne's layer kinds, written from lasagne/layers/*.py: the
# parameter-free ones keep or change the shape, and those that change
# nothing at inference (dropout, noise) return their input there.

class NonlinearityLayer(LasagneLayer):
    def __init__(self, incoming, nonlinearity=T.tanh, name=None):
        super(NonlinearityLayer, self).__init__(incoming, name)
        self.nonlinearity = nonlinearity

    def get_output_for(self, input, **kwargs):
        return self.nonlinearity(input)


class GaussianNoiseLayer(LasagneLayer):
    def __init__(self, incoming, sigma=0.1, name=None):
        super(GaussianNoiseLayer, self).__init__(incoming, name)
        self.sigma = sigma

    def get_output_for(self, input, deterministic=False, **kwargs):
        if deterministic or self.sigma == 0:
            return input
        return input + self.sigma * backend.normal(
            input.shape, input.dtype, np.random.SeedSequence(12))


class BatchNormLayer(LasagneLayer):
    """Lasagne's batch normalization over axis 0: beta and gamma are
    trainable and not regularizable, mean and inv_std neither."""

    def __init__(self, incoming, name=None):
        super(BatchNormLayer, self).__init__(incoming, name)
        units = self.input_shape[1]
        self.beta = self.add_param(np.zeros(units), (units,), name="beta",
                                   regularizable=False)
        self.gamma = self.add_param(np.ones(units), (units,), name="gamma",
                                    regularizable=False)
        self.mean = self.add_param(np.zeros(units), (units,), name="mean",
                                   trainable=False, regularizable=False)
        self.get_output_kwargs = ["batch_norm_use_averages"]

    def get_output_for(self, input, deterministic=False, **kwargs):
        axes = (0,) + tuple(range(2, input.ndim))
        mean = self.mean if deterministic else input.mean(axis=axes)
        pattern = ["x", 0] + ["x"] * (input.ndim - 2)
        return (input - mean.dimshuffle(*pattern)) \
            * self.gamma.dimshuffle(*pattern) + self.beta.dimshuffle(*pattern)


class Pool2DLayer(LasagneLayer):
    """2x2 max pooling with stride 2 (even sizes)."""

    def get_output_shape_for(self, input_shape):
        return tuple(input_shape[:2]) + tuple(
            None if n is None else n // 2 for n in input_shape[2:])

    def get_output_for(self, input, **kwargs):
        corners = [input[:, :, i::2, j::2] for i in (0, 1) for j in (0, 1)]
        return T.maximum(T.maximum(corners[0], corners[1]),
                         T.maximum(corners[2], corners[3]))


class FlattenLayer(LasagneLayer):
    def get_output_shape_for(self, input_shape):
        rest = input_shape[1:]
        return (input_shape[0],
                None if None in rest else int(np.prod(rest)))

    def get_output_for(self, input, **kwargs):
        return input.flatten(2)


class LRNLayer(LasagneLayer):
    """Local response normalization: the shape kept, the values changed
    at inference too."""

    def get_output_for(self, input, **kwargs):
        return input / (1 + 1e-4 * T.sqr(input))


class ConcatLayer(LasagneMergeLayer):
    @property
    def output_shape(self):
        first = self.input_shapes[0]
        return (first[0], sum(shape[1] for shape in self.input_shapes))

    def get_output_for(self, inputs, **kwargs):
        return T.concatenate(inputs, axis=1)


def _roles_by_name(network):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        roles = regkit.layer_roles(network)
        names = regkit.layer_names(list(roles))
    return {names[layer]: role for layer, role in roles.items()}


def _mnist_mlp(rng):
    """lasagne's examples/mnist.py build_mlp, 784 inputs made 64."""
    l_in = InputLayer((None, 64), name="input")
    layer = DropoutLayer(l_in, 0.2, name="drop_in")
    for index, width in enumerate((64, 64)):
        layer = DenseLayer(layer, width, rng.normal(size=(
            layer.output_shape[1], width)) * 0.1, name="hid%d" % (index + 1))
        layer = DropoutLayer(layer, 0.5, name="drop%d" % (index + 1))
    out = DenseLayer(layer, 10, rng.normal(size=(64, 10)) * 0.1, tanh=False,
                     name="out")
    return l_in, out


def test_roles_of_an_mlp_with_its_own_dropout_layers():
    l_in, out = _mnist_mlp(np.random.default_rng(0))
    assert _roles_by_name(out) == {
        "input": "input", "drop_in": "internal", "hid1": "hidden",
        "drop1": "internal", "hid2": "hidden", "drop2": "internal",
        "out": "output"}
    own = [layer.name for layer in regkit.training_only_layers(out)]
    assert own == ["drop_in", "drop1", "drop2"]
    with pytest.warns(UserWarning, match="has its own .*'drop_in'"):
        regs = regkit.from_kwargs(out, hidden_dropout=0.5)
    assert regs[0].pattern == ("hid1:out", "hid2:out")


def test_roles_of_a_conv_net_with_batch_norm_pooling_and_lrn():
    l_in = InputLayer((None, 3, 8, 8), T.tensor4("img"), name="img")
    conv = Conv2DLayer(l_in, 4, np.ones((4, 3, 1, 1)), name="conv")
    bn = BatchNormLayer(conv, name="bn")
    relu = NonlinearityLayer(bn, T.tanh, name="relu")
    pool = Pool2DLayer(relu, name="pool")
    conv2 = Conv2DLayer(pool, 4, np.ones((4, 4, 1, 1)), name="conv2")
    lrn = LRNLayer(conv2, name="lrn")
    noise = GaussianNoiseLayer(lrn, 0.1, name="noise")
    flat = FlattenLayer(noise, name="flat")
    dense = DenseLayer(flat, 5, np.ones((64, 5)) * 0.01, name="fc")
    side = DenseLayer(flat, 5, np.ones((64, 5)) * 0.01, name="side")
    cat = ConcatLayer([dense, side], name="cat")
    logits = DenseLayer(cat, 3, np.ones((10, 3)), tanh=False, name="logits")
    prob = NonlinearityLayer(logits, backend.softmax, name="prob")
    assert _roles_by_name(prob) == {
        "img": "input", "conv": "internal", "bn": "internal",
        "relu": "hidden", "pool": "internal", "conv2": "internal",
        "lrn": "hidden", "noise": "internal", "flat": "internal",
        "fc": "hidden", "side": "hidden", "cat": "internal",
        "logits": "internal", "prob": "output"}
    assert [layer.name for layer in regkit.training_only_layers(prob)] == [
        "noise"]
    with pytest.warns(UserWarning, match="has its own \\('noise'\\)"):
        regs = regkit.from_kwargs(prob, output_noise=0.0)
    assert regs[0].pattern == ("prob:out",)  # not the logits as well
    outputs = regkit.get_outputs(prob, regularizers=regs)
    assert outputs.roles["logits"] == "internal"
    # the default activity pattern: the units, not every node
    assert regkit.HiddenL1(weight=1.0).output_names(prob, outputs) == [
        "relu:out", "lrn:out", "fc:out", "side:out"]


def test_roles_of_a_residual_block():
    l_in = InputLayer((None, 4), name="in")
    f = DenseLayer(l_in, 4, np.eye(4), name="f")
    g = DenseLayer(f, 4, np.eye(4), tanh=False, name="g")
    total = ElemwiseSumLayer([g, l_in], name="sum")
    block = NonlinearityLayer(total, T.tanh, name="block")
    out = DenseLayer(block, 2, np.ones((4, 2)), name="out")
    assert _roles_by_name(out) == {
        "in": "input", "f": "hidden", "g": "hidden", "sum": "internal",
        "block": "internal", "out": "output"}


def _digits():
    from sklearn.datasets import load_digits
    data = load_digits()
    x = (data.data / 16.0).astype(FLOATX)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], data.target[order].astype("int32")
    return (x[:1200], y[:1200]), (x[1200:], y[1200:])


def _mnist_cnn(rng):
    """lasagne's examples/mnist.py build_cnn, for 8x8 digits (a 1x1
    convolution stands in for the 5x5 ones)."""
    l_in = InputLayer((None, 1, 8, 8), T.tensor4("img"), name="input")
    conv = Conv2DLayer(l_in, 16, rng.normal(size=(16, 1, 1, 1)),
                       name="conv1")
    relu = NonlinearityLayer(conv, T.tanh, name="relu1")
    pool = Pool2DLayer(relu, name="pool1")
    flat = FlattenLayer(pool, name="flat")
    drop = DropoutLayer(flat, 0.5, name="drop1")
    hid = DenseLayer(drop, 64, rng.normal(size=(256, 64)) * 0.1, name="hid")
    drop2 = DropoutLayer(hid, 0.5, name="drop2")
    logits = DenseLayer(drop2, 10, rng.normal(size=(64, 10)) * 0.1,
                        tanh=False, name="logits")
    return l_in, NonlinearityLayer(logits, backend.softmax, name="prob")


@pytest.mark.slow
@pytest.mark.parametrize("builder", ["mlp", "cnn"])
def test_mnist_style_builders_train_with_hidden_dropout(builder):
    (x, y), (x_test, y_test) = _digits()
    rng = np.random.default_rng(1)
    if builder == "mlp":
        l_in, logits = _mnist_mlp(rng)
        out = NonlinearityLayer(logits, backend.softmax, name="prob")
    else:
        l_in, out = _mnist_cnn(rng)
        x, x_test = x.reshape(-1, 1, 8, 8), x_test.reshape(-1, 1, 8, 8)
    with pytest.warns(UserWarning, match="has its own"):
        regs = regkit.from_kwargs(out, hidden_dropout=0.5, rng=2)
    units = set(regs[0].pattern)
    assert units == ({"hid1:out", "hid2:out"} if builder == "mlp"
                     else {"relu1:out", "hid:out"})
    labels = T.ivector("y")
    prob = regkit.get_output(out, regularizers=regs)
    loss = -T.mean(T.log(prob[T.arange(labels.shape[0]), labels]))
    params = regkit.get_all_params(out, trainable=True)
    updates = [(p, p - 0.5 * g) for p, g in zip(params,
                                                backend.grad(loss, params))]
    mode = backend.c_linker_mode()
    train = backend.function([l_in.input_var, labels], loss, mode=mode,
                             updates=updates + regkit.random_updates(prob))
    test = backend.function([l_in.input_var], regkit.get_output(
        out, regularizers=regs, deterministic=True), mode=mode)
    for epoch in range(30):
        for start in range(0, len(x), 50):
            train(x[start:start + 50], y[start:start + 50])
    accuracy = np.mean(test(x_test).argmax(axis=1) == y_test)
    # before issue 25 the role selected the input and the network's own
    # dropout layers too: chance (0.1) for the CNN.  Now the units only;
    # regkit's 0.5 still stacks on mnist.py's own 0.5 dropout (the warning
    # says so), which this small budget (30 epochs, 1x1 convolutions)
    # feels: measured on PyTensor 3.0.7, MLP 0.85 (0.96 without
    # hidden_dropout), CNN 0.69 (0.85 without)
    assert accuracy > (0.8 if builder == "mlp" else 0.6), accuracy


def test_lasagne_s_own_parameter_name_as_a_pattern_says_how_to_match():
    # Lasagne calls a dense layer's weight "W"; regkit's names carry the
    # layer ("hid.W"): the pattern "W" matches nothing, and says so
    _, hid, side, out = _lasagne_net()
    with pytest.warns(UserWarning, match=r"did you mean '\*\.W'"):
        term = regkit.WeightL2("W", 1.0).loss(out, {})
    assert term == 0
    want = sum((p.get_value() ** 2).sum() for p in (hid.W, side.W, out.W))
    assert float(regkit.WeightL2("*.W", 1.0).loss(out, {}).eval()) \
        == pytest.approx(want)


class _SignatureOnlyBatchNorm(LasagneLayer):
    """Real Lasagne's BatchNormLayer names its keyword only in the
    signature of get_output_for (its get_output_kwargs is the base's [])."""

    def get_output_for(self, input, deterministic=False,
                       batch_norm_use_averages=None, **kwargs):
        return input * 2 if batch_norm_use_averages else input


def test_a_keyword_named_in_get_output_for_is_not_reported_unused():
    l_in = InputLayer((None, 3), name="in")
    net = _SignatureOnlyBatchNorm(DenseLayer(l_in, 3, W=np.eye(3),
                                             name="hid"), name="bn")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        regkit.get_output(net, batch_norm_use_averages=True)
    with pytest.warns(UserWarning, match="perhaps you meant"):
        regkit.get_output(net, batch_norm_use_avrages=True)


def test_a_name_the_user_chose_is_never_taken_by_the_numbering():
    l_in = InputLayer((None, 2), name="in")
    a = DenseLayer(l_in, 2, W=np.ones((2, 2)), name="hidden")
    b = DenseLayer(a, 2, W=np.ones((2, 2)), name="hidden")
    c = DenseLayer(b, 2, W=2 * np.ones((2, 2)), name="hidden#2")
    with pytest.warns(UserWarning, match="2 layers are named 'hidden'"):
        names = regkit.layer_names(regkit.get_all_layers(c))
    assert [names[layer] for layer in (a, b, c)] == [
        "hidden", "hidden#3", "hidden#2"]


# --- one network record, on Lasagne networks too -----------------------------

def _script(out, regs):
    """What a training script does with a network: outputs, the penalty,
    SGD updates through the update hooks, and an inference graph."""
    outputs = regkit.get_outputs(out, regularizers=regs)
    loss = outputs["out:out"].sum() + regkit.total_penalty(regs, out, outputs)
    params = regkit.get_all_params(out, trainable=True)
    grads = backend.grad(loss, params)
    updates = regkit.apply_update_hooks(
        regs, out, [(p, p - 0.1 * g) for p, g in zip(params, grads)])
    regkit.get_output(out, deterministic=True, regularizers=regs)
    return outputs, updates


@pytest.mark.parametrize("kind", ["regkit", "lasagne"])
def test_a_training_script_walks_the_network_once(kind, monkeypatch):
    if kind == "regkit":
        _, _, out = mlp((4, 5, 3))
    else:
        out = _mnist_mlp(np.random.default_rng(0))[1]
    regs = [regkit.WeightL2(weight=1e-3), regkit.WeightL1(weight=1e-4),
            regkit.HiddenL1(weight=1e-3), regkit.MaxNorm(weight=3.0),
            regkit.BernoulliDropout("*:out", 0.5, rng=0)]
    layers = regkit.get_all_layers(out)
    with InputReads(layers) as once:
        regkit.get_all_layers(out)
    with RecordBuilds(monkeypatch) as builds, InputReads(layers) as reads:
        outputs, updates = _script(out, regs)
    assert builds.count == 1  # one record, one walk
    # every later call checks the record (each layer's inputs once) but
    # does not walk: reads are a walk's plus one per layer per check
    assert (reads.count - once.count) % len(layers) == 0
    # the same numbers as the record gives: every consumer read names
    # and roles from one place
    assert list(outputs.network.names.values()) == list(outputs.roles)
    assert set(updates) == set(regkit.get_all_params(out, trainable=True))


def test_a_changed_network_gets_a_new_record():
    rng = np.random.default_rng(0)
    l_in = InputLayer((None, 4), name="in")
    out = DenseLayer(DenseLayer(l_in, 5, rng.normal(size=(4, 5))), 3,
                     rng.normal(size=(5, 3)))
    outputs = regkit.get_outputs(out)
    record = outputs.network
    assert regkit.as_network(out) is record
    assert regkit.as_network([out]) is record
    out.name = "top"  # Lasagne allows renaming: the names follow
    assert [n for n, _ in regkit.named_params(out)][-2:] == ["top.W", "top.b"]
    assert regkit.as_network(out) is not record
    # tags are read when asked for, not kept by the record
    hid = regkit.get_all_layers(out)[1]
    hid.params[hid.W].discard("regularizable")
    assert [n for n, _ in regkit.named_params(out, regularizable=True)] \
        == ["top.W"]
    # a parameter added after the walk is named too
    extra = out.add_param(np.ones(3), (3,), name="scale")
    assert regkit.named_params(out)[-1] == ("top.scale", extra)


def test_renamed_and_retagged_parameters_make_a_new_record():
    rng = np.random.default_rng(0)
    l_in = InputLayer((None, 4), name="in")
    emb = DenseLayer(l_in, 5, rng.normal(size=(4, 5)), name="emb")
    hid = DenseLayer(emb, 5, rng.normal(size=(5, 5)), name="hid")
    out = DenseLayer(hid, 3, rng.normal(size=(5, 3)), tanh=False, name="out")
    outputs = regkit.get_outputs(out)  # holds the record
    assert outputs.roles["emb"] == "hidden"
    # Lasagne's idiom: a weight that is not regularized; roles follow it
    emb.params[emb.W].remove("regularizable")
    assert regkit.layer_roles(out)[emb] == "internal"
    assert regkit.from_kwargs(out, hidden_dropout=0.5)[0].pattern == \
        ("hid:out",)
    # a parameter renamed: its name follows
    hid.W.name = "hid.kernel"
    assert "hid.kernel" in [n for n, _ in regkit.named_params(out)]


def test_a_rewired_layer_makes_a_new_record():
    rng = np.random.default_rng(0)
    l_in = InputLayer((None, 2), name="in")
    old = DenseLayer(l_in, 2, rng.normal(size=(2, 2)), name="old")
    new = DenseLayer(l_in, 2, rng.normal(size=(2, 2)), name="new")
    out = DenseLayer(old, 1, rng.normal(size=(2, 1)), name="out")
    outputs = regkit.get_outputs(out)  # holds the record
    out.input_layer = new  # model surgery
    assert new.W in regkit.get_all_params(out)
    assert old.W not in regkit.get_all_params(out)
    assert "new:out" in regkit.get_outputs(out)
    del outputs


def test_a_dropout_layer_turned_off_is_no_longer_training_only():
    l_in = InputLayer((None, 4), name="in")
    drop = DropoutLayer(DenseLayer(l_in, 4, np.ones((4, 4)), name="hid"),
                        0.5, name="drop")
    out = DenseLayer(drop, 2, np.ones((4, 2)), tanh=False, name="out")
    assert [layer.name for layer in regkit.training_only_layers(out)] == \
        ["drop"]
    drop.p = 0.0
    assert regkit.training_only_layers(out) == []


# --- minimal protocol doubles ------------------------------------------------
# Only what regkit reads of a layer (no add_param, no tags but the default
# ones): Lasagne's way of tying weights, and a merge layer whose training
# output differs from its inference output.

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
    np.testing.assert_allclose(compile_fast([l_in.input_var], y)(
        np.eye(2, dtype=l_in.input_var.dtype)), np.eye(2), rtol=1e-6)
    with pytest.warns(UserWarning, match="matches no parameter"):
        regkit.get_output(d2, regularizers=[regkit.DropConnect("d2.W", 0.5)])


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
    np.testing.assert_allclose(compile_fast([l_in.input_var], test)(data),
                               1.5 * data)  # x + 0.5 x, not centred
