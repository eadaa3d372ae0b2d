"""One graph node for a reduction over many tensors: the sum of squares
(or of absolute values) of a whole list of weights.

A penalty over N weight tensors built from one node per tensor is N
reductions, a tree of additions to join them, and (in its gradient) the
indexing that takes each term back out of that tree: graph size and
compile time grow several nodes per tensor.  The Op here takes the N
tensors as the inputs of one node and returns one scalar, accumulated in
float64 over every element of every tensor (the result has the tensors'
dtype); its gradient is one elementwise term per tensor (``2 * x * gz``
or ``sign(x) * gz``), which the optimizer fuses into that tensor's update.

Kernels: ``perform`` in Python (Theano's linkers and PyTensor's C and
Python linkers run it: generating C for thousands of inputs would cost
more to compile than the loop costs to run), Numba (one small kernel per
input type, compiled once and called for each input; the Numba linker
splits nodes to at most ``NUMBA_FUSED_INPUTS`` tensors), JAX and PyTorch.

Examples
--------
>>> import numpy as np
>>> from regkit import backend
>>> float(backend.total_sum_of_squares([np.array([3.0]),
...                                     np.array([4.0, 0.0])]).eval())
25.0
"""
import numpy as np

from .choice import (JAX_LINKER, MLX_LINKER, PYTORCH_LINKER, _Apply, _lib, _sign,
                     as_tensor_variable, tensor)
from .graph import is_tensor, shallow_sum
from .linking import _RegkitOp, linker_kernels, register_kernels
from .ops import _float64_reduction

__all__ = ["total_sum_of_squares", "total_sum_of_abs", "MAX_FUSED_INPUTS"]

#: The most tensors one fused node takes; longer lists are split into
#: several nodes, whose totals are added.  Each input is an argument of the
#: node's kernel, and Theano's gradient looks at every input of a node
#: once per input it differentiates: with 10,000 inputs on one node that
#: alone took minutes.
MAX_FUSED_INPUTS = 500

_DisconnectedType = _lib.gradient.DisconnectedType

#: Elements gathered into one float64 buffer at a time in ``perform``.
_CHUNK = 1 << 18


class _FusedOp(_RegkitOp):
    """An Op over `count` tensors for the squares (kind ``"sqr"``) or the
    absolute values (``"abs"``) of their elements."""

    __props__ = ("kind", "count")

    def __init__(self, kind, count):
        if kind not in ("sqr", "abs"):
            raise ValueError("kind must be 'sqr' or 'abs', got %r" % (kind,))
        self.kind = kind
        self.count = int(count)


class _FusedReduction(_FusedOp):
    """``sum over tensors of sum(x ** 2)`` (kind ``"sqr"``) or of
    ``sum(abs(x))`` (``"abs"``) over `count` tensors of one float dtype,
    accumulated in float64, returned in their dtype."""

    def make_node(self, *xs):
        register_kernels()
        xs = [as_tensor_variable(x) for x in xs]
        if len(xs) != self.count:
            raise ValueError("this reduction takes %d tensors, got %d"
                             % (self.count, len(xs)))
        dtypes = sorted({x.dtype for x in xs})
        if len(dtypes) != 1 or dtypes[0] not in ("float32", "float64"):
            raise TypeError("a fused reduction takes tensors of one float "
                            "dtype, got %s" % ", ".join(dtypes))
        # the tensors' dtype out, so that a float32 graph stays float32
        # (each node accumulates in float64 and rounds once)
        return _Apply(self, xs, [tensor.TensorType(dtypes[0], ())()])

    def perform(self, node, inputs, output_storage):
        total = 0.0
        batch, size = [], 0
        for x in inputs:
            flat = np.ravel(x)
            if flat.size >= _CHUNK:  # large: reduced on its own, by blocks
                total += _float64_reduction(self.kind, flat)
                continue
            batch.append(flat)
            size += flat.size
            if size >= _CHUNK:
                total += _reduce_batch(self.kind, batch)
                batch, size = [], 0
        if batch:
            total += _reduce_batch(self.kind, batch)
        output_storage[0][0] = np.asarray(total,
                                          dtype=node.outputs[0].dtype)

    def infer_shape(self, *args):
        return [()]

    def grad(self, inputs, output_grads):
        # every tensor's gradient from one node per _GRAD_CHUNK tensors
        (gz,) = output_grads
        return _fused_gradients(self.kind, gz, inputs, _GRAD_CHUNK)


