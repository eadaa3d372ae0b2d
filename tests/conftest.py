"""Shared helpers for the regkit test suite (run once per backend): the
small networks that tests in several files build, and the helpers those
tests share.  Tests import them by name (``from conftest import mlp``);
``tests/`` is on the import path however deep the test file is.

The compile mode: functions compiled without an explicit ``mode`` use
:func:`regkit.backend.quick_compile` (Python implementations, no C
compiler, no Numba JIT) in every test of a run that includes ``tests/``,
the docstring and docs examples too; ``tests/test_linkers.py`` names every
linker explicitly.  ``REGKIT_TEST_LINKER=default`` runs everything on the
backend's default linker instead (slower: Numba compiles every function
on PyTensor, the C compiler every new Op on a cold Theano cache).
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import regkit
from regkit import backend
from regkit.layers import (DenseLayer, ElemwiseSumLayer, InputLayer, Layer,
                           MergeLayer)
from regkit.nonlinearities import sigmoid

T = backend.tensor
FLOATX = backend.floatX

_QUICK = []

#: The mode for graphs that PyTensor's Python implementations (the quick
#: mode) run badly: they evaluate a product of three or more tensors
#: element by element in Python (a 300-step training loop of a 16-32-16
#: autoencoder: 60 s instead of 1 s) and cannot add 32 or more terms in
#: one node.  Numba on PyTensor; Theano's Python implementations manage
#: both, so None (the suite's mode) there.
COMPILED = "NUMBA" if backend.NAME == "pytensor" else None


def pytest_configure(config):
    choice = os.environ.get("REGKIT_TEST_LINKER", "quick")
    if choice not in ("quick", "default"):
        raise pytest.UsageError("REGKIT_TEST_LINKER must be 'quick' or "
                                "'default', got %r" % (choice,))
    if choice == "quick":
        _QUICK.append(backend.quick_compile())
        _QUICK[0].__enter__()


#: Linkers whose every compile goes through a heavy library (torch, jax):
#: their parametrizations are marked slow.
SLOW_LINKERS = ("PYTORCH", "JAX")


def pytest_collection_modifyitems(config, items):
    for item in items:
        spec = getattr(item, "callspec", None)
        if spec is not None and any(value in SLOW_LINKERS for value in
                                    spec.params.values()
                                    if isinstance(value, str)):
            item.add_marker(pytest.mark.slow)


def pytest_unconfigure(config):
    while _QUICK:
        _QUICK.pop().__exit__(None, None, None)


def pytest_report_header(config):
    return "regkit on %s, compiling with %s" % (
        backend.NAME, "quick_compile() unless a test names a linker"
        if _QUICK else "the backend's default linker")
#: The mode edge and sweep tests compile with: the suite's own (None:
#: quick_compile(), or the default linker with REGKIT_TEST_LINKER=default;
#: tests/test_linkers.py covers every linker).  Not "FAST_COMPILE", which
#: would ignore REGKIT_TEST_LINKER=default.
FAST = None


def evaluate(expr, givens=None):
    """Compile and evaluate `expr`, feeding `givens` {variable: value}."""
    givens = givens or {}
    inputs = list(givens)
    fn = backend.function(inputs, expr, on_unused_input="ignore")
    return fn(*[givens[v] for v in inputs])


def compile_fast(inputs, outputs, **kwargs):
    """``backend.function`` in the suite's mode (:data:`FAST`), unused
    inputs allowed."""
    return backend.function(inputs, outputs, mode=FAST,
                            on_unused_input="ignore", **kwargs)


@pytest.fixture
def rng():
    return np.random.default_rng(20261121)


# --- regkit networks ---------------------------------------------------------

def mlp(widths=(3, 4, 2), seed=None, hid=None, out=None):
    """regkit's ``in -> hid -> out``: an InputLayer and two DenseLayers so
    named, `widths` units wide, as ``(l_in, hid, out)``.  `hid` and `out`
    are keyword arguments of the two DenseLayers (weights, biases,
    nonlinearity); with `seed`, ``regkit.set_rng(seed)`` runs first, which
    fixes the default initial weights."""
    if seed is not None:
        regkit.set_rng(seed)
    n_in, n_hid, n_out = widths
    l_in = InputLayer((None, n_in), name="in")
    hid_layer = DenseLayer(l_in, n_hid, name="hid", **(hid or {}))
    return l_in, hid_layer, DenseLayer(hid_layer, n_out, name="out",
                                       **(out or {}))


# The weights of `fixed_net` and a batch of its inputs.
W_HID = np.array([[0.5, -1.0, 0.25, 2.0],
                  [-0.5, 0.75, 1.0, -0.25],
                  [1.5, 0.1, -2.0, 0.5]])
B_HID = np.array([0.1, -0.2, 0.3, 0.0])
W_OUT = np.array([[1.0, -1.0], [0.5, 2.0], [-1.5, 0.25], [0.3, 0.7]])
X = np.array([[0.2, -1.0, 0.5], [1.0, 0.3, -0.4], [-0.7, 0.8, 0.1],
              [0.0, 0.5, 1.2], [0.9, -0.6, -0.3]])


def fixed_net(nonlinearity=sigmoid):
    """`mlp` with the weights W_HID, B_HID (`nonlinearity` units) and W_OUT
    (linear units, no bias), against which numpy references are easy."""
    return mlp(hid=dict(W=W_HID, b=B_HID, nonlinearity=nonlinearity),
               out=dict(W=W_OUT, nonlinearity=None))


def loss_value(reg, net=None, data=X):
    """The value of `reg`'s loss term on `net` (default `fixed_net()`) for
    the inputs `data`."""
    l_in, _, out = net or fixed_net()
    outputs = regkit.get_outputs(out, regularizers=[reg])
    return float(evaluate(reg.loss(out, outputs), {l_in.input_var: data}))


def np_sigmoid(a):
    return 1 / (1 + np.exp(-a))


def hidden_values(data=X):
    """The hidden units of `fixed_net()` (sigmoid), computed with numpy."""
    return np_sigmoid(data @ W_HID + B_HID)


def constant_net():
    """`mlp` with constant weights: hid (rectified) 0.5 and a bias of 1,
    out (linear) -1."""
    return mlp(hid=dict(W=np.full((3, 4), 0.5), b=np.ones(4)),
               out=dict(W=np.full((4, 2), -1.0), nonlinearity=None))


def expression_network():
    """A network whose parameters are expressions of shared variables, and
    the names of those variables in Lasagne's order."""
    shared = {name: backend.shared(np.full(shape, i + 1.0), name=name)
              for i, (name, shape) in enumerate([
                  ("W1", (4, 3)), ("W2", (3, 3)), ("x", (3,)), ("y", (3,))])}
    l_in = InputLayer((None, 4))
    hid = DenseLayer(l_in, 3, W=T.dot(shared["W1"], shared["W2"]),
                     b=shared["x"] ** 2 + T.log(shared["y"]))
    out = DenseLayer(hid, 2, W=np.full((3, 2), 5.0), b=np.full(2, 6.0))
    return out, ["W1", "W2", "x", "y", "W", "b"]


