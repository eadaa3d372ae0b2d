"""What a training script calls: total_penalty, apply_update_hooks and
ParamUpdates (regkit/regularizers/training.py)."""
import json
import pickle

import numpy as np
import pytest

import regkit
from regkit import backend
from regkit.layers import DenseLayer, InputLayer, get_outputs
from regkit.regularizers import (GaussianNoise, HiddenL1, MaxNorm,
                                 ParamUpdates, Regularizer, WeightL2,
                                 apply_update_hooks, from_kwargs,
                                 random_updates, total_penalty)

from conftest import (COMPILED, W_HID, W_OUT, X, evaluate, fixed_net,
                      hidden_values, mlp)

T = backend.tensor


def test_total_penalty_takes_all_the_layers():
    l_in, hid, out = fixed_net()
    regs = from_kwargs(out, weight_l2=1e-3, hidden_l1=0.1, hidden_l2=0.2,
                       kl_sparsity=0.1, contractive=0.01)
    outputs = get_outputs(out, regularizers=regs)
    givens = {l_in.input_var: X}
    assert float(evaluate(total_penalty(regs, [l_in, hid, out], outputs),
                          givens)) == pytest.approx(
        float(evaluate(total_penalty(regs, out, outputs), givens)))


def test_total_penalty_checks_its_arguments():
    _, _, out = fixed_net()
    outputs = get_outputs(out)
    with pytest.raises(TypeError, match="total_penalty: outputs must be the "
                       "dict"):
        total_penalty([HiddenL1()], out, None)
    with pytest.raises(TypeError, match="total_penalty: network must be a "
                       "layer"):
        total_penalty([WeightL2()], "out", outputs)
    assert total_penalty([], [out], outputs) == 0


def test_total_penalty_weights_and_dtype():
    l_in, _, out = fixed_net()
    regs = [WeightL2(weight=0.5), HiddenL1(weight=0.25), GaussianNoise()]
    outputs = get_outputs(out, regularizers=regs)
    value = evaluate(total_penalty(regs, out, outputs), {l_in.input_var: X})
    expected = 0.5 * ((W_HID ** 2).sum() + (W_OUT ** 2).sum()) \
        + 0.25 * np.abs(hidden_values()).sum(1).mean()
    assert np.isclose(value, expected)
    assert total_penalty([], out, outputs) == 0

    l32 = InputLayer((None, 2), input_var=T.fmatrix(), name="in")
    net32 = DenseLayer(l32, 2, W=np.ones((2, 2), "float32"),
                       b=np.zeros(2, "float32"), name="out")
    term = total_penalty(from_kwargs(net32, weight_l2=np.float64(0.1)),
                         net32, get_outputs(net32))
    assert term.dtype == "float32"
    with pytest.raises(TypeError, match="Regularizer"):
        total_penalty(["weight_l2"], out, outputs)


# --- scheduled and symbolic weights, penalty_terms ---------------------------

def _sq():
    return (W_HID ** 2).sum() + (W_OUT ** 2).sum()


@pytest.mark.parametrize("linker", sorted(backend.linker_modes()))
def test_a_scheduled_weight_moves_in_one_compiled_training_function(linker):
    # a warm-up of the L2 coefficient next to a constant activity term:
    # one function, the weight follows the schedule step after step, and
    # the terms add up to the total
    l_in, _, out = fixed_net()
    warm_up = regkit.schedules.Linear(0.0, 0.5, 3)
    regs = [WeightL2(weight=warm_up), HiddenL1(weight=0.25)]
    outputs = get_outputs(out, regularizers=regs)
    step = regkit.step_counter()
    terms = regkit.penalty_terms(regs, out, outputs, step=step)
    assert list(terms) == ["weight_l2", "hidden_l1"]
    fn = backend.function([l_in.input_var],
                          [total_penalty(regs, out, outputs, step=step)]
                          + list(terms.values()),
                          updates=[(step, step + 1)],
                          mode=backend.linker_modes()[linker])
    activity = 0.25 * np.abs(hidden_values()).sum(1).mean()
    for t in range(5):
        total, l2_term, l1_term = fn(X)
        np.testing.assert_allclose(l2_term, 0.5 * min(t, 3) / 3 * _sq(),
                                   rtol=1e-6)
        np.testing.assert_allclose(l1_term, activity, rtol=1e-6)
        np.testing.assert_allclose(total, l2_term + l1_term, rtol=1e-12)


