"""Walking a layer graph: its layers, their parameters (by tag and by
name), and the names and roles of its layers.

Layer names
-----------
A layer without a name gets an automatic one from :func:`layer_names`: its
class name, lowercased, without the ``Layer`` suffix, and a 1-based count
of the layers of that kind in the order of :func:`get_all_layers`
(``input1``, ``dense1``, ``dense2``).  The names depend only on the
network's structure, so they are the same in every run and every process.
"""
from collections import OrderedDict
from collections.abc import Mapping

import warnings
import weakref

import numpy as np

from .. import backend
from .._checks import _check_tag_values, _is_collection, _short
from .base import Layer, _filter_tags, _unique, _unwrap
from .graph import VariableLayer, graph_layers
from .input import InputLayer

__all__ = ["get_all_layers", "get_all_params", "count_params",
           "get_all_param_values", "set_all_param_values", "layer_names",
           "layer_roles", "named_params", "training_only_layers",
           "STANDARD_TAGS"]


#: The tags :meth:`Layer.add_param` gives every parameter unless told not to.
STANDARD_TAGS = ("trainable", "regularizable")


def _check_tag_names(layers, tags, caller):
    """Reject ``tag=True`` on a name no parameter of `layers` carries.

    Such a filter selects nothing, so a misspelt tag
    (``regularisable=True``) would give an empty list and a zero penalty
    without a word.  The standard tags are always accepted (a network may
    have no trainable parameters left), and so is ``tag=False`` on any
    name: it excludes nothing, which generic code relies on
    (``frozen=False`` in a script that only some networks freeze).
    """
    _check_tag_values(tags, caller)
    unknown = [tag for tag, value in tags.items()
               if value and tag not in STANDARD_TAGS]
    if not unknown:
        return  # the common case: nothing to look up
    carried = _tags_in_use(layers)
    unknown = [tag for tag in unknown if tag not in carried]
    if unknown:
        raise ValueError("%s: no parameter of the given layers carries the "
                         "tag %r, so %s=True would select nothing (tags in "
                         "use: %s)" % (caller, unknown[0], unknown[0],
                                       ", ".join(sorted(carried))))


def _tags_in_use(layers):
    """The standard tags and every tag a parameter of `layers` carries."""
    carried = set(STANDARD_TAGS)
    for layer in layers:
        for have in layer.params.values():
            carried.update(have)
    return carried


#: What every function that takes a network accepts, for its errors.
_NETWORK_FORMS = ("a layer (regkit's, or one following Lasagne's layer "
                 "protocol), a list of layers, or a symbolic expression or "
                 "list of expressions")


def _is_layer(obj):
    """Whether `obj` is a regkit layer or follows Lasagne's layer protocol:
    a ``params`` mapping, ``get_params``, and ``input_layer``,
    ``input_layers`` or (an input layer) ``input_var``."""
    if isinstance(obj, (Layer, VariableLayer)):
        return True
    return not isinstance(obj, type) and hasattr(obj, "params") \
        and callable(getattr(obj, "get_params", None)) \
        and any(hasattr(obj, attr)
                for attr in ("input_layer", "input_layers", "input_var"))


def _is_input_layer(layer):
    """Whether `layer` is an input of its network (regkit's InputLayer, a
    graph's input variable, a protocol layer with ``input_var`` and no
    input layers)."""
    if isinstance(layer, InputLayer):
        return True
    if isinstance(layer, Layer):
        return False
    return getattr(layer, "input_var", None) is not None \
        and getattr(layer, "input_layer", None) is None \
        and not getattr(layer, "input_layers", None)


