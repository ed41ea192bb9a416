"""neurotox: preclinical neurotoxicity assay analysis.

Raw assay output (plate images, tracking exports, scoring sheets) goes in;
validated endpoint data (the EndpointTable), regulatory-style statistics and
GLP-style summary tables come out.
"""

from importlib.metadata import PackageNotFoundError, version

from neurotox import cachedirs

# numba and matplotlib caches must be writable before either is imported (read-only
# installs, containers without a home folder or with an arbitrary user ID)
cachedirs.configure()

try:
    __version__ = version("neurotox")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
