"""The graph helpers every regkit module uses: one walk over a graph, the
static shapes and types of tensors, and sums that stay shallow.

Examples
--------
>>> import numpy as np
>>> from regkit import backend
>>> W = backend.shared(np.ones((2, 2)), name="W")
>>> backend.depends_on(backend.tensor.sum(W * 2), W)
True
"""
import sys

import numpy as np

from .choice import (Elemwise, TensorConstant, Variable,
                     _broadcastable_type, _lib, _type_shape, shared, tensor)

__all__ = ["ancestors", "depends_on", "graph_inputs", "tensor_variable",
           "static_shape", "is_tensor", "shallow_sum", "full_rank_constant",
           "state_variable", "is_state_variable", "is_sum",
           "is_untrained_state", "unit_kind", "unit_step", "is_shape_step",
           "bottom_up"]

#: How many terms :func:`shallow_sum` adds in one node.
_FAN_IN = 32


def ancestors(outputs, blockers=()):
    """Every variable the graphs of `outputs` depend on, each once.

    The one graph walk of regkit: an explicit stack (no recursion limit),
    linear in the size of the graph.

    Parameters
    ----------
    outputs : iterable of Variable
    blockers : iterable of Variable
        Variables whose own inputs are not walked (they are still listed).

    Returns
    -------
    list of Variable
        In depth-first pre-order: `outputs` in order, the inputs of each
        operation from left to right.

    Examples
    --------
    >>> from regkit import backend
    >>> x, y = backend.tensor.vectors("x", "y")
    >>> total = x + y
    >>> [v.name for v in backend.ancestors([total]) if v.name]
    ['x', 'y']
    >>> len(backend.ancestors([total], blockers=[total]))
    1
    """
    if not isinstance(blockers, (set, frozenset)):  # a set is used as is
        blockers = set(blockers)
    seen, stack, order = set(), list(reversed(list(outputs))), []
    while stack:
        var = stack.pop()
        if var in seen:
            continue
        seen.add(var)
        order.append(var)
        if var.owner is not None and var not in blockers:
            stack.extend(reversed(var.owner.inputs))
    return order


def depends_on(expr, var, blockers=()):
    """Whether the graph of `expr` reads `var` (or is `var`), not looking
    below `blockers` (see :func:`ancestors`).

    Examples
    --------
    >>> from regkit import backend
    >>> x, y = backend.tensor.vectors("x", "y")
    >>> backend.depends_on(2 * x, x), backend.depends_on(2 * x, y)
    (True, False)
    """
    return any(each is var for each in ancestors([expr], blockers))


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
    return [var for var in ancestors(outputs) if var.owner is None]


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


def shallow_sum(terms):
    """The sum of a list of scalars (symbolic or numbers) as a tree of
    additions at most ``log_32(len(terms))`` deep (see
    :func:`regkit.regularization.sum_terms`, which checks its terms and
    calls this); ``0`` for an empty list.

    Examples
    --------
    >>> from regkit import backend
    >>> backend.shallow_sum([1.0, 2.0, 3.0])
    6.0
    """
    level = list(terms)
    if not level:
        return 0
    while len(level) > 1:
        level = [_add(level[i:i + _FAN_IN])
                 for i in range(0, len(level), _FAN_IN)]
    return level[0]


def _add(chunk):
    if len(chunk) == 1:
        return chunk[0]
    if any(is_tensor(term) for term in chunk):
        return tensor.sum(tensor.stack(chunk))
    return sum(chunk[1:], chunk[0])


def full_rank_constant(value, dtype, ndim):
    """`value` as a constant of `dtype` with `ndim` broadcastable
    dimensions: multiplying a tensor by it needs no broadcasting Op
    (``DimShuffle``), whose creation dominates the cost of building deep
    graphs.  A symbolic scalar `value` (a weight that varies during
    training) is cast to `dtype` and given the same broadcastable
    dimensions.

    Examples
    --------
    >>> from regkit import backend
    >>> backend.full_rank_constant(0.5, "float32", 2).broadcastable
    (True, True)
    """
    if is_tensor(value):
        return tensor.cast(value, dtype).dimshuffle(("x",) * ndim)
    return tensor.as_tensor_variable(
        np.asarray(value, dtype=dtype).reshape((1,) * ndim))


