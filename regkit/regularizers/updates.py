"""Hooks on the parameter updates: constraints applied after each step.

:func:`~regkit.regularizers.apply_update_hooks` (in
:mod:`~regkit.regularizers.training`) runs them on the updates a
training script built.
"""
from .. import backend
from .._checks import (check_fraction, check_positive, describe, is_int,
                       normalize_axes, short_repr)
from ..constraints import default_norm_axes, norm_constraint, rescale_norms
from .base import _is_varying, _ParamRegularizer

__all__ = ["MaxNorm", "DecoupledWeightDecay", "NonNeg", "UnitNorm",
           "MinMaxNorm"]


class _NormHook(_ParamRegularizer):
    """Rescales each unit's (or filter's) weight vector in the update, as
    :class:`MaxNorm` does; subclasses give the new norm from the old."""

    def __init__(self, pattern=None, weight=1.0, norm_axes=None, tags=None,
                 epsilon=1e-7):
        super(_NormHook, self).__init__(pattern, weight, tags)
        self.norm_axes = _check_norm_axes(norm_axes, type(self).__name__)
        self.epsilon = check_positive(epsilon, type(self).__name__,
                                       "epsilon", allow_zero=True)

    def get_config(self):
        config = super(_NormHook, self).get_config()
        axes = self.norm_axes
        config["norm_axes"] = None if axes is None else list(axes)
        config["epsilon"] = self.epsilon
        return config

    #: What ``weight`` is, for a class where it must be positive (a norm);
    #: None: zero is allowed.
    _positive_weight = None

    _varying_weight = True

    def _check_weight(self, weight):
        weight = super(_NormHook, self)._check_weight(weight)
        if not _is_varying(weight) and weight == 0 \
                and self._positive_weight is not None:
            raise ValueError("%s: weight (%s) must be positive, got 0.0"
                             % (type(self).__name__, self._positive_weight))
        return weight

    def target_norms(self, norms, weight):
        """The new norm of each vector, given its norm now and the weight
        (a number, or a symbolic scalar where the weight varies)."""
        raise NotImplementedError

    def constrain(self, value, axes, weight):
        """`value` with each vector along `axes` rescaled."""
        def scale(norms):
            epsilon = backend.tensor.cast(self.epsilon, norms.dtype)
            return self.target_norms(norms, weight) / (epsilon + norms)
        return rescale_norms(value, scale, axes, caller=type(self).__name__)

    def modify_updates(self, updates):
        # a schedule at the step apply_update_hooks(..., step=) was given
        weight = self.weight_at(getattr(updates, "step", None),
                                "apply_update_hooks")
        for name, param in self._chosen(updates):
            if param not in updates:
                continue
            if self.norm_axes is not None:
                axes = _norm_axes_of(self.norm_axes, param, name,
                                     type(self).__name__)
            else:
                axes = default_norm_axes(param.ndim)
            if axes is None:
                if self.pattern is None:
                    continue  # biases and scalars: not norm material
                raise ValueError(
                    "%s: parameter %r has %d dimensions; give norm_axes, or "
                    "a pattern that leaves it out"
                    % (type(self).__name__, name, param.ndim))
            updates[param] = self.constrain(updates[param], axes, weight)


#: No tensor has more dimensions (numpy 2's limit; numpy 1 allows 32).
_MAX_NDIM = 64


def _check_norm_axes(norm_axes, caller):
    """`norm_axes` of a :class:`_NormHook` as None or a tuple of ints, once
    checked as far as it can be without a parameter: ints, each in
    ``[-64, 64)``, none given twice; :func:`_norm_axes_of` checks them
    against each parameter."""
    if norm_axes is None:
        return None
    items = norm_axes if isinstance(norm_axes, (list, tuple)) \
        else (norm_axes,)
    if not items or any(not is_int(a) for a in items):
        raise TypeError("%s: norm_axes must be None, an int or a non-empty "
                        "sequence of ints, got %s"
                        % (caller, describe(norm_axes)))
    if any(not -_MAX_NDIM <= a < _MAX_NDIM for a in items):
        raise ValueError("%s: norm_axes must be axes of a tensor, each in "
                         "[-%d, %d), got %s" % (caller, _MAX_NDIM, _MAX_NDIM,
                                                short_repr(norm_axes)))
    if len(set(items)) != len(items):
        raise ValueError("%s: norm_axes %s names an axis twice"
                         % (caller, short_repr(norm_axes)))
    return tuple(int(a) for a in items)


def _norm_axes_of(norm_axes, param, name, caller):
    """`norm_axes` (from :func:`_check_norm_axes`) as sorted axes of
    `param`, or a ValueError naming norm_axes, the parameter `name` and
    its number of dimensions; the one check of MaxNorm, UnitNorm and
    MinMaxNorm."""
    ndim = param.ndim
    if any(not -ndim <= axis < ndim for axis in norm_axes):
        raise ValueError("%s: norm_axes %s is out of range for parameter %r, "
                         "which has %d dimensions"
                         % (caller, short_repr(norm_axes), name, ndim))
    # what is left: an axis given once as positive, once as negative
    return normalize_axes(norm_axes, ndim, caller, "norm_axes of the %d-d "
                           "parameter %r" % (ndim, name))


