"""The protocol between layers and regularizers, and the named outputs it
works on.

:func:`~regkit.layers.get_outputs` calls the hooks of the regularizers it
is given through :class:`OutputHook`, one :class:`LayerOutputs` per layer,
and returns every output in a :class:`NetworkOutputs`; this module defines
the three, and :class:`regkit.Regularizer` implements the first, so layers
never import regularizers.

Examples
--------
>>> from regkit.layers import LayerOutputs, NetworkOutputs
>>> outs = NetworkOutputs()
>>> outs.add(LayerOutputs(None, "hid", "hidden", [("hid:out", 1)]))
>>> dict(outs)
{'hid:out': 1}
"""
from collections import OrderedDict

from .._checks import as_instances, describe
from .network import as_network
from .roles import ROLES, group_by_role

__all__ = ["OutputHook", "LayerOutputs", "NetworkOutputs", "as_hooks"]


class OutputHook(object):
    """What :func:`get_output` and :func:`get_outputs` call on the
    regularizers they are given: the protocol between layers and
    regularizers.

    :class:`regkit.Regularizer` implements it; a graph change that is not a
    regularizer (no pattern, no weight) can subclass it directly.

    Attributes
    ----------
    training_only : bool
        True for changes that belong to training only (dropout, noise,
        DropConnect): they are not called when the inference graph is
        built (``deterministic=True``).  False (the default) for changes
        with a deterministic part that inference must apply too (spectral
        normalization's division, stochastic depth's scaling), which see
        ``outputs.deterministic``.
    draws_random : bool
        True for hooks that draw random numbers (they take a seed ``rng``,
        and :func:`~regkit.regularizers.from_kwargs` seeds them from its
        own ``rng``).
    stochastic : bool
        The old flag, which meant both: reading it gives `training_only`;
        a subclass (or an instance) that sets ``stochastic = True`` is
        training-only and draws random numbers.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import DenseLayer, InputLayer, OutputHook, get_output
    >>> class Double(OutputHook):
    ...     def modify_graph(self, outputs):
    ...         if outputs.role == "hidden":
    ...             outputs[outputs.name + ":out"] *= 2
    >>> l_in = InputLayer((None, 1))
    >>> net = DenseLayer(DenseLayer(l_in, 1, W=np.ones((1, 1))), 1,
    ...                  W=np.ones((1, 1)), nonlinearity=None)
    >>> float(get_output(net, regularizers=[Double()]).eval(
    ...     {l_in.input_var: np.ones((1, 1))})[0, 0])
    2.0
    """

    training_only = False
    draws_random = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        legacy = cls.__dict__.get("stochastic")
        if legacy is not None and not isinstance(legacy, property):
            # the old class attribute meant both
            cls.training_only = cls.draws_random = bool(legacy)
            del cls.stochastic

    @property
    def stochastic(self):
        """The old name of :attr:`training_only`."""
        return self.training_only

    @stochastic.setter
    def stochastic(self, value):
        self.training_only = self.draws_random = bool(value)

    def modify_graph(self, outputs):
        """Change one layer's named outputs in place, before later layers
        read them; no change by default.

        Parameters
        ----------
        outputs : LayerOutputs
            The outputs of one layer (keys ``"<layer>:out"``...), with the
            attributes ``layer``, ``name`` and ``role`` of that layer.

        Returns
        -------
        None, or the names of what it changed (output or parameter
        names): :func:`get_outputs` gathers them for
        :meth:`check_matches` (:meth:`NetworkOutputs.changed_by`).
        """

    def check_matches(self, named):
        """Called once the whole graph is built, with the
        :class:`NetworkOutputs`; a hook that should have changed something
        warns here if it did not (``named.changed_by(self)`` gives what
        its ``modify_graph`` calls returned).  Nothing by default."""


def as_hooks(hooks, caller):
    """`hooks` (one :class:`OutputHook` or an iterable of them) as a list,
    or a TypeError naming `caller`."""
    hooks = as_instances(hooks, OutputHook, caller, "regularizers",
                         "Regularizer objects (or other OutputHook objects "
                         "with a modify_graph method)")
    for hook in hooks:
        if getattr(hook, "_parametrize_only", False):
            raise TypeError(
                "%s: %r is a parametrization: apply it with "
                "regkit.parametrize(network, [...]); as a graph change it "
                "would change nothing" % (caller, hook))
    return hooks


