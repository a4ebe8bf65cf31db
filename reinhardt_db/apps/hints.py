"""Spelling hints for error messages (the shared helper, re-exported)."""

from reinhardt_db._hints import did_you_mean

__all__ = ["did_you_mean"]
