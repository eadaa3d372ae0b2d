"""The one record of a network (regkit/layers/network.py): the roles of its
layers, and a record that is never another network's nor stale."""
import numpy as np

import regkit
from regkit import backend
from regkit import layers as L
from regkit.layers import DenseLayer, ElemwiseSumLayer, InputLayer

T = backend.tensor
FLOATX = backend.floatX


def test_layer_roles():
    a, b = InputLayer((None, 2), name="a"), InputLayer((None, 2), name="b")
    h = DenseLayer(a, 2, name="h")
    merged = ElemwiseSumLayer([h, b], name="m")
    top = DenseLayer(merged, 2, name="top")
    expected = {"a": "input", "h": "hidden", "b": "input", "m": "hidden",
                "top": "output"}
    # roles come from the graph: a queried layer that another layer reads
    # is hidden, and the model's layers in any order give the same roles
    for query in ([top], [top, h], [h, top], L.get_all_layers(top),
                  L.get_all_layers(top)[::-1]):
        roles = L.layer_roles(query)
        assert {l.name: r for l, r in roles.items()} == expected
        assert list(roles) == L.get_all_layers(top)


def test_two_output_layers_roles_and_names_from_all_layers():
    l_in = InputLayer((None, 2))
    trunk = DenseLayer(l_in, 3)
    left, right = DenseLayer(trunk, 2), DenseLayer(trunk, 1)
    roles = L.layer_roles([left, right])
    assert list(roles.values()) == ["input", "hidden", "output", "output"]
    everything = L.get_all_layers([left, right])
    # the model's layers (theanets' `layers`) give the same roles and names
    assert L.layer_roles(everything) == roles
    assert list(L.get_outputs(everything)) == list(
        L.get_outputs([left, right]))
    assert [n for n, _ in L.named_params(everything)] == [
        n for n, _ in L.named_params([left, right])]
    # in another order, the roles are still the graph's
    assert dict(L.layer_roles(everything[::-1])) == dict(roles)


def test_a_record_is_not_kept_alive_by_the_cache():
    import gc
    import weakref
    out = regkit.DenseLayer(regkit.InputLayer((None, 4)), 3)
    record = weakref.ref(regkit.as_network(out))
    layer = weakref.ref(out)
    del out
    gc.collect()
    assert record() is None and layer() is None


# --- the record: never another network's, never stale ------------------------

def _two_nets(values):
    def net(prefix, value):
        layer = regkit.InputLayer((None, 2), name=prefix + "in")
        layer = regkit.DenseLayer(layer, 2, W=np.full((2, 2), value),
                                  name=prefix + "h")
        return {"in": layer.input_layer, "h": layer}
    return [net(p, v) for p, v in values]


def test_a_container_that_is_not_held_never_finds_another_networks_record():
    import collections
    # each container is freed at once (reference counting), so the next
    # one often gets its id: its record must not be found by that id
    for form in (lambda d: d.values(), lambda d: collections.deque(
            d.values()), lambda d: set(d.values())):
        kept = []
        for round_ in range(12):
            (net,) = _two_nets([("n%d_" % round_, 1.0 + round_)])
            kept.append(regkit.as_network(form(net)))  # records stay alive
            names = [n for n, _ in regkit.named_params(form(net))]
            assert names == ["n%d_h.W" % round_, "n%d_h.b" % round_]


def test_a_graph_is_read_afresh_after_a_variable_is_named():
    x = T.matrix("x")
    W1 = backend.shared(np.ones((2, 2), FLOATX), name="W")
    W2 = backend.shared(np.full((2, 2), 3.0, FLOATX), name="W")
    h = T.tanh(T.dot(x, W1))
    loss = T.dot(h, W2).sum()
    outputs = regkit.get_outputs(loss)
    W1.name = "enc.W"
    h.name = "h"
    assert [n for n, _ in regkit.named_params(loss)] == ["enc.W", "W"]
    assert "h:out" in regkit.get_outputs(loss)
    del outputs


def test_names_are_the_same_with_inputs_given_at_an_inner_layer():
    rng = np.random.default_rng(0)
    l_in = regkit.InputLayer((None, 2))
    low = regkit.DenseLayer(l_in, 2, W=rng.normal(size=(2, 2)))
    mid = regkit.DenseLayer(low, 2, W=rng.normal(size=(2, 2)))
    top = regkit.DenseLayer(mid, 2, W=rng.normal(size=(2, 2)))
    outputs = regkit.get_outputs(top, inputs={mid: T.matrix("m")})
    names = regkit.layer_names(regkit.get_all_layers(top))
    assert outputs.layers[names[mid]] is mid
    assert outputs.layers[names[top]] is top
    drop = regkit.DropConnect(names[mid] + ".W", 0.5, rng=0)
    changed = regkit.get_outputs(top, inputs={mid: T.matrix("m")},
                                 regularizers=[drop])
    assert changed.changed_by(drop) == [names[mid] + ".W"]
