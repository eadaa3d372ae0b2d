"""The base classes of layers, and how a layer creates its parameters.

A layer registers its parameters with tags (``trainable``,
``regularizable`` or any name of your own) in :meth:`Layer.add_param`.  A
parameter is named ``"<layer name>.<param name>"`` (``"hid1.W"``) when its
layer has a name, else just ``"<param name>"``.  Regkit never renames a
variable you pass in: the qualified name lives in :attr:`Layer.param_names`.

Examples
--------
>>> import numpy as np
>>> from regkit.layers import Layer
>>> layer = Layer((None, 3), name="hid")
>>> W = layer.add_param(np.zeros((3, 2)), (3, 2), name="W")
>>> layer.param_names[W]
'hid.W'
"""
from collections import OrderedDict

import numpy as np

from .. import backend
from .._checks import check_tag_values, is_int, short_repr

__all__ = ["Layer", "MergeLayer", "filter_tags", "unique"]


def _as_shape(shape, argname, owner, allow_none=True):
    """Validate a shape: a tuple of positive ints (or None where allowed)."""
    if not isinstance(shape, (tuple, list)):
        raise TypeError("%s: %s must be a tuple of ints, got %r"
                        % (owner, argname, shape))
    out = []
    for dim in shape:
        if dim is None and allow_none:
            out.append(None)
            continue
        if not is_int(dim):
            raise TypeError("%s: every dimension of %s must be an int%s, "
                            "got %r" % (owner, argname,
                                        " or None" if allow_none else "",
                                        shape))
        if dim <= 0:
            raise ValueError("%s: every dimension of %s must be positive, "
                             "got %r" % (owner, argname, tuple(shape)))
        out.append(int(dim))
    return tuple(out)


def _checked_output_shape(layer, shape):
    """`shape`, from ``layer.get_output_shape_for``, or a ValueError if a
    dimension is symbolic (shapes hold ints and None, as in Lasagne)."""
    if any(isinstance(dim, backend.Variable) for dim in shape):
        raise ValueError(
            "%s (name=%r): get_output_shape_for returned a symbolic shape "
            "%r; output shapes must hold ints for known sizes and None for "
            "sizes known only at run time"
            % (type(layer).__name__, layer.name, tuple(shape)))
    return tuple(shape)


