"""throughput.sh: Locust FastHttpUser doing a plain GET loop with no wait (path from BENCH_PATH)."""
import os

from locust import FastHttpUser, constant, task

PATH = os.environ.get("BENCH_PATH", "/")


class Get(FastHttpUser):
    wait_time = constant(0)

    @task
    def get(self):
        self.client.get(PATH)
