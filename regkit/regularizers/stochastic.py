"""Graph changes that draw random numbers: dropout and noise.

Each one replaces the outputs it selects by a perturbed copy and keeps the
clean value under ``"<name><suffix>"`` (``"hid:out-predrop"``); it leaves
the graph alone when it is built with ``deterministic=True``.  Pass
``random_updates(outputs)`` to the training function so that each call
draws afresh.  Dropout on weights (:class:`DropConnect`) is in
:mod:`~regkit.regularizers.weight_changes`, :class:`StochasticDepth` in
:mod:`~regkit.regularizers.depth`, Monte Carlo dropout at inference
(:func:`mc_predict`) in :mod:`~regkit.regularizers.montecarlo`.
"""

from .. import backend
from .._checks import (as_float_tensor, check_fraction, check_seed,
                       check_supported_float, describe, is_int,
                       normalize_axes, short_repr)
from ..init import seed_sequence
from .base import Regularizer, _check_drop_probability, _is_varying
from .patterns import add_clean_suffix

__all__ = ["BernoulliDropout", "GaussianNoise", "AlphaDropout",
           "dropout_mask", "inverted_dropout"]

# SELU's negative saturation value, -lambda * alpha (Klambauer et al. 2017)
_SELU_SATURATION = -1.0507009873554805 * 1.6732632423543772


class _Stochastic(Regularizer):
    """Replaces matching outputs with a randomly perturbed version and keeps
    the clean value under ``"<name><suffix>"`` (each subclass sets
    ``_suffix``)."""

    training_only = True
    draws_random = True
    _matched = "output"
    _varying_weight = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        add_clean_suffix(cls._suffix)

    def __init__(self, pattern=None, weight=0.0, rng=None, shared_axes=()):
        super(_Stochastic, self).__init__(pattern, weight)
        self._hold_seeds(rng)
        self.shared_axes = _check_shared_axes(shared_axes,
                                              type(self).__name__)

    def get_config(self):
        config = super(_Stochastic, self).get_config()
        config["shared_axes"] = list(self.shared_axes)
        return config

    def _draw_shape(self, value):
        """(shape of one draw for `value`, the shared axes): size 1 along
        the shared axes, so that one draw serves all their positions."""
        if not self.shared_axes:
            return value.shape, ()
        axes = normalize_axes(self.shared_axes, value.ndim,
                               type(self).__name__, "shared_axes")
        return [1 if axis in axes else value.shape[axis]
                for axis in range(value.ndim)], axes

    def _draw(self, draw, value, *args):
        """``draw(shape, *args, dtype, seed)`` for `value`, broadcastable
        along the shared axes."""
        shape, axes = self._draw_shape(value)
        drawn = draw(shape, *(args + (value.dtype, self.seeds.spawn())))
        return backend.specify_broadcastable(drawn, axes) if axes else drawn

    def modify_graph(self, outputs):
        names = [n for n in outputs if self.matches_output(outputs, n)]
        if not _is_varying(self.weight) and self.weight == 0 or not names:
            return names
        # a schedule at the step get_outputs(..., step=) was given
        weight = self.weight_at(getattr(outputs, "step", None),
                                "get_output(s) / apply_regularizers")
        for name in names:
            value = check_supported_float(outputs[name], type(self).__name__,
                                           "output %r" % name)
            outputs[name + self._suffix] = value
            outputs[name] = self.perturb(value, weight)
        return names

    def perturb(self, value, weight):
        """`value` changed, with the weight `weight` (a number, or a
        symbolic scalar where the weight varies)."""
        raise NotImplementedError


class _Dropout(_Stochastic):
    """A stochastic change whose weight is a drop probability."""

    _suffix = "-predrop"

    def _check_weight(self, weight):
        return _check_drop_probability(
            super(_Dropout, self)._check_weight(weight), type(self).__name__)


