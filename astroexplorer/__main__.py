"""``python -m astroexplorer`` is the ``astroexplorer`` command."""

import sys

from .cli import main

sys.exit(main())