def _as_layer_list(layer_or_layers, caller, argname="layer"):
    """The layers that `layer_or_layers` stands for (see _NETWORK_FORMS):
    an expression, or a list of them, becomes the layers of its graph."""
    if _is_layer(layer_or_layers):
        return [layer_or_layers]
    if backend.is_tensor(layer_or_layers) \
            and not isinstance(layer_or_layers, backend.Constant):
        return graph_layers(layer_or_layers)
    if isinstance(layer_or_layers, np.ndarray) \
            or backend.is_tensor(layer_or_layers) \
            or not _is_collection(layer_or_layers):
        hint = ""
        if isinstance(layer_or_layers, Mapping) and layer_or_layers and all(
                _is_layer(value) for value in layer_or_layers.values()):
            # a model zoo's net dict (name -> layer)
            hint = ("; for a dict of layers (a model zoo's net) pass its "
                    "output layer, e.g. net['prob'], or list(net.values())")
        raise TypeError("%s: %s must be %s, got %s%s"
                        % (caller, argname, _NETWORK_FORMS,
                           _short(layer_or_layers), hint))
    if iter(layer_or_layers) is layer_or_layers:
        raise TypeError("%s: %s is a one-shot iterator (%s); pass a list of "
                        "layers: regkit walks a network more than once"
                        % (caller, argname, type(layer_or_layers).__name__))
    items = list(layer_or_layers)
    if items and all(backend.is_tensor(item)
                     and not isinstance(item, backend.Constant)
                     for item in items):
        return graph_layers(items)
    for item in items:
        if not _is_layer(item):
            raise TypeError("%s: %s must be %s; the list holds %s"
                            % (caller, argname, _NETWORK_FORMS,
                               _short(item)))
    return items


def get_all_layers(layer, treat_as_input=None):
    """Every layer below `layer` (a layer or a list), each after its inputs.

    The order is Lasagne's: a depth-first walk that takes the queried layers
    in the order given and the inputs of a merge layer in their order, and
    emits a layer once all its inputs have been emitted.  It runs on an
    explicit stack (no recursion limit), in time linear in the size of the
    graph, and stops on cycles: a layer met again while its inputs are
    still being walked is emitted at that point.

    Parameters
    ----------
    layer : Layer or list of Layer
    treat_as_input : iterable of Layer, optional
        Layers whose inputs are not walked (they are still returned).

    Returns
    -------
    list of Layer

    Examples
    --------
    >>> from regkit import DenseLayer, InputLayer, get_all_layers
    >>> l_in = InputLayer((None, 3), name="in")
    >>> l_hid = DenseLayer(l_in, 4, name="hid")
    >>> l_out = DenseLayer(l_hid, 2, name="out")
    >>> [l.name for l in get_all_layers(l_out)]
    ['in', 'hid', 'out']
    >>> [l.name for l in get_all_layers(l_out, treat_as_input=[l_hid])]
    ['hid', 'out']
    """
    queried = _as_layer_list(layer, "get_all_layers")
    expanded = set()  # layers whose inputs have been pushed
    if treat_as_input is not None:
        expanded.update(_as_layer_list(treat_as_input, "get_all_layers",
                                       "treat_as_input"))
    emitted = set()
    result = []
    stack = queried[::-1]  # the next layer to look at is stack[-1]
    while stack:
        current = stack[-1]
        if current is None:  # an input given only by its shape
            stack.pop()
        elif current not in expanded:
            expanded.add(current)
            stack.extend(reversed(_input_layers(current)))
        else:
            stack.pop()
            if current not in emitted:
                emitted.add(current)
                result.append(current)
    return result


def get_all_params(layer, unwrap_shared=True, **tags):
    """The parameters of every layer below `layer`, each once.

    Parameters
    ----------
    layer : Layer or list of Layer
    unwrap_shared : bool
        See :meth:`Layer.get_params`.
    **tags : bool
        Tag filter, see :meth:`Layer.get_params`.

    Returns
    -------
    list of variables, in the order of :func:`get_all_layers` and then of
    registration.

    Raises
    ------
    ValueError
        For ``tag=True`` on a tag name that no parameter below `layer`
        carries, other than the standard ``trainable`` and
        ``regularizable``: such a filter would select nothing, which is
        almost always a misspelt tag.  ``tag=False`` is accepted for any
        name (it excludes nothing).  The same check guards
        :func:`count_params`, :func:`get_all_param_values`,
        :func:`set_all_param_values` and :func:`named_params`.

    Examples
    --------
    >>> from regkit import DenseLayer, InputLayer, get_all_params
    >>> l_in = InputLayer((None, 3))
    >>> l_out = DenseLayer(DenseLayer(l_in, 4, name="hid"), 2, name="out")
    >>> [p.name for p in get_all_params(l_out, regularizable=True)]
    ['hid.W', 'out.W']
    """
    return _all_params(layer, unwrap_shared, tags, "get_all_params")


