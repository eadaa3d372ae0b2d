"""Penalties on layer outputs, HiddenL1, HiddenL2, KLSparsity,
RecurrentNorm, RecurrentState and ConfidencePenalty
(regkit/regularizers/activity.py), and every output term at its edges."""
import numpy as np
import pytest

import regkit
from regkit import backend
from regkit.layers import DenseLayer, InputLayer, get_outputs
from regkit.nonlinearities import softmax
from regkit.regularizers import (Contractive, HiddenL1, HiddenL2, KLSparsity,
                                 RecurrentNorm, RecurrentState)

from conftest import (B_HID, Passthrough, RecordBuilds, W_HID, W_OUT, X,
                      compile_fast, evaluate, fixed_net, hidden_values,
                      loss_value, mlp, np_sigmoid, plain_network)

T = backend.tensor
FLOATX = backend.floatX


def test_hidden_penalties_are_summed_over_units_and_averaged_over_batch():
    h = hidden_values()
    assert np.isclose(loss_value(HiddenL1()), np.abs(h).sum(1).mean())
    assert np.isclose(loss_value(HiddenL2()), (h ** 2).sum(1).mean())
    # the default pattern is the hidden layers only, not the output layer
    out_value = X @ W_HID + B_HID
    assert not np.isclose(loss_value(HiddenL1()),
                          np.abs(np_sigmoid(out_value) @ W_OUT).sum(1).mean())
    assert np.isclose(loss_value(HiddenL1("out:out")),
                      np.abs(h @ W_OUT).sum(1).mean())
    # doubling the batch does not change the value
    assert np.isclose(loss_value(HiddenL1(), data=np.vstack([X, X])),
                      loss_value(HiddenL1()))


def test_kl_sparsity_matches_numpy():
    rho = 0.2
    mean = hidden_values().mean(axis=0)
    expected = (rho * np.log(rho / mean)
                + (1 - rho) * np.log((1 - rho) / (1 - mean))).sum()
    assert np.isclose(loss_value(KLSparsity(target=rho)), expected)
    with pytest.raises(ValueError, match="target"):
        KLSparsity(target=1.0)
    with pytest.raises(TypeError, match="KLSparsity: target must be a number"):
        KLSparsity(target="0.1")


def _sequence_net():
    l_in = InputLayer((None, 4, 3), name="seq")
    rnn = Passthrough(l_in, name="rnn")
    out = DenseLayer(rnn, 2, name="out")
    return l_in, rnn, out


def test_recurrent_terms_match_numpy(rng):
    data = rng.normal(size=(2, 4, 3))
    l_in, _, out = _sequence_net()
    outputs = get_outputs(out)
    norms = np.sqrt((data ** 2).sum(-1))
    expected_norm = ((norms[:, 1:] - norms[:, :-1]) ** 2).mean()
    expected_state = ((data[:, 1:] - data[:, :-1]) ** 2).sum(-1).mean()
    got = evaluate([RecurrentNorm().loss(out, outputs),
                    RecurrentState().loss(out, outputs)],
                   {l_in.input_var: data})
    assert np.isclose(got[0], expected_norm)
    assert np.isclose(got[1], expected_state)


@pytest.mark.parametrize("make", [RecurrentNorm, RecurrentState])
def test_recurrent_loss_takes_all_the_layers(make, rng):
    l_in, rnn, out = _sequence_net()
    outputs = get_outputs(out)
    data = {l_in.input_var: rng.normal(size=(2, 4, 3))}
    by_output = evaluate(make().loss(out, outputs), data)
    by_layers = evaluate(make().loss([l_in, rnn, out], outputs), data)
    assert by_output > 0 and by_layers == pytest.approx(by_output)


def test_recurrent_terms_need_three_dimensions():
    _, _, out = fixed_net()
    with pytest.raises(ValueError, match="batch, time, features"):
        RecurrentState().loss(out, get_outputs(out))


def test_recurrent_norm_gradient_finite_at_zero_state():
    l_in, _, out = _sequence_net()
    term = RecurrentNorm().loss(out, get_outputs(out))
    grad = evaluate(backend.grad(term, l_in.input_var),
                    {l_in.input_var: np.zeros((1, 4, 3))})
    assert np.isfinite(grad).all()


# --- AR and TAR through existing classes -------------------------------------