def test_a_schedule_without_a_step_is_a_type_error_naming_step():
    _, _, out = fixed_net()
    regs = [WeightL2(weight=regkit.schedules.Cosine(1e-3, 0.0, 10))]
    outputs = get_outputs(out, regularizers=regs)
    for fn in (total_penalty, regkit.penalty_terms):
        with pytest.raises(TypeError, match=r"pass step="):
            fn(regs, out, outputs)
    with pytest.raises(TypeError, match="step must be an integer scalar"):
        total_penalty(regs, out, outputs, step=T.scalar("t"))


def test_a_symbolic_weight_changes_without_recompiling_and_keeps_float32():
    l32 = InputLayer((None, 2), input_var=T.fmatrix(), name="in")
    net = DenseLayer(l32, 2, W=np.ones((2, 2), "float32"),
                     b=np.zeros(2, "float32"), name="out")
    coeff = backend.shared(np.float64(0.5), name="coeff")
    step = regkit.step_counter()
    for weight in (coeff, regkit.schedules.Exponential(1.0, 0.5)):
        regs = [WeightL2(weight=weight)]
        term = total_penalty(regs, net, get_outputs(net), step=step)
        assert term.dtype == "float32"
    fn = backend.function([], total_penalty([WeightL2(weight=coeff)], net,
                                            get_outputs(net)))
    assert float(fn()) == pytest.approx(2.0)
    coeff.set_value(np.float64(0.25))
    assert float(fn()) == pytest.approx(1.0)


def test_penalty_terms_labels_zeros_and_sum():
    l_in, _, out = fixed_net()
    regs = [WeightL2(weight=0.5), GaussianNoise(), HiddenL1(weight=0.0),
            WeightL2("*.W", weight=0.1), WeightL2("nothing*", weight=1.0),
            WeightL2(weight=regkit.schedules.Constant(0.2))]
    outputs = get_outputs(out, regularizers=regs)
    with pytest.warns(UserWarning, match="nothing"):
        terms = regkit.penalty_terms(regs, out, outputs, step=0)
    assert list(terms) == ["weight_l2", "hidden_l1", "weight_l2#2",
                           "weight_l2#3", "weight_l2#4"]
    values = {k: float(evaluate(v, {l_in.input_var: X}))
              for k, v in terms.items()}
    assert values["hidden_l1"] == 0 and values["weight_l2#3"] == 0
    assert values["weight_l2"] == pytest.approx(0.5 * _sq())
    assert values["weight_l2#4"] == pytest.approx(0.2 * _sq())
    with pytest.warns(UserWarning, match="nothing"):
        total = evaluate(total_penalty(regs, out, outputs, step=0),
                         {l_in.input_var: X})
    assert total == pytest.approx(sum(values.values()), rel=1e-12)
    assert regkit.penalty_terms([GaussianNoise()], out, outputs) == {}


def test_penalty_terms_of_a_float32_network_are_all_float32():
    # the zero columns too, whatever floatX is
    x = T.fmatrix("x")
    l_in = regkit.InputLayer((None, 3), input_var=x, name="in")
    out = regkit.DenseLayer(l_in, 2, W=np.ones((3, 2), "float32"),
                            b=np.zeros(2, "float32"), name="out")
    regs = [WeightL2(weight=0.5), regkit.WeightL1(weight=0.0),
            WeightL2(weight=0.0)]
    outputs = get_outputs(out, regularizers=regs)
    terms = regkit.penalty_terms(regs, out, outputs)
    assert [term.dtype for term in terms.values()] == ["float32"] * 3


@pytest.mark.parametrize("make, error, match", [
    (lambda: regkit.StochasticDepth(
        weight=regkit.schedules.Linear(0, 0.5, 3)), TypeError,
     "weight must be a number"),
    (lambda: regkit.DropConnect(weight=backend.shared(0.5)), TypeError,
     "not by DropConnect"),
    (lambda: WeightL2(weight=regkit.schedules.Linear(1, -1, 3)), ValueError,
     "reaches -1, which WeightL2 refuses"),
    (lambda: WeightL2(weight=T.vector("w")), TypeError, "real scalar"),
    (lambda: regkit.serialize(WeightL2(weight=backend.shared(1.0))),
     TypeError, "symbolic"),
])
def test_varying_weights_are_refused_where_they_mean_nothing(make, error,
                                                             match):
    with pytest.raises(error, match=match):
        make()


def test_a_scheduled_regularizer_round_trips_and_logs_its_schedule(caplog):
    _, _, out = fixed_net()
    schedule = regkit.schedules.Linear(0, 1e-4, 1000)
    (reg,) = from_kwargs(out, weight_l2=schedule)
    assert reg.weight == schedule
    data = json.loads(json.dumps(regkit.serialize(reg)))
    assert data["config"]["weight"]["name"] == "linear"
    again = regkit.deserialize(data)
    assert again.weight == schedule and repr(again) == repr(reg)
    assert pickle.loads(pickle.dumps(reg)).weight == schedule
    with caplog.at_level("INFO", logger="regkit"):
        reg.log()
    assert "scheduled: Linear(start=0.0, stop=0.0001, steps=1000)" \
        in caplog.text