def _all_params(layer_or_layers, unwrap_shared, tags, caller):
    """:func:`get_all_params` on behalf of `caller` (named in errors)."""
    all_layers = get_all_layers(layer_or_layers)
    _check_tag_names(all_layers, tags, caller)
    params = []
    for each in all_layers:
        params.extend(each.get_params(unwrap_shared=unwrap_shared, **tags))
    return _unique(params)


def count_params(layer, **tags):
    """The number of scalar values in the parameters below `layer`.

    Examples
    --------
    >>> from regkit import DenseLayer, InputLayer, count_params
    >>> l_out = DenseLayer(InputLayer((None, 3)), 2)
    >>> count_params(l_out), count_params(l_out, regularizable=True)
    (8, 6)
    """
    return sum(int(np.prod(p.get_value(borrow=True).shape))
               for p in _all_params(layer, True, tags, "count_params"))


def get_all_param_values(layer, **tags):
    """The values (numpy arrays) of the parameters below `layer`.

    Examples
    --------
    >>> from regkit import DenseLayer, InputLayer, get_all_param_values
    >>> l_out = DenseLayer(InputLayer((None, 3)), 2)
    >>> [v.shape for v in get_all_param_values(l_out)]
    [(3, 2), (2,)]
    """
    return [p.get_value()
            for p in _all_params(layer, True, tags, "get_all_param_values")]


def set_all_param_values(layer, values, **tags):
    """Set the parameters below `layer` from a list of arrays.

    Every value is checked before any parameter is changed: on a count or
    shape mismatch nothing is set.  Values are cast to each parameter's
    dtype.

    Raises
    ------
    ValueError
        If the number of values or any shape does not match.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import DenseLayer, InputLayer, set_all_param_values
    >>> l_out = DenseLayer(InputLayer((None, 3)), 2)
    >>> set_all_param_values(l_out, [np.ones((3, 2)), np.zeros(2)])
    >>> float(l_out.W.get_value().sum())
    6.0
    """
    params = _all_params(layer, True, tags, "set_all_param_values")
    if not _is_collection(values) or not hasattr(values, "__len__"):
        raise TypeError("set_all_param_values: values must be a list of "
                        "arrays, got %r" % (values,))
    if len(values) != len(params):
        raise ValueError("set_all_param_values: got %d values for %d "
                         "parameters" % (len(values), len(params)))
    arrays = [_checked_value(param, value, index)
              for index, (param, value) in enumerate(zip(params, values))]
    for param, array in zip(params, arrays):
        param.set_value(array)


def _checked_value(param, value, index):
    """`value` as an array of the dtype of `param`, or an error naming
    the parameter: the same shape, finite, within the dtype's range, and
    of a kind the dtype keeps (no imaginary part dropped, no fraction cut
    off an integer)."""
    caller = "set_all_param_values"
    try:
        array = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise TypeError("%s: values[%d] for %s is not an array (%s)"
                        % (caller, index, param, exc)) from None
    if array.dtype.kind not in "biufc":
        raise TypeError("%s: values[%d] for %s must be a numeric array, got "
                        "dtype %s" % (caller, index, param, array.dtype))
    shape = param.get_value(borrow=True).shape
    if array.shape != shape:
        raise ValueError("%s: value for %s has shape %r, expected %r"
                         % (caller, param, array.shape, shape))
    target = np.dtype(param.dtype)
    if array.dtype.kind == "c" and target.kind != "c":
        raise ValueError("%s: value for %s is complex, but the parameter is "
                         "%s" % (caller, param, target))
    if array.dtype.kind in "fc" and not np.isfinite(array).all():
        raise ValueError("%s: value for %s holds NaN or infinity"
                         % (caller, param))
    if target.kind in "iu" and array.dtype.kind == "f" \
            and (array != np.round(array)).any():
        raise ValueError("%s: value for %s has fractional values, but the "
                         "parameter is %s" % (caller, param, target))
    if array.size and target.kind in "iuf" and array.dtype.kind in "iuf":
        info = np.iinfo(target) if target.kind in "iu" else np.finfo(target)
        low, high = array.min(), array.max()
        if low < info.min or high > info.max:
            raise ValueError("%s: value for %s spans [%g, %g], beyond the "
                             "range of %s" % (caller, param, low, high,
                                              target))
    return array.astype(target)


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
    layers = _as_layer_list(layers, "layer_names", "layers")
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
        base = getattr(layer, "_automatic_name", None) \
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


