"""The bad-input sweep: each public entry point, given the wrong kind or
value of thing, raises TypeError or ValueError naming the argument."""
import re

import numpy as np
import pytest

import regkit
from regkit import backend

from conftest import mlp

T = backend.tensor
L_IN, HID, OUT = mlp((3, 2, 2), seed=0)
OBJ = np.array([object()])

# (call, exception, text the message must contain)
CASES = [
    (lambda: regkit.l2(None), TypeError, "x must be a tensor"),
    (lambda: regkit.l1("W"), TypeError, "x must be a tensor"),
    (lambda: regkit.l2({"W": 1}), TypeError, "x must be a tensor"),
    (lambda: regkit.l2(OBJ), TypeError, "x must be a tensor"),
    (lambda: regkit.l2(HID), TypeError, "x must be a tensor"),
    (lambda: regkit.l2(T.imatrix()), TypeError, "x must have a float dtype"),
    (lambda: regkit.elastic_net(np.ones(2), l1_ratio=np.nan), ValueError,
     "l1_ratio"),
    (lambda: regkit.group_lasso(np.ones(2), axis="0"), TypeError, "axis"),
    (lambda: regkit.orthogonality(np.float64(1)), ValueError, "x must have"),
    (lambda: regkit.kl_sparsity(np.ones((2, 2)), target=1.0), ValueError,
     "target"),
    (lambda: regkit.apply_penalty(None, regkit.l2), TypeError,
     "tensor_or_tensors"),
    (lambda: regkit.apply_penalty("W", regkit.l2), TypeError,
     "tensor_or_tensors"),
    (lambda: regkit.apply_penalty(HID, regkit.l2), TypeError,
     "regularize_layer_params"),
    (lambda: regkit.apply_penalty([HID.W], "l2"), TypeError, "penalty"),
    (lambda: regkit.regularize_layer_params(np.ones(2), regkit.l2),
     TypeError, "layer"),
    (lambda: regkit.regularize_network_params(T.constant(1.0), regkit.l2),
     TypeError, "layer"),
    (lambda: regkit.get_all_params([HID, "W"]), TypeError,
     "the list holds 'W'"),
    (lambda: regkit.regularize_layer_params(HID, regkit.l2, tags="x"),
     TypeError, "tags"),
    (lambda: regkit.regularize_layer_params_weighted([HID], regkit.l2),
     TypeError, "layers"),
    (lambda: regkit.regularize_layer_params_weighted({HID: np.nan},
                                                     regkit.l2),
     ValueError, "coefficient"),
    (lambda: regkit.regularize_layer_params_weighted({HID: "1"}, regkit.l2),
     TypeError, "coefficient"),
    (lambda: regkit.regularize_network_params(None, regkit.l2), TypeError,
     "layer"),
    (lambda: regkit.DenseLayer(L_IN, 0), ValueError, "num_units"),
    (lambda: regkit.DenseLayer(L_IN, "2"), TypeError, "num_units"),
    (lambda: regkit.DenseLayer(L_IN, 2, W=np.ones((4, 2))), ValueError,
     "shape"),
    (lambda: regkit.InputLayer(None), TypeError, "shape"),
    (lambda: regkit.get_all_layers("hid"), TypeError, "layer"),
    (lambda: regkit.set_all_param_values(HID, [np.ones(2)]), ValueError,
     "values"),
    (lambda: regkit.WeightL2(weight=-1), ValueError, "weight"),
    (lambda: regkit.WeightL2(weight=np.inf), ValueError, "weight"),
    (lambda: regkit.WeightL2(weight=None), TypeError, "weight"),
    (lambda: regkit.WeightL2(pattern=""), ValueError, "pattern"),
    (lambda: regkit.WeightL2(pattern=[]), ValueError, "pattern"),
    (lambda: regkit.WeightL2(pattern=3), TypeError, "pattern"),
    (lambda: regkit.WeightL2(tags="regularizable"), TypeError, "tags"),
    (lambda: regkit.BernoulliDropout(weight=1.0), ValueError, "weight"),
    (lambda: regkit.BernoulliDropout(weight=np.nan), ValueError, "weight"),
    (lambda: regkit.GaussianNoise(weight=-0.1), ValueError, "weight"),
    (lambda: regkit.MaxNorm(weight=0), ValueError, "weight"),
    (lambda: regkit.from_kwargs(HID, weigth_l2=1), TypeError, "weight_l2"),
    (lambda: regkit.from_kwargs(HID, dropout=0.5), TypeError, "dropout"),
    (lambda: regkit.total_penalty("weight_l2", HID, {}), TypeError,
     "regularizers"),
    (lambda: regkit.apply_update_hooks([], HID, "updates"), TypeError,
     "updates"),
    (lambda: regkit.norm_constraint(HID, 1.0), TypeError, "tensor_var"),
    (lambda: regkit.total_norm_constraint(HID.W, 1.0), TypeError,
     "tensor_vars"),
    (lambda: regkit.deserialize(None), TypeError, "data"),
    (lambda: regkit.serialize("weight_l2"), TypeError, "Regularizer"),
    # mismatched shapes and dimensions
    (lambda: regkit.get_output(HID, T.tensor3()), ValueError,
     "the input for InputLayer(name='in'"),
    (lambda: regkit.get_output(HID, np.ones((4, 5))), ValueError,
     "has shape (4, 5), expected (None, 3)"),
    (lambda: regkit.get_output(HID, "x"), TypeError, "the input for"),
    (lambda: regkit.get_output(HID, {"in": T.matrix()}), TypeError,
     "the keys of inputs must be layers"),
    (lambda: regkit.InputLayer((None, 3), input_var=T.tensor3()),
     ValueError, "input_var"),
    (lambda: regkit.InputLayer((None, -3)), ValueError, "shape"),
    (lambda: regkit.DenseLayer(L_IN, 2, b=np.ones(3)), ValueError, "'b'"),
    (lambda: regkit.DenseLayer(L_IN, 2.5), TypeError, "num_units"),
    (lambda: regkit.DenseLayer(L_IN, 2, nonlinearity="relu"), TypeError,
     "nonlinearity"),
    (lambda: regkit.ElemwiseSumLayer([HID, L_IN]), ValueError, "shapes"),
    (lambda: regkit.set_all_param_values(HID, [np.ones((2, 2)),
                                               np.ones(2)]),
     ValueError, "value for hid.W has shape (2, 2)"),
    (lambda: regkit.group_lasso(np.ones((2, 2)), axis=5), ValueError,
     "axis 5"),
    (lambda: regkit.group_lasso(T.scalar()), ValueError, "x must have"),
    (lambda: regkit.total_variation(np.ones(3)), ValueError, "x must have"),
    (lambda: regkit.l2(np.ones(2, dtype=bool)), TypeError, "float dtype"),
    (lambda: regkit.kl_sparsity(np.full((2, 2), 0.5), target=np.nan),
     ValueError, "target"),
    (lambda: regkit.norm_constraint(T.vector(), 1.0), ValueError,
     "norm_axes"),
    (lambda: regkit.norm_constraint(T.matrix(), 1.0, norm_axes=(3,)),
     ValueError, "norm_axes"),
    (lambda: regkit.norm_constraint(T.matrix(), -1.0), ValueError,
     "max_norm"),
    (lambda: regkit.apply_penalty([HID.W, None], regkit.l2), TypeError,
     "item 1 of tensor_or_tensors"),
    (lambda: regkit.regularize_layer_params_weighted({HID: T.vector()},
                                                     regkit.l2),
     ValueError, "must be a scalar"),
    (lambda: regkit.apply_update_hooks([regkit.MaxNorm()], HID,
                                       [(HID.W, T.vector())]),
     ValueError, "the new value of hid.W (item 0) has 1 dimensions"),
    # unknown tags: a tag=True filter no parameter satisfies
    (lambda: regkit.regularize_layer_params(
        HID, regkit.l2, tags={"regularisable": True}), ValueError,
     "'regularisable'"),
    (lambda: regkit.regularize_network_params(
        OUT, regkit.l1, tags={"trainable": True, "frozen": True}),
     ValueError, "'frozen'"),
    (lambda: regkit.get_all_params(OUT, regularisable=True), ValueError,
     "'regularisable'"),
    (lambda: regkit.count_params(OUT, trainabel=True), ValueError,
     "'trainabel'"),
    (lambda: regkit.WeightL2(tags={"regularisable": True}).loss(OUT, {}),
     ValueError, "WeightL2: no parameter"),
    # misspelt constructor arguments given through from_kwargs
    (lambda: regkit.from_kwargs(OUT, hidden_dropout={"wieght": 0.5}),
     TypeError, "hidden_dropout got 'wieght'"),
    (lambda: regkit.from_kwargs(OUT, weight_l2={"weight": 1, "tag": {}}),
     TypeError, "did you mean 'tags'"),
    (lambda: regkit.BernoulliDropout(weight="0.5"), TypeError, "weight"),
    # the rest of the public surface
    (lambda: regkit.layers.GlorotUniform(gain=-1), ValueError, "gain"),
    (lambda: regkit.layers.GlorotUniform(gain="tanh"), TypeError, "gain"),
    (lambda: regkit.layers.GlorotUniform(rng="seed"), TypeError, "rng"),
    (lambda: regkit.layers.Constant("0"), TypeError, "value"),
    (lambda: regkit.layers.Constant(np.nan), ValueError, "value"),
    (lambda: regkit.layers.Layer(None), TypeError, "incoming"),
    (lambda: regkit.layers.MergeLayer([HID, "x"]), TypeError, "incomings"),
    (lambda: regkit.layers.MergeLayer([]), ValueError, "incomings"),
    (lambda: regkit.layers.set_rng("seed"), TypeError, "rng"),
    (lambda: regkit.layers.layer_names([HID, "x"]), TypeError, "layers"),
    (lambda: regkit.layers.layer_roles(None), TypeError, "layer"),
    (lambda: regkit.as_network(None), TypeError, "as_network: layer must be"),
    (lambda: regkit.Network(None), TypeError, "Network: queried must be"),
    (lambda: regkit.training_only_layers("net"), TypeError,
     "training_only_layers: layer"),
    (lambda: regkit.layers.named_params(OUT, regularisable=True), ValueError,
     "'regularisable'"),
    (lambda: regkit.get_all_param_values("hid"), TypeError, "layer"),
    (lambda: regkit.get_outputs(None), TypeError, "layer_or_layers"),
    (lambda: regkit.get_outputs(OUT, regularizers=None), TypeError,
     "regularizers"),
    (lambda: regkit.nonlinearities.rectify(None), TypeError, "x must be"),
    (lambda: regkit.nonlinearities.tanh(HID), TypeError, "x must be"),
    (lambda: regkit.nonlinearities.sigmoid("x"), TypeError, "x must be"),
    (lambda: regkit.nonlinearities.identity(None), TypeError, "x must be"),
    (lambda: regkit.layers.LayerOutputs(HID, None, "hidden"), TypeError,
     "name"),
    (lambda: regkit.layers.LayerOutputs(HID, "hid", "middle"), ValueError,
     "role"),
    (lambda: regkit.nonlinearities.softmax(T.vector()), ValueError,
     "x must be a (batch, classes) matrix"),
    (lambda: regkit.apply.sum_terms(None), TypeError, "terms"),
    (lambda: regkit.apply.sum_terms([HID]), TypeError, "terms"),
    (lambda: regkit.penalties.as_float_tensor(None, "f"), TypeError,
     "x must be a tensor"),
    (lambda: regkit.constraints.default_norm_axes("2"), TypeError, "ndim"),
    (lambda: regkit._checks.check_positive("1", "f", "max_norm"),
     TypeError, "max_norm"),
    (lambda: regkit.total_norm_constraint([], 1.0), ValueError,
     "tensor_vars"),
    (lambda: regkit.norm_constraint(T.matrix(), 1.0, epsilon=-1),
     ValueError, "epsilon"),
    (lambda: regkit.WeightL1(weight=-1), ValueError, "weight"),
    (lambda: regkit.HiddenL1(pattern=5), TypeError, "pattern"),
    (lambda: regkit.HiddenL2(weight=np.nan), ValueError, "weight"),
    (lambda: regkit.KLSparsity(target="0.1"), TypeError, "target"),
    (lambda: regkit.Contractive(weight="x"), TypeError, "weight"),
    (lambda: regkit.RecurrentNorm(weight=-1), ValueError, "weight"),
    (lambda: regkit.RecurrentState(weight=np.inf), ValueError, "weight"),
    (lambda: regkit.MaxNorm(norm_axes="0"), TypeError, "norm_axes"),
    (lambda: regkit.MaxNorm(epsilon=-1), ValueError, "epsilon"),
    (lambda: regkit.BernoulliDropout(weight=0.5, rng=-1), TypeError, "rng"),
    (lambda: regkit.ParamUpdates("x"), TypeError, "updates"),
    (lambda: regkit.ParamUpdates([(T.matrix(), T.matrix())]), TypeError,
     "shared variable"),
    (lambda: regkit.ParamUpdates([], network="x"), TypeError, "network"),
    (lambda: regkit.total_penalty([regkit.HiddenL1()], OUT, None),
     TypeError, "outputs"),
    (lambda: regkit.random_updates(HID), TypeError, "random_updates"),
    (lambda: regkit.deserialize({"name": "weight_l2",
                                 "config": {"bogus": 1}}),
     TypeError, "'bogus'"),
    # hardening, round two
    (lambda: regkit.deserialize({"name": "weight_l2", "config": []}),
     TypeError, "config must be a dict"),
    (lambda: regkit.deserialize({"name": "weight_l2", "config": 0}),
     TypeError, "config must be a dict"),
    (lambda: regkit.deserialize({"name": "weight_l2", "config": ""}),
     TypeError, "config must be a dict"),
    (lambda: regkit.deserialize({"name": "weight_l2",
                                 "config": {"weight": 10 ** 400}}),
     ValueError, "weight must be finite"),
    (lambda: regkit.norm_constraint(T.matrix(), 10 ** 400), ValueError,
     "max_norm must be finite"),
    (lambda: regkit.elastic_net(np.ones(2), l1_ratio=10 ** 400), ValueError,
     "l1_ratio must be finite"),
    (lambda: regkit.ElemwiseSumLayer([HID, HID], coeffs=np.nan), ValueError,
     "coeffs must be finite"),
    (lambda: regkit.ElemwiseSumLayer([HID, HID], coeffs=1j), TypeError,
     "coeffs"),
    (lambda: regkit.from_kwargs(iter([OUT]), hidden_dropout=0.5), TypeError,
     "from_kwargs: network is a one-shot iterator"),
    (lambda: regkit.apply_update_hooks([], (l for l in [OUT]), {}),
     TypeError, "apply_update_hooks: network is a one-shot iterator"),
    (lambda: regkit.ParamUpdates([(HID.b, HID.b), (HID.b, HID.b)]),
     ValueError, "hid.b is updated twice"),
    (lambda: regkit.ParamUpdates([(HID.b, None)]), TypeError,
     "must be a tensor or a number"),
    (lambda: regkit.get_all_params(OUT, regularizable="false"), TypeError,
     "must be True or False"),
    (lambda: regkit.set_rng(-1), ValueError, "set_rng: an int seed"),
    (lambda: regkit.get_output(OUT, {regkit.InputLayer((None, 3)):
                                     T.matrix()}),
     ValueError, "not a layer of the network"),
    (lambda: regkit.set_all_param_values(HID, [np.full((3, 2), np.nan),
                                               np.zeros(2)]),
     ValueError, "NaN or infinity"),
    (lambda: regkit.set_all_param_values(HID, [np.full((3, 2), None),
                                               np.zeros(2)]),
     TypeError, "set_all_param_values: values[0]"),
    (lambda: regkit.l2(T.matrix(dtype="float16")), TypeError,
     "regkit supports float32 and float64"),
    (lambda: regkit.kl_sparsity(np.zeros((0, 2))), ValueError,
     "no examples"),
    (lambda: regkit.Regularizer(weight=-1), ValueError, "weight"),
    (lambda: regkit.Regularizer.build(None), ValueError,
     "not a registered regularizer name"),
    (lambda: regkit.NetworkOutputs().add({"x:out": 1}), TypeError,
     "expected a LayerOutputs"),
    (lambda: regkit.from_kwargs(OUT, regularizers=["weight_l2"]), TypeError,
     "Regularizer objects"),
    (lambda: regkit.from_kwargs(OUT, rng="1"), TypeError, "rng"),
    (lambda: regkit.dropout_mask(T.matrix(), 1.0), ValueError,
     "dropout_mask: p"),
    (lambda: regkit.dropout_mask(T.matrix(), "0.5"), TypeError,
     "dropout_mask: p"),
    (lambda: regkit.dropout_mask(None, 0.5), TypeError,
     "dropout_mask: reference must be a tensor"),
    (lambda: regkit.dropout_mask(T.imatrix(), 0.5), TypeError,
     "float dtype"),
    (lambda: regkit.dropout_mask(T.matrix(), 0.5, rng=-2), TypeError,
     "dropout_mask: rng"),
    (lambda: regkit.get_all_params(object()), TypeError,
     "layer must be a layer (regkit's, or one following Lasagne's layer "
     "protocol), a list of layers, or a symbolic expression or list of "
     "expressions"),
    (lambda: regkit.total_penalty([], {"out": 1}, {}), TypeError,
     "network must be a layer"),
    (lambda: regkit.graph_layers(None), TypeError,
     "graph_layers: outputs must be"),
    (lambda: regkit.graph_layers([T.matrix(), "x"]), TypeError,
     "graph_layers: outputs must be"),
    (lambda: regkit.VariableLayer("x", [], {}, None), TypeError,
     "VariableLayer: variable must be"),
    (lambda: regkit.apply_regularizers(None, []), TypeError,
     "apply_regularizers: outputs must be"),
    (lambda: regkit.apply_regularizers(T.matrix(), "dropout"), TypeError,
     "regularizers"),
    (lambda: regkit.DecoupledWeightDecay(weight=1.0), ValueError,
     "must be below 1"),
    (lambda: regkit.L2SP(start=[1.0]), TypeError, "L2SP: start"),
    (lambda: regkit.orthogonality(np.eye(2), off_diagonal="yes"), TypeError,
     "off_diagonal"),
    (lambda: regkit.AlphaDropout(weight=1.0), ValueError,
     "AlphaDropout: weight"),
    (lambda: regkit.mc_predict(T.matrix(), [1], n=3), TypeError,
     "mc_predict: inputs"),
    (lambda: regkit.mc_predict(T.matrix(), {}, n=1), ValueError,
     "mc_predict: n"),
    (lambda: regkit.mc_predict(T.matrix(), {}, n=2.5), TypeError,
     "mc_predict: n"),
    (lambda: regkit.mc_predict("p", {}), TypeError, "prediction"),
    (lambda: regkit.R1Penalty(wrt=3), TypeError, "wrt"),
    (lambda: regkit.JacobianProjection(n_proj=0), ValueError, "n_proj"),
    (lambda: regkit.SpectralNorm(n_iter=0), ValueError, "n_iter"),
    (lambda: regkit.SpectralNormalization(n_iter=[1]), TypeError, "n_iter"),
    (lambda: regkit.StochasticDepth(weight=1.0), ValueError,
     "StochasticDepth: weight"),
    (lambda: regkit.StochasticDepth(branch="last"), TypeError, "branch"),
    (lambda: regkit.DropConnect(weight=1.0), ValueError,
     "DropConnect: weight"),
    (lambda: regkit.DropConnect(rng="x"), TypeError, "rng"),
    (lambda: regkit.DropConnect(tags="W"), TypeError, "tags"),
    (lambda: regkit.SRIP(n_iter="1"), TypeError, "n_iter"),
    (lambda: regkit.SRIP(rng=1.5), TypeError, "rng"),
    (lambda: regkit.JacobianProjection(n_proj=1.5), TypeError, "n_proj"),
    (lambda: regkit.JacobianProjection(rng=-1), TypeError, "rng"),
    (lambda: regkit.gradient_penalty("D", T.matrix(), T.matrix()),
     TypeError, "gradient_penalty: critic"),
    (lambda: regkit.gradient_penalty(lambda x: x, T.matrix(), T.vector()),
     ValueError, "gradient_penalty: real and fake"),
    (lambda: regkit.gradient_penalty(lambda x: 1, T.matrix(), T.matrix()),
     TypeError, "critic must return a tensor"),
    (lambda: regkit.gradient_penalty(lambda x: x, T.matrix(), T.matrix(),
                                     rng="a"), TypeError, "rng"),
    (lambda: regkit.L2SP(start={"W": "x"}), TypeError, "L2SP: start['W']"),
    (lambda: regkit.L2SP(start={"W": [np.nan]}), ValueError, "NaN"),
    (lambda: regkit.ConfidencePenalty(weight=-1.0), ValueError, "weight"),
    (lambda: regkit.NonNeg(pattern=3), TypeError, "pattern"),
    (lambda: regkit.UnitNorm(weight=0.0), ValueError, "UnitNorm: weight"),
    (lambda: regkit.UnitNorm(norm_axes="0"), TypeError, "norm_axes"),
    (lambda: regkit.MinMaxNorm(weight=1.5), ValueError,
     "MinMaxNorm: weight"),
    (lambda: regkit.MinMaxNorm(min_value=2.0, max_value=1.0), ValueError,
     "min_value"),
    (lambda: regkit.smooth_labels([0, 1], 2, 0.1), TypeError,
     "smooth_labels: y"),
    (lambda: regkit.smooth_labels(T.ivector(), 1, 0.1), ValueError,
     "num_classes"),
    (lambda: regkit.smooth_labels(T.ivector(), 3, 1.0), ValueError, "eps"),
    (lambda: regkit.smooth_labels(T.tensor3(), 3, 0.1), ValueError,
     "smooth_labels: y"),
    (lambda: regkit.categorical_crossentropy(T.vector(), T.matrix()),
     ValueError, "categorical_crossentropy"),
    (lambda: regkit.categorical_crossentropy("p", T.matrix()), TypeError,
     "predictions"),
    (lambda: regkit.DecoupledWeightDecay(weight=-0.1), ValueError,
     "weight"),
    # counts have an upper bound
    (lambda: regkit._checks.check_count(101, "SRIP", "n_iter", 1,
                                         maximum=100),
     ValueError, "SRIP: n_iter must be at most 100, got 101"),
    (lambda: regkit._checks.check_count(10 ** 400, "f", "n", 1,
                                         maximum=10),
     ValueError, "f: n must be at most 10, got 1000"),
    (lambda: regkit.mc_predict(regkit.get_output(HID),
                               {L_IN.input_var: np.ones((1, 3))}, n=100001),
     ValueError, "mc_predict: n must be at most 100000, got 100001"),
    # mc_predict's inputs and mode
    (lambda: regkit.mc_predict(regkit.get_output(HID), {}), ValueError,
     "mc_predict: inputs has no value for in.input"),
    (lambda: regkit.mc_predict(regkit.get_output(HID),
                               {"in": np.ones((1, 3))}),
     TypeError, "mc_predict: the keys of inputs must be symbolic input "
     "variables (not names, shared variables or constants), got str 'in'"),
    (lambda: regkit.mc_predict(regkit.get_output(HID),
                               {HID.W: np.ones((3, 2))}),
     TypeError, "mc_predict: the keys of inputs must be symbolic"),
    (lambda: regkit.mc_predict(regkit.get_output(HID),
                               {L_IN.input_var: np.ones((1, 3))},
                               mode="nonsense"),
     ValueError, "mc_predict: mode must be one of '"),
    (lambda: regkit.mc_predict(regkit.get_output(HID),
                               {L_IN.input_var: np.ones((1, 3))}, mode=3),
     TypeError, "mc_predict: mode must be None, a mode name or a mode "
     "object"),
    # norm_axes of the norm hooks: at construction, then against each
    # parameter when the updates are built
    (lambda: regkit.UnitNorm(norm_axes=(0, 0)), ValueError,
     "UnitNorm: norm_axes (0, 0) names an axis twice"),
    (lambda: regkit.MinMaxNorm(norm_axes=[1, -1, 1]), ValueError,
     "MinMaxNorm: norm_axes [1, -1, 1] names an axis twice"),
    (lambda: regkit.UnitNorm(norm_axes=10 ** 400), ValueError,
     "UnitNorm: norm_axes must be axes of a tensor, each in [-64, 64)"),
    (lambda: regkit.MinMaxNorm(norm_axes=(0, -65)), ValueError,
     "MinMaxNorm: norm_axes must be axes of a tensor"),
    (lambda: regkit.apply_update_hooks([regkit.UnitNorm(norm_axes=7)], HID,
                                       {HID.W: HID.W * 1}),
     ValueError, "UnitNorm: norm_axes (7,) is out of range for parameter "
     "'hid.W', which has 2 dimensions"),
    (lambda: regkit.apply_update_hooks([regkit.MinMaxNorm(norm_axes=-3)],
                                       HID, {HID.W: HID.W * 1}),
     ValueError, "MinMaxNorm: norm_axes (-3,) is out of range for "
     "parameter 'hid.W', which has 2 dimensions"),
    (lambda: regkit.apply_update_hooks([regkit.MaxNorm(norm_axes=2)], HID,
                                       {HID.W: HID.W * 1}),
     ValueError, "MaxNorm: norm_axes (2,) is out of range for parameter "
     "'hid.W', which has 2 dimensions"),
    (lambda: regkit.apply_update_hooks([regkit.UnitNorm(norm_axes=(0, -2))],
                                       HID, {HID.W: HID.W * 1}),
     ValueError, "UnitNorm: norm_axes of the 2-d parameter 'hid.W' (0, -2) "
     "names an axis twice"),
    (lambda: regkit.step_counter(name=None), TypeError,
     "step_counter: name must be a string"),
    (lambda: regkit.penalty_terms([regkit.WeightL2()], OUT, None), TypeError,
     "penalty_terms: outputs must be the dict"),
    (lambda: regkit.penalty_terms("weight_l2", OUT, {}), TypeError,
     "penalty_terms"),
    (lambda: regkit.penalty_terms([regkit.WeightL2()], OUT, {},
                                  step=1.5), TypeError,
     "step must be an integer scalar"),
    (lambda: regkit.total_penalty([regkit.WeightL2()], OUT, {},
                                  step=T.fscalar()), TypeError,
     "step must be an integer scalar"),
    (lambda: regkit.WeightL2(weight=regkit.schedules.Exponential(-1, 0.5)),
     ValueError, "WeightL2: weight Exponential(start=-1.0, rate=0.5) "
     "reaches -1"),
    (lambda: regkit.GaussianNoise(weight=regkit.schedules.Constant(-0.1)),
     ValueError, "GaussianNoise: weight Constant(value=-0.1) reaches -0.1"),
    (lambda: regkit.SpectralNormalization(
        weight=regkit.schedules.Constant(0.1)),
     TypeError, "SpectralNormalization: weight must be a number"),
    (lambda: regkit.get_outputs(OUT, step=2.0), TypeError,
     "get_outputs: step must be an integer scalar"),
    (lambda: regkit.get_output(OUT, step=-2), ValueError,
     "get_output: step must be between 0 and 2**52, got -2"),
    (lambda: regkit.apply_regularizers(OUT, [], step=[1]), TypeError,
     "apply_regularizers: step must be an integer scalar"),
    (lambda: regkit.apply_update_hooks([], OUT, {}, step=T.iscalar() * 1.5),
     TypeError, "apply_update_hooks: step must be an integer scalar"),
    (lambda: regkit.deserialize({"name": "weight_l2", "config": {
        "weight": {"name": "linear", "config": {"steps": 0, "start": 0,
                                                "stop": 1}}}}),
     ValueError, "Linear: steps must be between 1 and 2**52, got 0"),
    (lambda: regkit.schedules.Cosine(0, 1, -3), ValueError,
     "Cosine: steps must be between 1"),
    (lambda: regkit.schedules.Piecewise({1: 2}, [0, 1]), TypeError,
     "Piecewise: boundaries must be a list"),
    (lambda: regkit.audit(None), TypeError, "audit: network must be"),
    (lambda: regkit.parametrize(OUT, "orthogonal"), TypeError,
     "parametrize: parametrizations[0] must be a WeightNorm"),
    (lambda: regkit.parametrize(None, []), TypeError,
     "parametrize: network must be"),
    (lambda: regkit.WeightNorm(axis="0"), TypeError,
     "WeightNorm: axis must be an int"),
    (lambda: regkit.Orthogonal(method=None), ValueError,
     "Orthogonal: method must be one of"),
    (lambda: regkit.Orthogonal(method="householder", reflections=10 ** 9),
     ValueError, "reflections"),
    (lambda: regkit.Parametrized([], {}, []).apply(3), TypeError,
     "Parametrized.apply: expr must be"),
    (lambda: regkit.audit(OUT, "weight_l2"), TypeError, "audit"),
    (lambda: regkit.audit(OUT, [regkit.WeightL2()], outputs=3), TypeError,
     "audit: outputs must be the dict"),
]

