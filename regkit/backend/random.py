"""Random draws from numpy Generators, the same on every linker.

Each draw holds its own ``numpy.random.Generator`` (PCG64) in a shared
variable, seeded from a ``numpy.random.SeedSequence``; the draw Op returns
the advanced generator beside the numbers, and
:func:`~regkit.backend.random_updates` (:mod:`regkit.backend.streams`)
collects the (generator, advanced generator) pairs a training function
needs to draw afresh on every call.

Examples
--------
>>> import numpy as np
>>> from regkit import backend
>>> mask = backend.bernoulli((3,), 0.5, "float64", np.random.SeedSequence(0))
>>> fn = backend.function([], mask, updates=backend.random_updates(mask))
>>> fn().shape
(3,)
"""
import copy
import sys

import numpy as np

from .choice import (JAX_LINKER, MLX_LINKER, PYTORCH_LINKER, SharedVariable,
                     TensorConstant, _Apply, _RANDOM_OPS, _RNGConsumer,
                     _generator_type, _lib, _shared_generator, _tensor_type,
                     _vector_length, shared, tensor)
from .graph import full_rank_constant
from .linking import (_RegkitOp, before_linking, linker_kernels,
                      register_kernels)

#: PyTensor's rewrite that would make an unused draw's update the identity
#: (see ``_NumpyDraw.update``).
_SIDESTEP = "sidestep_unused_rng_consumer"

__all__ = ["bernoulli", "normal", "uniform", "is_random_draw",
           "is_random_variable"]


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
    :func:`~regkit.backend.random_updates` of the graph to
    ``function(updates=...)`` to get
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
    draws = uniform(shape, dtype, seed_sequence)
    return tensor.cast(tensor.lt(draws, full_rank_constant(
        p, dtype, draws.ndim)), dtype)


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


def uniform(shape, dtype, seed_sequence):
    """A symbolic tensor of draws uniform in [0, 1) (see :func:`bernoulli`).

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import backend
    >>> u = backend.uniform((1000,), "float64", np.random.SeedSequence(0))
    >>> values = backend.function([], u)()
    >>> bool(values.min() >= 0 and values.max() < 1)
    True
    """
    return _draw("uniform", shape, dtype, seed_sequence)


class _NumpyDraw(_RegkitOp, _RNGConsumer):
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
        register_kernels()
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

    def update(self, node):
        """The generator's update, as PyTensor's RNGConsumerOp protocol
        asks: helpers that collect a graph's random updates (pytensor-ml's
        ``function`` and ``compile_train``, PyMC's ``compile``) advance
        regkit's generators as they advance their own.  A plain
        ``function`` does not: pass ``random_updates`` there.

        PyTensor's rewrite ``sidestep_unused_rng_consumer`` (tagged
        "random_unsafe", on by default) asks too, to make the update of a
        draw whose numbers a function does not use the generator itself:
        that changes the stream against Theano and the other linkers, and
        under the JAX linker such an identity update hands a numpy
        Generator back to the next call, which fails.  That caller gets no
        update, so the rewrite leaves regkit's draws alone."""
        if sys._getframe(1).f_code.co_name == _SIDESTEP:
            return {}
        return {node.inputs[0]: node.outputs[0]}


@linker_kernels
def _numba_draw_kernel():  # backend: pytensor only
    from numba.np.unsafe.ndarray import to_fixed_tuple as _to_fixed_tuple
    from pytensor.link.numba.dispatch import random as _numba_random  # noqa
    from pytensor.link.numba.dispatch.basic import (
        numba_njit as _numba_njit, register_funcify_default_op_cache_key)
    from pytensor.link.numba.dispatch.compile_ops import (
        numba_deepcopy as _numba_deepcopy)

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


