"""Benchmarks of the suite: scripts that start real parts and print numbers
(``docs/performance.md``)."""