def residual(order=("x", "f"), gain=1.0):
    """regkit's residual block ``res = x + f(x)`` (summands in `order`),
    f linear with the weight ``gain * I``: ``(x, f, res)``."""
    x = InputLayer((None, 2), name="x")
    f = DenseLayer(x, 2, W=gain * np.eye(2), b=None, nonlinearity=None,
                   name="f")
    parts = {"x": x, "f": f}
    res = ElemwiseSumLayer([parts[k] for k in order], name="res")
    return x, f, res


class Passthrough(Layer):
    """A layer that returns its input."""

    def get_output_for(self, input, **kwargs):
        return input


class Concat(MergeLayer):
    """A merge layer that sums its inputs (the shape of the first)."""

    def get_output_shape_for(self, input_shapes):
        return input_shapes[0]

    def get_output_for(self, inputs, **kwargs):
        return sum(inputs[1:], inputs[0])


# --- plain symbolic graphs (networks regkit did not build) -------------------

def graph_mlp():
    """A two-layer MLP written by hand, its inputs and parameters (an
    integer counter among them), as a dict."""
    rng = np.random.default_rng(2)
    x, y = T.matrix("x"), T.matrix("y")
    W1 = backend.shared(rng.normal(size=(4, 5)).astype(FLOATX), name="W1")
    b1 = backend.shared(np.zeros(5, FLOATX), name="b1")
    W2 = backend.shared(rng.normal(size=(5, 2)).astype(FLOATX), name="W2")
    steps = backend.shared(np.int64(0), name="steps")
    h = T.tanh(T.dot(x, W1) + b1)
    h.name = "h"
    pred = T.dot(h, W2)
    pred.name = "pred"
    loss = T.mean((pred - y) ** 2) + 0 * steps
    return dict(x=x, y=y, W1=W1, b1=b1, W2=W2, steps=steps, h=h, pred=pred,
                loss=loss)


def sample_x():
    """Six inputs of four features (for `graph_mlp` and the Lasagne
    networks of test_lasagne.py)."""
    return np.random.default_rng(1).normal(size=(6, 4)).astype(FLOATX)


