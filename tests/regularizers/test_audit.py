"""The audit (regkit/regularizers/audit.py): rows against hand-counted
expectations on every network form, the warnings, the two table forms,
and that it changes nothing."""
import pickle
import warnings

import numpy as np
import pytest

import regkit
from regkit import backend

from conftest import graph_mlp, mlp
from test_lasagne import BatchNormLayer as LasagneBatchNorm
from test_lasagne import DenseLayer as LasagneDense
from test_lasagne import InputLayer as LasagneInput

T = backend.tensor


def _rows(report):
    return {row["name"]: row for row in report.params}


def test_a_regkit_network_row_by_row_with_every_warning():
    _, _, out = mlp((3, 4, 2), seed=0)
    regs = [regkit.WeightL2(weight=1e-4),
            regkit.WeightL2("out.W", weight=1e-3),
            regkit.DecoupledWeightDecay(weight=0.01,
                                        tags={"trainable": True}),
            regkit.MaxNorm("hid.W", weight=3.0),
            regkit.WeightL1("nothing.*", weight=1.0),
            regkit.BernoulliDropout(weight=0.5),
            regkit.BernoulliDropout("out:out", weight=0.1, rng=1),
            regkit.HiddenL1(weight=1e-3)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the audit itself warns nothing
        report = regkit.audit(out, regs)
    rows = _rows(report)
    assert list(rows) == ["hid.W", "hid.b", "out.W", "out.b"]
    assert rows["hid.W"]["shape"] == (3, 4) and rows["hid.W"]["size"] == 12
    assert rows["hid.b"]["shape"] == (4,) and rows["hid.b"]["size"] == 4
    assert rows["hid.W"]["tags"] == ["regularizable", "trainable"]
    assert rows["hid.b"]["tags"] == ["trainable"]
    assert rows["hid.W"]["dtype"] == backend.floatX
    assert rows["hid.W"]["terms"] == [
        ("weight_l2", "0.0001"), ("decoupled_weight_decay", "0.01"),
        ("max_norm", "3")]
    assert rows["out.W"]["terms"] == [
        ("weight_l2", "0.0001"), ("weight_l2#2", "0.001"),
        ("decoupled_weight_decay", "0.01")]
    assert rows["hid.b"]["terms"] == [("decoupled_weight_decay", "0.01")]
    outputs = {row["name"]: row for row in report.outputs}
    assert outputs["hid:out"]["role"] == "hidden"
    assert outputs["hid:out"]["changes"] == ["bernoulli_dropout"]
    assert outputs["hid:out"]["terms"] == ["hidden_l1"]
    assert outputs["out:out"]["changes"] == ["bernoulli_dropout#2"]
    assert outputs["in:out"]["changes"] == []
    text = "\n".join(report.warnings)
    assert "decoupled_weight_decay (DecoupledWeightDecay) decays the 1-D " \
        "parameter hid.b" in text
    assert "out.b" in text  # the other bias too
    assert "out.W is under 2 WeightL2 terms (weight_l2, weight_l2#2)" in text
    assert "weight_l1: WeightL1: pattern 'nothing.*' matches no parameter" \
        in text
    assert "bernoulli_dropout#2 (BernoulliDropout) changes out:out, the " \
        "output of the network" in text
    assert len(report.warnings) == 5


def test_a_lasagne_network_with_a_bias_and_a_norm_scale():
    l_in = LasagneInput((None, 4), T.matrix("x"), name="in")
    hid = LasagneDense(l_in, 5, np.ones((4, 5)), b=0.1, name="hid")
    norm = LasagneBatchNorm(hid, name="bn")
    out = LasagneDense(norm, 2, np.ones((5, 2)), b=None, tanh=False,
                       name="out")
    regs = [regkit.WeightL2(weight=1e-4),
            regkit.WeightL1(tags={"trainable": True}, weight=1e-5)]
    report = regkit.audit(out, regs)
    rows = _rows(report)
    assert list(rows) == ["hid.W", "hid.b", "bn.beta", "bn.gamma",
                          "bn.mean", "out.W"]
    assert rows["bn.mean"]["terms"] == [] and \
        rows["bn.mean"]["tags"] == []
    assert rows["bn.gamma"]["tags"] == ["trainable"]
    assert rows["bn.gamma"]["terms"] == [("weight_l1", "1e-05")]
    assert rows["out.W"]["terms"] == [("weight_l2", "0.0001"),
                                      ("weight_l1", "1e-05")]
    flagged = sorted(w.split(" the 1-D parameter ")[1].split(" ")[0]
                     for w in report.warnings if "1-D parameter" in w)
    assert flagged == ["bn.beta", "bn.gamma", "hid.b"]
    assert [row["role"] for row in report.outputs] == [
        "input", "internal", "hidden", "output"]  # hid feeds the norm


def test_a_plain_graph_and_a_pytensor_ml_like_output():
    g = graph_mlp()
    regs = [regkit.WeightL2(weight=0.5), regkit.GaussianNoise(weight=0.1)]
    report = regkit.audit(g["pred"], regs)
    rows = _rows(report)
    assert [rows[n]["size"] for n in rows] == [20, 5, 10]
    assert sum(1 for r in report.params if r["terms"]) == 2  # the matrices
    assert any(row["changes"] == ["gaussian_noise"]
               for row in report.outputs)


def test_the_tables_in_text_and_markdown():
    _, _, out = mlp((3, 4, 2), seed=0)
    report = regkit.audit(out, [regkit.WeightL2(weight=1e-4)])
    text = str(report).splitlines()
    assert text[0].split() == ["parameter", "shape", "dtype", "size", "tags",
                               "terms", "(label", "coefficient)"]
    assert set(text[1]) <= {"-", " "}
    widths = {len(line) for line in text[:6]}
    assert text[2].startswith("hid.W") and "weight_l2 0.0001" in text[2]
    assert max(widths) < 120
    assert text[-1] == "no warnings" or text[-1].startswith("warning: ")
    md = report.to_markdown().splitlines()
    assert md[0].startswith("| parameter | shape |")
    assert md[1].startswith("|---|")
    assert md[2].startswith("| hid.W | 3x4 |")
    assert repr(report) == "<Audit: 4 parameters, 5 outputs, 0 warnings>"


def test_the_audit_changes_nothing_and_compiles_nothing(monkeypatch):
    _, hid, out = mlp((3, 4, 2), seed=0)
    regs = [regkit.WeightL2(weight=regkit.schedules.Linear(0, 1e-3, 10)),
            regkit.BernoulliDropout(weight=0.5, rng=3),
            regkit.MaxNorm(weight=2.0)]
    before = pickle.dumps((hid.W.get_value(), [r.get_config()
                                               for r in regs]))

    def refuse(*args, **kwargs):
        raise AssertionError("the audit compiled a function")
    monkeypatch.setattr(backend, "function", refuse)
    report = regkit.audit(out, regs)
    assert pickle.dumps((hid.W.get_value(),
                         [r.get_config() for r in regs])) == before
    assert _rows(report)["hid.W"]["terms"][0] == (
        "weight_l2", "Linear(start=0.0, stop=0.001, steps=10)")
    # and the regularizers still build their graph afterwards
    outputs = regkit.get_outputs(out, T.matrix("x"), regularizers=regs)
    assert "hid:out" in outputs


def test_with_the_outputs_of_get_outputs_every_named_output_is_listed():
    l_in, _, out = mlp((3, 4, 2), seed=0)
    regs = [regkit.BernoulliDropout("hid:pre", weight=0.2, rng=0)]
    outputs = regkit.get_outputs(out, l_in.input_var, regularizers=regs)
    report = regkit.audit(out, regs, outputs)
    names = [row["name"] for row in report.outputs]
    assert "hid:pre" in names and "out:out" in names
    changed = [row["name"] for row in report.outputs if row["changes"]]
    assert changed == ["hid:pre"]


@pytest.mark.parametrize("regs, expected", [
    ([], []),
    ([regkit.HiddenL2("nope:out", weight=1.0)],
     ["hidden_l2 (HiddenL2) with pattern 'nope:out' matches no output"]),
])
def test_output_regularizers_matching_nothing_are_reported(regs, expected):
    _, _, out = mlp((3, 4, 2), seed=0)
    report = regkit.audit(out, regs)
    assert [w[:len(e)] for w, e in zip(report.warnings, expected)] == \
        expected and len(report.warnings) == len(expected)


def _residual():
    x = regkit.InputLayer((None, 2), name="x")
    f = regkit.DenseLayer(x, 2, W=np.eye(2), nonlinearity=None, name="f")
    res = regkit.ElemwiseSumLayer([x, f], name="res")
    out = regkit.DenseLayer(res, 2, W=np.eye(2), name="out")
    return x, out


@pytest.mark.parametrize("with_outputs", [False, True])
def test_stochastic_depth_rows_are_the_sums_it_drops(with_outputs):
    # StochasticDepth picks sum layers, not a role: the audit asks the
    # regularizer (and, given outputs built with it, what it changed)
    x, out = _residual()
    regs = [regkit.StochasticDepth(weight=0.2, rng=0)]
    outputs = regkit.get_outputs(out, regularizers=regs) \
        if with_outputs else None
    report = regkit.audit(out, regs, outputs)
    changed = [row["name"] for row in report.outputs if row["changes"]]
    assert changed == ["res:out"] and report.warnings == []


def test_without_outputs_pre_activation_patterns_are_found():
    _, _, out = mlp((3, 4, 2), seed=0)
    regs = [regkit.GaussianNoise("hid:pre", weight=0.1, rng=0)]
    report = regkit.audit(out, regs)
    assert report.warnings == []
    assert [row["name"] for row in report.outputs if row["changes"]] == \
        ["hid:pre"]


def test_markdown_cells_escape_pipes_backslashes_and_line_breaks():
    from regkit.regularizers.audit import _markdown_cell
    assert _markdown_cell("a|b") == "a\\|b"
    assert _markdown_cell("a\\|b") == "a\\\\\\|b"
    assert _markdown_cell("one\ntwo") == "one two"


def test_a_glob_that_matches_nothing_among_several_is_reported():
    _, _, out = mlp((3, 4, 2), seed=0)
    regs = [regkit.WeightL2(["hid.W", "ot.W"], weight=1e-4),
            regkit.HiddenL1(["hid:out", "hdi:out"], weight=1e-3),
            regkit.WeightL1(["hid.W", "out.W"], weight=1e-4)]
    report = regkit.audit(out, regs)
    assert report.warnings == [
        "weight_l2: WeightL2: the glob 'ot.W' of pattern ['hid.W', 'ot.W'] "
        "matches no parameter",
        "hidden_l1: HiddenL1: the glob 'hdi:out' of pattern ['hid:out', "
        "'hdi:out'] matches no output"]


def test_the_audit_moves_no_lasagne_random_stream_and_takes_shape_inputs():
    # it builds the outputs in inference mode (a Lasagne DropoutLayer
    # draws nothing then) and falls back to ":out" names when the network
    # cannot be built without inputs
    from test_lasagne import LasagneLayer

    class Drop(LasagneLayer):
        built = 0

        def get_output_for(self, x, deterministic=False, **kwargs):
            if not deterministic:
                Drop.built += 1
            return x
    l_in = LasagneInput((None, 4), name="in")
    hid = LasagneDense(l_in, 3, W=np.ones((4, 3)), name="hid")
    out = LasagneDense(Drop(hid, name="drop"), 2, W=np.ones((3, 2)),
                       name="out")
    report = regkit.audit(out, [regkit.WeightL2(weight=1e-4)])
    assert Drop.built == 0 and report.warnings == []
    shaped = LasagneDense(LasagneDense((None, 4), 3, W=np.ones((4, 3)),
                                       name="hid"), 2, W=np.ones((3, 2)),
                          name="out")
    report = regkit.audit(shaped, [regkit.WeightL2(weight=1e-4)])
    assert [row["name"] for row in report.outputs] == ["hid:out", "out:out"]
    assert report.warnings[0].startswith("the outputs could not be built")
