"""Penalty functions: a tensor in, a scalar penalty out.

Every penalty takes one tensor (a symbolic variable, a shared variable or a
numpy array) and returns a 0-d symbolic scalar of the same float dtype:
float32 in, float32 out.  Extra arguments are keywords with defaults, so
that :func:`regkit.apply.apply_penalty` can pass them through.

Integer and boolean tensors are rejected with a TypeError: a penalty on
integer values has no gradient, and summing them would silently change the
dtype of the loss it is added to.
"""
from collections.abc import Mapping
import numbers

import numpy as np

from . import backend

__all__ = ["l1", "l2", "elastic_net", "group_lasso", "orthogonality",
           "total_variation", "kl_sparsity", "is_tensor_like",
           "as_float_tensor"]

T = backend.tensor


def is_tensor_like(value):
    """Whether `value` is something a penalty accepts: a symbolic tensor, a
    numeric numpy array or a numpy scalar.

    Examples
    --------
    >>> import numpy as np
    >>> is_tensor_like(np.zeros(3)), is_tensor_like("W"), is_tensor_like(None)
    (True, False, False)
    """
    if backend.is_tensor(value):
        return True
    return isinstance(value, (np.ndarray, np.generic)) \
        and value.dtype.kind in "biuf"


def as_float_tensor(x, caller, argname="x"):
    """`x` as a symbolic tensor of a float dtype, or a TypeError.

    Parameters
    ----------
    x : symbolic tensor, shared variable or numpy array
    caller : str
        Name of the function asking, for the error message.
    argname : str
        Name of the argument, for the error message.

    Examples
    --------
    >>> import numpy as np
    >>> as_float_tensor(np.ones(2, dtype="float32"), "l2").dtype
    'float32'
    """
    if not is_tensor_like(x):
        raise TypeError(
            "%s: %s must be a tensor (symbolic variable, shared variable or "
            "numeric numpy array), got %s" % (caller, argname, _describe(x)))
    x = backend.as_tensor_variable(x)
    if not x.dtype.startswith("float"):
        raise TypeError(
            "%s: %s must have a float dtype, got %s %r; cast it first "
            "(penalties on integers have no gradient)"
            % (caller, argname, x.dtype, x))
    return x


def _constant(value, dtype):
    """`value` as a constant of `dtype`, so that it never upcasts a graph."""
    return backend.as_tensor_variable(np.asarray(value, dtype=dtype))


def _as_real(value, caller, argname, expected="a number"):
    """`value` as a float if it is a real number (not a bool or a string),
    else a TypeError naming `argname`."""
    if isinstance(value, bool) or not isinstance(
            value, (numbers.Real, np.floating, np.integer)):
        raise TypeError("%s: %s must be %s, got %s"
                        % (caller, argname, expected, _describe(value)))
    return float(value)


def _check_fraction(value, caller, argname, strict=False):
    """`value` as a float in [0, 1] (strictly between 0 and 1 with
    `strict`), or a TypeError / ValueError naming `argname`."""
    value = _as_real(value, caller, argname, "a number between 0 and 1"
                     if strict else "a number in [0, 1]")
    if strict and not 0.0 < value < 1.0:
        raise ValueError("%s: %s must be strictly between 0 and 1, got %r"
                         % (caller, argname, value))
    if not 0.0 <= value <= 1.0:
        raise ValueError("%s: %s must be in [0, 1], got %r"
                         % (caller, argname, value))
    return value


def check_positive(value, caller, argname, allow_zero=False):
    """`value` as a float that is finite and positive (or zero, with
    `allow_zero`), or a TypeError / ValueError naming `argname`.

    Examples
    --------
    >>> check_positive(3, "f", "max_norm")
    3.0
    """
    value = _as_real(value, caller, argname)
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError("%s: %s must be finite and %s, got %r"
                         % (caller, argname, "non-negative" if allow_zero
                            else "positive", value))
    return value


