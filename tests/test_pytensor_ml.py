"""regkit on pytensor-ml models: weight penalties by pattern, activity terms
and dropout injected into its graphs, MaxNorm and decoupled weight decay on
its optimizers' updates, trained with its own compile helper; values
checked against hand-written formulas."""
import pathlib
import re

import numpy as np
import pytest

pytensor_ml = pytest.importorskip(
    "pytensor_ml", reason="pytensor-ml needs Python >= 3.12 and PyTensor "
    ">= 3.3: it is installed in the newest-PyTensor environment only")

import regkit  # noqa: E402
from regkit import backend  # noqa: E402
from pytensor_ml.activations import ReLU  # noqa: E402
from pytensor_ml.layers import (Conv2D, Flatten, Input, Linear,  # noqa: E402
                                Sequential)
from pytensor_ml.optim.rules import adam_updates, sgd_updates  # noqa: E402

T = backend.tensor


def _mlp():
    X = Input("X", shape=(None, 4))
    y = T.matrix("y")
    net = Sequential(Linear("fc1", n_in=4, n_out=8), ReLU(),
                     Linear("fc2", n_in=8, n_out=2))
    pred = net(X)
    loss = T.mean((pred - y) ** 2)
    return X, y, pred, loss


def _data():
    rng = np.random.default_rng(0)
    return (rng.normal(size=(16, 4)).astype(backend.floatX),
            rng.normal(size=(16, 2)).astype(backend.floatX))


def _values(loss):
    return {p.name: p.get_value() for p in regkit.get_all_params(loss)}


def test_the_parameters_and_outputs_of_a_pytensor_ml_model():
    X, y, pred, loss = _mlp()
    assert [name for name, _ in regkit.named_params(loss)] == [
        "fc1_W", "fc1_b", "fc2_W", "fc2_b"]
    assert [p.name for p in regkit.get_all_params(loss, regularizable=True)
            ] == ["fc1_W", "fc2_W"]
    outputs = regkit.get_outputs(loss)
    assert {"X:out", "fc1_output:out", "ReLU:out", "fc2_output:out"} <= set(
        outputs)


def test_the_audit_of_a_pytensor_ml_model():
    X, y, pred, loss = _mlp()
    regs = [regkit.WeightL2(weight=1e-4),
            regkit.DecoupledWeightDecay(weight=1e-3,
                                        tags={"trainable": True})]
    report = regkit.audit(pred, regs)
    rows = {row["name"]: row for row in report.params}
    assert list(rows) == ["fc1_W", "fc1_b", "fc2_W", "fc2_b"]
    assert rows["fc1_W"]["shape"] == (4, 8)
    assert [label for label, _ in rows["fc2_W"]["terms"]] == [
        "weight_l2", "decoupled_weight_decay"]
    assert [label for label, _ in rows["fc2_b"]["terms"]] == [
        "decoupled_weight_decay"]
    assert sum("1-D parameter" in w for w in report.warnings) == 2


def test_weight_and_activity_penalties_on_a_pytensor_ml_mlp():
    X, y, pred, loss = _mlp()
    regs = regkit.from_kwargs(loss, weight_l2={"pattern": "*_W",
                                               "weight": 1e-3},
                              weight_l1={"pattern": "fc2_W", "weight": 1e-4},
                              hidden_l1={"pattern": "ReLU:out",
                                         "weight": 1e-2})
    outputs = regkit.get_outputs(loss, regularizers=regs)
    terms = backend.function([X], [r.loss(loss, outputs) for r in regs])
    x, _ = _data()
    v = _values(loss)
    hidden = np.maximum(x @ v["fc1_W"] + v["fc1_b"], 0)
    l2, l1, activity = terms(x)
    np.testing.assert_allclose(l2, (v["fc1_W"] ** 2).sum()
                               + (v["fc2_W"] ** 2).sum(), rtol=1e-5)
    np.testing.assert_allclose(l1, np.abs(v["fc2_W"]).sum(), rtol=1e-5)
    np.testing.assert_allclose(activity, hidden.sum(axis=1).mean(),
                               rtol=1e-5)


