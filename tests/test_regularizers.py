import logging
import pickle
import warnings

import numpy as np
import pytest

import regkit
from regkit import backend
from regkit.layers import DenseLayer, InputLayer, Layer, get_outputs
from regkit.regularizers import (REGISTRY, BernoulliDropout, Contractive,
                                 GaussianNoise, HiddenL1, HiddenL2,
                                 KLSparsity, MaxNorm, ParamUpdates,
                                 RecurrentNorm, RecurrentState, Regularizer,
                                 WeightL1, WeightL2, apply_update_hooks,
                                 deserialize, from_kwargs, random_updates,
                                 serialize, total_penalty)

from conftest import RecordBuilds, evaluate

T = backend.tensor

W_HID = np.array([[0.5, -1.0, 0.25, 2.0],
                  [-0.5, 0.75, 1.0, -0.25],
                  [1.5, 0.1, -2.0, 0.5]])
B_HID = np.array([0.1, -0.2, 0.3, 0.0])
W_OUT = np.array([[1.0, -1.0], [0.5, 2.0], [-1.5, 0.25], [0.3, 0.7]])
X = np.array([[0.2, -1.0, 0.5], [1.0, 0.3, -0.4], [-0.7, 0.8, 0.1],
              [0.0, 0.5, 1.2], [0.9, -0.6, -0.3]])


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def _net(nonlinearity=regkit.layers.sigmoid):
    l_in = InputLayer((None, 3), name="in")
    hid = DenseLayer(l_in, 4, W=W_HID, b=B_HID, nonlinearity=nonlinearity,
                     name="hid")
    out = DenseLayer(hid, 2, W=W_OUT, nonlinearity=None, name="out")
    return l_in, hid, out


def _loss_value(reg, net=None, data=X):
    l_in, _, out = net or _net()
    outputs = get_outputs(out, regularizers=[reg])
    return float(evaluate(reg.loss(out, outputs), {l_in.input_var: data}))


# ---------------------------------------------------------- weight terms --

def test_weight_penalties_match_numpy():
    assert np.isclose(_loss_value(WeightL2()), (W_HID ** 2).sum()
                      + (W_OUT ** 2).sum())
    assert np.isclose(_loss_value(WeightL1()), np.abs(W_HID).sum()
                      + np.abs(W_OUT).sum())
    assert np.isclose(_loss_value(WeightL2("hid.*")), (W_HID ** 2).sum())
    assert np.isclose(_loss_value(WeightL2(("hid.W", "out.W"))),
                      (W_HID ** 2).sum() + (W_OUT ** 2).sum())
    assert np.isclose(_loss_value(WeightL2("*.b", tags={})), (B_HID ** 2).sum())


def test_weight_penalty_equals_regularize_network_params():
    _, _, out = _net()
    a = WeightL2().loss(out, get_outputs(out))
    b = regkit.regularize_network_params(out, regkit.l2)
    assert np.isclose(evaluate(a), evaluate(b))


def test_pattern_is_case_sensitive_and_no_match_warns_and_adds_zero():
    _, _, out = _net()
    with pytest.warns(UserWarning, match="matches no parameter"):
        assert WeightL2("HID.W").loss(out, {}) == 0
    with pytest.warns(UserWarning, match="matches no output"):
        assert HiddenL1("nothing:out").loss(out, get_outputs(out)) == 0


def test_unnamed_layers_get_automatic_names():
    l_in = InputLayer((None, 3))
    hid = DenseLayer(l_in, 4, W=W_HID)
    out = DenseLayer(hid, 2, W=W_OUT)
    assert np.isclose(evaluate(WeightL2("dense1.W").loss(out, {})),
                      (W_HID ** 2).sum())
    assert "dense1:out" in get_outputs(out)


# ---------------------------------------------------------- output terms --

def _hidden(data=X):
    return _sigmoid(data @ W_HID + B_HID)


def test_hidden_penalties_are_summed_over_units_and_averaged_over_batch():
    h = _hidden()
    assert np.isclose(_loss_value(HiddenL1()), np.abs(h).sum(1).mean())
    assert np.isclose(_loss_value(HiddenL2()), (h ** 2).sum(1).mean())
    # the default pattern is the hidden layers only, not the output layer
    out_value = X @ W_HID + B_HID
    assert not np.isclose(_loss_value(HiddenL1()),
                          np.abs(_sigmoid(out_value) @ W_OUT).sum(1).mean())
    assert np.isclose(_loss_value(HiddenL1("out:out")),
                      np.abs(h @ W_OUT).sum(1).mean())
    # doubling the batch does not change the value
    assert np.isclose(_loss_value(HiddenL1(), data=np.vstack([X, X])),
                      _loss_value(HiddenL1()))