class BernoulliDropout(_Dropout):
    """Inverted dropout: zero each value with probability ``weight``.

    While training, kept values are scaled by ``1 / (1 - p)`` so that the
    expected output is unchanged and the inference graph
    (``deterministic=True``) needs no rescaling.

    Parameters
    ----------
    pattern : see :class:`Regularizer`
    weight : float, schedule or symbolic scalar
        Drop probability, ``0 <= p < 1``; a schedule (evaluated at the
        ``step`` given to ``get_outputs``) must stay in that range.
    rng : int or None
        Seed.  ``None`` (the default) takes an independent stream from
        regkit's root seed sequence (see :func:`regkit.set_rng`), so two
        regularizers built without a seed never draw the same masks.  Each
        draw gets its own generator, spawned from ``SeedSequence(rng)`` in
        the order the draws are built: the same seed and the same graph
        give the same masks in any process (and two regularizers given the
        same seed draw the same masks).
    shared_axes : int or sequence of int
        Axes along which one mask value is shared (its draw has size 1
        there): ``(2, 3)`` on ``(batch, channels, rows, cols)`` drops whole
        feature maps, spatial dropout (Tompson et al., "Efficient object
        localization using convolutional networks", 2015).  Empty (the
        default): an independent value per element.

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> from regkit import BernoulliDropout
    >>> l_in = regkit.InputLayer((None, 100), name="in")
    >>> out = regkit.DenseLayer(l_in, 1, name="out")
    >>> drop = BernoulliDropout("in:out", weight=0.5, rng=1)
    >>> outputs = regkit.get_outputs(out, regularizers=[drop])
    >>> fn = regkit.backend.function([l_in.input_var], outputs["in:out"],
    ...                              updates=regkit.random_updates(outputs))
    >>> sorted(set(fn(np.ones((2, 100))).ravel().tolist()))
    [0.0, 2.0]
    """

    def perturb(self, value, weight):
        keep = 1.0 - weight
        return inverted_dropout(self._draw(backend.bernoulli, value, keep),
                                keep, value)


class GaussianNoise(_Stochastic):
    """Additive Gaussian noise with standard deviation ``weight`` (a
    number, or a schedule or symbolic scalar that stays non-negative).

    Takes ``rng`` and ``shared_axes`` as :class:`BernoulliDropout` does (one
    noise value shared along those axes).

    Examples
    --------
    >>> import regkit
    >>> from regkit import GaussianNoise
    >>> noise = GaussianNoise(weight=0.1)
    >>> noise.training_only, noise.draws_random, noise.get_config()["rng"]
    (True, True, None)
    """

    _suffix = "-prenoise"

    def perturb(self, value, weight):
        noise = self._draw(backend.normal, value)
        return value + noise * backend.full_rank_constant(
            weight, value.dtype, value.ndim)


class AlphaDropout(_Dropout):
    """Dropout for self-normalizing (SELU) networks: a dropped value is set
    to SELU's negative saturation ``alpha' = -lambda * alpha`` instead of 0,
    and the result is moved back to the input's mean and variance by an
    affine map (Klambauer et al., "Self-normalizing neural networks",
    2017): with ``p = weight``,
    ``a = ((1 - p) * (1 + p * alpha'**2)) ** -0.5``, ``b = -a * alpha' * p``
    and ``out = a * (x * mask + alpha' * (1 - mask)) + b``.

    For inputs of mean 0 and variance 1 the output keeps both, so SELU
    layers stay self-normalizing in training; plain dropout would not.
    Takes ``rng`` and ``shared_axes`` as :class:`BernoulliDropout`.

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> l_in = regkit.InputLayer((None, 20000), name="in")
    >>> drop = regkit.AlphaDropout("in:out", 0.2, rng=0)
    >>> out = regkit.get_output(l_in, regularizers=[drop])
    >>> fn = regkit.backend.function([l_in.input_var], out,
    ...                              updates=regkit.random_updates(out))
    >>> x = np.random.default_rng(1).standard_normal((5, 20000))
    >>> y = fn(x)
    >>> bool(abs(y.mean()) < 0.02 and abs(y.var() - 1) < 0.03)
    True
    """

    _suffix = "-prealphadrop"

    def perturb(self, value, weight):
        p = weight
        keep = self._draw(backend.bernoulli, value, 1.0 - p)
        a = ((1 - p) * (1 + p * _SELU_SATURATION ** 2)) ** -0.5
        b = -a * _SELU_SATURATION * p

        def constant(number):
            return backend.full_rank_constant(number, value.dtype, value.ndim)
        dropped = value * keep + constant(_SELU_SATURATION) * (
            constant(1.0) - keep)
        return constant(a) * dropped + constant(b)


