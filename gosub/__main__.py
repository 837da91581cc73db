"""``python -m gosub``: the ``gosub`` command."""

import sys

from gosub.cli import main

sys.exit(main())
