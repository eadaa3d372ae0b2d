"""The names and roles of a network's layers, from its walk.

Layer names
-----------
A layer without a name gets an automatic one from :func:`layer_names`: its
class name, lowercased, without the ``Layer`` suffix, and a 1-based count
of the layers of that kind in the order of :func:`get_all_layers`
(``input1``, ``dense1``, ``dense2``).  The names depend only on the
network's structure, so they are the same in every run and every process.

Roles
-----
See :func:`~regkit.layers.layer_roles`; :func:`compute_roles` is the
rule, on the layers and inputs a :class:`~regkit.layers.Network` read.
"""
from collections import OrderedDict
import warnings
import weakref

from .. import backend
from .base import Layer
from .graph import VariableLayer
from .walk import as_layer_list, is_input_layer

__all__ = ["ROLES", "layer_names", "compute_roles", "is_training_only",
           "group_by_role"]

#: The roles a layer may have (see :func:`~regkit.layers.layer_roles`).
ROLES = ("input", "hidden", "output", "internal")


def layer_names(layers):
    """The name of each layer: its own, or a stable automatic one.

    Parameters
    ----------
    layers : list of Layer
        Usually ``get_all_layers(network)``.

    Returns
    -------
    OrderedDict
        Layer -> name.  An unnamed layer is called after its class
        (lowercased, without ``Layer``) and a 1-based count of the layers
        of that class in `layers`, skipping names already taken.  Layers
        that share a name (legal in Lasagne: ``name="hidden"`` in a loop)
        keep it for the first and get ``"#2"``, ``"#3"``... for the
        others, in the order of `layers`, with one UserWarning
        (``"hidden:out"`` is the first, ``"hidden#2:out"`` the second,
        ``"hidden#*:out"`` every later one).

    Examples
    --------
    >>> from regkit import DenseLayer, InputLayer, get_all_layers, layer_names
    >>> l_in = InputLayer((None, 3))
    >>> l_out = DenseLayer(DenseLayer(l_in, 4), 2, name="out")
    >>> list(layer_names(get_all_layers(l_out)).values())
    ['input1', 'dense1', 'out']
    """
    return _names_of(as_layer_list(layers, "layer_names", "layers"))


def _names_of(layers):
    """:func:`layer_names` of a list of layers already checked (the
    record's walk)."""
    taken = {}
    renamed = OrderedDict()  # a shared name -> how many layers carry it
    own = {}
    chosen = set(layer.name for layer in layers if layer.name is not None)
    for layer in layers:
        if layer.name is None or layer in own:
            continue
        name = layer.name
        if name in taken:
            renamed[layer.name] = count = renamed.get(layer.name, 1) + 1
            name = "%s#%d" % (layer.name, count)
            while name in taken or name in chosen:  # the user's names first
                count += 1
                name = "%s#%d" % (layer.name, count)
        taken[name], own[layer] = layer, name
    if renamed:
        first = next(iter(renamed))
        warnings.warn("layer_names: %s; the later layers are called %s, "
                      "in the order of the network's outputs (in a pattern, "
                      "'%s#*' selects the later ones; distinct names are "
                      "safer)"
                      % ("; ".join("%d layers are named %r" % (count, name)
                                   for name, count in renamed.items()),
                         ", ".join("%r" % own[layer] for layer in own
                                   if own[layer] != layer.name),
                         first),
                      UserWarning, stacklevel=3)
    counts = {}
    names = OrderedDict()
    for layer in layers:
        if layer.name is not None:
            names[layer] = own[layer]
            continue
        base = getattr(layer, "automatic_name", None) \
            or type(layer).__name__.lower()
        if base.endswith("layer") and len(base) > len("layer"):
            base = base[:-len("layer")]
        while True:
            counts[base] = counts.get(base, 0) + 1
            name = "%s%d" % (base, counts[base])
            if name not in taken:
                break
        taken[name] = layer
        names[layer] = name
    return names


def group_by_role(pairs):
    """Role -> the names with that role, in order, from (name, role)
    pairs; every role of :data:`ROLES` is a key.

    Examples
    --------
    >>> from regkit.layers import group_by_role
    >>> dict(group_by_role([("in", "input"), ("out", "output")]))
    {'input': ['in'], 'hidden': [], 'output': ['out'], 'internal': []}
    """
    by_role = OrderedDict((role, []) for role in ROLES)
    for name, role in pairs:
        by_role[role].append(name)
    return by_role


