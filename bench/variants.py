"""The real application with parts taken out, to show what each part costs (bench/README.md, "Where the time goes").

For `python bench/run.py throughput --real-app variants:without_middleware`: the real app without its
request-id / access-log and metrics middleware.
"""

from __future__ import annotations

from server.main import app as real_app

# Starlette builds its middleware stack on the first request from `user_middleware`: emptied here, the
# routes, the lifespan (snapshot loading) and every adapter stay as they are.
real_app.user_middleware = []
real_app.middleware_stack = None
without_middleware = real_app