def test_kl_sparsity_matches_numpy():
    rho = 0.2
    mean = _hidden().mean(axis=0)
    expected = (rho * np.log(rho / mean)
                + (1 - rho) * np.log((1 - rho) / (1 - mean))).sum()
    assert np.isclose(_loss_value(KLSparsity(target=rho)), expected)
    with pytest.raises(ValueError, match="target"):
        KLSparsity(target=1.0)
    with pytest.raises(TypeError, match="KLSparsity: target must be a number"):
        KLSparsity(target="0.1")


def _numeric_jacobian_norm(fn, data, eps=1e-6):
    """mean_i ||d f(x)_i / d x_i||_F^2 by central differences."""
    total = 0.0
    for i in range(data.shape[0]):
        rows = []
        for k in range(data.shape[1]):
            up, down = data.copy(), data.copy()
            up[i, k] += eps
            down[i, k] -= eps
            rows.append((fn(up)[i] - fn(down)[i]) / (2 * eps))
        total += (np.array(rows) ** 2).sum()
    return total / data.shape[0]


@pytest.mark.parametrize("pattern", ["hid:out", "out:out"])
def test_contractive_matches_finite_differences(pattern):
    l_in, hid, out = _net()
    layer = hid if pattern == "hid:out" else out
    fn = backend.function([l_in.input_var], regkit.get_output(layer))
    expected = _numeric_jacobian_norm(fn, X)
    # hid:out takes the dense closed form, out:out (two layers above the
    # input) the general per-unit path
    assert np.isclose(_loss_value(Contractive(pattern)), expected, rtol=1e-5)


def test_contractive_closed_form_equals_general_path():
    l_in, hid, out = _net(nonlinearity=regkit.layers.tanh)
    outputs = get_outputs(out)
    closed = Contractive("hid:out").loss(out, outputs)
    general = regkit.regularizers.contractive._jacobian_norm(outputs["hid:out"],
                                                 outputs["in:out"])
    values = evaluate([closed, general], {l_in.input_var: X})
    assert np.isclose(values[0], values[1], rtol=1e-8)


def test_contractive_is_not_the_gradient_of_the_mean():
    # theanets' formula: ||d mean(h) / d x||^2, a different number
    l_in, hid, _ = _net()
    h = regkit.get_output(hid)
    theanets = T.sum(T.sqr(backend.grad(T.mean(h), l_in.input_var)))
    assert not np.isclose(evaluate(theanets, {l_in.input_var: X}),
                          _loss_value(Contractive("hid:out")))


class _Identity(Layer):
    def get_output_for(self, input, **kwargs):
        return input


def _sequence_net():
    l_in = InputLayer((None, 4, 3), name="seq")
    rnn = _Identity(l_in, name="rnn")
    out = DenseLayer(rnn, 2, name="out")
    return l_in, rnn, out


def test_recurrent_terms_match_numpy(rng):
    data = rng.normal(size=(2, 4, 3))
    l_in, _, out = _sequence_net()
    outputs = get_outputs(out)
    norms = np.sqrt((data ** 2).sum(-1))
    expected_norm = ((norms[:, 1:] - norms[:, :-1]) ** 2).mean()
    expected_state = ((data[:, 1:] - data[:, :-1]) ** 2).sum(-1).mean()
    got = evaluate([RecurrentNorm().loss(out, outputs),
                    RecurrentState().loss(out, outputs)],
                   {l_in.input_var: data})
    assert np.isclose(got[0], expected_norm)
    assert np.isclose(got[1], expected_state)


@pytest.mark.parametrize("make", [
    WeightL2, WeightL1, HiddenL1, HiddenL2, KLSparsity, Contractive,
    lambda: Contractive("hid:out"), lambda: WeightL2("hid.*"),
    lambda: HiddenL1("*:pre"),
], ids=lambda make: getattr(make, "__name__", "pattern"))
def test_loss_takes_the_output_layer_or_all_the_layers(make):
    # theanets passes "a list of the layers in the model"; the roles come
    # from the graph, so it selects what the output layer selects
    l_in, hid, out = _net()
    reg = make()
    outputs = get_outputs(out, regularizers=[reg])
    givens = {l_in.input_var: X}
    by_output = float(evaluate(reg.loss(out, outputs), givens))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing "matches no output"
        for layers in ([l_in, hid, out], [out, hid, l_in], [out],
                       regkit.get_all_layers(out)):
            assert float(evaluate(reg.loss(layers, outputs), givens)) \
                == pytest.approx(by_output, rel=1e-12)
    assert by_output > 0


@pytest.mark.parametrize("make", [RecurrentNorm, RecurrentState])
def test_recurrent_loss_takes_all_the_layers(make, rng):
    l_in, rnn, out = _sequence_net()
    outputs = get_outputs(out)
    data = {l_in.input_var: rng.normal(size=(2, 4, 3))}
    by_output = evaluate(make().loss(out, outputs), data)
    by_layers = evaluate(make().loss([l_in, rnn, out], outputs), data)
    assert by_output > 0 and by_layers == pytest.approx(by_output)


