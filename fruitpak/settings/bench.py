"""The load benchmark's profile (bench/web.py): production, plus the baseline it is measured against.

bench/baseline.py serves captured response bodies from BENCH_BASELINE_DIR, first in the stack.
"""

from .prod import *  # noqa: F401,F403
from .prod import MIDDLEWARE, env

BENCH_BASELINE_DIR = env.str("BENCH_BASELINE_DIR")
MIDDLEWARE = ["bench.baseline.BaselineMiddleware", *MIDDLEWARE]
