"""Stochastic depth (Huang et al. 2016): a residual branch dropped at
random in training and scaled by its survival probability at inference.
"""
from .. import backend
from .._checks import describe, is_int
from ..layers.graph import VariableLayer
from ..layers.merge import ElemwiseSumLayer
from .base import Regularizer, _check_drop_probability

__all__ = ["StochasticDepth"]

T = backend.tensor


class StochasticDepth(Regularizer):
    """Stochastic depth for residual sums: the residual branch of an
    :class:`~regkit.layers.ElemwiseSumLayer` is dropped, as a whole, with
    probability ``weight`` on each call while training, and scaled by
    ``1 - weight`` in the inference graph (Huang et al., "Deep networks
    with stochastic depth", 2016).

    Parameters
    ----------
    pattern : str, sequence of str or None
        Globs over the sums' outputs (``"res1:out"``); None: every
        ``ElemwiseSumLayer`` of the network.
    weight : float
        Probability of dropping the branch, ``0 <= p < 1`` (the paper
        grows it linearly with depth, to 0.5 for the last block).
    branch : int or None
        Which input of the sum is the residual branch (the others are the
        shortcut).  None (the default): read from the graph, the summand
        computed from all the others (``f(x)`` in ``x + f(x)``, in
        whichever order they are summed); a sum where no summand, or
        several, are (a projection shortcut ``proj(x) + f(x)``) is a
        ValueError asking for `branch`.  The branch is scaled where it is
        summed, never inside another summand that reads it.
    rng : int or None
        Seed (see :class:`BernoulliDropout`).

    Notes
    -----
    Unlike dropout it also changes the inference graph (the scaling), so it
    is not left out of it (``training_only`` is False): the inference graph
    of ``get_output(..., deterministic=True)`` and of
    ``apply_regularizers(...).inference`` both scale the branch.  Its draw
    needs ``random_updates`` as usual.  The sum it rebuilds takes the
    place of the layer's own sum inside the output's current value, so it
    composes with other graph changes on the same output (dropout on the
    sum) in either order.

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> x = regkit.InputLayer((None, 2), name="x")
    >>> f = regkit.DenseLayer(x, 2, W=np.eye(2), nonlinearity=None, name="f")
    >>> res = regkit.ElemwiseSumLayer([x, f], name="res")
    >>> depth = regkit.StochasticDepth(weight=0.5, rng=0)
    >>> test = regkit.get_output(res, regularizers=[depth], deterministic=True)
    >>> regkit.backend.function([x.input_var], test)(np.ones((1, 2)))
    array([[1.5, 1.5]])
    """

    _matched = "sum"
    draws_random = True

    def __init__(self, pattern=None, weight=0.0, branch=None, rng=None):
        super(StochasticDepth, self).__init__(pattern, weight)
        if branch is not None and (isinstance(branch, bool)
                                   or not is_int(branch)):
            raise TypeError("StochasticDepth: branch must be None or an int "
                            "(the index of the residual input), got %s"
                            % describe(branch))
        self.branch = None if branch is None else int(branch)
        self._hold_seeds(rng)

    def _check_weight(self, weight):
        return _check_drop_probability(
            super(StochasticDepth, self)._check_weight(weight),
            "StochasticDepth")

    def get_config(self):
        config = super(StochasticDepth, self).get_config()
        config["branch"] = self.branch
        return config

    def _selects(self, outputs):
        if self.pattern is None:
            return isinstance(outputs.layer, ElemwiseSumLayer)
        return self._pattern_matcher()("%s:out" % outputs.name)

    def _branch_index(self, values, name):
        """The index of the residual branch among the summands `values`:
        the given one, or the one computed from all the others."""
        count = len(values)
        if self.branch is not None:
            if not -count <= self.branch < count:
                raise ValueError("StochasticDepth: branch %d is out of range "
                                 "for %r, which sums %d inputs"
                                 % (self.branch, name, count))
            return self.branch % count
        found = [i for i in range(count)
                 if all(backend.depends_on(values[i], values[j])
                        and values[i] is not values[j]
                        for j in range(count) if j != i)]
        if len(found) != 1:
            raise ValueError(
                "StochasticDepth: cannot tell the residual branch of %r from "
                "the graph (no summand is computed from all the others, as "
                "f(x) is in x + f(x)); give branch=<index of the residual "
                "input>" % (name,))
        return found[0]

    def modify_graph(self, outputs):
        if not self._selects(outputs):
            return None
        values = outputs.inputs
        if isinstance(outputs.layer, VariableLayer) \
                and backend.is_sum(outputs.layer.variable):
            return self._drop_graph_branch(outputs)
        if len(values) < 2 or not _is_sum_layer(outputs.layer):
            raise ValueError(
                "StochasticDepth: %r is not a sum of a shortcut and a branch "
                "(it reads %d input(s)%s); on a plain graph, name the "
                "summands (f.name = 'f') so that they are layers of their own"
                % (outputs.name, len(values), "" if _is_sum_layer(
                    outputs.layer) else ", and its value is not their sum"))
        index = self._branch_index(values, outputs.name)
        branch = values[index]
        factor = self._factor(branch, outputs.deterministic)
        # the sum computed again on its inputs with the branch scaled (the
        # branch is scaled where it is summed, never inside a summand that
        # reads it), then put where the layer's own sum is in the current
        # value, so the changes made before (dropout on the sum) stay
        scaled = list(values)
        scaled[index] = branch * factor
        rebuilt = outputs.recompute(scaled)
        # a later change of the sum (another StochasticDepth) builds on this
        outputs.inputs = tuple(scaled)
        return [_put(outputs, rebuilt)]

    def _drop_graph_branch(self, outputs):
        """A plain graph's sum: the summands are the addition's own
        operands (named or not: ``res = h + tanh(dot(h, W))``, only ``h``
        named, or ``hh + tanh(dot(x, W))`` where the layer reads ``hh`` and
        ``x``), the branch the one computed from all the others; the sum
        is built again on the layer's current input values with the
        branch scaled (on the summands a StochasticDepth before scaled,
        so two compose)."""
        var = outputs.layer.variable
        operands = list(getattr(outputs, "summands", None)
                        or var.owner.inputs)
        index = self._branch_index(operands, outputs.name)
        branch = operands[index]
        factor = self._factor(branch, outputs.deterministic)
        scaled = list(operands)
        scaled[index] = branch * factor
        outputs.summands = scaled  # a later StochasticDepth builds on this
        summed = var.owner.op(*scaled)
        current = {layer.variable: value for layer, value in zip(
            outputs.layer.input_layers, outputs.inputs)
            if value is not layer.variable}
        rebuilt = backend.clone_replace(summed, current) if current \
            else summed
        return [_put(outputs, rebuilt)]

    def _factor(self, branch, deterministic):
        """What the branch is multiplied by: its keep probability at
        inference, a draw of 0 or 1 in training."""
        keep = 1.0 - self.weight
        if deterministic:
            return backend.tensor.cast(keep, branch.dtype)
        return backend.bernoulli((1,), keep, branch.dtype,
                                 self.seeds.spawn())[0]


def _put(outputs, rebuilt):
    """Put the rebuilt sum where the layer's own sum is in its current
    value (so the changes made before, dropout on the sum, stay); its
    key."""
    key = "%s:out" % outputs.name
    built, current = outputs.built.get(key), outputs[key]
    outputs[key] = rebuilt if built is None or current is built \
        else backend.clone_replace(current, {built: rebuilt})
    outputs.built[key] = rebuilt
    return key


def _is_sum_layer(layer):
    """Whether `layer` sums its inputs: a merge layer (regkit's
    ElemwiseSumLayer, a Lasagne-style one), or a plain graph's variable
    computed by an addition."""
    if isinstance(layer, VariableLayer):
        return backend.is_sum(layer.variable)
    return True
