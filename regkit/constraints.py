"""Norm constraints applied to update expressions.

A max-norm constraint is not a term of the loss: after each update, the
weights are projected back into a ball.  Apply these functions to the
*new values* of an update list, the way Lasagne's ``lasagne.updates``
does::

    updates[W] = norm_constraint(updates[W], max_norm=3.0)

Both keep the dtype of each tensor (float32 in, float32 out).  Unlike
Lasagne, a tensor whose norm is already within the bound is left exactly
as it is: the scale is ``min(1, max_norm / (norm + epsilon))``, where
Lasagne multiplies by ``norm / (norm + epsilon)`` even then.

For max-norm through the :class:`regkit.regularizers.Regularizer` model,
see :class:`regkit.regularizers.MaxNorm`.
"""

import numpy as np

from . import backend
from ._checks import (_constant, describe, is_collection, is_int,
                      as_float_tensor, check_positive, normalize_axes)
from .penalties import fused_sum, l2, safe_norm, safe_sqrt

__all__ = ["norm_constraint", "total_norm_constraint", "default_norm_axes",
           "rescale_norms"]

T = backend.tensor


def default_norm_axes(ndim):
    """The axes :func:`norm_constraint` takes norms along by default.

    ``(0,)`` for a 2-D weight matrix of shape ``(inputs, units)`` (one norm
    per unit: its incoming weights), all axes but the first for a 3- to
    5-D tensor with the filters first (one norm per filter), None for any
    other number of dimensions.

    Examples
    --------
    >>> from regkit.constraints import default_norm_axes
    >>> default_norm_axes(2), default_norm_axes(4), default_norm_axes(1)
    ((0,), (1, 2, 3), None)
    """
    if not is_int(ndim):
        raise TypeError("default_norm_axes: ndim must be an int, got %s"
                        % describe(ndim))
    if ndim < 0:
        raise ValueError("default_norm_axes: ndim must be non-negative, got "
                         "%d" % ndim)
    if ndim == 2:
        return (0,)
    if 3 <= ndim <= 5:
        return tuple(range(1, ndim))
    return None


def _scale(norm, max_norm, epsilon, dtype):
    """``min(1, max_norm / (norm + epsilon))`` in `dtype`."""
    return T.minimum(_constant(1, dtype), _constant(max_norm, dtype)
                     / (norm + _constant(epsilon, dtype)))


def norm_constraint(tensor_var, max_norm, norm_axes=None, epsilon=1e-7):
    r"""Rescale `tensor_var` so that every norm along `norm_axes` is at most
    `max_norm`.

    .. math::

        x \leftarrow x \cdot \min\left(1,
            \frac{c}{\lVert x \rVert_{\mathrm{axes}} + \epsilon}\right)

    with :math:`c` = `max_norm`, the norm taken along `norm_axes` (one norm
    per remaining index).  The max-norm constraint of Srebro and Shraibman,
    "Rank, trace-norm and max-norm", COLT 2005, used with dropout by
    Srivastava et al., "Dropout: a simple way to prevent neural networks
    from overfitting", JMLR 15, 2014 (section 5.1).

    Parameters
    ----------
    tensor_var : tensor
        Usually the new value of a parameter in an update list.
    max_norm : float or symbolic scalar
        The bound, positive (a symbolic scalar, such as a schedule's value,
        is not checked).
    norm_axes : int, sequence of int or None
        Axes the norms are taken along.  None: ``(0,)`` for 2-D (the
        incoming weights of each unit of a ``(inputs, units)`` matrix), all
        axes but the first for 3- to 5-D (each filter); other ranks need
        explicit axes.
    epsilon : float
        Non-negative; keeps the division finite at a zero norm.

    Returns
    -------
    A symbolic tensor of the shape and dtype of `tensor_var`.

    Raises
    ------
    ValueError
        If `tensor_var` has 0, 1 or more than 5 dimensions and `norm_axes`
        is None, an axis is out of range, or `max_norm` / `epsilon` is out
        of range.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import norm_constraint
    >>> W = np.array([[3.0, 0.3], [4.0, 0.4]])
    >>> norm_constraint(W, max_norm=1.0).eval().round(3)
    array([[0.6, 0.3],
           [0.8, 0.4]])
    """
    caller = "norm_constraint"
    x = as_float_tensor(tensor_var, caller, "tensor_var")
    if backend.is_tensor(max_norm):  # a bound that varies in training
        if max_norm.ndim != 0:
            raise ValueError("norm_constraint: a symbolic max_norm must be "
                             "a scalar, got %d dimensions" % max_norm.ndim)
    else:
        max_norm = check_positive(max_norm, caller, "max_norm")
    epsilon = check_positive(epsilon, caller, "epsilon", allow_zero=True)
    return rescale_norms(
        x, lambda norms: _scale(norms, max_norm, epsilon, x.dtype),
        norm_axes, caller=caller)


