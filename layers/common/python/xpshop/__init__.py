"""xpshop shared package: every domain rule and all storage access live here once."""

__version__ = "0.1.0"

from .snapstart import install as _install_snapstart

_install_snapstart()  # SnapStart hooks, only in an environment initialised for a snapshot
