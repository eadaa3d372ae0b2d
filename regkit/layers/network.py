"""One record of a network: its layers in order, their names and roles,
and its named parameters, built once and read by every consumer.

Every function that takes a network (:func:`get_outputs`,
:func:`~regkit.regularizers.total_penalty`,
:func:`~regkit.regularizers.apply_update_hooks`, the regularizers'
``loss`` and hooks, the ``get_all_*`` helpers) turns its argument into a
:class:`Network` with :func:`as_network`.  The walk reads each layer's
inputs once; names, roles and parameter names are computed from what it
read, and a record of a network of layers stays in use while anything
holds it (the :class:`NetworkOutputs` of :func:`get_outputs` holds its
record), so a training script that calls ``get_outputs``,
``total_penalty`` and ``apply_update_hooks`` on one network walks it
once.  A record is checked before it is reused, by reading each layer's
name, inputs and parameters (their names and tags): a layer renamed or
rewired, a parameter added, renamed or retagged since makes a new record
(``layer.params[W].discard("regularizable")`` counts at once).  A
symbolic graph given as the network is read afresh each time.
"""
from collections import OrderedDict
import weakref

from .. import backend
from .._checks import is_collection
from .base import filter_tags, _unwrap
from .graph import VariableLayer
from .tags import check_tag_names
from .roles import compute_roles, group_by_role, is_training_only, _names_of
from .walk import as_layer_list, input_arg, is_input_layer, read_inputs, walk

__all__ = ["Network", "as_network", "layer_roles", "training_only_layers",
           "param_name"]

#: key (ids of the network argument) -> its record, while one is held
_RECORDS = weakref.WeakValueDictionary()