def rescale_norms(tensor_var, scale, norm_axes=None,
                  caller="rescale_norms"):
    """Multiply each vector of `tensor_var` along `norm_axes` by a factor
    computed from its Euclidean norm.

    The one place regkit rescales norms: :func:`norm_constraint` and the
    update hooks :class:`~regkit.MaxNorm`, :class:`~regkit.UnitNorm` and
    :class:`~regkit.MinMaxNorm` call it with their own `scale`.  The norm's
    gradient at a zero vector is 0, not NaN; the factor is `scale`'s own
    (add an epsilon to a norm you divide by, as the examples do).  A vector
    holding a NaN has a NaN norm.

    Parameters
    ----------
    tensor_var : tensor
        A symbolic tensor of a float dtype.
    scale : callable
        Maps the norms (a tensor with `tensor_var`'s dimensions, of size 1
        along `norm_axes`) to the factor of each vector, in the same dtype.
    norm_axes : int, sequence of int or None
        As for :func:`norm_constraint`; None: :func:`default_norm_axes`
        (ValueError for a tensor without a default).
    caller : str
        The name errors give.

    Returns
    -------
    tensor
        ``tensor_var * scale(norms)`` in `tensor_var`'s dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit.constraints import rescale_norms
    >>> W = np.array([[3.0, 0.0], [4.0, 0.0]])
    >>> unit = rescale_norms(W, lambda norms: 1 / (norms + 1e-7))
    >>> np.round(unit.eval(), 6)  # unit columns; a zero column stays zero
    array([[0.6, 0. ],
           [0.8, 0. ]])
    """
    x = as_float_tensor(tensor_var, caller, "tensor_var")
    if not callable(scale):
        raise TypeError("%s: scale must be callable (norms -> factors), got "
                        "%s" % (caller, describe(scale)))
    if norm_axes is None:
        axes = default_norm_axes(x.ndim)
        if axes is None:
            raise ValueError(
                "%s: no default norm_axes for a %d-d tensor %r (defaults "
                "exist for 2- to 5-d tensors); pass norm_axes"
                % (caller, x.ndim, x))
    else:
        axes = normalize_axes(norm_axes, x.ndim, caller, "norm_axes")
    norms = safe_norm(x, axes, keepdims=True)
    return T.cast(x * scale(norms), x.dtype)


def total_norm_constraint(tensor_vars, max_norm, epsilon=1e-7,
                          return_norm=False):
    r"""Rescale a list of tensors jointly so that their total norm is at
    most `max_norm`.

    .. math::

        x_k \leftarrow x_k \cdot \min\left(1,
            \frac{c}{\sqrt{\sum_k \lVert x_k \rVert_2^2} + \epsilon}\right)

    Usually applied to gradients before they are turned into updates
    (gradient-norm clipping, Pascanu, Mikolov and Bengio, "On the
    difficulty of training recurrent neural networks", ICML 2013).

    Parameters
    ----------
    tensor_vars : list of tensors
        One or more float tensors; each keeps its own dtype.
    max_norm : float
        The bound, positive.
    epsilon : float
        Non-negative; keeps the division finite at a zero norm.
    return_norm : bool
        Also return the total norm before scaling.

    Returns
    -------
    list of tensors, or (list, norm) with `return_norm`.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import total_norm_constraint
    >>> scaled, norm = total_norm_constraint(
    ...     [np.array([3.0]), np.array([4.0])], max_norm=1.0,
    ...     return_norm=True)
    >>> float(norm.eval()), [v.eval().round(3).tolist() for v in scaled]
    (5.0, [[0.6], [0.8]])
    """
    caller = "total_norm_constraint"
    if _is_single_tensor(tensor_vars) or not is_collection(tensor_vars):
        raise TypeError("%s: tensor_vars must be a list of tensors, got %s"
                        % (caller, describe(tensor_vars)))
    tensors = [as_float_tensor(v, caller, "item %d of tensor_vars" % i)
               for i, v in enumerate(tensor_vars)]
    if not tensors:
        raise ValueError("%s: tensor_vars must not be empty" % caller)
    max_norm = check_positive(max_norm, caller, "max_norm")
    epsilon = check_positive(epsilon, caller, "epsilon", allow_zero=True)
    norm = safe_sqrt(fused_sum(l2, tensors))
    scale = _scale(norm, max_norm, epsilon, norm.dtype)
    scaled = [x * T.cast(scale, x.dtype) for x in tensors]
    return (scaled, norm) if return_norm else scaled


def _is_single_tensor(value):
    """Whether `value` is one tensor rather than a collection of them."""
    return backend.is_tensor(value) or isinstance(value, np.ndarray)
