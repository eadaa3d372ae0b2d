"""Plain symbolic graphs as networks (regkit/layers/graph.py): their shared
variables as parameters, their named variables as layers."""
import sys

import numpy as np
import pytest

import regkit
from regkit import backend

from conftest import graph_mlp, run_fresh, sample_x

T = backend.tensor
FLOATX = backend.floatX


def test_a_graph_has_its_shared_variables_as_parameters():
    g = graph_mlp()
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
        ("x", "input"), ("h", "hidden"), ("pred", "output"),
        ("y", "internal"), (None, "internal")]  # the loss: never an output;
    # the targets only the loss reads are the loss's: no input noise there
    total = regkit.regularize_network_params(g["loss"], regkit.l2)
    np.testing.assert_allclose(
        float(total.eval()),
        (g["W1"].get_value() ** 2).sum() + (g["W2"].get_value() ** 2).sum(),
        rtol=1e-5)


def _untrained_state_class(monkeypatch, shared):
    """pytensor-ml's NonTrainableParameter, or (where pytensor-ml is not
    installed) a double of it in a double of its module layout."""
    try:
        from pytensor_ml.params import NonTrainableParameter
        return NonTrainableParameter
    except ImportError:
        pass
    import types
    package = types.ModuleType("pytensor_ml")
    params = types.ModuleType("pytensor_ml.params")
    params.NonTrainableParameter = type("NonTrainableParameter",
                                        (type(shared),), {})
    params.StepCounter = type("StepCounter", (type(shared),), {})
    package.params = params
    monkeypatch.setitem(sys.modules, "pytensor_ml", package)
    monkeypatch.setitem(sys.modules, "pytensor_ml.params", params)
    return params.NonTrainableParameter


def test_state_that_is_not_trained_is_never_penalized(monkeypatch):
    g = graph_mlp()
    running = backend.shared(np.ones((5, 5), FLOATX), name="running")
    # pytensor-ml marks such state by its class (recognised by type)
    running.__class__ = _untrained_state_class(monkeypatch, running)
    loss = g["loss"] + T.sum(T.dot(g["h"], running))
    assert running not in regkit.get_all_params(loss, trainable=True)
    assert running not in regkit.get_all_params(loss, regularizable=True)
    assert regkit.WeightL2(weight=1.0).params(loss) == [g["W1"], g["W2"]]


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


def test_output_regularizers_select_a_graphs_named_variables():
    g = graph_mlp()
    regs = [regkit.HiddenL1("h:out", 1.0), regkit.WeightL2("W*", 1e-3)]
    outputs = regkit.get_outputs(g["loss"], regularizers=regs)
    fn = backend.function([g["x"]], regs[0].loss(g["loss"], outputs))
    h = np.tanh(sample_x() @ g["W1"].get_value())
    np.testing.assert_allclose(fn(sample_x()), np.abs(h).sum(axis=1).mean(),
                               rtol=1e-5)
    # the default pattern of an activity term: the hidden variables, not
    # the prediction the loss reads (the model's output)
    names = regkit.HiddenL2(weight=1.0).output_names(g["loss"], outputs)
    assert names == ["h:out"]


# --- the units of an unnamed graph -------------------------------------------
# A matrix product (or convolution) with a weight, its bias and nonlinearity
# is a layer, named dense1, dense2... in walk order, its parameters
# dense1.W, dense1.b: the graph regularized without naming anything.

