"""Lasagne's ``layers.helper`` names, in one place.

The walk (:mod:`~regkit.layers.walk`), the parameters
(:mod:`~regkit.layers.params`), the layer names and roles
(:mod:`~regkit.layers.roles`, :mod:`~regkit.layers.network`) live in
their own modules; this module hands them on under Lasagne's module name,
so ``from regkit.layers.helper import get_all_params`` keeps working.

Examples
--------
>>> from regkit.layers.helper import get_all_layers
>>> from regkit.layers import InputLayer
>>> len(get_all_layers(InputLayer((None, 3))))
1
"""
from .network import layer_roles, training_only_layers
from .params import (count_params, get_all_param_values, get_all_params,
                     named_params, set_all_param_values)
from .roles import layer_names
from .tags import STANDARD_TAGS
from .walk import get_all_layers

__all__ = ["get_all_layers", "get_all_params", "count_params",
           "get_all_param_values", "set_all_param_values", "layer_names",
           "layer_roles", "named_params", "training_only_layers",
           "STANDARD_TAGS"]