class Layer(object):
    """Base class of every layer with one input.

    Parameters
    ----------
    incoming : Layer or tuple
        The layer feeding this one, or the shape of its input (a tuple of
        ints, ``None`` for a dimension unknown until run time).
    name : str, optional
        Name of the layer; parameter names are prefixed with it.

    Attributes
    ----------
    params : OrderedDict
        Parameter -> set of its tag names, in registration order.
    param_names : OrderedDict
        Parameter -> its qualified name (``"hid1.W"``).

    Examples
    --------
    >>> from regkit import Layer
    >>> class Double(Layer):
    ...     def get_output_for(self, input, **kwargs):
    ...         return 2 * input
    >>> Double((None, 3)).output_shape
    (None, 3)
    """

    def __init__(self, incoming, name=None):
        if isinstance(incoming, Layer):
            self.input_layer = incoming
            self.input_shape = incoming.output_shape
        elif isinstance(incoming, (tuple, list)):
            self.input_layer = None
            self.input_shape = _as_shape(incoming, "incoming",
                                         type(self).__name__)
        else:
            raise TypeError("%s: incoming must be a Layer or a shape tuple, "
                            "got %r" % (type(self).__name__, incoming))
        _start_layer(self, name)

    @property
    def name(self):
        """The layer's name (or None); parameter names are prefixed with
        it, so it cannot change once a parameter was added."""
        return self.__dict__.get("_name", self.__dict__.get("name"))

    @name.setter
    def name(self, value):
        owner = type(self).__name__
        value = _check_name(value, owner)
        if self.__dict__.get("params") and value != self.name:
            raise ValueError(
                "%s: cannot rename layer %r to %r after its parameters were "
                "added (their names carry the layer's name); give the name "
                "when building the layer" % (owner, self.name, value))
        self.__dict__["_name"] = value

    def __repr__(self):
        return "%s(name=%r, output_shape=%r)" % (
            type(self).__name__, self.name, self.output_shape)

    @property
    def output_shape(self):
        """The shape of this layer's output (``None`` where unknown)."""
        return _checked_output_shape(
            self, self.get_output_shape_for(self.input_shape))

    def get_output_shape_for(self, input_shape):
        """Output shape for a given input shape; the identity by default."""
        return input_shape

    def get_output_for(self, input, **kwargs):
        """Symbolic output for a symbolic input; subclasses implement it."""
        raise NotImplementedError(
            "%s must implement get_output_for" % type(self).__name__)

    def get_outputs_for(self, input, **kwargs):
        """Named symbolic outputs, a dict with at least the key ``"out"``.

        :func:`get_outputs` prefixes each key with the layer's name.  The
        default is ``{"out": self.get_output_for(input, **kwargs)}``;
        layers with useful intermediate values (see :class:`DenseLayer`)
        add them here.
        """
        return OrderedDict(out=self.get_output_for(input, **kwargs))

    def add_param(self, spec, shape, name=None, **tags):
        """Create or register a parameter and tag it.

        Parameters
        ----------
        spec : numpy array, shared variable, expression or callable
            A numpy array becomes a new shared variable (a copy, of the
            array's dtype); a callable ``f(shape)`` returns such an array,
            cast to ``floatX``; a shared variable or symbolic expression is
            used as it is.
        shape : tuple of int
            The expected shape; every dimension must be positive.
        name : str, optional
            Registered as ``"<layer name>.<name>"`` if the layer is named.
        **tags : bool
            ``trainable`` and ``regularizable`` default to True; only the
            tags whose value is true are stored.

        Returns
        -------
        The parameter variable.

        Raises
        ------
        ValueError
            If the array, the shared value or the expression does not have
            `shape` (or its number of dimensions).

        Examples
        --------
        >>> import numpy as np
        >>> from regkit import Layer
        >>> layer = Layer((None, 3), name="hid")
        >>> W = layer.add_param(np.zeros((3, 2)), (3, 2), name="W")
        >>> layer.param_names[W], sorted(layer.params[W])
        ('hid.W', ['regularizable', 'trainable'])
        """
        owner = "%s.add_param" % type(self).__name__
        shape = _as_shape(shape, "shape", owner, allow_none=False)
        if name is not None and not isinstance(name, str):
            raise TypeError("%s: name must be a string, got %r"
                            % (owner, name))
        if name is not None and self.name is not None:
            name = "%s.%s" % (self.name, name)
        param = _create_param(spec, shape, name, owner)
        tags = dict({"trainable": True, "regularizable": True}, **tags)
        self.params[param] = {tag for tag, value in tags.items() if value}
        self.param_names[param] = name
        return param

    def get_params(self, unwrap_shared=True, **tags):
        """This layer's parameters, filtered by tags.

        Parameters
        ----------
        unwrap_shared : bool
            Replace a parameter that is a symbolic expression by the shared
            variables it is built from.
        **tags : bool
            ``tag=True`` keeps the parameters with that tag, ``tag=False``
            drops them; several tags must all hold.

        Returns
        -------
        list of variables, in registration order, each once.

        Notes
        -----
        This per-layer query does not check tag names: a custom tag may be
        carried by other layers of the network only.  The network-level
        functions (:func:`get_all_params`, :func:`named_params`, the
        ``regularize_*`` helpers, weight regularizers) raise ValueError for
        ``tag=True`` on a name that none of their parameters carries.

        Examples
        --------
        >>> from regkit import DenseLayer, InputLayer
        >>> layer = DenseLayer((None, 3), 2)
        >>> [p.name for p in layer.get_params(regularizable=True)]
        ['W']
        """
        check_tag_values(tags, "%s.get_params" % type(self).__name__)
        return unique(_unwrap(filter_tags(self.params, tags), unwrap_shared))


class MergeLayer(Layer):
    """Base class of layers with several inputs.

    Parameters
    ----------
    incomings : sequence of Layer or tuple
        The layers (or input shapes) feeding this one, in order.
    name : str, optional

    Examples
    --------
    >>> from regkit import MergeLayer
    >>> class Add(MergeLayer):
    ...     def get_output_shape_for(self, input_shapes):
    ...         return input_shapes[0]
    ...     def get_output_for(self, inputs, **kwargs):
    ...         return inputs[0] + inputs[1]
    >>> Add([(None, 2), (None, 2)]).output_shape
    (None, 2)
    """

    def __init__(self, incomings, name=None):
        owner = type(self).__name__
        if isinstance(incomings, (Layer, str)) or not hasattr(
                incomings, "__iter__"):
            raise TypeError("%s: incomings must be a list of layers or shape "
                            "tuples, got %r" % (owner, incomings))
        incomings = list(incomings)
        if not incomings:
            raise ValueError("%s: incomings must not be empty" % owner)
        self.input_layers = []
        self.input_shapes = []
        for incoming in incomings:
            if isinstance(incoming, Layer):
                self.input_layers.append(incoming)
                self.input_shapes.append(incoming.output_shape)
            elif isinstance(incoming, (tuple, list)):
                self.input_layers.append(None)
                self.input_shapes.append(
                    _as_shape(incoming, "incomings", owner))
            else:
                raise TypeError("%s: every item of incomings must be a Layer "
                                "or a shape tuple, got %r" % (owner, incoming))
        _start_layer(self, name)

    @property
    def output_shape(self):
        return _checked_output_shape(
            self, self.get_output_shape_for(self.input_shapes))

    def get_output_shape_for(self, input_shapes):
        """Output shape for a list of input shapes; subclasses implement it."""
        raise NotImplementedError(
            "%s must implement get_output_shape_for" % type(self).__name__)

    def get_output_for(self, inputs, **kwargs):
        """Symbolic output for a list of inputs; subclasses implement it."""
        raise NotImplementedError(
            "%s must implement get_output_for" % type(self).__name__)