def _unnamed_mlp(dtype=FLOATX, relu_by_hand=False):
    """x -> tanh(x V1 + c1) -> relu(h1 V2 + c2) -> softmax(h2 V3): nothing
    named but the input; a cross-entropy loss on the integer targets y."""
    rng = np.random.default_rng(5)
    x, y = T.matrix("x", dtype=dtype), T.ivector("y")
    V1, c1, V2, c2, V3 = [backend.shared(
        rng.normal(size=shape).astype(dtype))
        for shape in [(4, 6), (6,), (6, 5), (5,), (5, 3)]]
    h1 = T.tanh(T.dot(x, V1) + c1)
    z2 = T.dot(h1, V2) + c2
    h2 = 0.5 * (z2 + abs(z2)) if relu_by_hand else T.maximum(z2, 0)
    p = backend.softmax(T.dot(h2, V3))
    loss = T.mean(-T.log(p[T.arange(y.shape[0]), y]))
    return dict(x=x, y=y, V1=V1, c1=c1, V2=V2, c2=c2, V3=V3, h1=h1, h2=h2,
                p=p, loss=loss)


def _named_roles(network):
    roles = regkit.layer_roles(network)
    names = regkit.layer_names(list(roles))
    return [(names[layer], role) for layer, role in roles.items()]


def test_an_unnamed_graph_has_units_named_by_their_kind():
    for relu_by_hand in (False, True):  # 0.5 * (z + |z|) reads z twice
        g = _unnamed_mlp(relu_by_hand=relu_by_hand)
        units = [("dense1", "hidden"), ("dense2", "hidden"),
                 ("dense3", "output")]
        assert _named_roles(g["p"]) == [("x", "input")] + units
        # the same names and roles when the loss stands for the network
        assert _named_roles(g["loss"]) == [("x", "input")] + units + [
            ("y", "internal"), ("variable1", "internal")]
        for network in (g["p"], g["loss"]):
            assert regkit.named_params(network) == [
                ("dense1.W", g["V1"]), ("dense1.b", g["c1"]),
                ("dense2.W", g["V2"]), ("dense2.b", g["c2"]),
                ("dense3.W", g["V3"])]
        outputs = regkit.get_outputs(g["p"])
        assert outputs["dense1:out"] is g["h1"]
        assert outputs["dense2:out"] is g["h2"]
        assert outputs["dense3:out"] is g["p"]


def test_an_unnamed_graph_is_regularized_by_its_units():
    g = _unnamed_mlp()
    x = sample_x()
    V1, c1, V2 = (g[k].get_value() for k in ("V1", "c1", "V2"))
    h1 = np.tanh(x @ V1 + c1)
    # by pattern, on the automatic names
    term = regkit.WeightL2("dense*.W", 1.0).loss(g["loss"], None)
    np.testing.assert_allclose(float(term.eval()), sum(
        (g[k].get_value() ** 2).sum() for k in ("V1", "V2", "V3")),
        rtol=1e-5)
    # per unit, with the graph's variables as keys
    term = regkit.regularize_layer_params_weighted({g["h1"]: 0.1,
                                                    g["h2"]: 0.5}, regkit.l1)
    np.testing.assert_allclose(
        float(term.eval()), 0.1 * abs(V1).sum() + 0.5 * abs(V2).sum(),
        rtol=1e-5)
    # an activity term on a hidden unit, by role
    term = regkit.HiddenL1(weight=1.0).loss(g["p"], regkit.get_outputs(g["p"]))
    fn = backend.function([g["x"]], term)
    z2 = h1 @ V2 + g["c2"].get_value()
    expected = abs(h1).mean(axis=0).sum() + abs(np.maximum(z2, 0)).mean(
        axis=0).sum()
    np.testing.assert_allclose(float(fn(x)), expected, rtol=1e-4)


def test_hidden_dropout_on_an_unnamed_graph_drops_the_units():
    g = _unnamed_mlp()
    regs = regkit.from_kwargs(g["loss"], hidden_dropout=0.5,
                              output_noise=0.1, rng=3)
    assert list(regs[0].pattern) == ["dense1:out", "dense2:out"]
    assert list(regs[1].pattern) == ["dense3:out"]
    graph = regkit.apply_regularizers(g["p"], regs[:1])
    train = backend.function([g["x"]], graph.train,
                             updates=graph.updates)
    x = sample_x()[:1]  # batch size 1
    infer = backend.function([g["x"]], g["p"])
    first, second = train(x), train(x)
    assert not np.allclose(first, second)  # fresh masks, call after call
    # a dropped unit: the prediction differs from the inference graph's
    assert not np.allclose(first, infer(x))
    # the inference graph (deterministic) is the graph itself, by both
    # routes
    np.testing.assert_allclose(backend.function(
        [g["x"]], graph.inference)(x), infer(x), rtol=1e-6)
    np.testing.assert_allclose(
        backend.function([g["x"]], regkit.get_output(
            g["p"], regularizers=regs, deterministic=True))(x), infer(x),
        rtol=1e-6)


