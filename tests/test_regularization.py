"""The penalty helpers (regkit/regularization.py): apply_penalty,
sum_terms, regularize_layer_params, regularize_layer_params_weighted and
regularize_network_params."""
import numpy as np
import pytest

import regkit

from regkit import backend
from regkit.layers import DenseLayer, InputLayer, Layer
from regkit.penalties import l1, l2
from regkit.regularization import (apply_penalty, regularize_layer_params,
                                   regularize_layer_params_weighted,
                                   regularize_network_params, sum_terms)

from conftest import COMPILED, evaluate

T = backend.tensor


def _l2_np(*arrays):
    return sum(float((np.asarray(a, "float64") ** 2).sum()) for a in arrays)


# --------------------------------------------------------- apply_penalty --

def test_single_tensor(rng):
    data = rng.normal(size=(3, 4))
    assert np.isclose(evaluate(apply_penalty(data, l2)), _l2_np(data))
    shared = backend.shared(data)
    assert np.isclose(evaluate(apply_penalty(shared, l1)),
                      np.abs(data).sum())


@pytest.mark.parametrize("container", [list, tuple, iter])
def test_collections_sum_each_item(container, rng):
    arrays = [rng.normal(size=s) for s in [(3,), (2, 2), (1, 2, 3)]]
    variables = [backend.shared(a) for a in arrays]
    result = apply_penalty(container(variables), l2)
    assert np.isclose(evaluate(result), _l2_np(*arrays))


def test_repeated_item_counts_twice(rng):
    w = backend.shared(rng.normal(size=3))
    assert np.isclose(evaluate(apply_penalty([w, w], l2)),
                      2 * _l2_np(w.get_value()))


def test_empty_collection_is_zero():
    assert apply_penalty([], l2) == 0
    assert apply_penalty(iter(()), l1) == 0
    x = T.fvector()
    assert (T.sum(x) + apply_penalty([], l2)).dtype == "float32"


def test_kwargs_reach_the_penalty():
    def scaled(x, factor=1.0):
        return factor * T.sum(x)
    data = np.ones(3)
    assert float(evaluate(apply_penalty(data, scaled, factor=2.0))) == 6.0
    assert float(evaluate(apply_penalty([data, data], scaled,
                                        factor=3.0))) == 18.0


def test_errors_in_penalty_propagate_without_retry():
    calls = []

    def picky(x):
        calls.append(x)
        raise ValueError("picky refuses %s" % x)
    a, b = T.vector("a"), T.vector("b")
    with pytest.raises(ValueError, match="picky refuses a"):
        apply_penalty([a, b], picky)
    assert calls == [a]  # stopped at the first item, never called on the list


@pytest.mark.parametrize("bad, message", [
    (None, "tensor_or_tensors must be a tensor"),
    ("W", "tensor_or_tensors must be a tensor"),
    ({"W": np.ones(2)}, "tensor_or_tensors must be a tensor"),
    (3.0, "tensor_or_tensors must be a tensor"),
    (np.array([None, None]), "tensor_or_tensors must be a tensor"),
    ([np.ones(2), "W"], "item 1 of tensor_or_tensors must be a tensor, got "
                        "str 'W'"),
    ([{"W": 1}], "item 0 of tensor_or_tensors"),
    ([np.ones(2), None], "item 1 of tensor_or_tensors"),
])
def test_non_tensors_raise_type_error(bad, message):
    with pytest.raises(TypeError, match=message):
        apply_penalty(bad, l2)


def test_layers_get_a_hint():
    layer = DenseLayer(InputLayer((None, 2)), 2)
    with pytest.raises(TypeError, match="regularize_layer_params"):
        apply_penalty(layer, l2)
    with pytest.raises(TypeError, match="item 0.*regularize_layer_params"):
        apply_penalty([layer], l2)


def test_penalty_must_be_callable():
    with pytest.raises(TypeError, match="penalty must be callable"):
        apply_penalty(np.ones(2), "l2")


def test_dtype_preserved_over_lists():
    params = [backend.shared(np.ones((2, 2), "float32")) for _ in range(3)]
    assert apply_penalty(params, l2).dtype == "float32"


# ------------------------------------------------------------- sum_terms --

