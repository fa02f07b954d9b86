"""Complex numbers end to end: API.md's convention, holomorphic derivatives, Jacobians,
forward mode, and the variational quantum eigensolver of the Zygote paper.

The convention (API.md): for a real-valued ``f`` of ``z = x + iy``,
``pg.grad(f)(z) == df/dx + 1j*df/dy``. Every reverse-mode result here is checked against
that, computed by central finite differences in ``x`` and ``y`` separately, or against a
closed form. ``pg.holomorphic_grad(f)(z)`` is ``f'(z)``; forward mode seeds tangents as
given, so ``jvp(f, (z,), (v,))[1] == f'(z) * v`` for a holomorphic ``f``.
"""

import time

import numpy as np
import pytest

import pygote as pg

H_FD = 1e-6


# ---------------------------------------------------------------- finite differences


def fd_grad(f, z, h=H_FD):
    """``df/dx + 1j*df/dy`` of real-valued ``f`` at complex ``z`` (scalar or array), or
    ``df/dx`` at real ``z``, by central differences, entry by entry."""
    if np.ndim(z) == 0:
        z = complex(z) if np.iscomplexobj(z) else float(z)
        dx = (f(z + h) - f(z - h)) / (2 * h)
        if isinstance(z, float):
            return dx
        dy = (f(z + 1j * h) - f(z - 1j * h)) / (2 * h)
        return dx + 1j * dy
    z = np.asarray(z)
    out = np.zeros(z.shape, dtype=z.dtype)
    for k in range(z.size):
        e = np.zeros(z.shape, dtype=z.dtype)
        e.flat[k] = h
        dx = (f(z + e) - f(z - e)) / (2 * h)
        if np.iscomplexobj(z):
            dy = (f(z + 1j * e) - f(z - 1j * e)) / (2 * h)
            out.flat[k] = dx + 1j * dy
        else:
            out.flat[k] = dx
    return out


def fd_directional(f, z, v, h=H_FD):
    """``(f(z + h v) - f(z - h v)) / 2h``: the derivative of ``f`` along ``v``."""
    return (np.asarray(f(z + h * v)) - np.asarray(f(z - h * v))) / (2 * h)


def close(a, b, rtol=1e-6, atol=1e-7):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol)


RNG = np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _same_numbers_in_every_run():
    """Each test draws the same inputs whatever ran before it (``-k``, reordering)."""
    global RNG
    RNG = np.random.default_rng(1234)


def crandn(*shape):
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


# ---------------------------------------------------------------- the convention


def test_abs_squared_is_twice_z():
    assert pg.grad(lambda z: abs(z) ** 2)(1 + 2j) == pytest.approx(2 + 4j)
    assert pg.grad(lambda z: np.abs(z) ** 2)(1 + 2j) == pytest.approx(2 + 4j)
    assert pg.grad(lambda z: (z * np.conj(z)).real)(1 + 2j) == pytest.approx(2 + 4j)
    assert type(pg.grad(lambda z: abs(z) ** 2)(1 + 2j)) is complex


def test_gradient_descends():
    """``z - lr * g`` lowers a real loss: the convention's point."""
    def loss(z):
        return abs(z - (3 - 1j)) ** 2

    z = 0j
    for _ in range(50):
        z = z - 0.1 * pg.grad(loss)(z)
    assert z == pytest.approx(3 - 1j, abs=1e-4)


@pytest.mark.parametrize("f", [
    lambda z: z.real,
    lambda z: z.imag,
    lambda z: np.real(z),
    lambda z: np.imag(z),
    lambda z: np.real(np.conj(z) * (2 - 3j)),
    lambda z: np.imag(np.conj(z) ** 2),
    lambda z: np.angle(z),
    lambda z: abs(z),
    lambda z: np.abs(z),
    lambda z: np.abs(z) ** 3 + z.real * z.imag,
    lambda z: np.real(z ** 3 / (1 + z)),
    lambda z: np.imag(np.exp(z) * np.sin(z)),
    lambda z: np.abs(np.log(z)),
    lambda z: np.real(np.sqrt(z)) * np.angle(z + 1j),
])
def test_real_functions_of_complex_scalar(f):
    z = 0.7 - 1.3j
    close(pg.grad(f)(z), fd_grad(f, z))


