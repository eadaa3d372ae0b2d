"""Penalty functions: a tensor in, a scalar penalty out.

Every penalty takes one tensor (a symbolic variable, a shared variable or a
numpy array) and returns a 0-d symbolic scalar of the same float dtype:
float32 in, float32 out.  Extra arguments are keywords with defaults, so
that :func:`regkit.apply.apply_penalty` can pass them through.

Integer and boolean tensors are rejected with a TypeError: a penalty on
integer values has no gradient, and summing them would silently change the
dtype of the loss it is added to.
"""
import numpy as np

from . import backend

__all__ = ["l1", "l2", "kl_sparsity", "is_tensor_like", "as_float_tensor"]

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
    target = float(target)
    if not 0.0 < target < 1.0:
        raise ValueError("kl_sparsity: target must be strictly between 0 and "
                         "1, got %r" % (target,))
    if h.ndim < 1:
        raise ValueError("kl_sparsity: h must have an examples axis, got a "
                         "0-d tensor")
    def const(value):
        return backend.as_tensor_variable(np.asarray(value, h.dtype))
    eps = float(np.finfo(h.dtype).eps)
    mean = T.clip(h.mean(axis=0), const(eps), const(1.0 - eps))
    rho, rest = const(target), const(1.0 - target)
    kl = rho * T.log(rho / mean) + rest * T.log(rest / (const(1.0) - mean))
    return T.sum(kl)
