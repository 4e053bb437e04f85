"""Emails recorded as rows (one per recipient, kind and comment) and sent by a background task."""
