"""regkit.losses: label smoothing, its cross-entropy and the WGAN-GP
gradient penalty, given the arguments that look right and are not (a label
out of range, a width that is not the number of classes, a critic that
ignores its input); each value checked against numpy."""
import numpy as np
import pytest

import regkit
from regkit import backend
from regkit._checks import MAX_CLASSES

T = backend.tensor
FLOATX = backend.floatX


def _smoothed(labels, num_classes, eps):
    """numpy's label smoothing of int labels."""
    one_hot = np.eye(num_classes)[labels]
    return one_hot * (1 - eps) + eps / num_classes


# --- smooth_labels -----------------------------------------------------------

def test_smooth_labels_num_classes_has_an_upper_bound():
    for bad in (MAX_CLASSES + 1, 10 ** 400):
        with pytest.raises(ValueError, match="smooth_labels: num_classes "
                                             "must be at most 10000000"):
            regkit.smooth_labels(T.ivector(), bad, 0.1)
    assert regkit.smooth_labels(T.ivector(), MAX_CLASSES, 0.1).ndim == 2


@pytest.mark.parametrize("labels", [[7], [-1], [0, 3], [2, -1, 7]])
def test_smooth_labels_refuses_indices_outside_the_classes(labels):
    with pytest.raises(ValueError, match=r"smooth_labels: y must hold class "
                                         r"indices in \[0, num_classes\) = "
                                         r"\[0, 3\)"):
        regkit.smooth_labels(np.array(labels), 3, 0.3)
    with pytest.raises(ValueError, match="smooth_labels: y"):
        regkit.smooth_labels(backend.as_tensor_variable(
            np.array(labels, "int32")), 3, 0.3)


def test_smooth_labels_of_indices_at_both_ends_match_numpy():
    labels = np.array([0, 2, 1, 2], "uint8")
    got = regkit.smooth_labels(labels, 3, 0.3).eval()
    np.testing.assert_allclose(got, _smoothed(labels, 3, 0.3), rtol=1e-6)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-6)


def test_smooth_labels_refuses_a_matrix_of_another_width():
    with pytest.raises(ValueError, match="smooth_labels: y must have "
                                         "num_classes = 3 columns, got a "
                                         "matrix of 4 columns"):
        regkit.smooth_labels(np.eye(4)[[0, 1]], 3, 0.1)
    # a symbolic matrix whose type records its width (1, on both backends)
    one_column = backend.tensor_variable(FLOATX, [False, True], "y")
    with pytest.raises(ValueError, match="smooth_labels: y .* 1 columns"):
        regkit.smooth_labels(one_column, 3, 0.1)


@pytest.mark.skipif(backend.NAME != "pytensor",
                    reason="only PyTensor's types record a width above 1")
def test_smooth_labels_refuses_a_symbolic_matrix_of_a_known_width():
    with pytest.raises(ValueError, match="smooth_labels: y .* 4 columns"):
        regkit.smooth_labels(T.matrix(shape=(None, 4)), 3, 0.1)


def test_smooth_labels_symbolic_labels_are_checked_only_by_type():
    # their values are not known when the graph is built (see the docstring)
    y = T.ivector("y")
    smoothed = regkit.smooth_labels(y, 3, 0.3)
    labels = np.array([1, 0], "int32")
    np.testing.assert_allclose(
        backend.function([y], smoothed)(labels), _smoothed(labels, 3, 0.3),
        rtol=1e-6)
    matrix = T.matrix("m")
    assert regkit.smooth_labels(matrix, 3, 0.3).ndim == 2


# --- categorical_crossentropy ------------------------------------------------

def test_crossentropy_refuses_widths_that_differ():
    p = np.full((2, 3), 1 / 3.0)
    t = np.eye(4)[[0, 1]]
    with pytest.raises(ValueError) as info:
        regkit.categorical_crossentropy(p, t)
    message = str(info.value)
    assert message.startswith("categorical_crossentropy: predictions and "
                              "targets must have the same shape")
    assert "(2, 3) and (2, 4)" in message


def test_crossentropy_refuses_a_static_width_that_would_broadcast():
    # a width of 1 recorded in the type would broadcast against 3 classes
    p = backend.tensor_variable(FLOATX, [False, True], "p")
    with pytest.raises(ValueError, match=r"predictions and targets must have "
                                         r"the same shape, got \(None, 1\) "
                                         r"and \(2, 3\)"):
        regkit.categorical_crossentropy(p, np.eye(3)[[0, 1]].astype(FLOATX))
    with pytest.raises(ValueError, match="predictions and targets"):
        regkit.categorical_crossentropy(np.ones((3, 2)) / 2, np.ones((2, 2)))


def test_crossentropy_of_symbolic_matrices_matches_numpy():
    p, t = T.matrices("p", "t")
    loss = regkit.categorical_crossentropy(p, t)
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], FLOATX)
    targets = _smoothed(np.array([0, 2]), 3, 0.1).astype(FLOATX)
    np.testing.assert_allclose(
        backend.function([p, t], loss)(probs, targets),
        -(targets * np.log(probs)).sum(axis=1).mean(), rtol=1e-6)


