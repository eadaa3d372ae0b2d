"""The walk of a layer graph: what counts as a layer, the network
argument every function takes, and the layers below the output(s) in
Lasagne's order.

The walk reads each layer's inputs through one function (`sources`), so
that :class:`~regkit.layers.network.Network` reads them once per layer and
every later pass over the same network reuses what it read.
"""
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from .. import backend
from .._checks import is_collection, short_repr
from .base import Layer
from .graph import VariableLayer, graph_layers
from .input import InputLayer

__all__ = ["get_all_layers", "NETWORK_FORMS", "is_layer", "is_input_layer",
           "as_layer_list", "input_layers", "read_inputs", "input_arg", "walk"]


#: What every function that takes a network accepts, for its errors.
NETWORK_FORMS = ("a layer (regkit's, or one following Lasagne's layer "
                 "protocol), a list of layers, or a symbolic expression or "
                 "list of expressions")


def is_layer(obj):
    """Whether `obj` is a regkit layer or follows Lasagne's layer protocol:
    a ``params`` mapping, ``get_params``, and ``input_layer``,
    ``input_layers`` or (an input layer) ``input_var``.

    Examples
    --------
    >>> from regkit.layers import InputLayer, is_layer
    >>> is_layer(InputLayer((None, 3))), is_layer([InputLayer((None, 3))])
    (True, False)
    """
    if isinstance(obj, (Layer, VariableLayer)):
        return True
    return not isinstance(obj, type) and hasattr(obj, "params") \
        and callable(getattr(obj, "get_params", None)) \
        and any(hasattr(obj, attr)
                for attr in ("input_layer", "input_layers", "input_var"))


def is_input_layer(layer, read=None):
    """Whether `layer` is an input of its network (regkit's InputLayer, a
    graph's input variable, a protocol layer with ``input_var`` and no
    input layers); `read` is what :func:`read_inputs` gave for it, if the
    caller has it (the layer's inputs are then not read again).

    Examples
    --------
    >>> from regkit.layers import DenseLayer, InputLayer, is_input_layer
    >>> l_in = InputLayer((None, 3))
    >>> is_input_layer(l_in), is_input_layer(DenseLayer(l_in, 2))
    (True, False)
    """
    if isinstance(layer, InputLayer):
        return True
    if isinstance(layer, Layer) or getattr(layer, "input_var", None) is None:
        return False
    sources, form = read_inputs(layer) if read is None else read
    return sources == [None] if form is None else not sources


def as_layer_list(layer_or_layers, caller, argname="layer"):
    """The layers that a network argument stands for, or a TypeError
    naming `caller` and `argname`.

    Parameters
    ----------
    layer_or_layers : layer, list of layers, expression or list of them
        Any of :data:`NETWORK_FORMS`; an expression, or a list of them,
        becomes the layers of its graph (:func:`graph_layers`).
    caller, argname : str
        Named in the error.

    Returns
    -------
    list

    Examples
    --------
    >>> from regkit.layers import InputLayer, as_layer_list
    >>> l_in = InputLayer((None, 3))
    >>> as_layer_list(l_in, "mine") == [l_in]
    True
    >>> as_layer_list(3, "mine")
    Traceback (most recent call last):
    ...
    TypeError: mine: layer must be a layer (regkit's, ...
    """
    if is_layer(layer_or_layers):
        return [layer_or_layers]
    if backend.is_tensor(layer_or_layers) \
            and not isinstance(layer_or_layers, backend.Constant):
        return graph_layers(layer_or_layers)
    if isinstance(layer_or_layers, np.ndarray) \
            or backend.is_tensor(layer_or_layers) \
            or not is_collection(layer_or_layers):
        hint = ""
        if isinstance(layer_or_layers, Mapping) and layer_or_layers and all(
                is_layer(value) for value in layer_or_layers.values()):
            # a model zoo's net dict (name -> layer)
            hint = ("; for a dict of layers (a model zoo's net) pass its "
                    "output layer, e.g. net['prob'], or list(net.values())")
        raise TypeError("%s: %s must be %s, got %s%s"
                        % (caller, argname, NETWORK_FORMS,
                           short_repr(layer_or_layers), hint))
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
        if not is_layer(item):
            raise TypeError("%s: %s must be %s; the list holds %s"
                            % (caller, argname, NETWORK_FORMS,
                               short_repr(item)))
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
    queried = as_layer_list(layer, "get_all_layers")
    if treat_as_input is not None:
        treat_as_input = as_layer_list(treat_as_input, "get_all_layers",
                                        "treat_as_input")
    return walk(queried, input_layers, treat_as_input)


def walk(queried, sources, treat_as_input=None):
    """The walk of :func:`get_all_layers` from the layers `queried` (a
    list), reading each layer's inputs with ``sources(layer)`` (a list,
    None for an input given by its shape); the inputs of the layers in
    `treat_as_input` are not read.

    Examples
    --------
    >>> from regkit.layers import DenseLayer, InputLayer, input_layers, walk
    >>> l_in = InputLayer((None, 3), name="in")
    >>> [l.name for l in walk([DenseLayer(l_in, 2, name="d")], input_layers)]
    ['in', 'd']
    """
    expanded = set(treat_as_input or ())  # layers whose inputs are pushed
    emitted = set()
    result = []
    stack = queried[::-1]  # the next layer to look at is stack[-1]
    while stack:
        current = stack[-1]
        if current is None:  # an input given only by its shape
            stack.pop()
        elif current not in expanded:
            expanded.add(current)
            stack.extend(reversed(sources(current)))
        else:
            stack.pop()
            if current not in emitted:
                emitted.add(current)
                result.append(current)
    return result


def input_layers(layer):
    """The layers `layer` reads (None for an input given by its shape), in
    order: a merge layer's list, or the values of Lasagne's dict form.

    Examples
    --------
    >>> from regkit.layers import DenseLayer, InputLayer, input_layers
    >>> l_in = InputLayer((None, 3))
    >>> input_layers(DenseLayer(l_in, 2)) == [l_in], input_layers(l_in)
    (True, [None])
    """
    return read_inputs(layer)[0]


def read_inputs(layer):
    """``(input_layers(layer), form)``, reading the layer once: `form` is
    None for a layer with one ``input_layer``, ``"list"`` for a merge
    layer's list, and the tuple of keys of Lasagne's dict form.

    Examples
    --------
    >>> from regkit.layers import DenseLayer, InputLayer, read_inputs
    >>> l_in = InputLayer((None, 3))
    >>> read_inputs(DenseLayer(l_in, 2)) == ([l_in], None)
    True
    """
    inputs = getattr(layer, "input_layers", None)
    if inputs is None:
        return [getattr(layer, "input_layer", None)], None
    if isinstance(inputs, Mapping):
        return list(inputs.values()), tuple(inputs)
    return list(inputs), "list"


def input_arg(values, form):
    """What ``get_output_for`` takes for the input `values` of a layer
    whose inputs have the `form` of :func:`read_inputs`: the one value,
    the list, or Lasagne's dict by the same keys.

    Examples
    --------
    >>> from regkit.layers import input_arg
    >>> input_arg([1], None), input_arg([1, 2], "list")
    (1, [1, 2])
    >>> dict(input_arg([1, 2], ("a", "b")))
    {'a': 1, 'b': 2}
    """
    if form is None:
        return values[0]
    if form == "list":
        return list(values)
    return OrderedDict(zip(form, values))
