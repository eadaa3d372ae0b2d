"""What a training script calls with its regularizers: the penalty term
(:func:`total_penalty`) and the update hooks (:func:`apply_update_hooks`
on :class:`ParamUpdates`).

Both read the network's record (:func:`~regkit.layers.as_network`), the
one :func:`~regkit.layers.get_outputs` kept when the outputs come from
there, so neither walks the network again.
"""
from collections import OrderedDict
from collections.abc import Mapping
import numbers

import numpy as np

from .. import backend
from .._checks import describe, is_collection, is_tensor_like
from ..layers.base import Layer
from ..layers.network import as_network
from ..regularization import sum_terms, weighted_sum
from ..schedules import check_step
from .base import _as_regularizers, term_labels

__all__ = ["total_penalty", "penalty_terms", "ParamUpdates",
           "apply_update_hooks"]


def total_penalty(regularizers, network, outputs, step=None):
    """``sum(weight * loss)`` over the regularizers.

    Parameters
    ----------
    regularizers : list of Regularizer
    network : Layer or list of Layer
        The network's output layer(s), or all its layers.
    outputs : dict
        Named outputs from :func:`regkit.layers.get_outputs` (built with
        the same regularizers, so that activity terms see the training
        graph).
    step : symbolic integer scalar, int or None
        The step at which schedules are evaluated (see
        :mod:`regkit.schedules`); needed when a weight is a schedule.

    Returns
    -------
    A symbolic scalar (``0`` if no regularizer has a loss term).  Weights
    (numbers, symbolic scalars, schedules) are cast to the dtype of each
    term, so a float32 graph stays float32.

    Raises
    ------
    TypeError
        A weight is a schedule and `step` is None.

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> from regkit import WeightL1, WeightL2, total_penalty
    >>> net = regkit.DenseLayer(regkit.InputLayer((None, 2)), 2,
    ...                         W=np.ones((2, 2)))
    >>> regs = [WeightL2(weight=0.5), WeightL1(weight=0.25)]
    >>> outputs = regkit.get_outputs(net, regularizers=regs)
    >>> float(total_penalty(regs, net, outputs).eval())
    3.0
    """
    terms = _weighted_terms(regularizers, network, outputs, step,
                            "total_penalty")
    return sum_terms([term for _, term in terms if term is not None])


def penalty_terms(regularizers, network, outputs, step=None):
    """Each regularizer's weighted loss term, by label: what
    :func:`total_penalty` adds up, to log apart.

    Parameters
    ----------
    regularizers, network, outputs, step
        As for :func:`total_penalty`.

    Returns
    -------
    OrderedDict
        label -> symbolic scalar ``weight * loss``, one per regularizer
        with a loss term (:meth:`Regularizer.has_loss_term`), in the order
        given; the label is the registry name (``"weight_l2"``), then
        ``"weight_l2#2"``, ``"weight_l2#3"`` for repeats.  A term whose
        weight is the number 0, or that matched nothing, is a constant 0
        of the other terms' dtype (the label stays, so a log has the same columns every epoch).  The
        values add up to ``total_penalty`` (to float rounding: the total
        adds the same products).  Add them as outputs of the training
        function to log them at no extra pass over the data.

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> net = regkit.DenseLayer(regkit.InputLayer((None, 2)), 2,
    ...                         W=np.ones((2, 2)))
    >>> regs = [regkit.WeightL2(weight=0.5), regkit.WeightL1(weight=0.25),
    ...         regkit.WeightL2("*.W", weight=1.0)]
    >>> outputs = regkit.get_outputs(net, regularizers=regs)
    >>> terms = regkit.penalty_terms(regs, net, outputs)
    >>> {label: float(term.eval()) for label, term in terms.items()}
    {'weight_l2': 2.0, 'weight_l1': 1.0, 'weight_l2#2': 4.0}
    """
    weighted = _weighted_terms(regularizers, network, outputs, step,
                               "penalty_terms")
    # a zero term has the dtype of the others (a float32 network logs
    # float32 columns), floatX when every term is zero
    dtypes = [term.dtype for _, term in weighted if term is not None]
    zero_dtype = dtypes[0] if dtypes else backend.floatX
    return OrderedDict(
        (label, term if term is not None else backend.tensor.constant(
            np.asarray(0, dtype=zero_dtype), name=label))
        for label, term in weighted)


