"""The one place where regkit meets Theano or PyTensor.

The backend is chosen once, when this module is imported:

1. ``REGKIT_BACKEND=theano`` or ``REGKIT_BACKEND=pytensor`` in the
   environment selects that backend (and fails loudly if it is missing);
2. otherwise Theano is used if it imports;
3. otherwise PyTensor.

Every other regkit module reaches the symbolic library through the names
below, so every difference between the two backends lives in this file.

Theano 1.0.5 and numpy >= 1.22
------------------------------
``import theano`` asks ``numpy.distutils`` for BLAS link flags, which fails
with numpy >= 1.22.  When the user has not set ``blas.ldflags`` themselves
(in ``THEANO_FLAGS`` or a ``.theanorc`` file), regkit appends
``blas.ldflags=`` to ``THEANO_FLAGS`` in ``os.environ`` before importing
Theano (so child processes see the same setting).  Theano then calls BLAS through numpy's C
API; the warning Theano logs about that choice is silenced, since regkit
made it.  Set ``blas.ldflags`` yourself to link another BLAS.

Examples
--------
>>> from regkit import backend
>>> backend.NAME in ("theano", "pytensor")
True
>>> x = backend.tensor.fmatrix("x")
>>> backend.function([x], x.sum())([[1.0, 2.0]]).item()
3.0
"""
import configparser
import copy
import logging
import os
import warnings

import numpy as np

__all__ = [
    "NAME",
    "tensor",
    "config",
    "floatX",
    "shared",
    "function",
    "grad",
    "clone_replace",
    "graph_inputs",
    "tensor_variable",
    "as_tensor_variable",
    "Variable",
    "TensorVariable",
    "TensorConstant",
    "SharedVariable",
    "sigmoid",
    "softmax",
    "verify_grad",
    "is_tensor",
    "Elemwise",
    "bernoulli",
    "normal",
    "random_updates",
    "sum_of_squares",
    "sum_of_abs",
    "c_linker_mode",
    "linker_modes",
]

_CHOICES = ("theano", "pytensor")
#: The distribution's name on the package registry ("regkit" there is an
#: unrelated project); the import name is regkit.
_DISTRIBUTION = "regkit-nn"
_INSTALL_HINT = ('install one: pip install "%s[theano]" or '
                 'pip install "%s[pytensor]"' % (_DISTRIBUTION, _DISTRIBUTION))


def _user_set_theano_ldflags(environ=os.environ):
    """Whether the user configured Theano's ``blas.ldflags`` anywhere."""
    for item in environ.get("THEANO_FLAGS", "").split(","):
        key = item.split("=", 1)[0].strip()
        if key in ("blas.ldflags", "blas__ldflags"):
            return True
    default_rc = "~/.theanorc" + os.pathsep + "~/.theanorc.txt"
    for path in environ.get("THEANORC", default_rc).split(os.pathsep):
        parser = configparser.ConfigParser()
        try:
            parser.read(os.path.expanduser(path))
        except configparser.Error:
            continue  # Theano itself will report a broken config file
        if parser.has_option("blas", "ldflags"):
            return True
    return False


def _numpy_breaks_theano_blas():
    major, minor = (int(part) for part in np.__version__.split(".")[:2])
    return (major, minor) >= (1, 22)


def _import_theano():  # backend: theano only
    supplied = False
    if _numpy_breaks_theano_blas() and not _user_set_theano_ldflags():
        flags = os.environ.get("THEANO_FLAGS", "")
        os.environ["THEANO_FLAGS"] = ",".join(
            part for part in (flags, "blas.ldflags=") if part)
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
    return theano


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
Elemwise = tensor.elemwise.Elemwise
_vector_length = tensor.get_vector_length

if NAME == "theano":  # backend: theano only
    from theano.compile import SharedVariable
    from theano.gof.graph import Variable
    from theano.tensor import TensorConstant, TensorVariable

    from theano.gof import Apply as _Apply, Op as _Op
    _COp = _Op  # Theano's Op takes C code itself
    from theano.gof.type import generic as _generic

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

    _RANDOM_OPS = ()  # Theano's own streams update themselves

    def clone_replace(output, replace):
        return _lib.clone(output, replace=replace)

    def _type_shape(var):
        # Theano's types record only which dimensions are broadcastable
        # (size 1)
        return tuple(1 if flag else None for flag in var.broadcastable)