def normalize_axes(axes, ndim, caller, argname="axis"):
    """`axes` (an int or a sequence of ints, negative counting from the end)
    as a sorted tuple of distinct axes of an `ndim`-d tensor.

    Raises
    ------
    TypeError
        If an axis is not an integer.
    ValueError
        If an axis is out of range, repeated, or `axes` is empty.

    Examples
    --------
    >>> normalize_axes(-1, 3, "f"), normalize_axes((2, 0), 3, "f")
    ((2,), (0, 2))
    """
    items = axes if isinstance(axes, (tuple, list)) else [axes]
    if not items:
        raise ValueError("%s: %s must name at least one axis, got %r"
                         % (caller, argname, axes))
    result = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, np.integer)):
            raise TypeError("%s: %s must be an int or a sequence of ints, "
                            "got %s" % (caller, argname, _describe(axes)))
        if not -ndim <= item < ndim:
            raise ValueError("%s: %s %r is out of range for a %d-d tensor"
                             % (caller, argname, axes, ndim))
        result.append(int(item) % ndim)
    if len(set(result)) != len(result):
        raise ValueError("%s: %s %r names an axis twice"
                         % (caller, argname, axes))
    return tuple(sorted(result))


def _check_ndim(x, minimum, caller, argname="x", maximum=None):
    if x.ndim < minimum or (maximum is not None and x.ndim > maximum):
        wanted = ("at least %d" % minimum if maximum is None
                  else "%d to %d" % (minimum, maximum))
        raise ValueError("%s: %s must have %s dimensions, got a %d-d tensor "
                         "%r" % (caller, argname, wanted, x.ndim, x))


def _is_collection(value):
    """Whether `value` can be taken as a list of items: iterable, and not a
    string, bytes or a mapping (which iterate over characters or keys)."""
    return not isinstance(value, (str, bytes, Mapping)) \
        and hasattr(value, "__iter__")


def _describe(value):
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return "%s %s" % (type(value).__name__, text)


def l1(x):
    r"""L1 penalty: the sum of the absolute values of `x`.

    .. math:: \ell_1(x) = \sum_i |x_i|

    Parameters
    ----------
    x : tensor
        A symbolic tensor, shared variable or numpy array of a float dtype.

    Returns
    -------
    0-d symbolic scalar of the dtype of `x`.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit.penalties import l1
    >>> float(l1(np.array([1.0, -2.0, 3.0])).eval())
    6.0
    """
    x = as_float_tensor(x, "l1")
    return backend.sum_of_abs(x)


def l2(x):
    r"""L2 penalty: the sum of the squares of `x` (no factor 1/2).

    .. math:: \ell_2(x) = \sum_i x_i^2

    This is the squared Euclidean (Frobenius) norm, the same value as
    Lasagne's ``l2``.

    Parameters
    ----------
    x : tensor
        A symbolic tensor, shared variable or numpy array of a float dtype.

    Returns
    -------
    0-d symbolic scalar of the dtype of `x`.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit.penalties import l2
    >>> float(l2(np.array([1.0, -2.0, 3.0])).eval())
    14.0
    """
    x = as_float_tensor(x, "l2")
    return backend.sum_of_squares(x)


