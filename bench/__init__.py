"""crkg's benchmark harness (issue 6): a generator of synthetic studies and a runner
that measures build, query latency, throughput and memory against peers.

Run ``python -m bench --help``; see bench/README.md. Nothing here is imported by the
service, and the benchmarks stay out of the test suite (only a smoke test runs there).
"""
