import configparser
import os
import subprocess
import sys

import numpy as np
import pytest

import regkit
from regkit import backend
from regkit.backend import choice, random


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
    detect = choice._user_set_theano_ldflags
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
    monkeypatch.setattr(choice, "_import_theano", _fail)
    monkeypatch.setattr(choice, "_import_pytensor", _fail)
    with pytest.raises(ImportError) as info:
        choice._choose({})
    message = str(info.value)
    assert 'pip install "regkit-nn[theano]"' in message
    assert 'pip install "regkit-nn[pytensor]"' in message


def test_requested_backend_missing(monkeypatch):
    monkeypatch.setattr(choice, "_import_pytensor", _fail)
    with pytest.raises(ImportError,
                       match=r"REGKIT_BACKEND=pytensor.*regkit-nn\["):
        choice._choose({"REGKIT_BACKEND": "pytensor"})


def test_unknown_backend_name():
    with pytest.raises(ImportError, match="'tensorflow'"):
        choice._choose({"REGKIT_BACKEND": "tensorflow"})


def test_falls_back_to_pytensor_when_theano_missing(monkeypatch):
    monkeypatch.setattr(choice, "_import_theano", _fail)
    monkeypatch.setattr(choice, "_import_pytensor", lambda: "lib")
    assert choice._choose({}) == ("pytensor", "lib")


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
@pytest.mark.parametrize("linker", sorted(backend.linker_modes()))
def test_fast_reductions_match_plain_formulas(kind, dtype, shape, linker):
    fast_fn, plain_fn, value_np, grad_np = FAST_PATHS[kind]
    rng = np.random.default_rng(5)
    data = rng.normal(size=shape).astype(dtype)
    x = backend.shared(data)
    fast, plain = fast_fn(x), plain_fn(x)
    assert fast.dtype == dtype and fast.ndim == 0
    mode = backend.linker_modes()[linker]
    got, want, grad = backend.function(
        [], [fast, plain, backend.grad(fast, x)], mode=mode)()
    exact = value_np(data.astype("float64"))
    rtol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got, exact, rtol=rtol)
    np.testing.assert_allclose(got, want, rtol=rtol)
    np.testing.assert_allclose(grad, grad_np(data), rtol=rtol)


@pytest.mark.parametrize("kind", sorted(FAST_PATHS))
@pytest.mark.parametrize("linker", sorted(backend.linker_modes()))
def test_float32_reductions_accumulate_in_float64(kind, linker):
    # 2**22 equal float32 values: a float32 accumulator (one BLAS sdot or
    # sasum) is off by about 1e-5 here; a float64 one by nothing visible
    fast_fn, _, value_np, _ = FAST_PATHS[kind]
    for data in (np.full((1024, 4096), 0.01, dtype="float32"),
                 np.random.default_rng(3).random((1024, 4096),
                                                 dtype=np.float32)):
        got = backend.function([], fast_fn(backend.shared(data)),
                               mode=backend.linker_modes()[linker])()
        assert got.dtype == np.float32
        exact = value_np(data.astype(np.float64))
        assert abs(float(got) / exact - 1) < 1e-7
        # a transposed (non-contiguous) view takes the same path
        got_t = backend.function([], fast_fn(backend.shared(data).T),
                                 mode=backend.linker_modes()[linker])()
        assert abs(float(got_t) / exact - 1) < 1e-7


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
    for name, mode in backend.linker_modes().items():
        if name in backend.OWN_RANDOM_STREAMS:
            continue  # JAX's generator: see test_linkers.py
        noise = backend.normal((3, 4), "float32", np.random.SeedSequence(11))
        uniform = backend.bernoulli((5,), 0.5, "float64",
                                    np.random.SeedSequence(12))
        results.append(backend.function(
            [], [noise, uniform], mode=mode,
            updates=backend.random_updates(noise, uniform))())
    for other in results[1:]:
        np.testing.assert_array_equal(results[0][0], other[0])
        np.testing.assert_array_equal(results[0][1], other[1])
    expected = np.random.default_rng(np.random.SeedSequence(11)) \
        .standard_normal((3, 4), dtype=np.float32)
    np.testing.assert_array_equal(results[0][0], expected)