def test_total_penalty_takes_all_the_layers():
    l_in, hid, out = _net()
    regs = from_kwargs(out, weight_l2=1e-3, hidden_l1=0.1, hidden_l2=0.2,
                       kl_sparsity=0.1, contractive=0.01)
    outputs = get_outputs(out, regularizers=regs)
    givens = {l_in.input_var: X}
    assert float(evaluate(total_penalty(regs, [l_in, hid, out], outputs),
                          givens)) == pytest.approx(
        float(evaluate(total_penalty(regs, out, outputs), givens)))


def test_recurrent_terms_need_three_dimensions():
    _, _, out = _net()
    with pytest.raises(ValueError, match="batch, time, features"):
        RecurrentState().loss(out, get_outputs(out))


def test_recurrent_norm_gradient_finite_at_zero_state():
    l_in, _, out = _sequence_net()
    term = RecurrentNorm().loss(out, get_outputs(out))
    grad = evaluate(backend.grad(term, l_in.input_var),
                    {l_in.input_var: np.zeros((1, 4, 3))})
    assert np.isfinite(grad).all()


# ---------------------------------------------------------- stochastic --

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
    l_in, hid, out = _net()
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
    l_in, hid, out = _net()
    outputs = get_outputs(out, regularizers=[BernoulliDropout(weight=0.5)])
    np.testing.assert_allclose(
        evaluate(outputs["hid:out-predrop"], {l_in.input_var: X}),
        _hidden())


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
    _, _, out = _net()
    outputs = get_outputs(out, regularizers=[BernoulliDropout(weight=0.0)])
    assert random_updates(outputs) == []


def test_stochastic_no_match_warns():
    _, _, out = _net()
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


@pytest.mark.parametrize("cls, weight", [
    (BernoulliDropout, 1.0), (BernoulliDropout, -0.1),
    (GaussianNoise, -1.0), (WeightL2, float("nan")), (HiddenL1, float("inf")),
])
def test_bad_weights(cls, weight):
    with pytest.raises(ValueError, match="weight"):
        cls(weight=weight)


def test_bad_arguments():
    with pytest.raises(TypeError, match="weight"):
        WeightL2(weight="0.1")
    with pytest.raises(TypeError, match="pattern"):
        WeightL2(pattern=3)
    with pytest.raises(ValueError, match="pattern"):
        WeightL2(pattern=())
    with pytest.raises(ValueError, match="empty string"):
        WeightL2(pattern=["hid.W", ""])
    with pytest.raises(TypeError, match="rng"):
        BernoulliDropout(weight=0.5, rng="seed")
    with pytest.raises(TypeError, match="tags"):
        WeightL2(tags=["regularizable"])


def test_weight_regularizers_reject_tags_no_parameter_carries():
    net = _net()
    _, hid, out = net
    hid.add_param(np.ones(2), (2,), name="gain", special=True)
    for reg in (WeightL2(tags={"regularisable": True}),
                MaxNorm(tags={"regularisable": True})):
        with pytest.raises(ValueError, match="^%s: .*'regularisable'"
                                             % type(reg).__name__):
            reg.named_params(out)
    with pytest.raises(ValueError, match="WeightL1: .*'regularisable'"):
        regkit.total_penalty([WeightL1(tags={"regularisable": True})], out,
                             get_outputs(out))
    assert np.isclose(_loss_value(WeightL2(tags={"special": True}), net),
                      2.0)


# ---------------------------------------------------------------- registry --

def test_registry_names():
    expected = {
        "weight_l2": WeightL2, "weightl2": WeightL2, "weight_decay": WeightL2,
        "weight_l1": WeightL1, "weight_sparsity": WeightL1,
        "hidden_l1": HiddenL1, "hidden_sparsity": HiddenL1,
        "hidden_l2": HiddenL2, "kl_sparsity": KLSparsity,
        "klsparsity": KLSparsity, "contractive": Contractive,
        "recurrent_norm": RecurrentNorm, "recurrent_state": RecurrentState,
        "bernoulli_dropout": BernoulliDropout,
        "gaussian_noise": GaussianNoise,
    }
    for key, cls in expected.items():
        assert REGISTRY[key] is cls, key


def test_private_bases_are_not_registered():
    assert not any(key.startswith("_") for key in REGISTRY)
    assert all(not cls.__name__.startswith("_") for cls in REGISTRY.values())


