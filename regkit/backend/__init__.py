"""The one place where regkit meets Theano or PyTensor.

The backend is chosen once, when this package is first imported (see
:mod:`regkit.backend.choice`): ``REGKIT_BACKEND=theano`` or
``REGKIT_BACKEND=pytensor`` selects one, otherwise Theano is used if it
imports, else PyTensor.  Every other regkit module reaches the symbolic
library through the names below, so every difference between the two
backends, and every import of theano, pytensor, numba, jax or torch, lives
in this package:

* :mod:`~regkit.backend.choice`: the choice, the library's own names, and
  every line that differs between Theano and PyTensor;
* :mod:`~regkit.backend.graph`: the graph walk, static shapes and types,
  shallow sums;
* :mod:`~regkit.backend.linking`: how regkit's Ops reach each linker
  (lazy kernels, and the one patch of a PyTensor linker);
* :mod:`~regkit.backend.ops`: regkit's reduction Ops and their kernels for
  each linker;
* :mod:`~regkit.backend.random`: generator-backed random draws;
  :mod:`~regkit.backend.streams`: the generators a graph draws from and
  the updates that advance them.

Examples
--------
>>> from regkit import backend
>>> backend.NAME in ("theano", "pytensor")
True
>>> x = backend.tensor.fmatrix("x")
>>> backend.function([x], x.sum())([[1.0, 2.0]]).item()
3.0
"""
from .choice import (JAX_LINKER, MLX_LINKER, NAME, OWN_RANDOM_STREAMS,
                     PYTORCH_LINKER,
                     Constant, Elemwise, SharedVariable,
                     TensorConstant, TensorVariable, Variable,
                     as_tensor_variable, c_linker_mode, clone_replace, config,
                     disconnected_grad, floatX, function, grad, linker_modes,
                     quick_compile,
                     scan, shared, sigmoid, softmax, solve, expm,
                     specify_broadcastable,
                     tensor, verify_grad)
from .graph import (ancestors, depends_on, full_rank_constant, graph_inputs,
                    is_state_variable, is_sum, is_tensor,
                    is_untrained_state, shallow_sum,
                    state_variable,
                    static_shape, tensor_variable, is_shape_step, unit_kind,
                    unit_step, bottom_up)
from .linking import before_linking, linker_kernels, register_kernels
from .fused import MAX_FUSED_INPUTS, total_sum_of_abs, total_sum_of_squares
from .ops import sum_of_abs, sum_of_squares
from .random import (bernoulli, is_random_draw, is_random_variable, normal,
                     uniform)
from .streams import RandomUpdates, private_generators, random_updates

__all__ = [
    "NAME", "tensor", "config", "floatX", "shared", "function", "grad",
    "clone_replace", "graph_inputs", "tensor_variable", "static_shape",
    "ancestors", "depends_on", "shallow_sum", "as_tensor_variable",
    "Variable", "TensorVariable", "TensorConstant", "Constant",
    "SharedVariable",
    "sigmoid", "softmax", "verify_grad", "disconnected_grad", "scan",
    "is_tensor",
    "Elemwise",
    "full_rank_constant", "is_untrained_state", "state_variable", "is_state_variable", "is_sum", "bernoulli", "normal", "uniform", "random_updates",
    "RandomUpdates", "private_generators", "is_random_draw",
    "is_random_variable", "unit_kind", "unit_step", "is_shape_step",
    "bottom_up",
    "write_theanorc", "write_environment_flag", "quick_compile",
    "sum_of_squares", "sum_of_abs", "total_sum_of_squares",
    "total_sum_of_abs", "MAX_FUSED_INPUTS",
    "c_linker_mode", "linker_modes", "OWN_RANDOM_STREAMS", "JAX_LINKER",
    "PYTORCH_LINKER", "MLX_LINKER", "solve", "expm", "specify_broadcastable", "linker_kernels", "before_linking", "register_kernels",
]


def __getattr__(name):
    # regkit.backend.theanorc is also a command (python -m ...): imported
    # here on first use, so that runpy does not find it already loaded
    if name in ("write_theanorc", "write_environment_flag"):
        from . import theanorc
        return getattr(theanorc, name)
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
