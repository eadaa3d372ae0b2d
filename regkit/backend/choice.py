"""Which symbolic library regkit runs on, and the names taken from it.

The backend is chosen once, when :mod:`regkit.backend` is first imported:

1. ``REGKIT_BACKEND=theano`` or ``REGKIT_BACKEND=pytensor`` in the
   environment selects that backend (and fails loudly if it is missing);
2. otherwise Theano is used if it imports;
3. otherwise PyTensor.

This module holds every line that differs between Theano and PyTensor
(marked ``# backend: theano only`` / ``# backend: pytensor only``); the
other backend modules (:mod:`~regkit.backend.graph`,
:mod:`~regkit.backend.ops`, :mod:`~regkit.backend.random`) are written
once, on the names defined here.

Theano 1.0.5 and numpy >= 1.22
------------------------------
``import theano`` asks ``numpy.distutils`` for BLAS link flags, which fails
with numpy >= 1.22.  When the user has not set ``blas.ldflags`` themselves
(in ``THEANO_FLAGS`` or a ``.theanorc`` file), regkit appends
``blas.ldflags=`` to ``THEANO_FLAGS`` in ``os.environ`` before importing
Theano (so child processes see the same setting).  Theano then calls BLAS
through numpy's C API; the warning Theano logs about that choice is
silenced, since regkit made it.  Set ``blas.ldflags`` yourself to link
another BLAS.

Examples
--------
>>> from regkit.backend import choice
>>> choice.NAME in ("theano", "pytensor")
True
"""
import contextlib
import importlib.util
import logging
import os
import sys
import warnings

import numpy as np

from ._theano_flags import supply_ldflags, user_ldflags

__all__ = [
    "NAME", "tensor", "config", "floatX", "shared", "function", "grad",
    "clone_replace", "as_tensor_variable", "Variable", "TensorVariable",
    "TensorConstant", "Constant", "SharedVariable", "sigmoid", "softmax",
    "verify_grad",
    "Elemwise", "disconnected_grad", "scan", "c_linker_mode", "linker_modes",
    "quick_compile",
    "OWN_RANDOM_STREAMS", "JAX_LINKER", "PYTORCH_LINKER", "MLX_LINKER",
    "specify_broadcastable", "solve", "expm",
]

_CHOICES = ("theano", "pytensor")
#: What to install: the backends themselves (regkit's distribution name,
#: regkit-nn, is not on the package registry until the first release; in a
#: clone, its extras install the same).
_INSTALL_HINT = ('install one: pip install "pytensor>=3.0.7", or on Python '
                 '3.11 pip install "Theano==1.0.5" "numpy<1.24" "scipy<1.11" '
                 '(in a clone of regkit: pip install ".[pytensor]" or '
                 '".[theano]")')


def _user_set_theano_ldflags(environ=os.environ):
    """Whether the user configured Theano's ``blas.ldflags`` anywhere."""
    return user_ldflags(environ) is not None


def _numpy_breaks_theano_blas():
    major, minor = (int(part) for part in np.__version__.split(".")[:2])
    return (major, minor) >= (1, 22)


def _import_theano():  # backend: theano only
    # an empty ldflags (regkit's choice, or the one-time setting of
    # regkit.backend.theanorc) makes Theano log that it uses its own C
    # BLAS code: expected, so not shown
    supplied = user_ldflags() == ""
    if _numpy_breaks_theano_blas() and supply_ldflags(os.environ):
        supplied = True
    blas_logger = logging.getLogger("theano.tensor.blas")
    old_level = blas_logger.level
    if supplied:
        blas_logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            # Theano 1.0.5 uses numpy aliases and numpy.distutils, both
            # deprecated; nothing a regkit user can act on.
            warnings.simplefilter("ignore", DeprecationWarning)
            import theano
            import theano.tensor
            import theano.tensor.nnet
            import theano.gradient
            import theano.gof.graph
    finally:
        blas_logger.setLevel(old_level)
    _use_python_scan_loop()
    return theano


def _use_python_scan_loop():  # backend: theano only
    """Make Theano's ``scan`` run its Python loop on Python 3.11+.

    Theano 1.0.5 builds its ``scan`` loop from Cython code that includes
    ``longintrepr.h``, a header Python 3.11 moved: the build fails, and
    with it every function holding a ``scan`` (recurrent layers, Lasagne's
    LSTM and GRU) under the default mode.  Theano falls back to the Python
    loop when that module cannot be imported, so it is marked missing.
    The loop's body is still compiled C; only the step-to-step loop runs
    in Python.  It works whatever was imported first, as long as regkit is
    imported before the first function with a ``scan`` is compiled."""
    if sys.version_info >= (3, 11):
        sys.modules.setdefault("theano.scan_module.scan_perform_ext", None)


