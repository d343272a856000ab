"""``python -m qms_docs``: the qms command line."""

import sys

from .cli import main

sys.exit(main())