#: The most gradients one node of :class:`_FusedGradient` returns (Numba
#: refuses tuples of 1,000 items or more).
_GRAD_CHUNK = 500


class _FusedGradient(_FusedOp):
    """The gradients of a fused reduction as the outputs of one node:
    given the scalar ``gz`` and tensors ``x_1 .. x_count``, ``2 * gz * x_i``
    (kind ``"sqr"``) or ``sign(x_i) * gz`` (``"abs"``), each of the dtype
    and shape of its tensor."""

    def make_node(self, gz, *xs):
        register_kernels()
        gz = as_tensor_variable(gz)
        xs = [as_tensor_variable(x) for x in xs]
        if gz.ndim != 0 or len(xs) != self.count:
            raise ValueError("this gradient takes a scalar and %d tensors, "
                             "got a %d-d tensor and %d"
                             % (self.count, gz.ndim, len(xs)))
        return _Apply(self, [gz] + xs, [x.type() for x in xs])

    def perform(self, node, inputs, output_storage):
        gz = float(inputs[0])
        for x, out in zip(inputs[1:], output_storage):
            if self.kind == "sqr":
                grad = x * x.dtype.type(2 * gz)
            else:
                grad = np.sign(x) * x.dtype.type(gz)
            out[0] = np.asarray(grad, dtype=x.dtype)

    def infer_shape(self, *args):
        return list(args[-1][1:])

    def grad(self, inputs, output_grads):
        # second derivatives: linear in gz, and in x for squares
        gz, xs = inputs[0], inputs[1:]
        used = [(x, g) for x, g in zip(xs, output_grads)
                if not isinstance(g.type, _DisconnectedType)]
        if self.kind == "sqr":
            d_gz = shallow_sum([tensor.sum(x * g) * 2 for x, g in used])
            d_xs = [tensor.zeros_like(x) if isinstance(g.type,
                                                       _DisconnectedType)
                    else g * tensor.cast(gz * 2, x.dtype)
                    for x, g in zip(xs, output_grads)]
        else:
            d_gz = shallow_sum([tensor.sum(_sign(x) * g) for x, g in used])
            d_xs = [tensor.zeros_like(x) for x in xs]
        d_gz = tensor.cast(d_gz, gz.dtype) if used else tensor.zeros_like(gz)
        return [d_gz] + d_xs


def _reduce_batch(kind, flats):
    """The reduction of small 1-D arrays: gathered into one float64 buffer
    (one copy, widening as it goes) and reduced with one BLAS call (a
    single array is widened by _float64_reduction itself)."""
    if len(flats) == 1:
        return _float64_reduction(kind, flats[0])
    return _float64_reduction(kind, np.concatenate(flats, dtype=np.float64))


def _total(kind, tensors, name):
    """The fused reduction over `tensors`, one node per dtype (float32
    and float64 tensors are reduced apart and the totals added)."""
    if isinstance(tensors, (str, bytes, np.ndarray)) or is_tensor(tensors) \
            or not hasattr(tensors, "__iter__"):
        raise TypeError("%s: tensors must be a list of tensors, got %s"
                        % (name, type(tensors).__name__))
    items = []
    for index, x in enumerate(tensors):
        if not (is_tensor(x) or isinstance(x, np.ndarray)):
            raise TypeError("%s: item %d of tensors must be a tensor or a "
                            "numpy array, got %s"
                            % (name, index, type(x).__name__))
        items.append(as_tensor_variable(x))
    if not items:
        raise ValueError("%s: tensors is empty" % name)
    groups = {}
    for x in items:
        if x.dtype not in ("float32", "float64"):
            raise TypeError("%s: every tensor must be float32 or float64, "
                            "got %s" % (name, x.dtype))
        groups.setdefault(x.dtype, []).append(x)
    totals = []
    for dtype in sorted(groups):
        group = groups[dtype]
        for part in _parts(group, MAX_FUSED_INPUTS):
            totals.append(_FusedReduction(kind, len(part))(*part))
    dtype = "float64" if "float64" in groups else "float32"
    return tensor.cast(shallow_sum(totals), dtype)


