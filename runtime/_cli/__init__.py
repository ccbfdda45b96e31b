"""The ``stele`` command line: shared conventions and the repository commands.

:mod:`stele._cli._common` holds what every subcommand shares (the exit-code
table, :class:`CliParser`, one-line errors, ``--json``); the repository
commands (``run``, ``dependents``, ``rename``, ``delete``, ``diff``,
``repl``) live beside it, one module each.
"""
