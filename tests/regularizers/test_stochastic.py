"""Dropout and noise: BernoulliDropout, GaussianNoise, AlphaDropout, and
their spatial forms (regkit/regularizers/stochastic.py)."""
import pickle
import warnings

import numpy as np
import pytest

import regkit
from regkit import backend
from regkit.layers import DenseLayer, InputLayer, get_outputs
from regkit.regularizers import (BernoulliDropout, GaussianNoise, from_kwargs,
                                 random_updates)

from conftest import (X, compile_fast, evaluate, fixed_net, hidden_values,
                      plain_network)

T = backend.tensor
FLOATX = backend.floatX


def _dropout_fn(reg, shape=(200, 500)):
    l_in = InputLayer((None, shape[1]), name="in")
    out = DenseLayer(l_in, 1, name="out")
    outputs = get_outputs(out, regularizers=[reg])
    return backend.function([l_in.input_var], outputs["in:out"],
                            updates=random_updates(outputs))


def test_dropout_values_mean_and_fresh_masks():
    p = 0.3
    fn = _dropout_fn(BernoulliDropout("in:out", p, rng=3))
    ones = np.ones((200, 500), dtype=backend.floatX)
    first, second = fn(ones), fn(ones)
    assert set(np.unique(first).tolist()) == {
        0.0, float(first.dtype.type(1 / (1 - p)))}
    assert abs(first.mean() - 1.0) < 0.1
    assert abs((first == 0).mean() - p) < 0.02
    assert not np.array_equal(first, second)


def test_dropout_equal_seeds_give_equal_masks():
    ones = np.ones((50, 60), dtype=backend.floatX)
    a = _dropout_fn(BernoulliDropout("in:out", 0.5, rng=7), (50, 60))(ones)
    b = _dropout_fn(BernoulliDropout("in:out", 0.5, rng=7), (50, 60))(ones)
    c = _dropout_fn(BernoulliDropout("in:out", 0.5, rng=8), (50, 60))(ones)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def _masks(regs, names, steps=3, width=200, batch=64):
    """`steps` calls' worth of dropout masks (0/1 arrays) of the outputs
    `names` of two equal-width input layers summed together."""
    a = InputLayer((None, width), name="a")
    b = InputLayer((None, width), name="b")
    top = regkit.ElemwiseSumLayer([a, b], name="top")
    outputs = get_outputs(top, regularizers=regs)
    fn = backend.function([a.input_var, b.input_var],
                          [T.neq(outputs[n], 0) for n in names],
                          updates=random_updates(outputs),
                          on_unused_input="ignore")
    ones = np.ones((batch, width), dtype=backend.floatX)
    return [fn(ones, ones) for _ in range(steps)]


def test_default_seeds_give_independent_masks():
    # one regularizer over two layers, and two regularizers built without
    # seeds: every draw has its own stream
    for regs in ([BernoulliDropout(["a:out", "b:out"], 0.5)],
                 [BernoulliDropout("a:out", 0.5),
                  BernoulliDropout("b:out", 0.5)],
                 [GaussianNoise("a:out", 0.1), BernoulliDropout("a:out", 0.5),
                  BernoulliDropout("b:out", 0.5)]):
        for mask_a, mask_b in _masks(regs, ["a:out", "b:out"]):
            assert not np.array_equal(mask_a, mask_b)
            corr = np.corrcoef(mask_a.ravel(), mask_b.ravel())[0, 1]
            # 12,800 pairs: the sample correlation of independent masks
            # has a standard deviation of about 0.009
            assert abs(corr) < 0.05, corr


def test_from_kwargs_input_and_hidden_dropout_draw_different_masks():
    l_in = InputLayer((None, 50), name="in")
    hid = DenseLayer(l_in, 50, W=np.eye(50), b=None, nonlinearity=None,
                     name="hid")
    out = DenseLayer(hid, 1, name="out")
    regs = from_kwargs(out, input_dropout=0.5, hidden_dropout=0.5)
    outputs = get_outputs(out, regularizers=regs)
    fn = backend.function(
        [l_in.input_var],
        [T.neq(outputs["in:out"], 0),
         T.eq(outputs["hid:out"], 0) & T.neq(outputs["hid:out-predrop"], 0)],
        updates=random_updates(outputs))
    ones = np.ones((40, 50), dtype=backend.floatX)
    for _ in range(3):
        kept_in, dropped_hid = fn(ones)
        # with shared streams the hidden mask repeated the input mask, so
        # no unit the input kept was ever dropped by the hidden layer
        assert dropped_hid.any()


