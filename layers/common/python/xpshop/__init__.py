"""xpshop shared package: every domain rule and all storage access live here once."""

__version__ = "0.1.0"
