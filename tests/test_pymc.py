"""A regkit penalty as a ``pm.Potential`` on a PyMC 6 model: the example on
the Backends page, run as written, checked against numpy; PyMC's compile
advances regkit's generators."""
import pathlib
import re

import numpy as np
import pytest

pm = pytest.importorskip("pymc", reason="PyMC 6 is installed only in the "
                         "newest-PyTensor environment (Python >= 3.12)")

BACKENDS_PAGE = pathlib.Path(__file__).parents[1] / "docs" / "guide" \
    / "backends.rst"


def _example():
    """The code block of the page's PyMC section."""
    text = BACKENDS_PAGE.read_text()
    section = text[text.index("\nPyMC\n----"):]
    block = re.search(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)",
                      section).group(1)
    return "\n".join(line[4:] for line in block.splitlines())


@pytest.fixture(scope="module")
def example():
    namespace = {}
    exec(compile(_example(), str(BACKENDS_PAGE), "exec"), namespace)
    return namespace


def test_pymc_is_version_6_on_pytensor():
    assert int(pm.__version__.split(".")[0]) >= 6


def test_penalties_as_potentials_give_the_log_density(example):
    X, y = example["X"], example["y"]
    w = np.array([0.5, -0.2, 0.1])
    z = X @ w
    want = np.sum(y * z - np.logaddexp(0, z)) \
        - 2.0 * np.abs(w).sum() - 0.5 * (w ** 2).sum()
    got = example["logp"]({"w": w})
    np.testing.assert_allclose(got, want, rtol=1e-10)
    # and its gradient, through regkit's Ops
    grad = X.T @ (y - 1 / (1 + np.exp(-z))) - 2.0 * np.sign(w) - w
    np.testing.assert_allclose(example["dlogp"]({"w": w}), grad, rtol=1e-10)


@pytest.mark.filterwarnings("ignore:`find_MAP` will return:FutureWarning")
def test_the_l1_potential_shrinks_the_irrelevant_coefficient(example):
    with example["model"]:
        found = pm.find_MAP(progressbar=False, return_inferencedata=False,
                            jitter=False)
    w = found["w"]
    assert abs(w[1]) < 0.05 < min(abs(w[0]), abs(w[2]))


def test_pymc_compile_draws_fresh_masks_without_random_updates():
    # PyMC's compile collects every draw's update through PyTensor's
    # RNGConsumerOp protocol, which regkit's draws follow
    import regkit
    from regkit import backend
    x = backend.tensor.matrix("x")
    h = backend.tensor.tanh(x)
    h.name = "h"
    graph = regkit.apply_regularizers(
        h, [regkit.BernoulliDropout("h:out", 0.5, rng=1)])
    X = np.linspace(0.1, 1.2, 12).reshape(3, 4)
    fresh = pm.compile([x], graph.train.sum())
    assert len({float(fresh(X)) for _ in range(5)}) > 1
    repeat = backend.function([x], graph.train.sum())
    assert len({float(repeat(X)) for _ in range(5)}) == 1


NETWORKS_PAGE = pathlib.Path(__file__).parents[1] / "docs" / "guide" \
    / "networks.rst"


def _bnn(X, y):
    """A Bayesian network in the style of PyMC's examples: the input a
    pm.Data container, the weights free random variables."""
    with pm.Model() as model:
        data = pm.Data("ann_input", X)
        w_in = pm.Flat("w_in_1", shape=(3, 4))
        w_out = pm.Flat("w_1_out", shape=4)
        act = pm.math.tanh(pm.math.dot(data, w_in))
        pm.Bernoulli("out", logit_p=pm.math.dot(act, w_out), observed=y)
    return model


def test_a_potential_over_a_pymc_models_free_variables():
    import regkit
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3))
    y = (X[:, 0] > 0).astype("int8")
    plain, model = _bnn(X, y), _bnn(X, y)
    assert regkit.pymc.free_variable_names(model) == ["w_in_1", "w_1_out"]
    regkit.pymc.potential(model, regkit.l2, "w_*", weight=0.5)
    point = {"w_in_1": rng.standard_normal((3, 4)),
             "w_1_out": rng.standard_normal(4)}
    got = model.compile_logp()(point) - plain.compile_logp()(point)
    want = -0.5 * sum((v ** 2).sum() for v in point.values())
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # one variable by its name: an L1 (Laplace) potential
    model = _bnn(X, y)
    regkit.pymc.potential(model, regkit.l1, "w_1_out", weight=2.0)
    got = model.compile_logp()(point) - plain.compile_logp()(point)
    np.testing.assert_allclose(got, -2.0 * np.abs(point["w_1_out"]).sum(),
                               rtol=1e-12)
    # its gradient reaches the sampler: dlogp compiles and is finite
    assert np.isfinite(model.compile_dlogp()(point)).all()