# --- update hooks and ParamUpdates -------------------------------------------

def test_default_update_hook_changes_nothing():
    _, hid, out = fixed_net()
    updates = [(hid.W, hid.W * 2), (out.W, out.W + 1)]
    result = apply_update_hooks([WeightL2(weight=1.0)], out, updates)
    assert isinstance(result, ParamUpdates) and result.network is out
    assert list(result.items()) == updates
    assert Regularizer().modify_updates(dict(updates)) is None


def test_param_updates_pickle_and_order():
    W = backend.shared(np.ones(2), name="W")
    b = backend.shared(np.zeros(2), name="b")
    updates = ParamUpdates([(b, b + 1), (W, W * 2)])
    assert list(updates) == [b, W] and updates.network is None
    copy = pickle.loads(pickle.dumps(updates))
    assert [p.name for p in copy] == ["b", "W"]
    with pytest.raises(ValueError, match=r"new value of W \(item 1\) has 0 "
                       "dimensions, expected 1"):
        ParamUpdates([(b, b + 1), (W, W.sum())])
    assert ParamUpdates({W: np.zeros(2)})[W].shape == (2,)
    with pytest.raises(TypeError, match="ParamUpdates: network must be a "
                       "layer"):
        ParamUpdates([(W, W * 2)], network="out")


def test_an_update_given_twice_is_refused():
    _, hid, out = mlp()
    for call in (lambda: regkit.ParamUpdates([(out.W, out.W),
                                              (out.W, out.W * 2)]),
                 lambda: regkit.apply_update_hooks(
                     [MaxNorm()], out, [(out.W, out.W), (hid.W, hid.W),
                                        (out.W, out.W * 2)])):
        with pytest.raises(ValueError, match="out.W is updated twice"):
            call()
    for bad in (None, "W", [object()]):
        with pytest.raises(TypeError, match="must be a tensor or a number"):
            regkit.ParamUpdates([(out.b, bad)])


def test_apply_update_hooks_keeps_a_network_given_as_a_list():
    _, hid, out = mlp()
    updates = regkit.apply_update_hooks([MaxNorm(weight=1.0)], [out],
                                        {out.W: out.W * 100,
                                         hid.W: hid.W * 100})
    assert updates.network == [out]
    for W in (out.W, hid.W):
        norms = np.sqrt((evaluate(updates[W]) ** 2).sum(axis=0))
        assert (norms <= 1.0 + 1e-6).all()


# --- training ----------------------------------------------------------------

def _train_autoencoder(**regularizers):
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(256, 4))
    data = np.tanh(codes @ rng.normal(size=(4, 16))).astype(backend.floatX)
    l_in, _, out = mlp((16, 32, 16), seed=1, out={"nonlinearity": None})
    regs = from_kwargs(out, **regularizers)
    outputs = get_outputs(out, regularizers=regs)
    recon = T.mean(T.sum(T.sqr(outputs["out:out"] - l_in.input_var), axis=1))
    loss = recon + total_penalty(regs, out, outputs)
    params = regkit.get_all_params(out, trainable=True)
    updates = [(p, p - np.asarray(0.02, p.dtype) * g)
               for p, g in zip(params, backend.grad(loss, params))]
    train = backend.function([l_in.input_var], loss, mode=COMPILED,
                             updates=updates + random_updates(outputs))
    clean = get_outputs(out, deterministic=True)
    measure = backend.function([l_in.input_var],
                               [clean["hid:out"], T.mean(T.sum(T.sqr(
                                   clean["out:out"] - l_in.input_var), 1))],
                               mode=COMPILED)
    losses = [float(train(data)) for _ in range(300)]
    hidden, error = measure(data)
    return losses, hidden, float(error)


def test_training_with_regularizers_reduces_loss_and_sparsifies():
    losses, hidden, error = _train_autoencoder(
        weight_l2=1e-4, hidden_l1=0.1, hidden_dropout=0.1)
    assert np.mean(losses[-20:]) < 0.5 * np.mean(losses[:5])
    _, plain_hidden, _ = _train_autoencoder(weight_l2=1e-4,
                                            hidden_dropout=0.1)
    # mean activation and share of exact zeros (rectified units)
    assert np.abs(hidden).mean() < 0.8 * np.abs(plain_hidden).mean()
    assert (hidden == 0).mean() > (plain_hidden == 0).mean() + 0.02