class LayerOutputs(OrderedDict):
    """The named outputs of one layer, as regularizers see them.

    A dict ``"<layer name>:<output>" -> expression`` that also tells which
    layer it belongs to: attributes ``layer``, ``name`` (the layer's name)
    and ``role`` (``"input"``, ``"hidden"``, ``"output"`` or
    ``"internal"``, see
    :func:`layer_roles`); while a graph is built, also ``inputs`` (the
    values the layer read, in order), ``deterministic`` (whether the
    inference graph is being built), ``kwargs`` (the keywords passed to
    the layers), ``param_names`` (parameter -> its unique name in the
    network, as :func:`named_params` gives it), ``network`` (the
    network's record, :class:`Network`) and ``built`` (the outputs
    as the layer computed them, before any hook changed them).  A hook
    that computes the layer again on changed inputs (:meth:`recompute`)
    updates ``inputs`` and ``built`` so that the next hook builds on its
    change.  A regularizer's ``modify_graph`` may
    replace values and add keys.

    Examples
    --------
    >>> from regkit import LayerOutputs
    >>> outs = LayerOutputs(None, "hid", "hidden", [("hid:out", 1)])
    >>> outs.name, outs.role, dict(outs)
    ('hid', 'hidden', {'hid:out': 1})
    """

    def __init__(self, layer, name, role, items=()):
        if not isinstance(name, str):
            raise TypeError("LayerOutputs: name must be a string, got %r"
                            % (name,))
        if role not in ROLES:
            raise ValueError("LayerOutputs: role must be one of %s, got %r"
                             % (", ".join(ROLES), role))
        super(LayerOutputs, self).__init__(items)
        self.layer, self.name, self.role = layer, name, role
        self.inputs, self.deterministic = (), False
        self.param_names = {}
        self.built, self.kwargs = {}, {}
        self.network = None

    def recompute(self, values):
        """The layer's ``get_output_for`` on other input `values` (in the
        order of ``inputs``), with the keywords of the graph being built
        (``deterministic`` among them)."""
        network = self.network or as_network(self.layer, "recompute")
        return self.layer.get_output_for(network.input_arg(self.layer, values),
                                         **self.kwargs)

    def __reduce__(self):
        return (type(self), (self.layer, self.name, self.role,
                             list(self.items())))

class NetworkOutputs(OrderedDict):
    """Every named output of a network (what :func:`get_outputs` returns):
    an ordered dict ``"<layer name>:<output>" -> expression`` that also
    keeps, for each layer, its name and role.

    Attributes
    ----------
    layers : OrderedDict
        Layer name -> layer, in the order of the walk.
    roles : OrderedDict
        Layer name -> ``"input"``, ``"hidden"``, ``"output"`` or
        ``"internal"`` (see :func:`layer_roles`).
    network : Network or None
        The record of the network the outputs were built from (None for
        outputs put together by hand, and after unpickling): the
        regularizers and :func:`~regkit.regularizers.total_penalty` read
        names and roles from it instead of walking the network again.

    Examples
    --------
    >>> from regkit import LayerOutputs, NetworkOutputs
    >>> outs = NetworkOutputs()
    >>> outs.add(LayerOutputs(None, "hid", "hidden", [("hid:out", 1)]))
    >>> dict(outs), dict(outs.roles)
    ({'hid:out': 1}, {'hid': 'hidden'})
    """

    def __init__(self, items=(), layers=(), roles=()):
        super(NetworkOutputs, self).__init__(items)
        self.layers = OrderedDict(layers)
        self.roles = OrderedDict(roles)
        self.network = None
        self._changes = {}  # id(hook) -> (hook, the names it changed)

    def record_changes(self, hook, names):
        """Note that `hook` changed `names` (what its ``modify_graph``
        returned) while this graph was built."""
        entry = self._changes.setdefault(id(hook), (hook, []))
        entry[1].extend(names)

    def changed_by(self, hook):
        """The names `hook` changed while this graph was built, in order.

        Examples
        --------
        >>> from regkit import NetworkOutputs, OutputHook
        >>> outs, hook = NetworkOutputs(), OutputHook()
        >>> outs.record_changes(hook, ["hid:out"])
        >>> outs.changed_by(hook), outs.changed_by(OutputHook())
        (['hid:out'], [])
        """
        return list(self._changes.get(id(hook), (hook, []))[1])

    def add(self, layer_outputs):
        """Add one layer's :class:`LayerOutputs` (its outputs, its name and
        its role)."""
        if not isinstance(layer_outputs, LayerOutputs):
            raise TypeError("NetworkOutputs.add: expected a LayerOutputs, "
                            "got %s" % describe(layer_outputs))
        self.update(layer_outputs)
        self.layers[layer_outputs.name] = layer_outputs.layer
        self.roles[layer_outputs.name] = layer_outputs.role

    def names_by_role(self):
        """Role -> the names of the layers with that role, in order."""
        by_role = group_by_role(self.roles.items())
        if not by_role["internal"]:  # only Lasagne-style networks have it
            del by_role["internal"]
        return by_role

    def __reduce__(self):
        return (type(self), (list(self.items()), list(self.layers.items()),
                             list(self.roles.items())))
