"""pygote: differentiate plain Python, NumPy and SciPy programs by source transformation.

>>> import pygote as pg
>>> pg.gradient(lambda x: x ** 2, 3.0)
(6.0,)
"""

from pygote import rules as _rules  # noqa: F401  (registers every rule)
from pygote.api import (
    elementwise_grad,
    grad,
    gradient,
    jacobian,
    jacrev,
    pullback,
    show_adjoint,
    value_and_grad,
    vjp,
    withgradient,
)
from pygote.api_complex import holomorphic_grad
from pygote.api_forward import forwarddiff, jacfwd, jvp, pushforward, show_jvp
from pygote.checkpoint import checkpoint, checkpoint_loop
from pygote.custom import (
    custom_jvp,
    custom_vjp,
    ignore,
    nondifferentiable,
    register_jvp,
    register_vjp,
    rrule,
    stop_gradient,
)
from pygote.errors import DifferentiationError
from pygote.runtime.structural import Structural
from pygote.testing import check_grads
from pygote.transform import compile as _compile  # noqa: F401  (installs the transformer)
from pygote.rules import higher as _higher
from pygote.rules.higher import hessian, hvp

_higher._install()

__version__ = "0.1.0"

__all__ = [
    "DifferentiationError",
    "Structural",
    "check_grads",
    "checkpoint",
    "checkpoint_loop",
    "custom_jvp",
    "custom_vjp",
    "elementwise_grad",
    "grad",
    "hessian",
    "holomorphic_grad",
    "hvp",
    "ignore",
    "forwarddiff",
    "gradient",
    "jacfwd",
    "jacobian",
    "jacrev",
    "jvp",
    "nondifferentiable",
    "pullback",
    "pushforward",
    "register_jvp",
    "register_vjp",
    "rrule",
    "show_adjoint",
    "show_jvp",
    "stop_gradient",
    "value_and_grad",
    "vjp",
    "withgradient",
]