def _start_layer(layer, name):
    """What every layer starts with, whatever its inputs: its checked
    `name` and no parameters yet (``params``: parameter -> tags,
    ``param_names``: parameter -> its name in the layer)."""
    layer.name = _check_name(name, type(layer).__name__)
    layer.params = OrderedDict()
    layer.param_names = OrderedDict()


def _check_name(name, owner):
    if name is not None and not isinstance(name, str):
        raise TypeError("%s: name must be a string or None, got %r"
                        % (owner, name))
    return name


def _create_param(spec, shape, name, owner):
    if isinstance(spec, backend.SharedVariable):
        _check_shape(spec, shape, owner, "shared variable %s" % spec)
        value_shape = tuple(spec.get_value(borrow=True).shape)
        if value_shape != shape:
            raise ValueError("%s: shared variable %s has shape %r, expected "
                             "%r" % (owner, spec, value_shape, shape))
        return spec
    if backend.is_tensor(spec):
        _check_shape(spec, shape, owner, "expression %s" % spec)
        return spec
    if isinstance(spec, np.ndarray):
        array = spec
    elif callable(spec):
        try:
            array = np.asarray(spec(shape))
        except Exception as exc:
            kind = type(exc) if isinstance(exc, (TypeError, ValueError)) \
                else ValueError
            raise kind("%s: the initializer %s for %r failed on shape %r: "
                       "%s: %s" % (owner, short_repr(spec), name, shape,
                                   type(exc).__name__, exc)) from exc
        if array.dtype.kind in "biuf":
            array = array.astype(backend.floatX)
    else:
        raise TypeError("%s: spec for %r must be a numpy array, a shared "
                        "variable, a symbolic expression or a callable, got "
                        "%r" % (owner, name, spec))
    if array.dtype.kind not in "biuf":
        raise TypeError("%s: spec for %r has dtype %s, expected a number "
                        "dtype" % (owner, name, array.dtype))
    if array.shape != shape:
        raise ValueError("%s: spec for %r has shape %r, expected %r"
                         % (owner, name, array.shape, shape))
    return backend.shared(array.copy(), name=name)


def _check_shape(var, shape, owner, what):
    """ValueError unless the tensor `var` has ``len(shape)`` dimensions and
    each size known before run time agrees with `shape` (None: any size).
    `what` names `var` in the message."""
    if var.ndim != len(shape):
        raise ValueError("%s: %s has %d dimensions, expected %d (shape %r)"
                         % (owner, what, var.ndim, len(shape), shape))
    known = backend.static_shape(var)
    if any(size is not None and wanted is not None and size != wanted
           for size, wanted in zip(known, shape)):
        raise ValueError("%s: %s has shape %r, expected %r (None: any size)"
                         % (owner, what, known, shape))


def filter_tags(params, tags):
    """The parameters of the mapping `params` (parameter -> set of tags)
    whose tags satisfy `tags` (tag=True: must have it, tag=False: must
    not), in order.

    Examples
    --------
    >>> from regkit.layers import filter_tags
    >>> filter_tags({"W": {"regularizable"}, "b": set()},
    ...             {"regularizable": True})
    ['W']
    """
    wanted = set(tag for tag, value in tags.items() if value)
    unwanted = set(tag for tag, value in tags.items() if not value)
    return [param for param, have in params.items()
            if wanted <= have and not (unwanted & have)]


def _unwrap(params, unwrap_shared):
    if not unwrap_shared:
        return params
    out = []
    for param in params:
        if isinstance(param, backend.SharedVariable):
            out.append(param)
        else:
            out.extend(var for var in backend.graph_inputs([param])
                       if isinstance(var, backend.SharedVariable))
    return out


def unique(items):
    """`items` without repeats, in the order of their first appearance.

    Examples
    --------
    >>> from regkit.layers import unique
    >>> unique([3, 1, 3, 2, 1])
    [3, 1, 2]
    """
    seen = set()
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out
