"""Penalties on the outputs of layers (activity regularization)."""
import numpy as np

from .. import backend
from ..penalties import safe_norm, kl_sparsity
from ..regularization import sum_terms
from .._checks import check_fraction, check_supported_float
from .base import Regularizer

__all__ = ["HiddenL1", "HiddenL2", "KLSparsity", "RecurrentNorm",
           "RecurrentState", "ConfidencePenalty"]

T = backend.tensor


def _batch_size(h):
    return T.cast(h.shape[0], h.dtype)


class _OutputPenalty(Regularizer):
    """Sum over the matching outputs of ``term(output)``; each output must
    have at least ``min_ndim`` dimensions (a batch axis first)."""

    min_ndim = 1
    shape_wanted = "a batch axis first"

    def term(self, h, name, layers, outputs):
        raise NotImplementedError

    def loss(self, layers, outputs):
        names = self.output_names(layers, outputs)
        return sum_terms(self.term(self.checked_output(outputs, name), name,
                                   layers, outputs) for name in names)

    def checked_output(self, outputs, name):
        """``outputs[name]`` as a float tensor with at least ``min_ndim``
        dimensions, or a ValueError naming the output and the pattern that
        chose it (the default pattern of a network given as a scalar loss
        selects the loss itself)."""
        caller = type(self).__name__
        h = check_supported_float(backend.as_tensor_variable(outputs[name]),
                                   caller, "output %r" % name)
        if h.ndim < self.min_ndim:
            chosen = ("the default pattern (the :out of the %s layers)"
                      % " and ".join(self.default_roles)
                      if self.pattern is None
                      else "pattern %r" % (self.pattern,))
            raise ValueError(
                "%s: %s selects output %r, a %d-d tensor; the term needs %d "
                "or more dimensions (%s): give a pattern that names such an "
                "output" % (caller, chosen, name, h.ndim, self.min_ndim,
                            self.shape_wanted))
        return h


class HiddenL1(_OutputPenalty):
    """Mean over examples of the summed absolute activations.

    ``loss = sum(abs(h)) / batch`` for each matching output ``h`` (axis 0 is
    the batch), so the term does not grow with the batch size.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import DenseLayer, HiddenL1, InputLayer, get_outputs
    >>> l_in = InputLayer((None, 2), name="in")
    >>> hid = DenseLayer(l_in, 3, W=np.ones((2, 3)), name="hid")
    >>> out = DenseLayer(hid, 1, name="out")
    >>> term = HiddenL1(weight=0.1).loss(out, get_outputs(out))
    >>> float(term.eval({l_in.input_var: np.ones((4, 2))}))
    6.0
    """

    aliases = ("hidden_sparsity",)

    def term(self, h, name, layers, outputs):
        return T.sum(abs(h)) / _batch_size(h)


class HiddenL2(_OutputPenalty):
    """Mean over examples of the summed squared activations.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import DenseLayer, HiddenL2, InputLayer, get_outputs
    >>> net = DenseLayer(DenseLayer(InputLayer((None, 2), name="in"), 2,
    ...                             W=np.eye(2), name="hid"), 1, name="out")
    >>> outputs = get_outputs(net, np.array([[1.0, 2.0], [3.0, 0.0]]))
    >>> float(HiddenL2().loss(net, outputs).eval())  # (5 + 9) / 2
    7.0
    """

    def term(self, h, name, layers, outputs):
        return T.sum(T.sqr(h)) / _batch_size(h)


class KLSparsity(_OutputPenalty):
    """KL divergence between `target` and each unit's batch-mean activation.

    See :func:`regkit.penalties.kl_sparsity`; meant for outputs in [0, 1]
    such as sigmoid units.

    Parameters
    ----------
    pattern, weight
        See :class:`Regularizer`.
    target : float
        Desired mean activation, strictly between 0 and 1.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import DenseLayer, InputLayer, KLSparsity, get_outputs
    >>> from regkit.nonlinearities import sigmoid
    >>> net = DenseLayer(DenseLayer(InputLayer((None, 2)), 3,
    ...                             nonlinearity=sigmoid, name="hid"), 1)
    >>> outputs = get_outputs(net, np.zeros((4, 2)))  # every mean is 0.5
    >>> round(float(KLSparsity(target=0.5).loss(net, outputs).eval()), 6)
    0.0
    """

    def __init__(self, pattern=None, weight=0.0, target=0.05):
        super(KLSparsity, self).__init__(pattern, weight)
        self.target = check_fraction(target, "KLSparsity", "target",
                                      strict=True)

    def get_config(self):
        config = super(KLSparsity, self).get_config()
        config["target"] = self.target
        return config

    def term(self, h, name, layers, outputs):
        return kl_sparsity(h, target=self.target)