def _depth(expr):
    """Longest path of Apply nodes from `expr` back to a leaf."""
    depth, stack = {}, [expr]
    while stack:
        var = stack[-1]
        inputs = var.owner.inputs if var.owner is not None else []
        pending = [v for v in inputs if v not in depth]
        if pending:
            stack.extend(pending)
            continue
        depth[var] = 1 + max(depth[v] for v in inputs) if inputs else 0
        stack.pop()
    return depth[expr]


def test_sum_terms_values():
    x = T.vector("x")
    total = sum_terms([x[i] for i in range(40)])  # two levels: 32 + 8
    data = np.arange(40.0)
    assert float(backend.function([x], total, mode=COMPILED)(data)) \
        == data.sum()


def test_sum_terms_accepts_numbers_and_refuses_the_rest():
    assert float(evaluate(sum_terms([1, np.float32(2.0), np.asarray(3.0),
                                     T.constant(4.0)]))) == 10.0
    assert sum_terms(iter([])) == 0
    for bad in (None, "ab", {"a": 1.0}, 3.0):
        with pytest.raises(TypeError, match="sum_terms: terms must be an "
                           "iterable"):
            sum_terms(bad)
    for bad in ([None], ["x"], [True], [InputLayer((None, 2))]):
        with pytest.raises(TypeError, match="sum_terms: terms must be "
                           "symbolic scalars or numbers"):
            sum_terms(bad)
    for bad in ([np.ones(2)], [T.vector()]):
        with pytest.raises(ValueError, match="every term must be a scalar"):
            sum_terms(bad)


@pytest.mark.slow
def test_sum_terms_is_shallow_and_narrow_for_thousands_of_terms():
    terms = [l2(backend.shared(np.ones(2))) for _ in range(10000)]
    total = sum_terms(terms)
    # l2 is 2 nodes deep; three levels of (stack, sum) lie above it
    assert _depth(total) <= 2 + 3 * 2
    assert max(len(node.inputs) for node in _nodes(total)) <= 32


def _nodes(expr):
    stack, seen = [expr], []
    while stack:
        var = stack.pop()
        if var.owner is not None and var.owner not in seen:
            seen.append(var.owner)
            stack.extend(var.owner.inputs)
    return seen


@pytest.mark.skipif(
    backend.NAME == "pytensor",
    reason="PyTensor's default Numba linker cannot compile a function with "
           "1,000 or more inputs (numba's tuple limit), and its compile time "
           "for such graphs is the subject of the speed work (issue 4)")
def test_thousands_of_penalties_compile_with_gradient(rng):
    params = [backend.shared(rng.normal(size=3)) for _ in range(2000)]
    penalty = apply_penalty(params, l2)
    grads = backend.grad(penalty, params[:2])
    value, g0, g1 = backend.function([], [penalty] + grads)()
    assert np.isclose(value, _l2_np(*[p.get_value() for p in params]))
    np.testing.assert_allclose(g0, 2 * params[0].get_value())
    np.testing.assert_allclose(g1, 2 * params[1].get_value())


def test_sum_terms_rejects_non_scalars():
    with pytest.raises(ValueError, match="1-d"):
        sum_terms([T.vector(), T.scalar()])


def test_sum_terms_plain_numbers():
    assert sum_terms([]) == 0
    assert sum_terms([1.5]) == 1.5
    assert sum_terms(range(100)) == 4950


# --------------------------------------------------------------- layers --

def _tied_net():
    """Three dense layers, the second with the first's weight (tied)."""
    l_in = InputLayer((None, 4))
    h1 = DenseLayer(l_in, 4, W=np.full((4, 4), 1.0), b=np.full(4, 5.0),
                    name="h1")
    h2 = DenseLayer(h1, 4, W=h1.W, b=np.full(4, 7.0), name="h2")  # tied W
    out = DenseLayer(h2, 2, W=np.full((4, 2), 2.0), name="out")
    return l_in, h1, h2, out


def test_regularize_layer_params_single_and_list():
    _, h1, h2, out = _tied_net()
    assert float(evaluate(regularize_layer_params(h1, l2))) == 16.0
    assert float(evaluate(regularize_layer_params([h1, out], l2))) == 16 + 32
    assert float(evaluate(regularize_layer_params((out,), l1))) == 16.0


def test_regularize_layer_params_shared_parameter_counts_once():
    # Lasagne would give 32 here: h1.W counted for h1 and again for h2
    _, h1, h2, _ = _tied_net()
    assert float(evaluate(regularize_layer_params([h1, h2], l2))) == 16.0


