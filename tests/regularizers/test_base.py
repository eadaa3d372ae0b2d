"""Regularizer, the registry of names, and what every regularizer shares
(regkit/regularizers/base.py)."""
import logging
import warnings

import numpy as np
import pytest

import regkit
from regkit import backend
from regkit.layers import DenseLayer, InputLayer, get_outputs
from regkit.regularizers import (BernoulliDropout, Contractive, GaussianNoise,
                                 HiddenL1, HiddenL2, KLSparsity, REGISTRY,
                                 RecurrentNorm, RecurrentState, Regularizer,
                                 WeightL1, WeightL2, from_kwargs,
                                 total_penalty)

from conftest import (W_OUT, X, evaluate, fixed_net, hidden_values,
                      mlp)

T = backend.tensor


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


# --- the registry ------------------------------------------------------------

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
    l_in, _, out = fixed_net()
    (reg,) = from_kwargs(out, output_energy=0.5)
    assert isinstance(reg, OutputEnergy) and reg.weight == 0.5
    outputs = get_outputs(out)
    value = evaluate(total_penalty([reg], out, outputs), {l_in.input_var: X})
    assert np.isclose(value, 0.5 * ((hidden_values() @ W_OUT) ** 2).sum())
    with pytest.raises(ValueError, match="taken"):
        type("WeightL2", (Regularizer,), {})


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


def test_log_names_class_weight_and_pattern(caplog):
    with caplog.at_level(logging.INFO, logger="regkit"):
        WeightL2("hid.*", 1e-4).log()
    assert "WeightL2" in caplog.text and "0.0001" in caplog.text
    assert "hid.*" in caplog.text


# --- what every regularizer shares -------------------------------------------

@pytest.mark.parametrize("make", [
    WeightL2, WeightL1, HiddenL1, HiddenL2, KLSparsity, Contractive,
    lambda: Contractive("hid:out"), lambda: WeightL2("hid.*"),
    lambda: HiddenL1("*:pre"),
], ids=lambda make: getattr(make, "__name__", "pattern"))
def test_loss_takes_the_output_layer_or_all_the_layers(make):
    # theanets passes "a list of the layers in the model"; the roles come
    # from the graph, so it selects what the output layer selects
    l_in, hid, out = fixed_net()
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


def test_match_counts_come_back_from_the_build_not_the_regularizer():
    _, _, out = mlp()
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


# --- composition: shared behaviour is held, not inherited --------------------

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