@pytest.mark.parametrize("f", [
    lambda z: np.sum(z.real * z.imag),
    lambda z: np.sum(np.abs(z)),
    lambda z: np.sum(np.abs(z) ** 2),
    lambda z: np.sum(np.angle(z) ** 2),
    lambda z: np.sum(np.real(np.conj(z) * z[::-1])),
    lambda z: np.imag(np.sum(np.conj(z) ** 2)),
    lambda z: np.sum(np.imag(np.exp(1j * z))),
    lambda z: np.max(np.abs(z)),
    lambda z: np.abs(np.prod(z)),
    lambda z: np.linalg.norm(z),
    lambda z: np.real(np.vdot(z, np.cumsum(z))),
])
def test_real_functions_of_complex_array(f):
    z = crandn(5)
    close(pg.grad(f)(z), fd_grad(f, z), rtol=1e-5, atol=1e-6)


def test_complex64_keeps_its_dtype():
    z = np.array([1 + 2j, -0.5 + 1j], dtype=np.complex64)
    g = pg.grad(lambda z: np.sum(np.abs(z) ** 2))(z)
    assert g.dtype == np.complex64
    close(g, 2 * z, rtol=1e-5)


def test_real_input_complex_intermediate():
    """``exp(1j*theta)`` with a real ``theta``: the gradient is real, of ``theta``'s dtype."""
    c = 2 + 1j

    def f(theta):
        return np.real(np.exp(1j * theta) * c)

    g = pg.grad(f)(0.3)
    assert type(g) is float
    assert g == pytest.approx(-2 * np.sin(0.3) - np.cos(0.3))

    a = crandn(4)
    k = np.arange(4.0)

    def spectrum(theta):
        s = np.sum(a * np.exp(1j * k * theta))
        return np.abs(s) ** 2

    close(pg.grad(spectrum)(0.9), fd_grad(spectrum, 0.9))

    def phases(thetas):
        u = np.exp(1j * thetas)
        return np.real(np.sum(u * np.conj(u[::-1]) * a)) + np.sum(np.imag(u) ** 3)

    t = RNG.standard_normal(4)
    g = pg.grad(phases)(t)
    assert g.dtype == np.float64
    close(g, fd_grad(phases, t), rtol=1e-5)


def test_complex_cotangent_of_complex_output():
    """``back(dy)`` is the gradient of ``Re(sum(conj(dy) * y))``, in the same convention."""
    A = crandn(3, 3)
    z = crandn(3)

    def f(z):
        return A @ z * np.conj(z)

    dy = crandn(3)
    y, back = pg.pullback(f, z)
    (g,) = back(dy)

    def loss(z):
        return np.real(np.sum(np.conj(dy) * f(z)))

    close(g, fd_grad(loss, z), rtol=1e-5)
    close(pg.grad(loss)(z), g)


# ---------------------------------------------------------------- matrices


def test_matrix_functions():
    M = crandn(3, 3)
    A = crandn(3, 3)
    B = crandn(2, 2)

    def frob(M):
        return np.real(np.trace(M @ np.conj(M).T))

    close(pg.grad(frob)(M), 2 * M)  # ||M||_F^2: gradient 2M in this convention

    funcs = [
        lambda M: np.real(np.trace(M @ A @ np.conj(M).T)),
        lambda M: np.abs(np.trace(M @ M)),
        lambda M: np.real(np.einsum("ij,jk,ki->", M, A, np.conj(M))),
        lambda M: np.imag(np.einsum("ij,ij->", np.conj(M), A @ M)),
        lambda M: np.sum(np.abs(np.kron(M, B)) ** 2),
        lambda M: np.real(np.trace(np.kron(M, B) @ np.kron(np.conj(M).T, np.eye(2)))),
        lambda M: np.real(np.sum(M.reshape(9)[::2] * np.conj(M.T.reshape(9))[1::2].sum())),
        lambda M: np.abs(np.sum(np.transpose(M) @ M.conj() * A)),
        lambda M: np.real(np.tensordot(M, np.conj(M), axes=([0, 1], [1, 0]))),
        lambda M: np.sum(np.angle(np.moveaxis(M.reshape(3, 3, 1), 0, 2) + 3)),
        lambda M: np.real(np.linalg.det(M)),
        lambda M: np.abs(np.trace(np.linalg.inv(M + 3 * np.eye(3)))),
        lambda M: np.imag(np.sum(M.conj().T @ M)) + np.sum(M.imag ** 2 - M.real),
    ]
    for f in funcs:
        close(pg.grad(f)(M), fd_grad(f, M), rtol=1e-5, atol=1e-6)


