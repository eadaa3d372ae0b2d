"""Penalties on parameters, chosen by tag and by name pattern: weight
decay (L2, L1) and L2-SP.  The matrix terms that need a power iteration
(:class:`SpectralNorm`, :class:`SRIP`) are in :mod:`~regkit.regularizers.spectral`."""
from collections.abc import Mapping
import warnings

import numpy as np

from .. import backend
from .._checks import as_finite_array, describe
from ..penalties import l1, l2
from ..regularization import apply_penalty, sum_terms
from .base import _ParamRegularizer

__all__ = ["WeightL2", "WeightL1", "L2SP"]


class _WeightPenalty(_ParamRegularizer):
    """Sum of a penalty over the matching parameters with the given tags."""

    penalty = None

    def loss(self, layers, outputs):
        return apply_penalty(self.params(layers), type(self).penalty)


class WeightL2(_WeightPenalty):
    """Sum of squares of the matching parameters (weight decay).

    ``loss = sum(l2(W) for W in params)``: the plain sum over parameters,
    not theanets' mean of per-parameter means, so it is the same number as
    ``regularize_network_params(net, l2)``.

    Parameters
    ----------
    pattern : str, sequence of str or None
        Globs over parameter names; None: every parameter with the `tags`.
    weight : float
        The coefficient.
    tags : dict or None
        Tag filter; default ``{"regularizable": True}``.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import DenseLayer, InputLayer, WeightL2, get_outputs
    >>> net = DenseLayer(InputLayer((None, 2)), 2, W=np.ones((2, 2)),
    ...                  name="out")
    >>> float(WeightL2(weight=1e-4).loss(net, get_outputs(net)).eval())
    4.0
    """

    aliases = ("weight_decay",)
    penalty = staticmethod(l2)


class WeightL1(_WeightPenalty):
    """Sum of absolute values of the matching parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import DenseLayer, InputLayer, WeightL1, get_outputs
    >>> net = DenseLayer(InputLayer((None, 2)), 2, W=-np.ones((2, 2)))
    >>> float(WeightL1("*.W", 1e-4).loss(net, get_outputs(net)).eval())
    4.0
    """

    aliases = ("weight_sparsity",)
    penalty = staticmethod(l1)


class L2SP(_ParamRegularizer):
    """Squared distance of the matching parameters from a starting point:
    ``sum(l2(w - w0))`` (L2-SP, Li, Grandvalet and Davoine, "Explicit
    inductive bias for transfer learning with convolutional networks",
    2018).

    Fine-tuning from pretrained weights ``w0`` with this term instead of
    weight decay keeps the model near what it learned before (the paper's
    ``alpha / 2 * ||w - w0||^2`` is ``weight = alpha / 2`` here: regkit's
    ``l2`` has no half).

    Parameters
    ----------
    pattern, weight
        As for :class:`WeightL2`.
    start : dict or None
        Parameter name -> starting value (an array, or nested lists, of
        real finite numbers: strings, complex values, NaN, infinity and
        numbers beyond the float range are refused).  None: the values the
        matching parameters have the first time the regularizer sees the
        network (call :meth:`capture` right after loading the pretrained
        weights to make that moment explicit).  The start is copied, kept
        with the regularizer, and saved by ``serialize`` and pickling; in
        the graph it is a shared variable per parameter, so a later
        :meth:`capture` reaches functions already compiled.  Each
        parameter keeps the start it was first given, whatever network
        argument a later call passes.  A value the parameter's dtype
        cannot hold is refused; a start given here with a name the
        pattern matches no parameter of warns (a misspelt name).
    tags
        As for :class:`WeightL2`.

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> net = regkit.DenseLayer(regkit.InputLayer((None, 2)), 1,
    ...                         W=np.array([[1.0], [2.0]]), name="out")
    >>> sp = regkit.L2SP(weight=0.01).capture(net)  # the pretrained weights
    >>> net.W.set_value(np.array([[1.0], [5.0]]))   # after some training
    >>> float(sp.loss(net, {}).eval())  # (5 - 2) ** 2
    9.0
    """

    def __init__(self, pattern=None, weight=0.0, start=None, tags=None):
        super(L2SP, self).__init__(pattern, weight, tags)
        if start is not None and not isinstance(start, Mapping):
            raise TypeError("L2SP: start must be None or a dict parameter "
                            "name -> starting value, got %s"
                            % describe(start))
        self.start = None if start is None else {
            name: as_finite_array(value, "L2SP", "start", name)
            for name, value in start.items()}
        self._starts = {}  # parameter -> shared start (state, not config)
        self._given = start is not None  # not captured: check its names

    def get_config(self):
        config = super(L2SP, self).get_config()
        config["start"] = None if self.start is None else {
            name: value.tolist() for name, value in self.start.items()}
        return config

    def __getstate__(self):
        state = super(L2SP, self).__getstate__()
        state["_starts"] = {}  # shared variables of this process
        return state

    def capture(self, network):
        """Take the current values of the matching parameters of `network`
        as the start; returns the regularizer.

        The start lives in a shared variable per parameter, so functions
        compiled before the capture use the new start too."""
        return self._capture(self.named_params(network))

    def _capture(self, named):
        self.start = {name: np.array(param.get_value(), dtype=float)
                      for name, param in named}
        for name, param in named:  # compiled functions see the new start
            self._start_of(param, name, refresh=True)
        return self

    def _start_of(self, param, name, refresh=False):
        """The shared variable holding the start of `param`: made from
        ``self.start[name]`` the first time `param` is met (and on a
        capture), then kept for that parameter whatever name a later walk
        gives it."""
        shared = self._starts.get(param)
        if shared is not None and not refresh:
            return shared
        if name not in self.start:
            raise ValueError("L2SP: no starting value for %r (start has %s)"
                             % (name, sorted(self.start)))
        start = self.start[name]
        shape = tuple(param.get_value(borrow=True).shape)
        if start.shape != shape:
            raise ValueError("L2SP: the start of %r has shape %r, the "
                             "parameter %r" % (name, start.shape, shape))
        if np.issubdtype(param.dtype, np.floating) and start.size and \
                np.abs(start).max() > np.finfo(param.dtype).max:
            raise ValueError("L2SP: the start of %r holds values beyond the "
                             "range of the parameter's dtype %s"
                             % (name, param.dtype))
        value = start.astype(param.dtype)
        if shared is None:
            shared = self._starts[param] = backend.state_variable(
                value, name="%s.start" % (name,))
        else:
            shared.set_value(value)
        return shared

    def loss(self, layers, outputs):
        named = self.named_params(layers)
        if self.start is None:
            self._capture(named)
        terms = [l2(param - self._start_of(param, name))
                 for name, param in named]
        unused = sorted(set(self.start) - set(name for name, _ in named))
        if unused and named and self.__dict__.get("_given"):
            warnings.warn("L2SP: start has values for %s, which pattern %r "
                          "matches no parameter of; they are not used"
                          % (", ".join(map(repr, unused)), self.pattern),
                          UserWarning, stacklevel=2)
        return sum_terms(terms)
