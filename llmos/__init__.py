"""llmos — a local-first natural-language shell."""

__version__ = "0.1.0"