# Public names that take no argument a user could get wrong.
# (RegularizedGraph and Audit are result records, built by
# apply_regularizers and audit.)
NO_ARGUMENTS = {"get_rng", "spawn_seed_sequence", "OutputHook",
                "RegularizedGraph", "Audit"}


@pytest.mark.parametrize("index", range(len(CASES)))
def test_bad_input_raises_a_named_error(index):
    call, error, text = CASES[index]
    with pytest.raises(error) as info:
        call()
    assert text in str(info.value), str(info.value)


def test_the_sweep_covers_every_public_callable():
    with open(__file__) as handle:
        source = handle.read()
    uncovered = [name for name in regkit.__all__
                 if callable(getattr(regkit, name))
                 and name not in NO_ARGUMENTS
                 and not re.search(r"regkit(\.\w+)?\.%s[(.]" % name,
                                   source)]
    assert not uncovered


def test_every_count_bound_is_a_documented_constant():
    from regkit._checks import (MAX_CLASSES, MAX_POWER_ITERATIONS,
                                MAX_PROJECTIONS)
    from regkit.regularizers.montecarlo import MAX_MC_PASSES
    assert (MAX_POWER_ITERATIONS, MAX_PROJECTIONS, MAX_CLASSES,
            MAX_MC_PASSES) == (100, 100, 10 ** 7, 100000)
    assert "100000" in regkit.mc_predict.__doc__
    assert "10**7" in regkit.smooth_labels.__doc__
    # at the bound is accepted
    assert regkit._checks.check_count(100, "f", "n", 1, maximum=100) == 100