def _weighted_terms(regularizers, network, outputs, step, caller):
    """(label, weight * loss or None for an exact zero) per regularizer
    with a loss term."""
    regularizers = _as_regularizers(regularizers, caller)
    # the record is held here, so every regularizer's loss reads it (and
    # it is get_outputs' own record when outputs comes from there)
    record = as_network(network, caller, "network")
    network = record.queried
    if not isinstance(outputs, Mapping):
        raise TypeError("%s: outputs must be the dict that get_outputs "
                        "returns, got %s" % (caller, describe(outputs)))
    step = check_step(step, caller)
    terms = []
    for reg, label in zip(regularizers, term_labels(regularizers)):
        term = reg.loss(network, outputs)  # its warnings even at weight 0
        if not reg.has_loss_term():
            continue
        weight = reg.weight_at(step, caller)
        if isinstance(term, int) and term == 0 or (
                not backend.is_tensor(weight) and weight == 0):
            terms.append((label, None))
            continue
        if backend.is_tensor(weight):  # a float32 graph stays float32
            weight = backend.tensor.cast(weight, term.dtype)
        terms.append((label, weighted_sum([(weight, term)])))
    return terms


class ParamUpdates(OrderedDict):
    """An ordered dict parameter -> new value, that knows its network.

    What :meth:`Regularizer.modify_updates` receives from
    :func:`apply_update_hooks`; it can be passed to ``function(...,
    updates=...)`` as it is.

    Parameters
    ----------
    updates : dict or sequence of (parameter, new value) pairs
    network : Layer, list of Layer or None
        The network's output layer(s); parameter names and tags are looked
        up on it.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import backend, ParamUpdates
    >>> W = backend.shared(np.ones(2), name="W")
    >>> list(ParamUpdates([(W, W * 2)]).keys())
    [W]
    """

    def __init__(self, updates=(), network=None):
        super(ParamUpdates, self).__init__()
        if isinstance(updates, Mapping):
            pairs = list(updates.items())
        elif not is_collection(updates):
            raise TypeError("updates must be a dict or a list of (parameter, "
                            "new value) pairs, got %s" % describe(updates))
        else:
            pairs = list(updates)
        for index, pair in enumerate(pairs):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError("updates: item %d must be a (parameter, new "
                                "value) pair, got %s"
                                % (index, describe(pair)))
            param, value = pair
            if not isinstance(param, backend.SharedVariable):
                raise TypeError("updates: item %d must update a shared "
                                "variable, got %s"
                                % (index, describe(param)))
            if param in self:
                raise ValueError("updates: %s is updated twice (items %d and "
                                 "%d); give one new value per parameter"
                                 % (param, list(self).index(param), index))
            if isinstance(value, bool) or not (
                    is_tensor_like(value) or isinstance(value, numbers.Real)):
                raise TypeError("updates: the new value of %s (item %d) must "
                                "be a tensor or a number, got %s"
                                % (param, index, describe(value)))
            ndim = np.ndim(value) if not backend.is_tensor(value) \
                else value.ndim
            if ndim != param.ndim:
                raise ValueError("updates: the new value of %s (item %d) has "
                                 "%d dimensions, expected %d" % (
                                     param, index, ndim, param.ndim))
            self[param] = value
        if network is not None and not isinstance(network, Layer):
            network = as_network(network, "ParamUpdates", "network").queried
        self.network = network

    def __reduce__(self):
        return (type(self), (list(self.items()), self.network))


def apply_update_hooks(regularizers, network, updates, step=None):
    """Run every regularizer's :meth:`~Regularizer.modify_updates` hook on
    a copy of `updates`.

    Parameters
    ----------
    regularizers : list of Regularizer
    network : Layer or list of Layer
        The network's output layer(s), or all its layers.
    updates : dict or sequence of (parameter, new value) pairs
        The training updates, e.g. from SGD; not changed.
    step : symbolic integer scalar, int or None
        The step at which the hooks' schedules are evaluated (a maximum
        norm or a decay rate that varies; see :mod:`regkit.schedules`);
        needed when a weight is a schedule.

    Returns
    -------
    ParamUpdates
        An ordered dict parameter -> new value, to pass to ``function``.

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> from regkit import MaxNorm, apply_update_hooks
    >>> net = regkit.DenseLayer(regkit.InputLayer((None, 2)), 1,
    ...                         W=np.array([[3.0], [4.0]]), name="out")
    >>> W = net.W
    >>> updates = apply_update_hooks([MaxNorm(weight=1.0)], net, [(W, W)])
    >>> updates[W].eval().round(3).tolist()
    [[0.6], [0.8]]
    """
    # the record is held while the hooks run, so each reads it
    record = as_network(network, "apply_update_hooks", "network")
    if not isinstance(network, Layer):
        network = record.queried
    result = ParamUpdates(updates, network)
    result.step = check_step(step, "apply_update_hooks")
    for reg in _as_regularizers(regularizers, "apply_update_hooks"):
        reg.modify_updates(result)
    return result