def test_a_named_variable_is_the_layer_of_its_unit():
    g = _unnamed_mlp()
    g["h1"].name = "h1"
    assert [name for name, _ in _named_roles(g["p"])] == [
        "x", "h1", "dense1", "dense2"]
    assert [n for n, _ in regkit.named_params(g["p"])][:2] == ["h1.0",
                                                              "h1.1"]
    # a name inside a unit (its pre-activation) takes the unit's place
    x = T.matrix("x")
    W = backend.shared(np.ones((3, 2)))
    z = T.dot(x, W)
    z.name = "z"
    out = T.tanh(z) * 2
    assert [name for name, _ in _named_roles(out)] == ["x", "z", "variable1"]


def test_what_is_not_a_unit():
    x = T.matrix("x")
    W1 = backend.shared(np.ones((3, 3)))
    W2 = backend.shared(np.ones((3, 3)))
    # a product of weights alone (a factorized weight) computes no units
    prod = T.dot(W1, W2)
    out = T.dot(x, prod)  # ...but the data times it does
    assert [name for name, _ in _named_roles(out)] == ["x", "dense1"]
    assert [n for n, _ in regkit.named_params(out)] == ["dense1.0",
                                                         "dense1.1"]
    # a product of two data variables has no weight
    y = T.matrix("y")
    assert [name for name, _ in _named_roles(T.dot(x, y) + 1)] == [
        "x", "y", "variable1"]
    # a parametrized weight (an expression of shared variables) is one
    norm = T.sqrt((W1 ** 2).sum(axis=0))
    h = T.tanh(T.dot(x, W1 / norm))
    out = T.dot(h, W2)
    assert [name for name, _ in _named_roles(out)] == ["x", "dense1",
                                                        "dense2"]
    # a hand-written dropout mask after a unit is not part of it
    mask = backend.bernoulli((2, 3), 0.5, backend.floatX,
                             np.random.SeedSequence(0))
    h = T.tanh(T.dot(x, W1))
    out = T.dot(h * mask, W2)
    assert [(name, role) for name, role in _named_roles(out)] == [
        ("x", "input"), ("dense1", "hidden"), ("dense2", "output")]


def test_a_residual_branch_is_a_unit_and_the_sum_is_internal():
    x = T.matrix("x")
    rng = np.random.default_rng(0)
    W, V = (backend.shared(rng.normal(size=(3, 3))) for _ in range(2))
    branch = T.tanh(T.dot(x, W))
    res = x + branch
    assert [name for name, _ in _named_roles(res)] == ["x", "dense1",
                                                        "variable1"]
    assert regkit.get_outputs(res)["dense1:out"] is branch
    # a sum read by the next unit is a layer (Lasagne's ElemwiseSumLayer):
    # internal, so hidden dropout leaves it alone
    out = T.dot(res, V)
    assert _named_roles(out) == [("x", "input"), ("dense1", "hidden"),
                                 ("sum1", "internal"), ("dense2", "output")]
    regs = regkit.from_kwargs(out, hidden_dropout=0.5)
    assert list(regs[0].pattern) == ["dense1:out"]
    drop = regkit.StochasticDepth("sum1:out", 0.5, rng=0)
    graph = regkit.apply_regularizers(out, [drop])
    X = np.ones((2, 3))
    infer = backend.function([x], graph.inference)(X)
    # at inference the branch is scaled by its survival probability
    np.testing.assert_allclose(infer, (X + 0.5 * np.tanh(
        X @ W.get_value())) @ V.get_value())
    train = backend.function([x], graph.train, updates=graph.updates)
    # the branch dropped or kept, call after call
    runs = [train(X) for _ in range(8)]
    assert any(not np.allclose(run, infer) for run in runs)


