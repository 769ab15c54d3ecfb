"""Production profile, the default. Every value comes from the environment; see base.py."""

from .base import *  # noqa: F401,F403
