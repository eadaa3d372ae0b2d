"""from_kwargs, serialize and deserialize (regkit/regularizers/factory.py);
every class saved and reloaded in a fresh process."""
import json
import pickle
import textwrap

import numpy as np
import pytest

import regkit
from regkit.nonlinearities import softmax
from regkit.regularizers import (BernoulliDropout, Contractive, GaussianNoise,
                                 HiddenL1, HiddenL2, KLSparsity, MaxNorm,
                                 REGISTRY, RecurrentNorm, RecurrentState,
                                 WeightL1, WeightL2, deserialize, from_kwargs,
                                 serialize)

from conftest import fixed_net, mlp, run_fresh


def test_from_kwargs_each_keyword():
    _, _, out = fixed_net()
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
    _, _, out = fixed_net()
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

    _, _, out = fixed_net()
    try:
        (reg,) = from_kwargs(out, kwargs_spy_l2={"weight": 0.5, "extra": 1})
    finally:
        del REGISTRY["kwargs_spy_l2"], REGISTRY["kwargsspyl2"]
    assert type(reg) is KwargsSpyL2 and seen == {"extra": 1}


def test_from_kwargs_role_keywords_take_constructor_dicts():
    _, _, out = fixed_net()
    (drop,) = from_kwargs(out, hidden_dropout={"weight": 0.3, "rng": 5})
    assert drop.pattern == ("hid:out",) and drop.weight == 0.3
    assert drop.get_config()["rng"] == 5
    with pytest.raises(TypeError, match="hidden_noise chooses the pattern "
                       "itself; use noise="):
        from_kwargs(out, hidden_noise={"pattern": "x", "weight": 0.1})


def test_from_kwargs_takes_theanets_regularizers_and_rng():
    _, _, out = mlp()
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


NEW_KEYS = ["l2_sp", "spectral_norm", "spectral_normalization", "srip",
            "drop_connect", "alpha_dropout", "stochastic_depth",
            "confidence_penalty", "r1_penalty", "jacobian_projection",
            "non_neg", "unit_norm", "min_max_norm", "decoupled_weight_decay"]


@pytest.mark.parametrize("key", NEW_KEYS)
def test_every_new_regularizer_has_its_registry_key_and_keyword(key):
    _, _, out = mlp(seed=0, out={"nonlinearity": softmax})
    weight = 0.0 if key == "non_neg" else 0.1
    (built,) = regkit.from_kwargs(out, **{key: weight})
    assert regkit.REGISTRY[key] is type(built)
    assert regkit.serialize(built)["name"] == key
    assert type(regkit.deserialize(regkit.serialize(built))) is type(built)


# --- serialization -----------------------------------------------------------

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


@pytest.mark.parametrize("name, config", [
    ("spectral_norm", {"n_iter": 10 ** 9}),
    ("srip", {"n_iter": 101}),
    ("spectral_normalization", {"n_iter": 10 ** 400}),
    ("jacobian_projection", {"n_proj": 101}),
])
def test_counts_in_a_config_are_bounded(name, config):
    with pytest.raises(ValueError, match="at most 100"):
        regkit.deserialize({"name": name, "config": config})


# --- every class saved and reloaded in a fresh process -----------------------

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
    # parametrizations change nothing through the regularizer hooks (their
    # route is regkit.parametrize): the round trip keeps their config
    "weight_norm": {"pattern": "W2", "axis": 1},
    "orthogonal": {"pattern": "W2", "method": "householder",
                   "reflections": 2},
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
        data = np.random.default_rng(1).normal(size=(2, 3))
        if getattr(reg, "_parametrize_only", False):  # its own route
            p = regkit.parametrize(net, [reg])
            fn = backend.function([x], [p.apply(net)]
                                  + list(p.replacements.values()))
            return [np.asarray(v).tolist() for v in fn(data)]
        outputs = regkit.get_outputs(net, regularizers=[reg])
        term = T.as_tensor_variable(regkit.total_penalty([reg], net,
                                                         outputs)) * 1.0
        infer = regkit.get_output(net, regularizers=[reg],
                                  deterministic=True)
        hooks = regkit.apply_update_hooks(
            [reg], net, {p: p * 0.9 for p in shared.values()})
        fn = backend.function([x], [outputs["z:out"], infer, term]
                              + list(hooks.values()),
                              on_unused_input="ignore")
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
            if getattr(reg, "_parametrize_only", False):
                before.append(results(reg, built))
                continue
            regkit.total_penalty([reg], net, regkit.get_outputs(
                net, regularizers=[reg]))
            updates = regkit.apply_update_hooks([reg], net, {})
            step = backend.function([], [], updates=list(updates.items()))
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


@pytest.mark.slow
def test_every_class_predicts_the_same_after_reload_in_a_fresh_process(
        tmp_path):
    own = {cls.registry_name for cls in regkit.REGISTRY.values()
           if cls.__module__.startswith("regkit.")}
    assert own == set(SAVED_ROWS)  # a new class needs a row here
    script = tmp_path / "sweep.py"
    script.write_text(_SAVED_SWEEP)
    path = str(tmp_path / "regs")
    before = run_fresh(script, "save", path, json.dumps(SAVED_ROWS))
    # [training output, inference output, loss term, updated parameters]:
    # a reloaded regularizer that draws in the training graph draws anew
    # (its seed sequence continues after a pickle, restarts after a JSON
    # round trip), so only its inference output and updates must agree
    drawing = {"bernoulli_dropout", "gaussian_noise", "alpha_dropout",
               "drop_connect", "stochastic_depth", "jacobian_projection"}
    for after in run_fresh(script, "load", path):
        for name, want, got in zip(SAVED_ROWS, before, after):
            kept = [1] + list(range(3, len(want))) if name in drawing \
                else range(len(want))
            for index in kept:
                np.testing.assert_allclose(got[index], want[index],
                                           rtol=1e-7, err_msg=name)