# --- varying weights of graph changes and update hooks -----------------------

def _wide_input_net(dtype="float32"):
    x = T.matrix("x", dtype=dtype)
    l_in = InputLayer((None, 200), input_var=x, name="in")
    out = DenseLayer(l_in, 3, W=np.full((200, 3), 0.1, dtype),
                     b=np.zeros(3, dtype), name="out")
    return l_in, out


@pytest.mark.parametrize("order", ["dropout first", "noise first"])
@pytest.mark.parametrize("linker", sorted(backend.linker_modes()))
def test_scheduled_drop_probability_and_noise_on_every_linker(linker, order):
    # dropout off for two steps, then p = 0.5 (kept values exactly 2x);
    # noise off for three steps, then std 1; both on one output, in both
    # orders; float32 stays float32; the weights move in one function
    l_in, out = _wide_input_net()
    drop = regkit.BernoulliDropout(
        "in:out", weight=regkit.schedules.Piecewise([2], [0.0, 0.5]), rng=1)
    noise = GaussianNoise(
        "in:out", weight=regkit.schedules.Piecewise([3], [0.0, 1.0]), rng=2)
    regs = [drop, noise] if order == "dropout first" else [noise, drop]
    step = regkit.step_counter()
    outputs = get_outputs(out, regularizers=regs, step=step)
    changed = outputs["in:out"]
    assert changed.dtype == "float32"
    fn = backend.function([l_in.input_var], changed,
                          updates=random_updates(outputs)
                          + [(step, step + 1)],
                          mode=backend.linker_modes()[linker])
    data = np.ones((4, 200), "float32")
    got = [np.asarray(fn(data)) for _ in range(5)]
    for t in (0, 1):
        np.testing.assert_array_equal(got[t], data)
    if order == "dropout first":  # no noise yet at step 2: 0s and 2s
        assert set(np.unique(got[2])) == {0.0, 2.0}
    assert 0.3 < (got[2] == 0).mean() < 0.7
    for t in (3, 4):  # noise too: no value left on the grid of 0 and 2
        assert not np.isin(got[t], [0.0, 2.0]).all()
    assert not np.array_equal(got[3], got[4])  # fresh draws every call
    # without the random updates the draws repeat; the step still moves
    frozen = backend.function([l_in.input_var], changed,
                              updates=[(step, step + 1)],
                              mode=backend.linker_modes()[linker])
    np.testing.assert_array_equal(np.asarray(frozen(data)),
                                  np.asarray(frozen(data)))
    # the inference graph, from every route, needs no step and has no draw
    clean = [regkit.get_output(out, regularizers=regs, deterministic=True),
             regkit.apply_regularizers(out, regs, step=step).inference]
    for expr in clean:
        assert not backend.random_updates(expr)
        np.testing.assert_allclose(
            backend.function([l_in.input_var], expr)(data),
            np.full((4, 3), 20.0), rtol=1e-5)  # 200 float32 0.1s


@pytest.mark.parametrize("linker", sorted(backend.linker_modes()))
def test_scheduled_max_norm_and_decay_in_the_update_hooks(linker):
    # MaxNorm 10 (inactive) for two steps, then 0.5; decay 0 then 0.05
    # then 0.1: the weights against numpy, several steps of one function
    x = T.matrix("x")
    l_in = InputLayer((None, 2), input_var=x, name="in")
    W0 = np.array([[3.0, 0.3], [4.0, 0.4]])
    out = DenseLayer(l_in, 2, W=W0.copy(), b=None, name="out")
    step = regkit.step_counter()
    hooks = [MaxNorm(weight=regkit.schedules.Piecewise([2], [10.0, 0.5])),
             regkit.DecoupledWeightDecay(
                 weight=regkit.schedules.Linear(0.0, 0.1, 2))]
    updates = apply_update_hooks(hooks, out, {out.W: out.W * 1.0},
                                 step=step)
    fn = backend.function([], [], updates=list(updates.items())
                          + [(step, step + 1)],
                          mode=backend.linker_modes()[linker])
    W = W0.copy()
    for t in range(4):
        max_norm = 10.0 if t < 2 else 0.5
        decay = 0.1 * min(t, 2) / 2
        norms = np.sqrt((W ** 2).sum(axis=0))
        W = W * np.minimum(1.0, max_norm / (norms + 1e-7)) - decay * W
        fn()
        np.testing.assert_allclose(out.W.get_value(), W, rtol=1e-6)


