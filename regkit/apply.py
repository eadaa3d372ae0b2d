"""The old name of :mod:`regkit.regularization`; importing from it keeps
working (``from regkit.apply import regularize_network_params``)."""
from .regularization import (apply_penalty, regularize_layer_params,
                             regularize_layer_params_weighted,
                             regularize_network_params, sum_terms)

__all__ = ["apply_penalty", "regularize_layer_params",
           "regularize_layer_params_weighted", "regularize_network_params",
           "sum_terms"]