def test_custom_subclass_registers_and_builds_from_kwargs():
    class OutputEnergy(Regularizer):
        default_roles = ("output",)

        def loss(self, layers, outputs):
            names = self.output_names(layers, outputs)
            return regkit.apply.sum_terms(T.sum(T.sqr(outputs[n]))
                                          for n in names)

    assert REGISTRY["output_energy"] is OutputEnergy
    assert REGISTRY["outputenergy"] is OutputEnergy
    l_in, _, out = _net()
    (reg,) = from_kwargs(out, output_energy=0.5)
    assert isinstance(reg, OutputEnergy) and reg.weight == 0.5
    outputs = get_outputs(out)
    value = evaluate(total_penalty([reg], out, outputs), {l_in.input_var: X})
    assert np.isclose(value, 0.5 * ((_hidden() @ W_OUT) ** 2).sum())
    with pytest.raises(ValueError, match="taken"):
        type("WeightL2", (Regularizer,), {})


def test_from_kwargs_each_keyword():
    _, _, out = _net()
    regs = from_kwargs(out, input_dropout=0.1, hidden_dropout=0.2,
                       output_dropout=0.3, input_noise=0.4, hidden_noise=0.5,
                       output_noise=0.6, dropout={"hid:pre": 0.7},
                       noise={"out:pre": 0.8}, weight_l2=1e-4,
                       weight_decay=2e-4, hidden_l1=None,
                       kl_sparsity={"weight": 0.1, "target": 0.2},
                       contractive={"weight": 0.3, "pattern": "hid:out"})
    summary = [(type(r).__name__, r.pattern, r.weight) for r in regs]
    assert summary == [
        ("BernoulliDropout", ("in:out",), 0.1),
        ("BernoulliDropout", ("hid:out",), 0.2),
        ("BernoulliDropout", ("out:out",), 0.3),
        ("GaussianNoise", ("in:out",), 0.4),
        ("GaussianNoise", ("hid:out",), 0.5),
        ("GaussianNoise", ("out:out",), 0.6),
        ("BernoulliDropout", "hid:pre", 0.7),
        ("GaussianNoise", "out:pre", 0.8),
        ("WeightL2", None, 1e-4),
        ("WeightL2", None, 2e-4),
        ("KLSparsity", None, 0.1),
        ("Contractive", "hid:out", 0.3),
    ]
    assert regs[10].target == 0.2


def test_from_kwargs_errors():
    _, _, out = _net()
    with pytest.raises(TypeError, match="did you mean 'weight_l2'"):
        from_kwargs(out, wieght_l2=0.1)
    with pytest.raises(TypeError, match="did you mean 'hidden_dropout'"):
        from_kwargs(out, hiden_dropout=0.1)
    with pytest.raises(TypeError, match="dict"):
        from_kwargs(out, dropout=0.5)
    with pytest.raises(ValueError, match="weight"):
        from_kwargs(out, hidden_dropout=1.5)
    # a misspelt constructor argument is named with its keyword
    with pytest.raises(TypeError, match="hidden_dropout got 'wieght', which "
                       "BernoulliDropout does not take .*did you mean "
                       "'weight'"):
        from_kwargs(out, hidden_dropout={"wieght": 0.5})
    with pytest.raises(TypeError, match="kl_sparsity got 'targt'"):
        from_kwargs(out, kl_sparsity={"weight": 0.1, "targt": 0.1})
    with pytest.raises(TypeError, match="weight_l2 got 3"):
        from_kwargs(out, weight_l2={3: 0.1})


def test_from_kwargs_passes_any_keyword_to_a_class_that_takes_them():
    seen = {}

    class KwargsSpyL2(WeightL2):
        def __init__(self, weight=0.0, **options):
            super(KwargsSpyL2, self).__init__(weight=weight)
            seen.update(options)

    _, _, out = _net()
    try:
        (reg,) = from_kwargs(out, kwargs_spy_l2={"weight": 0.5, "extra": 1})
    finally:
        del REGISTRY["kwargs_spy_l2"], REGISTRY["kwargsspyl2"]
    assert type(reg) is KwargsSpyL2 and seen == {"extra": 1}


# ------------------------------------------------------------ penalties --

def test_total_penalty_checks_its_arguments():
    _, _, out = _net()
    outputs = get_outputs(out)
    with pytest.raises(TypeError, match="total_penalty: outputs must be the "
                       "dict"):
        total_penalty([HiddenL1()], out, None)
    with pytest.raises(TypeError, match="total_penalty: network must be a "
                       "layer"):
        total_penalty([WeightL2()], "out", outputs)
    assert total_penalty([], [out], outputs) == 0


def test_total_penalty_weights_and_dtype():
    l_in, _, out = _net()
    regs = [WeightL2(weight=0.5), HiddenL1(weight=0.25), GaussianNoise()]
    outputs = get_outputs(out, regularizers=regs)
    value = evaluate(total_penalty(regs, out, outputs), {l_in.input_var: X})
    expected = 0.5 * ((W_HID ** 2).sum() + (W_OUT ** 2).sum()) \
        + 0.25 * np.abs(_hidden()).sum(1).mean()
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


