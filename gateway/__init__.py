"""lvgw: the site gateway for maintained low-voltage systems."""

__version__ = "0.1.0"