def _import_pytensor():  # backend: pytensor only
    import pytensor
    import pytensor.tensor
    import pytensor.gradient
    import pytensor.graph.traversal
    return pytensor


def _choose(environ=os.environ):
    wanted = environ.get("REGKIT_BACKEND", "").strip().lower()
    if wanted and wanted not in _CHOICES:
        raise ImportError(
            "REGKIT_BACKEND must be 'theano' or 'pytensor', got %r"
            % environ["REGKIT_BACKEND"])
    if wanted:
        importer = _import_theano if wanted == "theano" else _import_pytensor
        try:
            return wanted, importer()
        except ImportError as exc:
            raise ImportError(
                "REGKIT_BACKEND=%s but %s cannot be imported (%s); %s"
                % (wanted, wanted, exc, _INSTALL_HINT)) from exc
    try:
        return "theano", _import_theano()
    except ImportError:
        pass
    try:
        return "pytensor", _import_pytensor()
    except ImportError:
        raise ImportError(
            "regkit needs Theano or PyTensor and neither is installed; "
            + _INSTALL_HINT) from None


NAME, _lib = _choose()

config = _lib.config
floatX = config.floatX
shared = _lib.shared
function = _lib.function
grad = _lib.grad
tensor = _lib.tensor
as_tensor_variable = tensor.as_tensor_variable
verify_grad = _lib.gradient.verify_grad
disconnected_grad = _lib.gradient.disconnected_grad
Elemwise = tensor.elemwise.Elemwise
_vector_length = tensor.get_vector_length

if NAME == "theano":  # backend: theano only
    from theano.compile import SharedVariable
    from theano.gof.graph import Constant, Variable
    from theano.tensor import TensorConstant, TensorVariable

    from theano.gof import Apply as _Apply, Op as _Op
    _COp = _Op  # Theano's Op takes C code itself
    from theano.gof.type import Generic as _Generic, generic as _generic
    from theano.scan_module.scan_op import Scan as _Scan

    sigmoid = tensor.nnet.sigmoid
    _sign = tensor.sgn

    def softmax(x):
        return tensor.nnet.softmax(x)

    def _tensor_type(dtype, ndim):
        return tensor.TensorType(dtype, (False,) * ndim)

    def _broadcastable_type(dtype, broadcastable):
        return tensor.TensorType(dtype, tuple(broadcastable))

    def _generator_type(rng):
        return _generic()

    def _shared_generator(rng):
        return shared(rng)  # Theano's generic shared variable cannot borrow

    def specify_broadcastable(x, axes):
        """`x`, known to have size 1 along `axes` (so that it broadcasts
        there)."""
        return tensor.addbroadcast(x, *axes)

    def _holds_generator(var):
        return isinstance(var.type, _Generic)

    _RANDOM_OPS = ()  # Theano's own streams update themselves
    # Theano has no protocol through which a helper learns a draw's update
    _RNGConsumer = object

    def clone_replace(output, replace):
        return _lib.clone(output, replace=replace)

    def _type_shape(var):
        # Theano's types record only which dimensions are broadcastable
        # (size 1)
        return tuple(1 if flag else None for flag in var.broadcastable)

else:  # backend: pytensor only
    from pytensor.compile.sharedvalue import SharedVariable
    from pytensor.graph.basic import Constant, Variable
    from pytensor.graph.replace import clone_replace as _clone_replace
    from pytensor.tensor.variable import TensorConstant, TensorVariable

    from pytensor.graph.basic import Apply as _Apply
    from pytensor.graph.op import Op as _Op
    from pytensor.link.c.op import COp as _COp
    from pytensor.scan.op import Scan as _Scan
    from pytensor.tensor.random.op import RandomVariable
    # PyTensor's protocol for Ops that advance a generator: helpers that
    # collect the updates of a graph's draws (pytensor-ml's `function` and
    # `compile_train`, PyMC's `compile`) read `update(node)` from it
    from pytensor.tensor.random.op import RNGConsumerOp as _RNGConsumer
    from pytensor.tensor.random.type import RandomGeneratorType

    sigmoid = tensor.sigmoid
    _sign = tensor.sign

    def softmax(x):
        return tensor.special.softmax(x, axis=-1)

    def _tensor_type(dtype, ndim):
        return tensor.TensorType(dtype, shape=(None,) * ndim)

    def _broadcastable_type(dtype, broadcastable):
        return tensor.TensorType(
            dtype, shape=tuple(1 if flag else None for flag in broadcastable))

    def _generator_type(rng):
        return rng.type()

    def _shared_generator(rng):
        # a new generator, owned by the shared variable: no copy needed
        return shared(rng, borrow=True)

    def specify_broadcastable(x, axes):
        """`x`, known to have size 1 along `axes` (so that it broadcasts
        there)."""
        return tensor.specify_broadcastable(x, *axes)

    def _holds_generator(var):
        return isinstance(var.type, RandomGeneratorType)

    _RANDOM_OPS = (RandomVariable,)  # users' own draws need updates too

    def clone_replace(output, replace):
        return _clone_replace(output, replace=replace)

    def _type_shape(var):
        return tuple(var.type.shape)

