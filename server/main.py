"""The ASGI application that `hvkg serve` runs: `server.main:app` (importable by any ASGI server)."""

from __future__ import annotations

import os
from pathlib import Path

from graph.layout import DataLayout
from server.app import create_app

app = create_app(DataLayout(Path(os.environ["HVKG_DATA"])) if os.environ.get("HVKG_DATA") else DataLayout())
