"""Helper package for the mlkd research book.

The notebooks under ``notebooks/`` tell the story; everything they compute lives here so that it
can be tested, reused from the command line (``python -m mlkd_utils``) and read in one place.
"""

import warnings

# tqdm.auto warns once per kernel when ipywidgets is absent and falls back to text bars, which is
# what a papermill-executed chapter wants; the warning would only clutter every rendered page.
warnings.filterwarnings("ignore", message="IProgress not found")

from mlkd_utils.config import Profile, load_profile  # noqa: E402

__all__ = ["Profile", "load_profile"]
__version__ = "0.1.0"
