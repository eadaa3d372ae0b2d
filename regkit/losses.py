"""Loss helpers that regularize: label smoothing and its cross-entropy.

Examples
--------
>>> import numpy as np
>>> import regkit
>>> regkit.smooth_labels(np.array([0, 2]), 3, 0.3).eval().round(2).tolist()
[[0.8, 0.1, 0.1], [0.1, 0.1, 0.8]]
"""
import numpy as np

from . import backend
from ._checks import _check_fraction, _describe, _is_int, as_float_tensor

__all__ = ["smooth_labels", "categorical_crossentropy"]

T = backend.tensor


def smooth_labels(y, num_classes, eps):
    """Smoothed one-hot targets: ``(1 - eps) * one_hot(y) + eps / K``
    (label smoothing, Szegedy et al., "Rethinking the Inception
    architecture for computer vision", 2016).

    Training against them (with :func:`categorical_crossentropy`) keeps
    the model from driving its logits towards infinity for the true class.

    Parameters
    ----------
    y : int vector or float matrix
        Class indices (symbolic or an array), or targets that are already
        one-hot (or soft), of shape ``(batch, num_classes)``.
    num_classes : int
        ``K``, at least 2.
    eps : float
        The mass spread over all classes, in [0, 1).

    Returns
    -------
    A ``(batch, K)`` float tensor (floatX for indices, else the dtype of
    `y`) whose rows sum to 1.

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> t = regkit.smooth_labels(np.eye(2), 2, 0.1).eval()
    >>> t.round(6).tolist()
    [[0.95, 0.05], [0.05, 0.95]]
    """
    caller = "smooth_labels"
    if isinstance(num_classes, bool) or not _is_int(num_classes) \
            or num_classes < 2:
        raise (ValueError if _is_int(num_classes)
               and not isinstance(num_classes, bool) else TypeError)(
            "smooth_labels: num_classes must be an int >= 2, got %s"
            % _describe(num_classes))
    num_classes = int(num_classes)
    eps = _check_fraction(eps, caller, "eps")
    if eps >= 1:
        raise ValueError("smooth_labels: eps must be below 1, got %r"
                         % (eps,))
    if backend.is_tensor(y) or isinstance(y, np.ndarray):
        y = backend.as_tensor_variable(y)
    else:
        raise TypeError("smooth_labels: y must be a tensor of class indices "
                        "or of one-hot rows, got %s" % _describe(y))
    if y.ndim == 1 and y.dtype.startswith(("int", "uint")):
        one_hot = T.cast(T.eq(y.dimshuffle(0, "x"),
                              T.arange(num_classes).dimshuffle("x", 0)),
                         backend.floatX)
    elif y.ndim == 2:
        one_hot = as_float_tensor(y, caller, "y")
    else:
        raise ValueError("smooth_labels: y must be an int vector of class "
                         "indices or a (batch, num_classes) matrix, got a "
                         "%d-d %s tensor" % (y.ndim, y.dtype))
    dtype = one_hot.dtype
    return one_hot * T.cast(1 - eps, dtype) + T.cast(eps / num_classes,
                                                     dtype)


def categorical_crossentropy(predictions, targets):
    """Mean over the batch of ``-sum(targets * log(predictions))`` over the
    last axis: the cross-entropy of probability rows (a softmax output)
    against target rows (one-hot, soft, or :func:`smooth_labels`).

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> p = np.array([[0.5, 0.5]])
    >>> float(regkit.categorical_crossentropy(p, np.array([[1.0, 0.0]]))
    ...       .eval()) == float(-np.log(0.5))
    True
    """
    caller = "categorical_crossentropy"
    predictions = as_float_tensor(predictions, caller, "predictions")
    targets = as_float_tensor(targets, caller, "targets")
    if predictions.ndim != 2 or targets.ndim != 2:
        raise ValueError("categorical_crossentropy: predictions and targets "
                         "must be (batch, classes) matrices, got %d-d and "
                         "%d-d" % (predictions.ndim, targets.ndim))
    return T.mean(-T.sum(targets * T.log(predictions), axis=1))
