"""The Qt front end: the only package that imports PySide6 and pyqtgraph.

Importing this package is cheap on purpose: it imports no Qt module by itself, so a
worker process that unpickles a job function from ``astroexplorer.gui.workers``
pays only for what it uses. Start the application with
:func:`astroexplorer.gui.app.run_app`.
"""

__all__: list[str] = []
