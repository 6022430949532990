# Locust entry point of the bench: LOCUST_SCENARIO picks the user class; USE_RAMP_SHAPE=1 adds the ramp.
"""Run from the repository root, as the old harness was:

    locust -f bench/locust/locustfile.py --host http://127.0.0.1:8000 --headless -u 20 -r 2 --run-time 10m
    USE_RAMP_SHAPE=1 locust -f bench/locust/locustfile.py --host http://127.0.0.1:8000 --headless --run-time 10m

LOCUST_SCENARIO=fixed_200_200 (default) loads Fixed200200User; LOCUST_SCENARIO=fast_http loads the
FastHttpUser GET of scenarios/fast_http.py. Locust runs every User class and the shape class it finds
in this module, so only the chosen ones are imported here.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

SCENARIO = os.environ.get("LOCUST_SCENARIO", "fixed_200_200")

if SCENARIO == "fixed_200_200":
    from scenarios.fixed_200_200 import Fixed200200User  # noqa: F401

    if os.environ.get("USE_RAMP_SHAPE") == "1":
        from scenarios.fixed_200_200 import RampShape  # noqa: F401
elif SCENARIO == "fast_http":
    from scenarios.fast_http import FastGetUser  # noqa: F401
else:
    raise SystemExit(f"LOCUST_SCENARIO={SCENARIO!r}: expected fixed_200_200 or fast_http")
