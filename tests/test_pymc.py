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
