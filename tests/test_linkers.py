"""The same training on every linker of the backend.

A training function with penalties, dropout and noise must give the same
losses step after step under every linker (`backend.linker_modes`), and the
same losses on both backends (the expected values below are checked by each
backend's run of this file).  Random draws must run once per call, repeat
when the function has no random updates, and never depend on another
function's calls.
"""
from types import SimpleNamespace

import numpy as np
import pytest

import regkit
from regkit import backend
from regkit.backend import random

T = backend.tensor
MODES = backend.linker_modes()
STEPS = 6
# The losses of `_training` for STEPS steps (float64), the same on Theano
# and on PyTensor, under every linker.
EXPECTED_LOSSES = [1.2931312, 1.2513010, 1.2630347, 0.9087161, 1.0795184,
                   0.8978484]
# PyTensor's PyTorch linker (PyTensor 3.0.7 to 3.3.8 with torch 2.13) cannot
# compile the gradient of a bias broadcast over the batch, nor that of
# `maximum` (see test_pytorch_linker_gradient_limit): under it the network
# has tanh units and no biases, and is compared with the same network on C.
PLAIN_NETWORK = ("PYTORCH",)
# MLX computes exp, log1p, cos... of float64 at float32 precision (cos off
# by 2e-6 on the CPU, MLX 0.32.4): its numbers match the others to that.
RTOL = dict(MLX=1e-6)
# MLX's arange takes no symbolic length, so under it the loss reads the
# labels as one-hot rows instead of prob[arange(batch), y] (the same
# numbers; PyTensor's PyTorch linker cannot compile the one-hot form).
ONE_HOT_LOSS = ("MLX",)


def _variant(name):
    """The form of `_training` a linker compiles."""
    return dict(plain=name in PLAIN_NETWORK, one_hot=name in ONE_HOT_LOSS)


def _data():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((16, 20))
    y = rng.integers(0, 3, 16).astype("int32")
    return X, y


def _training(seed=0, stochastic=True, plain=False, one_hot=False):
    """A 2-hidden-layer MLP with weight decay, activity sparsity, hidden
    dropout and input noise (without these two if not `stochastic`): its
    input variables, loss, SGD updates, named outputs, output layer and
    regularizers.  `plain`: tanh units and no biases (PLAIN_NETWORK);
    `one_hot`: the labels as one-hot rows in the loss (ONE_HOT_LOSS)."""
    regkit.set_rng(seed)
    units = dict(b=None, nonlinearity=regkit.nonlinearities.tanh) \
        if plain else {}
    l_in = regkit.InputLayer((None, 20), input_var=T.matrix("x"), name="in")
    hid1 = regkit.DenseLayer(l_in, 30, name="hid1", **units)
    hid2 = regkit.DenseLayer(hid1, 30, name="hid2", **units)
    out = regkit.DenseLayer(hid2, 3, name="out",
                            **dict(units,
                                   nonlinearity=regkit.nonlinearities.softmax))
    random = dict(hidden_dropout=0.5, input_noise=0.1) if stochastic \
        else {}
    regs = regkit.from_kwargs(out, weight_l2=1e-4, hidden_l1=1e-3, **random)
    outputs = regkit.get_outputs(out, regularizers=regs)
    y = T.ivector("y")
    loss = _nll(outputs["out:out"], y, one_hot) \
        + regkit.total_penalty(regs, out, outputs)
    params = regkit.get_all_params(out, trainable=True)
    updates = [(p, p - 0.1 * g)
               for p, g in zip(params, backend.grad(loss, params))]
    return SimpleNamespace(x=l_in.input_var, y=y, loss=loss, updates=updates,
                           outputs=outputs, network=out, regularizers=regs)


def _nll(prob, y, one_hot):
    """The mean negative log-likelihood of the labels `y` under `prob`;
    `one_hot`: read through one-hot rows (ONE_HOT_LOSS)."""
    if one_hot:
        rows = T.cast(T.eq(y.dimshuffle(0, "x"),
                           T.arange(3).dimshuffle("x", 0)), prob.dtype)
        return -T.mean(T.sum(T.log(prob) * rows, axis=1))
    return -T.mean(T.log(prob[T.arange(y.shape[0]), y]))


def _draw_nodes(fn):
    return [node for node in fn.maker.fgraph.toposort()
            if random._is_draw(node)]


def _losses(mode, steps=STEPS, stochastic=True, plain=False, one_hot=False):
    t = _training(stochastic=stochastic, plain=plain, one_hot=one_hot)
    fn = backend.function([t.x, t.y], t.loss, mode=mode,
                          updates=t.updates + regkit.random_updates(t.outputs))
    X, Y = _data()
    return fn, [float(fn(X, Y)) for _ in range(steps)]


