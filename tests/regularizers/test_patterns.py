"""Pattern matching of parameter and output names
(regkit/regularizers/patterns.py)."""

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