#: The roles :func:`layer_roles` gives layers.
_ROLES = ("input", "hidden", "output", "internal")


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
    queried = _as_layer_list(layer_or_layers, "layer_roles")
    return _network_layers(queried)[1]


def _input_layers(layer):
    """The layers `layer` reads (None for an input given by its shape), in
    order: a merge layer's list, or the values of Lasagne's dict form."""
    inputs = getattr(layer, "input_layers", None)
    if inputs is None:
        return [getattr(layer, "input_layer", None)]
    if isinstance(inputs, Mapping):
        return list(inputs.values())
    return list(inputs)


def _network_layers(queried, treat_as_input=None):
    """(layers, roles) of the network below `queried`, walked from its
    output layers: the same list (so the same automatic names) whether
    `queried` holds the output layers or every layer of the model in any
    order; roles maps each layer to its role, in the order of the list."""
    walked = get_all_layers(queried, treat_as_input)
    roles, consumers = _roles(walked)
    outputs = [layer for layer in walked if roles[layer] == "output"]
    if outputs != list(queried):
        rewalked = get_all_layers(outputs, treat_as_input) if outputs else []
        # a cycle can hide layers from every output layer: keep the first
        if set(rewalked) == set(walked):
            walked = rewalked
            roles = OrderedDict((layer, roles[layer]) for layer in walked)
    if any(_is_protocol_layer(layer) for layer in walked):
        _protocol_roles(walked, roles, consumers)
    return walked, roles


def _roles(all_layers):
    """(layer -> role, layer -> the layers that read it) for the layers of
    one walked graph, by the graph alone: input layers, output layers
    (read by none) and hidden ones (see :func:`layer_roles`)."""
    consumers = {}
    for layer in all_layers:
        if not _is_input_layer(layer):
            for source in _input_layers(layer):
                consumers.setdefault(source, []).append(layer)
    roles = OrderedDict()
    for layer in all_layers:
        if _is_input_layer(layer):
            roles[layer] = "input"
        else:
            roles[layer] = "hidden" if layer in consumers else "output"
    return roles, consumers


def _is_protocol_layer(layer):
    """Whether `layer` is neither regkit's nor a graph's variable, nor an
    input: a Lasagne layer (or one following its protocol)."""
    return not isinstance(layer, (Layer, VariableLayer)) \
        and not _is_input_layer(layer)


def _single_source(layer):
    """The one layer `layer` reads, or None (a merge layer, an input)."""
    if getattr(layer, "input_layers", None) is not None:
        return None
    return getattr(layer, "input_layer", None)


def _protocol_roles(all_layers, roles, consumers):
    """Give the Lasagne-protocol layers among `all_layers` the roles a
    Lasagne user means (see :func:`layer_roles`), in place."""
    for layer in all_layers:
        if _is_protocol_layer(layer) and roles[layer] == "hidden":
            roles[layer] = "internal"
    for layer in all_layers:  # each unit: the end of its in-place steps
        if not _computes_units(layer) or roles[layer] == "output":
            continue
        end = layer
        while len(consumers.get(end, ())) == 1:
            after = consumers[end][0]
            if not _is_protocol_layer(after) or _single_source(after) is None \
                    or _computes_units(after) \
                    or _output_shape(after) != _output_shape(end) \
                    or (not after.params and _same_at_inference(after)):
                break
            end = after
        if roles[end] != "output":
            roles[end] = "hidden"


def _computes_units(layer):
    """Whether the protocol layer `layer` computes units of its own: it
    has a regularizable parameter (a weight), where batch normalization's
    or a bias layer's parameters are not (Lasagne's tags)."""
    return _is_protocol_layer(layer) and any(
        "regularizable" in tags for tags in layer.params.values())


def _output_shape(layer):
    try:
        return tuple(layer.output_shape)
    except Exception:  # a layer that cannot tell: never the same
        return object()


#: Layer -> whether its inference output is its input (found once).
_SAME_AT_INFERENCE = weakref.WeakKeyDictionary()


