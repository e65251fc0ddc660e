"""Messenger server: registration, authentication, routing and durable delivery."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("messenger")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