def total_sum_of_squares(tensors):
    """``sum(sum(x ** 2) for x in tensors)`` as one graph node per dtype,
    accumulated in float64, its dtype the tensors' (float64 if they mix
    float32 and float64).

    Parameters
    ----------
    tensors : list of float32 or float64 tensors
        Symbolic variables, shared variables or arrays; a tensor listed
        twice counts twice.

    Raises
    ------
    ValueError
        If `tensors` is empty.
    TypeError
        If it is not a list, or an item is not a float32 or float64
        tensor.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import backend
    >>> float(backend.total_sum_of_squares(
    ...     [np.ones((2, 2)), np.full(3, 2.0)]).eval())
    16.0
    """
    return _total("sqr", tensors, "total_sum_of_squares")


def total_sum_of_abs(tensors):
    """``sum(sum(abs(x)) for x in tensors)`` as one graph node per dtype,
    as :func:`total_sum_of_squares` does for squares; the gradient is
    ``sign(x)`` (0 at 0).

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import backend
    >>> float(backend.total_sum_of_abs(
    ...     [-np.ones((2, 2)), np.full(3, 2.0)]).eval())
    10.0
    """
    return _total("abs", tensors, "total_sum_of_abs")


#: The most tensors one fused node takes under PyTensor's Numba linker.
#: Numba runs a node by calling its kernel with one argument per input,
#: and Python compiles a call with more than 30 arguments into a call
#: through a tuple, which Numba lowers in time that grows with the square
#: of its length (a 200-argument call of an empty kernel: 60 s with numba
#: 0.65, 7 s with 0.68).  A rewrite that only the Numba linker runs
#: splits larger nodes; the C linkers keep 500 (smaller nodes cost them
#: more: 86 s against 36 s at 10,000 tensors on PyTensor's C linker).
NUMBA_FUSED_INPUTS = 24


def _split_for_numba(node):
    """The outputs of `node` (a fused reduction or gradient with more than
    NUMBA_FUSED_INPUTS tensors) from nodes of at most that many tensors."""
    op = node.op
    if isinstance(op, _FusedReduction):
        return [shallow_sum([
            _FusedReduction(op.kind, len(part))(*part)
            for part in _parts(node.inputs, NUMBA_FUSED_INPUTS)])]
    return _fused_gradients(op.kind, node.inputs[0], node.inputs[1:],
                            NUMBA_FUSED_INPUTS)


def _fused_gradients(kind, gz, xs, size):
    """The gradients of the tensors `xs` from nodes of at most `size`."""
    grads = []
    for part in _parts(xs, size):
        out = _FusedGradient(kind, len(part))(gz, *part)
        grads += out if isinstance(out, (list, tuple)) else [out]
    return grads


def _parts(items, size):
    """`items` in consecutive lists of at most `size`."""
    return [items[start:start + size] for start in range(0, len(items), size)]


@linker_kernels
def _numba_split_rewrite():  # backend: pytensor only
    from pytensor.compile import optdb
    from pytensor.graph.rewriting.basic import in2out, node_rewriter

    @node_rewriter([_FusedReduction, _FusedGradient])
    def split_fused_for_numba(fgraph, node):
        if node.op.count <= NUMBA_FUSED_INPUTS:
            return False
        return _split_for_numba(node)

    # tagged "numba" alone: PyTensor's Numba linker requires the rewrites
    # of that tag, and no other linker runs them
    optdb.register("regkit_split_fused_for_numba",
                   in2out(split_fused_for_numba), "numba", position=49.05)


