"""Errors shared by every layer (a leaf module: it imports nothing from gdbench).

``UserError`` is a problem with the user's input (a flag, a folder, a plugin file): the CLI prints
it as one line and exits with code 2. ``ValueError`` raised by the public API is treated the same
way by the CLI.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input: printed as one line, exit code 2."""


__all__ = ["UserError"]
