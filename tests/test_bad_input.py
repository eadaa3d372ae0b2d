"""The bad-input sweep: each public entry point, given the wrong kind or
value of thing, raises TypeError or ValueError naming the argument."""
import numpy as np
import pytest

import regkit
from regkit import backend

T = backend.tensor
regkit.layers.set_rng(0)
L_IN = regkit.InputLayer((None, 3), name="in")
HID = regkit.DenseLayer(L_IN, 2, name="hid")
OUT = regkit.DenseLayer(HID, 2, name="out")
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
    (lambda: regkit.regularize_layer_params(HID.W, regkit.l2), TypeError,
     "layer"),
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
]


@pytest.mark.parametrize("index", range(len(CASES)))
def test_bad_input_raises_a_named_error(index):
    call, error, text = CASES[index]
    with pytest.raises(error) as info:
        call()
    assert text in str(info.value), str(info.value)
