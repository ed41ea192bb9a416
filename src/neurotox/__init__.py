"""neurotox: preclinical neurotoxicity assay analysis.

Raw assay output (plate images, tracking exports, scoring sheets) goes in;
validated endpoint data (the EndpointTable), regulatory-style statistics and
GLP-style summary tables come out.
"""

from neurotox import cachedirs

# numba and matplotlib caches must be writable before either is imported (read-only
# installs, containers without a home folder or with an arbitrary user ID)
cachedirs.configure()

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    """``__version__``, looked up on first use (importlib.metadata is slow to import)."""
    if name != "__version__":
        raise AttributeError(f"module 'neurotox' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("neurotox")
    except PackageNotFoundError:  # running from a source tree that is not installed
        value = "0+unknown"
    globals()["__version__"] = value
    return value
