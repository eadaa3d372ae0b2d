"""Pattern matching of parameter and output names
(regkit/regularizers/patterns.py)."""

import numpy as np
import pytest

import regkit
from regkit.layers import get_outputs
from regkit.regularizers import HiddenL1, WeightL2

from conftest import fixed_net


def test_pattern_is_case_sensitive_and_no_match_warns_and_adds_zero():
    _, _, out = fixed_net()
    with pytest.warns(UserWarning, match="matches no parameter"):
        assert WeightL2("HID.W").loss(out, {}) == 0
    with pytest.warns(UserWarning, match="matches no output"):
        assert HiddenL1("nothing:out").loss(out, get_outputs(out)) == 0


def test_a_pattern_of_thousands_of_names_matches_exactly_and_is_built_once():
    # a pattern list of 5,000 literal names (what role keywords build on a
    # deep network) mixed with globs; its speed is measured by
    # benchmarks/bench_build.py (the depth table), not here
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


# --- every glob of a pattern must match --------------------------------------

def test_each_glob_that_matches_nothing_warns():
    net = regkit.DenseLayer(regkit.InputLayer((None, 2), name="in"), 2,
                            name="out")
    with pytest.warns(UserWarning, match="glob 'b1'"):
        regkit.L2SP(["out.W", "b1"], 0.1).loss(net, {})
    with pytest.warns(UserWarning, match="glob 'nope:out'"):
        regkit.HiddenL1(["out:out", "nope:out"], 0.1).loss(
            net, regkit.get_outputs(net))


@pytest.mark.parametrize("reg", [
    regkit.DropConnect(["out.W", "typo.*"], 0.5),
    regkit.SpectralNormalization(["out.W", "typo.*"]),
    regkit.BernoulliDropout(["in:out", "typo:*"], 0.5),
    regkit.StochasticDepth(["res:out", "typo:out"], 0.5),
])
def test_each_glob_of_a_graph_change_that_matches_nothing_warns(reg):
    l_in = regkit.InputLayer((None, 2), name="in")
    out = regkit.DenseLayer(l_in, 2, name="out")
    res = regkit.ElemwiseSumLayer([l_in, out], name="res")
    with pytest.warns(UserWarning, match="glob 'typo"):
        regkit.get_output(res, regularizers=[reg])


def _hand_written_mlp(named=False):
    """A plain graph: x -> tanh(x W1 + b1) -> softmax(h W2 + b2); only the
    input is named unless `named`."""
    import numpy as np
    from regkit import backend
    T = backend.tensor
    x = T.matrix("x")
    names = ("W1", "b1", "W2", "b2") if named else (None,) * 4
    W1, b1, W2, b2 = [backend.shared(np.full(shape, 0.5), name=name)
                      for shape, name in zip([(3, 4), (4,), (4, 2), (2,)],
                                             names)]
    h1 = T.tanh(T.dot(x, W1) + b1)
    p = regkit.backend.softmax(T.dot(h1, W2) + b2)
    return x, (W1, b1, W2, b2), h1, p


def test_a_pattern_that_matches_nothing_lists_what_exists():
    _, _, _, p = _hand_written_mlp(named=True)
    with pytest.warns(UserWarning) as record:
        WeightL2("W3").loss(p, None)
    message = str(record[0].message)
    # the names that exist, the closest first
    assert "matches no parameter" in message
    assert message.index("'W1'") < message.index("'b1'")
    with pytest.warns(UserWarning, match="'dense1.W'.*the names are "
                      "automatic.*give the shared variables names"):
        WeightL2("W1").loss(_hand_written_mlp()[3], None)
    outputs = get_outputs(p)
    with pytest.warns(UserWarning) as record:
        HiddenL1("h1:out").loss(p, outputs)
    message = str(record[0].message)
    assert "'x:out'" in message and "h.name = 'h1'" in message


def test_a_bias_left_out_by_the_tag_filter_says_so():
    _, _, _, p = _hand_written_mlp(named=True)
    with pytest.warns(UserWarning, match=r"'b1' matches the pattern but not "
                      r"the tag filter tags=\{'regularizable': True\}"):
        WeightL2("b1").loss(p, None)
    # with the tags it has, it is found
    assert [name for name, _ in WeightL2(
        "b1", tags={"trainable": True}).named_params(p)] == ["b1"]