@pytest.fixture(scope="module")
def reference():
    return _losses(MODES["cvm"])[1]


@pytest.mark.parametrize("name", list(MODES))
def test_penalties_give_the_same_training_on_every_linker(name):
    # without random draws every linker, JAX included, gives the same
    # losses to float rounding
    reference = _losses(MODES["cvm"], stochastic=False, **_variant(name))[1]
    losses = _losses(MODES[name], stochastic=False, **_variant(name))[1]
    np.testing.assert_allclose(losses, reference, rtol=RTOL.get(name, 1e-9))
    assert len(set(losses)) == STEPS  # it trains


@pytest.mark.parametrize("name", list(MODES))
def test_training_gives_the_same_losses_on_every_linker(name, reference):
    fn, losses = _losses(MODES[name], **_variant(name))
    # two dropouts and one noise: each drawn once per call, no copies kept
    # only to compute a shape
    assert len(_draw_nodes(fn)) == 3, _draw_nodes(fn)
    if name in backend.OWN_RANDOM_STREAMS:
        # JAX and PyTorch draw from their own generators: other masks, the
        # same contract
        assert np.isfinite(losses).all() and len(set(losses)) == STEPS
        return
    np.testing.assert_allclose(losses, reference, rtol=1e-9)
    # and on every backend: these are Theano's and PyTensor's numbers
    np.testing.assert_allclose(losses, EXPECTED_LOSSES, rtol=2e-7)


@pytest.mark.parametrize("name", list(MODES))
def test_without_random_updates_every_call_repeats_its_draws(name):
    t = _training(**_variant(name))
    X, Y = _data()
    # no parameter updates either: the same draws give the same loss
    fn = backend.function([t.x, t.y], t.loss, mode=MODES[name])
    losses = [float(fn(X, Y)) for _ in range(4)]
    assert losses == [losses[0]] * 4
    if name not in backend.OWN_RANDOM_STREAMS:
        assert losses[0] == pytest.approx(EXPECTED_LOSSES[0], rel=2e-7)


@pytest.mark.parametrize("name", list(MODES))
def test_one_functions_calls_never_change_anothers_draws(name):
    X, Y = _data()
    _, alone = _losses(MODES[name], steps=4, **_variant(name))
    t = _training(**_variant(name))
    train = backend.function(
        [t.x, t.y], t.loss, mode=MODES[name],
        updates=t.updates + regkit.random_updates(t.outputs))
    look = backend.function([t.x, t.y], [t.loss, t.outputs["hid1:out"]],
                            mode=MODES[name])
    interleaved = []
    for _ in range(4):
        # a function without the updates draws the same however often it
        # is called, and its calls do not move the training function's draws
        first, second = look(X, Y)[1], look(X, Y)[1]
        np.testing.assert_array_equal(first, second)
        interleaved.append(float(train(X, Y)))
    np.testing.assert_allclose(interleaved, alone, rtol=1e-12)


@pytest.mark.parametrize("name", list(MODES))
def test_masks_change_every_call_with_random_updates(name):
    t = _training(**_variant(name))
    fn = backend.function([t.x], T.neq(t.outputs["hid1:out"], 0),
                          mode=MODES[name],
                          updates=regkit.random_updates(t.outputs))
    X, _ = _data()
    masks = [fn(X) for _ in range(3)]
    assert not np.array_equal(masks[0], masks[1])
    assert not np.array_equal(masks[1], masks[2])


@pytest.mark.parametrize("name", list(MODES))
def test_the_inference_graph_has_no_draws(name):
    t = _training(**_variant(name))
    prob = regkit.get_output(t.network, regularizers=t.regularizers,
                             deterministic=True)
    fn = backend.function([t.x], prob, mode=MODES[name])
    assert _draw_nodes(fn) == []
    X, _ = _data()
    np.testing.assert_array_equal(fn(X), fn(X))


PENALTIES = [regkit.l1, regkit.l2, regkit.elastic_net, regkit.group_lasso,
             regkit.orthogonality, regkit.total_variation,
             regkit.kl_sparsity]