def kl_sparsity(h, target=0.05):
    r"""KL sparsity penalty on the mean activation of each unit.

    .. math::

        \sum_j \rho \log\frac{\rho}{\hat\rho_j}
              + (1 - \rho) \log\frac{1 - \rho}{1 - \hat\rho_j}

    where :math:`\rho` is `target` and :math:`\hat\rho_j` the mean of
    ``h[:, j]`` over the examples (axis 0), clipped into
    :math:`[\epsilon, 1 - \epsilon]` with :math:`\epsilon` the machine
    epsilon of the dtype, so that the value and the gradient stay finite
    when a unit is always off or always on (the gradient is zero while the
    mean is outside the clipping range).  From the sparse autoencoder of
    Ng, "Sparse autoencoder", CS294A lecture notes (2011).

    Parameters
    ----------
    h : tensor
        Activations of shape ``(examples, units...)`` with values in [0, 1]
        (e.g. sigmoid outputs).
    target : float
        The desired mean activation, strictly between 0 and 1.

    Returns
    -------
    0-d symbolic scalar of the dtype of `h`.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit.penalties import kl_sparsity
    >>> h = np.full((4, 3), 0.05)
    >>> abs(float(kl_sparsity(h, target=0.05).eval())) < 1e-12
    True
    """
    h = as_float_tensor(h, "kl_sparsity", "h")
    target = _check_fraction(target, "kl_sparsity", "target", strict=True)
    if h.ndim < 1:
        raise ValueError("kl_sparsity: h must have an examples axis, got a "
                         "0-d tensor")
    def const(value):
        return _constant(value, h.dtype)
    eps = float(np.finfo(h.dtype).eps)
    mean = T.clip(h.mean(axis=0), const(eps), const(1.0 - eps))
    rho, rest = const(target), const(1.0 - target)
    kl = rho * T.log(rho / mean) + rest * T.log(rest / (const(1.0) - mean))
    return T.sum(kl)


def elastic_net(x, l1_ratio=0.5):
    r"""Elastic net penalty: a mix of the L1 and the L2 penalty.

    .. math::

        \mathrm{elastic\_net}(x) = r \sum_i |x_i| + (1 - r) \sum_i x_i^2

    with :math:`r` = `l1_ratio`, from Zou and Hastie, "Regularization and
    variable selection via the elastic net", JRSS B 67(2), 2005.  The L2
    part is :func:`l2` (no factor 1/2, unlike scikit-learn's
    ``ElasticNet``), so ``l1_ratio=1`` is :func:`l1` and ``l1_ratio=0`` is
    :func:`l2`.

    The kink of :math:`|x_i|` at 0 gets the subgradient 0, so the gradient
    is finite everywhere.

    Parameters
    ----------
    x : tensor
        A symbolic tensor, shared variable or numpy array of a float dtype.
    l1_ratio : float
        Share of the L1 part, in [0, 1].

    Returns
    -------
    0-d symbolic scalar of the dtype of `x`.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit.penalties import elastic_net
    >>> float(elastic_net(np.array([1.0, -2.0]), l1_ratio=0.25).eval())
    4.5
    """
    x = as_float_tensor(x, "elastic_net")
    ratio = _check_fraction(l1_ratio, "elastic_net", "l1_ratio")
    terms = []
    if ratio > 0:
        terms.append(_constant(ratio, x.dtype) * backend.sum_of_abs(x))
    if ratio < 1:
        terms.append(_constant(1.0 - ratio, x.dtype)
                     * backend.sum_of_squares(x))
    return terms[0] if len(terms) == 1 else terms[0] + terms[1]


def group_lasso(x, axis=-1):
    r"""Group lasso penalty: the sum of the L2 norms of groups of weights.

    .. math:: \mathrm{group\_lasso}(x) = \sum_g \lVert x_g \rVert_2

    A group :math:`x_g` is the vector of entries that share every index
    except those along `axis`: for a weight matrix of shape
    ``(inputs, units)`` and ``axis=-1``, one group per input row, so the
    penalty drives whole inputs to zero (feature selection).  From Yuan and
    Lin, "Model selection and estimation in regression with grouped
    variables", JRSS B 68(1), 2006.

    The norm has a kink at a zero group; there the gradient is the
    subgradient 0 (the norm is computed as ``sqrt(s)`` only where the sum
    of squares ``s`` is positive), so it stays finite.

    Parameters
    ----------
    x : tensor
        A symbolic tensor, shared variable or numpy array of a float dtype,
        with at least one dimension.
    axis : int or tuple of int
        The axis (or axes) each norm is taken along.

    Returns
    -------
    0-d symbolic scalar of the dtype of `x`.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit.penalties import group_lasso
    >>> W = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, 0.0]])
    >>> float(group_lasso(W).eval()), float(group_lasso(W, axis=0).eval())
    (6.0, 7.16227766016838)
    """
    x = as_float_tensor(x, "group_lasso")
    _check_ndim(x, 1, "group_lasso")
    axes = normalize_axes(axis, x.ndim, "group_lasso")
    squares = T.sum(T.sqr(x), axis=axes)
    positive = T.gt(squares, _constant(0, x.dtype))
    safe = T.switch(positive, squares, _constant(1, x.dtype))
    norms = T.switch(positive, T.sqrt(safe), _constant(0, x.dtype))
    return T.sum(norms)