def scan(fn, **kwargs):
    """The library's ``scan``, returning ``(outputs, updates)`` on both
    backends.

    PyTensor 3 warns that its ``scan`` will stop returning the updates of
    shared variables (it wants recurrent state in ``outputs_info``); regkit
    keeps the two-value form, with PyTensor's DeprecationWarning silenced,
    so that scripts run the same on both.  A dropout mask drawn once per
    call (:func:`regkit.dropout_mask`, passed in ``non_sequences``) needs no
    updates from ``scan`` at all.

    On Python 3.11, Theano 1.0.5 cannot build its compiled ``scan`` loop
    (``longintrepr.h`` moved in Python 3.11); ``import regkit`` makes
    Theano use its Python loop instead (the step itself stays compiled),
    so a function with a ``scan`` compiles under every mode; see the
    Training page for its cost.

    Examples
    --------
    >>> from regkit import backend
    >>> x = backend.tensor.vector("x")
    >>> total, updates = backend.scan(lambda v, acc: acc + v, sequences=[x],
    ...                               outputs_info=[backend.tensor.zeros(())])
    >>> float(backend.function([x], total[-1], mode="FAST_COMPILE")(
    ...     [1.0, 2.0, 3.0]))
    6.0
    """
    if NAME == "theano":  # backend: theano only
        return _lib.scan(fn, **kwargs)
    with warnings.catch_warnings():  # backend: pytensor only
        warnings.filterwarnings("ignore", "Scan return signature",
                                DeprecationWarning)
        return _lib.scan(fn, return_updates=True, **kwargs)


softmax.__doc__ = "Softmax over the last axis of a matrix."
clone_replace.__doc__ = ("Copy of the graph `output` with the variables in "
                         "the dict `replace` swapped for their values.")


def solve(a, b):
    """``a^-1 b`` for a square matrix `a` (one LU solve, with its gradient).

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import backend
    >>> backend.solve(np.diag([2.0, 4.0]), np.ones((2, 1))).eval().ravel()
    array([0.5 , 0.25])
    """
    if NAME == "theano":  # backend: theano only
        from theano.tensor.slinalg import solve as _solve
    else:  # backend: pytensor only
        from pytensor.tensor.linalg import solve as _solve
    return _solve(as_tensor_variable(a), as_tensor_variable(b))


def expm(a):
    """The matrix exponential of the square matrix `a`, with its gradient.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import backend
    >>> backend.expm(np.zeros((2, 2))).eval()
    array([[1., 0.],
           [0., 1.]])
    """
    if NAME == "theano":  # backend: theano only
        from theano.tensor.slinalg import expm as _expm
    else:  # backend: pytensor only
        from pytensor.tensor.linalg import expm as _expm
    return _expm(as_tensor_variable(a))


def _importable(module):
    """Whether `module` can be imported, without importing it."""
    return importlib.util.find_spec(module) is not None


#: Linkers whose random draws are not numpy's stream (but follow the same
#: contract: fresh draws with random_updates, repeated draws without).
OWN_RANDOM_STREAMS = ("JAX", "PYTORCH", "MLX")

#: PyTensor's JAX, PyTorch and MLX linkers, as "module:class": regkit
#: defines its kernels for them the first time one of them links a graph,
#: so that jax, torch and mlx are imported only by a user who compiles
#: with them.
JAX_LINKER = "pytensor.link.jax.linker:JAXLinker"
PYTORCH_LINKER = "pytensor.link.pytorch.linker:PytorchLinker"
MLX_LINKER = "pytensor.link.mlx.linker:MLXLinker"