def test_hermitian_quadratic_form():
    """``Re <psi|H|psi>`` for Hermitian ``H``: gradient ``2 H psi``."""
    A = crandn(4, 4)
    H = A + np.conj(A).T
    psi = crandn(4)

    def energy(psi):
        return np.real(np.conj(psi) @ H @ psi)

    close(pg.grad(energy)(psi), 2 * H @ psi)
    close(pg.grad(lambda p: np.real(np.vdot(p, H @ p)))(psi), 2 * H @ psi)


# ---------------------------------------------------------------- holomorphic derivatives


@pytest.mark.parametrize("f, df", [
    (lambda z: z ** 3, lambda z: 3 * z ** 2),
    (lambda z: np.exp(z), lambda z: np.exp(z)),
    (np.exp, np.exp),
    (lambda z: np.sin(z), lambda z: np.cos(z)),
    (lambda z: 1 / z, lambda z: -1 / z ** 2),
    (lambda z: 2 * z ** 4 - (1 - 1j) * z ** 2 + 3j * z - 5,
     lambda z: 8 * z ** 3 - 2 * (1 - 1j) * z + 3j),
    (lambda z: np.polyval([1, -2j, 0.5, 3], z), lambda z: 3 * z ** 2 - 4j * z + 0.5),
    (lambda z: np.log(z) * np.cos(z), lambda z: np.cos(z) / z - np.log(z) * np.sin(z)),
    (lambda z: np.tanh(z) / (1 + z),
     lambda z: (1 - np.tanh(z) ** 2) / (1 + z) - np.tanh(z) / (1 + z) ** 2),
])
def test_holomorphic_grad_scalar(f, df):
    for z in (1 + 2j, -0.3 + 0.8j, np.complex128(0.5 - 1j)):
        got = pg.holomorphic_grad(f)(z)
        assert got == pytest.approx(complex(df(z)), rel=1e-10)
    assert type(pg.holomorphic_grad(f)(1 + 2j)) is complex


def test_holomorphic_grad_matches_complex_finite_differences():
    def f(z):
        return np.sin(z) ** 2 * np.exp(-z) + z ** 5

    z, h = 0.4 + 0.9j, 1e-6
    fd = (f(z + h) - f(z - h)) / (2 * h)
    fd_imag = (f(z + 1j * h) - f(z - 1j * h)) / (2j * h)  # Cauchy-Riemann: the same number
    assert fd == pytest.approx(fd_imag, rel=1e-7)
    assert pg.holomorphic_grad(f)(z) == pytest.approx(fd, rel=1e-7)


def test_holomorphic_grad_arrays():
    z = crandn(4)
    c = crandn(4)
    close(pg.holomorphic_grad(lambda z: np.sum(z ** 3))(z), 3 * z ** 2, rtol=1e-12)
    close(pg.holomorphic_grad(lambda z: np.sum(c * np.exp(z)))(z), c * np.exp(z), rtol=1e-12)
    close(pg.holomorphic_grad(lambda z: np.prod(z))(z),
          [np.prod(np.delete(z, k)) for k in range(4)], rtol=1e-12)
    A = crandn(4, 4)
    close(pg.holomorphic_grad(lambda z: z @ A @ z)(z), (A + A.T) @ z, rtol=1e-12)


