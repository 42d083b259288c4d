"""Huey tasks of the imports app: import checks and applies, exports — all in the background."""