@pytest.mark.parametrize("shape", [(4, 6, 3), (2, 9, 5)])
def test_ar_and_tar_are_hidden_l2_and_recurrent_state_rescaled(shape):
    _, _, out = mlp(seed=0, out={"nonlinearity": softmax})
    batch, steps, features = shape
    h = np.random.default_rng(6).normal(size=shape)
    outs = {"rnn:out": h}
    alpha, beta = 2.0, 0.5
    ar = regkit.HiddenL2("rnn:out", alpha / (steps * features))
    tar = regkit.RecurrentState("rnn:out", beta / features)
    total = regkit.total_penalty([ar, tar], out, outs)
    want = alpha * (h ** 2).mean() + beta * ((h[:, 1:] - h[:, :-1]) ** 2
                                             ).mean()
    np.testing.assert_allclose(float(total.eval()), want, rtol=1e-10)


# --- the confidence penalty --------------------------------------------------

def test_confidence_penalty_is_the_mean_negative_entropy():
    p = np.array([[0.2, 0.8], [1.0, 0.0], [0.5, 0.5]], FLOATX)
    _, _, out = mlp(seed=0, out={"nonlinearity": softmax})
    term = regkit.ConfidencePenalty(weight=0.1).loss(out, {"out:out": p})
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(p), 0.0)
    np.testing.assert_allclose(float(term.eval()), plogp.sum(axis=1).mean(),
                               rtol=1e-5)
    # its default pattern: the output layers
    outputs = regkit.get_outputs(out)
    assert regkit.ConfidencePenalty().output_names(out, outputs) == [
        "out:out"]


def test_confidence_penalty_gradient_through_a_softmax():
    z0 = np.random.default_rng(0).normal(size=(3, 4))
    pen = regkit.ConfidencePenalty("p")

    def term(z):
        return pen.term(backend.softmax(z), "p", None, {})
    backend.verify_grad(term, [z0], rng=np.random.RandomState(1))
    # finite at a probability of exactly 0
    p = T.matrix("p")
    grad = backend.function([p], backend.grad(pen.term(p, "p", None, {}),
                                              p))
    assert np.isfinite(grad(np.array([[1.0, 0.0]], FLOATX))).all()


def test_output_regularizers_use_the_roles_get_outputs_kept(monkeypatch):
    # get_outputs walked the network once and kept each layer's name and
    # role: regularizers given its outputs do not walk it again
    l_in, hid, out = mlp()
    outputs = get_outputs(out)
    expected = {}
    regs = [regkit.HiddenL1(weight=1.0), regkit.HiddenL2(weight=1.0),
            regkit.KLSparsity(weight=1.0), Contractive(weight=1.0)]
    data = np.random.default_rng(0).normal(size=(5, 3))
    for reg in regs:
        expected[type(reg)] = evaluate(reg.loss(out, outputs),
                                       {l_in.input_var: data})

    # the network is not walked again: no new record is built
    with RecordBuilds(monkeypatch) as builds:
        for reg in regs:
            value = evaluate(reg.loss(out, outputs), {l_in.input_var: data})
            np.testing.assert_allclose(value, expected[type(reg)])
    assert builds.count == 0, "the network was walked again"
    # a plain dict carries no roles: the network is walked, same numbers
    for reg in regs:
        value = evaluate(reg.loss(out, dict(outputs)),
                         {l_in.input_var: data})
        np.testing.assert_allclose(value, expected[type(reg)])


@pytest.mark.parametrize("reg", [regkit.ConfidencePenalty(weight=0.1),
                                 regkit.R1Penalty(weight=0.1)])
def test_a_default_pattern_that_cannot_apply_is_a_clear_error(reg):
    x, y = T.matrix("x"), T.ivector("y")
    w = backend.shared(np.ones(3), name="w")
    p = backend.softmax(x * w)  # no matrix product: no unit to find
    loss = T.mean(-T.log(p[T.arange(y.shape[0]), y]))
    # the loss is never the output (a scalar): nothing to apply to, and the
    # warning says how to give the prediction
    with pytest.warns(UserWarning, match="no layer has the role 'output'.*"
                      "name the prediction"):
        assert regkit.total_penalty([reg], loss,
                                    regkit.get_outputs(loss)) == 0


# --- every output term at its edges ------------------------------------------
# One table of the terms on outputs (the Jacobian penalties too), so that a
# new one gets a row, not a new test.

def _dense_contractive(x, W1):
    h = np.tanh(x @ W1)
    return ((1 - h ** 2) ** 2 * (W1 ** 2).sum(axis=0)).sum() / len(x)


def _r1_reference(x, W1, W2):
    h = np.tanh(x @ W1)
    grad = ((1 - h ** 2) * W2.sum(axis=1)) @ W1.T  # d sum(z) / dx per row
    return (grad ** 2).sum() / (2 * len(x))