def test_holomorphic_grad_argnums_and_promotion():
    dz, dw = pg.holomorphic_grad(lambda z, w: z ** 2 * w, argnums=(0, 1))(1 + 1j, 2j)
    assert dz == pytest.approx(2 * (1 + 1j) * 2j)
    assert dw == pytest.approx((1 + 1j) ** 2)
    # a real point is promoted to complex: the derivative is complex
    g = pg.holomorphic_grad(lambda z: np.exp(1j * z))(0.5)
    assert g == pytest.approx(1j * np.exp(0.5j))
    g = pg.holomorphic_grad(lambda z: np.sum(np.exp(1j * z)))(np.array([0.1, 0.2]))
    close(g, 1j * np.exp(1j * np.array([0.1, 0.2])))
    assert pg.holomorphic_grad(lambda z: z ** 2)(np.complex64(1 + 1j)).dtype == np.complex64


def test_holomorphic_grad_composes():
    """Higher complex derivatives, and holomorphic_grad inside differentiated code."""
    def f(z):
        return np.sin(z) * z ** 2

    def d1(z):
        return np.cos(z) * z ** 2 + 2 * z * np.sin(z)

    def d2(z):
        return -np.sin(z) * z ** 2 + 4 * z * np.cos(z) + 2 * np.sin(z)

    hg = pg.holomorphic_grad
    z, v = 0.4 - 0.7j, 0.3 + 0.5j
    assert hg(hg(f))(z) == pytest.approx(d2(z), rel=1e-12)
    # hg(hg(hg(f)))(z) == d3(z) holds too, but its first call spends ~5 s transforming
    # forward mode's runtime (rules/higher.py fwd_call) for reverse mode: left out here
    assert complex(pg.jacfwd(hg(f))(z)) == pytest.approx(d2(z), rel=1e-12)
    assert pg.jvp(hg(f), (z,), (v,))[1] == pytest.approx(d2(z) * v, rel=1e-12)

    def loss(z):  # a real function of f'(z)
        return np.abs(hg(f)(z)) ** 2

    assert pg.grad(loss)(z) == pytest.approx(2 * d1(z) * np.conj(d2(z)), rel=1e-12)
    close(pg.grad(loss)(z), fd_grad(loss, z), rtol=1e-6)

    def through_capture(c):  # z is a constant: only the captured c carries a gradient
        return np.real(hg(lambda w: c * w ** 3)(1 + 1j))  # Re(6j c)

    assert pg.grad(through_capture)(0.5 + 0.2j) == pytest.approx(-6j)

    zs = np.array([0.1 + 0.2j, 0.3 - 0.1j])
    inner = hg(lambda y: np.sum(y ** 4))
    close(hg(lambda z: np.sum(inner(z)))(zs), 12 * zs ** 2, rtol=1e-12)


def test_holomorphic_grad_needs_a_scalar_output():
    def vector(z):
        return z ** 2

    with pytest.raises(pg.DifferentiationError, match="scalar output"):
        pg.holomorphic_grad(vector)(np.array([1j, 2j]))


# ---------------------------------------------------------------- Jacobians


def test_jacobian_holomorphic_scalar():
    def f(z):
        return z ** 3 + np.sin(z)

    z = 0.3 + 0.7j
    expected = 3 * z ** 2 + np.cos(z)
    assert complex(pg.jacobian(f, holomorphic=True)(z)) == pytest.approx(expected)
    # without holomorphic=True the row is the pullback: conj(f'(z))
    assert complex(pg.jacobian(f)(z)) == pytest.approx(np.conj(expected))
    assert complex(pg.jacrev(f, holomorphic=True)(z)) == pytest.approx(expected)
    # forward mode with the real tangent 1 gives f'(z) directly
    assert complex(pg.jacfwd(f)(z)) == pytest.approx(expected)