def _nested(depth):
    value = []
    for _ in range(depth):
        value = [value]
    return value


# Every class of bad value the hardening passes found: each must give a
# TypeError or a ValueError, wherever it is passed.
BAD_VALUES = [np.nan, np.inf, -np.inf, -1, 10 ** 400, "1", True, None,
              1 + 2j, _nested(5000), {"a": 1}, [1] * 100000, object()]


def _registered_classes():
    return sorted(set(regkit.REGISTRY.values()), key=lambda c: c.__name__)


@pytest.mark.parametrize("cls", _registered_classes(),
                         ids=lambda c: c.__name__)
def test_every_bad_value_in_every_config_field_is_a_named_error(cls):
    config = cls().get_config()
    for field in config:
        for bad in BAD_VALUES:
            data = {"name": cls.registry_name,
                    "config": dict(config, **{field: bad})}
            try:
                regkit.deserialize(data)
            except (TypeError, ValueError) as exc:
                assert len(str(exc)) < 400, (field, str(exc)[:400])
    for bad in BAD_VALUES:
        if bad is None:
            continue  # weight=None is refused, pattern=None is the default
        with pytest.raises((TypeError, ValueError)):
            cls(weight=bad)


@pytest.mark.parametrize("bad", BAD_VALUES[:-2],
                         ids=lambda v: type(v).__name__)
