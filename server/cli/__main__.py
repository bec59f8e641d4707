"""`python -m server.cli`: the same command line as the `hvkg` console script."""

import sys

from server.cli import main

sys.exit(main())