def test_jacobian_holomorphic_vector():
    A = crandn(3, 4)
    z = crandn(4)

    def f(z):
        return A @ (z ** 2) + np.exp(z[0]) * z[:3]

    expected = A * (2 * z)  # d(A z^2)/dz = A diag(2z)
    expected[:, 0] += np.exp(z[0]) * z[:3]
    expected[:, :3] += np.exp(z[0]) * np.eye(3)
    J = pg.jacobian(f, holomorphic=True)(z)
    assert J.shape == (3, 4)
    close(J, expected, rtol=1e-12)
    close(pg.jacobian(f)(z), np.conj(expected), rtol=1e-12)
    close(pg.jacfwd(f)(z), expected, rtol=1e-12)


def test_jacobian_holomorphic_matrix_function_and_argnums():
    B = crandn(2, 2)

    def f(M, w):
        return w * M @ B @ M

    M = crandn(2, 2)
    w = 0.5 - 0.2j
    JM, Jw = pg.jacobian(f, argnums=(0, 1), holomorphic=True)(M, w)
    assert JM.shape == (2, 2, 2, 2) and Jw.shape == (2, 2)
    close(Jw, M @ B @ M, rtol=1e-12)
    close(JM, pg.jacfwd(f)(M, w), rtol=1e-12)
    # each column of the Jacobian: the derivative along a unit change of one entry of M
    for k in range(4):
        E = np.zeros((2, 2), complex)
        E.flat[k] = 1
        close(JM.reshape(4, 4)[:, k], (w * (E @ B @ M + M @ B @ E)).reshape(4), rtol=1e-12)


def test_jacobian_holomorphic_promotes_real_input():
    J = pg.jacobian(lambda t: np.exp(1j * t), holomorphic=True)(np.array([0.1, 0.4]))
    close(J, np.diag(1j * np.exp(1j * np.array([0.1, 0.4]))))


def test_jacobian_of_real_valued_function_of_complex_input():
    """Without ``holomorphic`` a real output's row is its gradient in the convention."""
    def f(z):
        return np.abs(z) ** 2

    z = crandn(3)
    close(pg.jacobian(f)(z), np.diag(2 * z))


# ---------------------------------------------------------------- forward mode


def test_jvp_complex_tangents_holomorphic():
    def f(z):
        return z ** 3 * np.exp(z)

    z, v = 0.2 - 0.5j, 0.3 + 1.1j
    y, dy = pg.jvp(f, (z,), (v,))
    assert y == pytest.approx(f(z))
    assert dy == pytest.approx((3 * z ** 2 + z ** 3) * np.exp(z) * v)
    assert dy == pytest.approx(fd_directional(f, z, v))


def test_jvp_complex_tangents_not_holomorphic():
    """A non-holomorphic map is R-linear in the tangent: compare with finite differences."""
    funcs = [
        lambda z: np.abs(z) ** 2,
        lambda z: np.conj(z) * z ** 2,
        lambda z: np.real(z) + 2j * np.imag(z) ** 2,
        lambda z: np.angle(z) * z,
    ]
    z, v = 0.9 + 0.4j, -0.6 + 0.7j
    for f in funcs:
        _, dy = pg.jvp(f, (z,), (v,))
        close(dy, fd_directional(f, z, v))


def test_jvp_complex_arrays():
    A = crandn(3, 3)
    z, v = crandn(3), crandn(3)

    def f(z):
        return np.real(np.conj(z) @ A @ z) * z + np.einsum("ij,j->i", A, np.conj(z))

    _, dy = pg.jvp(f, (z,), (v,))
    close(dy, fd_directional(f, z, v), rtol=1e-5)
    # real input, complex output
    t, dt = RNG.standard_normal(3), RNG.standard_normal(3)
    _, dy = pg.jvp(lambda t: np.exp(1j * t) * A[0], (t,), (dt,))
    close(dy, 1j * np.exp(1j * t) * A[0] * dt)


def test_pushforward_complex():
    y, push = pg.pushforward(lambda z: np.sum(z ** 2), np.array([1j, 2.0 + 0j]))
    assert push(np.array([1.0 + 0j, 1j])) == pytest.approx(2 * 1j * 1 + 2 * 2.0 * 1j)


# ---------------------------------------------------------------- check_grads