def test_smooth_labels_and_the_crossentropy():
    y = np.array([0, 2, 1], "int32")
    smoothed = regkit.smooth_labels(y, 3, 0.3).eval()
    want = np.full((3, 3), 0.1)
    want[np.arange(3), y] = 0.8
    np.testing.assert_allclose(smoothed, want, rtol=1e-6)
    np.testing.assert_allclose(
        regkit.smooth_labels(np.eye(3)[y].astype(FLOATX), 3, 0.3).eval(),
        want, rtol=1e-6)
    assert regkit.smooth_labels(T.ivector(), 3, 0.1).ndim == 2
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.3, 0.4, 0.3]])
    ce = regkit.categorical_crossentropy(p, want).eval()
    np.testing.assert_allclose(ce, -(want * np.log(p)).sum(axis=1).mean(),
                               rtol=1e-6)
    backend.verify_grad(
        lambda z: regkit.categorical_crossentropy(backend.softmax(z), want),
        [np.random.default_rng(2).normal(size=(3, 3))],
        rng=np.random.RandomState(3))


# --- gradient_penalty --------------------------------------------------------

W = backend.shared(np.array([[1.0], [2.0], [2.0]], FLOATX), name="w")
REAL = np.random.default_rng(10).normal(size=(4, 3)).astype(FLOATX)
FAKE = np.zeros((4, 3), FLOATX)


@pytest.mark.parametrize("critic, error, text", [
    (lambda x: T.sum(W), ValueError,
     "gradient_penalty: the output of critic does not depend on its input"),
    (lambda x: T.ones((x.shape[0],)), ValueError,
     "gradient_penalty: the output of critic depends on its input x only "
     "through the shape of x"),
    (lambda x: T.cast(T.dot(x, W), "int32"), TypeError,
     "gradient_penalty: critic must return a float tensor, got dtype int32"),
], ids=["ignores its input", "reads only the shape", "integer output"])
def test_gradient_penalty_refuses_a_critic_without_a_gradient(critic, error,
                                                              text):
    with pytest.raises(error) as info:
        regkit.gradient_penalty(critic, REAL, FAKE, rng=0)
    assert str(info.value).startswith(text), str(info.value)


def test_gradient_penalty_refuses_real_and_fake_of_other_shapes():
    with pytest.raises(ValueError, match=r"gradient_penalty: real and fake "
                                         r"must have the same shape, got "
                                         r"\(4, 3\) and \(3, 3\)"):
        regkit.gradient_penalty(lambda x: T.dot(x, W), REAL, FAKE[:3])
    # a batch of 1 recorded in the type would broadcast against 4 examples
    one = backend.tensor_variable(FLOATX, [True, False], "real")
    with pytest.raises(ValueError, match="real and fake must have the same "
                                         "shape"):
        regkit.gradient_penalty(lambda x: T.dot(x, W), one, FAKE)


def test_gradient_penalty_of_symbolic_batches_matches_numpy():
    real, fake = T.matrices("real", "fake")
    penalty = regkit.gradient_penalty(lambda x: T.dot(x, W), real, fake,
                                      rng=0)
    # a linear critic has the gradient w at every interpolate
    want = (np.sqrt((W.get_value() ** 2).sum()) - 1) ** 2
    got = backend.function([real, fake], penalty)(REAL, FAKE)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_gradient_penalty_refuses_a_critic_that_averages_the_batch():
    w = backend.shared(np.array([3.0, 4.0]), name="w")
    with pytest.raises(ValueError, match="critic must return one value .* "
                                         "0-d"):
        regkit.gradient_penalty(lambda x: T.dot(x, w).mean(),
                                np.ones((4, 2)), np.zeros((4, 2)), rng=0)


def test_gradient_penalty_is_wgan_gp():
    w = backend.shared(np.array([[1.0], [2.0], [2.0]], FLOATX), name="w")

    def linear(x):
        return T.dot(x, w)
    real = np.random.default_rng(10).normal(size=(6, 3)).astype(FLOATX)
    fake = np.zeros((6, 3), FLOATX)
    penalty = regkit.gradient_penalty(linear, real, fake, rng=3)
    # the gradient of a linear critic is w at every interpolate
    assert float(backend.function([], penalty)()) == pytest.approx(4.0)

    def tanh_critic(x):
        return T.tanh(T.dot(x, w))
    # real == fake: the interpolate is real itself, whatever the draw
    same = regkit.gradient_penalty(tanh_critic, real, real, rng=4)
    slope = 1 - np.tanh(real @ w.get_value()) ** 2
    norms = np.sqrt(((slope * w.get_value().T) ** 2).sum(axis=1))
    np.testing.assert_allclose(float(backend.function([], same)()),
                               ((norms - 1) ** 2).mean(), rtol=1e-5)
    # with random updates the interpolates change on every call
    moving = regkit.gradient_penalty(tanh_critic, real, fake, rng=5)
    updates = regkit.random_updates(moving)
    assert len(updates) == 1
    fn = backend.function([], moving, updates=updates)
    assert fn() != fn()


def test_gradient_penalty_gradient_by_finite_differences():
    real = np.random.default_rng(11).normal(size=(3, 2))

    def penalty(W):
        return regkit.gradient_penalty(lambda x: T.tanh(T.dot(x, W)), real,
                                       real, rng=0)
    backend.verify_grad(penalty, [np.random.default_rng(12).normal(
        size=(2, 2))], rng=np.random.RandomState(4))