def test_a_units_boundary_is_where_the_loss_begins():
    g = _unnamed_mlp()
    y = T.matrix("y")
    # log(p) is the loss's, not the unit's: output terms see p itself
    losses = [-T.mean(T.sum(y * T.log(g["p"]), axis=1)),
              -T.mean(T.log(g["p"] + 1e-8)),
              T.mean((g["p"] - 1) ** 2)]
    for loss in losses:
        assert regkit.get_outputs(loss)["dense3:out"] is g["p"]
    # a constant target: the product itself is the output unit
    z = T.dot(g["h2"], g["V3"])
    loss = T.mean((z - 1) ** 2)
    assert regkit.get_outputs(loss)["dense3:out"] is z
    # and an output term on it equals the one given the prediction
    x = sample_x()
    for network in (g["p"], losses[0]):
        term = regkit.ConfidencePenalty(weight=1.0).loss(
            network, regkit.get_outputs(network))
        p = backend.function([g["x"]], g["p"])(x)
        np.testing.assert_allclose(
            float(backend.function([g["x"]], term)(x)),
            (p * np.log(p)).sum(axis=1).mean(), rtol=1e-5)


def test_units_of_other_forms():
    rng = np.random.default_rng(1)
    W1 = backend.shared(rng.normal(size=(4, 5)))
    b1 = backend.shared(np.zeros(5))
    V = backend.shared(rng.normal(size=(2, 5)))
    W2 = backend.shared(rng.normal(size=(5, 3)))
    x, z = T.matrix("x"), T.matrix("z")
    # two products added are one unit (two weights: numbered)
    out = T.tanh(T.dot(x, W1) + T.dot(z, V) + b1)
    assert _named_roles(out) == [("x", "input"), ("z", "input"),
                                 ("dense1", "output")]
    assert [n for n, _ in regkit.named_params(out)] == [
        "dense1.0", "dense1.1", "dense1.b"]
    # dot of a 3-D tensor: the unit is outside the reshapes
    x3 = T.tensor3("x3")
    h = T.tanh(T.dot(x3, W1) + b1)
    out = T.dot(h, W2)
    assert _named_roles(out) == [("x3", "input"), ("dense1", "hidden"),
                                 ("dense2", "output")]
    assert regkit.get_outputs(out)["dense1:out"] is h
    assert [n for n, _ in regkit.named_params(out)] == [
        "dense1.W", "dense1.b", "dense2.W"]
    # batch normalization reads the unit's own statistics: part of it
    g, beta = backend.shared(np.ones(5)), backend.shared(np.zeros(5))
    a = T.dot(x, W1)
    h = T.tanh(g * (a - a.mean(0)) / T.sqrt(a.var(0) + 1e-5) + beta)
    out = T.dot(h, W2)
    assert regkit.get_outputs(out)["dense1:out"] is h
    assert [n for n, _ in regkit.named_params(out)] == [
        "dense1.0", "dense1.W", "dense1.b", "dense2.W"]
    # a vector weight (a binary classifier's last layer)
    w, c = backend.shared(rng.normal(size=5)), backend.shared(np.zeros(()))
    out = backend.sigmoid(T.dot(T.tanh(T.dot(x, W1)), w) + c)
    assert _named_roles(out) == [("x", "input"), ("dense1", "hidden"),
                                 ("dense2", "output")]
    assert [n for n, _ in regkit.named_params(out)][-2:] == ["dense2.W",
                                                             "dense2.b"]
    # float32 and batch size 1: the same units
    x32 = T.matrix("x32", dtype="float32")
    W32 = backend.shared(np.ones((4, 2), "float32"))
    out = T.tanh(T.dot(x32, W32))
    assert _named_roles(out) == [("x32", "input"), ("dense1", "output")]
    assert backend.function([x32], out)(np.ones((1, 4), "float32")).shape \
        == (1, 2)