@pytest.mark.parametrize("name", list(MODES))
def test_every_penalty_and_its_gradient_on_every_linker(name):
    W = T.matrix("W")
    data = np.random.default_rng(3).uniform(0.05, 0.95, (6, 4))
    outputs = []
    for penalty in PENALTIES:
        value = penalty(W)
        outputs += [value, backend.grad(value, W)]
    got = backend.function([W], outputs, mode=MODES[name])(data)
    want = backend.function([W], outputs, mode=MODES["cvm"])(data)
    for penalty, a, b in zip(PENALTIES * 2, got[::2] + got[1::2],
                             want[::2] + want[1::2]):
        np.testing.assert_allclose(a, b, rtol=1e-9, err_msg=penalty.__name__)


@pytest.mark.parametrize("name", list(MODES))
def test_every_regularizer_and_the_update_hooks_compile_and_run(name):
    t = _training(**_variant(name))
    contractive = regkit.Contractive("hid1:out", 1e-3)
    regs = t.regularizers + [regkit.HiddenL2(weight=1e-3),
                             regkit.KLSparsity("hid2:out", 1e-3),
                             regkit.WeightL1(weight=1e-5), contractive]
    loss = t.loss + regkit.total_penalty(regs[-4:], t.network, t.outputs)
    params = regkit.get_all_params(t.network, trainable=True)
    sgd = [(p, p - 0.1 * g) for p, g in zip(params, backend.grad(loss,
                                                                  params))]
    updates = regkit.apply_update_hooks([regkit.MaxNorm(weight=0.5)],
                                        t.network, sgd)
    fn = backend.function([t.x, t.y], loss, mode=MODES[name],
                          updates=list(updates.items())
                          + regkit.random_updates(t.outputs))
    X, Y = _data()
    losses = [float(fn(X, Y)) for _ in range(3)]
    assert np.isfinite(losses).all() and len(set(losses)) == 3
    W = t.network.W.get_value()
    assert (np.sqrt((W ** 2).sum(axis=0)) <= 0.5 + 1e-6).all()
    # the recurrent terms on a (batch, time, features) tensor (of a known
    # shape under PyTorch: see PLAIN_NETWORK)
    h = T.tensor("h", dtype="float64", shape=(2, 5, 3)) \
        if name in PLAIN_NETWORK else T.tensor3("h")
    states = np.random.default_rng(0).normal(size=(2, 5, 3))
    terms = [cls("rnn:out").loss(t.network, {"rnn:out": h})
             for cls in (regkit.RecurrentNorm, regkit.RecurrentState)]
    got = backend.function([h], terms, mode=MODES[name])(states)
    want = backend.function([h], terms, mode=MODES["cvm"])(states)
    np.testing.assert_allclose(got, want, rtol=1e-9)


def _rnn_input():
    return np.random.default_rng(2).standard_normal((4, 3, 5))


@pytest.mark.parametrize("name", list(MODES))
def test_variational_dropout_in_scan_keeps_one_mask_per_call(name):
    x = T.tensor3("x")  # (time, batch, features)
    mask = regkit.dropout_mask(x[0], 0.5, rng=4)
    steps, _ = backend.scan(lambda x_t, m: x_t * m, sequences=[x],
                            non_sequences=[mask])
    fn = backend.function([x], T.neq(steps, 0), mode=MODES[name],
                          updates=regkit.random_updates(steps))
    frozen = backend.function([x], T.neq(steps, 0), mode=MODES[name])
    X = _rnn_input()
    calls = [fn(X) for _ in range(3)]
    for kept in calls:
        # the same units dropped at every time step
        assert all(np.array_equal(kept[0], kept[t]) for t in range(4))
        assert 0 < kept.mean() < 1
    assert not np.array_equal(calls[0], calls[1])
    assert not np.array_equal(calls[1], calls[2])
    np.testing.assert_array_equal(frozen(X), frozen(X))


@pytest.mark.parametrize("name", list(MODES))
def test_draws_inside_a_scan_step(name):
    if name in ("PYTORCH", "MLX"):
        pytest.skip("PyTensor's %s linker cannot compile Scan" % name)
    x = T.tensor3("x")

    def step(x_t):
        dropped = x_t * backend.bernoulli(x_t.shape, 0.5, x_t.dtype,
                                          np.random.SeedSequence(6))
        # the step returns the updates its draws need; scan hands them on
        return dropped, regkit.random_updates(dropped)
    steps, updates = backend.scan(step, sequences=[x])
    # random_updates of the scan's outputs finds the generator the step
    # advances: the same update scan returned
    found = regkit.random_updates(steps)
    assert [rng for rng, _ in found] == list(dict(updates))
    fn = backend.function([x], T.neq(steps, 0), mode=MODES[name],
                          updates=found)
    X = _rnn_input()
    first, second = fn(X), fn(X)
    assert not np.array_equal(first[0], first[1])  # a mask per step
    assert not np.array_equal(first, second)  # and per call


