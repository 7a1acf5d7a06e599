"""Runnable demos shipped with the package (`python -m microtf lab1`)."""
