"""A minimal layer graph whose parameters carry tags.

This is the part of Lasagne's layer API that regularization needs: layers
that register their parameters with tags (``trainable``, ``regularizable``
or any name of your own), a walk over the graph below a layer, and the
symbolic outputs of the graph, named so that regularizers can choose them.

* :mod:`~regkit.layers.base`: :class:`Layer`, :class:`MergeLayer` and
  parameter creation;
* :mod:`~regkit.layers.input`, :mod:`~regkit.layers.dense`,
  :mod:`~regkit.layers.merge`: the layers;
* :mod:`~regkit.layers.walk`: the network argument and the walk;
  :mod:`~regkit.layers.roles`: layer names and roles;
  :mod:`~regkit.layers.network`: the one record of a network that every
  consumer reads (:func:`as_network`); :mod:`~regkit.layers.tags` and
  :mod:`~regkit.layers.params`: parameters by tag and by name, and their
  values; :mod:`~regkit.layers.helper` hands these on under Lasagne's
  module name;
* :mod:`~regkit.layers.hooks`: the hook protocol regularizers implement
  and the named outputs it works on; :mod:`~regkit.layers.outputs`:
  building them (``get_outputs``), and ``apply_regularizers`` on a graph
  built elsewhere.

The initialisers and the layer RNG (:mod:`regkit.init`) and the
nonlinearities are handed on here too, as they were before the package was
split.
"""
from ..init import (DEFAULT_SEED, Constant, GlorotUniform, get_rng, set_rng,
                    spawn_seed_sequence)
from ..nonlinearities import (identity, linear, rectify, sigmoid, softmax,
                              tanh)
from .base import Layer, MergeLayer, filter_tags, unique
from .dense import DenseLayer
from .graph import VariableLayer, graph_layers
from .units import Unit, find_units
from .input import InputLayer
from .network import (Network, as_network, layer_roles, param_name,
                      training_only_layers)
from .params import (count_params, get_all_param_values, get_all_params,
                     named_params, set_all_param_values)
from .roles import (ROLES, compute_roles, group_by_role, is_training_only,
                    layer_names)
from .tags import STANDARD_TAGS, check_tag_names, tags_in_use
from .walk import (NETWORK_FORMS, as_layer_list, get_all_layers,
                   input_arg, input_layers, is_input_layer, is_layer,
                   read_inputs, walk)
from .merge import ElemwiseSumLayer
from .hooks import LayerOutputs, NetworkOutputs, OutputHook, as_hooks
from .outputs import (RegularizedGraph, apply_regularizers, get_output,
                      get_outputs)

__all__ = [
    "Layer", "MergeLayer", "InputLayer", "DenseLayer", "ElemwiseSumLayer",
    "GlorotUniform", "Constant", "get_rng", "set_rng", "spawn_seed_sequence",
    "DEFAULT_SEED", "get_all_layers", "get_all_params", "count_params",
    "get_all_param_values", "set_all_param_values", "STANDARD_TAGS",
    "layer_names", "layer_roles", "named_params", "training_only_layers",
    "LayerOutputs",
    "NetworkOutputs", "OutputHook", "get_output", "get_outputs",
    "apply_regularizers", "RegularizedGraph", "as_hooks",
    "VariableLayer", "graph_layers", "Unit", "find_units",
    "Network", "as_network", "param_name",
    "ROLES", "compute_roles", "group_by_role", "is_training_only",
    "check_tag_names", "tags_in_use", "filter_tags", "unique", "NETWORK_FORMS",
    "as_layer_list", "input_layers", "is_input_layer", "is_layer",
    "read_inputs", "input_arg", "walk", "rectify", "sigmoid", "tanh", "softmax", "identity", "linear",
]
