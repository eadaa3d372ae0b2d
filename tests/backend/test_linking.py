"""How regkit's Ops reach the linkers (regkit/backend/linking.py): kernels
registered lazily, on unpickling too, and the one patch of a PyTensor
linker."""
import importlib
import os
import subprocess
import sys

import numpy as np
import pytest

import regkit
from regkit import backend


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


@pytest.mark.slow
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
    if mode not in ("JAX", "PYTORCH", "MLX"):
        backend.function([x], loss, mode=backend.linker_modes()[mode],
                         updates=backend.random_updates(out))(np.ones((2, 2)))
print(" ".join(sorted(m for m in ("jax", "torch", "mlx") if m in sys.modules)))
"""


def test_building_and_compiling_imports_no_jax_torch_or_mlx():
    # their kernels are defined when their linker first links a graph
    env = dict(os.environ, REGKIT_BACKEND=backend.NAME)
    result = subprocess.run([sys.executable, "-c", _LAZY_LIBRARIES], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


# where each linker looks up the conversion of an Op: regkit's kernels are
# registered there
FUNCIFY = {"JAX": ("pytensor.link.jax.dispatch", "jax_funcify"),
           "PYTORCH": ("pytensor.link.pytorch.dispatch", "pytorch_funcify"),
           "MLX": ("pytensor.link.mlx.dispatch", "mlx_funcify")}


@pytest.mark.parametrize("mode", [m for m in FUNCIFY
                                  if m in backend.linker_modes()])
def test_a_linker_that_links_defines_its_kernels(mode):
    from regkit.backend import ops
    x = backend.tensor.vector("x")
    fn = backend.function([x], regkit.l2(x), mode=mode)
    assert float(fn(np.array([3.0, 4.0]))) == 25.0
    # the graph it linked holds regkit's reduction Op, whose kernel for
    # this linker is now defined (the linker's generic one refuses the Op)
    assert any(isinstance(node.op, ops._BlasReduction)
               for node in fn.maker.fgraph.toposort())
    module, name = FUNCIFY[mode]
    funcify = getattr(importlib.import_module(module), name)
    assert funcify.dispatch(ops._BlasReduction).__module__ == ops.__name__


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
