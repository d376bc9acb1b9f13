"""Telehub's benchmarks: slot search, booking throughput against a bare-INSERT baseline,
contended booking, calendar feeds and scale-out, against a real PostgreSQL over real HTTP.

`python -m bench` (what `make bench` runs) prints a table and writes bench/results.json;
`python -m bench --smoke` runs the same code at tiny sizes in a few seconds.
"""
