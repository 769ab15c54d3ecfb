"""The load benchmark's profile (bench/web.py): production, plus the baselines it is measured against.

bench/baseline.py serves captured response bodies from BENCH_BASELINE_DIR; bench/sqlcapture.py, outermost,
writes the statements of a request marked X-Bench-Capture there for its SQL-only twin (bench/sqltwin.py).
"""

from .prod import *  # noqa: F401,F403
from .prod import MIDDLEWARE, env

BENCH_BASELINE_DIR = env.str("BENCH_BASELINE_DIR")
MIDDLEWARE = ["bench.sqlcapture.SqlCaptureMiddleware", "bench.baseline.BaselineMiddleware", *MIDDLEWARE]