@pytest.mark.skipif("PYTORCH" not in MODES, reason="torch is not installed")
@pytest.mark.xfail(raises=TypeError, strict=True,
                   reason="PyTensor's PyTorch linker: a shape check yields a "
                          "Python bool (see the Backends page)")
def test_pytorch_linker_gradient_limit():
    # Why PLAIN_NETWORK exists, without regkit: the gradient of a bias
    # broadcast over the batch.  When this passes, PyTensor has fixed it:
    # drop PLAIN_NETWORK and update the Backends page.
    x = T.matrix("x")
    W = backend.shared(np.ones((2, 3)))
    b = backend.shared(np.zeros(3))
    loss = backend.softmax(T.dot(x, W) + b)[:, 0].sum()
    backend.function([x], backend.grad(loss, W), mode="PYTORCH")(
        np.ones((4, 2)))


# --- the same network written by hand, nothing named -------------------------
# regkit reads its units as the layers of `_training` (dense1, dense2 hidden,
# dense3 the output): the same penalties give the same numbers, and the
# role keywords put dropout and noise on the same places.

def _hand_written(seed=0, stochastic=True, plain=False, one_hot=False):
    """`_training`'s network and regularizers, written with backend.tensor
    and unnamed shared variables (the layers' starting values), the
    regularizers chosen by from_kwargs on the loss."""
    layers = _training(seed, stochastic=False, plain=plain)
    values = [p.get_value() for p in regkit.get_all_params(
        layers.network, trainable=True)]
    regkit.set_rng(seed)
    x, y = T.matrix("x"), T.ivector("y")
    shared = [backend.shared(v) for v in values]
    h = x
    for index in range(3):
        if plain:
            z = T.dot(h, shared[index])
        else:
            z = T.dot(h, shared[2 * index]) + shared[2 * index + 1]
        h = backend.softmax(z) if index == 2 else (
            T.tanh(z) if plain else T.maximum(z, 0))
    nll = _nll(h, y, one_hot)
    random = dict(hidden_dropout=0.5, input_noise=0.1) if stochastic \
        else {}
    regs = regkit.from_kwargs(nll, weight_l2=1e-4, hidden_l1=1e-3, **random)
    graph = regkit.apply_regularizers(nll, regs)
    loss = graph.train + regkit.total_penalty(regs, nll, graph.outputs)
    updates = [(p, p - 0.1 * g) for p, g in zip(shared,
                                                 backend.grad(loss, shared))]
    return SimpleNamespace(x=x, y=y, loss=loss, updates=updates, graph=graph,
                           regularizers=regs)


@pytest.mark.parametrize("name", list(MODES))
def test_a_hand_written_network_trains_as_its_layers_on_every_linker(name):
    X, Y = _data()
    t = _hand_written(stochastic=False, **_variant(name))
    # weight_l2 and hidden_l1 by their default selection (every weight,
    # the hidden units): the same numbers as on the layers
    fn = backend.function([t.x, t.y], t.loss, updates=t.updates,
                          mode=MODES[name])
    losses = [float(fn(X, Y)) for _ in range(STEPS)]
    reference = _losses(MODES["cvm"], stochastic=False, **_variant(name))[1]
    np.testing.assert_allclose(losses, reference, rtol=RTOL.get(name, 1e-9))
    # with dropout and noise: drawn once per call, fresh with the random
    # updates, repeated without them, the same as the C linker's
    t = _hand_written(**_variant(name))
    assert [list(reg.pattern) for reg in t.regularizers[2:]] == [
        ["dense1:out", "dense2:out"], ["x:out"]]
    train = backend.function([t.x, t.y], t.loss, mode=MODES[name],
                             updates=t.updates + t.graph.updates)
    assert len(_draw_nodes(train)) == 3, _draw_nodes(train)
    losses = [float(train(X, Y)) for _ in range(STEPS)]
    assert np.isfinite(losses).all() and len(set(losses)) == STEPS
    if name not in backend.OWN_RANDOM_STREAMS:
        t = _hand_written(**_variant(name))
        on_c = backend.function([t.x, t.y], t.loss, mode=MODES["cvm"],
                                updates=t.updates + t.graph.updates)
        np.testing.assert_allclose(
            losses, [float(on_c(X, Y)) for _ in range(STEPS)],
            rtol=RTOL.get(name, 1e-9))
    t = _hand_written(**_variant(name))
    frozen = backend.function([t.x, t.y], t.loss, mode=MODES[name])
    assert len(set(float(frozen(X, Y)) for _ in range(3))) == 1