def test_update_hooks_take_a_named_bias_by_default():
    # a constraint goes where it is named (Keras puts one on any weight);
    # without a pattern, the regularizable weights only, as before
    import numpy as np
    _, (W1, b1, W2, b2), _, p = _hand_written_mlp(named=True)
    b2.set_value(np.array([-1.0, 2.0]))
    assert regkit.NonNeg("b2").tags == {"trainable": True}
    # a norm is per unit of a weight: a layer-wide pattern keeps to it
    for hook in (regkit.MaxNorm("b*", 1.0), regkit.UnitNorm("b1"),
                 regkit.MinMaxNorm("b1"), regkit.NonNeg()):
        assert hook.tags == {"regularizable": True}
    net = regkit.DenseLayer(regkit.InputLayer((None, 2)), 2, name="out")
    updates = {p: p * 2 for p in net.get_params()}
    new = regkit.apply_update_hooks([regkit.MaxNorm("out.*", 1.0)], net,
                                    updates)
    assert new[net.b] is updates[net.b]
    assert regkit.WeightL2("b1").tags == {"regularizable": True}
    new = regkit.apply_update_hooks([regkit.NonNeg("b2")], p, {b2: b2 * 1})
    assert new[b2].eval().tolist() == [0.0, 2.0]
    new = regkit.apply_update_hooks([regkit.NonNeg()], p,
                                    {b2: b2 * 1, W2: -W2})
    assert new[b2].eval().tolist() == [-1.0, 2.0]  # a bias: not chosen
    assert (new[W2].eval() == 0).all()
    # the round trip keeps the tags it was built with
    hook = regkit.NonNeg("b*")
    from regkit.regularizers.factory import deserialize, serialize
    assert deserialize(serialize(hook)).tags == hook.tags


def test_the_prediction_is_never_hidden_whichever_expression_is_given():
    from regkit import backend
    T = backend.tensor
    x, _, h1, p = _hand_written_mlp(named=True)
    h1.name, p.name = "h1", "p"
    y = T.ivector("y")
    loss = -T.mean(T.log(p[T.arange(y.shape[0]), y]))
    for network in (p, loss):
        roles = {layer.name: role for layer, role
                 in regkit.layer_roles(network).items()}
        assert roles["h1"] == "hidden" and roles["p"] == "output"
        regs = regkit.from_kwargs(network, hidden_dropout=0.5,
                                  output_noise=0.1)
        assert list(regs[0].pattern) == ["h1:out"]
        assert list(regs[1].pattern) == ["p:out"]
    # the loss plus a penalty on a weight the network reads: the same
    penalized = loss + 1e-3 * (list(regkit.get_all_params(p))[0] ** 2).sum()
    roles = {layer.name: role for layer, role
             in regkit.layer_roles(penalized).items()}
    assert roles["h1"] == "hidden" and roles["p"] == "output"
    # a loss that computes the prediction itself (a weight only it reads):
    # what it reads stays hidden, and no output role lands on the scalar
    W3 = backend.shared(np.ones((4, 2)), name="W3")
    loss = T.mean((h1 * W3[:, 0] - 1) ** 2)
    roles = {layer.name: role for layer, role
             in regkit.layer_roles(loss).items()}
    assert roles["h1"] == "hidden"
    assert list(roles.values())[-1] == "internal"
    with pytest.warns(UserWarning, match="no output layer"):
        assert regkit.from_kwargs(loss, output_dropout=0.1) == []
    # a matrix product in the loss is a unit: the model's output
    y2 = T.matrix("y2")
    loss = T.mean((T.dot(h1, W3) - y2) ** 2)
    roles = regkit.layer_roles(loss)
    names = regkit.layer_names(list(roles))
    assert [(names[layer], role) for layer, role in roles.items()
            if role in ("hidden", "output")] == [("h1", "hidden"),
                                                  ("dense1", "output")]


def test_a_role_keyword_on_an_unnamed_graph_says_how_to_name_a_layer():
    from regkit import backend
    x = backend.tensor.matrix("x")
    scale = backend.shared(np.ones(3))
    p = backend.softmax(backend.tensor.tanh(x * scale))  # no unit
    with pytest.warns(UserWarning, match="no hidden layer; on a symbolic "
                      r"graph a hidden layer is a variable you named"):
        assert regkit.from_kwargs(p, hidden_dropout=0.5) == []


def test_a_graph_change_that_matches_nothing_lists_the_outputs():
    _, _, h1, p = _hand_written_mlp(named=True)
    h1.name = "h1"
    with pytest.warns(UserWarning) as record:
        regkit.apply_regularizers(p, [regkit.BernoulliDropout("hidd:out",
                                                              0.5)])
    message = str(record[0].message)
    assert "matches no output" in message and "'h1:out'" in message