def orthogonality(x):
    r"""Orthogonality penalty: how far the units' weight vectors are from
    being orthonormal.

    .. math:: \mathrm{orthogonality}(x) = \lVert V^\top V - I \rVert_F^2

    For a 2-D `x` of shape ``(inputs, units)``, :math:`V` is `x` itself
    (its columns are the units); for an N-D `x` with the filters first
    (``(filters, channels, rows, columns)``), :math:`V` is `x` reshaped to
    ``(filters, -1)`` and transposed, so each filter is one column.  From
    Brock, Lim, Ritchie and Weston, "Neural photo editing with
    introspective adversarial networks", ICLR 2017, and Bansal, Chen and
    Wang, "Can we gain more from orthogonality regularizations in training
    deep CNNs?", NeurIPS 2018.  The penalty is smooth.

    Parameters
    ----------
    x : tensor
        A symbolic tensor, shared variable or numpy array of a float dtype,
        with at least two dimensions.

    Returns
    -------
    0-d symbolic scalar of the dtype of `x`.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit.penalties import orthogonality
    >>> float(orthogonality(np.eye(3)).eval())
    0.0
    >>> float(orthogonality(np.array([[1.0, 1.0], [0.0, 0.0]])).eval())
    2.0
    """
    x = as_float_tensor(x, "orthogonality")
    _check_ndim(x, 2, "orthogonality")
    columns = x if x.ndim == 2 else x.reshape((x.shape[0], -1)).T
    gram = T.dot(columns.T, columns)
    return backend.sum_of_squares(
        gram - T.eye(gram.shape[0], dtype=x.dtype))


def total_variation(x):
    r"""Anisotropic total variation along the last two axes.

    .. math::

        \mathrm{TV}(x) = \sum |x_{\dots, i+1, j} - x_{\dots, i, j}|
                       + \sum |x_{\dots, i, j+1} - x_{\dots, i, j}|

    the sum of the absolute differences between neighbours along each of
    the last two axes (for 4-D filters ``(filters, channels, rows,
    columns)``, within every 2-D kernel).  From Rudin, Osher and Fatemi,
    "Nonlinear total variation based noise removal algorithms", Physica D
    60, 1992; this is the anisotropic (L1) variant.

    The kink of the absolute value where two neighbours are equal gets the
    subgradient 0, so the gradient is finite everywhere.

    Parameters
    ----------
    x : tensor
        A symbolic tensor, shared variable or numpy array of a float dtype,
        with at least two dimensions.

    Returns
    -------
    0-d symbolic scalar of the dtype of `x`.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit.penalties import total_variation
    >>> float(total_variation(np.array([[0.0, 1.0], [2.0, 4.0]])).eval())
    8.0
    """
    x = as_float_tensor(x, "total_variation")
    _check_ndim(x, 2, "total_variation")
    lead = (slice(None),) * (x.ndim - 2)
    rows = x[lead + (slice(1, None),)] - x[lead + (slice(None, -1),)]
    cols = x[lead + (slice(None), slice(1, None))] \
        - x[lead + (slice(None), slice(None, -1))]
    return backend.sum_of_abs(rows) + backend.sum_of_abs(cols)