@pytest.mark.parametrize("linker", sorted(backend.linker_modes()))
def test_a_draw_is_computed_once_even_when_its_shape_is_needed(linker):
    x = backend.tensor.matrix()
    mask = backend.bernoulli(x.shape, 0.5, "float64",
                             np.random.SeedSequence(1))
    dropped = x * mask
    # the shape of the product is asked for downstream
    out = backend.tensor.dot(dropped, dropped.T).sum() + dropped.shape[0]
    fn = backend.function([x], out, mode=backend.linker_modes()[linker],
                          updates=backend.random_updates(out))
    draws = [n for n in fn.maker.fgraph.toposort() if random._is_draw(n)]
    assert len(draws) == 1


def test_graph_inputs_in_lasagnes_order():
    T = backend.tensor
    W1, W2, x, y, z = [backend.shared(np.ones((2, 2)), name=n)
                       for n in ("W1", "W2", "x", "y", "z")]

    def names(*exprs):
        return [v.name for v in backend.graph_inputs(exprs)
                if isinstance(v, backend.SharedVariable)]

    assert names(T.dot(W1, W2)) == ["W1", "W2"]
    assert names(x ** 2 + T.log(y)) == ["x", "y"]
    assert names(T.dot(T.dot(x, y * W1), z + W2 * x)) == [
        "x", "y", "W1", "z", "W2"]
    assert names(W2 + y, T.dot(W1, x)) == ["W2", "y", "W1", "x"]


_PICKLE_SAVE = r"""
import pickle, sys
import numpy as np
import regkit
from regkit import backend
x = backend.tensor.matrix("x")
W = backend.shared(np.linspace(-1, 1, 12).reshape(4, 3), name="W")
l_in = regkit.InputLayer((None, 4), input_var=x, name="in")
out = regkit.DenseLayer(l_in, 3, W=W, name="out")
regs = [regkit.BernoulliDropout("in:out", 0.5, rng=3),
        regkit.GaussianNoise("out:out", 0.1, rng=4)]
outputs = regkit.get_outputs(out, regularizers=regs)
loss = outputs["out:out"].sum() + regkit.l2(W) + regkit.l1(W)
fn = backend.function([x], loss, updates=regkit.random_updates(outputs))
data = np.ones((5, 4))
fn(data)
with open(sys.argv[1], "wb") as handle:
    pickle.dump(fn, handle)
print(" ".join(repr(float(fn(data))) for _ in range(3)))
"""

_PICKLE_LOAD = r"""
import pickle, sys, warnings
import numpy as np
warnings.simplefilter("error", UserWarning)
with open(sys.argv[1], "rb") as handle:
    fn = pickle.load(handle)
print(" ".join(repr(float(fn(np.ones((5, 4))))) for _ in range(3)))
"""


def test_pickled_function_runs_the_same_in_a_new_process(tmp_path):
    # the loading process imports nothing of regkit itself: unpickling the
    # Ops must bring their kernels (Numba: no fallback to object mode)
    env = dict(os.environ, REGKIT_BACKEND=backend.NAME)
    path = str(tmp_path / "fn.pkl")
    saved, loaded = [subprocess.run(
        [sys.executable, "-c", script, path], env=env, capture_output=True,
        text=True, timeout=600) for script in (_PICKLE_SAVE, _PICKLE_LOAD)]
    assert saved.returncode == 0, saved.stderr
    assert loaded.returncode == 0, loaded.stderr
    assert "object mode" not in loaded.stderr
    # the copy continues from the state it was saved in, like the original
    assert loaded.stdout.split() == saved.stdout.split()


def test_kernels_defined_late_are_registered_at_once():
    from regkit.backend import linking
    calls = []
    backend.sum_of_squares(np.ones(2))  # an Op entered a graph
    try:
        backend.linker_kernels(lambda: calls.append("defined"))
        # PyTensor registers kernels; Theano's linkers need none
        assert calls == (["defined"] if backend.NAME == "pytensor" else [])
    finally:
        linking._KERNEL_DEFINITIONS.pop()