def test_weighted_keys_on_a_named_graph_stop_at_each_other_only():
    # a key's parameters run to the next key, past unnamed units
    rng = np.random.default_rng(2)
    W1, W2, W3 = (backend.shared(rng.normal(size=shape), name=name)
                  for shape, name in [((4, 5), "W1"), ((5, 5), "W2"),
                                      ((5, 2), "W3")])
    x = T.matrix("x")
    h1 = T.tanh(T.dot(x, W1))
    h1.name = "h1"
    out = T.dot(T.tanh(T.dot(h1, W2)), W3)
    out.name = "out"
    term = regkit.regularize_layer_params_weighted({h1: 0.1, out: 0.2},
                                                   regkit.l2)
    sq = [(W.get_value() ** 2).sum() for W in (W1, W2, W3)]
    np.testing.assert_allclose(float(term.eval()),
                               0.1 * sq[0] + 0.2 * (sq[1] + sq[2]))


def test_units_are_found_in_a_long_graph_without_recursion():
    # 1,500 units, plain and residual: the walk is iterative
    x = T.matrix("x")
    h = x
    for _ in range(1500):
        h = T.tanh(T.dot(h, backend.shared(np.eye(2))) + backend.shared(
            np.zeros(2)))
    names = _named_roles(h)
    assert len(names) == 1501 and names[-1] == ("dense1500", "output")
    assert names[-2] == ("dense1499", "hidden")
    h = x
    for _ in range(1500):
        h = h + T.tanh(T.dot(h, backend.shared(np.eye(2))))
    names = _named_roles(h)
    assert names[:4] == [("x", "input"), ("dense1", "hidden"),
                         ("sum1", "internal"), ("dense2", "hidden")]
    assert len(names) == 1 + 1500 + 1499 + 1


def test_unit_names_are_the_same_in_a_fresh_process(tmp_path):
    script = tmp_path / "units.py"
    script.write_text(
        "import json, sys\n"
        "sys.path.insert(0, %r)\n"
        "from layers.test_graph import _unnamed_mlp\n"
        "import regkit\n"
        "g = _unnamed_mlp()\n"
        "regs = regkit.from_kwargs(g['loss'], hidden_dropout=0.5)\n"
        "print(json.dumps([[n for n, _ in regkit.named_params(g['loss'])],"
        " list(regs[0].pattern)]))\n"
        % str(__import__("os").path.dirname(
            __import__("os").path.dirname(__file__))))
    g = _unnamed_mlp()
    here = [[n for n, _ in regkit.named_params(g["loss"])],
            list(regkit.from_kwargs(g["loss"], hidden_dropout=0.5)[0].pattern)]
    assert run_fresh(script) == here


def test_a_convolution_is_a_unit():
    conv2d = getattr(getattr(T, "nnet", None), "conv2d", None)
    if conv2d is None:  # PyTensor 3 has no 2-D convolution Op
        import pytest
        pytest.skip("no conv2d in %s" % backend.NAME)
    rng = np.random.default_rng(3)
    x = T.tensor4("images")
    K = backend.shared(rng.normal(size=(2, 1, 3, 3)))
    c = backend.shared(np.zeros(2))
    W = backend.shared(rng.normal(size=(2 * 2 * 2, 3)))
    h = T.maximum(conv2d(x, K) + c.dimshuffle("x", 0, "x", "x"), 0)
    out = T.dot(h.flatten(2), W)
    assert _named_roles(out) == [("images", "input"), ("conv1", "hidden"),
                                 ("dense1", "output")]
    assert [n for n, _ in regkit.named_params(out)] == [
        "conv1.W", "conv1.b", "dense1.W"]
    assert regkit.get_outputs(out)["conv1:out"] is h