else:  # backend: pytensor only
    from pytensor.compile.sharedvalue import SharedVariable
    from pytensor.graph.basic import Variable
    from pytensor.graph.replace import clone_replace as _clone_replace
    from pytensor.tensor.variable import TensorConstant, TensorVariable

    from pytensor.graph.basic import Apply as _Apply
    from pytensor.graph.op import Op as _Op
    from pytensor.link.c.op import COp as _COp
    from pytensor.tensor.random.op import RandomVariable

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

    _RANDOM_OPS = (RandomVariable,)  # users' own draws need updates too

    def clone_replace(output, replace):
        return _clone_replace(output, replace=replace)

    def _type_shape(var):
        return tuple(var.type.shape)

softmax.__doc__ = "Softmax over the last axis of a matrix."
clone_replace.__doc__ = ("Copy of the graph `output` with the variables in "
                         "the dict `replace` swapped for their values.")


def graph_inputs(outputs):
    """The variables that the graphs of `outputs` start from, in order.

    Parameters
    ----------
    outputs : list of Variable

    Returns
    -------
    list of Variable
        Inputs, shared variables and constants, each once, in the order of
        their first appearance in a depth-first walk that takes `outputs`
        in order and the inputs of every operation from left to right
        (Lasagne's order: ``dot(W1, W2)`` gives ``[W1, W2]``).  The order is
        the same on both backends, whose own functions differ.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import backend
    >>> W1 = backend.shared(np.ones((2, 2)), name="W1")
    >>> W2 = backend.shared(np.ones((2, 2)), name="W2")
    >>> [v.name for v in backend.graph_inputs([backend.tensor.dot(W1, W2)])]
    ['W1', 'W2']
    """
    return [var for var in _ancestors(outputs) if var.owner is None]


def tensor_variable(dtype, broadcastable, name=None):
    """A new symbolic tensor of `dtype`, of size 1 along the dimensions
    where `broadcastable` is True (which broadcast against any size).

    Examples
    --------
    >>> from regkit import backend
    >>> x = backend.tensor_variable("float64", [True, False], "x")
    >>> x.broadcastable, x.name
    ((True, False), 'x')
    """
    return _broadcastable_type(dtype, broadcastable)(name)


def static_shape(var):
    """The sizes of the dimensions of `var` known before it is computed.

    Parameters
    ----------
    var : TensorVariable

    Returns
    -------
    tuple of int or None
        A constant's shape; otherwise the sizes its type records, None
        where unknown (PyTensor types may record any size, Theano types
        only the size 1 of broadcastable dimensions).

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import backend
    >>> backend.static_shape(backend.as_tensor_variable(np.ones((2, 3))))
    (2, 3)
    >>> backend.static_shape(backend.tensor.matrix())
    (None, None)
    """
    if isinstance(var, TensorConstant):
        return tuple(var.data.shape)
    return _type_shape(var)


def is_tensor(value):
    """Whether `value` is a symbolic tensor (variable, shared or constant).

    Examples
    --------
    >>> from regkit import backend
    >>> backend.is_tensor(backend.tensor.matrix())
    True
    >>> backend.is_tensor([1.0, 2.0])
    False
    """
    return isinstance(value, Variable) and hasattr(value, "ndim") \
        and hasattr(value, "dtype")


def _ancestors(outputs):
    """Every variable the graphs of `outputs` depend on, each once, in
    depth-first pre-order: `outputs` in order, each operation's inputs
    from left to right."""
    seen, stack, order = set(), list(reversed(list(outputs))), []
    while stack:
        var = stack.pop()
        if var in seen:
            continue
        seen.add(var)
        order.append(var)
        if var.owner is not None:
            stack.extend(reversed(var.owner.inputs))
    return order


def bernoulli(shape, p, dtype, seed_sequence):
    """A symbolic tensor of 0s and 1s (1 with probability `p`).

    Parameters
    ----------
    shape : symbolic shape or tuple
    p : float
        Probability of a 1.
    dtype : str
        dtype of the result.
    seed_sequence : numpy.random.SeedSequence
        Seeds a new generator used by this draw only.

    Notes
    -----
    Both backends draw from a numpy Generator (PCG64) held in a shared
    variable, one generator per draw; the draws are the same on both
    backends and every linker.  Either way, pass
    :func:`random_updates` of the graph to ``function(updates=...)`` to get
    fresh draws on every call.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import backend
    >>> mask = backend.bernoulli((2, 3), 0.5, "float32",
    ...                          np.random.SeedSequence(0))
    >>> values = backend.function([], mask)()
    >>> sorted(set(values.ravel().tolist())) <= [0.0, 1.0], values.dtype
    (True, dtype('float32'))
    """
    uniform = _draw("uniform", shape, dtype, seed_sequence)
    return tensor.cast(tensor.lt(uniform, np.asarray(p, dtype)), dtype)