class _RecurrentPenalty(_OutputPenalty):

    def term(self, h, name, layers, outputs):
        if h.ndim != 3:
            raise ValueError("%s: output %r must be (batch, time, features), "
                             "got %d dimensions" % (type(self).__name__, name,
                                                    h.ndim))
        # the mean over the batch and the T - 1 steps; a sequence of one
        # step has no pair of steps, and gives 0 (a plain mean: NaN)
        steps = self.step_term(h[:, 1:], h[:, :-1])
        return T.sum(steps) / T.cast(T.maximum(steps.size, 1), steps.dtype)


class RecurrentNorm(_RecurrentPenalty):
    """Squared change of the state norm between consecutive steps.

    ``mean over batch and the T-1 steps of (||h_t|| - ||h_{t-1}||)**2``
    (Krueger and Memisevic, "Regularizing RNNs by stabilizing
    activations", 2016).  A norm of zero has the subgradient 0; a
    sequence of one step (no pair of steps) gives 0.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import InputLayer, RecurrentNorm
    >>> states = InputLayer((None, 3, 2), name="rnn")  # (batch, time, units)
    >>> h = np.array([[[3.0, 4.0], [0.0, 1.0], [0.0, 2.0]]])
    >>> outputs = {"rnn:out": h}
    >>> float(RecurrentNorm("rnn:out").loss(states, outputs).eval())
    8.5
    """

    def step_term(self, now, before):
        return T.sqr(safe_norm(now, -1) - safe_norm(before, -1))


class RecurrentState(_RecurrentPenalty):
    """Squared distance between consecutive states.

    ``mean over batch and the T-1 steps of ||h_t - h_{t-1}||**2`` (0 for
    a sequence of one step).

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import InputLayer, RecurrentState
    >>> states = InputLayer((None, 3, 2), name="rnn")
    >>> h = np.array([[[3.0, 4.0], [0.0, 1.0], [0.0, 2.0]]])
    >>> float(RecurrentState("rnn:out").loss(states, {"rnn:out": h}).eval())
    9.5
    """

    def step_term(self, now, before):
        return T.sum(T.sqr(now - before), axis=-1)


class ConfidencePenalty(_OutputPenalty):
    """Negative entropy of a probability output, averaged over examples:
    ``mean over the batch of sum(p * log(p))`` over the last axis
    (Pereyra et al., "Regularizing neural networks by penalizing confident
    output distributions", 2017).

    Added to the loss with a positive weight (0.1 to 2 in the paper), it
    rewards spread-out predictions: the ``-beta * H(p)`` of the paper with
    ``beta = weight``.  Its default pattern is the output layers' ``:out``
    (meant for a softmax output); ``p = 0`` adds nothing and has a finite
    gradient.

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> net = regkit.InputLayer((None, 2), name="prob")
    >>> p = np.array([[0.5, 0.5], [1.0, 0.0]])
    >>> term = regkit.ConfidencePenalty("prob:out").loss(net, {"prob:out": p})
    >>> round(float(term.eval()), 6)  # (2 * 0.5 * log(0.5) + 0) / 2
    -0.346574
    """

    default_roles = ("output",)
    min_ndim = 2
    shape_wanted = "(batch, classes) probabilities"

    def term(self, h, name, layers, outputs):
        tiny = np.finfo(h.dtype).tiny
        log = T.log(T.maximum(h, backend.full_rank_constant(tiny, h.dtype,
                                                            h.ndim)))
        return T.sum(h * log) / _batch_size(h)
