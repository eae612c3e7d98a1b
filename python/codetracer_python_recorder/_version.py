"""The version of this distribution; the native core must have exactly the same one."""

__version__ = "0.4.0"