def test_check_grads_real_valued_functions_of_complex_inputs():
    A = crandn(3, 3)
    H = A + np.conj(A).T
    z = crandn(3)
    M = crandn(2, 2)

    def energy(psi):
        return np.real(np.conj(psi) @ H @ psi) / np.real(np.vdot(psi, psi))

    def phase_loss(z):
        return np.sum(np.angle(z) ** 2) + np.sum(np.abs(z))

    def mixed(M, t):
        return np.abs(np.trace(M @ np.conj(M).T * np.exp(1j * t))) + np.imag(np.sum(M)) * t

    pg.check_grads(energy, (z,), modes=("fwd", "rev"))
    pg.check_grads(phase_loss, (z,), modes=("fwd", "rev"))
    pg.check_grads(mixed, (M, 0.3), modes=("fwd", "rev"))
    pg.check_grads(lambda z: abs(z) ** 2 + z.real * z.imag, (1 + 2j,), modes=("fwd", "rev"))


def test_check_grads_catches_a_wrong_complex_gradient():
    """The checker itself sees complex mistakes: a rule with a missing conjugation."""
    @pg.custom_vjp
    def bad_abs2(z):
        return np.real(z * np.conj(z))

    def fwd(z):
        return bad_abs2(z), z

    def bwd(z, g):
        return (2 * np.conj(z) * g,)  # wrong: the convention's gradient is 2 z

    bad_abs2.defvjp(fwd, bwd)
    with pytest.raises(AssertionError):
        pg.check_grads(bad_abs2, (1 + 2j,), modes=("rev",))


# ---------------------------------------------------------------- the quantum eigensolver
#
# The Zygote paper's Yao.jl example in plain NumPy: a 4-qubit variational circuit of three
# rotor layers (Rz Rx Rz on every qubit) with a ring of CNOTs between consecutive layers,
# trained with Adam to the ground state of the periodic Heisenberg chain
# H = 1/4 sum_i (X_i X_{i+1} + Y_i Y_{i+1} + Z_i Z_{i+1}).

N_QUBITS = 4
N_LAYERS = 3
I2 = np.eye(2, dtype=complex)
PX = np.array([[0, 1], [1, 0]], dtype=complex)
PY = np.array([[0, -1j], [1j, 0]])
PZ = np.array([[1, 0], [0, -1]], dtype=complex)
RING = [(0, 1), (1, 2), (2, 3), (3, 0)]
CNOT = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=complex)


def kron_all(ops):
    out = ops[0]
    for op in ops[1:]:
        out = np.kron(out, op)
    return out


def on_qubits(placed):
    """The 16x16 matrix of the operators ``{qubit: 2x2}``, identity elsewhere."""
    return kron_all([placed.get(q, I2) for q in range(N_QUBITS)])


def heisenberg_matrix():
    return sum(on_qubits({i: P, j: P}) for i, j in RING for P in (PX, PY, PZ)) / 4


HEISENBERG = heisenberg_matrix()
# the CNOT ring as one matrix: CNOT(3->0) CNOT(2->3) CNOT(1->2) CNOT(0->1)
P0, P1 = np.diag([1.0 + 0j, 0]), np.diag([0j, 1.0])
RING_MATRIX = np.eye(16, dtype=complex)
for _c, _t in RING:
    RING_MATRIX = (on_qubits({_c: P0}) + on_qubits({_c: P1, _t: PX})) @ RING_MATRIX


# -- style 1: the state as a (2, 2, 2, 2) tensor, gates by tensordot / einsum / moveaxis


def rz(theta):
    return np.cos(theta / 2) * I2 - 1j * np.sin(theta / 2) * PZ


def rx(theta):
    return np.cos(theta / 2) * I2 - 1j * np.sin(theta / 2) * PX


def apply_1q(psi, U, q):
    return np.moveaxis(np.tensordot(U, psi, axes=([1], [q])), 0, q)


def apply_cnot(psi, control, target):
    gate = CNOT.reshape(2, 2, 2, 2)
    out = np.tensordot(gate, psi, axes=([2, 3], [control, target]))
    return np.moveaxis(out, [0, 1], [control, target])