def compute_roles(all_layers, sources, merges=(), inputs=None):
    """Layer -> role, in the order of `all_layers` (one walked graph),
    with `sources` mapping each layer to the layers it reads, `merges`
    holding the layers that read a list and `inputs` the input layers
    (found by :func:`is_input_layer` if not given); see
    :func:`~regkit.layers.layer_roles` for the rule.

    Examples
    --------
    >>> from regkit.layers import (DenseLayer, InputLayer, compute_roles,
    ...                            get_all_layers, input_layers)
    >>> layers = get_all_layers(DenseLayer(InputLayer((None, 3)), 2))
    >>> sources = {layer: input_layers(layer) for layer in layers}
    >>> list(compute_roles(layers, sources).values())
    ['input', 'output']
    """
    if inputs is None:
        inputs = set(layer for layer in all_layers if is_input_layer(layer))
    roles, consumers = _roles(all_layers, sources, inputs)
    if any(_is_protocol_layer(layer, inputs) for layer in all_layers):
        _protocol_roles(all_layers, roles, consumers, set(merges), inputs)
    _loss_roles(all_layers, sources, roles, consumers, inputs)
    return roles


def _loss_roles(all_layers, sources, roles, consumers, inputs):
    """A graph given by its loss, in place: a scalar variable at the top
    of the graph (read by nothing or only by other scalars: a loss, a
    loss plus a penalty) is never an output or a hidden layer but
    "internal"; unless it computes the prediction itself (it reads a
    trainable parameter no other layer reads), the non-scalar variables
    it reads that are not inputs, are computed from a weight and that no
    other layer reads to compute more of the model (the model's
    prediction, not a hidden layer an activity term of the loss reads; an
    argmax or a metric that reads it does not count) are "output"; those
    computed from inputs alone (a one-hot target) are "internal".  The
    model's output is never hidden, whichever expression stands for the
    network, and no output role lands on a scalar or on a decision (an
    integer or boolean variable: an argmax, a comparison).  The inputs
    that meet no layer computed from a weight on their way to a loss (the
    targets) are "internal" too, where the model has other inputs.
    `consumers` maps each layer to the layers that read it (from
    :func:`_roles`)."""
    graph = [layer for layer in all_layers
             if isinstance(layer, VariableLayer) and layer not in inputs]
    if not graph:
        return

    def scalar(layer):
        return isinstance(layer, VariableLayer) and layer not in inputs \
            and layer.variable.ndim == 0

    def weights(layer):  # trainable: not counters or other state
        return [param for param, tags in layer.params.items()
                if "trainable" in tags]

    def floating(layer):  # a protocol layer: as if it were
        return not isinstance(layer, VariableLayer) or str(getattr(
            layer.variable, "dtype", "")).startswith("float")

    for layer in graph:  # a decision (an argmax, a comparison) has no units
        if not floating(layer) and roles[layer] == "output":
            roles[layer] = "internal"
    uses = {}  # layer -> whether it is computed from a trainable weight
    for layer in all_layers:  # inputs first
        uses[layer] = isinstance(layer, VariableLayer) \
            and layer not in inputs and bool(weights(layer) or any(
                uses.get(source) for source in sources[layer]))

    def goes_on(layer):  # computes more of the model: not a metric leaf
        return not scalar(layer) and floating(layer) and bool(
            weights(layer) or consumers.get(layer))

    read_by = {}
    for layer in graph:
        for param in weights(layer):
            read_by.setdefault(param, set()).add(layer)
    for layer in graph:
        if not scalar(layer) or not all(
                scalar(c) for c in consumers.get(layer, ())):
            continue
        roles[layer] = "internal"
        if any(read_by[param] == {layer} for param in weights(layer)):
            continue  # the prediction is computed inside this scalar
        for source in sources[layer]:
            if source in inputs or scalar(source):
                continue
            if not uses[source] or not floating(source):
                # a target computed from inputs (one-hot), or a decision
                if all(scalar(c) for c in consumers.get(source, ())):
                    roles[source] = "internal"
            elif not any(goes_on(c) for c in consumers.get(source, ())):
                # not a hidden layer an activity term of the loss reads
                roles[source] = "output"
    # the targets: inputs that meet no layer computed from a weight on
    # their way to a loss are the loss's, not the model's (no input noise
    # on the labels), if the model has inputs
    losses = set(layer for layer in graph if scalar(layer)
                 and roles[layer] == "internal")

    def feeds_model(start):
        seen, stack = set(), list(consumers.get(start, ()))
        while stack:
            layer = stack.pop()
            if layer in seen or layer in losses or not floating(layer):
                continue  # a loss, or a metric (a decision: no units)
            seen.add(layer)
            if not isinstance(layer, VariableLayer) or uses[layer]:
                return True  # combined with the model's values on the way
            stack.extend(consumers.get(layer, ()))
        return False
    targets = [layer for layer in all_layers
               if layer in inputs and isinstance(layer, VariableLayer)
               and consumers.get(layer) and not feeds_model(layer)]
    if losses and len(targets) < sum(1 for layer in all_layers
                                     if roles[layer] == "input"):
        for layer in targets:
            roles[layer] = "internal"


