"""The release number, in a module of its own so that any stage (the compiled-policy cache keys on it) can
read it without importing the package's front door."""

__version__ = "0.1.0"