def test_bad_top_level_data_for_deserialize(bad):
    with pytest.raises((TypeError, ValueError)) as info:
        regkit.deserialize(bad)
    assert len(str(info.value)) < 400
    with pytest.raises((TypeError, ValueError)):
        regkit.deserialize({"name": bad})


# --- every count bounded -----------------------------------------------------

@pytest.mark.parametrize("call, match", [
    (lambda: regkit.SpectralNorm(n_iter=101), "n_iter must be at most 100"),
    (lambda: regkit.SRIP(n_iter=10 ** 9), "n_iter must be at most 100"),
    (lambda: regkit.SpectralNormalization(n_iter=10 ** 400),
     "n_iter must be at most 100"),
    (lambda: regkit.JacobianProjection(n_proj=101),
     "n_proj must be at most 100"),
    (lambda: regkit.smooth_labels(np.array([0]), 10 ** 400, 0.1),
     "num_classes must be at most"),
    (lambda: regkit.mc_predict(T.matrix("x") * 1,
                               {T.matrix("y"): np.ones((1, 1))}, n=10 ** 12),
     "n must be at most 100000"),
    (lambda: regkit.StochasticDepth(weight=10 ** 400), "weight"),
    (lambda: regkit.UnitNorm(norm_axes=10 ** 400), "norm_axes"),
    (lambda: regkit.schedules.Linear(0, 1, 2 ** 52 + 1),
     "steps must be between 1 and 2\\*\\*52"),
    (lambda: regkit.schedules.Piecewise(range(1, 1002), [0] * 1002),
     "at most 1000 boundaries"),
])
def test_every_count_is_bounded(call, match):
    with pytest.raises(ValueError, match=match):
        call()
