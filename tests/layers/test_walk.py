"""The walk over a network and the network argument (regkit/layers/walk.py)."""
import pytest

import regkit
from regkit import layers as L
from regkit.layers import InputLayer, get_all_layers

from conftest import Concat, Passthrough, constant_net


def _names(layers):
    return [layer.name for layer in layers]


def test_walk_stack():
    l_in = InputLayer((None, 2), name="in")
    l1 = Passthrough(l_in, name="l1")
    l2 = Passthrough(l1, name="l2")
    assert _names(get_all_layers(l2)) == ["in", "l1", "l2"]
    assert _names(get_all_layers([l2, l1])) == ["in", "l1", "l2"]
    assert _names(get_all_layers(l1)) == ["in", "l1"]


def test_walk_merge_takes_inputs_in_order():
    a = InputLayer((None, 2), name="a")
    b = InputLayer((None, 2), name="b")
    pb = Passthrough(b, name="pb")
    merge = Concat([pb, a], name="m")
    assert _names(get_all_layers(merge)) == ["b", "pb", "a", "m"]


def test_walk_split_and_bridge():
    # in -> h1 -> (h2a, h2b) -> merge; plus a bridge from h1 to the merge
    l_in = InputLayer((None, 2), name="in")
    h1 = Passthrough(l_in, name="h1")
    h2a = Passthrough(h1, name="h2a")
    h2b = Passthrough(h1, name="h2b")
    merge = Concat([h2a, h2b, h1], name="m")
    assert _names(get_all_layers(merge)) == ["in", "h1", "h2a", "h2b", "m"]
    bridge = Concat([h1, h2b], name="bridge")
    assert _names(get_all_layers(bridge)) == ["in", "h1", "h2b", "bridge"]


def test_walk_query_order_and_treat_as_input():
    l_in = InputLayer((None, 2), name="in")
    h1 = Passthrough(l_in, name="h1")
    h2 = Passthrough(h1, name="h2")
    other = Passthrough(l_in, name="other")
    assert _names(get_all_layers([other, h2])) == ["in", "other", "h1", "h2"]
    assert _names(get_all_layers([h2, other])) == ["in", "h1", "h2", "other"]
    assert _names(get_all_layers(h2, treat_as_input=[h1])) == ["h1", "h2"]
    assert _names(get_all_layers(h2, treat_as_input=[h2])) == ["h2"]
    assert _names(get_all_layers([h2, other], treat_as_input=[h1])) == [
        "h1", "h2", "in", "other"]


def test_walk_terminates_on_cycle():
    l_in = InputLayer((None, 2), name="in")
    a = Passthrough(l_in, name="a")
    b = Passthrough(a, name="b")
    a.input_layer = b  # a <-> b
    result = get_all_layers(b)
    assert sorted(_names(result)) == ["a", "b"]
    assert len(result) == 2


def test_walk_skips_shape_inputs():
    merge = Concat([(None, 2), InputLayer((None, 2), name="in")], name="m")
    assert _names(get_all_layers(merge)) == ["in", "m"]


def test_walk_deep_chain_without_recursion():
    layer = InputLayer((None, 2))
    for _ in range(10000):
        layer = Passthrough(layer)
    assert len(get_all_layers(layer)) == 10001


def test_walk_bad_arguments():
    with pytest.raises(TypeError, match="layer"):
        get_all_layers(None)
    with pytest.raises(TypeError, match="layer"):
        get_all_layers([InputLayer((None, 2)), "x"])
    with pytest.raises(TypeError, match="treat_as_input"):
        get_all_layers(InputLayer((None, 2)), treat_as_input=["x"])


def test_one_shot_iterators_are_refused_where_a_network_is_expected():
    _, _, out = constant_net()
    for call in (lambda net: L.get_all_layers(net),
                 lambda net: L.get_all_params(net),
                 lambda net: L.layer_roles(net),
                 lambda net: L.get_outputs(net),
                 lambda net: regkit.regularize_network_params(net, regkit.l2),
                 lambda net: regkit.from_kwargs(net, hidden_dropout=0.5),
                 lambda net: regkit.apply_update_hooks([], net, {}),
                 lambda net: regkit.total_penalty([], net, {})):
        with pytest.raises(TypeError, match="one-shot iterator"):
            call(layer for layer in [out])
        with pytest.raises(TypeError, match="one-shot iterator"):
            call(iter([out]))
        call([out])  # a list is fine
