"""Provenance Monitor: watch sites for republished and spun copies of tracked articles."""

__version__ = "0.1.0"
