"""Helper package for the mlkd research book.

The notebooks under ``notebooks/`` tell the story; everything they compute lives here so that it
can be tested, reused from the command line (``python -m mlkd_utils``) and read in one place.
"""

from mlkd_utils.config import Profile, load_profile

__all__ = ["Profile", "load_profile"]
__version__ = "0.1.0"
