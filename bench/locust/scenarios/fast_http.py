# A bare FastHttpUser GET: Locust's cheapest request path, for the generator-cost comparison.
"""Each user GETs LOCUST_PATH (default "/"). With LOCUST_RATE_PER_USER set, each user paces itself to
that many requests per second (constant_throughput), so N users aim at N × rate in total; without it
they send back to back. LOCUST_WAIT_SEC instead gives a fixed pause after each response (a closed
loop with think time, as in the coordinated-omission section).
"""
import os

from locust import FastHttpUser, constant, constant_throughput, task

PATH = os.environ.get("LOCUST_PATH", "/")
RATE_PER_USER = float(os.environ.get("LOCUST_RATE_PER_USER", "0"))
WAIT_SEC = float(os.environ.get("LOCUST_WAIT_SEC", "0"))


class FastGetUser(FastHttpUser):
    wait_time = constant_throughput(RATE_PER_USER) if RATE_PER_USER > 0 else constant(WAIT_SEC)

    @task
    def get(self):
        self.client.get(PATH, name=PATH)
