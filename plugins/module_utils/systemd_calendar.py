# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""A syntax check of systemd calendar events (OnCalendar=, systemd.time(7)) on the controller.

What it checks: the shorthands (hourly, daily...), and ``[weekdays] [[year-]month-day] [hour:minute[:second]]
[timezone]`` with ``*``, lists (``,``), ranges (``..``) and repetitions (``/``) in each field, and each number
within its field's range. What it cannot: whether a time zone name exists on the host, and dates that never
occur (Feb-30): ``systemd-analyze calendar`` on the host is the judge of those.
"""

from __future__ import annotations

import re

SHORTHANDS = ("minutely", "hourly", "daily", "weekly", "monthly", "yearly", "annually", "quarterly", "semiannually")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ITEM = re.compile(r"^(\*|\d+)(?:\.\.(\d+))?(?:/(\d+))?$")
_SECOND_ITEM = re.compile(r"^(\*|\d+(?:\.\d+)?)(?:\.\.(\d+))?(?:/(\d+(?:\.\d+)?))?$")
_ZONE = re.compile(r"^(UTC|[A-Za-z_]+(?:/[A-Za-z0-9_+-]+)+)$")


def _day_problem(token):
    for part in token.split(","):
        ends = part.split("..") if ".." in part else part.split("-")
        if not part or len(ends) > 2 or not all(e.lower() in _DAYS + _FULL_DAYS for e in ends):
            return f"{part!r} is not a weekday (Mon..Sun), a list or a range of them"
    return None


def _field_problem(text, name, low, high, item=_ITEM):
    for part in text.split(","):
        match = item.match(part)
        if not match:
            return f"{name} {part!r} is not a number, *, a range a..b or a repetition x/step"
        first, last, step = match.groups()
        for number in (first, last):
            if number not in (None, "*") and not low <= float(number) <= high:
                return f"{name} {number} is outside {low}..{high}"
        if step is not None and float(step) <= 0:
            return f"{name} repetition /{step} must be positive"
    return None


def _date_problem(token):
    last_day = "~" in token
    parts = re.split(r"[-~]", token)
    if len(parts) == 2:
        parts = ["*", *parts]
    if len(parts) != 3 or (last_day and token.count("~") != 1):
        return f"{token!r} is not a date [year-]month-day"
    year, month, day = parts
    return (
        _field_problem(year, "year", 1970, 2199)
        or _field_problem(month, "month", 1, 12)
        or _field_problem(day, "day", 1, 31)
    )


def _time_problem(token):
    parts = token.split(":")
    if len(parts) not in (2, 3):
        return f"{token!r} is not a time hour:minute[:second]"
    hour, minute = parts[0], parts[1]
    second = parts[2] if len(parts) == 3 else "0"
    return (
        _field_problem(hour, "hour", 0, 23)
        or _field_problem(minute, "minute", 0, 59)
        or _field_problem(second, "second", 0, 59, _SECOND_ITEM)
    )


def calendar_problem(value):
    """Why ``value`` is not a systemd calendar event this check can read, or None."""
    if isinstance(value, bool) or not isinstance(value, str) or not value.strip():
        return "must be a systemd calendar event such as hourly, daily or *-*-* 00/4:00:00"
    tokens = value.split()
    if len(tokens) == 1 and tokens[0].lower() in SHORTHANDS:
        return None
    if len(tokens) > 1 and _ZONE.match(tokens[-1]):
        tokens = tokens[:-1]  # a time zone: whether it exists is the host's to judge
    # Each part is optional but they come in this order: weekdays, date, time.
    parts = (
        (lambda t: bool(re.match(r"^[A-Za-z]", t)), _day_problem),
        (lambda t: ":" not in t, _date_problem),
        (lambda t: True, _time_problem),
    )
    for applies, check in parts:
        if tokens and applies(tokens[0]):
            problem = check(tokens[0])
            if problem:
                return problem if check is not _day_problem else f"{problem} (shorthands: {', '.join(SHORTHANDS)})"
            tokens = tokens[1:]
    if tokens:
        return f"has {' '.join(tokens)!r} left over after weekday, date, time and time zone"
    return None
