"""What goes wrong with data, in terms the user can act on."""

from __future__ import annotations

__all__ = ["DataError", "BadImagesWarning"]


class DataError(ValueError):
    """A data problem the user can fix; the message names the path and the fix."""


class BadImagesWarning(UserWarning):
    """Image files were skipped (``on_bad="skip"``) or ignored; the message names them."""