@linker_kernels
def _numba_fused_kernel():  # backend: pytensor only
    from pytensor.link.numba.dispatch.basic import (
        numba_njit as _numba_njit, register_funcify_default_op_cache_key)
    from pytensor.link.utils import compile_function_src

    # one kernel per tensor and kind, compiled by Numba once per input type
    # and called for every input of that type
    def per_tensor_total(square):
        @_numba_njit(fastmath=True)
        def total(x):  # compiled by Numba
            flat = np.ascontiguousarray(x).ravel()
            result = 0.0
            for i in range(flat.size):
                value = np.float64(flat[i])
                result += value * value if square else abs(value)
            return result
        return total

    totals = {"sqr": per_tensor_total(True), "abs": per_tensor_total(False)}

    @register_funcify_default_op_cache_key(_FusedReduction)
    def _numba_fused_reduction(op, node, **kwargs):
        # the count of inputs is one of the Op's props, so it is in the
        # cache key of the generated function
        names = ["x%d" % i for i in range(op.count)]
        source = "def fused(%s):\n    total = 0.0\n%s    return " \
            "np.asarray(out_dtype(total))\n" % (
                ", ".join(names),
                "".join("    total += one(%s)\n" % n for n in names))
        fused = compile_function_src(source, "fused", {
            "np": np, "out_dtype": np.dtype(node.outputs[0].dtype).type,
            "one": totals[op.kind]})
        # the version number joins PyTensor's on-disk cache key: bump it
        # whenever these kernels change
        return _numba_njit(fused), 2

    def per_tensor_gradient(square):
        @_numba_njit
        def gradient(x, factor):  # compiled by Numba
            out = np.empty_like(x)  # x's shape, 0-d included, C order
            flat = np.ascontiguousarray(x).reshape(-1)
            target = out.reshape(-1)
            for i in range(flat.size):  # cast to the tensor's dtype
                target[i] = (flat[i] if square else np.sign(flat[i])) \
                    * factor
            return out
        return gradient

    gradients = {"sqr": per_tensor_gradient(True),
                 "abs": per_tensor_gradient(False)}

    @register_funcify_default_op_cache_key(_FusedGradient)
    def _numba_fused_gradient(op, node, **kwargs):
        names = ["x%d" % i for i in range(op.count)]
        factor = "2.0 * gz.item()" if op.kind == "sqr" else "gz.item()"
        source = ("def fused_gradient(gz, %s):\n    factor = %s\n"
                  "    return (%s,)\n" % (
                      ", ".join(names), factor,
                      ", ".join("one(%s, factor)" % n for n in names)))
        fused_gradient = compile_function_src(source, "fused_gradient", {
            "one": gradients[op.kind]})
        # the version number joins PyTensor's on-disk cache key: bump it
        # whenever these kernels change
        return _numba_njit(fused_gradient), 3


@linker_kernels(linker=JAX_LINKER)
def _jax_fused_kernel():  # backend: pytensor only; linker: jax
    import jax
    import jax.numpy as jnp
    from pytensor.link.jax.dispatch import jax_funcify

    @jax_funcify.register(_FusedReduction)
    def _jax_fused_reduction(op, node, **kwargs):
        # float64 accumulation when JAX has 64-bit types enabled
        out_dtype = node.outputs[0].dtype
        square = op.kind == "sqr"

        def fused(*xs):
            total = 0.0
            for x in xs:
                wide = x.astype(jnp.float64) if jax.config.jax_enable_x64 \
                    else x
                total = total + jnp.sum(wide * wide if square
                                        else jnp.abs(wide))
            return jnp.asarray(total).astype(out_dtype)
        return fused

    @jax_funcify.register(_FusedGradient)
    def _jax_fused_gradient(op, node, **kwargs):
        square = op.kind == "sqr"

        def fused_gradient(gz, *xs):
            return tuple(
                (x * (2 * gz) if square else jnp.sign(x) * gz).astype(x.dtype)
                for x in xs)
        return fused_gradient


@linker_kernels(linker=PYTORCH_LINKER)
def _torch_fused_kernel():  # backend: pytensor only; linker: pytorch
    import torch
    from pytensor.link.pytorch.dispatch import pytorch_funcify

    @pytorch_funcify.register(_FusedReduction)
    def _torch_fused_reduction(op, node, **kwargs):
        out_dtype = getattr(torch, node.outputs[0].dtype)
        square = op.kind == "sqr"

        def fused(*xs):
            wide = [x.to(torch.float64).reshape(-1) for x in xs]
            flat = torch.cat(wide)
            return (flat * flat if square else flat.abs()).sum().to(
                out_dtype)
        return fused

    @pytorch_funcify.register(_FusedGradient)
    def _torch_fused_gradient(op, node, **kwargs):
        square = op.kind == "sqr"

        def fused_gradient(gz, *xs):
            return tuple(
                (x * (2 * gz) if square else torch.sign(x) * gz).to(x.dtype)
                for x in xs)
        return fused_gradient


@linker_kernels(linker=MLX_LINKER)
def _mlx_fused_kernel():  # backend: pytensor only; linker: mlx
    import mlx.core as mx
    from pytensor.link.mlx.dispatch import mlx_funcify

    from .ops import _mlx_total

    @mlx_funcify.register(_FusedReduction)
    def _mlx_fused_reduction(op, node, **kwargs):
        return _mlx_total(op.kind, node.outputs[0].dtype)

    @mlx_funcify.register(_FusedGradient)
    def _mlx_fused_gradient(op, node, **kwargs):
        square = op.kind == "sqr"

        def fused_gradient(gz, *xs):
            return tuple(
                (x * (2 * gz) if square else mx.sign(x) * gz).astype(x.dtype)
                for x in xs)
        return fused_gradient