@pytest.mark.parametrize("make, error, match", [
    (lambda: regkit.BernoulliDropout(
        weight=regkit.schedules.Linear(0, 1.0, 3)), ValueError,
     r"reaches 1, which BernoulliDropout refuses"),
    (lambda: regkit.AlphaDropout(
        weight=regkit.schedules.Exponential(0.1, 2.0)), ValueError,
     r"reaches inf, which AlphaDropout refuses"),
    (lambda: GaussianNoise(weight=regkit.schedules.Linear(0.1, -0.1, 3)),
     ValueError, r"reaches -0.1, which GaussianNoise refuses"),
    (lambda: MaxNorm(weight=regkit.schedules.Linear(0, 1.0, 3)), ValueError,
     r"reaches 0, which MaxNorm refuses"),
    (lambda: regkit.DecoupledWeightDecay(
        weight=regkit.schedules.Constant(1.0)), ValueError,
     "must be below 1"),
    (lambda: regkit.MinMaxNorm(weight=regkit.schedules.Linear(0, 2.0, 3)),
     ValueError, "reaches 2, which MinMaxNorm refuses"),
    (lambda: regkit.StochasticDepth(
        weight=regkit.schedules.Linear(0, 0.5, 3)), TypeError,
     "not by StochasticDepth"),
    (lambda: regkit.DropConnect(weight=regkit.schedules.Linear(0, 0.5, 3)),
     TypeError, "not by DropConnect"),
])
def test_varying_weights_outside_what_a_class_takes(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_a_scheduled_graph_change_or_hook_without_a_step_names_step():
    l_in, out = _wide_input_net()
    drop = regkit.BernoulliDropout(
        "in:out", weight=regkit.schedules.Linear(0, 0.5, 3))
    for build in (lambda: get_outputs(out, regularizers=[drop]),
                  lambda: regkit.get_output(out, regularizers=[drop]),
                  lambda: regkit.apply_regularizers(out, [drop])):
        with pytest.raises(TypeError, match="pass step="):
            build()
    hook = MaxNorm(weight=regkit.schedules.Linear(1, 0.5, 3))
    with pytest.raises(TypeError, match="apply_update_hooks: .* pass step="):
        apply_update_hooks([hook], out, {out.W: out.W})
    for bad in ("3", T.scalar("t"), -1):
        with pytest.raises((TypeError, ValueError), match="step must be"):
            get_outputs(out, regularizers=[drop], step=bad)
        with pytest.raises((TypeError, ValueError), match="step must be"):
            apply_update_hooks([hook], out, {out.W: out.W}, step=bad)
    # an int step is a fixed point of the schedule
    fixed = get_outputs(out, regularizers=[drop], step=3)["in:out"]
    assert set(np.unique(backend.function([l_in.input_var], fixed)(
        np.ones((2, 200), "float32")))) == {0.0, 2.0}


def test_a_symbolic_drop_probability_is_a_shared_scalar_the_user_sets():
    l_in, out = _wide_input_net()
    p = backend.shared(np.float64(0.0), name="p")
    outputs = get_outputs(
        out, regularizers=[regkit.BernoulliDropout("in:out", p, rng=0)])
    fn = backend.function([l_in.input_var], outputs["in:out"],
                          updates=random_updates(outputs))
    data = np.ones((3, 200), "float32")
    np.testing.assert_array_equal(fn(data), data)
    p.set_value(np.float64(0.75))
    assert set(np.unique(fn(data))) == {0.0, 4.0}


@pytest.mark.parametrize("reg", [
    regkit.BernoulliDropout(weight=regkit.schedules.Linear(0, 0.5, 10)),
    GaussianNoise(weight=regkit.schedules.Cosine(0.2, 0.0, 10)),
    MaxNorm(weight=regkit.schedules.Piecewise([5], [4.0, 3.0])),
    regkit.DecoupledWeightDecay(weight=regkit.schedules.Exponential(
        1e-2, 0.99)),
])
def test_scheduled_hooks_round_trip(reg):
    data = json.loads(json.dumps(regkit.serialize(reg)))
    again = regkit.deserialize(data)
    assert again.weight == reg.weight and repr(again) == repr(reg)
    assert pickle.loads(pickle.dumps(reg)).weight == reg.weight


def test_from_kwargs_takes_a_scheduled_dropout():
    _, _, out = fixed_net()
    schedule = regkit.schedules.Linear(0.0, 0.5, 100)
    regs = from_kwargs(out, hidden_dropout=schedule, input_noise=0.1)
    assert [type(r).__name__ for r in regs] == ["BernoulliDropout",
                                                "GaussianNoise"]
    assert regs[0].weight == schedule