@linker_kernels
def _jax_draw_shape_rewrite():  # backend: pytensor only
    from pytensor.compile import optdb
    from pytensor.graph.rewriting.basic import dfs_rewriter, node_rewriter
    from pytensor.tensor.basic import MakeVector

    @node_rewriter([_NumpyDraw])
    def _draw_shape_as_tuple(fgraph, node):  # linker: jax
        # JAX needs a draw's shape as concrete numbers: a shape assembled
        # from the sizes of arrays (MakeVector) becomes a tuple of them, as
        # PyTensor does for its own random variables.  Runs only in JAX
        # mode, so importing jax here costs nothing to other users.
        from pytensor.link.jax.dispatch.shape import JAXShapeTuple
        shape_node = node.inputs[1].owner
        if shape_node is not None and isinstance(shape_node.op, MakeVector):
            return node.clone_with_new_inputs(
                [node.inputs[0], JAXShapeTuple()(*shape_node.inputs)]).outputs

    optdb.register("regkit_jax_draw_shape_as_tuple",
                   dfs_rewriter(_draw_shape_as_tuple), "jax", position=100)


@linker_kernels(linker=JAX_LINKER)
def _jax_draw_kernel():  # backend: pytensor only; linker: jax
    import jax
    from pytensor.link.jax.dispatch import jax_funcify

    @jax_funcify.register(_NumpyDraw)
    def _jax_numpy_draw(op, node, **kwargs):
        # PyTensor's JAX linker turns each shared Generator into a dict
        # whose "jax_state" is a JAX key (for the function's own copy of
        # the generator): split it, draw with JAX's own generator, and
        # return the advanced state, as PyTensor's random variables do.
        # The numbers are JAX's, not numpy's stream.
        sample = jax.random.uniform if op.kind == "uniform" \
            else jax.random.normal
        dtype = op.dtype
        fixed = _constant_shape(node)

        def numpy_draw(rng, shape):
            key, subkey = jax.random.split(rng["jax_state"])
            rng = dict(rng, jax_state=key)
            size = fixed if fixed is not None else tuple(shape)
            return rng, sample(subkey, size, dtype=dtype)
        return numpy_draw


@before_linking(PYTORCH_LINKER)
def _own_generators(fgraph, input_storage, storage_map):  # linker: pytorch
    """Give a function compiled by PyTensor's PyTorch linker its own copy
    of each shared Generator it reads.  That linker hands its outputs back
    as arrays, so the advanced state it writes to a generator's storage is
    a torch seed, not a Generator: written to the user's shared variable,
    it would break every other function that reads it.  (PyTensor's JAX
    linker makes the same copies itself.)"""
    for old in [var for var in fgraph.inputs
                if isinstance(var, SharedVariable)
                and isinstance(var.get_value(borrow=True),
                               np.random.Generator)]:
        new = shared(old.get_value(borrow=False))
        position = fgraph.inputs.index(old)
        fgraph.replace_all([(old, new)], import_missing=True,
                           reason="regkit: own generators")
        old_storage = storage_map.pop(old)
        storage_map[new] = new_storage = [new.get_value(borrow=True)]
        index = [i for i, storage in enumerate(input_storage)
                 if storage is old_storage][0]
        input_storage[index] = new_storage
        # the copy takes the place of the original among the inputs, which
        # the storage lists follow in order
        fgraph.remove_input(position, reason="regkit: own generators")
        fgraph.inputs.remove(new)
        fgraph.inputs.insert(position, new)


@linker_kernels(linker=PYTORCH_LINKER)
def _torch_draw_kernel():  # backend: pytensor only; linker: pytorch
    import torch
    from pytensor.link.pytorch.dispatch import (pytorch_funcify,
                                                pytorch_typify)

    @pytorch_typify.register(np.random.Generator)
    def _torch_generator_state(rng, **kwargs):
        # a function's generator, as torch sees it: a seed drawn from a copy
        # of the numpy Generator (a function without random updates starts
        # from the same seed on every call, and repeats its draws)
        seed = copy.deepcopy(rng).integers(2 ** 62)
        return torch.tensor([seed], dtype=torch.int64)

    @pytorch_funcify.register(_NumpyDraw)
    def _torch_numpy_draw(op, node, **kwargs):
        # draws from torch's own generator, seeded by the state; the next
        # state is a seed drawn from the same generator.  torch.compile
        # leaves this function uncompiled: it cannot trace a Generator.
        sample = torch.rand if op.kind == "uniform" else torch.randn
        dtype = getattr(torch, op.dtype)
        fixed = _constant_shape(node)

        @torch.compiler.disable
        def numpy_draw(rng, shape):
            generator = torch.Generator().manual_seed(int(rng[0]))
            size = fixed if fixed is not None \
                else tuple(int(d) for d in shape)
            values = sample(size, generator=generator, dtype=dtype)
            state = torch.randint(0, 2 ** 62, (1,), generator=generator,
                                  dtype=torch.int64)
            return state, values
        return numpy_draw


