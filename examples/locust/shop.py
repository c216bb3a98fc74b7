"""Several user classes with weights, catch_response and event listeners, against tide's
built-in API (tide target)."""
import json
import logging

from locust import FastHttpUser, HttpUser, between, constant, events, task


@events.test_start.add_listener
def on_test_start(environment, **kwargs):
    print("load test starting")


@events.test_stop.add_listener
def on_test_stop(environment, **kwargs):
    print("load test done")


@events.request.add_listener
def on_request(request_type, name, response_time, **kwargs):
    logging.debug("%s %s took %s ms", request_type, name, response_time)


class Browser(HttpUser):
    weight = 3
    wait_time = between(0.05, 0.2)

    def on_start(self):
        r = self.client.post("/api/auth/login", json={"username": "alice", "password": "alice-pw"})
        self.token = r.json()["token"]
        self.headers = {"Authorization": f"Bearer {self.token}", "X-Tenant-ID": "acme"}

    @task(5)
    def browse(self):
        with self.client.get("/api/projects?page=1&per_page=10", headers=self.headers,
                             name="/api/projects", catch_response=True) as r:
            if "items" not in r.json():
                r.failure("no items in the answer")

    @task(1)
    def search(self):
        with self.client.get("/api/search", params={"q": "demo", "limit": 5},
                             headers=self.headers, catch_response=True) as r:
            if r.status_code == 200:
                r.success()
            else:
                r.failure("search failed")

    @task(1)
    def missing(self):
        with self.client.get("/status/404", catch_response=True) as r:
            if r.status_code == 404:
                r.success()


class Writer(FastHttpUser):
    weight = 1
    wait_time = constant(0.1)

    def on_start(self):
        r = self.client.post("/api/auth/login", json={"username": "bob", "password": "bob-pw"})
        self.headers = {"Authorization": "Bearer " + r.json()["token"], "X-Tenant-ID": "acme"}

    @task
    def echo(self):
        payload = {"order": 42, "items": ["a", "b"]}
        r = self.client.post("/echo", data=json.dumps(payload),
                             headers={"Content-Type": "application/json"})
        assert r.json()["body_length"] > 0
        try:
            r.raise_for_status()
        except Exception as e:
            logging.warning("echo failed: %s", e)


class Monitor(HttpUser):
    fixed_count = 1
    wait_time = between(0.2, 0.4)

    @task
    def health(self):
        self.client.get("/health")
