"""kmc: Kling Motion Control Studio."""

__version__ = "0.1.0"
