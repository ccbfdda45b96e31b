"""TEL, the Temporal Effect Language of stored code: syntax, types, cost, evaluation, hashing.

Typical use::

    from stele import tel
    module = tel.parse_module(source, "ledger.tel")
    checked = tel.check_module(module, source)          # TelTypeError lists every error
    program = tel.Program(checked)
    result = program.call("fib", [25], limits=tel.Limits(fuel=10**7))
    result.value, result.cost, result.breakdown
    tel.hash_definitions(module)                        # name -> Digest (content address)

The language reference is `docs/tel.md`; the program generator for property
tests and the simulator is `stele.tel.testing`.
"""

from ._ast import Def as Def
from ._ast import EffectDecl as EffectDecl
from ._ast import Expr as Expr
from ._ast import Module as Module
from ._ast import Type as Type
from ._builtins import BUILTINS as BUILTINS
from ._builtins import PRELUDE as PRELUDE
from ._builtins import PRELUDE_SOURCE as PRELUDE_SOURCE
from ._cost import COST_TABLE as COST_TABLE
from ._cost import CostTable as CostTable
from ._cost import Limits as Limits
from ._errors import CostLimitExceeded as CostLimitExceeded
from ._errors import DepthLimitExceeded as DepthLimitExceeded
from ._errors import DivisionByZero as DivisionByZero
from ._errors import EffectError as EffectError
from ._errors import IntegerOverflow as IntegerOverflow
from ._errors import Loc as Loc
from ._errors import MemoryLimitExceeded as MemoryLimitExceeded
from ._errors import TelError as TelError
from ._errors import TelHashError as TelHashError
from ._errors import TelLimitError as TelLimitError
from ._errors import TelRuntimeError as TelRuntimeError
from ._errors import TelSyntaxError as TelSyntaxError
from ._errors import TelTypeError as TelTypeError
from ._errors import TypeDiagnostic as TypeDiagnostic
from ._handlers import MemoryHandler as MemoryHandler
from ._hash import HashedModule as HashedModule
from ._hash import canonical_type as canonical_type
from ._hash import digest_of as digest_of
from ._hash import hash_definitions as hash_definitions
from ._hash import hash_module as hash_module
from ._interp import AsyncEffectHandler as AsyncEffectHandler
from ._interp import EffectHandler as EffectHandler
from ._interp import EvalResult as EvalResult
from ._interp import Program as Program
from ._interp import evaluate_async as evaluate_async
from ._parser import parse_expr as parse_expr
from ._parser import parse_module as parse_module
from ._parser import parse_type as parse_type
from ._printer import print_decl as print_decl
from ._printer import print_expr as print_expr
from ._printer import print_module as print_module
from ._printer import print_type as print_type
from ._types import CheckedModule as CheckedModule
from ._types import check_expr as check_expr
from ._types import check_module as check_module
from ._values import Closure as Closure
from ._values import Some as Some
from ._values import check_value as check_value
from ._values import show_value as show_value

__all__ = [
    "AsyncEffectHandler", "BUILTINS", "COST_TABLE", "CheckedModule", "Closure",
    "CostLimitExceeded", "CostTable", "Def", "DepthLimitExceeded", "DivisionByZero",
    "EffectDecl", "EffectError", "EffectHandler", "EvalResult", "Expr", "HashedModule",
    "IntegerOverflow", "Limits", "Loc", "MemoryHandler", "MemoryLimitExceeded", "Module",
    "PRELUDE", "PRELUDE_SOURCE", "Program", "Some", "TelError", "TelHashError",
    "TelLimitError", "TelRuntimeError", "TelSyntaxError", "TelTypeError", "Type",
    "TypeDiagnostic", "canonical_type", "check_expr", "check_module", "check_value",
    "digest_of", "evaluate_async", "hash_definitions", "hash_module", "parse_expr",
    "parse_module", "parse_type", "print_decl", "print_expr", "print_module", "print_type",
    "show_value",
]
