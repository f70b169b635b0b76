"""Argument types shared by the management commands: a count is refused at parsing time with a clear message."""
import argparse

from django.core.management.base import CommandError


def _whole_number(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"must be a whole number, got {value!r}") from None


def positive_int(value):
    """A count of at least 1 (`--count 0` or `--count -5` is refused)."""
    number = _whole_number(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def non_negative_int(value):
    """A size where 0 has a documented meaning (`--group-size 0`: no households)."""
    number = _whole_number(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {number}")
    return number


def acting_user(username=None):
    """The user a command acts as: ``username``, else the first active superuser or IMIS administrator."""
    from core.services import default_acting_user

    user = default_acting_user(username)
    if user is None:
        raise CommandError(f"No active user {username}" if username else "No acting user found: pass --username")
    return user
