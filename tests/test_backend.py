import os
import subprocess
import sys

import numpy as np
import pytest

import regkit
from regkit import backend


def test_name_matches_environment():
    assert backend.NAME in ("theano", "pytensor")
    wanted = os.environ.get("REGKIT_BACKEND")
    if wanted:
        assert backend.NAME == wanted


def test_exposed_names_work_together():
    T = backend.tensor
    x = T.vector("x")
    w = backend.shared(np.array([1.0, 2.0]), name="w")
    y = T.sum(x * w)
    g = backend.grad(y, w)
    fn = backend.function([x], [y, g])
    value, gradient = fn(np.array([3.0, 4.0]))
    assert float(value) == 11.0
    np.testing.assert_array_equal(gradient, [3.0, 4.0])
    assert isinstance(w, backend.SharedVariable)
    assert isinstance(x, backend.TensorVariable)
    assert isinstance(backend.as_tensor_variable(np.ones(2)),
                      backend.TensorConstant)
    assert backend.floatX == backend.config.floatX


def test_graph_inputs_and_clone_replace():
    T = backend.tensor
    x = T.vector("x")
    w = backend.shared(np.ones(2), name="w")
    y = (x * w).sum()
    found = backend.graph_inputs([y])
    assert x in found and w in found
    z = backend.clone_replace(y, {x: 2 * x})
    assert backend.function([x], z)(np.array([1.0, 2.0])) == 6.0


def test_is_tensor():
    assert backend.is_tensor(backend.tensor.matrix())
    assert backend.is_tensor(backend.shared(np.zeros(2)))
    assert not backend.is_tensor(np.zeros(2))
    assert not backend.is_tensor(None)
    assert not backend.is_tensor("x")


def test_static_shape():
    T = backend.tensor
    assert backend.static_shape(backend.as_tensor_variable(
        np.ones((2, 5)))) == (2, 5)
    assert backend.static_shape(T.matrix()) == (None, None)
    assert backend.static_shape(T.col()) == (None, 1)
    # a shared variable's value may change: its size is not fixed
    assert backend.static_shape(backend.shared(np.ones((2, 5)))) == (
        None, None)


def test_sigmoid_and_softmax_values():
    T = backend.tensor
    x = T.matrix()
    data = np.array([[0.0, 1.0, -2.0], [3.0, 0.5, 0.0]])
    sig, soft = backend.function([x], [backend.sigmoid(x),
                                       backend.softmax(x)])(data)
    np.testing.assert_allclose(sig, 1 / (1 + np.exp(-data)), rtol=1e-6)
    e = np.exp(data - data.max(axis=1, keepdims=True))
    np.testing.assert_allclose(soft, e / e.sum(axis=1, keepdims=True),
                               rtol=1e-6)


def test_theano_flags_detection(tmp_path):
    detect = backend._user_set_theano_ldflags
    empty_rc = str(tmp_path / "missing")
    assert not detect({"THEANORC": empty_rc})
    assert detect({"THEANO_FLAGS": "floatX=float32,blas.ldflags=-lblas",
                   "THEANORC": empty_rc})
    assert detect({"THEANO_FLAGS": "blas__ldflags=", "THEANORC": empty_rc})
    assert not detect({"THEANO_FLAGS": "floatX=float32", "THEANORC": empty_rc})
    rc = tmp_path / "theanorc"
    rc.write_text("[global]\nfloatX = float32\n")
    assert not detect({"THEANORC": str(rc)})
    rc.write_text("[blas]\nldflags =\n")
    assert detect({"THEANORC": str(rc)})


def _fail():
    raise ImportError("not installed")


def test_neither_backend_gives_install_hint(monkeypatch):
    monkeypatch.setattr(backend, "_import_theano", _fail)
    monkeypatch.setattr(backend, "_import_pytensor", _fail)
    with pytest.raises(ImportError) as info:
        backend._choose({})
    message = str(info.value)
    assert 'pip install "regkit[theano]"' in message
    assert 'pip install "regkit[pytensor]"' in message


def test_requested_backend_missing(monkeypatch):
    monkeypatch.setattr(backend, "_import_pytensor", _fail)
    with pytest.raises(ImportError, match=r"REGKIT_BACKEND=pytensor.*regkit\["):
        backend._choose({"REGKIT_BACKEND": "pytensor"})


def test_unknown_backend_name():
    with pytest.raises(ImportError, match="'tensorflow'"):
        backend._choose({"REGKIT_BACKEND": "tensorflow"})


