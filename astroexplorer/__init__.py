"""AstroExplorer: deep-learning exploration of astronomical surveys.

The package is layered (see ``ARCHITECTURE.md``): ``core`` (numpy/astropy data
model), ``io`` (readers and writers), ``analysis`` (projections and statistics),
``jobs`` (long work with progress and cancel), ``ml`` (the only user of torch) and
``gui`` (the only user of Qt).
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
