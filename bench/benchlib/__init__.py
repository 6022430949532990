# Helpers of bench/bench.py: processes, the tools under comparison, and the report.