def test_log_names_class_weight_and_pattern(caplog):
    with caplog.at_level(logging.INFO, logger="regkit"):
        WeightL2("hid.*", 1e-4).log()
    assert "WeightL2" in caplog.text and "0.0001" in caplog.text
    assert "hid.*" in caplog.text


# ---------------------------------------------------------- serialization --

ALL = [WeightL2("hid.*", 1e-4, tags={"trainable": True}),
       WeightL1(weight=0.1), HiddenL1(["a:out", "b:out"], 0.2),
       HiddenL2(weight=0.3), KLSparsity(weight=0.1, target=0.2),
       Contractive("hid:out", 0.1, wrt="in:out"), RecurrentNorm(weight=1.0),
       RecurrentState(weight=2.0), BernoulliDropout("hid:out", 0.5, rng=4),
       GaussianNoise(weight=0.1, rng=9),
       MaxNorm("hid.W", 2.0, norm_axes=(0,), tags={}, epsilon=1e-6),
       regkit.DecoupledWeightDecay(weight=0.01),
       regkit.L2SP("hid.W", 0.1, start={"hid.W": [[1.0, 2.0]]}),
       regkit.ConfidencePenalty(weight=0.5), regkit.NonNeg("hid.W"),
       regkit.UnitNorm(weight=2.0, norm_axes=0),
       regkit.MinMaxNorm(weight=0.5, min_value=0.1, max_value=2.0),
       GaussianNoise(weight=0.1, rng=3, shared_axes=(2, 3)),
       regkit.AlphaDropout("hid:out", 0.1, rng=1),
       regkit.R1Penalty(weight=10.0, wrt="in:out"),
       regkit.JacobianProjection("hid:out", 0.1, n_proj=3, rng=2),
       regkit.SpectralNorm(weight=0.1, n_iter=2, rng=1),
       regkit.SRIP("hid.W", 0.1, rng=2),
       regkit.SpectralNormalization("hid.W", n_iter=2, rng=3),
       regkit.DropConnect("hid.W", 0.2, rng=4),
       regkit.StochasticDepth("res:out", 0.2, branch=1, rng=5)]


@pytest.mark.parametrize("reg", ALL, ids=lambda r: type(r).__name__)
def test_serialize_round_trip(reg):
    data = serialize(reg)
    assert data["name"] in REGISTRY
    copy = deserialize(data)
    assert type(copy) is type(reg)
    assert copy.get_config() == reg.get_config()
    unpickled = pickle.loads(pickle.dumps(reg))
    assert type(unpickled) is type(reg)
    assert unpickled.get_config() == reg.get_config()


def test_deserialize_refuses_unregistered_names():
    for name in ["os.system", "regkit.regularizers.WeightL2", "nothing",
                 "builtins.eval", None, 3]:
        with pytest.raises(ValueError, match="not a registered"):
            deserialize({"name": name, "config": {}})
    with pytest.raises(TypeError, match="dict"):
        deserialize("weight_l2")
    with pytest.raises(TypeError, match="config"):
        deserialize({"name": "weight_l2", "config": "weight=1"})
    with pytest.raises(TypeError, match="deserialize: 'weight_l2' got 'wieght'"
                       ", which WeightL2 does not take"):
        deserialize({"name": "weight_l2", "config": {"wieght": 1}})
    with pytest.raises(TypeError, match="Regularizer"):
        serialize("weight_l2")


# --------------------------------------------------------------- training --

def _train_autoencoder(**regularizers):
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(256, 4))
    data = np.tanh(codes @ rng.normal(size=(4, 16))).astype(backend.floatX)
    regkit.layers.set_rng(1)
    l_in = InputLayer((None, 16), name="in")
    hid = DenseLayer(l_in, 32, name="hid")
    out = DenseLayer(hid, 16, nonlinearity=None, name="out")
    regs = from_kwargs(out, **regularizers)
    outputs = get_outputs(out, regularizers=regs)
    recon = T.mean(T.sum(T.sqr(outputs["out:out"] - l_in.input_var), axis=1))
    loss = recon + total_penalty(regs, out, outputs)
    params = regkit.get_all_params(out, trainable=True)
    updates = [(p, p - np.asarray(0.02, p.dtype) * g)
               for p, g in zip(params, backend.grad(loss, params))]
    train = backend.function([l_in.input_var], loss,
                             updates=updates + random_updates(outputs))
    clean = get_outputs(out, deterministic=True)
    measure = backend.function([l_in.input_var],
                               [clean["hid:out"], T.mean(T.sum(T.sqr(
                                   clean["out:out"] - l_in.input_var), 1))])
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



# ------------------------------------------------- update hooks, MaxNorm --

def _column_norms(W):
    return np.sqrt((np.asarray(W, dtype="float64") ** 2).sum(axis=0))


