"""Errors a user can fix. CLIs print them as one line and exit non-zero, with no traceback."""


class UserError(Exception):
    """A problem with the user's input, data or set-up; the message names it and the fix."""


class AudioError(UserError):
    """An audio file that cannot be read or used."""


class ConfigError(UserError):
    """A config file or override that does not validate."""