def test_explicit_seed_repeats_and_default_seeds_follow_set_rng():
    def run(make):
        return _masks(make(), ["a:out", "b:out"])

    seeded = lambda: [BernoulliDropout("a:out", 0.5, rng=11),  # noqa: E731
                      BernoulliDropout("b:out", 0.5, rng=12)]
    for x, y in zip(run(seeded), run(seeded)):
        np.testing.assert_array_equal(x, y)

    def defaults():
        regkit.set_rng(5)
        return [BernoulliDropout("a:out", 0.5), BernoulliDropout("b:out", 0.5)]
    first, again = run(defaults), run(defaults)
    for x, y in zip(first, again):
        np.testing.assert_array_equal(x, y)
    regkit.set_rng(6)
    other = run(lambda: [BernoulliDropout("a:out", 0.5),
                         BernoulliDropout("b:out", 0.5)])
    assert not np.array_equal(first[0], other[0])
    # a seed in the config; None (a spawned stream) stays None
    assert BernoulliDropout(weight=0.5, rng=3).get_config()["rng"] == 3
    assert BernoulliDropout(weight=0.5).get_config()["rng"] is None


def test_a_pickled_regularizer_continues_its_stream():
    reg = BernoulliDropout("a:out", 0.5)
    _masks([reg], ["a:out"], steps=1)  # one draw built
    copy = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(_masks([reg], ["a:out"])[0],
                                  _masks([copy], ["a:out"])[0])


def test_deterministic_graph_has_no_dropout_or_noise():
    l_in, hid, out = fixed_net()
    regs = [BernoulliDropout("hid:out", 0.5), GaussianNoise("in:out", 1.0)]
    train = get_outputs(out, regularizers=regs)
    assert "hid:out-predrop" in train and "in:out-prenoise" in train
    assert len(random_updates(train)) == 2  # one generator per draw
    test = get_outputs(out, regularizers=regs, deterministic=True)
    assert not any("-pre" in name and name != "hid:pre" for name in test)
    assert random_updates(test) == []
    clean = evaluate(regkit.get_output(out), {l_in.input_var: X})
    np.testing.assert_allclose(evaluate(test["out:out"], {l_in.input_var: X}),
                               clean)


def test_predrop_keeps_the_clean_value():
    l_in, hid, out = fixed_net()
    outputs = get_outputs(out, regularizers=[BernoulliDropout(weight=0.5)])
    np.testing.assert_allclose(
        evaluate(outputs["hid:out-predrop"], {l_in.input_var: X}),
        hidden_values())


def test_gaussian_noise_std():
    std = 0.25
    fn = _dropout_fn(GaussianNoise("in:out", std, rng=2))
    zeros = np.zeros((200, 500), dtype=backend.floatX)
    noise = fn(zeros)
    assert noise.dtype == backend.floatX
    assert abs(noise.std() - std) < 0.1 * std
    assert abs(noise.mean()) < 0.01
    assert not np.array_equal(noise, fn(zeros))


def test_stochastic_weight_zero_leaves_graph_alone():
    _, _, out = fixed_net()
    outputs = get_outputs(out, regularizers=[BernoulliDropout(weight=0.0)])
    assert random_updates(outputs) == []


def test_stochastic_no_match_warns():
    _, _, out = fixed_net()
    with pytest.warns(UserWarning, match="BernoulliDropout.*matches no"):
        get_outputs(out, regularizers=[BernoulliDropout("Hid:out", 0.5)])