def test_regularize_layer_params_tags_and_kwargs():
    _, h1, _, _ = _tied_net()
    biases = regularize_layer_params(h1, l2, tags={"regularizable": False})
    assert float(evaluate(biases)) == 4 * 25.0
    everything = regularize_layer_params(h1, l1, tags={})
    assert float(evaluate(everything)) == 16 + 20

    def scaled(x, factor):
        return factor * T.sum(x)
    assert float(evaluate(regularize_layer_params(h1, scaled,
                                                  factor=2))) == 32.0
    # an unknown tag with False excludes nothing
    assert float(evaluate(regularize_layer_params(
        h1, l2, tags={"regularizable": True, "frozen": False}))) == 16.0


def test_unknown_tag_names_are_rejected_not_summed_to_zero():
    _, h1, h2, out = _tied_net()
    special = out.add_param(np.full(3, 3.0), (3,), name="s", special=True)
    for call in (
            lambda: regularize_layer_params(h1, l2, tags={"missing": True}),
            lambda: regularize_layer_params(
                [h1, h2], l2, tags={"regularisable": True}),
            lambda: regularize_layer_params_weighted(
                {h1: 1.0, h2: 2.0}, l2, tags={"special": True}),
            lambda: regularize_network_params(h2, l2,
                                              tags={"special": True})):
        with pytest.raises(ValueError, match="carries the tag '(missing|"
                                             "regularisable|special)'"):
            call()
    # a custom tag counts as known where any listed layer carries it
    assert float(evaluate(regularize_layer_params(
        [h1, out], l2, tags={"special": True}))) == 27.0
    with pytest.warns(UserWarning, match="the key .*'h1'.* has no "
                      "parameter with tags"):  # h1 has none: it adds 0
        assert float(evaluate(regularize_layer_params_weighted(
            {h1: 1.0, out: 2.0}, l2, tags={"special": True}))) == 54.0
    assert float(evaluate(regularize_network_params(
        out, l1, tags={"special": True}))) == 9.0
    # the standard tags are accepted even where nothing carries them
    bare = InputLayer((None, 2))
    assert regularize_layer_params(bare, l2) == 0
    assert regularize_network_params(bare, l2, tags={"trainable": True}) == 0
    assert special in out.get_params(special=True)


def test_regularize_layer_params_errors():
    _, h1, _, _ = _tied_net()
    with pytest.raises(TypeError, match="layer must be a layer"):
        regularize_layer_params(np.ones(2), l2)
    with pytest.raises(TypeError, match="the list holds"):
        regularize_layer_params([h1, "h2"], l2)
    with pytest.raises(TypeError, match="tags must be a dict"):
        regularize_layer_params(h1, l2, tags="regularizable")
    with pytest.raises(TypeError, match="penalty must be callable"):
        regularize_layer_params(h1, None)


def test_weighted_values():
    _, h1, h2, out = _tied_net()
    term = regularize_layer_params_weighted({h1: 0.1, out: 0.5}, l2)
    assert np.isclose(evaluate(term), 0.1 * 16 + 0.5 * 32)
    # each layer on its own: the tied W gets both coefficients
    term = regularize_layer_params_weighted({h1: 1.0, h2: 2.0}, l2)
    assert np.isclose(evaluate(term), 16 + 2 * 16)
    assert regularize_layer_params_weighted({}, l2) == 0


def test_weighted_keeps_float32():
    l_in = InputLayer((None, 3))
    layer = DenseLayer(l_in, 2, W=np.ones((3, 2), "float32"))
    for coeff in (0.1, np.float64(0.1), 1, np.float32(0.1)):
        term = regularize_layer_params_weighted({layer: coeff}, l2)
        assert term.dtype == "float32", coeff
        assert np.isclose(evaluate(term), 6 * float(coeff), rtol=1e-6)


def test_weighted_symbolic_coefficient():
    _, h1, _, _ = _tied_net()
    c = T.scalar("c")
    term = regularize_layer_params_weighted({h1: c}, l2)
    assert np.isclose(evaluate(term, {c: 0.25}), 4.0)
    with pytest.raises(ValueError, match="scalar"):
        regularize_layer_params_weighted({h1: T.vector()}, l2)