def test_a_residual_or_gated_block_keeps_the_unit_it_reads():
    rng = np.random.default_rng(4)
    W1, W2, W3 = (backend.shared(rng.normal(size=shape))
                  for shape in [(4, 8), (8, 8), (8, 3)])
    b1, b2 = backend.shared(np.zeros(8)), backend.shared(np.zeros(8))
    x = T.matrix("x")
    h1 = T.tanh(T.dot(x, W1) + b1)
    for branch in (T.maximum(T.dot(h1, W2) + b2, 0),    # a residual block
                   T.dot(T.maximum(h1, 0), W2) + b2):   # pre-activation
        h2 = h1 + branch
        out = backend.softmax(T.dot(h2, W3))
        assert _named_roles(out) == [
            ("x", "input"), ("dense1", "hidden"), ("dense2", "hidden"),
            ("sum1", "internal"), ("dense3", "output")]
        outputs = regkit.get_outputs(out)
        assert outputs["dense1:out"] is h1 and outputs["sum1:out"] is h2
        assert regkit.named_params(out) == [
            ("dense1.W", W1), ("dense1.b", b1), ("dense2.W", W2),
            ("dense2.b", b2), ("dense3.W", W3)]
    # a gate reads the unit and another unit: both are layers
    gate = backend.sigmoid(T.dot(h1, W2) + b2)
    out = T.dot(h1 * gate, W3)
    assert [name for name, _ in _named_roles(out)] == [
        "x", "dense1", "dense2", "dense3"]
    assert regkit.get_outputs(out)["dense2:out"] is gate


def test_a_loss_that_reads_inside_a_unit_leaves_it_whole():
    g = _unnamed_mlp()
    y = g["y"]
    nll = T.mean(-T.log(g["p"][T.arange(y.shape[0]), y]))
    expected = [("x", "input"), ("dense1", "hidden"), ("dense2", "hidden"),
                ("dense3", "output")]
    # an activity term on a hidden unit in the loss: still hidden
    for loss in (nll + 1e-3 * abs(g["h2"]).sum(),
                 nll + 1e-3 * (g["h2"] ** 2).sum()):
        roles = _named_roles(loss)
        assert [r for r in roles if r[1] != "input" or r[0] == "x"][
            :4] == expected
        assert regkit.get_outputs(loss)["dense2:out"] is g["h2"]
    # a stable cross-entropy from the logits (log-sum-exp), and the
    # binary one with softplus: the logits are the output unit
    z = T.dot(g["h2"], g["V3"])
    lse = T.mean(T.log(T.exp(z).sum(axis=1)) - z[T.arange(y.shape[0]), y])
    assert regkit.get_outputs(lse)["dense3:out"] is z
    assert [n for n, _ in regkit.named_params(lse)][-1] == "dense3.W"
    t = T.matrix("t")
    z1 = T.dot(g["h2"], g["V3"][:, :1])
    bce = T.mean(T.nnet.softplus(z1) - t * z1) if backend.NAME == "theano" \
        else T.mean(T.softplus(z1) - t * z1)
    assert regkit.get_outputs(bce)["dense3:out"] is z1


