"""The layer that holds a network's symbolic input."""

from .. import backend
from .base import Layer, _as_shape, _check_shape, _start_layer

__all__ = ["InputLayer"]


class InputLayer(Layer):
    """The entry point of a network: holds the symbolic input variable.

    Parameters
    ----------
    shape : tuple
        Shape of the input, ``None`` for dimensions known only at run time
        (usually the batch size).
    input_var : symbolic tensor, optional
        Defaults to a new tensor variable of dtype ``floatX`` with
        ``len(shape)`` dimensions, broadcastable where `shape` has a 1 (as
        in Lasagne), and named ``"<name>.input"`` (``"input"`` when the
        layer has no name).
    name : str, optional

    Examples
    --------
    >>> from regkit import InputLayer
    >>> l_in = InputLayer((None, 4), name="x")
    >>> l_in.input_var.ndim, l_in.input_var.name, l_in.output_shape
    (2, 'x.input', (None, 4))
    >>> InputLayer((1, 4)).input_var.broadcastable
    (True, False)
    """

    def __init__(self, shape, input_var=None, name=None):
        self.shape = _as_shape(shape, "shape", "InputLayer")
        _start_layer(self, name)
        if input_var is None:
            input_var = backend.tensor_variable(
                backend.floatX, [dim == 1 for dim in self.shape],
                "input" if self.name is None else "%s.input" % self.name)
        elif not backend.is_tensor(input_var):
            raise TypeError("InputLayer: input_var must be a symbolic tensor, "
                            "got %r" % (input_var,))
        else:
            _check_shape(input_var, self.shape, "InputLayer", "input_var")
        self.input_var = input_var
        self.input_layer = None
        self.input_shape = self.shape

    @property
    def output_shape(self):
        return self.shape
