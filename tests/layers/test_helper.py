"""Lasagne's ``layers.helper`` names handed on from their homes
(regkit/layers/helper.py)."""
import importlib

import numpy as np

import regkit
from regkit.layers import helper

from conftest import mlp

HOMES = {"get_all_layers": "walk", "get_all_params": "params",
         "count_params": "params", "get_all_param_values": "params",
         "set_all_param_values": "params", "layer_names": "roles",
         "layer_roles": "network", "named_params": "params",
         "training_only_layers": "network", "STANDARD_TAGS": "tags"}


def test_every_name_is_its_homes_object():
    assert sorted(helper.__all__) == sorted(HOMES)
    for name, module in HOMES.items():
        home = importlib.import_module("regkit.layers." + module)
        assert getattr(helper, name) is getattr(home, name), name
        assert getattr(regkit.layers, name) is getattr(home, name), name


def test_a_lasagne_script_runs_on_the_helper_names():
    # the calls of a Lasagne training script, through Lasagne's module name
    l_in, hid, out = mlp(seed=3)
    assert helper.get_all_layers(out) == [l_in, hid, out]
    weights = helper.get_all_params(out, regularizable=True)
    assert weights == [hid.W, out.W]
    assert helper.count_params(out) == 3 * 4 + 4 + 4 * 2 + 2
    values = helper.get_all_param_values(out)
    helper.set_all_param_values(out, [np.zeros_like(v) for v in values])
    assert not any(np.any(v) for v in helper.get_all_param_values(out))
    helper.set_all_param_values(out, values)
    for want, got in zip(values, helper.get_all_param_values(out)):
        np.testing.assert_array_equal(got, want)
    assert [(name, p) for name, p in helper.named_params(out)] == [
        ("hid.W", hid.W), ("hid.b", hid.b), ("out.W", out.W),
        ("out.b", out.b)]