_LAZY_LIBRARIES = r"""
import sys
import numpy as np
import regkit
from regkit import backend
x = backend.tensor.matrix("x")
out = x * backend.bernoulli(x.shape, 0.5, x.dtype, np.random.SeedSequence(0))
loss = regkit.l2(out) + regkit.l1(out)
for mode in backend.linker_modes():
    if mode not in ("JAX", "PYTORCH"):
        backend.function([x], loss, mode=backend.linker_modes()[mode],
                         updates=backend.random_updates(out))(np.ones((2, 2)))
print(" ".join(sorted(m for m in ("jax", "torch") if m in sys.modules)))
"""


def test_building_and_compiling_imports_neither_jax_nor_torch():
    # their kernels are defined when their linker first links a graph
    env = dict(os.environ, REGKIT_BACKEND=backend.NAME)
    result = subprocess.run([sys.executable, "-c", _LAZY_LIBRARIES], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


@pytest.mark.parametrize("mode", [m for m in ("JAX", "PYTORCH")
                                  if m in backend.linker_modes()])
def test_a_linker_that_links_defines_its_kernels(mode):
    x = backend.tensor.vector("x")
    fn = backend.function([x], regkit.l2(x), mode=mode)
    assert float(fn(np.array([3.0, 4.0]))) == 25.0


def test_a_hook_for_a_linker_this_pytensor_lacks_does_nothing():
    from regkit.backend import linking
    calls = []
    assert linking._wrap_linker("regkit_no_such_module:Linker",
                                calls.append) is None
    assert "regkit_no_such_module" not in sys.modules
    assert linking._wrap_linker("regkit.backend.ops:NoSuchLinker",
                                calls.append) is None
    assert not hasattr(regkit.backend.ops, "NoSuchLinker") and not calls


@pytest.mark.skipif(backend.NAME != "pytensor", reason="PyTensor's linkers")
def test_the_linker_method_regkit_wraps_keeps_its_signature():
    # before_linking wraps fgraph_convert(self, fgraph, input_storage,
    # storage_map, **kwargs) of the PyTorch linker (PyTensor has no
    # documented hook): this fails the day PyTensor changes it
    import importlib
    import inspect
    module, name = backend.PYTORCH_LINKER.split(":")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        pytest.skip("this PyTensor has no PyTorch linker")
    convert = inspect.unwrap(cls.fgraph_convert)
    params = list(inspect.signature(convert).parameters.values())
    assert [p.name for p in params[:4]] == [
        "self", "fgraph", "input_storage", "storage_map"]
    assert all(p.kind is not p.VAR_POSITIONAL for p in params[4:])


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


# --- Theano's BLAS setting, written once (regkit.backend.theanorc) -------------

def test_the_theanorc_command_adds_the_blas_setting_once(tmp_path):
    from regkit.backend import theanorc
    path = str(tmp_path / "theanorc")
    assert theanorc.write_theanorc(path) is True
    assert theanorc.write_theanorc(path) is False
    parser = configparser.ConfigParser()
    parser.read(path)
    assert parser.get("blas", "ldflags") == ""
    kept = tmp_path / "own"
    kept.write_text("[blas]\nldflags = -lopenblas\n[global]\nfloatX = float32\n")
    assert theanorc.write_theanorc(str(kept)) is False
    assert "-lopenblas" in kept.read_text()


@pytest.mark.parametrize("before, after", [
    # comments, key spelling and order stay; the line joins an existing
    # [blas] section, else a new section is appended
    ("# my settings\n[global]\nfloatX = float32  ; single\n"
     "[blas]\n# no ldflags yet\ncheck_openmp = False\n",
     "# my settings\n[global]\nfloatX = float32  ; single\n"
     "[blas]\nldflags =\n# no ldflags yet\ncheck_openmp = False\n"),
    ("[global]\ndevice = cpu",
     "[global]\ndevice = cpu\n\n[blas]\nldflags =\n"),
])
def test_the_theanorc_command_edits_the_file_without_rewriting_it(
        tmp_path, before, after):
    from regkit.backend import theanorc
    path = tmp_path / "theanorc"
    path.write_text(before)
    assert theanorc.write_theanorc(str(path)) is True
    assert path.read_text() == after


def test_the_theanorc_command_refuses_a_file_theano_cannot_read(tmp_path):
    from regkit.backend import theanorc
    path = tmp_path / "theanorc"
    path.write_text("ldflags = outside any section\n")
    with pytest.raises(ValueError, match="theanorc"):
        theanorc.write_theanorc(str(path))
    assert path.read_text() == "ldflags = outside any section\n"


@pytest.mark.parametrize("flags, rc, want", [
    ("", None, "blas.ldflags="),
    ("floatX=float32", None, "floatX=float32,blas.ldflags="),
    ("blas.ldflags=-lblas", None, "blas.ldflags=-lblas"),
    # a configuration file that sets ldflags wins over the start-up default
    ("", "[blas]\nldflags = -lopenblas\n", ""),
    ("", "[global]\nfloatX = float32\n", "blas.ldflags="),
])
def test_the_environment_flag_sets_ldflags_unless_the_user_did(
        tmp_path, flags, rc, want):
    from regkit.backend import theanorc
    site = tmp_path / "site"
    site.mkdir()
    theanorc.write_environment_flag(str(site))
    rc_path = tmp_path / "theanorc"
    if rc is not None:
        rc_path.write_text(rc)
    env = dict(os.environ, THEANO_FLAGS=flags, THEANORC=str(rc_path))
    env.pop("PYTHONPATH", None)
    # site.addsitedir processes the .pth file as Python's start-up does
    # (-S: no other start-up file runs first); regkit must not be imported
    script = ("import os, site, sys; site.addsitedir(%r); "
              "print(os.environ['THEANO_FLAGS']); "
              "print('regkit' in sys.modules)" % str(site))
    done = subprocess.run([sys.executable, "-S", "-c", script],
                          capture_output=True, text=True, env=env, check=True)
    assert done.stderr == ""
    assert done.stdout.splitlines() == [want, "False"]


def test_the_environment_flag_is_harmless_once_regkit_is_gone(tmp_path):
    from regkit.backend import theanorc
    path = theanorc.write_environment_flag(str(tmp_path))
    line = open(path).read().replace(theanorc._FLAGS_MODULE,
                                     str(tmp_path / "removed.py"))
    open(path, "w").write(line)
    script = "import site; site.addsitedir(%r); print('ok')" % str(tmp_path)
    done = subprocess.run([sys.executable, "-S", "-c", script],
                          capture_output=True, text=True, check=True)
    assert (done.stdout, done.stderr) == ("ok\n", "")


@pytest.mark.skipif(backend.NAME != "theano", reason="Theano only")
def test_theano_imports_first_and_scan_compiles_in_the_make_environment():
    # make's Theano environment holds the start-up flag, so a Lasagne
    # script's first line (import theano) works before import regkit; and
    # regkit makes Theano's scan run its Python loop (the Cython one
    # cannot build on Python 3.11), so a recurrent function compiles
    # under the default mode
    import sysconfig
    from regkit.backend import theanorc
    site = sysconfig.get_paths()["purelib"]
    assert os.path.exists(os.path.join(site, theanorc.PTH_NAME)), \
        "make's Theano environment must write %s" % theanorc.PTH_NAME
    script = ("import theano, theano.tensor as T\n"
              "import regkit\n"
              "x = T.vector('x')\n"
              "s, _ = theano.scan(lambda v, a: a + v, sequences=[x],\n"
              "                   outputs_info=[T.zeros(())])\n"
              "print(float(theano.function([x], s[-1])([1., 2., 3.])))\n")
    env = dict(os.environ)
    env.pop("THEANO_FLAGS", None)
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(
        regkit.__file__)))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True,
                          text=True, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "6.0"


def test_the_theanorc_command_runs_without_warnings(tmp_path):
    # runpy warns when the package already imported the module it runs
    env = dict(os.environ, THEANORC=str(tmp_path / "theanorc"),
               PYTHONPATH=os.path.dirname(os.path.dirname(regkit.__file__)))
    done = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-m",
         "regkit.backend.theanorc"],
        capture_output=True, text=True, env=env, check=True)
    assert "RuntimeWarning" not in done.stderr
    assert done.stdout.startswith("added [blas] ldflags =")
    assert (tmp_path / "theanorc").read_text() == "[blas]\nldflags =\n"
