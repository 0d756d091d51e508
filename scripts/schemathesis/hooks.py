"""Loaded by schemathesis before the run (`hooks` in schemathesis.toml).

CPython 3.11 at times raises `SystemError: AST constructor recursion depth mismatch` when
Hypothesis parses a large module, deep inside a test, to describe one of its lambdas in
reports. The description is cosmetic: on that error the lambda is described as unknown,
as Hypothesis does for lambdas whose source it cannot read, instead of the operation's
tests ending with an error.
"""

from hypothesis.internal import lambda_sources

_describe = lambda_sources._lambda_description


def _lambda_description(f):
    try:
        return _describe(f)
    except SystemError:
        return "lambda: <unknown>"


lambda_sources._lambda_description = _lambda_description
