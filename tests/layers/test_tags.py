"""The tags of a network's parameters (regkit/layers/tags.py)."""
import numpy as np
import pytest

from regkit.layers import DenseLayer, InputLayer
from regkit.layers.tags import STANDARD_TAGS, check_tag_names, tags_in_use

from conftest import mlp


def test_every_parameter_gets_the_standard_tags_unless_told_not_to():
    _, hid, out = mlp()
    assert STANDARD_TAGS == ("trainable", "regularizable")
    assert out.params[out.W] == {"trainable", "regularizable"}
    assert out.params[out.b] == {"trainable"}  # biases: no decay
    assert tags_in_use([hid, out]) == set(STANDARD_TAGS)


def test_tags_in_use_gathers_custom_tags_of_every_listed_layer():
    l_in = InputLayer((None, 2))
    layer = DenseLayer(l_in, 2)
    layer.add_param(np.ones(2), (2,), name="gain", scale=True)
    assert tags_in_use([layer]) == {"trainable", "regularizable", "scale"}
    assert tags_in_use([]) == set(STANDARD_TAGS)
    assert tags_in_use([l_in]) == set(STANDARD_TAGS)  # no parameters


def test_a_misspelt_tag_is_refused_naming_the_tags_in_use():
    _, _, out = mlp()
    with pytest.raises(ValueError, match=r"mine: no parameter .* tag "
                       r"'regularisable'.*tags in use: regularizable, "
                       r"trainable"):
        check_tag_names([out], {"regularisable": True}, "mine")


def test_standard_and_false_tags_always_pass():
    # a network may have no trainable parameter left, and tag=False
    # excludes nothing, so neither can select "nothing by mistake"
    l_in = InputLayer((None, 2))
    for tags in ({"trainable": True}, {"regularizable": True},
                 {"frozen": False}, {}):
        assert check_tag_names([l_in], tags, "mine") is None


def test_a_custom_tag_that_a_parameter_carries_passes():
    layer = DenseLayer(InputLayer((None, 2)), 2)
    layer.add_param(np.ones(2), (2,), name="gain", scale=True)
    assert check_tag_names([layer], {"scale": True}, "mine") is None


@pytest.mark.parametrize("tags", [{"trainable": "yes"}, {1: True}])
def test_tag_values_and_names_are_checked(tags):
    with pytest.raises((TypeError, ValueError), match="mine"):
        check_tag_names([InputLayer((None, 2))], tags, "mine")