def linker_modes():
    """Every way this backend can compile a function, by name.

    Returns
    -------
    dict
        Name -> value for ``function(..., mode=...)``.  Theano: ``"cvm"``
        (its default: C code where an Op has it), ``"py"`` (Python
        implementations only) and ``"FAST_COMPILE"``.  PyTensor:
        ``"numba"`` (its default), ``"cvm"`` and ``"FAST_COMPILE"``, and
        ``"JAX"`` where jax is installed, ``"PYTORCH"`` where torch is and
        ``"MLX"`` where mlx is (PyTensor 3.3 and newer).
        regkit gives the same numbers under each, except that random draws
        under JAX, PyTorch and MLX come from their own generators
        (:data:`OWN_RANDOM_STREAMS`; see the Backends page).

    Examples
    --------
    >>> from regkit import backend
    >>> "cvm" in backend.linker_modes()
    True
    """
    modes = {"cvm": c_linker_mode()}
    if NAME == "theano":  # backend: theano only
        modes["py"] = _lib.compile.mode.Mode(linker="py")
    else:  # backend: pytensor only
        modes = dict(numba="NUMBA", **modes)
    modes["FAST_COMPILE"] = "FAST_COMPILE"
    if NAME == "pytensor":  # backend: pytensor only
        for mode, module, linker in (("JAX", "jax", JAX_LINKER),
                                     ("PYTORCH", "torch", PYTORCH_LINKER),
                                     ("MLX", "mlx", MLX_LINKER)):
            if _importable(module) and _importable(linker.split(":")[0]):
                modes[mode] = mode
    return modes


#: The settings of ``config`` that :func:`quick_compile` changes.
_QUICK_SETTINGS = (
    {"mode": "Mode", "linker": "py", "optimizer": "fast_compile"}
    if NAME == "theano"  # backend: theano only
    else {"mode": "FAST_COMPILE"})  # backend: pytensor only


@contextlib.contextmanager
def quick_compile():
    """Within the block, ``function`` without a `mode` compiles the quickest
    way: the Python implementation of every Op and the fewest graph
    rewrites, so no C compiler and no Numba JIT run.

    For test suites and short experiments on small tensors, where
    compiling costs more than running: regkit's own test suite runs inside
    it (its linker tests name every linker explicitly and check that each
    gives the same numbers).  A function compiled with an explicit `mode`
    is not affected.  The previous defaults come back when the block
    ends.  Theano: its ``py`` linker with the ``fast_compile`` rewrites;
    PyTensor: its ``FAST_COMPILE`` mode, whose Python implementations
    cannot add 32 or more terms in one node (a ``sum_terms`` of 32+
    penalties fails at the first call) and multiply three or more tensors
    element by element (slow beyond small tensors): compile such graphs
    with an explicit `mode`, e.g. ``mode="NUMBA"``.

    Examples
    --------
    >>> from regkit import backend
    >>> x = backend.tensor.vector()
    >>> with backend.quick_compile():
    ...     f = backend.function([x], (x ** 2).sum())
    >>> float(f([1.0, 2.0]))
    5.0
    """
    before = {name: getattr(config, name) for name in _QUICK_SETTINGS}
    # Theano caches the default mode once built and returns it while
    # config.mode names the same class, whatever the linker says: forget
    # it on the way in and put it back on the way out
    cached = _forget_default_mode()
    try:
        for name, value in _QUICK_SETTINGS.items():
            setattr(config, name, value)
        yield
    finally:
        for name, value in before.items():
            setattr(config, name, value)
        _forget_default_mode(cached)


def _forget_default_mode(cached=None):
    """Replace Theano's cached default compilation mode with `cached`
    (None: built afresh from ``config`` at the next compile) and return
    the one it had; PyTensor has no such cache."""
    modes = _lib.compile.mode
    if not hasattr(modes, "instantiated_default_mode"):  # backend: pytensor
        return None
    before = modes.instantiated_default_mode  # backend: theano only
    modes.instantiated_default_mode = cached
    return before


def c_linker_mode():
    """A compilation mode with the default optimizations and the C linker
    (``cvm``), for ``function(..., mode=...)``.  On PyTensor the default
    linker is Numba; this is the way to compile with C instead.

    Examples
    --------
    >>> from regkit import backend
    >>> x = backend.tensor.vector()
    >>> float(backend.function([x], x.sum(), mode=backend.c_linker_mode())(
    ...     [1.0, 2.0]))
    3.0
    """
    return _lib.compile.mode.Mode(linker="cvm")