def circuit_tensor(thetas):
    psi = np.zeros((2,) * N_QUBITS, dtype=complex)
    psi[0, 0, 0, 0] = 1.0
    for layer in range(N_LAYERS):
        if layer > 0:
            for c, t in RING:
                psi = apply_cnot(psi, c, t)
        for q in range(N_QUBITS):
            psi = apply_1q(psi, rz(thetas[layer, q, 0]), q)
            psi = apply_1q(psi, rx(thetas[layer, q, 1]), q)
            psi = apply_1q(psi, rz(thetas[layer, q, 2]), q)
    return psi


def energy_tensor(thetas):
    """<psi|H|psi> term by term: each Pauli pair applied to the state tensor."""
    psi = circuit_tensor(thetas)
    e = 0.0
    for i, j in RING:
        for P in (PX, PY, PZ):
            phi = apply_1q(apply_1q(psi, P, i), P, j)
            e = e + np.real(np.einsum("abcd,abcd->", np.conj(psi), phi)) / 4
    return e


# -- style 2: 16x16 matrices built with np.kron, gate matrices with np.array


def rz_matrix(theta):
    return np.array([[np.exp(-0.5j * theta), 0], [0, np.exp(0.5j * theta)]])


def rx_matrix(theta):
    c, s = np.cos(theta / 2), np.sin(theta / 2)
    return np.array([[c, -1j * s], [-1j * s, c]])


def energy_kron(thetas):
    psi = np.zeros(2 ** N_QUBITS, dtype=complex)
    psi[0] = 1.0
    for layer in range(N_LAYERS):
        if layer > 0:
            psi = RING_MATRIX @ psi
        rotors = [rz_matrix(thetas[layer, q, 2]) @ rx_matrix(thetas[layer, q, 1])
                  @ rz_matrix(thetas[layer, q, 0]) for q in range(N_QUBITS)]
        psi = kron_all(rotors) @ psi
    return np.real(np.conj(psi) @ HEISENBERG @ psi)


def fd_angles(energy, thetas, h=1e-6):
    g = np.zeros_like(thetas)
    for k in range(thetas.size):
        e = np.zeros_like(thetas)
        e.flat[k] = h
        g.flat[k] = (energy(thetas + e) - energy(thetas - e)) / (2 * h)
    return g


def random_angles(seed):
    return np.random.default_rng(seed).uniform(0, 2 * np.pi, (N_LAYERS, N_QUBITS, 3))


def test_vqe_setup():
    ground = np.linalg.eigvalsh(HEISENBERG)[0]
    assert ground == pytest.approx(-2.0, abs=1e-12)
    assert np.allclose(HEISENBERG, np.conj(HEISENBERG).T)
    assert np.allclose(RING_MATRIX @ np.conj(RING_MATRIX).T, np.eye(16))
    # the two styles compute the same circuit and energy
    thetas = random_angles(7)
    psi_kron = np.zeros(16, complex)
    psi_kron[0] = 1
    for layer in range(N_LAYERS):
        if layer > 0:
            psi_kron = RING_MATRIX @ psi_kron
        psi_kron = kron_all([rz(thetas[layer, q, 2]) @ rx(thetas[layer, q, 1])
                             @ rz(thetas[layer, q, 0]) for q in range(N_QUBITS)]) @ psi_kron
    close(circuit_tensor(thetas).reshape(16), psi_kron, rtol=1e-12, atol=1e-14)
    assert energy_tensor(thetas) == pytest.approx(energy_kron(thetas), abs=1e-12)
    assert thetas.size == 36


@pytest.mark.parametrize("energy", [energy_tensor, energy_kron])
def test_vqe_gradient_matches_finite_differences(energy):
    for seed in (0, 1):
        thetas = random_angles(seed)
        value, g = pg.value_and_grad(energy)(thetas)
        assert value == pytest.approx(energy(thetas), abs=1e-13)
        assert g.shape == (N_LAYERS, N_QUBITS, 3) and g.dtype == np.float64
        close(g, fd_angles(energy, thetas), rtol=1e-6, atol=1e-8)


