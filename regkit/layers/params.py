"""A network's parameters: by tag, by name, and their values.

Each function takes any network form and reads the parameters from the
network's record (:func:`~regkit.layers.as_network`), so the names and
the order are the same everywhere.
"""
import numpy as np

from .._checks import is_collection
from .network import as_network

__all__ = ["get_all_params", "count_params", "get_all_param_values",
           "set_all_param_values", "named_params"]


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


def _all_params(network, unwrap_shared, tags, caller):
    """:func:`get_all_params` on behalf of `caller` (named in errors)."""
    return as_network(network, caller).params(
        unwrap_shared=unwrap_shared, caller=caller, **tags)


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
    if not is_collection(values) or not hasattr(values, "__len__"):
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
    return as_network(layer_or_layers, "named_params").named_params(
        unwrap_shared=unwrap_shared, caller="named_params", **tags)
