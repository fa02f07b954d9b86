"""Errors are written for the user: what failed, where in their code, what to do."""

import math

import numpy as np
import pytest

import pygote as pg
from pygote.runtime import shadows


def uses_c_function_without_rule(x):
    y = x * 2.0
    mantissa, exponent = np.frexp(y)
    return float(np.sum(mantissa))


def test_c_function_without_rule_names_function_file_line_and_remedies():
    with pytest.raises(pg.DifferentiationError) as info:
        pg.gradient(uses_c_function_without_rule, np.ones(3))
    message = str(info.value)
    line = uses_c_function_without_rule.__code__.co_firstlineno + 2
    assert "numpy.frexp" in message
    assert f"{__file__}" in message and f"line {line}" in message
    assert "pg.register_vjp" in message and "pg.nondifferentiable" in message
    assert "pg.stop_gradient" in message


def generator_function(x):
    yield x * 2.0


def test_generator_function_is_named_with_its_line():
    with pytest.raises(pg.DifferentiationError, match="line"):
        pg.gradient(generator_function, 1.0)


def test_non_scalar_output_suggests_jacobian_and_pullback():
    with pytest.raises(pg.DifferentiationError, match="jacobian") as info:
        pg.gradient(lambda x: x * 2.0, np.ones(3))
    assert "pullback" in str(info.value) and "shape (3,)" in str(info.value)


def test_string_input_is_refused():
    with pytest.raises(pg.DifferentiationError, match="str"):
        pg.gradient(lambda s: float(len(s)), "abc")
    with pytest.raises(pg.DifferentiationError, match="argument 0"):
        pg.grad(lambda s, x: x, argnums=0)("abc", 1.0)


def test_errors_are_type_errors():
    assert issubclass(pg.DifferentiationError, TypeError)


def raises_midway(x):
    y = math.sin(x)
    if y > 0:
        raise ValueError("user error")
    return y


def test_state_is_intact_after_errors():
    depth = len(shadows._stack)
    with pytest.raises(ValueError, match="user error"):
        pg.gradient(raises_midway, 1.0)
    with pytest.raises(pg.DifferentiationError):
        pg.gradient(uses_c_function_without_rule, np.ones(3))
    assert len(shadows._stack) == depth
    assert shadows.current.shadows == {}
    # and the same functions still differentiate where they can
    assert pg.gradient(raises_midway, -1.0) == (math.cos(-1.0),)


COUNTER = 0.0


def writes_global(x):
    global COUNTER
    COUNTER = x * 2.0
    return COUNTER


def test_global_write_of_active_value_is_named_with_its_line():
    with pytest.raises(pg.DifferentiationError, match="global 'COUNTER'") as info:
        pg.gradient(writes_global, 1.0)
    line = writes_global.__code__.co_firstlineno + 1
    assert f"line {line}" in str(info.value) and "writes_global" in str(info.value)


async def coroutine(x):
    return x


def test_async_function_is_refused():
    with pytest.raises(pg.DifferentiationError, match="async"):
        pg.gradient(coroutine, 1.0)


def test_callable_without_source_names_itself():
    ns = {}
    exec(compile("def hidden(x):\n    return x * 2.0\n", "<no-file>", "exec"), ns)
    with pytest.raises(pg.DifferentiationError, match="cannot read the source of hidden"):
        pg.gradient(ns["hidden"], 1.0)



def ufunc_with_out_where(x):
    buf = np.zeros(3)
    np.multiply(x, 2.0, out=buf, where=x > 0)
    return np.sum(buf)


def test_out_with_where_is_refused_not_silently_wrong():
    with pytest.raises((pg.DifferentiationError, NotImplementedError), match="where"):
        pg.gradient(ufunc_with_out_where, np.ones(3))


def match_stmt(x):
    match x:
        case 1.0:
            return 0.0
        case _:
            return x * 2.0


def test_match_statement_is_refused_with_its_line():
    with pytest.raises(pg.DifferentiationError, match="match") as info:
        pg.gradient(match_stmt, 2.0)
    assert f"line {match_stmt.__code__.co_firstlineno + 1}" in str(info.value)
