"""``python -m harness.sandbox``: what ``crrsim sandbox serve`` and ``start_sandbox`` run."""

import sys

from harness.sandbox.web.server import main

sys.exit(main())