@pytest.mark.parametrize("coeff, error", [
    (-0.1, ValueError), (float("nan"), ValueError), (float("inf"), ValueError),
    ("0.1", TypeError), (None, TypeError), (True, TypeError)])
def test_weighted_bad_coefficients(coeff, error):
    _, h1, _, _ = _tied_net()
    with pytest.raises(error, match="coefficient of"):
        regularize_layer_params_weighted({h1: coeff}, l2)


def test_weighted_bad_layers():
    _, h1, _, _ = _tied_net()
    with pytest.raises(TypeError, match="layers must be a dict"):
        regularize_layer_params_weighted([h1], l2)
    with pytest.raises(TypeError, match="keys of layers must be layers"):
        regularize_layer_params_weighted({"h1": 1.0}, l2)
    with pytest.raises(TypeError, match="keys of layers must be layers"):
        regularize_layer_params_weighted({T.constant(1.0): 1.0}, l2)


def test_weighted_keys_may_be_a_graphs_variables():
    # a hand-written MLP, nothing named but the input: each key's weights
    # are the ones it reads directly, not the other key's
    x = T.matrix("x")
    W1 = backend.shared(np.ones((3, 4)))
    b1 = backend.shared(np.zeros(4))
    W2 = backend.shared(2 * np.ones((4, 2)))
    h1 = T.tanh(T.dot(x, W1) + b1)
    h2 = T.tanh(T.dot(h1, W2))
    term = regularize_layer_params_weighted({h1: 0.1, h2: 0.5}, l2)
    assert np.isclose(evaluate(term), 0.1 * 12 + 0.5 * 32)
    # in the other order, the same
    term = regularize_layer_params_weighted({h2: 0.5, h1: 0.1}, l2)
    assert np.isclose(evaluate(term), 0.1 * 12 + 0.5 * 32)
    # the biases by tag, as for layers
    term = regularize_layer_params_weighted({h1: 1.0}, l1,
                                            tags={"trainable": True})
    assert np.isclose(evaluate(term), 12)
    # a key without parameters (the input) adds 0, and says why; h1 is no
    # key, so h2 takes W1 too (a graph's keys stop at each other only)
    with pytest.warns(UserWarning, match="the key .*x.* has no parameter "
                      "with tags.*an input of the graph has none"):
        term = regularize_layer_params_weighted({x: 1.0, h2: 0.5}, l2)
    assert np.isclose(evaluate(term), 0.5 * (12 + 32))
    # a variable that is not a layer takes the parameters up to the next
    # key below it: h1's pre-activation, a key beside h1, takes W1
    z1 = T.dot(x, W1)
    h1 = T.tanh(z1 + b1)
    h2 = T.tanh(T.dot(h1, W2))
    with pytest.warns(UserWarning, match="has no parameter"):
        term = regularize_layer_params_weighted({h2: 0.5, h1: 0.1, z1: 1.0},
                                                l2)
    assert np.isclose(evaluate(term), 1.0 * 12 + 0.5 * 32)


def test_regularize_network_params():
    _, h1, h2, out = _tied_net()
    assert float(evaluate(regularize_network_params(out, l2))) == 16 + 32
    assert float(evaluate(regularize_network_params(
        out, l1, tags={"trainable": True}))) == 16 + 20 + 28 + 16
    assert float(evaluate(regularize_network_params([h2, out], l2))) == 48
    with pytest.raises(TypeError, match="layer must be a layer"):
        regularize_network_params(None, l2)
    with pytest.raises(TypeError, match="tags"):
        regularize_network_params(out, l2, tags=["regularizable"])


def test_gradient_of_network_penalty(rng):
    _, h1, _, out = _tied_net()
    penalty = regularize_network_params(out, l2)
    g = evaluate(backend.grad(penalty, h1.W))
    np.testing.assert_allclose(g, 2 * h1.W.get_value())


def test_custom_layer_parameters():
    class Scale(Layer):
        def __init__(self, incoming, **kwargs):
            super(Scale, self).__init__(incoming, **kwargs)
            self.scale = self.add_param(np.full(3, 2.0), (3,), name="scale")

        def get_output_for(self, input, **kwargs):
            return input * self.scale
    layer = Scale(InputLayer((None, 3)))
    assert float(evaluate(regularize_network_params(layer, l2))) == 12.0


# ---------------------------------------- the catalogue through the helpers --

