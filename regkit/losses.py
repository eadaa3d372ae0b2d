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
from ._checks import (_check_count, _check_fraction, _check_seed,
                      _describe, as_float_tensor)
from .init import _seed_sequence
from .penalties import _safe_norm

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
    num_classes = _check_count(num_classes, caller, "num_classes", 2)
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
        ``lambda x: regkit.get_output(net, x)``.
    real, fake : tensors of the same shape, batch first
    rng : int or None
        Seed of the interpolation weights (None: an independent stream, see
        :func:`regkit.set_rng`).

    Returns
    -------
    A 0-d tensor.

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
                        "x -> critic output, got %s" % _describe(critic))
    real = as_float_tensor(real, caller, "real")
    fake = as_float_tensor(fake, caller, "fake")
    if real.ndim != fake.ndim or real.ndim < 1:
        raise ValueError("gradient_penalty: real and fake must have the same "
                         "number of dimensions (batch first), got %d and %d"
                         % (real.ndim, fake.ndim))
    seeds = _seed_sequence(_check_seed(rng, caller))
    shape = [real.shape[0]] + [1] * (real.ndim - 1)
    mix = backend.uniform(shape, real.dtype, seeds.spawn(1)[0])
    if real.ndim > 1:
        mix = backend.specify_broadcastable(mix, range(1, real.ndim))
    interpolates = mix * real + (1 - mix) * fake
    out = critic(interpolates)
    if not backend.is_tensor(out):
        raise TypeError("gradient_penalty: critic must return a tensor, got "
                        "%s" % _describe(out))
    grad = backend.grad(T.sum(out), interpolates)
    norms = _safe_norm(grad.reshape((grad.shape[0], -1)), axis=1)
    return T.mean(T.sqr(norms - T.cast(1, norms.dtype)))
