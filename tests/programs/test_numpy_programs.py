"""End-to-end programs written with NumPy: small models and losses, linear algebra,
broadcasting, indexing, array construction, reductions. Also the float32 cases, whose
gradients must keep float32."""

import numpy as np
import pytest

from .fd import assert_gradient_matches, params, pg

_rng = np.random.default_rng(2024)


def _r(*shape, scale=1.0):
    return scale * _rng.standard_normal(shape)


X_DATA = _r(10, 3)
Y_DATA = X_DATA @ np.array([1.5, -2.0, 0.5]) + 0.3 + 0.1 * _r(10)
LABELS = np.array([0, 2, 1, 2])
T_GRID = np.linspace(0.0, 2.0, 15)
SEQ = _r(5, 2)


# --- small models and losses --------------------------------------------------------------

def mlp_tanh_loss(W1, b1, W2, b2, x, y):
    h = np.tanh(x @ W1 + b1)
    out = h @ W2 + b2
    return np.mean((out - y) ** 2)


def mlp_relu_loss(W1, W2, x):
    h = np.maximum(0.0, x @ W1)
    return np.sum(h @ W2) / x.shape[0]


def softmax_cross_entropy(logits, labels):
    z = logits - np.max(logits, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    n = logits.shape[0]
    return -np.sum(logp[np.arange(n), labels]) / n


def logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def linear_regression_mse(w, b):
    pred = X_DATA @ w + b
    return np.mean((pred - Y_DATA) ** 2)


def logistic_regression(w, b, X, y):
    z = X @ w + b
    p = 1.0 / (1.0 + np.exp(-z))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def rnn_loss(Wh, Wx, b, h0):
    h = h0
    loss = 0.0
    for t in range(SEQ.shape[0]):
        h = np.tanh(Wh @ h + Wx @ SEQ[t] + b)
        loss = loss + np.sum(h ** 2)
    return loss


def polyfit_vander(coeffs, x, y):
    V = x[:, None] ** np.arange(len(coeffs))
    return np.sum((V @ coeffs - y) ** 2)


def polyval_fit(coeffs):
    pred = np.polyval(coeffs, T_GRID)
    return np.sum((pred - np.sin(T_GRID)) ** 2)


def sine_fit(amp, freq, phase):
    pred = amp * np.sin(freq * T_GRID + phase)
    return np.sum((pred - np.cos(T_GRID)) ** 2)


def gaussian_nll(mu, log_sigma, x):
    sigma = np.exp(log_sigma)
    return np.sum(0.5 * ((x - mu) / sigma) ** 2 + log_sigma + 0.5 * np.log(2 * np.pi))


def attention(Q, K, V):
    d = Q.shape[1]
    scores = Q @ K.T / np.sqrt(d)
    scores = scores - scores.max(axis=1, keepdims=True)
    w = np.exp(scores)
    w = w / w.sum(axis=1, keepdims=True)
    return np.sum((w @ V) ** 2)


def layer_norm(x, gamma, beta):
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    y = (x - mu) / np.sqrt(var + 1e-5) * gamma + beta
    return np.sum(y * np.arange(y.size).reshape(y.shape))


def huber_loss(pred, target):
    r = pred - target
    small = np.abs(r) < 1.0
    return np.sum(np.where(small, 0.5 * r ** 2, np.abs(r) - 0.5))


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rbf_kernel_sum(X, lengthscale, alpha):
    d2 = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    K = np.exp(-d2 / lengthscale ** 2)
    return alpha @ K @ alpha


def oscillator_euler(k, x0, v0):
    x, v = x0, v0
    dt = 0.05
    for _ in range(40):
        a = -k * x
        v = v + dt * a
        x = x + dt * v
    return x * x + v


def power_iteration(A):
    S = A + A.T
    v = np.ones(S.shape[0]) / np.sqrt(S.shape[0])
    for _ in range(30):
        v = S @ v
        v = v / np.linalg.norm(v)
    return v @ S @ v


def matrix_exp_series(A):
    term = np.eye(A.shape[0])
    total = term
    for k in range(1, 12):
        term = term @ A / k
        total = total + term
    return np.trace(total)


def conv1d_loop(signal, kernel):
    n, k = len(signal), len(kernel)
    out = []
    for i in range(n - k + 1):
        out.append(np.dot(signal[i:i + k], kernel))
    return np.sum(np.array(out) ** 2)


def convolve_builtin(signal, kernel):
    return np.sum(np.convolve(signal, kernel, mode="valid") ** 2)


def covariance_trace(X):
    Xc = X - X.mean(axis=0)
    C = Xc.T @ Xc / (X.shape[0] - 1)
    return np.trace(C @ C)


# --- linear algebra, norms and products ---------------------------------------------------

def norms(x, A):
    return np.linalg.norm(x) + np.linalg.norm(A, "fro") + np.sqrt(np.sum(x ** 2)) \
        + np.sum(np.abs(x))


def row_norms(A):
    return np.sum(np.linalg.norm(A, axis=1) ** 3)


def matrix_products(A, B, x):
    return np.sum(A @ B) + np.dot(x, A @ x) + np.sum(np.matmul(B.T, A.T)) + x @ x


def einsum_products(A, B):
    C = np.einsum("ij,jk->ik", A, B)
    return np.einsum("ii->", C @ C.T) + np.einsum("ij,ij->", A, A)


def outer_inner(x, y):
    return np.sum(np.outer(x, y) ** 2) + np.inner(x, y) + np.vdot(x, y)


def gram_trace(A):
    return np.trace(A.T @ A) + np.sum(np.diag(A @ A))


def solve_system(A, b):
    x = np.linalg.solve(A, b)
    return np.sum(x ** 2)


def determinant_inverse(A):
    return np.linalg.det(A) + np.sum(np.linalg.inv(A))


def triangular_parts(A):
    return np.sum(np.triu(A) ** 2) + np.sum(np.tril(A, -1)) + np.sum(np.diag(np.diag(A)))


def big_matrix_product(W, x):
    return np.sum(np.tanh(W @ x) ** 2)


# --- broadcasting ------------------------------------------------------------------------

def pairwise_distances(x, y):
    d = x[:, None] - y[None, :]
    return np.sum(d ** 2)


def bias_broadcast(X, b):
    return np.sum(np.tanh(X + b))


def column_row_broadcast(c, r):
    return np.sum(np.sin(c + r) * c)


def scalar_array_mix(s, a):
    return np.sum(s * a + s ** 2 - a / s)


def keepdims_normalize(A):
    P = A / A.sum(axis=1, keepdims=True)
    return np.sum(P ** 2)


# --- indexing reads ----------------------------------------------------------------------

def index_reads(x):
    return x[2] * x[-1] + np.sum(x[1:4]) + np.sum(x[::2] ** 2)


def matrix_index_reads(A):
    return np.sum(A[1, :] * A[:, 0]) + A[2, 1] + np.sum(A[..., -1]) + np.sum(A[np.newaxis])


def fancy_index_repeats(x):
    idx = np.array([0, 0, 3, 1, 3])
    return np.sum(x[idx] ** 2)


def fancy_index_2d(A):
    rows = np.array([0, 2, 2])
    cols = np.array([1, 0, 1])
    return np.sum(A[rows, cols] * np.array([1.0, 2.0, 3.0])) + np.sum(A[[0, 2]])


def boolean_mask_read(x):
    return np.sum(x[x > 0.0] ** 3)


def integer_index_argument(x, idx):
    return np.sum(x[idx] * np.arange(len(idx)))


def argsort_reorder(x):
    order = np.argsort(x)
    return np.sum(x[order] * np.arange(len(x)))


def sort_builtin(x):
    return np.sum(np.sort(x) * np.array([1.0, -2.0, 3.0, 0.5]))


# --- array construction from active values ------------------------------------------------

def array_from_floats(a, b):
    v = np.array([a, b, a * b])
    M = np.array([[a, 1.0], [b, a]])
    return np.sum(M @ v[:2]) + v[2] ** 2


def stack_concatenate(x, y):
    s = np.stack([x, y])
    c = np.concatenate([x, y, x])
    h = np.hstack([x, y])
    v = np.vstack([x, y])
    return np.sum(s[0] * s[1]) + np.sum(c ** 2) + h @ h + np.sum(v.T @ v)


def tile_repeat(x):
    return np.sum(np.tile(x, 3) * np.arange(3 * len(x))) + np.sum(np.repeat(x, 2) ** 2)


def zero_d_array(x):
    return float(x * x) + np.sum(np.exp(x))


def numpy_scalar_arg(s, x):
    return s * np.sum(x) + s ** 2


# --- reductions, elementwise, reshaping -------------------------------------------------

def reductions_with_axis(A):
    return (np.sum(A.sum(axis=0) ** 2) + np.sum(A.mean(axis=1) ** 3)
            + np.sum(np.max(A, axis=1)) + np.sum(np.min(A, axis=0)))


def prod_cumsum(x):
    return np.prod(x) + np.sum(np.cumsum(x) ** 2) + np.sum(np.cumprod(x))


def std_var(x):
    return np.std(x) + np.var(x) * 2.0


def elementwise_math(x):
    return np.sum(np.exp(x) + np.log(x) + np.sin(x) * np.cos(x) + np.tanh(x) + np.sqrt(x)
                  + np.power(x, 1.5) + np.log1p(x) + np.expm1(x) + np.arctan(x))


def two_arg_elementwise(x, y):
    return np.sum(np.hypot(x, y) + np.arctan2(y, x) + np.maximum(x, y) + np.minimum(x, y)
                  + np.power(x, y))


def where_and_clip(x):
    y = np.where(x > 0.0, x ** 2, -x)
    z = np.clip(x, -1.0, 1.0)
    return np.sum(y * z)


def reshape_transpose(x):
    A = x.reshape(2, 3)
    B = A.T
    C = np.swapaxes(A[None], 1, 2)
    return np.sum(B @ A) + np.sum(C ** 2) + np.sum(x.ravel()[::-1] * x.flatten()) \
        + np.sum(np.expand_dims(x, 0).squeeze() ** 3)


def array_methods(x, y):
    return x.sum() * y.mean() + x.dot(y) + x.max() - y.min() + (x * y).prod() \
        + x.reshape(-1, 1).T.sum()


def float32_mlp(W, b, x):
    return np.sum(np.tanh(W @ x + b) ** 2)


def float32_elementwise(x):
    return np.sum(np.exp(x) * x + np.sin(x))


def float32_scalar(s, x):
    return np.sum(s * x) * s


def complex_array(z):
    return np.sum(np.abs(z) ** 2) + np.real(np.sum(z * z))


CASES = [
    (mlp_tanh_loss, (_r(3, 4, scale=0.5), _r(4), _r(4, 2, scale=0.5), _r(2), _r(5, 3), _r(5, 2))),
    (mlp_relu_loss, (_r(3, 6), _r(6, 2), _r(5, 3))),
    (softmax_cross_entropy, (_r(4, 3), LABELS)),
    (logsumexp, (np.array([1.0, 2.5, -0.5, 0.3]),)),
    (linear_regression_mse, (np.array([1.0, -1.0, 0.2]), 0.1)),
    (logistic_regression, (_r(3), 0.2, _r(8, 3), np.array([0, 1, 1, 0, 1, 0, 0, 1.0]))),
    (rnn_loss, (_r(3, 3, scale=0.4), _r(3, 2, scale=0.5), _r(3, scale=0.1), np.zeros(3))),
    (polyfit_vander, (np.array([0.5, -1.0, 0.25]), np.linspace(-1, 1, 6), _r(6))),
    (polyval_fit, (np.array([0.1, -0.5, 1.0, 0.05]),)),
    (sine_fit, (1.2, 0.8, 0.3)),
    (gaussian_nll, (0.3, -0.2, _r(6))),
    (attention, (_r(3, 4), _r(5, 4), _r(5, 2))),
    (layer_norm, (_r(2, 4), _r(4), _r(4))),
    (huber_loss, (np.array([0.3, 2.5, -1.7, 0.9]), np.array([0.1, 0.2, 0.4, 1.5]))),
    (rosenbrock, (np.array([0.5, 1.2, -0.3, 0.8]),)),
    (rbf_kernel_sum, (_r(4, 2), 1.3, _r(4))),
    (oscillator_euler, (2.0, 1.0, 0.0)),
    (power_iteration, (np.array([[2.0, 0.3, 0.1], [0.2, 1.0, 0.4], [0.0, 0.5, 0.5]]),)),
    (matrix_exp_series, (_r(3, 3, scale=0.5),)),
    (conv1d_loop, (_r(8), np.array([0.25, 0.5, -0.25]))),
    (convolve_builtin, (_r(8), np.array([0.25, 0.5, -0.25]))),
    (covariance_trace, (_r(6, 3),)),
    (norms, (np.array([1.0, -2.0, 0.5]), _r(2, 3))),
    (row_norms, (_r(3, 4),)),
    (matrix_products, (_r(3, 3), _r(3, 3), _r(3))),
    (einsum_products, (_r(2, 3), _r(3, 4))),
    (outer_inner, (_r(3), _r(3))),
    (gram_trace, (_r(3, 3),)),
    (solve_system, (np.array([[3.0, 0.5, 0.1], [0.2, 2.0, -0.3], [0.4, 0.1, 1.5]]),
                    np.array([1.0, -0.5, 2.0]))),
    (determinant_inverse, (np.array([[2.0, 0.5], [-0.3, 1.5]]),)),
    (triangular_parts, (_r(3, 3),)),
    (big_matrix_product, (_r(8, 6, scale=0.3), _r(6))),
    (pairwise_distances, (_r(4), _r(3))),
    (bias_broadcast, (_r(5, 3), _r(3))),
    (column_row_broadcast, (_r(3, 1), _r(1, 4))),
    (scalar_array_mix, (1.3, _r(4))),
    (keepdims_normalize, (np.abs(_r(3, 4)) + 0.5,)),
    (index_reads, (_r(6),)),
    (matrix_index_reads, (_r(3, 3),)),
    (fancy_index_repeats, (_r(5),)),
    (fancy_index_2d, (_r(3, 2),)),
    (boolean_mask_read, (np.array([0.5, -1.0, 2.0, -0.3, 1.1]),)),
    (integer_index_argument, (_r(6), np.array([4, 1, 1, 0]))),
    (argsort_reorder, (np.array([0.3, -1.2, 2.5, 0.9]),)),
    (sort_builtin, (np.array([0.3, -1.2, 2.5, 0.9]),)),
    (array_from_floats, (1.5, -0.7)),
    (stack_concatenate, (_r(3), _r(3))),
    (tile_repeat, (_r(3),)),
    (zero_d_array, (np.array(0.7),)),
    (numpy_scalar_arg, (np.float64(1.3), _r(3))),
    (reductions_with_axis, (_r(3, 4),)),
    (prod_cumsum, (np.array([0.5, 1.5, -0.8, 1.2]),)),
    (std_var, (_r(5),)),
    (elementwise_math, (np.array([0.3, 1.1, 2.4]),)),
    (two_arg_elementwise, (np.array([0.5, 1.5, 2.2]), np.array([1.1, 0.7, 0.4]))),
    (where_and_clip, (np.array([-1.5, -0.4, 0.3, 0.8, 2.0]),)),
    (reshape_transpose, (_r(6),)),
    (array_methods, (_r(4), _r(4))),
    (complex_array, (np.array([1.0 + 2.0j, -0.5 + 0.3j, 0.2 - 1.0j]),)),
]

FLOAT32_CASES = [
    (float32_mlp, (_r(3, 4).astype(np.float32), _r(3).astype(np.float32),
                   _r(4).astype(np.float32))),
    (float32_elementwise, (np.array([0.3, -1.1, 0.8], dtype=np.float32),)),
    (float32_scalar, (np.float32(1.5), np.array([0.5, -1.0, 2.0], dtype=np.float32))),
    (big_matrix_product, (_r(8, 6, scale=0.3).astype(np.float32), _r(6).astype(np.float32))),
]


@pytest.mark.parametrize("program, args", params(CASES))
def test_numpy_program(program, args):
    assert_gradient_matches(program, *args)


@pytest.mark.parametrize("program, args", params(FLOAT32_CASES))
def test_float32_program(program, args):
    assert_gradient_matches(program, *args)


@pytest.mark.parametrize("program, args", params(FLOAT32_CASES))
def test_float32_gradient_dtype(program, args):
    grads = pg.gradient(program, *args)
    for a, g in zip(args, grads):
        assert g is not None
        if isinstance(a, np.ndarray):
            assert isinstance(g, np.ndarray), f"{program.__name__}: got {type(g).__name__}"
            assert g.dtype == np.float32, f"{program.__name__}: gradient dtype {g.dtype}"
            assert g.shape == a.shape
        else:  # np.float32 scalar
            assert np.asarray(g).dtype == np.float32, \
                f"{program.__name__}: gradient dtype {np.asarray(g).dtype}"


def item_of_0d(x):
    h = np.array(np.sum(x * x))  # a 0-d array
    return h[()] * 2.0  # (the empty index: generated code wrote it as "(,)")


def test_empty_tuple_index_of_a_0d_array():
    assert_gradient_matches(item_of_0d, np.array([0.5, -1.5, 2.0]))