def state_variable(value, name):
    """A shared variable that holds regkit's own state (a power-iteration
    vector, an L2-SP start), marked so that it is never a parameter: the
    walk of a graph (:func:`regkit.layers.graph_layers`) leaves it out, so
    ``get_all_params(loss, trainable=True)`` does not list it and no
    penalty or update hook sees it.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import backend
    >>> v = backend.state_variable(np.zeros(2), "W.power_vector")
    >>> backend.is_state_variable(v), v.name
    (True, 'W.power_vector')
    """
    var = shared(value, name=name)
    var.tag.regkit_state = True
    return var


def is_state_variable(var):
    """Whether `var` was made by :func:`state_variable`."""
    return bool(getattr(getattr(var, "tag", None), "regkit_state", False))


def is_untrained_state(var):
    """Whether `var` is state a model library keeps out of training:
    pytensor-ml's ``NonTrainableParameter`` (running statistics) and
    ``StepCounter``, recognised by type.  pytensor-ml is not imported
    here: a variable of its types exists only once it was.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import backend
    >>> backend.is_untrained_state(backend.shared(np.zeros(2)))
    False
    """
    types = _untrained_types()
    return bool(types) and isinstance(var, types)


def _untrained_types():  # backend: pytensor only (pytensor-ml)
    if "pytensor_ml" not in sys.modules:
        return ()
    from pytensor_ml.params import NonTrainableParameter, StepCounter
    return (NonTrainableParameter, StepCounter)


def is_sum(var):
    """Whether `var` is computed by an elementwise addition (``a + b``,
    ``a + b + c``): what stochastic depth may treat as a residual sum.

    Examples
    --------
    >>> from regkit import backend
    >>> x = backend.tensor.vector("x")
    >>> backend.is_sum(x + 2 * x), backend.is_sum(x * x)
    (True, False)
    """
    owner = getattr(var, "owner", None)
    return owner is not None and isinstance(owner.op, Elemwise) \
        and isinstance(owner.op.scalar_op, _lib.scalar.Add)


#: Operations that compute units from a weight, by class name (the same
#: on Theano and PyTensor; a Blockwise op by its core op's).
_DENSE_OPS = frozenset(("Dot", "Dot22", "Matmul", "BatchedDot", "MatMul"))
#: The steps that may finish a unit, by the class name of the op (or of an
#: elementwise op's scalar op): "squash" for the nonlinearities after
#: which only parameters may be read (``log(p + 1e-8)`` is a loss's),
#: "affine" for a bias, a scale, a cast, "linear" for the piecewise
#: linear steps (ReLU as ``maximum(z, 0)`` or ``0.5 * (z + abs(z))``),
#: "param" for a subtraction, which may read parameters or the unit's own
#: statistics but not a constant (``z - 1`` is a loss's target).
#: Nonlinearities that are not elementwise.
_SOFTMAX_OPS = frozenset(("Softmax", "LogSoftmax", "SoftmaxWithBias"))
_STEPS = dict(
    [(name, "squash") for name in (
        "Tanh", "Sigmoid", "ScalarSigmoid", "Softplus", "ScalarSoftplus",
        "Exp", "Expm1", "Log1p", "Erf", "Erfc", "Cos", "Sin")
     + tuple(_SOFTMAX_OPS)]
    + [(name, "affine") for name in (
        "Add", "Mul", "TrueDiv", "Cast", "Identity")]
    + [(name, "linear") for name in (
        "Abs", "Maximum", "Minimum", "Switch", "GT", "GE", "LT", "LE",
        "Clip")]
    + [("Sub", "param")])
#: Operations that only move a unit's values (tensordot's reshapes).
_SHAPE_OPS = frozenset(("Reshape", "DimShuffle", "SpecifyShape"))


