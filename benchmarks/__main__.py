"""`python -m benchmarks`: run the benchmark suite (see runner.py for the knobs)."""

from .runner import main

raise SystemExit(main())
