"""Benchmark harness: the facade over gRPC versus direct aioboto3 calls (``python -m bench``).

Modules: :mod:`bench.harness` (orchestrator), :mod:`bench.client` (load-generating processes),
:mod:`bench.upstream` (a minimal CloudFront responder), :mod:`bench.procs` (child processes,
/proc readings), :mod:`bench.report` (targets and the table) and :mod:`bench.profiling`
(the facade in-process under cProfile).
"""
