"""Plain symbolic graphs as networks (regkit/layers/graph.py): their shared
variables as parameters, their named variables as layers."""
import sys

import numpy as np

import regkit
from regkit import backend

from conftest import graph_mlp, sample_x

T = backend.tensor
FLOATX = backend.floatX


def test_a_graph_has_its_shared_variables_as_parameters():
    g = graph_mlp()
    # every shared variable, as Lasagne lists every parameter when no tag
    # is given
    assert regkit.get_all_params(g["loss"]) == [g["W1"], g["b1"], g["W2"],
                                                g["steps"]]
    # weights (2 or more dimensions) are regularizable, vectors are not;
    # integer state has no tag: neither trained nor penalized
    assert regkit.get_all_params(g["loss"], regularizable=True) == [
        g["W1"], g["W2"]]
    assert regkit.get_all_params(g["loss"], trainable=True) == [
        g["W1"], g["b1"], g["W2"]]
    assert [name for name, _ in regkit.named_params(g["loss"])] == [
        "W1", "b1", "W2", "steps"]
    roles = regkit.layer_roles(g["loss"])
    assert [(layer.name, role) for layer, role in roles.items()] == [
        ("x", "input"), ("h", "hidden"), ("pred", "output"),
        ("y", "input"), (None, "internal")]  # the loss: never an output
    total = regkit.regularize_network_params(g["loss"], regkit.l2)
    np.testing.assert_allclose(
        float(total.eval()),
        (g["W1"].get_value() ** 2).sum() + (g["W2"].get_value() ** 2).sum(),
        rtol=1e-5)


def _untrained_state_class(monkeypatch, shared):
    """pytensor-ml's NonTrainableParameter, or (where pytensor-ml is not
    installed) a double of it in a double of its module layout."""
    try:
        from pytensor_ml.params import NonTrainableParameter
        return NonTrainableParameter
    except ImportError:
        pass
    import types
    package = types.ModuleType("pytensor_ml")
    params = types.ModuleType("pytensor_ml.params")
    params.NonTrainableParameter = type("NonTrainableParameter",
                                        (type(shared),), {})
    params.StepCounter = type("StepCounter", (type(shared),), {})
    package.params = params
    monkeypatch.setitem(sys.modules, "pytensor_ml", package)
    monkeypatch.setitem(sys.modules, "pytensor_ml.params", params)
    return params.NonTrainableParameter


def test_state_that_is_not_trained_is_never_penalized(monkeypatch):
    g = graph_mlp()
    running = backend.shared(np.ones((5, 5), FLOATX), name="running")
    # pytensor-ml marks such state by its class (recognised by type)
    running.__class__ = _untrained_state_class(monkeypatch, running)
    loss = g["loss"] + T.sum(T.dot(g["h"], running))
    assert running not in regkit.get_all_params(loss, trainable=True)
    assert running not in regkit.get_all_params(loss, regularizable=True)
    assert regkit.WeightL2(weight=1.0).params(loss) == [g["W1"], g["W2"]]


def test_state_a_regularizer_adds_is_never_a_parameter():
    x = T.matrix("x")
    W = backend.shared(np.ones((2, 3)), name="W")
    out = T.dot(x, W).sum()
    regs = [regkit.SpectralNorm(weight=0.1, rng=0), regkit.L2SP(weight=0.1)]
    loss = out + regkit.total_penalty(regs, out, {})
    params = regkit.get_all_params(loss, trainable=True)
    assert params == [W]
    backend.grad(loss, params)  # no DisconnectedInputError
    assert regkit.named_params(loss) == [("W", W)]


def test_output_regularizers_select_a_graphs_named_variables():
    g = graph_mlp()
    regs = [regkit.HiddenL1("h:out", 1.0), regkit.WeightL2("W*", 1e-3)]
    outputs = regkit.get_outputs(g["loss"], regularizers=regs)
    fn = backend.function([g["x"]], regs[0].loss(g["loss"], outputs))
    h = np.tanh(sample_x() @ g["W1"].get_value())
    np.testing.assert_allclose(fn(sample_x()), np.abs(h).sum(axis=1).mean(),
                               rtol=1e-5)
    # the default pattern of an activity term: the hidden variables, not
    # the prediction the loss reads (the model's output)
    names = regkit.HiddenL2(weight=1.0).output_names(g["loss"], outputs)
    assert names == ["h:out"]