def _roles(all_layers, sources, inputs):
    """(layer -> role, layer -> the layers that read it) for the layers of
    one walked graph, by the graph alone: input layers, output layers
    (read by none) and hidden ones (see :func:`layer_roles`)."""
    consumers = {}
    for layer in all_layers:
        if layer not in inputs:
            for source in sources[layer]:
                consumers.setdefault(source, []).append(layer)
    roles = OrderedDict()
    for layer in all_layers:
        if layer in inputs:
            roles[layer] = "input"
        elif layer not in consumers:
            roles[layer] = "output"
        else:  # a residual sum nobody named joins layers: not a layer's units
            roles[layer] = "internal" if getattr(layer, "joins", False) \
                else "hidden"
    return roles, consumers


def _is_protocol_layer(layer, inputs):
    """Whether `layer` is neither regkit's nor a graph's variable, nor an
    input (one of `inputs`): a Lasagne layer (or one following its
    protocol)."""
    return not isinstance(layer, (Layer, VariableLayer)) \
        and layer not in inputs


def _protocol_roles(all_layers, roles, consumers, merges, inputs):
    """Give the Lasagne-protocol layers among `all_layers` the roles a
    Lasagne user means (see :func:`layer_roles`), in place."""
    for layer in all_layers:
        if _is_protocol_layer(layer, inputs) and roles[layer] == "hidden":
            roles[layer] = "internal"
    for layer in all_layers:  # each unit: the end of its in-place steps
        if not _computes_units(layer, inputs) or roles[layer] == "output":
            continue
        end = layer
        while len(consumers.get(end, ())) == 1:
            after = consumers[end][0]
            if not _is_protocol_layer(after, inputs) or after in merges \
                    or _computes_units(after, inputs) \
                    or _output_shape(after) != _output_shape(end) \
                    or (not after.params and _same_at_inference(after)):
                break
            end = after
        if roles[end] != "output":
            roles[end] = "hidden"


def _computes_units(layer, inputs):
    """Whether the protocol layer `layer` computes units of its own: it
    has a regularizable parameter (a weight), where batch normalization's
    or a bias layer's parameters are not (Lasagne's tags)."""
    return _is_protocol_layer(layer, inputs) and any(
        "regularizable" in tags for tags in layer.params.values())


def _output_shape(layer):
    try:
        return tuple(layer.output_shape)
    except Exception:  # a layer that cannot tell: never the same
        return object()


#: Layer -> whether its inference output is its input (found once).
_SAME_AT_INFERENCE = weakref.WeakKeyDictionary()


def is_training_only(layer, sources, merges=(), inputs=()):
    """Whether the layer is a dropout or noise layer of the network's own
    (Lasagne's ``DropoutLayer``, ``GaussianNoiseLayer`` or any like them):
    a parameter-free protocol layer with one input (`sources`, `merges`,
    `inputs`: as for :func:`compute_roles`) whose output is its input at
    inference
    and not in training.

    Examples
    --------
    >>> from regkit.layers import DenseLayer, InputLayer, is_training_only
    >>> layer = DenseLayer(InputLayer((None, 3)), 2)
    >>> is_training_only(layer, {layer: [layer.input_layer]})
    False
    """
    return _is_protocol_layer(layer, inputs) and not layer.params \
        and layer not in merges and sources[layer][0] is not None \
        and _same_at_inference(layer, True) \
        and not _same_at_inference(layer, False)


def _same_at_inference(layer, deterministic=True):
    """Whether `layer` (parameter-free, one input) returns its input
    unchanged when called as ``get_output_for(x, deterministic=...)``:
    with True, dropout, noise and identity layers; with False, only an
    identity (so a layer true for the first and false for the second is
    a dropout or noise layer).  Found once per state of the layer's
    attributes (``drop.p = 0.0`` later asks again)."""
    state = tuple((key, id(value)) for key, value in vars(layer).items()) \
        if hasattr(layer, "__dict__") else None
    try:
        known_state, known = _SAME_AT_INFERENCE[layer]
        if known_state == state and deterministic in known:
            return known[deterministic]
    except (KeyError, TypeError):
        pass
    shape = getattr(layer, "input_shape", None)
    ndim = len(shape) if isinstance(shape, (tuple, list)) else 2
    probe = backend.tensor_variable(backend.floatX, (False,) * ndim)
    try:
        same = layer.get_output_for(probe,
                                    deterministic=deterministic) is probe
    except Exception:  # it cannot be called so: it computes something
        same = False
    try:
        known_state, known = _SAME_AT_INFERENCE.get(layer, (None, {}))
        if known_state != state:
            known = {}
        known[deterministic] = same
        _SAME_AT_INFERENCE[layer] = (state, known)
    except TypeError:  # not weakly referable: found again next time
        pass
    return same
