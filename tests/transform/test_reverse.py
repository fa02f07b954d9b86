"""Properties of the generated code (the gradients themselves are tested end to end)."""

import math

import pygote as pg


def scalar_chain(x, y):
    a = x * y
    b = math.sin(a)
    return b + y


def test_scalar_code_has_inline_adjoints_and_no_helper_calls():
    text = pg.show_adjoint(scalar_chain, 1.0, 2.0)
    backward = text[text.index("def scalar_chain_backward"):]
    assert "_cos(" in backward  # d sin = cos, written inline
    assert "_acc(" not in backward and "_call" not in backward
    assert "_push(" not in text  # every variable is assigned once: nothing to save


def loop(x):
    y = x
    for _ in range(3):
        y = y * x
    return y


def test_overwritten_variables_are_saved_and_restored():
    text = pg.show_adjoint(loop, 1.0)
    assert "_push(y)" in text and "y = _pop()" in text
    assert "# line" in text


def test_generated_code_reports_user_lines():
    def broken(x):
        return x.no_such_attribute

    try:
        pg.gradient(broken, 1.0)
    except AttributeError as exc:
        tb = exc.__traceback__
        frames = []
        while tb is not None:
            frames.append((tb.tb_frame.f_code.co_filename, tb.tb_lineno))
            tb = tb.tb_next
        assert (__file__, broken.__code__.co_firstlineno + 1) in frames
    else:
        raise AssertionError("expected the user's AttributeError")
