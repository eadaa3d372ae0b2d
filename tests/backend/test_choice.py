"""The choice of backend and the library names it hands on
(regkit/backend/choice.py)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import regkit
from regkit import backend
from regkit.backend import choice


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
    # the backends themselves: regkit-nn is not on the registry yet
    assert 'pip install "pytensor>=3.0.7"' in message
    assert '"Theano==1.0.5" "numpy<1.24"' in message
    assert 'pip install ".[pytensor]"' in message and "regkit-nn" not in message


def test_requested_backend_missing(monkeypatch):
    monkeypatch.setattr(choice, "_import_pytensor", _fail)
    with pytest.raises(ImportError,
                       match=r"REGKIT_BACKEND=pytensor.*pip install \"pytensor"):
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


_QUICK_AFTER_DEFAULT = """
import json
import numpy as np
from regkit import backend

def compiled(fn):  # True when the function runs C code or Numba
    linker = fn.maker.linker
    return (type(linker).__name__ != "PerformLinker"
            and getattr(linker, "c_thunks", True) is not False)

x = backend.tensor.vector("x")
before = backend.function([x], (x ** 2).sum())
with backend.quick_compile():
    inside = backend.function([x], (x ** 2).sum())
after = backend.function([x], (x ** 2).sum())
print(json.dumps([compiled(before), compiled(inside), compiled(after),
                  float(inside(np.array([3.0, 4.0])))]))
"""


@pytest.mark.slow
def test_quick_compile_holds_after_a_default_compile_and_ends_with_the_block(
        tmp_path):
    # Theano caches the default mode at the first compile: a quick block
    # entered later must still compile without C, and the default must
    # come back after it
    script = tmp_path / "quick.py"
    script.write_text(_QUICK_AFTER_DEFAULT)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(
        os.path.abspath(regkit.__file__))))
    done = subprocess.run([sys.executable, str(script)], capture_output=True,
                          text=True, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.splitlines()[-1]) == [True, False, True,
                                                         25.0]