#: name -> (regularizer, numpy reference of (x, W1, W2) or None).
OUTPUT_TERMS = {
    "HiddenL1": (regkit.HiddenL1("h:out", 1.0),
                 lambda x, W1, W2: np.abs(np.tanh(x @ W1)).sum() / len(x)),
    "HiddenL2": (regkit.HiddenL2("h:out", 1.0),
                 lambda x, W1, W2: (np.tanh(x @ W1) ** 2).sum() / len(x)),
    "KLSparsity": (regkit.KLSparsity("p:out", 1.0, target=0.1), None),
    "ConfidencePenalty": (regkit.ConfidencePenalty("p:out", 1.0), None),
    "Contractive": (regkit.Contractive("h:out", 1.0, wrt="x:out"),
                    lambda x, W1, W2: _dense_contractive(x, W1)),
    "R1Penalty": (regkit.R1Penalty("z:out", 1.0, wrt="x:out"),
                  _r1_reference),
    "JacobianProjection": (regkit.JacobianProjection(
        "h:out", 1.0, wrt="x:out", rng=0), None),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("data", ["zero", "batch-of-1", "batch-of-5"])
@pytest.mark.parametrize("term", sorted(OUTPUT_TERMS))
def test_output_terms_at_their_edges(term, data, dtype):
    reg, reference = OUTPUT_TERMS[term]
    x, W1, W2, h, z, p = plain_network(dtype)
    loss = p.sum()
    outputs = regkit.get_outputs(loss)
    expr = regkit.total_penalty([reg], loss, outputs)
    value, g1, g2 = compile_fast([x], [expr] + backend.grad(
        expr, [W1, W2], disconnected_inputs="ignore"))(
        {"zero": np.zeros((2, 3)), "batch-of-1": np.ones((1, 3)),
         "batch-of-5": np.random.default_rng(4).normal(size=(5, 3))}[
             data].astype(dtype))
    assert np.asarray(value).dtype == np.dtype(dtype)
    assert np.isfinite(value) and np.isfinite(g1).all() \
        and np.isfinite(g2).all()
    if reference is not None:
        xs = {"zero": np.zeros((2, 3)), "batch-of-1": np.ones((1, 3)),
              "batch-of-5": np.random.default_rng(4).normal(size=(5, 3))}
        want = reference(xs[data], W1.get_value().astype(float),
                         W2.get_value().astype(float))
        rtol = 1e-4 if dtype == "float32" else 1e-7
        assert float(value) == pytest.approx(want, rel=rtol, abs=1e-6)


@pytest.mark.parametrize("steps", [1, 2, 5])
@pytest.mark.parametrize("cls", [regkit.RecurrentNorm, regkit.RecurrentState])
def test_recurrent_terms_at_their_edges(cls, steps):
    x, W1, W2, h, z, p = plain_network(FLOATX, steps=steps)
    loss = p.sum()
    expr = cls("h:out", 1.0).loss(loss, regkit.get_outputs(loss))
    for data in (np.zeros((1, steps, 3)),
                 np.random.default_rng(5).normal(size=(2, steps, 3))):
        value, grad = compile_fast([x], [expr, backend.grad(expr, W1)])(
            data.astype(FLOATX))
        hs = np.tanh(data @ W1.get_value())
        if cls is regkit.RecurrentState:
            pairs = ((hs[:, 1:] - hs[:, :-1]) ** 2).sum(-1)
        else:
            norms = np.sqrt((hs ** 2).sum(-1))
            pairs = (norms[:, 1:] - norms[:, :-1]) ** 2
        want = pairs.mean() if pairs.size else 0.0  # one step: no pair
        assert float(value) == pytest.approx(want, rel=1e-6, abs=1e-9)
        assert np.isfinite(grad).all()


@pytest.mark.parametrize("order", ["as listed", "reversed"])
def test_an_activity_term_reads_the_changed_output_in_either_order(order):
    x, W1, W2, h, z, p = plain_network(FLOATX)
    loss = p.sum()
    regs = [regkit.HiddenL1("h:out", 1.0),
            regkit.BernoulliDropout("h:out", 0.5, rng=2)]
    regs = regs if order == "as listed" else regs[::-1]
    outputs = regkit.get_outputs(loss, regularizers=regs)
    term = regkit.total_penalty(regs, loss, outputs)
    fn = compile_fast([x], [term, outputs["h:out"]])
    value, dropped = fn(np.ones((4, 3), FLOATX))
    assert (dropped == 0).any()  # the dropout ran
    assert float(value) == pytest.approx(np.abs(dropped).sum() / 4)
