"""bianmin (便民): grassroots government-service platform."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("bianmin")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"