def test_default_update_hook_changes_nothing():
    _, hid, out = _net()
    updates = [(hid.W, hid.W * 2), (out.W, out.W + 1)]
    result = apply_update_hooks([WeightL2(weight=1.0)], out, updates)
    assert isinstance(result, ParamUpdates) and result.network is out
    assert list(result.items()) == updates
    assert Regularizer().modify_updates(dict(updates)) is None


def test_max_norm_bounds_each_unit_and_leaves_the_rest():
    _, hid, out = _net()
    original = list(zip([hid.W, hid.b, out.W], [hid.W * 3, hid.b * 5,
                                                 out.W * 0.01]))
    updates = apply_update_hooks([MaxNorm(weight=1.5)], out, original)
    # the caller's list is not changed; b (1-D, not regularizable) is kept
    assert original[0][1] is not updates[hid.W]
    assert updates[hid.b] is original[1][1]
    new_hid, new_out = evaluate([updates[hid.W], updates[out.W]])
    assert (_column_norms(new_hid) <= 1.5 * (1 + 1e-5)).all()
    np.testing.assert_allclose(new_out, W_OUT * 0.01)  # within the bound
    expected = 3 * W_HID * np.minimum(1, 1.5 / _column_norms(3 * W_HID))
    np.testing.assert_allclose(new_hid, expected, rtol=1e-6)


def test_max_norm_pattern_axes_and_plain_dicts():
    _, hid, out = _net()
    updates = apply_update_hooks([MaxNorm("out.*", 0.5)], out,
                                 {hid.W: hid.W * 1, out.W: out.W * 1})
    assert updates[hid.W].eval().tolist() == W_HID.tolist()
    assert (_column_norms(updates[out.W].eval()) <= 0.5 * (1 + 1e-5)).all()
    # rows instead of columns
    updates = apply_update_hooks([MaxNorm("hid.W", 0.5, norm_axes=1)], out,
                                 {hid.W: hid.W * 1})
    assert (np.linalg.norm(updates[hid.W].eval(), axis=1)
            <= 0.5 * (1 + 1e-5)).all()
    # a plain dict: names are the variables' own names
    plain = {hid.W: hid.W * 1, hid.b: hid.b * 1}
    MaxNorm("hid.W", 0.5).modify_updates(plain)
    assert (_column_norms(plain[hid.W].eval()) <= 0.5 * (1 + 1e-5)).all()
    assert plain[hid.b].eval().tolist() == B_HID.tolist()
    MaxNorm(weight=0.5).modify_updates(plain)  # default: skips the bias
    assert plain[hid.b].eval().tolist() == B_HID.tolist()


def test_max_norm_errors_and_warnings():
    _, hid, out = _net()
    with pytest.raises(ValueError, match="MaxNorm: parameter 'hid.b' has 1 "
                       "dimensions; give norm_axes"):
        apply_update_hooks([MaxNorm("hid.b", 1.0, tags={})], out,
                           {hid.b: hid.b})
    with pytest.warns(UserWarning, match="matches no parameter"):
        apply_update_hooks([MaxNorm("nothing.*", 1.0)], out, {hid.W: hid.W})
    for weight, error in [(0, ValueError), (-1, ValueError),
                          (np.inf, ValueError), ("3", TypeError)]:
        with pytest.raises(error, match="MaxNorm: weight"):
            MaxNorm(weight=weight)
    with pytest.raises(TypeError, match="MaxNorm: norm_axes"):
        MaxNorm(norm_axes="0")
    with pytest.raises(TypeError, match="MaxNorm: norm_axes"):
        MaxNorm(norm_axes=())
    with pytest.raises(ValueError, match="MaxNorm: epsilon"):
        MaxNorm(epsilon=-1.0)
    with pytest.raises(TypeError, match="updates must be a dict"):
        apply_update_hooks([MaxNorm()], out, None)
    with pytest.raises(TypeError, match="item 0 must be a .parameter"):
        apply_update_hooks([MaxNorm()], out, [hid.W])
    with pytest.raises(TypeError, match="item 0 must update a shared"):
        apply_update_hooks([MaxNorm()], out, [(hid.W * 2, hid.W)])
    with pytest.raises(TypeError, match="apply_update_hooks: regularizers"):
        apply_update_hooks(["max_norm"], out, {})


def test_max_norm_from_kwargs_and_no_loss_term():
    _, _, out = _net()
    regs = from_kwargs(out, max_norm=3.0, weight_l2=0.5)
    assert type(regs[0]) is MaxNorm and regs[0].max_norm == 3.0
    assert REGISTRY["max_norm"] is MaxNorm
    penalty = total_penalty(regs, out, get_outputs(out, regularizers=regs))
    np.testing.assert_allclose(evaluate(penalty), 0.5 * (
        (W_HID ** 2).sum() + (W_OUT ** 2).sum()))


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


