"""A typical locustfile: log in once per user, then list, search, create, read, update and
delete projects of tide's built-in API (tide target)."""
import random
import uuid

from locust import HttpUser, between, task


class ProjectUser(HttpUser):
    host = "http://127.0.0.1:5000"
    wait_time = between(0.1, 0.3)

    def on_start(self):
        r = self.client.post("/api/auth/login", json={"username": "demo", "password": "demo"})
        self.headers = {"Authorization": "Bearer " + r.json()["token"], "X-Tenant-ID": "acme"}

    @task(3)
    def list_projects(self):
        page = random.randint(1, 3)
        self.client.get("/api/projects", params={"page": page, "per_page": 20},
                        headers=self.headers, name="/api/projects")

    @task
    def search(self):
        r = self.client.get("/api/search?q=demo", headers=self.headers)
        assert r.status_code == 200, "search answered"

    @task(2)
    def create_read_update_delete(self):
        r = self.client.post("/api/projects", headers=self.headers,
                             json={"name": "p-" + uuid.uuid4().hex, "description": "load"})
        if r.status_code == 201:
            url = r.headers["Location"]
            self.client.get(url, headers=self.headers, name="/api/projects/[id]")
            self.client.patch(url, headers=self.headers, json={"description": "patched"},
                              name="/api/projects/[id]")
            self.client.delete(url, headers=self.headers, name="/api/projects/[id]")
        else:
            print(f"create failed: {r.status_code}")

    @task
    def health(self):
        with self.client.get("/health", catch_response=True) as resp:
            if resp.elapsed.total_seconds() > 2:
                resp.failure("too slow")

    def on_stop(self):
        self.client.post("/api/auth/logout", headers=self.headers)