def normal(shape, dtype, seed_sequence):
    """A symbolic tensor of standard normal draws (see :func:`bernoulli`).

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import backend
    >>> noise = backend.normal((1000,), "float64", np.random.SeedSequence(0))
    >>> abs(float(backend.function([], noise.std())()) - 1) < 0.1
    True
    """
    return _draw("normal", shape, dtype, seed_sequence)


def random_updates(*exprs):
    """The random-generator updates that the graphs of `exprs` need.

    Parameters
    ----------
    *exprs : symbolic variables, or lists or dicts of them

    Returns
    -------
    list of (shared variable, new value) pairs, for
    ``function(..., updates=...)``; without them a compiled function may
    reuse the same random draw on every call.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import backend
    >>> mask = backend.bernoulli((4,), 0.5, "float64",
    ...                          np.random.SeedSequence(1))
    >>> len(backend.random_updates(mask))
    1
    """
    flat = []
    for expr in exprs:
        if isinstance(expr, dict):
            flat.extend(expr.values())
        elif isinstance(expr, (list, tuple)):
            flat.extend(expr)
        else:
            flat.append(expr)
    for expr in flat:
        if not isinstance(expr, Variable):
            raise TypeError("random_updates: expected symbolic variables, "
                            "got %r" % (expr,))
    updates, seen = [], set()
    for var in _ancestors(flat):
        node = var.owner
        if node is None or not _is_draw(node):
            continue
        rng = node.inputs[0]
        if isinstance(rng, SharedVariable) and rng not in seen:
            seen.add(rng)
            updates.append((rng, node.outputs[0]))
    return updates


class _RegkitOp(_Op):
    """Base of regkit's Ops: ``grad`` is also offered under PyTensor 3's
    name, ``pullback``; unpickling one (a pickled compiled function, in a
    new process) registers the Numba kernels before the function is linked
    again, as building one does."""

    def __setstate__(self, state):
        _register_numba_kernels()
        self.__dict__.update(state)

    def pullback(self, inputs, outputs, cotangents):
        return self.grad(inputs, cotangents)


class _BlasReduction(_RegkitOp, _COp):
    """Sum of squares or of absolute values of a whole tensor, reading the
    tensor once and accumulating in float64.

    The backends' own ``sum(sqr(x))`` writes the squares to a temporary
    array and reads it again, about four times the time of one read on
    large weights.  A single BLAS ``sdot``/``sasum`` over float32 weights
    reads them once but accumulates in float32 (relative error about 1e-4
    on 128 MB of weights).  Here every element is widened to float64 and
    added to one of eight float64 partial sums: in C (the C linkers) and
    in Numba (PyTensor's default linker) this costs no more than the read,
    the loop being memory bound; the Python implementation (``py`` and
    FAST_COMPILE) widens a block at a time and sums it with ``ddot`` /
    ``dasum``.  The result has the dtype of the input.  The gradient,
    ``2 * x * gz`` or ``sign(x) * gz``, is an ordinary elementwise
    expression, which the optimizer fuses into the parameter update.
    """

    __props__ = ("kind",)

    def __init__(self, kind):
        if kind not in ("sqr", "abs"):
            raise ValueError("kind must be 'sqr' or 'abs', got %r" % (kind,))
        self.kind = kind

    def make_node(self, x):
        _register_numba_kernels()
        x = as_tensor_variable(x)
        return _Apply(self, [x], [tensor.TensorType(x.dtype, ())()])

    def perform(self, node, inputs, output_storage):
        value = _float64_reduction(self.kind, np.ravel(inputs[0]))
        output_storage[0][0] = np.asarray(value, dtype=node.outputs[0].dtype)

    def infer_shape(self, *args):
        return [()]

    def c_code_cache_version(self):
        return (1,)

    def c_code(self, node, name, inputs, outputs, sub):
        ctype = {"float32": "npy_float32", "float64": "npy_float64"}.get(
            node.inputs[0].dtype)
        if ctype is None:  # integer input: the Python implementation
            raise NotImplementedError(node.inputs[0].dtype)
        term = "v * v" if self.kind == "sqr" else "fabs(v)"
        return _REDUCTION_C % dict(
            x=inputs[0], z=outputs[0], fail=sub["fail"], ctype=ctype,
            term=term, typenum="NPY_" + node.outputs[0].dtype.upper(),
            zdtype=node.outputs[0].dtype)

    def grad(self, inputs, output_grads):
        (x,), (gz,) = inputs, output_grads
        if self.kind == "sqr":
            return [x * np.asarray(2, dtype=x.dtype) * gz]
        return [_sign(x) * gz]


