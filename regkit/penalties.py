"""Penalty functions: a tensor in, a scalar penalty out.

Every penalty takes one tensor (a symbolic variable, a shared variable or a
numpy array) and returns a 0-d symbolic scalar of the same float dtype:
float32 in, float32 out.  Extra arguments are keywords with defaults, so
that :func:`regkit.regularization.apply_penalty` can pass them through.

Integer and boolean tensors are rejected with a TypeError: a penalty on
integer values has no gradient, and summing them would silently change the
dtype of the loss it is added to.
"""
import numpy as np

from . import backend
from ._checks import (check_fraction, check_ndim, _constant, describe,
                      as_float_tensor, is_tensor_like, normalize_axes)

__all__ = ["l1", "l2", "elastic_net", "group_lasso", "orthogonality",
           "total_variation", "kl_sparsity", "is_tensor_like",
           "as_float_tensor", "safe_sqrt", "safe_norm", "fused_sum"]

T = backend.tensor


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


def fused_sum(penalty, tensors):
    """The sum of ``penalty(x)`` over `tensors`, with :func:`l1` and
    :func:`l2` fused: their float32 and float64 tensors are reduced by one
    graph node per dtype and 500 tensors
    (:func:`regkit.backend.total_sum_of_squares`), accumulated in float64.

    Any other penalty is one term per tensor, added by a shallow tree.
    The value is the plain sum up to float rounding (each fused node
    rounds once, at its end).

    Parameters
    ----------
    penalty : callable
        ``penalty(tensor)`` returning a scalar.
    tensors : list of tensors
        A tensor listed twice counts twice.

    Returns
    -------
    A 0-d tensor; ``0`` for an empty list.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit.penalties import fused_sum, l2
    >>> float(fused_sum(l2, [np.ones(2), np.full(3, 2.0)]).eval())
    14.0
    """
    total = _FUSED.get(penalty)
    if total is None or len(tensors) < 2:
        return backend.shallow_sum([penalty(x) for x in tensors])
    # as_float_tensor refuses what l1 and l2 refuse (float16 among them)
    return total([as_float_tensor(x, penalty.__name__) for x in tensors])


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
        (e.g. sigmoid outputs).  An empty batch raises ValueError when its
        size is known while the graph is built; one that is empty only at
        run time gives NaN (the mean of nothing).
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
    target = check_fraction(target, "kl_sparsity", "target", strict=True)
    if h.ndim < 1:
        raise ValueError("kl_sparsity: h must have an examples axis, got a "
                         "0-d tensor")
    if backend.static_shape(h)[0] == 0:
        raise ValueError("kl_sparsity: h has no examples (axis 0 has size "
                         "0), so there is no mean activation")

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
    ratio = check_fraction(l1_ratio, "elastic_net", "l1_ratio")
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
    check_ndim(x, 1, "group_lasso")
    axes = normalize_axes(axis, x.ndim, "group_lasso")
    return T.sum(safe_norm(x, axes, scaled=True))


def orthogonality(x, off_diagonal=False):
    r"""Orthogonality penalty: how far the units' weight vectors are from
    being orthonormal.

    .. math:: \mathrm{orthogonality}(x) = \lVert V^\top V - I \rVert_F^2

    With ``off_diagonal=True`` only the off-diagonal entries count,
    :math:`\lVert V^\top V \odot (1 - I) \rVert_F^2`: the vectors are
    pushed apart (orthogonal) but their norms are left free (the
    "off-diagonal" variant of Bansal et al. 2018).

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
    off_diagonal : bool
        Penalize only the off-diagonal entries of :math:`V^\top V`.

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
    >>> float(orthogonality(2 * np.eye(3), off_diagonal=True).eval())
    0.0
    """
    x = as_float_tensor(x, "orthogonality")
    check_ndim(x, 2, "orthogonality")
    if not isinstance(off_diagonal, (bool, np.bool_)):
        raise TypeError("orthogonality: off_diagonal must be True or False, "
                        "got %s" % describe(off_diagonal))
    columns = x if x.ndim == 2 else x.reshape((x.shape[0], -1)).T
    gram = T.dot(columns.T, columns)
    eye = T.eye(gram.shape[0], dtype=x.dtype)
    if off_diagonal:
        return backend.sum_of_squares(gram * (T.ones_like(eye) - eye))
    return backend.sum_of_squares(gram - eye)


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
    check_ndim(x, 2, "total_variation")
    lead = (slice(None),) * (x.ndim - 2)
    rows = x[lead + (slice(1, None),)] - x[lead + (slice(None, -1),)]
    cols = x[lead + (slice(None), slice(1, None))] \
        - x[lead + (slice(None), slice(None, -1))]
    return backend.sum_of_abs(rows) + backend.sum_of_abs(cols)


def safe_sqrt(squares):
    """``sqrt(squares)`` for a non-negative tensor, with the subgradient 0
    where `squares` is 0: sqrt's slope is infinite there, and a norm of
    zero must not turn a gradient into NaN.  NaN stays NaN (a NaN weight
    must not pass for a zero one).  The one safe square root of regkit
    (group norms, recurrent state norms, norm constraints).

    Examples
    --------
    >>> from regkit import backend
    >>> from regkit.penalties import safe_sqrt
    >>> x = backend.tensor.vector("x")
    >>> backend.grad(safe_sqrt(x).sum(), x).eval({x: [0.0, 4.0]}).tolist()
    [0.0, 0.25]
    """
    zero = T.le(squares, _constant(0, squares.dtype))  # NaN: not zero
    safe = T.switch(zero, _constant(1, squares.dtype), squares)
    return T.switch(zero, _constant(0, squares.dtype), T.sqrt(safe))


def safe_norm(x, axis, keepdims=False, scaled=False):
    """L2 norms of `x` along `axis`, with finite gradients at zero (see
    :func:`safe_sqrt`).

    With `scaled`, also without overflow: each group is multiplied by the
    inverse of its largest magnitude before squaring (``1e20`` squared
    overflows float32), and the norm by that magnitude again.  That costs
    a second pass over `x` (about twice the time on large weights), so
    only the group lasso, whose gradient must stay right at any
    magnitude, asks for it; the norm constraints do not.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit.penalties import safe_norm
    >>> safe_norm(np.array([[3.0, 4.0], [0.0, 0.0]]), axis=1).eval().tolist()
    [5.0, 0.0]
    """
    if not scaled:
        return safe_sqrt(T.sum(T.sqr(x), axis=axis, keepdims=keepdims))
    # the norm does not change with the scale, so no gradient is taken
    # through it (one through 1 / scale would overflow as well); the scale
    # is at least the smallest normal number, whose inverse is finite
    tiny = _constant(np.finfo(x.dtype).tiny, x.dtype)
    scale = backend.disconnected_grad(T.maximum(
        T.max(abs(x), axis=axis, keepdims=True), tiny))
    inverse = backend.disconnected_grad(_constant(1, x.dtype) / scale)
    norms = safe_sqrt(T.sum(T.sqr(x * inverse), axis=axis,
                             keepdims=True)) * scale
    if keepdims:
        return norms
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    axes = tuple(a % x.ndim for a in axes)
    return norms.dimshuffle([i for i in range(x.ndim) if i not in axes])


#: The penalties :func:`fused_sum` reduces in one node per dtype.
_FUSED = {l1: backend.total_sum_of_abs, l2: backend.total_sum_of_squares}
