"""Property-based tests (hypothesis): random shapes, values and graphs."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import regkit
from regkit import backend
from regkit.layers import InputLayer, Layer, MergeLayer, get_all_layers

T = backend.tensor
SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
finite = st.floats(-1e3, 1e3, allow_nan=False, width=64)


def _matrices(min_side=1):
    return hnp.arrays("float64", hnp.array_shapes(min_dims=2, max_dims=2,
                                                  min_side=min_side,
                                                  max_side=6),
                      elements=finite)


# one compiled function per penalty, fed every example
_X = T.matrix("x", dtype="float64")
_C = T.scalar("c", dtype="float64")
_PENALTIES = {
    "l1": regkit.l1, "l2": regkit.l2,
    "elastic_net": lambda x: regkit.elastic_net(x, l1_ratio=0.3),
    "group_lasso": regkit.group_lasso,
    "orthogonality": regkit.orthogonality,
    "total_variation": regkit.total_variation,
}
_COMPILED = {}


def _penalty_fn(name):
    if name not in _COMPILED:
        penalty = _PENALTIES[name]
        _COMPILED[name] = backend.function(
            [_X, _C], [penalty(_X), penalty(_C * _X)])
    return _COMPILED[name]


@pytest.mark.parametrize("name", sorted(_PENALTIES))
@SETTINGS
@given(x=_matrices(), c=finite)
def test_penalties_are_non_negative_and_scale(name, x, c):
    value, scaled = _penalty_fn(name)(x, c)
    assert value >= 0 and scaled >= 0
    tolerance = 1e-9 * (1 + abs(value) * (1 + c * c))
    if name in ("l1", "group_lasso", "total_variation"):
        np.testing.assert_allclose(scaled, abs(c) * value, rtol=1e-9,
                                   atol=tolerance)
    elif name == "l2":
        np.testing.assert_allclose(scaled, c * c * value, rtol=1e-9,
                                   atol=tolerance)


_LIST = [T.matrix("a%d" % i, dtype="float64") for i in range(4)]
_SUM_FN = {}


@SETTINGS
@given(data=st.data(), count=st.integers(0, 4))
def test_apply_penalty_of_a_list_is_the_sum_in_any_order(data, count):
    arrays = [data.draw(_matrices()) for _ in range(count)]
    order = data.draw(st.permutations(range(count)))
    if count not in _SUM_FN:
        variables = _LIST[:count]
        total = regkit.apply_penalty(variables, regkit.l2)
        permuted = [regkit.l2(v) for v in variables]
        _SUM_FN[count] = backend.function(
            variables, [T.as_tensor_variable(total)] + permuted,
            on_unused_input="ignore") if count else None
    if count == 0:
        assert regkit.apply_penalty([], regkit.l2) == 0
        return
    total, *parts = _SUM_FN[count](*arrays)
    np.testing.assert_allclose(total, sum(parts[i] for i in order),
                               rtol=1e-12)


@SETTINGS
@given(widths=st.lists(st.integers(1, 4), min_size=2, max_size=5),
       data=st.data())
def test_regularize_helpers_ignore_layer_order(widths, data):
    regkit.layers.set_rng(0)
    layer = InputLayer((None, widths[0]))
    layers = []
    for width in widths[1:]:
        layer = regkit.DenseLayer(layer, width)
        layers.append(layer)
    shuffled = data.draw(st.permutations(layers))
    coefficients = {l: float(i + 1) for i, l in enumerate(layers)}
    reshuffled = {l: coefficients[l] for l in shuffled}
    first = regkit.regularize_layer_params(layers, regkit.l2)
    second = regkit.regularize_layer_params(shuffled, regkit.l2)
    third = regkit.regularize_layer_params_weighted(coefficients, regkit.l1)
    fourth = regkit.regularize_layer_params_weighted(reshuffled, regkit.l1)
    a, b, c, d = backend.function([], [first, second, third, fourth])()
    np.testing.assert_allclose(a, b, rtol=1e-6)
    np.testing.assert_allclose(c, d, rtol=1e-6)


# -- random layer graphs ------------------------------------------------------

class _Node(MergeLayer):
    """A merge layer whose inputs are set after construction (for DAGs
    and cycles)."""

    def __init__(self, name):
        Layer.__init__(self, (None, 1), name=name)
        self.input_layers = []
        self.input_shapes = []


def _random_graph(data, cyclic):
    count = data.draw(st.integers(1, 9))
    nodes = [_Node("n%d" % i) for i in range(count)]
    for i, node in enumerate(nodes):
        pool = nodes if cyclic else nodes[:i]
        if pool:
            node.input_layers = data.draw(
                st.lists(st.sampled_from(pool), max_size=3, unique=True))
    return nodes


def _draw_layers(data, nodes, min_size, max_size):
    """A list of distinct layers drawn from `nodes`."""
    return data.draw(st.lists(st.sampled_from(nodes), min_size=min_size,
                              max_size=max_size, unique=True))


def _reachable(queries, stop):
    seen, todo = set(), list(queries)
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        if node not in stop:
            todo.extend(node.input_layers)
    return seen


@SETTINGS
@given(data=st.data())
def test_get_all_layers_on_random_dags(data):
    nodes = _random_graph(data, cyclic=False)
    queries = _draw_layers(data, nodes, min_size=1, max_size=3)
    stop = _draw_layers(data, nodes, min_size=0, max_size=2)
    result = get_all_layers(queries, treat_as_input=stop)
    assert len(result) == len(set(result))              # each once
    assert set(result) == _reachable(queries, set(stop))  # every reachable
    position = {layer: i for i, layer in enumerate(result)}
    for layer in result:                                  # after its inputs
        if layer in stop:
            continue
        for incoming in layer.input_layers:
            assert position[incoming] < position[layer]
    # the queried layers come in query order, where no query feeds another
    independent = [q for q in queries
                   if not any(q in _reachable([o], set(stop)) - {o}
                              for o in queries if o is not q)]
    ranks = [position[q] for q in independent]
    assert ranks == sorted(ranks)


@SETTINGS
@given(data=st.data())
def test_get_all_layers_terminates_on_cycles(data):
    nodes = _random_graph(data, cyclic=True)
    queries = _draw_layers(data, nodes, min_size=1, max_size=3)
    result = get_all_layers(queries)
    assert len(result) == len(set(result))
    assert set(result) == _reachable(queries, set())