def dropout_mask(reference, p, rng=None):
    """An inverted-dropout mask of the shape and dtype of `reference`:
    each value is 0 with probability `p`, else ``1 / (1 - p)``.

    Drawn once per call of the compiled function, so multiplying every
    time step of a ``scan`` by it (pass it in ``non_sequences``) drops the
    same units at every step: variational, or recurrent, dropout (Gal and
    Ghahramani, "A theoretically grounded application of dropout in
    recurrent neural networks", 2016).  Pass ``random_updates`` of the
    scan's outputs to the function (they find this draw) for a new mask on
    every call.

    Parameters
    ----------
    reference : tensor
        One time step, e.g. ``x[0]`` of a ``(time, batch, features)``
        input, or the initial state.
    p : float
        The drop probability, ``0 <= p < 1``.
    rng : int or None
        Seed; None takes an independent stream from regkit's root seed
        sequence (see :func:`regkit.set_rng`).

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> from regkit import backend
    >>> x = backend.tensor.tensor3("x")  # (time, batch, features)
    >>> mask = regkit.dropout_mask(x[0], 0.5, rng=0)
    >>> steps, _ = backend.scan(lambda x_t, m: x_t * m, sequences=[x],
    ...                         non_sequences=[mask])
    >>> fn = backend.function([x], steps,
    ...                       updates=regkit.random_updates(steps))
    >>> out = fn(np.ones((3, 2, 4), backend.floatX))
    >>> bool((out[0] == out[1]).all() and (out[1] == out[2]).all())
    True
    """
    caller = "dropout_mask"
    reference = as_float_tensor(reference, caller, "reference")
    p = check_fraction(p, caller, "p")
    if p >= 1:
        raise ValueError("dropout_mask: p (the drop probability) must be "
                         "below 1, got %r" % (p,))
    seeds = seed_sequence(check_seed(rng, caller))
    keep = 1.0 - p
    mask = backend.bernoulli(reference.shape, keep, reference.dtype,
                             seeds.spawn(1)[0])
    return inverted_dropout(mask, keep)


def inverted_dropout(mask, keep, value=None):
    """Inverted dropout, the one formula of dropout, DropConnect and
    :func:`dropout_mask`: ``value * mask / keep`` (the mask alone, scaled,
    without `value`), so that the expectation is `value` and inference
    uses the value as it is.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit.regularizers.stochastic import inverted_dropout
    >>> mask = np.array([1.0, 0.0, 1.0])
    >>> inverted_dropout(mask, 0.5, np.array([1.0, 2.0, 3.0])).eval().tolist()
    [2.0, 0.0, 6.0]
    """
    scale = backend.full_rank_constant(1.0 / keep, mask.dtype,
                                       mask.ndim)
    return (mask if value is None else value * mask) * scale


def _check_shared_axes(shared_axes, caller):
    """`shared_axes` as a tuple of ints (checked against the tensor's
    dimensions when a draw is built)."""
    items = shared_axes if isinstance(shared_axes, (list, tuple)) \
        else (shared_axes,)
    if any(isinstance(a, bool) or not is_int(a) for a in items):
        raise TypeError("%s: shared_axes must be an int or a sequence of "
                        "ints, got %s" % (caller, describe(shared_axes)))
    if len(set(items)) != len(items):
        raise ValueError("%s: shared_axes %s names an axis twice"
                         % (caller, short_repr(shared_axes)))
    return tuple(int(a) for a in items)