def test_max_norm_in_sgd_training_loop():
    rng = np.random.default_rng(3)
    inputs = rng.normal(size=(128, 8)).astype(backend.floatX)
    targets = (inputs @ rng.normal(size=(8, 3))).astype(backend.floatX)
    regkit.layers.set_rng(2)
    l_in = InputLayer((None, 8), name="in")
    hid = DenseLayer(l_in, 16, name="hid")
    out = DenseLayer(hid, 3, nonlinearity=None, name="out")
    regs = from_kwargs(out, max_norm=1.0)
    y = T.matrix("y", dtype=backend.floatX)
    outputs = get_outputs(out, regularizers=regs)
    loss = T.mean(T.sum(T.sqr(outputs["out:out"] - y), axis=1))
    params = regkit.get_all_params(out, trainable=True)
    grads = backend.grad(loss, params)
    sgd = [(p, p - np.asarray(0.05, p.dtype) * g)
           for p, g in zip(params, grads)]
    updates = apply_update_hooks(regs, out, sgd)
    train = backend.function([l_in.input_var, y], loss, updates=updates)
    losses, worst = [], 0.0
    for _ in range(100):
        losses.append(float(train(inputs, targets)))
        worst = max(worst, _column_norms(hid.W.get_value()).max(),
                    _column_norms(out.W.get_value()).max())
    assert worst <= 1.0 * (1 + 1e-5)
    assert hid.W.get_value().dtype == backend.floatX
    assert np.mean(losses[-10:]) < 0.5 * losses[0]
    # without the hook the same training leaves the ball
    plain = backend.function([l_in.input_var, y], loss, updates=sgd)
    for _ in range(100):
        plain(inputs, targets)
    assert _column_norms(out.W.get_value()).max() > 1.2


def test_from_kwargs_role_keywords_take_constructor_dicts():
    _, _, out = _net()
    (drop,) = from_kwargs(out, hidden_dropout={"weight": 0.3, "rng": 5})
    assert drop.pattern == ("hid:out",) and drop.weight == 0.3
    assert drop.get_config()["rng"] == 5
    with pytest.raises(TypeError, match="hidden_noise chooses the pattern "
                       "itself; use noise="):
        from_kwargs(out, hidden_noise={"pattern": "x", "weight": 0.1})


def test_output_regularizers_use_the_roles_get_outputs_kept(monkeypatch):
    # get_outputs walked the network once and kept each layer's name and
    # role: regularizers given its outputs do not walk it again
    l_in = InputLayer((None, 3), name="in")
    hid = DenseLayer(l_in, 4, name="hid")
    out = DenseLayer(hid, 2, name="out")
    outputs = get_outputs(out)
    expected = {}
    regs = [regkit.HiddenL1(weight=1.0), regkit.HiddenL2(weight=1.0),
            regkit.KLSparsity(weight=1.0), Contractive(weight=1.0)]
    data = np.random.default_rng(0).normal(size=(5, 3))
    for reg in regs:
        expected[type(reg)] = evaluate(reg.loss(out, outputs),
                                       {l_in.input_var: data})

    # the network is not walked again: no new record is built
    with RecordBuilds(monkeypatch) as builds:
        for reg in regs:
            value = evaluate(reg.loss(out, outputs), {l_in.input_var: data})
            np.testing.assert_allclose(value, expected[type(reg)])
    assert builds.count == 0, "the network was walked again"
    # a plain dict carries no roles: the network is walked, same numbers
    for reg in regs:
        value = evaluate(reg.loss(out, dict(outputs)),
                         {l_in.input_var: data})
        np.testing.assert_allclose(value, expected[type(reg)])


# -- hardening, round two ------------------------------------------------------

def _three_layers():
    l_in = InputLayer((None, 3), name="in")
    hid = DenseLayer(l_in, 4, name="hid")
    return l_in, hid, DenseLayer(hid, 2, name="out")


def test_an_update_given_twice_is_refused():
    _, hid, out = _three_layers()
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
    _, hid, out = _three_layers()
    updates = regkit.apply_update_hooks([MaxNorm(weight=1.0)], [out],
                                        {out.W: out.W * 100,
                                         hid.W: hid.W * 100})
    assert updates.network == [out]
    for W in (out.W, hid.W):
        norms = np.sqrt((evaluate(updates[W]) ** 2).sum(axis=0))
        assert (norms <= 1.0 + 1e-6).all()


def test_build_and_is_registered_as_in_theanets():
    reg = regkit.Regularizer.build("weight_l2", "*.W", 1e-4)
    assert isinstance(reg, WeightL2) and reg.weight == 1e-4
    assert isinstance(regkit.Regularizer.build("BernoulliDropout",
                                               weight=0.2), BernoulliDropout)
    assert regkit.Regularizer.is_registered("hidden_l1")
    assert regkit.Regularizer.is_registered("WeightL2")
    assert not regkit.Regularizer.is_registered("weight_l3")
    assert not regkit.Regularizer.is_registered(None)
    with pytest.raises(ValueError, match="did you mean 'weight_l2'"):
        regkit.Regularizer.build("weight_l3")