def _same_at_inference(layer, deterministic=True):
    """Whether `layer` (parameter-free, one input) returns its input
    unchanged when called as ``get_output_for(x, deterministic=...)``:
    with True, dropout, noise and identity layers; with False, only an
    identity (so a layer true for the first and false for the second is
    a dropout or noise layer)."""
    try:
        return _SAME_AT_INFERENCE[layer][deterministic]
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
        _SAME_AT_INFERENCE.setdefault(layer, {})[deterministic] = same
    except TypeError:  # not weakly referable: found again next time
        pass
    return same


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
    layers = _network_layers(_as_layer_list(layer_or_layers,
                                            "training_only_layers"))[0]
    return [layer for layer in layers
            if _is_protocol_layer(layer) and not layer.params
            and _single_source(layer) is not None
            and _same_at_inference(layer, True)
            and not _same_at_inference(layer, False)]


def named_params(layer_or_layers, unwrap_shared=True, **tags):
    """The parameters below the given layer(s) with their full names.

    Parameters
    ----------
    layer_or_layers : Layer or list of Layer
    unwrap_shared : bool
        Replace an expression parameter by the shared variables inside it
        (each carries the expression's name).
    **tags : bool
        Tag filter, see :meth:`Layer.get_params`.

    Returns
    -------
    list of (name, parameter)
        In the order of :func:`get_all_params`, each parameter once (under
        the first name it was met with).  The name is
        ``"<layer name>.<param name>"``, with the automatic name of an
        unnamed layer (:func:`layer_names`); a parameter registered without
        a name is called by its position in its layer (``"dense1.0"``); a
        shared variable of a plain graph by its own name.  Names are
        unique: a parameter whose name an earlier one already has gets
        ``"#2"``, ``"#3"``... appended (``W``, ``W#2``), in walk order
        (the two shared variables of ``W = dot(W1, W2)`` are ``d.W`` and
        ``d.W#2``).  A glob of a regularizer's pattern matches such a name
        or its base (``"d.W"`` matches both), so only the keys of saved
        state (an L2-SP start, a power vector) see the suffix; those
        depend on the walk, so save and reload them with the same network
        argument.

    Examples
    --------
    >>> from regkit import DenseLayer, InputLayer, named_params
    >>> l_out = DenseLayer(InputLayer((None, 3)), 2)
    >>> [name for name, _ in named_params(l_out)]
    ['dense1.W', 'dense1.b']
    """
    return _named_params(layer_or_layers, unwrap_shared, tags,
                         "named_params")


def _named_params(layer_or_layers, unwrap_shared, tags, caller):
    """:func:`named_params` on behalf of `caller` (named in errors)."""
    all_layers = _network_layers(_as_layer_list(layer_or_layers, caller))[0]
    _check_tag_names(all_layers, tags, caller)
    names = _param_names(all_layers, layer_names(all_layers), unwrap_shared)
    kept = set()
    for layer in all_layers:
        kept.update(_unwrap(_filter_tags(layer.params, tags), unwrap_shared))
    return [(name, var) for var, name in names.items() if var in kept]


def _param_names(all_layers, names, unwrap_shared=True):
    """Parameter -> its unique full name, for the walked layers
    `all_layers` whose names are `names` (layer -> name).

    Every parameter of every layer is named, whatever its tags, so that a
    name does not depend on the tag filter a caller applies: the name of
    :func:`_param_name`, and where an earlier parameter already took that
    name (two shared variables called ``W`` in a plain graph, the two
    factors of ``W = dot(W1, W2)`` unwrapped), the next free of
    ``"<name>#2"``, ``"<name>#3"``... in walk order.  A parameter shared
    by several layers (tied weights) keeps the name it was first met
    with.  `unwrap_shared` names the shared variables inside expression
    parameters instead of the expressions."""
    result, taken = OrderedDict(), set()
    for layer in all_layers:
        for index, param in enumerate(layer.params):
            base = _param_name(layer, param, index, names[layer])
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


def _param_name(layer, param, index, layer_name):
    """The full name of the parameter `param` of `layer`: a graph's shared
    variable is called by its own name; a layer's parameter by the layer's
    name, a dot, and its name in the layer (its position if unnamed)."""
    if isinstance(layer, VariableLayer):
        if param.name is not None:
            return param.name
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