def test_theano_pooling_and_mrg_dropout_by_hand():
    if backend.NAME != "theano":
        import pytest
        pytest.skip("Theano's pool_2d and MRG streams")
    from theano.sandbox.rng_mrg import MRG_RandomStreams
    from theano.tensor.signal import pool
    rng = np.random.default_rng(5)
    # the deeplearning.net LeNet layout: conv, pool, then bias and tanh
    x = T.tensor4("x")
    K = backend.shared(rng.normal(size=(4, 1, 3, 3)))
    c = backend.shared(np.zeros(4))
    h = T.tanh(pool.pool_2d(T.nnet.conv2d(x, K), (2, 2), ignore_border=True)
               + c.dimshuffle("x", 0, "x", "x"))
    W = backend.shared(rng.normal(size=(4 * 3 * 3, 2)))
    out = T.dot(h.flatten(2), W)
    assert regkit.named_params(out) == [("conv1.W", K), ("conv1.b", c),
                                        ("dense1.W", W)]
    assert regkit.get_outputs(out)["conv1:out"] is h
    # a dropout mask drawn by MRG streams (an integer state) ends the unit
    xm = T.matrix("xm")
    Wa = backend.shared(rng.normal(size=(5, 8)))
    ha = T.nnet.relu(T.dot(xm, Wa))
    mask = MRG_RandomStreams(1).binomial(n=1, p=0.5, size=ha.shape,
                                         dtype=backend.floatX)
    out = T.dot(ha * mask, backend.shared(rng.normal(size=(8, 2))))
    assert regkit.get_outputs(out)["dense1:out"] is ha


def test_names_the_library_gives_are_not_layers():
    # scan names its sequences' slices "X[0:]"; x.T is "x.T"
    x = T.matrix("x")
    sliced, moved = 2 * x, x.T * 3
    sliced.name, moved.name = "x[0:]", "x.T"
    assert [name for name, _ in _named_roles(sliced + moved.T)] == [
        "x", "variable1"]


def test_roles_beside_a_loss_metrics_targets_and_logits():
    g = _unnamed_mlp()
    y, p = g["y"], g["p"]
    loss = T.mean(-T.log(p[T.arange(y.shape[0]), y]))
    # an argmax (and a metric on it) beside the loss: the probabilities
    # stay the output, the decisions are internal (no noise on integers)
    prediction = T.argmax(p, axis=1)
    correct = T.eq(prediction, y)
    correct.name = "correct"
    for network in ([loss, prediction], [loss, correct.mean()]):
        roles = dict(_named_roles(network))
        assert roles["dense3"] == "output" and roles["dense2"] == "hidden"
        regs = regkit.from_kwargs(network, hidden_dropout=0.5,
                                  output_noise=0.1, input_noise=0.1)
        assert [list(reg.pattern) for reg in regs] == [
            ["dense1:out", "dense2:out"], ["dense3:out"], ["x:out"]]
    # a target computed from the labels by a named step: the loss's
    onehot = T.cast(T.eq(y.dimshuffle(0, "x"), T.arange(3).dimshuffle(
        "x", 0)), backend.floatX)
    onehot.name = "onehot"
    roles = dict(_named_roles(-T.mean(T.sum(onehot * T.log(p), axis=1))))
    assert roles["y"] == roles["onehot"] == "internal"
    assert roles["x"] == "input" and roles["dense3"] == "output"
    # an input added to the prediction is the model's (a baseline)
    base, target = T.vector("base"), T.vector("target")
    pred = base + T.dot(g["h2"], g["V3"][:, 0])
    roles = dict(_named_roles(T.mean((pred - target) ** 2)))
    assert roles["base"] == "input" and roles["target"] == "internal"


def test_a_loss_on_the_logits_beside_the_probabilities():
    # [p, loss] where the loss reads the logits: the logits are the unit,
    # so output noise reaches the training loss
    g = _unnamed_mlp()
    y = g["y"]
    z = T.dot(g["h2"], g["V3"])
    p = backend.softmax(z)
    loss = T.mean(T.log(T.exp(z).sum(axis=1)) - z[T.arange(y.shape[0]), y])
    outputs = regkit.get_outputs([p, loss])
    assert outputs["dense3:out"] is z
    regs = regkit.from_kwargs([p, loss], output_noise=1.0, rng=0)
    graph = regkit.apply_regularizers([p, loss], regs)
    train = backend.function([g["x"], y], graph.train[1],
                             updates=graph.updates)
    clean = backend.function([g["x"], y], loss)
    x, labels = sample_x(), np.array([0, 1, 2, 0, 1, 2], "int32")
    assert float(train(x, labels)) != pytest.approx(float(clean(x, labels)))