def test_falls_back_to_pytensor_when_theano_missing(monkeypatch):
    monkeypatch.setattr(backend, "_import_theano", _fail)
    monkeypatch.setattr(backend, "_import_pytensor", lambda: "lib")
    assert backend._choose({}) == ("pytensor", "lib")


def test_import_is_silent_in_a_fresh_process():
    env = dict(os.environ, REGKIT_BACKEND=backend.NAME)
    env.pop("THEANO_FLAGS", None)
    code = ("import regkit, regkit.backend as b; "
            "print(b.NAME, regkit.__version__)")
    result = subprocess.run([sys.executable, "-W", "error", "-c", code],
                            env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [backend.NAME, regkit.__version__]
    assert result.stderr == ""


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bernoulli_and_normal_draws(dtype):
    shape = (400, 250)
    mask = backend.bernoulli(shape, 0.25, dtype, np.random.SeedSequence(3))
    noise = backend.normal(shape, dtype, np.random.SeedSequence(4))
    fn = backend.function([], [mask, noise],
                          updates=backend.random_updates(mask, [noise]))
    (m1, n1), (m2, n2) = fn(), fn()
    assert m1.dtype == dtype and n1.dtype == dtype
    assert set(np.unique(m1).tolist()) == {0.0, 1.0}
    assert abs(m1.mean() - 0.25) < 0.01
    assert abs(n1.std() - 1) < 0.02 and abs(n1.mean()) < 0.02
    assert not np.array_equal(m1, m2) and not np.array_equal(n1, n2)


def test_random_updates_inputs():
    mask = backend.bernoulli((3,), 0.5, "float64", np.random.SeedSequence(0))
    assert len(backend.random_updates({"a": mask, "b": mask * 2})) == 1
    assert backend.random_updates(backend.tensor.vector()) == []
    with pytest.raises(TypeError, match="random_updates"):
        backend.random_updates(np.ones(3))


FAST_PATHS = {
    "sqr": (backend.sum_of_squares, lambda x: backend.tensor.sum(x ** 2),
            lambda a: (a ** 2).sum(), lambda a: 2 * a),
    "abs": (backend.sum_of_abs, lambda x: backend.tensor.sum(abs(x)),
            lambda a: np.abs(a).sum(), np.sign),
}


@pytest.mark.parametrize("kind", sorted(FAST_PATHS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(), (5,), (300, 700), (4, 3, 2, 5)])
@pytest.mark.parametrize("linker", ["default", "c"])
def test_fast_reductions_match_plain_formulas(kind, dtype, shape, linker):
    fast_fn, plain_fn, value_np, grad_np = FAST_PATHS[kind]
    rng = np.random.default_rng(5)
    data = rng.normal(size=shape).astype(dtype)
    x = backend.shared(data)
    fast, plain = fast_fn(x), plain_fn(x)
    assert fast.dtype == dtype and fast.ndim == 0
    mode = backend.c_linker_mode() if linker == "c" else None
    got, want, grad = backend.function(
        [], [fast, plain, backend.grad(fast, x)], mode=mode)()
    exact = value_np(data.astype("float64"))
    rtol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got, exact, rtol=rtol)
    np.testing.assert_allclose(got, want, rtol=rtol)
    np.testing.assert_allclose(grad, grad_np(data), rtol=rtol)


@pytest.mark.parametrize("kind", sorted(FAST_PATHS))
def test_fast_reductions_on_views_and_expressions(kind):
    fast_fn, _, value_np, _ = FAST_PATHS[kind]
    data = np.arange(12.0).reshape(3, 4) - 5
    x = backend.tensor.matrix()
    fn = backend.function([x], [fast_fn(x.T), fast_fn(x[:, ::2] * 2)])
    transposed, strided = fn(data)
    assert np.isclose(transposed, value_np(data))
    assert np.isclose(strided, value_np(data[:, ::2] * 2))
    backend.verify_grad(fast_fn, [data + 0.5], rng=np.random.RandomState(0))


def test_draws_are_the_same_on_every_linker_and_match_numpy():
    results = []
    for mode in (None, backend.c_linker_mode()):
        noise = backend.normal((3, 4), "float32", np.random.SeedSequence(11))
        uniform = backend.bernoulli((5,), 0.5, "float64",
                                    np.random.SeedSequence(12))
        results.append(backend.function(
            [], [noise, uniform], mode=mode,
            updates=backend.random_updates(noise, uniform))())
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
    expected = np.random.default_rng(np.random.SeedSequence(11)) \
        .standard_normal((3, 4), dtype=np.float32)
    np.testing.assert_array_equal(results[0][0], expected)
