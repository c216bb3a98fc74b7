"""memory.sh: Locust users that sleep between requests (MODE=keepalive: one GET then THINK
seconds; MODE=idle: no request at all, so no connection)."""
import os

from locust import FastHttpUser, constant, task

MODE = os.environ.get("MODE", "keepalive")
THINK = float(os.environ.get("THINK", "5"))


class Sleeper(FastHttpUser):
    wait_time = constant(THINK if MODE == "keepalive" else 3600)

    @task
    def one(self):
        if MODE == "keepalive":
            self.client.get("/")