_REDUCTION_C = """
{
    PyArrayObject* contiguous = PyArray_GETCONTIGUOUS(%(x)s);
    if (contiguous == NULL) { %(fail)s }
    const npy_intp size = PyArray_SIZE(contiguous);
    const %(ctype)s* data = (const %(ctype)s*) PyArray_DATA(contiguous);
    double partial[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    double total = 0;
    npy_intp i = 0;
    for (; i + 8 <= size; i += 8) {
        for (int k = 0; k < 8; ++k) {
            const double v = (double) data[i + k];
            partial[k] += %(term)s;
        }
    }
    for (; i < size; ++i) {
        const double v = (double) data[i];
        total += %(term)s;
    }
    for (int k = 0; k < 8; ++k) total += partial[k];
    Py_DECREF(contiguous);
    Py_XDECREF(%(z)s);
    %(z)s = (PyArrayObject*) PyArray_EMPTY(0, NULL, %(typenum)s, 0);
    if (%(z)s == NULL) { %(fail)s }
    *(npy_%(zdtype)s*) PyArray_DATA(%(z)s) = (npy_%(zdtype)s) total;
}
"""

#: Elements widened to float64 at a time (256 KiB of float64: in L2 cache).
_BLOCK = 1 << 15


def _float64_reduction(kind, flat):
    """``sum(flat ** 2)`` (kind 'sqr') or ``sum(abs(flat))`` ('abs') of a
    1-D array, accumulated in float64, as a Python float."""
    import scipy.linalg.blas
    if flat.size == 0:
        return 0.0
    if flat.dtype == np.float64 or flat.size <= _BLOCK:
        wide = flat.astype(np.float64, copy=False)
        if kind == "sqr":
            return float(np.dot(wide, wide))
        return float(scipy.linalg.blas.dasum(wide))
    buffer = np.empty(_BLOCK, dtype=np.float64)
    total = 0.0
    for start in range(0, flat.size, _BLOCK):
        block = flat[start:start + _BLOCK]
        wide = buffer[:block.size]
        if kind == "sqr":
            np.copyto(wide, block)
            total += float(np.dot(wide, wide))
        else:
            np.abs(block, out=wide)
            total += float(scipy.linalg.blas.dasum(wide))
    return total


class _NumpyDraw(_RegkitOp):
    """Uniform [0, 1) or standard normal draws from a numpy Generator held
    in a shared variable (an explicit generator: PyTensor 3 deprecates
    RandomStream and default_update).  PCG64 and numpy's ziggurat run at
    numpy's speed: about five times Theano's MRG31k3p, and three times
    PyTensor's own normal draws.  Outputs the advanced generator (for the
    update) and the draws."""

    __props__ = ("kind", "dtype", "ndim")

    def __init__(self, kind, dtype, ndim):
        self.kind, self.dtype, self.ndim = kind, dtype, ndim

    def make_node(self, rng, shape):
        _register_numba_kernels()
        shape = tensor.as_tensor_variable(shape, ndim=1)
        return _Apply(self, [rng, shape], [_generator_type(rng),
                                           _tensor_type(self.dtype,
                                                        self.ndim)()])

    def perform(self, node, inputs, output_storage):
        rng, shape = inputs
        rng = copy.deepcopy(rng)  # functional: the input is unchanged
        size = tuple(int(d) for d in shape)
        draw = rng.random if self.kind == "uniform" else rng.standard_normal
        output_storage[0][0] = rng
        output_storage[1][0] = draw(size, dtype=self.dtype)

    def infer_shape(self, *args):
        # (node, input_shapes) on Theano, (fgraph, node, input_shapes) on
        # PyTensor.  Without it the optimizer computes a draw's shape by
        # keeping a second copy of the draw in the compiled graph.
        node = args[-2]
        shape = node.inputs[1]
        return [None, [shape[i] for i in range(self.ndim)]]

    def grad(self, inputs, output_grads):
        return [_lib.gradient.grad_undefined(self, i, inputs[i])
                for i in range(2)]



_numba_kernels_registered = False


def _register_numba_kernels():
    """Give regkit's Ops Numba kernels for PyTensor's default linker.

    Called when the first such Op enters a graph, so that ``import regkit``
    does not pay for importing Numba.
    """
    global _numba_kernels_registered
    if NAME != "pytensor" or _numba_kernels_registered:
        return
    _numba_kernels_registered = True
    _define_numba_kernels()