@linker_kernels(linker=MLX_LINKER)
def _mlx_draw_kernel():  # backend: pytensor only; linker: mlx
    import mlx.core as mx
    from pytensor.link.mlx.dispatch import mlx_funcify
    from pytensor.link.mlx.dispatch.basic import convert_dtype_to_mlx
    from pytensor.link.mlx.dispatch.tensor_basic import mlx_to_list_shape

    @mlx_funcify.register(_NumpyDraw)
    def _mlx_numpy_draw(op, node, **kwargs):
        # PyTensor's MLX linker gives each function its own copy of a
        # shared Generator, as an MLX key: split it, draw with MLX's own
        # generator and return the advanced key (MLX's stream, not
        # numpy's).  MLX draws no float64: draw float32 and widen, as
        # PyTensor does for its own random variables under MLX.
        sample = mx.random.uniform if op.kind == "uniform" \
            else mx.random.normal
        dtype = convert_dtype_to_mlx(op.dtype)
        draw_dtype = mx.float32 if dtype == mx.float64 else dtype
        fixed = _constant_shape(node)

        def numpy_draw(rng, shape):
            key, subkey = mx.random.split(rng, num=2)
            size = fixed if fixed is not None else mlx_to_list_shape(shape)
            values = sample(shape=list(size), dtype=draw_dtype, key=subkey)
            return key, values.astype(dtype)
        return numpy_draw


def _constant_shape(node):
    """The shape of the draw `node` as a tuple of ints if it is a constant
    of the graph, else None (inside jit, JAX would see a constant given as
    an input as a traced array)."""
    given = node.inputs[1]
    if isinstance(given, TensorConstant):
        return tuple(int(d) for d in given.data)
    return None


def _draw(kind, shape, dtype, seed_sequence):
    rng = _shared_generator(np.random.default_rng(seed_sequence))
    ndim = len(shape) if isinstance(shape, (tuple, list)) \
        else _vector_length(shape)
    return _NumpyDraw(kind, dtype, ndim)(rng, shape)[1]


def is_random_draw(node):
    """Whether the Apply node `node` draws random numbers (regkit's draws,
    and PyTensor's random variables).

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import backend
    >>> mask = backend.bernoulli((2,), 0.5, "float64",
    ...                          np.random.SeedSequence(0))
    >>> any(backend.is_random_draw(v.owner) for v in backend.ancestors([mask])
    ...     if v.owner is not None)
    True
    """
    return _is_draw(node)


def is_random_variable(node):
    """Whether the Apply node `node` is one of PyTensor's own random
    variables (what PyMC models and pytensor-ml's dropout draw from), not
    one of regkit's draws; always False on Theano.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import backend
    >>> mask = backend.bernoulli((2,), 0.5, "float64",
    ...                          np.random.SeedSequence(0))
    >>> draws = [v.owner for v in backend.ancestors([mask])
    ...          if v.owner is not None and backend.is_random_draw(v.owner)]
    >>> [backend.is_random_variable(node) for node in draws]
    [False]
    """
    return bool(_RANDOM_OPS) and isinstance(node.op, _RANDOM_OPS)


def _is_draw(node):
    return isinstance(node.op, (_NumpyDraw,) + _RANDOM_OPS)