def _op_name(node):
    op = getattr(node.op, "core_op", node.op)  # Blockwise(Matmul)
    op = getattr(op, "scalar_op", op)  # Elemwise(tanh)
    return type(op).__name__


def unit_kind(node):
    """``"dense"`` if the Apply node `node` is a matrix product,
    ``"conv"`` if it is a convolution, else None: the operations whose
    output, with its bias and nonlinearity, is a layer's units.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import backend
    >>> x = backend.tensor.matrix("x")
    >>> W = backend.shared(np.ones((3, 2)))
    >>> backend.unit_kind(backend.tensor.dot(x, W).owner)
    'dense'
    >>> backend.unit_kind(backend.tensor.tanh(x).owner) is None
    True
    """
    name = _op_name(node)
    if name in _DENSE_OPS:
        return "dense"
    if name.startswith("AbstractConv") and "grad" not in name.lower():
        return "conv"
    return None


def unit_step(node):
    """How the Apply node `node` may finish a layer's units in place:
    ``"squash"`` (a saturating nonlinearity or a softmax), ``"affine"``
    (an addition, a scale, a cast), ``"linear"`` (a piecewise linear
    function: ReLU, a clip), ``"param"`` (a subtraction: of parameters or
    statistics, not of constants),
    ``"pool"`` (Theano's pooling, whose other inputs are its window), or
    None (not a step of a unit: a reduction, a logarithm, a power).

    Examples
    --------
    >>> from regkit import backend
    >>> x = backend.tensor.matrix("x")
    >>> backend.unit_step(backend.tensor.tanh(x).owner)
    'squash'
    >>> backend.unit_step(backend.tensor.maximum(x, 0).owner)
    'linear'
    >>> backend.unit_step((x + 1).owner)
    'affine'
    >>> backend.unit_step(backend.tensor.log(x).owner) is None
    True
    """
    if len(node.outputs) != 1:
        return None
    if type(node.op).__name__ == "Pool":  # Theano's pooling, before a bias
        return "pool"
    if not isinstance(node.op, Elemwise) \
            and type(node.op).__name__ not in _SOFTMAX_OPS:
        return None
    return _STEPS.get(_op_name(node))


def is_shape_step(node):
    """Whether the Apply node `node` only reshapes or transposes its first
    input (what ``dot`` of a 3-D tensor wraps its matrix product in).

    Examples
    --------
    >>> from regkit import backend
    >>> x = backend.tensor.matrix("x")
    >>> backend.is_shape_step(x.T.owner), backend.is_shape_step((2 * x).owner)
    (True, False)
    """
    return type(node.op).__name__ in _SHAPE_OPS


def bottom_up(start, combine):
    """A function giving a value for each variable of a graph, computed
    from its inputs' values, each variable once (an explicit stack: no
    recursion limit).

    Parameters
    ----------
    start : callable
        ``start(var)``: ``(value,)`` for a variable whose value does not
        depend on its inputs (a variable computed from nothing must get
        one), or ``()`` to compute it by `combine`.
    combine : callable
        ``combine(var, values)``: the value of `var` from its inputs'
        values, in order.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import backend
    >>> x = backend.tensor.vector("x")
    >>> W = backend.shared(np.ones(2))
    >>> fixed = backend.bottom_up(
    ...     lambda v: (v.owner is None and v is not x,) if v.owner is None
    ...     else (), lambda v, values: all(values))
    >>> fixed(2 * W), fixed(x + W)
    (True, False)
    """
    known = {}

    def value(var):
        stack = [var]
        while stack:
            top = stack[-1]
            if top in known:
                stack.pop()
                continue
            found = start(top)
            if found:
                known[top] = found[0]
                stack.pop()
                continue
            waiting = [v for v in top.owner.inputs if v not in known]
            if waiting:
                stack.extend(waiting)
            else:
                known[top] = combine(top, [known[v] for v in top.owner.inputs])
                stack.pop()
        return known[var]
    return value
