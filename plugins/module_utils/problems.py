# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""The problem collector of every ``<role>_problems`` filter: one message per problem, naming the variable."""

from __future__ import annotations

_NOTHING = object()


class Problems:
    """Collects ``"<variable>: <rule> (got <value>)"`` messages in the order they are found."""

    def __init__(self):
        self.messages = []

    def add(self, variable, rule, got=_NOTHING):
        message = f"{variable}: {rule}"
        if got is not _NOTHING:
            message += f" (got {got!r})"
        self.messages.append(message)

    def integer(self, variable, value, minimum=None, maximum=None):
        """``value`` as an int when it is a whole number within the bounds (strings from -e count), else None."""
        number = as_int(value)
        bounds = []
        if minimum is not None:
            bounds.append(f"{minimum} or more")
        if maximum is not None:
            bounds.append(f"{maximum} or less")
        rule = "must be a whole number" + (" of " + " and ".join(bounds) if bounds else "")
        if number is None or (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            self.add(variable, rule, value)
            return None
        return number

    def boolean(self, variable, value):
        """``value`` as a bool (true/false/yes/no/1/0, strings from -e count), else None."""
        flag = as_bool(value)
        if flag is None:
            self.add(variable, "must be a boolean (true or false)", value)
        return flag

    def __bool__(self):
        return bool(self.messages)


def is_int(value):
    """True for an int that is not a bool (a value already typed, as from a YAML file)."""
    return isinstance(value, int) and not isinstance(value, bool)


def as_int(value):
    """An int from an int or a string of digits (an -e value); None for anything else (bools too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
    return None


def as_float(value):
    """A float from a number or a numeric string (an -e value); None for anything else (bools too)."""
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


_TRUE = {"true", "yes", "on", "1", "y", "t"}
_FALSE = {"false", "no", "off", "0", "n", "f"}


def as_bool(value):
    """A bool from a bool or its usual string forms (an -e value); None for anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return None
