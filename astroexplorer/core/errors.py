"""Errors that are the user's to fix, reported as one clear sentence."""

__all__ = ["UserError"]


class UserError(Exception):
    """A problem with the user's input (file, column, selection, option).

    The message is a complete sentence naming the file or option and the problem;
    front ends show it as it is, without a traceback.
    """
