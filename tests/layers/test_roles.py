"""Layer names (regkit/layers/roles.py)."""
import pytest

from regkit.layers import (DenseLayer, ElemwiseSumLayer, InputLayer,
                           get_all_layers, get_outputs, layer_names)


def test_layer_names_automatic_and_stable():
    l_in = InputLayer((None, 3))
    h1 = DenseLayer(l_in, 3)
    h2 = DenseLayer(h1, 3, name="dense2")  # taken: automatic names skip it
    h3 = DenseLayer(h2, 3)
    merged = ElemwiseSumLayer([h3, h1])
    names = layer_names(get_all_layers(merged))
    assert list(names.values()) == ["input1", "dense1", "dense2", "dense3",
                                    "elemwisesum1"]
    assert list(get_outputs(merged))[0] == "input1:out"
    assert layer_names(get_all_layers(merged)) == names


def test_duplicate_layer_names_are_made_unique_with_a_warning():
    # legal in Lasagne (name="hidden" in a loop): the later layers get #2...
    l_in = InputLayer((None, 3), name="x")
    with pytest.warns(UserWarning, match="2 layers are named 'x'.*'x#2'"):
        outputs = get_outputs(DenseLayer(l_in, 2, name="x"))
    assert list(outputs) == ["x:out", "x#2:pre", "x#2:out"]