class Network(object):
    """The record of one network (build it with :func:`as_network`).

    Attributes
    ----------
    queried : list
        The layers the network argument stands for (the output layer(s),
        or all the layers).
    layers : list
        Every layer, in the order of :func:`get_all_layers` from the
        network's output layers.
    names : OrderedDict
        Layer -> its unique name (:func:`layer_names`).
    roles : OrderedDict
        Layer -> ``"input"``, ``"hidden"``, ``"output"`` or
        ``"internal"`` (:func:`layer_roles`).
    by_name : dict
        Name -> layer.
    inputs : set
        The input layers.

    Examples
    --------
    >>> from regkit.layers import DenseLayer, InputLayer, as_network
    >>> l_out = DenseLayer(DenseLayer(InputLayer((None, 3)), 4), 2)
    >>> net = as_network(l_out)
    >>> list(net.names.values()), list(net.roles.values())
    (['input1', 'dense1', 'dense2'], ['input', 'hidden', 'output'])
    >>> [name for name, _ in net.named_params(regularizable=True)]
    ['dense1.W', 'dense2.W']
    >>> as_network(l_out) is net  # reused while held
    True
    """

    def __init__(self, queried, treat_as_input=None, _read=None,
                 _caller=("Network", "queried")):
        self.queried = as_layer_list(queried, *_caller)
        # layer -> (its inputs, their form), each layer read once
        self._inputs = {} if _read is None else _read
        walked = walk(self.queried, self.sources, treat_as_input)
        sources, merges, self.inputs = self._read_all(walked)
        roles = compute_roles(walked, sources, merges, self.inputs)
        outputs = [layer for layer in walked if roles[layer] == "output"]
        if outputs != self.queried:
            rewalked = walk(outputs, self.sources, treat_as_input) \
                if outputs else []
            # a cycle can hide layers from every output layer: keep the first
            if set(rewalked) == set(walked):
                walked = rewalked
                roles = OrderedDict((layer, roles[layer]) for layer in walked)
        self.layers = walked
        self.roles = roles
        self.names = _names_of(walked)
        self.by_name = {name: layer for layer, name in self.names.items()}
        self._param_names = {}
        self._parent = None  # the whole network's record, for a part
        # what the walk read (each layer's inputs read once)
        self._fingerprint = _fingerprint(walked, self._inputs.__getitem__)

    def sources(self, layer):
        """The layers `layer` reads (see :func:`input_layers`), read from
        the layer once per record."""
        if layer not in self._inputs:
            self._inputs[layer] = read_inputs(layer)
        return self._inputs[layer][0]

    def input_arg(self, layer, values):
        """What ``layer.get_output_for`` takes for its input `values` (in
        the order of :meth:`sources`), see :func:`input_arg`."""
        self.sources(layer)
        return input_arg(values, self._inputs[layer][1])

    def _read_all(self, layers):
        """(layer -> its inputs, the merge layers, the input layers) for
        `layers`, from what the record read."""
        sources = {layer: self.sources(layer) for layer in layers}
        merges = set(layer for layer in layers
                     if self._inputs[layer][1] is not None)
        inputs = set(layer for layer in layers
                     if is_input_layer(layer, self._inputs[layer]))
        return sources, merges, inputs

    def below(self, treat_as_input):
        """The record of the same network with the layers in
        `treat_as_input` taken as inputs (their inputs not walked), built
        from what this record read; its layers keep the names they have in
        this record, so a name means one layer whatever inputs
        :func:`get_outputs` was given."""
        if not treat_as_input:
            return self
        part = Network(self.queried, list(treat_as_input), _read=self._inputs)
        part.names = OrderedDict((layer, self.names[layer])
                                 for layer in part.layers)
        part.by_name = {name: layer for layer, name in part.names.items()}
        part._parent = self
        return part

    def names_by_role(self):
        """Role -> the names of the layers with that role, in order (every
        role a key)."""
        return group_by_role((self.names[layer], role)
                             for layer, role in self.roles.items())

    def params(self, *, unwrap_shared=True, caller="get_all_params",
               **tags):
        """The parameters with the given tags, each once, in the order of
        :func:`get_all_params` (each layer's ``get_params``)."""
        check_tag_names(self.layers, tags, caller)
        seen, params = set(), []
        for layer in self.layers:
            for param in layer.get_params(unwrap_shared=unwrap_shared,
                                          **tags):
                if param not in seen:
                    seen.add(param)
                    params.append(param)
        return params

    def param_names(self, *, unwrap_shared=True):
        """Parameter -> its unique full name (see :func:`named_params`),
        for every parameter whatever its tags; `unwrap_shared` names the
        shared variables inside expression parameters instead of the
        expressions."""
        if self._parent is not None:  # the names of the whole network
            return self._parent.param_names(unwrap_shared=unwrap_shared)
        if unwrap_shared not in self._param_names:
            self._param_names[unwrap_shared] = self._name_params(
                unwrap_shared)
        return self._param_names[unwrap_shared]

    def named_params(self, *, unwrap_shared=True, caller="named_params",
                     **tags):
        """(name, parameter) pairs with the given tags, in the order of
        :meth:`params` (see :func:`named_params`)."""
        check_tag_names(self.layers, tags, caller)
        kept = set()
        for layer in self.layers:
            kept.update(_unwrap(filter_tags(layer.params, tags),
                                unwrap_shared))
        names = self.param_names(unwrap_shared=unwrap_shared)
        return [(name, var) for var, name in names.items() if var in kept]

    def training_only_layers(self):
        """See :func:`training_only_layers`."""
        sources, merges, inputs = self._read_all(self.layers)
        return [layer for layer in self.layers
                if is_training_only(layer, sources, merges, inputs)]

    def is_current(self):
        """Whether the network is as the record saw it: no layer renamed or
        rewired, no parameter added, removed, renamed or retagged (each
        layer's attributes are read, the network is not walked)."""
        return _fingerprint(self.layers) == self._fingerprint

    def _name_params(self, unwrap_shared):
        # Every parameter of every layer is named, whatever its tags, so
        # that a name does not depend on the tag filter a caller applies:
        # param_name(), and where an earlier parameter already took that
        # name (two shared variables called W in a plain graph, the two
        # factors of W = dot(W1, W2) unwrapped) the next free of "<name>#2",
        # "<name>#3"... in walk order.  A parameter shared by several
        # layers (tied weights) keeps the name it was first met with.
        result, taken = OrderedDict(), set()
        for layer in self.layers:
            for index, param in enumerate(layer.params):
                base = param_name(layer, param, index, self.names[layer])
                for var in _unwrap([param], unwrap_shared):
                    if var in result:
                        continue
                    name, count = base, 1
                    while name in taken:
                        count += 1
                        name = "%s#%d" % (base, count)
                    taken.add(name)
                    result[var] = name
        return result

    def __repr__(self):
        return "<Network of %d layers>" % len(self.layers)


def _fingerprint(layers, read=read_inputs):
    """What a record's names, roles and walk depend on, per layer: its
    name, its parameters (identity, name and tags) and its inputs
    (identity and form, from ``read(layer)``: the layer's attributes, or
    what a walk already read), kept as one hash per layer (plain ints,
    which the garbage collector does not track: a record of thousands of
    layers adds no work to its passes)."""
    result = []
    for layer in layers:
        sources, form = read(layer)
        result.append(hash((layer.name, form, tuple(map(id, sources)), tuple(
            (id(param), param.name, frozenset(tags))
            for param, tags in layer.params.items()))))
    return result


def as_network(network, caller="as_network", argname="layer",
               treat_as_input=None):
    """The :class:`Network` record of a network argument.

    Parameters
    ----------
    network : layer, list of layers, expression(s), or Network
        Any network form (see :func:`as_layer_list`); a record is returned
        as it is.
    caller, argname : str
        Named in errors.
    treat_as_input : list of layers, optional
        Layers whose inputs are not walked (:func:`get_outputs` with
        ``inputs`` given at them).

    Returns
    -------
    Network
        The record built for the same argument (the same objects, in the
        same order) if one is still held and current, else a new one.

    Examples
    --------
    >>> from regkit.layers import DenseLayer, InputLayer, as_network
    >>> net = as_network(DenseLayer(InputLayer((None, 3)), 2, name="out"))
    >>> [layer.name for layer in net.layers]
    [None, 'out']
    >>> as_network(None, "mine")
    Traceback (most recent call last):
    ...
    TypeError: mine: layer must be a layer (regkit's, ...
    """
    if isinstance(network, Network):
        return network.below(treat_as_input)
    key = _key(network, treat_as_input)
    record = _RECORDS.get(key) if key is not None else None
    if record is not None and record.is_current():
        return record
    record = Network(network, treat_as_input, _caller=(caller, argname))
    if key is not None:  # the record holds every object whose id is in it
        _RECORDS[key] = record
        if not treat_as_input:  # the same record for its layers as a list
            _RECORDS[_key(record.queried, None)] = record
    return record