def test_a_potential_never_chooses_data_and_says_what_exists():
    import regkit
    X = np.ones((4, 3))
    model = _bnn(X, np.ones(4, "int8"))
    with pytest.raises(ValueError, match="pattern 'ann_input' matches no "
                       "free random variable.*'w_in_1'"):
        regkit.pymc.potential(model, regkit.l2, "ann_input")
    with pytest.raises(TypeError, match="penalty must be callable"):
        regkit.pymc.potential(model, "l2")
    with pytest.raises(ValueError, match="weight must be finite and "
                       "non-negative"):
        regkit.pymc.potential(model, regkit.l2, weight=-1.0)
    import pytensor.tensor as pt
    for bad in (pt.constant(-0.5), pt.constant(np.nan)):  # known values
        with pytest.raises(ValueError, match="weight must be finite and "
                           "non-negative"):
            regkit.pymc.potential(model, regkit.l2, weight=bad)
    with pytest.raises(TypeError, match="pattern must be a glob"):
        regkit.pymc.potential(model, regkit.l2, pattern=3)
    with pytest.raises(TypeError, match="must be a PyMC model"):
        regkit.pymc.potential({"w": 1}, regkit.l2)


def test_the_networks_page_pymc_example_runs():
    text = NETWORKS_PAGE.read_text()
    section = text[text.index("\nA PyMC model\n----"):]
    block = re.search(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)",
                      section).group(1)
    code = "\n".join(line[4:] for line in block.splitlines())
    namespace = {}
    exec(compile(code, str(NETWORKS_PAGE), "exec"), namespace)
    import regkit
    assert regkit.pymc.free_variable_names(namespace["model"]) == [
        "w_in_1", "w_1_out"]
    assert [p.name for p in namespace["model"].potentials] == [
        "regkit_penalty"]


def test_the_network_helpers_warn_on_a_pymc_graph():
    # the BNN's shared variable is its data: the helpers would penalize it
    import regkit
    X = np.ones((4, 3))
    with pm.Model():
        data = pm.Data("ann_input", X)
        w = pm.Normal("w_in_1", 0.0, 1.0, shape=(3, 4))
        act = pm.math.tanh(pm.math.dot(data, w))
    with pytest.warns(UserWarning, match=r"named random variables \('w_in_1'"
                      r"\).*\('ann_input'\).*regkit.pymc.potential"):
        regkit.regularize_network_params(act, regkit.l2)


@pytest.mark.filterwarnings("ignore::DeprecationWarning:pytensor")
def test_a_pymc_log_density_warns_and_named_noise_does_not():
    import warnings

    import pytensor
    import pytensor.tensor as pt

    import regkit
    X = np.ones((4, 3))
    with pm.Model() as model:
        data = pm.Data("ann_input", X)
        w = pm.Normal("w_in_1", 0.0, 1.0, shape=(3, 4))
        pm.Normal("out", pm.math.tanh(pm.math.dot(data, w)).sum(axis=1),
                  1.0, observed=np.zeros(4))
    # the log-density reads the weights' values, not their draws
    with pytest.warns(UserWarning, match=r"holds PyMC's operations .*"
                      r"log-density.*\('ann_input'\).*regkit.pymc.potential"):
        regkit.regularize_network_params(model.logp(), regkit.l2)
    # a plain graph that adds a named noise draw is not a PyMC model
    x = pt.matrix("x")
    W = pytensor.shared(np.ones((3, 2)), name="W")
    noise = pt.random.normal(0.0, 0.1, size=(2,), name="noise")
    out = pt.tanh(pt.dot(x, W)) + noise
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        term = regkit.regularize_network_params(out, regkit.l2)
    assert float(term.eval()) == 6.0
    # a non-centred weight (a named deterministic of named draws) warns
    with pm.Model() as model:
        data = pm.Data("X", np.ones((4, 3)))
        z = pm.Normal("z", 0.0, 1.0, shape=3)
        w = pm.Deterministic("w", z * pm.HalfNormal("tau", 1.0))
        pm.Normal("y", pm.math.dot(data, w), 1.0, observed=np.zeros(4))
    with pytest.warns(UserWarning, match=r"named random variables \('z'\)"):
        regkit.named_params(model.observed_RVs[0])