class MaxNorm(_NormHook):
    """Max-norm constraint on the matching parameters' updates.

    After each update, the incoming weight vector of each unit (each filter
    of a 3- to 5-D parameter) is rescaled so that its L2 norm is at most
    ``weight``; see :func:`regkit.constraints.norm_constraint`.  It adds
    no loss term: it acts through :meth:`modify_updates`, so apply it with
    :func:`apply_update_hooks`.

    Parameters
    ----------
    pattern : str, sequence of str or None
        Globs over parameter names; None: every parameter with the `tags`
        that has 2 to 5 dimensions (biases are left alone).  A parameter
        chosen by an explicit pattern must have 2 to 5 dimensions unless
        `norm_axes` is given.
    weight : float, schedule or symbolic scalar
        The maximum norm, positive (3 to 4 is usual with dropout,
        Srivastava et al. 2014); a schedule is evaluated at the ``step``
        given to :func:`apply_update_hooks`.
    norm_axes : int, sequence of int or None
        Passed to :func:`~regkit.constraints.norm_constraint`; checked as
        :class:`UnitNorm` checks it.
    tags : dict or None
        Tag filter; default ``{"regularizable": True}`` (a norm is per
        unit of a weight: ``"hid.*"`` keeps to ``hid.W``); pass
        ``{"trainable": True}`` with ``norm_axes`` for a bias.
    epsilon : float
        Passed to :func:`~regkit.constraints.norm_constraint`.

    Notes
    -----
    When the hook is called on a plain dict instead of through
    :func:`apply_update_hooks`, there is no network to look names and tags
    up on: the pattern is matched against each shared variable's own
    ``name`` and tags are not checked.

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> from regkit import apply_update_hooks
    >>> net = regkit.DenseLayer(regkit.InputLayer((None, 2)), 1,
    ...                         W=np.array([[3.0], [4.0]]), name="out")
    >>> regs = regkit.from_kwargs(net, max_norm=2.0)
    >>> regs[0].max_norm
    2.0
    >>> new = apply_update_hooks(regs, net, {net.W: net.W * 10})
    >>> float(np.sqrt((new[net.W].eval() ** 2).sum())) <= 2.0
    True
    """

    def __init__(self, pattern=None, weight=3.0, norm_axes=None, tags=None,
                 epsilon=1e-7):
        super(MaxNorm, self).__init__(pattern, weight, norm_axes, tags,
                                      epsilon)

    _positive_weight = "the maximum norm"

    @property
    def max_norm(self):
        """The bound (the same number as ``weight``)."""
        return self.weight

    def constrain(self, value, axes, weight):
        return norm_constraint(value, weight, axes, self.epsilon)


class DecoupledWeightDecay(_ParamRegularizer):
    """Weight decay applied to the updates, after any optimizer
    (Loshchilov and Hutter, 2019: "Decoupled weight decay regularization").

    Each matching parameter's update becomes ``new - weight * p``: the
    parameter shrinks by the fraction ``weight`` of its current value per
    step, whatever the optimizer did with the gradient.  Under plain SGD
    with learning rate ``lr`` this is the same as
    :class:`~regkit.regularizers.WeightL2` with coefficient
    ``weight / (2 * lr)`` (regkit's ``l2`` is ``sum(w ** 2)``, without a
    half); under Adam and other adaptive rules it is not, because they
    rescale the gradient of an L2 term per parameter (AdamW is Adam with
    this hook).  It adds no loss term: apply it with
    :func:`apply_update_hooks`.

    Parameters
    ----------
    pattern : str, sequence of str or None
        Globs over parameter names; None: every parameter with the `tags`.
    weight : float, schedule or symbolic scalar
        The fraction of each parameter removed per step, in [0, 1); a
        schedule is evaluated at the ``step`` given to
        :func:`apply_update_hooks`.
    tags : dict or None
        Tag filter; default ``{"regularizable": True}`` (no decay on
        biases).

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> net = regkit.DenseLayer(regkit.InputLayer((None, 2)), 1,
    ...                         W=np.array([[3.0], [4.0]]), name="out")
    >>> decay = regkit.DecoupledWeightDecay(weight=0.1)
    >>> new = regkit.apply_update_hooks([decay], net, {net.W: net.W + 1})
    >>> new[net.W].eval().ravel().tolist()  # (w + 1) - 0.1 * w
    [3.7, 4.6]
    """

    _varying_weight = True

    def _check_weight(self, weight):
        weight = super(DecoupledWeightDecay, self)._check_weight(weight)
        if not _is_varying(weight) and weight >= 1:
            raise ValueError("DecoupledWeightDecay: weight (the fraction "
                             "removed per step) must be below 1, got %r"
                             % (weight,))
        return weight

    def modify_updates(self, updates):
        # a schedule at the step apply_update_hooks(..., step=) was given
        weight = self.weight_at(getattr(updates, "step", None),
                                "apply_update_hooks")
        for _, param in self._chosen(updates):
            if param in updates:
                updates[param] = updates[param] - backend.tensor.cast(
                    weight * param, param.dtype)


