"""Loss helpers that regularize: label smoothing and its cross-entropy, and
the WGAN-GP gradient penalty.

Examples
--------
>>> import numpy as np
>>> import regkit
>>> regkit.smooth_labels(np.array([0, 2]), 3, 0.3).eval().round(2).tolist()
[[0.8, 0.1, 0.1], [0.1, 0.1, 0.8]]
"""
import numpy as np

from . import backend
from ._checks import (MAX_CLASSES, check_count, check_fraction,
                      check_seed, describe, short_repr, as_float_tensor)
from .init import seed_sequence
from .penalties import safe_norm

__all__ = ["smooth_labels", "categorical_crossentropy", "gradient_penalty"]

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
        Class indices in ``[0, K)`` (symbolic or an array), or targets that
        are already one-hot (or soft), of shape ``(batch, num_classes)``.
    num_classes : int
        ``K``, from 2 to 10**7 (``regkit._checks.MAX_CLASSES``).
    eps : float
        The mass spread over all classes, in [0, 1).

    Returns
    -------
    A ``(batch, K)`` float tensor (floatX for indices, else the dtype of
    `y`) whose rows sum to 1.

    Raises
    ------
    ValueError
        If `num_classes` is out of range, `y` is a numpy array or a
        constant holding an index outside ``[0, K)``, or `y` is a matrix
        whose width, known when the graph is built (an array, a constant,
        or a symbolic matrix whose type records its width), is not ``K``.

    Notes
    -----
    What cannot be checked when the graph is built is not checked: the
    values of symbolic (and shared) int labels, and the width of a
    symbolic matrix whose type does not record it (Theano's types never
    do, unless it is 1).  An index outside ``[0, K)`` there gives a row
    of ``eps / K`` that sums to ``eps``, not 1; a matrix of another width
    gives rows that do not sum to 1.

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> t = regkit.smooth_labels(np.eye(2), 2, 0.1).eval()
    >>> t.round(6).tolist()
    [[0.95, 0.05], [0.05, 0.95]]
    """
    caller = "smooth_labels"
    num_classes = check_count(num_classes, caller, "num_classes", 2,
                               maximum=MAX_CLASSES)
    eps = check_fraction(eps, caller, "eps")
    if eps >= 1:
        raise ValueError("smooth_labels: eps must be below 1, got %r"
                         % (eps,))
    if backend.is_tensor(y) or isinstance(y, np.ndarray):
        y = backend.as_tensor_variable(y)
    else:
        raise TypeError("smooth_labels: y must be a tensor of class indices "
                        "or of one-hot rows, got %s" % describe(y))
    if y.ndim == 1 and y.dtype.startswith(("int", "uint")):
        _check_labels(y, num_classes)
        one_hot = T.cast(T.eq(y.dimshuffle(0, "x"),
                              T.arange(num_classes).dimshuffle("x", 0)),
                         backend.floatX)
    elif y.ndim == 2:
        one_hot = as_float_tensor(y, caller, "y")
        width = backend.static_shape(one_hot)[1]
        if width is not None and width != num_classes:
            raise ValueError("smooth_labels: y must have num_classes = %d "
                             "columns, got a matrix of %d columns"
                             % (num_classes, width))
    else:
        raise ValueError("smooth_labels: y must be an int vector of class "
                         "indices or a (batch, num_classes) matrix, got a "
                         "%d-d %s tensor" % (y.ndim, y.dtype))
    dtype = one_hot.dtype
    return one_hot * T.cast(1 - eps, dtype) + T.cast(eps / num_classes,
                                                     dtype)


def _check_labels(y, num_classes):
    """A ValueError if the int vector `y` is a constant (a numpy array
    once converted) holding an index outside ``[0, num_classes)``;
    symbolic labels have no values yet, and are not checked."""
    if not isinstance(y, backend.TensorConstant):
        return
    labels = np.asarray(y.data)
    bad = labels[(labels < 0) | (labels >= num_classes)]
    if bad.size:
        raise ValueError("smooth_labels: y must hold class indices in "
                         "[0, num_classes) = [0, %d), got %s"
                         % (num_classes, short_repr(bad.tolist())))


def categorical_crossentropy(predictions, targets):
    """Mean over the batch of ``-sum(targets * log(predictions))`` over the
    last axis: the cross-entropy of probability rows (a softmax output)
    against target rows (one-hot, soft, or :func:`smooth_labels`).

    Parameters
    ----------
    predictions : float matrix
        Probability rows, ``(batch, classes)``.
    targets : float matrix
        Target rows of the same shape.

    Returns
    -------
    A 0-d tensor.

    Raises
    ------
    ValueError
        If either is not a matrix, or their shapes differ where both are
        known when the graph is built (numpy arrays, constants, sizes that
        a symbolic variable's type records).

    Notes
    -----
    Sizes known only when the function runs are not checked by regkit
    (its backend has no run-time assertion: Theano's raises
    AssertionError, PyTensor's JAX linker skips them): a mismatch there
    is the backend's shape error at run time, which names neither
    argument.

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
    _check_same_shape(predictions, targets, caller, "predictions", "targets")
    return T.mean(-T.sum(targets * T.log(predictions), axis=1))


def _check_same_shape(a, b, caller, name_a, name_b):
    """A ValueError naming `name_a` and `name_b` if the sizes of `a` and `b`
    known when the graph is built differ (sizes known for only one of them
    are not compared)."""
    shape_a, shape_b = backend.static_shape(a), backend.static_shape(b)
    if any(m is not None and n is not None and m != n
           for m, n in zip(shape_a, shape_b)):
        unknown = " (None: known only at run time)" \
            if None in shape_a + shape_b else ""
        raise ValueError("%s: %s and %s must have the same shape, got %s and "
                         "%s%s" % (caller, name_a, name_b, shape_a, shape_b,
                                   unknown))


def gradient_penalty(critic, real, fake, rng=None):
    """The WGAN-GP penalty: ``mean_i (||grad D(x_i)|| - 1) ** 2`` at random
    interpolates ``x_i = e_i * real_i + (1 - e_i) * fake_i``, ``e_i``
    uniform in [0, 1) per example (Gulrajani et al., "Improved training of
    Wasserstein GANs", 2017).

    Multiply it by the paper's ``lambda`` (10) and add it to the critic's
    loss.  The interpolation weights are random draws: pass
    ``regkit.random_updates`` of the penalty to the training function for
    new ones on every call.

    Parameters
    ----------
    critic : callable
        ``critic(x)``: the critic's output for a batch ``x`` (one value, or
        several summed, per example), e.g.
        ``lambda x: regkit.get_output(net, x)``; a float tensor computed
        from the values of ``x``.
    real, fake : tensors of the same shape, batch first
    rng : int or None
        Seed of the interpolation weights (None: an independent stream, see
        :func:`regkit.set_rng`).

    Returns
    -------
    A 0-d tensor.

    Raises
    ------
    TypeError
        If `critic` is not callable, or returns something other than a
        float tensor (an integer output has no gradient).
    ValueError
        If the critic's output does not depend on the values of its input
        (it ignores it, or reads only its shape), or `real` and `fake`
        differ in dimensions, or in sizes known when the graph is built
        (sizes known only at run time are not compared).

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> from regkit import backend
    >>> w = backend.shared(np.array([3.0, 4.0]), name="w")
    >>> critic = lambda x: backend.tensor.dot(x, w)  # gradient w everywhere
    >>> real, fake = np.ones((4, 2)), np.zeros((4, 2))
    >>> penalty = regkit.gradient_penalty(critic, real, fake, rng=0)
    >>> float(backend.function([], penalty)())  # (||w|| - 1) ** 2
    16.0
    """
    caller = "gradient_penalty"
    if not callable(critic):
        raise TypeError("gradient_penalty: critic must be a callable "
                        "x -> critic output, got %s" % describe(critic))
    real = as_float_tensor(real, caller, "real")
    fake = as_float_tensor(fake, caller, "fake")
    if real.ndim != fake.ndim or real.ndim < 1:
        raise ValueError("gradient_penalty: real and fake must have the same "
                         "number of dimensions (batch first), got %d and %d"
                         % (real.ndim, fake.ndim))
    _check_same_shape(real, fake, caller, "real", "fake")
    seeds = seed_sequence(check_seed(rng, caller))
    shape = [real.shape[0]] + [1] * (real.ndim - 1)
    mix = backend.uniform(shape, real.dtype, seeds.spawn(1)[0])
    if real.ndim > 1:
        mix = backend.specify_broadcastable(mix, range(1, real.ndim))
    interpolates = mix * real + (1 - mix) * fake
    out = critic(interpolates)
    if not backend.is_tensor(out):
        raise TypeError("gradient_penalty: critic must return a tensor, got "
                        "%s" % describe(out))
    if not out.dtype.startswith("float"):
        raise TypeError("gradient_penalty: critic must return a float "
                        "tensor, got dtype %s (an integer output has no "
                        "gradient)" % out.dtype)
    if not backend.depends_on(out, interpolates):
        raise ValueError("gradient_penalty: the output of critic does not "
                         "depend on its input x; the penalty needs a critic "
                         "computed from x")
    if out.ndim < 1:
        raise ValueError("gradient_penalty: critic must return one value (or "
                         "several) per example, batch first; it returned a "
                         "0-d tensor (a batch mean?), whose gradient divides "
                         "each example's by the batch size")
    grad = backend.grad(T.sum(out), interpolates,
                        disconnected_inputs="ignore",
                        return_disconnected="None")
    if grad is None:  # it reads x only through x.shape
        raise ValueError("gradient_penalty: the output of critic depends on "
                         "its input x only through the shape of x; the "
                         "penalty needs a critic computed from the values "
                         "of x")
    norms = safe_norm(grad.reshape((grad.shape[0], -1)), axis=1)
    return T.mean(T.sqr(norms - T.cast(1, norms.dtype)))