def sample_y():
    """Six targets of `graph_mlp`."""
    return np.random.default_rng(3).normal(size=(6, 2)).astype(FLOATX)


def plain_network(dtype, steps=None):
    """A plain graph: x -> h = tanh(x W1) -> z = h W2 -> p = softmax(z),
    each named; with `steps`, x is (batch, time, 3) and h recurrent-shaped."""
    rng = np.random.default_rng(3)
    x = T.tensor3("x", dtype=dtype) if steps else T.matrix("x", dtype=dtype)
    W1 = backend.shared(rng.normal(size=(3, 4)).astype(dtype), name="W1")
    W2 = backend.shared(rng.normal(size=(4, 2)).astype(dtype), name="W2")
    h = T.tanh(T.dot(x, W1))
    h.name = "h"
    z = T.dot(h, W2)
    z.name = "z"
    p = backend.softmax(z) if not steps else T.nnet.sigmoid(z) \
        if backend.NAME == "theano" else backend.sigmoid(z)
    p.name = "p"
    return x, W1, W2, h, z, p


def residual_graph():
    """A plain residual graph ``s = f + x``, f = x Wf, read by a linear
    output: ``(x, out)``."""
    x = T.matrix("x")
    f = T.dot(x, backend.shared(2 * np.eye(3), name="Wf"))
    f.name = "f"
    s = f + x
    s.name = "s"
    out = T.dot(s, backend.shared(np.ones((3, 1)), name="Wo"))
    return x, out


# --- power iteration ---------------------------------------------------------

def top_sigma(W):
    """The largest singular value of W (N-D: filters first)."""
    matrix = W if W.ndim == 2 else W.reshape(W.shape[0], -1)
    return np.linalg.svd(matrix, compute_uv=False)[0]


def trained(reg, W, steps=30):
    """The regularizer's term over `steps` steps that advance its vectors
    (``W`` a shared variable of a plain graph), and its gradient."""
    net = (W * 1).sum()
    term = reg.loss(net, {})
    updates = regkit.apply_update_hooks([reg], net, {})
    grad = backend.grad(term, W)
    step = compile_fast([], [term, grad], updates=list(updates.items()))
    for _ in range(steps):
        value, gradient = step()
    return float(value), gradient


# --- other processes ---------------------------------------------------------

def run_fresh(script, *args):
    """The JSON that `script` prints last, run in a fresh process that
    imports the regkit under test and compiles in the suite's mode."""
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(
        os.path.abspath(regkit.__file__))))
    command = [sys.executable, str(script)]
    if _QUICK:
        command = [sys.executable, "-c", (
            # the block object is kept: collecting it would end the block
            "import runpy, sys; from regkit import backend; "
            "quick = backend.quick_compile(); quick.__enter__(); "
            "sys.argv = sys.argv[1:]; "
            "runpy.run_path(sys.argv[0], run_name='__main__')"), str(script)]
    done = subprocess.run(command + list(args),
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- counting what regkit does -----------------------------------------------

class InputReads(object):
    """Counts the reads of ``input_layer`` / ``input_layers`` on the given
    layers (the one way a walk learns a layer's inputs, for regkit's
    layers and Lasagne's alike): a context manager that gives each layer
    a counting subclass of its own class (same name, so automatic names
    do not change) and puts the class back on exit."""

    def __init__(self, layers):
        self.layers = list(layers)
        self.count = 0

    def __enter__(self):
        counter = self
        self._classes = {}
        for layer in self.layers:
            cls = type(layer)

            def __getattribute__(obj, name, _cls=cls):
                if name in ("input_layer", "input_layers"):
                    counter.count += 1
                return _cls.__getattribute__(obj, name)

            self._classes[layer] = cls
            layer.__class__ = type(cls.__name__, (cls,),
                                   {"__getattribute__": __getattribute__,
                                    "__module__": cls.__module__})
        return self

    def __exit__(self, *exc):
        for layer, cls in self._classes.items():
            layer.__class__ = cls
        return False


class RecordBuilds(object):
    """Counts the network records regkit builds (each one a walk of the
    network) while it is active: a context manager around the public
    :class:`regkit.layers.Network` constructor."""

    def __init__(self, monkeypatch):
        from regkit.layers import Network
        self.count = 0
        original = Network.__init__
        counter = self

        def counting_init(record, *args, **kwargs):
            counter.count += 1
            original(record, *args, **kwargs)
        self._patch = (monkeypatch, Network, counting_init)

    def __enter__(self):
        monkeypatch, cls, init = self._patch
        monkeypatch.setattr(cls, "__init__", init)
        return self

    def __exit__(self, *exc):
        monkeypatch, cls, _ = self._patch
        monkeypatch.undo()
        return False