def _define_numba_kernels():  # backend: pytensor only
    from numba.np.unsafe.ndarray import to_fixed_tuple as _to_fixed_tuple
    from pytensor.link.numba.dispatch import random as _numba_random  # noqa
    from pytensor.link.numba.dispatch.basic import (
        numba_njit as _numba_njit, register_funcify_default_op_cache_key)
    from pytensor.link.numba.dispatch.compile_ops import (
        numba_deepcopy as _numba_deepcopy)

    @register_funcify_default_op_cache_key(_BlasReduction)
    def _numba_blas_reduction(op, node, **kwargs):
        # Numba kernel for the default linker: one pass, accumulated in
        # float64 with reassociation allowed, so LLVM vectorizes it (the
        # widening costs nothing next to the memory read)
        out_dtype = np.dtype(node.outputs[0].dtype).type

        if op.kind == "sqr":
            @_numba_njit(fastmath=True)
            def reduction(x):  # compiled by Numba
                flat = np.ascontiguousarray(x).ravel()
                total = 0.0
                for i in range(flat.size):
                    value = np.float64(flat[i])
                    total += value * value
                return np.asarray(out_dtype(total))
        else:
            @_numba_njit(fastmath=True)
            def reduction(x):  # compiled by Numba
                flat = np.ascontiguousarray(x).ravel()
                total = 0.0
                for i in range(flat.size):
                    total += abs(np.float64(flat[i]))
                return np.asarray(out_dtype(total))
        # the version number joins PyTensor's on-disk cache key: bump it
        # whenever these kernels change
        return reduction, 3

    @register_funcify_default_op_cache_key(_NumpyDraw)
    def _numba_numpy_draw(op, node, **kwargs):
        # Numba's Generator methods: the same streams as numpy's.  Like
        # `perform`, the kernel draws from a copy and returns it: advancing
        # the input generator in place would change the draws of every other
        # function (and every other copy of the draw) that reads it.
        ndim = op.ndim
        dtype = np.float32 if op.dtype == "float32" else np.float64
        if op.kind == "uniform":
            @_numba_njit
            def numpy_draw(rng, shape):  # compiled by Numba
                rng = _numba_deepcopy(rng)
                return rng, rng.random(size=_to_fixed_tuple(shape, ndim),
                                       dtype=dtype)
        else:
            @_numba_njit
            def numpy_draw(rng, shape):  # compiled by Numba
                rng = _numba_deepcopy(rng)
                return rng, rng.standard_normal(
                    size=_to_fixed_tuple(shape, ndim), dtype=dtype)
        return numpy_draw, 2


def _draw(kind, shape, dtype, seed_sequence):
    rng = shared(np.random.default_rng(seed_sequence))
    ndim = len(shape) if isinstance(shape, (tuple, list)) \
        else _vector_length(shape)
    return _NumpyDraw(kind, dtype, ndim)(rng, shape)[1]


def _is_draw(node):
    return isinstance(node.op, (_NumpyDraw,) + _RANDOM_OPS)


_SUM_OF_SQUARES = _BlasReduction("sqr")
_SUM_OF_ABS = _BlasReduction("abs")


def sum_of_squares(x):
    """``sum(x ** 2)`` as a 0-d tensor of the dtype of `x`, reading `x` once
    (one BLAS dot); its gradient is ``2 * x``.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import backend
    >>> float(backend.sum_of_squares(np.array([[1.0, 2.0], [3.0, 4.0]])).eval())
    30.0
    """
    return _SUM_OF_SQUARES(x)


def sum_of_abs(x):
    """``sum(abs(x))`` as a 0-d tensor of the dtype of `x`, reading `x`
    once (one BLAS asum); its gradient is ``sign(x)`` (0 at 0).

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import backend
    >>> float(backend.sum_of_abs(np.array([[1.0, -2.0], [3.0, -4.0]])).eval())
    10.0
    """
    return _SUM_OF_ABS(x)


def linker_modes():
    """Every way this backend can compile a function, by name.

    Returns
    -------
    dict
        Name -> value for ``function(..., mode=...)``.  Theano: ``"cvm"``
        (its default: C code where an Op has it), ``"py"`` (Python
        implementations only) and ``"FAST_COMPILE"``.  PyTensor:
        ``"numba"`` (its default), ``"cvm"`` and ``"FAST_COMPILE"``.
        regkit gives the same numbers under each (see the Backends page).

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
        modes = dict(numba=None, **modes)
    modes["FAST_COMPILE"] = "FAST_COMPILE"
    return modes


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