def _key(network, treat_as_input):
    """The cache key of a network argument of layers: the ids of its items
    (a list or tuple of layers, or one layer), which its record holds; None
    for anything else.  A symbolic graph is read afresh each time (a name
    given to a variable since changes its layers), and so is any other
    container (a dict view or a deque is not held, so its id may be
    reused by another)."""
    if isinstance(network, (list, tuple)):
        items = tuple(network)
    elif not is_collection(network) and not backend.is_tensor(network):
        items = (network,)
    else:
        return None
    if not items or any(backend.is_tensor(item) for item in items):
        return None
    return tuple(map(id, items)), tuple(map(id, treat_as_input or ()))


def layer_roles(layer_or_layers):
    """The role of every layer below the given layer(s).

    Parameters
    ----------
    layer_or_layers : Layer or list of Layer
        The network's output layer(s), or all its layers (as theanets
        passes them to ``Regularizer.loss``): the roles come from the
        graph, so both give the same answer.

    Returns
    -------
    OrderedDict
        Layer -> ``"input"`` (an :class:`InputLayer`), ``"output"`` (a layer
        that no other layer of the walked graph takes as input) or
        ``"hidden"`` (everything else), in the order of
        :func:`get_all_layers`.

        Layers that are not regkit's (Lasagne's, or any following its
        protocol) get the roles a Lasagne user means, since such networks
        spell out every step as a layer: ``"hidden"`` is the output of a
        layer that computes units (a layer with a ``regularizable``
        parameter: dense, convolution, recurrent), taken after the steps
        that finish those units in place (a nonlinearity, batch
        normalization, LRN: layers of the same output shape, without a
        weight, that change the values at inference); ``"output"`` is
        the network's output only (the logits under a separate softmax
        ``NonlinearityLayer`` are not: output terms such as the confidence
        penalty need the probabilities, and output dropout must not hit
        both); everything else (pooling, reshaping, merges, the network's
        own dropout and noise layers, the steps inside a unit, those
        logits) is ``"internal"``, which no default pattern or role
        keyword selects.  Dropout and noise layers are recognised by what they do:
        a parameter-free layer whose inference output is its input.

    Examples
    --------
    >>> from regkit import DenseLayer, InputLayer, layer_roles
    >>> l_in = InputLayer((None, 3))
    >>> l_hid = DenseLayer(l_in, 4)
    >>> l_out = DenseLayer(l_hid, 2)
    >>> list(layer_roles(l_out).values())
    ['input', 'hidden', 'output']
    >>> list(layer_roles([l_in, l_hid, l_out]).values())
    ['input', 'hidden', 'output']
    """
    return OrderedDict(as_network(layer_or_layers, "layer_roles").roles)


def training_only_layers(layer_or_layers):
    """The network's own dropout and noise layers (Lasagne's
    ``DropoutLayer``, ``GaussianNoiseLayer`` or any like them): the
    parameter-free layers whose output is their input at inference and
    not in training.

    :func:`~regkit.regularizers.from_kwargs` warns when its dropout or
    noise keywords would add regkit's on top of them.

    Examples
    --------
    >>> from regkit import DenseLayer, InputLayer, training_only_layers
    >>> training_only_layers(DenseLayer(InputLayer((None, 3)), 2))
    []
    """
    return as_network(layer_or_layers,
                      "training_only_layers").training_only_layers()


def param_name(layer, param, index, layer_name):
    """The full name of the parameter `param` of `layer`: a graph's shared
    variable is called by its own name; a layer's parameter by the layer's
    name, a dot, and its name in the layer (its position if unnamed)."""
    if isinstance(layer, VariableLayer):
        if param.name is not None:
            return param.name
        short = layer.param_names.get(param)
        if short is not None:
            return "%s.%s" % (layer_name, short)
        return "%s.%d" % (layer_name, index)
    param_names = getattr(layer, "param_names", None)  # regkit's layers
    short = param_names.get(param) if param_names is not None \
        else getattr(param, "name", None)
    if short is None:
        return "%s.%d" % (layer_name, index)
    if layer.name is not None and short.startswith(layer.name + "."):
        # regkit and Lasagne prefix a named layer's parameter names
        short = short[len(layer.name) + 1:]
    return "%s.%s" % (layer_name, short)
