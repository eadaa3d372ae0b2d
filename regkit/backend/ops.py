"""regkit's own Ops and the kernels that run them on each linker.

An Op here has a Python implementation (``perform``: Theano's ``py`` linker,
FAST_COMPILE), C code where it pays (the C linkers, ``cvm``), and a kernel
for each other linker of PyTensor, registered lazily: a function decorated
with :func:`linker_kernels` is called the first time a regkit Op enters a
graph (or is unpickled), so that ``import regkit`` imports no Numba; one
decorated with ``linker_kernels(linker=...)`` only when that linker (JAX,
PyTorch) first links a graph, so that building graphs imports neither jax
nor torch (nor mlx).  A kernel for a new linker, or for a new Op, is one more such
function.

The Ops: the one-pass float64 reductions behind
:func:`~regkit.penalties.l1` and :func:`~regkit.penalties.l2`
(:func:`sum_of_squares`, :func:`sum_of_abs`); the random draws live in
:mod:`regkit.backend.random`.

Examples
--------
>>> import numpy as np
>>> from regkit import backend
>>> float(backend.sum_of_squares(np.array([3.0, 4.0])).eval())
25.0
"""
import numpy as np

from .choice import (JAX_LINKER, MLX_LINKER, PYTORCH_LINKER, _Apply, _COp, _sign,
                     as_tensor_variable, tensor)
from .linking import _RegkitOp, linker_kernels, register_kernels

__all__ = ["sum_of_squares", "sum_of_abs"]

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
        register_kernels()
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


@linker_kernels
def _numba_reduction_kernel():  # backend: pytensor only
    from pytensor.link.numba.dispatch.basic import (
        numba_njit as _numba_njit, register_funcify_default_op_cache_key)

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


@linker_kernels(linker=JAX_LINKER)
def _jax_reduction_kernel():  # backend: pytensor only; linker: jax
    import jax
    import jax.numpy as jnp
    from pytensor.link.jax.dispatch import jax_funcify

    @jax_funcify.register(_BlasReduction)
    def _jax_blas_reduction(op, node, **kwargs):
        # float64 accumulation when JAX has 64-bit types enabled (PyTensor
        # enables them when floatX is float64), else in the input's dtype
        out_dtype = node.outputs[0].dtype
        square = op.kind == "sqr"

        def reduction(x):
            wide = x.astype(jnp.float64) if jax.config.jax_enable_x64 \
                else x
            terms = wide * wide if square else jnp.abs(wide)
            return jnp.sum(terms).astype(out_dtype)
        return reduction


@linker_kernels(linker=PYTORCH_LINKER)
def _torch_reduction_kernel():  # backend: pytensor only; linker: pytorch
    import torch
    from pytensor.link.pytorch.dispatch import pytorch_funcify

    @pytorch_funcify.register(_BlasReduction)
    def _torch_blas_reduction(op, node, **kwargs):
        # float64 accumulation, as on the other linkers
        out_dtype = getattr(torch, node.outputs[0].dtype)
        square = op.kind == "sqr"

        def reduction(x):
            wide = x.to(torch.float64)
            terms = wide * wide if square else wide.abs()
            return terms.sum().to(out_dtype)
        return reduction


def _mlx_total(kind, out_dtype):  # backend: pytensor only; linker: mlx
    """An MLX function of any number of arrays: the sum of their squares
    (`kind` ``"sqr"``) or absolute values (``"abs"``) as `out_dtype`,
    accumulated in float64 where MLX's default device has it (the CPU),
    else in float32 (Apple's GPU has no float64).  The kernel of the
    one-tensor reductions here and of the fused ones."""
    import mlx.core as mx
    from pytensor.link.mlx.dispatch.basic import (convert_dtype_to_mlx,
                                                  float64_supported)
    wide = mx.float64 if float64_supported() else mx.float32
    out = convert_dtype_to_mlx(out_dtype)
    square = kind == "sqr"

    def total(*xs):
        flat = mx.concatenate([x.astype(wide).reshape(-1) for x in xs])
        return mx.sum(flat * flat if square else mx.abs(flat)).astype(out)
    return total


@linker_kernels(linker=MLX_LINKER)
def _mlx_reduction_kernel():  # backend: pytensor only; linker: mlx
    from pytensor.link.mlx.dispatch import mlx_funcify

    @mlx_funcify.register(_BlasReduction)
    def _mlx_blas_reduction(op, node, **kwargs):
        return _mlx_total(op.kind, node.outputs[0].dtype)
