"""regkit: regularization for symbolic Theano and PyTensor graphs.

Penalties (:mod:`regkit.penalties`) turn a tensor into a scalar; the helpers
in :mod:`regkit.regularization` sum a penalty over tensors, layers or a
whole network; :mod:`regkit.layers` is the tagged-parameter layer graph they
walk; :mod:`regkit.regularizers` are named, weighted terms and graph changes
over it.  The backend (Theano or PyTensor) is chosen at import, see
:mod:`regkit.backend`.  Every public name is handed on here, so scripts can
use ``regkit.<name>`` throughout.

Examples
--------
>>> import numpy as np
>>> import regkit
>>> l_in = regkit.InputLayer((None, 3))
>>> l_out = regkit.DenseLayer(l_in, 2, W=np.ones((3, 2)))
>>> float(regkit.regularize_network_params(l_out, regkit.l2).eval())
6.0
"""
from . import backend
from . import apply  # noqa: F401  (the old name of regkit.regularization)
from . import pymc  # noqa: F401  (regkit.pymc.potential; imports PyMC lazily)
from .penalties import (l1, l2, elastic_net, group_lasso, orthogonality,
                        total_variation, kl_sparsity)
from .constraints import norm_constraint, total_norm_constraint
from .init import (DEFAULT_SEED, GlorotUniform, Constant, get_rng, set_rng,
                   spawn_seed_sequence)
from .losses import categorical_crossentropy, gradient_penalty, smooth_labels
from .regularization import (apply_penalty, regularize_layer_params,
                             regularize_layer_params_weighted,
                             regularize_network_params, sum_terms,
                             apply_regularizers, RegularizedGraph)
from .layers import (Layer, MergeLayer, InputLayer, DenseLayer,
                     ElemwiseSumLayer, STANDARD_TAGS, layer_names,
                     layer_roles, named_params, training_only_layers,
                     LayerOutputs, NetworkOutputs,
                     OutputHook, get_all_layers,
                     get_all_params, count_params, get_all_param_values,
                     set_all_param_values, get_output, get_outputs,
                     VariableLayer, graph_layers, Network, as_network)
from .regularizers import (Regularizer, WeightL2, WeightL1, HiddenL1,
                           HiddenL2, KLSparsity, Contractive, RecurrentNorm,
                           RecurrentState, BernoulliDropout, GaussianNoise,
                           MaxNorm, DecoupledWeightDecay, L2SP,
                           ConfidencePenalty, NonNeg, UnitNorm, MinMaxNorm,
                           AlphaDropout, mc_predict, R1Penalty,
                           JacobianProjection, SpectralNorm, SRIP,
                           SpectralNormalization, DropConnect,
                           StochasticDepth,
                           ParamUpdates, REGISTRY, from_kwargs, total_penalty,
                           penalty_terms, apply_update_hooks, serialize,
                           audit, Audit,
                           deserialize, random_updates, dropout_mask)
from . import schedules
from .schedules import step_counter
from . import parametrizations
from .parametrizations import (Orthogonal, Parametrized, WeightNorm,
                               parametrize)

__version__ = "0.1.0"

__all__ = [
    "backend", "l1", "l2", "elastic_net", "group_lasso", "orthogonality",
    "total_variation", "kl_sparsity", "norm_constraint",
    "total_norm_constraint",
    "apply_penalty", "regularize_layer_params",
    "regularize_layer_params_weighted", "regularize_network_params",
    "sum_terms",
    "Layer", "MergeLayer", "InputLayer", "DenseLayer", "ElemwiseSumLayer",
    "GlorotUniform", "Constant", "get_rng", "set_rng", "spawn_seed_sequence",
    "DEFAULT_SEED",
    "STANDARD_TAGS", "layer_names", "layer_roles", "named_params",
    "training_only_layers",
    "LayerOutputs", "NetworkOutputs", "OutputHook",
    "get_all_layers", "get_all_params", "count_params",
    "get_all_param_values", "set_all_param_values",
    "get_output", "get_outputs", "VariableLayer", "graph_layers",
    "Network", "as_network",
    "apply_regularizers", "RegularizedGraph",
    "Regularizer", "WeightL2", "WeightL1", "HiddenL1", "HiddenL2",
    "KLSparsity", "Contractive", "RecurrentNorm", "RecurrentState",
    "BernoulliDropout", "GaussianNoise", "MaxNorm", "DecoupledWeightDecay",
    "L2SP", "ConfidencePenalty", "NonNeg", "UnitNorm", "MinMaxNorm",
    "AlphaDropout", "mc_predict", "R1Penalty", "JacobianProjection",
    "SpectralNorm", "SRIP", "SpectralNormalization", "DropConnect",
    "StochasticDepth", "gradient_penalty",
    "smooth_labels", "categorical_crossentropy", "ParamUpdates", "REGISTRY",
    "from_kwargs", "total_penalty", "penalty_terms", "apply_update_hooks",
    "audit", "Audit",
    "schedules", "step_counter",
    "parametrizations", "parametrize", "Parametrized", "WeightNorm",
    "Orthogonal",
    "serialize", "deserialize", "random_updates", "dropout_mask",
    "__version__",
]