def test_training_a_pytensor_ml_mlp_with_dropout_maxnorm_and_decay():
    X, y, pred, loss = _mlp()
    regs = [regkit.BernoulliDropout("ReLU:out", 0.5, rng=1),
            regkit.WeightL2("*_W", 1e-3)]
    graph = regkit.apply_regularizers(loss, regs)
    train_loss = graph.train + 1e-3 * regs[1].loss(loss, graph.outputs)
    params = regkit.get_all_params(loss, trainable=True)
    updates = sgd_updates(train_loss, params, learning_rate=0.1)
    updates = regkit.apply_update_hooks(
        [regkit.DecoupledWeightDecay(weight=0.01), regkit.MaxNorm(weight=0.5)],
        loss, updates)
    train = pytensor_ml.function([X, y], train_loss,
                                 updates=list(updates.items()) + graph.updates)
    evaluate = pytensor_ml.function([X, y], loss)
    x, t = _data()
    before = float(evaluate(x, t))
    losses = [float(train(x, t)) for _ in range(5)]
    assert len(set(losses)) == 5  # it trains, with fresh dropout masks
    assert float(evaluate(x, t)) < before
    for name in ("fc1_W", "fc2_W"):
        W = _values(loss)[name]
        # the decay, then MaxNorm (the hooks run in order): every unit's
        # incoming weights within the bound
        assert (np.sqrt((W ** 2).sum(axis=0)) <= 0.5 + 1e-6).all()
    # the inference graph is the model's own, without dropout
    assert graph.inference is loss
    np.testing.assert_array_equal(evaluate(x, t), evaluate(x, t))


def test_decoupled_weight_decay_on_pytensor_ml_adam():
    X, y, pred, loss = _mlp()
    params = regkit.get_all_params(loss, trainable=True)
    start = _values(loss)
    plain = adam_updates(loss, params, learning_rate=1e-2)
    decayed = regkit.apply_update_hooks(
        [regkit.DecoupledWeightDecay(weight=0.1)], loss, plain)
    x, t = _data()
    new = backend.function([X, y], [decayed[p] for p in params])(x, t)
    old = backend.function([X, y], [plain[p] for p in params])(x, t)
    for p, a, b in zip(params, new, old):
        if p.name.endswith("_W"):  # p_new - 0.1 * p
            np.testing.assert_allclose(a, b - 0.1 * start[p.name],
                                       rtol=1e-5, atol=1e-7)
        else:  # biases are not decayed
            np.testing.assert_array_equal(a, b)


def test_a_small_pytensor_ml_conv_net():
    X = Input("img", shape=(None, 6, 6, 1))  # pytensor-ml is channels-last
    net = Sequential(Conv2D("conv1", in_channels=1, out_channels=3,
                            kernel_size=3), ReLU(), Flatten,
                     Linear("fc", n_in=3 * 4 * 4, n_out=2))
    loss = T.mean(net(X) ** 2)
    W = [p for p in regkit.get_all_params(loss) if p.name == "conv1_W"][0]
    assert W.get_value().shape == (3, 3, 1, 3)  # (kh, kw, in, out)
    term = regkit.WeightL2("conv*", 1.0).loss(loss, {})
    np.testing.assert_allclose(float(term.eval()),
                               (W.get_value() ** 2).sum(), rtol=1e-5)
    params = regkit.get_all_params(loss, trainable=True)
    # its kernels hold the filters on the last axis, not the first as in
    # Lasagne: one norm per filter is over axes 0, 1, 2
    updates = regkit.apply_update_hooks(
        [regkit.MaxNorm("conv1_W", 0.1, norm_axes=(0, 1, 2))], loss,
        sgd_updates(loss, params, learning_rate=0.1))
    step = pytensor_ml.function([X], loss, updates=updates)
    step(np.random.default_rng(2).normal(size=(4, 6, 6, 1)).astype(
        backend.floatX))
    norms = np.sqrt((W.get_value() ** 2).sum(axis=(0, 1, 2)))
    np.testing.assert_allclose(norms, 0.1, rtol=1e-4)


def test_the_guide_example_runs():
    page = pathlib.Path(__file__).parents[1] / "docs" / "guide" \
        / "networks.rst"
    text = page.read_text()
    section = text[text.index("\nA pytensor-ml model\n"):]
    block = re.search(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)",
                      section).group(1)
    namespace = {}
    exec(compile("\n".join(line[4:] for line in block.splitlines()),
                 str(page), "exec"), namespace)
    losses = namespace["losses"]
    assert len(losses) == 5 and np.isfinite(losses).all()
    assert len(set(losses)) == 5


