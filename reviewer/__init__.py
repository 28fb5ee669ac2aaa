"""Reviewer: human-rights review of face recognition sales requests."""

__version__ = "0.1.0"
