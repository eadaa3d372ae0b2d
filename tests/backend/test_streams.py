"""random_updates (regkit/backend/streams.py): the generators a graph draws
from and the updates that advance them; every draw of regkit fresh with them
and repeated without."""
import numpy as np
import pytest

import regkit
from regkit import backend

from conftest import compile_fast, plain_network, residual_graph

T = backend.tensor
FLOATX = backend.floatX


def test_random_updates_inputs():
    mask = backend.bernoulli((3,), 0.5, "float64", np.random.SeedSequence(0))
    assert len(backend.random_updates({"a": mask, "b": mask * 2})) == 1
    assert backend.random_updates(backend.tensor.vector()) == []
    with pytest.raises(TypeError, match="random_updates"):
        backend.random_updates(np.ones(3))


def test_random_updates_refuses_a_scan_step_that_repeats_its_draws():
    x = backend.tensor.tensor3("x")
    rng_name = []

    def step(x_t):
        dropped = x_t * backend.bernoulli(x_t.shape, 0.5, x_t.dtype,
                                          np.random.SeedSequence(6))
        rng = backend.random_updates(dropped)[0][0]
        rng.name = "step_rng"
        rng_name.append(rng.name)
        return dropped  # without the updates of its draw
    steps, _ = backend.scan(step, sequences=[x])
    with pytest.raises(ValueError, match="step_rng.*without advancing"):
        backend.random_updates(steps)
    # a mask drawn outside and passed in is not a draw inside the step
    mask = regkit.dropout_mask(x[0], 0.5, rng=1)
    steps, _ = backend.scan(lambda x_t, m: x_t * m, sequences=[x],
                            non_sequences=[mask])
    assert len(backend.random_updates(steps)) == 1


# --- every draw fresh with the recipe, repeated without ----------------------

def _drawing_cases():
    def from_outputs(regs, network="loss", term=None):
        def build():
            x, W1, W2, h, z, p = plain_network(FLOATX)
            net = z.sum()  # (p sums to the batch size, whatever h is)
            if network == "residual":
                x, net = residual_graph()
            outputs = regkit.get_outputs(net, regularizers=regs())
            value = outputs[list(outputs)[-1]] if term is None else \
                regkit.total_penalty(term(), net, outputs)
            return x, value, outputs
        return build

    def gradient_penalty():
        x = T.matrix("x")
        w = backend.shared(np.array([1.0, -2.0, 0.5]), name="w")
        value = regkit.gradient_penalty(lambda v: T.tanh(T.dot(v, w)), x,
                                        2 * x, rng=0)
        return x, value, value

    def dropout_mask():
        x = T.matrix("x")
        value = (x * regkit.dropout_mask(x, 0.5, rng=0)).sum()
        return x, value, value

    return {
        "BernoulliDropout": from_outputs(lambda: [regkit.BernoulliDropout(
            "h:out", 0.5, rng=1)]),
        "GaussianNoise": from_outputs(lambda: [regkit.GaussianNoise(
            "h:out", 0.5, rng=1)]),
        "AlphaDropout": from_outputs(lambda: [regkit.AlphaDropout(
            "h:out", 0.3, rng=1)]),
        "DropConnect": from_outputs(lambda: [regkit.DropConnect(
            "W1", 0.5, rng=1)]),
        "StochasticDepth": from_outputs(lambda: [regkit.StochasticDepth(
            "s:out", 0.5, rng=1)], network="residual"),
        "JacobianProjection": from_outputs(lambda: [], term=lambda: [
            regkit.JacobianProjection("h:out", 1.0, wrt="x:out", rng=1)]),
        "gradient_penalty": gradient_penalty,
        "dropout_mask": dropout_mask,
    }


DRAWING = _drawing_cases()


@pytest.mark.parametrize("case", sorted(DRAWING))
def test_every_draw_is_fresh_with_the_recipe_and_repeated_without(case):
    x, value, outputs = DRAWING[case]()
    data = np.random.default_rng(7).normal(size=(6, 3)).astype(FLOATX)
    fresh = compile_fast([x], value, updates=regkit.random_updates(outputs))
    values = [np.asarray(fresh(data)).copy() for _ in range(12)]
    distinct = len({v.tobytes() for v in values})
    if case == "StochasticDepth":  # one branch kept or dropped per call
        assert distinct == 2
    else:
        assert distinct == len(values)
    frozen = compile_fast([x], value)
    repeated = [np.asarray(frozen(data)).copy() for _ in range(3)]
    assert all(np.array_equal(repeated[0], other) for other in repeated[1:])