def test_dropout_graph_is_warning_free_and_float32():
    l_in = InputLayer((None, 8), input_var=T.fmatrix("x"), name="in")
    out = DenseLayer(l_in, 2, W=np.ones((8, 2), "float32"),
                     b=np.zeros(2, "float32"), name="out")
    regs = [BernoulliDropout("in:out", 0.5), GaussianNoise("out:out", 0.1)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        outputs = get_outputs(out, regularizers=regs)
        fn = backend.function([l_in.input_var], outputs["out:out"],
                              updates=random_updates(outputs))
        result = fn(np.ones((3, 8), "float32"))
    assert outputs["out:out"].dtype == "float32"
    assert result.dtype == np.float32


def test_stochastic_and_activity_regularizers_refuse_float16():
    l_in = InputLayer((None, 3), input_var=T.matrix(dtype="float16"),
                      name="in")
    out = DenseLayer(l_in, 2, W=np.ones((3, 2), "float16"),
                     b=np.zeros(2, "float16"), name="out")
    with pytest.raises(TypeError, match="float16; regkit supports"):
        get_outputs(out, regularizers=[BernoulliDropout("in:out", 0.5)])
    with pytest.raises(TypeError, match="float16; regkit supports"):
        regkit.HiddenL1("out:out").loss(out, get_outputs(out))


@pytest.mark.parametrize("order", ["noise first", "dropout first"])
def test_dropout_and_noise_on_one_output_apply_in_list_order(order):
    x, W1, W2, h, z, p = plain_network(FLOATX)
    drop = regkit.BernoulliDropout("h:out", 0.5, rng=5)
    noise = regkit.GaussianNoise("h:out", 1.0, rng=6)
    regs = [noise, drop] if order == "noise first" else [drop, noise]
    outputs = regkit.get_outputs(p.sum(), regularizers=regs)
    fn = compile_fast([x], outputs["h:out"],
                      updates=regkit.random_updates(outputs))
    value = fn(np.ones((50, 3), FLOATX))
    zeros = np.mean(value == 0)
    if order == "noise first":  # noisy values dropped: exact zeros
        assert 0.4 < zeros < 0.6
    else:  # dropped values made noisy: no exact zeros
        assert zeros == 0


# --- spatial dropout and noise -----------------------------------------------

def _image_net(reg):
    x = T.tensor4("img")
    l_in = regkit.InputLayer((None, 3, 4, 5), input_var=x, name="img")
    outputs = regkit.get_outputs(l_in, regularizers=[reg])
    fn = backend.function([x], outputs["img:out"],
                          updates=regkit.random_updates(outputs))
    return fn


def test_spatial_dropout_drops_whole_feature_maps():
    fn = _image_net(regkit.BernoulliDropout("img:out", 0.5, rng=0,
                                            shared_axes=(2, 3)))
    out = fn(np.ones((6, 3, 4, 5), FLOATX))
    per_map = out.reshape(6, 3, -1)
    # each (example, channel) map is all 0 or all 2
    assert ((per_map == per_map[:, :, :1]).all())
    assert set(np.unique(per_map).tolist()) == {0.0, 2.0}
    assert 0 < (per_map[:, :, 0] == 0).mean() < 1


def test_noise_shared_along_axes_and_negative_axes():
    fn = _image_net(regkit.GaussianNoise("img:out", 1.0, rng=1,
                                         shared_axes=[0, -1]))
    out = fn(np.zeros((6, 3, 4, 5), FLOATX))
    assert (out == out[:1, :, :, :1]).all()  # the same for every example
    assert np.unique(out).size == 3 * 4


def test_shared_axes_round_trip_and_refusals():
    drop = regkit.BernoulliDropout("x", 0.5, rng=2, shared_axes=(2, 3))
    copy = regkit.deserialize(regkit.serialize(drop))
    assert copy.shared_axes == (2, 3)
    with pytest.raises(TypeError, match="shared_axes"):
        regkit.BernoulliDropout(shared_axes="2")
    with pytest.raises(ValueError, match="names an axis twice"):
        regkit.GaussianNoise(shared_axes=(1, 1))
    with pytest.raises(ValueError, match="shared_axes"):
        _image_net(regkit.BernoulliDropout("img:out", 0.5,
                                           shared_axes=(4,)))


# --- alpha dropout -----------------------------------------------------------

SATURATION = -1.0507009873554805 * 1.6732632423543772


def test_alpha_dropout_values_and_moments():
    p = 0.3
    l_in = regkit.InputLayer((None, 50000), name="in")
    drop = regkit.AlphaDropout("in:out", p, rng=3)
    out = regkit.get_output(l_in, regularizers=[drop])
    fn = backend.function([l_in.input_var], out,
                          updates=regkit.random_updates(out))
    x = np.random.default_rng(4).standard_normal((4, 50000)).astype(FLOATX)
    y = fn(x)
    a = ((1 - p) * (1 + p * SATURATION ** 2)) ** -0.5
    b = -a * SATURATION * p
    dropped = np.isclose(y, a * SATURATION + b, rtol=1e-5)
    np.testing.assert_allclose(y[~dropped], a * x[~dropped] + b, rtol=1e-4,
                               atol=1e-5)
    assert abs(dropped.mean() - p) < 0.01
    # zero mean and unit variance are kept (Klambauer et al., eq. 4 and 5)
    assert abs(y.mean()) < 0.01 and abs(y.var() - 1) < 0.02
    assert not np.array_equal(fn(x), fn(x))
    test = regkit.get_output(l_in, regularizers=[drop], deterministic=True)
    assert test is l_in.input_var
    (built,) = regkit.from_kwargs(l_in, alpha_dropout={"pattern": "in:out",
                                                       "weight": 0.1})
    assert isinstance(built, regkit.AlphaDropout)
    assert regkit.deserialize(regkit.serialize(drop)).weight == p
