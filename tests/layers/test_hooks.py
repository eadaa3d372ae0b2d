"""The hook protocol and the named outputs it works on
(regkit/layers/hooks.py)."""
import numpy as np
import pytest

import regkit
from regkit import layers as L
from regkit.layers import get_outputs

from conftest import constant_net


def test_layer_outputs_seen_by_modify_graph():
    seen = []

    class Spy(L.OutputHook):
        def modify_graph(self, outputs):
            assert isinstance(outputs, L.LayerOutputs)
            seen.append((outputs.name, outputs.role, list(outputs)))

    l_in, hid, out = constant_net()
    get_outputs(out, regularizers=[Spy()])
    assert seen == [("in", "input", ["in:out"]),
                    ("hid", "hidden", ["hid:pre", "hid:out"]),
                    ("out", "output", ["out:pre", "out:out"])]
    import pickle
    copy = pickle.loads(pickle.dumps(L.LayerOutputs(None, "x", "hidden",
                                                    [("x:out", 1)])))
    assert (copy.name, copy.role, dict(copy)) == ("x", "hidden", {"x:out": 1})


def test_graph_hooks_must_follow_the_protocol():
    class NotAHook(object):
        def modify_graph(self, outputs):
            pass
    _, _, out = constant_net()
    with pytest.raises(TypeError, match="OutputHook"):
        get_outputs(out, regularizers=[NotAHook()])


def test_hooks_say_whether_they_are_training_only_and_whether_they_draw():
    table = {
        regkit.BernoulliDropout: (True, True),
        regkit.GaussianNoise: (True, True),
        regkit.AlphaDropout: (True, True),
        regkit.DropConnect: (True, True),
        regkit.StochasticDepth: (False, True),
        regkit.SpectralNormalization: (False, True),
        regkit.SpectralNorm: (False, True),
        regkit.SRIP: (False, True),
        regkit.JacobianProjection: (False, True),
        regkit.WeightL2: (False, False),
        regkit.MaxNorm: (False, False),
    }
    for cls, (training_only, draws) in table.items():
        assert (cls.training_only, cls.draws_random) == (training_only,
                                                         draws), cls

    class Legacy(regkit.OutputHook):
        stochastic = True
    assert Legacy.training_only and Legacy().stochastic


def test_the_old_stochastic_flag_keeps_both_its_meanings():
    class MyNoise(regkit.Regularizer):
        stochastic = True

        def __init__(self, pattern=None, weight=0.0, rng=None):
            super(MyNoise, self).__init__(pattern, weight)
            self.rng = rng

    class Flagged(regkit.OutputHook):
        stochastic = np.True_
    assert MyNoise.training_only and MyNoise.draws_random
    assert Flagged.training_only and Flagged.draws_random
    net = regkit.DenseLayer(regkit.InputLayer((None, 3), name="in"), 2,
                            name="out")
    seeds = [regkit.from_kwargs(net, rng=rng, my_noise={
        "pattern": "in:out", "weight": 0.1})[0].rng for rng in (1, 2)]
    assert None not in seeds and seeds[0] != seeds[1]
