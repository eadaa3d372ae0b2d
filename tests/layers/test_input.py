"""InputLayer (regkit/layers/input.py)."""
import numpy as np
import pytest

from regkit import backend
from regkit.layers import InputLayer

T = backend.tensor


def test_input_layer():
    l_in = InputLayer((None, 4), name="x")
    assert l_in.input_var.ndim == 2
    assert l_in.input_var.dtype == backend.floatX
    assert l_in.output_shape == (None, 4)
    var = T.tensor3("v")
    assert InputLayer((None, 2, 3), input_var=var).input_var is var
    with pytest.raises(ValueError, match="dimensions"):
        InputLayer((None, 4), input_var=var)
    with pytest.raises(TypeError, match="input_var"):
        InputLayer((None, 4), input_var=np.zeros((2, 4)))
    with pytest.raises(ValueError, match="positive"):
        InputLayer((None, -4))
    with pytest.raises(ValueError, match=r"input_var has shape \(None, 1\), "
                       r"expected \(None, 4\)"):
        InputLayer((None, 4), input_var=T.col())
    assert InputLayer((None, 1), input_var=T.col()).output_shape == (None, 1)
    assert "InputLayer" in repr(l_in) and "'x'" in repr(l_in)


def test_input_layer_default_variable_is_lasagnes():
    assert InputLayer((1, 2)).input_var.broadcastable == (True, False)
    assert InputLayer((None, 1, 5)).input_var.broadcastable == (
        False, True, False)
    assert InputLayer((None, 2), name="foo").input_var.name == "foo.input"
    assert InputLayer((None, 2)).input_var.name == "input"
    assert InputLayer((None, 2)).input_var.dtype == backend.floatX