def test_parametrizations_on_a_pytensor_ml_mlp():
    # Orthogonal on the first layer, WeightNorm on the second, trained with
    # pytensor-ml's Adam and compiled by pytensor_ml.function; bake gives
    # the model back its own weights
    X, y, pred, loss = _mlp()
    shared = {p.name: p for p in regkit.get_all_params(loss)}
    q, _ = np.linalg.qr(np.random.default_rng(3).standard_normal((8, 8)))
    w1 = shared["fc1_W"]
    rows, cols = w1.get_value().shape
    w1.set_value((q[:rows, :cols] if rows >= cols else q[:cols, :rows].T)
                 .astype(w1.dtype))
    x, t = _data()
    predict = pytensor_ml.function([X], pred)
    before = np.asarray(predict(x))
    p = regkit.parametrize(loss, [regkit.Orthogonal("fc1_W"),
                                  regkit.WeightNorm("fc2_W", axis=1)])
    assert [w.name for w in p.replacements] == ["fc1_W", "fc2_W"]
    rebuilt = pytensor_ml.function([X], p.apply(pred))
    # the same function at creation
    np.testing.assert_allclose(rebuilt(x), before, rtol=1e-5, atol=1e-6)
    train_loss = p.apply(loss)
    params = p.trainable(regkit.get_all_params(loss, trainable=True))
    assert w1 not in params and shared["fc2_W"] not in params
    updates = adam_updates(train_loss, params, learning_rate=1e-2)
    train = pytensor_ml.function([X, y], train_loss, updates=updates)
    losses = [float(train(x, t)) for _ in range(20)]
    assert losses[-1] < losses[0]
    w = p.replacements[w1].eval()
    small = w if w.shape[0] >= w.shape[1] else w.T
    tol = 1e-5 if w.dtype == np.float32 else 1e-12
    assert np.abs(small.T @ small - np.eye(small.shape[1])).max() < tol
    trained = np.asarray(rebuilt(x))
    p.bake()
    np.testing.assert_allclose(predict(x), trained, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("linker", sorted(backend.linker_modes()))
def test_pytensor_ml_helpers_draw_fresh_masks_without_random_updates(
        linker):
    # regkit's draws speak PyTensor's RNGConsumerOp protocol, so
    # pytensor_ml.function and compile_train advance regkit's generators as
    # they advance their own: fresh masks on every call without
    # random_updates, the same masks with them (no duplicate update), and a
    # plain function keeps regkit's contract (the same mask on every call)
    from pytensor_ml.optim import compile_train, sgd
    if linker == "PYTORCH":
        pytest.skip("the PyTorch linker cannot differentiate a broadcast "
                    "bias (Backends page)")
    mode = backend.linker_modes()[linker]
    x, t = _data()

    start = {}

    def build():
        # each function on a new graph with the same weights: the same
        # seed, the same first mask
        X, y, pred, loss = _mlp()
        for param in regkit.get_all_params(loss):
            param.set_value(start.setdefault(param.name, param.get_value()))
        graph = regkit.apply_regularizers(
            loss, [regkit.BernoulliDropout("ReLU:out", 0.5, rng=3)])
        return X, y, graph

    def calls(fn):
        return [float(fn(x, t)) for _ in range(4)]

    X, y, graph = build()
    helper = calls(pytensor_ml.function([X, y], graph.train, mode=mode))
    assert len(set(helper)) == 4
    X, y, graph = build()
    given = calls(pytensor_ml.function([X, y], graph.train, mode=mode,
                                       updates=graph.updates))
    assert len(set(given)) == 4
    if linker not in backend.OWN_RANDOM_STREAMS:
        # one stream either way: the collected update is the explicit one
        np.testing.assert_allclose(given, helper, rtol=1e-12)
    X, y, graph = build()
    plain = calls(backend.function([X, y], graph.train, mode=mode))
    assert len(set(plain)) == 1
    # a training step by pytensor-ml's own compile_train, the weights held
    # by a zero learning rate: only the masks change the loss
    X, y, graph = build()
    step = compile_train(graph.train, sgd(0.0), inputs=[X, y],
                         compile_kwargs=dict(mode=mode))
    losses = calls(step)
    assert len(set(losses)) == 4
    if linker not in backend.OWN_RANDOM_STREAMS:
        np.testing.assert_allclose(losses, helper, rtol=1e-12)