def adam(energy, thetas, steps, lr=0.1, b1=0.9, b2=0.999, eps=1e-8, check_at=()):
    """Plain Adam on the angles; at the steps in ``check_at`` pygote's gradient is compared
    with finite differences at the point the optimizer actually visits."""
    m = np.zeros_like(thetas)
    v = np.zeros_like(thetas)
    for t in range(1, steps + 1):
        g = pg.grad(energy)(thetas)
        if t in check_at:
            close(g, fd_angles(energy, thetas), rtol=1e-6, atol=1e-8)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1 ** t)
        v_hat = v / (1 - b2 ** t)
        thetas = thetas - lr * m_hat / (np.sqrt(v_hat) + eps)
    return thetas


@pytest.mark.parametrize("energy", [energy_tensor, energy_kron])
def test_vqe_adam_reaches_ground_state(energy):
    # Seed 0 is not hand-picked: from seeds 0-7 (uniform angles in [0, 2 pi)) all 200-step
    # runs ended within 5e-5 of the ground energy when this test was written (seed 0:
    # 3e-9); the two styles compute the same numbers, so follow the same trajectory.
    ground = np.linalg.eigvalsh(HEISENBERG)[0]
    assert ground == pytest.approx(-2.0, abs=1e-12)
    start = time.perf_counter()
    thetas = adam(energy, random_angles(0), steps=200, check_at=(1, 100))
    elapsed = time.perf_counter() - start
    final = energy(thetas)
    assert final >= ground - 1e-10  # variational: never below the ground state
    assert final - ground < 1e-3, f"Adam stopped at {final}, ground state {ground}"
    assert elapsed < 30, f"200 Adam steps took {elapsed:.1f} s"


# ---------------------------------------------------------------- regressions
# NumPy scalars' methods (``x[0].conj()``, ``np.sum(x).item()``): ``x[0]`` of an array is an
# ``np.complex128`` / ``np.float64``, whose methods are ``np.generic``'s descriptors, and
# those had no rules ("cannot differentiate generic.conj"). Fixed in numpy_nondiff.py by
# giving each the rule of the ndarray method of the same name.


def test_numpy_scalar_methods_reverse():
    x = np.array([1.0, 2.0, 3.0])
    close(pg.grad(lambda x: np.sum(x ** 2).item())(x), 2 * x)
    close(pg.grad(lambda x: x[0].conj() * x[1] + x[2].astype(np.float32).item())(x), [2, 1, 1])

    z = np.array([1 + 2j, 0.3 - 0.1j])

    def h(z):
        return z[0].conjugate().imag * z[1].real + abs(z[1].conj()) + z.sum().conj().real

    close(pg.grad(h)(z), fd_grad(h, z))

    def psi_overlap(psi):
        amp = psi[0].conj() * psi[1]
        return np.real(amp * amp.conj()) + psi[1].copy().reshape(1).sum().imag

    close(pg.grad(psi_overlap)(z), fd_grad(psi_overlap, z))


@pytest.mark.parametrize("method, x, args", [
    (np.generic.conj, np.complex128(1 + 2j), ()),
    (np.generic.conjugate, np.complex128(1 - 3j), ()),
    (np.generic.item, np.complex128(0.5 + 2j), ()),
    (np.generic.item, np.float64(0.5), ()),
    (np.generic.astype, np.float64(1.5), (np.complex128,)),
    (np.generic.copy, np.complex128(1 + 1j), ()),
    (np.generic.reshape, np.complex128(1 + 1j), ((1, 1),)),
    (np.generic.sum, np.float64(2.0), ()),
    (np.generic.mean, np.complex128(2 + 1j), ()),
])
def test_numpy_scalar_method_rules(method, x, args):
    from pygote.testing import check_rule

    check_rule(method, x, *args)


def test_numpy_scalar_methods_forward():
    z = np.array([1 + 2j, 0.3 - 0.1j])
    v = np.array([0.5 + 1j, -1j])

    def h(z):
        return z[0].conj() * z[1]

    _, dy = pg.jvp(h, (z,), (v,))
    assert dy == pytest.approx(fd_directional(h, z, v))