def test_from_kwargs_takes_theanets_regularizers_and_rng():
    _, _, out = _three_layers()
    own = WeightL2("*.W", 1e-3)
    regs = regkit.from_kwargs(out, regularizers=[own], hidden_l1=0.1)
    assert regs[0] is own and isinstance(regs[1], regkit.HiddenL1)
    regs = regkit.from_kwargs(out, regularizers={"weight_l2": 1e-4},
                              hidden_dropout=0.5)
    assert [type(r) for r in regs] == [WeightL2, BernoulliDropout]
    with pytest.raises(TypeError, match="given both as a keyword"):
        regkit.from_kwargs(out, regularizers={"weight_l2": 1},
                           weight_l2=2)
    with pytest.raises(TypeError, match="rng"):
        regkit.from_kwargs(out, rng=-1, hidden_dropout=0.5)
    # one rng seeds each stochastic regularizer differently, repeatably
    first = regkit.from_kwargs(out, rng=7, hidden_dropout=0.5,
                               input_noise=0.1, dropout={"out:out": 0.2})
    again = regkit.from_kwargs(out, rng=7, hidden_dropout=0.5,
                               input_noise=0.1, dropout={"out:out": 0.2})
    seeds = [r.rng for r in first]
    assert seeds == [r.rng for r in again]
    assert len(set(seeds)) == 3 and None not in seeds
    mine = regkit.from_kwargs(out, rng=7,
                              hidden_dropout={"weight": 0.5, "rng": 3})
    assert mine[0].rng == 3


def test_stochastic_and_activity_regularizers_refuse_float16():
    l_in = InputLayer((None, 3), input_var=T.matrix(dtype="float16"),
                      name="in")
    out = DenseLayer(l_in, 2, W=np.ones((3, 2), "float16"),
                     b=np.zeros(2, "float16"), name="out")
    with pytest.raises(TypeError, match="float16; regkit supports"):
        get_outputs(out, regularizers=[BernoulliDropout("in:out", 0.5)])
    with pytest.raises(TypeError, match="float16; regkit supports"):
        regkit.HiddenL1("out:out").loss(out, get_outputs(out))


def test_pattern_matching_cost_does_not_grow_with_the_pattern_count():
    # a pattern list of 5,000 literal names (what role keywords build on a
    # deep network) is matched with a set lookup and one regex
    from regkit.regularizers.patterns import _matcher
    names = ["dense%d:out" % i for i in range(5000)]
    match = _matcher(tuple(names) + ("hid*:pre", "x[12]:out"))
    assert match("dense4999:out") and match("hid7:pre") and match("x2:out")
    assert not match("dense5000:out") and not match("x3:out")
    assert not match("Dense1:out")  # case-sensitive, like fnmatchcase
    reg = regkit.HiddenL1(names)
    assert reg._pattern_matcher() is reg._pattern_matcher()  # built once
    reg.pattern = "hid:out"  # reassigning rebuilds it
    assert reg._pattern_matcher()("hid:out")


# --- composition: shared behaviour is held, not inherited ---------------------

def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_no_regularizer_is_more_than_three_levels_below_regularizer():
    # the position of Regularizer in the method resolution order counts
    # every class between, mixins included
    deep = [(sub.__name__, sub.__mro__.index(Regularizer))
            for sub in _all_subclasses(Regularizer)
            if sub.__module__.startswith("regkit.")
            and sub.__mro__.index(Regularizer) > 3]
    assert not deep


def test_no_method_is_copied_between_classes():
    # a function object defined in one class and assigned in another
    owners = {}
    for sub in [Regularizer] + list(_all_subclasses(Regularizer)):
        if not sub.__module__.startswith("regkit."):
            continue
        for name, value in vars(sub).items():
            if callable(value) and not isinstance(value, type):
                owners.setdefault(id(value), set()).add(sub.__qualname__)
    assert not [names for names in owners.values() if len(names) > 1]


def test_match_counts_come_back_from_the_build_not_the_regularizer():
    l_in = InputLayer((None, 3), name="in")
    out = DenseLayer(DenseLayer(l_in, 4, name="hid"), 2, name="out")
    drop = regkit.BernoulliDropout("hid:out", 0.5, rng=0)
    before = dict(vars(drop))
    outputs = regkit.get_outputs(out, regularizers=[drop])
    assert outputs.changed_by(drop) == ["hid:out"]
    # nothing of the graph is kept (the compiled pattern is a cache of the
    # pattern, not of a graph)
    assert set(vars(drop)) - {"_matcher_cache"} == set(before)
    with pytest.warns(UserWarning, match="matches no output"):
        regkit.get_outputs(DenseLayer(InputLayer((None, 3)), 2),
                           regularizers=[drop])