def test_catalogue_penalties_take_keywords_through_every_helper(rng):
    from regkit.penalties import (elastic_net, group_lasso, orthogonality,
                                  total_variation)
    W1 = rng.normal(size=(4, 3)).astype(backend.floatX)
    W2 = rng.normal(size=(3, 2)).astype(backend.floatX)
    l_in = InputLayer((None, 4))
    l_hid = DenseLayer(l_in, 3, W=W1)
    l_out = DenseLayer(l_hid, 2, W=W2)

    def net(a, b):
        return a(W1.astype("float64")) + b(W2.astype("float64"))

    def en(a):
        return 0.2 * np.abs(a).sum() + 0.8 * (a ** 2).sum()

    def gl(a):
        return np.sqrt((a ** 2).sum(axis=0)).sum()

    def orth(a):
        return ((a.T @ a - np.eye(a.shape[1])) ** 2).sum()

    def tv(a):
        return (np.abs(np.diff(a, axis=0)).sum()
                + np.abs(np.diff(a, axis=1)).sum())

    cases = [
        (regularize_network_params(l_out, elastic_net, l1_ratio=0.2),
         net(en, en)),
        (regularize_layer_params([l_hid, l_out], group_lasso, axis=0),
         net(gl, gl)),
        (regularize_layer_params_weighted({l_hid: 0.5, l_out: 2.0},
                                          orthogonality),
         0.5 * orth(W1.astype("float64")) + 2 * orth(W2.astype("float64"))),
        (apply_penalty([l_hid.W, l_out.W], total_variation), net(tv, tv)),
    ]
    for expr, expected in cases:
        assert expr.dtype == backend.floatX
        np.testing.assert_allclose(evaluate(expr), expected, rtol=1e-5)


def test_tag_like_keywords_name_the_helper_and_point_to_tags():
    l_in = InputLayer((None, 3))
    hid = DenseLayer(l_in, 2)
    out = DenseLayer(hid, 1)
    hid.add_param(np.ones(2), (2,), name="g", frozen=True)
    calls = [
        ("regularize_network_params",
         lambda **kw: regularize_network_params(out, l2, **kw)),
        ("regularize_layer_params",
         lambda **kw: regularize_layer_params([hid, out], l2, **kw)),
        ("regularize_layer_params_weighted",
         lambda **kw: regularize_layer_params_weighted({hid: 0.1}, l2, **kw)),
    ]
    for helper, call in calls:
        for key, tag in [("regularisable", "regularizable"),
                         ("regularizable", "regularizable"),
                         ("trainabel", "trainable"), ("frozn", "frozen")]:
            with pytest.raises(TypeError) as info:
                call(**{key: True})
            message = str(info.value)
            assert message.startswith(helper + ":")
            assert "l2() takes no keyword %r" % key in message
            assert "tags={%r: True}" % tag in message
        # a keyword that is not like any tag is still named with the helper
        with pytest.raises(TypeError, match="%s: the penalty l2\\(\\) takes "
                           "no keyword 'l1_ratio'" % helper):
            call(l1_ratio=0.5)


@pytest.mark.parametrize("penalty", [regkit.l1, regkit.l2])
def test_l1_and_l2_over_a_list_are_fused_per_dtype_with_the_plain_value(
        penalty):
    # float32 and float64 items: one fused node each
    from regkit.backend import fused
    arrays = [np.full(3, -0.5, dtype="float32"), np.full((2, 2), 2.0),
              np.full(3, -0.5, dtype="float32")]
    total = regkit.apply_penalty(arrays, penalty)
    assert total.dtype == "float64"
    nodes = {v.owner for v in backend.ancestors([total])
             if v.owner is not None
             and isinstance(v.owner.op, fused._FusedReduction)}
    assert sorted(node.inputs[0].dtype for node in nodes) == [
        "float32", "float64"]
    want = sum(float(penalty(a).eval()) for a in arrays)
    assert float(total.eval()) == pytest.approx(want, rel=1e-12)
    # keywords, or another penalty, keep one term per tensor
    assert float(regkit.apply_penalty(arrays, regkit.elastic_net,
                                      l1_ratio=1.0).eval()) == pytest.approx(
        float(regkit.apply_penalty(arrays, regkit.l1).eval()), rel=1e-6)
    with pytest.raises(TypeError, match="item 1 of tensors|float16"):
        regkit.apply_penalty([arrays[0], np.ones(2, dtype="float16")],
                             penalty)