class UnitNorm(_NormHook):
    """Each unit's incoming weight vector rescaled to the norm ``weight``
    (1 by default) after every update, as Keras' ``UnitNorm`` constraint.

    Parameters
    ----------
    pattern : str, sequence of str or None
        Globs over parameter names; None: every parameter with the `tags`
        of 2 to 5 dimensions.
    weight : float
        The norm, positive (default 1).
    norm_axes : int, sequence of int or None
        The axes of one vector: by default all but the units' axis, as
        :func:`~regkit.constraints.norm_constraint` (axis 0 of a dense
        weight, axes 1 to 3 of a ``(filters, channels, rows, cols)``
        filter bank).  Distinct axes, each in ``[-64, 64)`` (ValueError
        at construction otherwise); when the updates are built, each must
        be an axis of the parameter (ValueError naming it and its number
        of dimensions).
    tags : dict or None
        Tag filter; default ``{"regularizable": True}`` (a norm is per
        unit of a weight: ``"hid.*"`` keeps to ``hid.W``); pass
        ``{"trainable": True}`` with ``norm_axes`` for a bias.
    epsilon : float
        Added to each norm before dividing.

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> net = regkit.DenseLayer(regkit.InputLayer((None, 2)), 1,
    ...                         W=np.array([[3.0], [4.0]]), name="out")
    >>> new = regkit.apply_update_hooks([regkit.UnitNorm()], net,
    ...                                 {net.W: net.W * 1})
    >>> np.round(new[net.W].eval().ravel(), 6).tolist()
    [0.6, 0.8]
    """

    _positive_weight = "the norm"

    def target_norms(self, norms, weight):
        return backend.tensor.cast(weight, norms.dtype)


class MinMaxNorm(_NormHook):
    """Each unit's incoming weight vector moved into the norm range
    ``[min_value, max_value]`` after every update, at the rate ``weight``
    (Keras' ``MinMaxNorm``): the new norm is
    ``weight * clip(norm, min, max) + (1 - weight) * norm``.

    Parameters
    ----------
    pattern, norm_axes, tags, epsilon : see :class:`UnitNorm`
    weight : float
        The rate, in [0, 1] (default 1: straight into the range).
    min_value, max_value : float
        The norm range, ``0 <= min_value <= max_value``.

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> net = regkit.DenseLayer(regkit.InputLayer((None, 2)), 1,
    ...                         W=np.array([[3.0], [4.0]]), name="out")
    >>> hook = regkit.MinMaxNorm(min_value=0.5, max_value=2.0)
    >>> new = regkit.apply_update_hooks([hook], net, {net.W: net.W * 1})
    >>> round(float(np.sqrt((new[net.W].eval() ** 2).sum())), 6)
    2.0
    """

    def __init__(self, pattern=None, weight=1.0, min_value=0.0,
                 max_value=1.0, norm_axes=None, tags=None, epsilon=1e-7):
        super(MinMaxNorm, self).__init__(pattern, weight, norm_axes, tags,
                                         epsilon)
        self.min_value = check_positive(min_value, "MinMaxNorm",
                                         "min_value", allow_zero=True)
        self.max_value = check_positive(max_value, "MinMaxNorm",
                                         "max_value", allow_zero=True)
        if self.min_value > self.max_value:
            raise ValueError("MinMaxNorm: min_value %r is above max_value %r"
                             % (self.min_value, self.max_value))

    def _check_weight(self, weight):
        if _is_varying(weight):
            return self._check_varying_weight(weight)
        return check_fraction(weight, "MinMaxNorm", "weight")

    def get_config(self):
        config = super(MinMaxNorm, self).get_config()
        config.update(min_value=self.min_value, max_value=self.max_value)
        return config

    def target_norms(self, norms, weight):
        T = backend.tensor
        clipped = T.clip(norms, T.cast(self.min_value, norms.dtype),
                         T.cast(self.max_value, norms.dtype))
        rate = T.cast(weight, norms.dtype)
        return rate * clipped + (T.cast(1, norms.dtype) - rate) * norms


class NonNeg(_ParamRegularizer):
    """Negative values of the matching parameters set to 0 after every
    update (Keras' ``NonNeg``).  ``weight`` is not used (keep it 0).

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> net = regkit.DenseLayer(regkit.InputLayer((None, 2)), 1,
    ...                         W=np.array([[-3.0], [4.0]]), name="out")
    >>> new = regkit.apply_update_hooks([regkit.NonNeg()], net,
    ...                                 {net.W: net.W * 1})
    >>> new[net.W].eval().ravel().tolist()
    [0.0, 4.0]
    """

    _named_means_trainable = True

    def modify_updates(self, updates):
        for _, param in self._chosen(updates):
            if param in updates:
                value = updates[param]
                updates[param] = backend.tensor.maximum(
                    value, backend.tensor.zeros_like(value))
