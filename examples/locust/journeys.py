"""TaskSets, a SequentialTaskSet and the four wait_time functions, against tide's built-in API
(tide target)."""
from locust import (HttpUser, SequentialTaskSet, TaskSet, between, constant, constant_pacing,
                    constant_throughput, task)


def login(user):
    r = user.client.post("/api/auth/login", json={"username": "user1", "password": "pw-user1"})
    user.headers = {"Authorization": "Bearer " + r.json()["token"], "X-Tenant-ID": "acme"}


class Browse(TaskSet):
    wait_time = constant(0.05)

    @task(3)
    def list_projects(self):
        self.client.get("/api/projects", headers=self.user.headers)

    @task(1)
    def stop(self):
        self.interrupt()


class Checkout(SequentialTaskSet):
    def on_start(self):
        self.count = 0

    @task
    def first(self):
        r = self.client.post("/echo", json={"step": 1})
        self.count += 1

    @task
    def second(self):
        self.client.get("/echo/step/2", name="/echo/step/[n]")

    @task
    def done(self):
        for i in range(2):
            self.client.get(f"/echo/done/{i}", name="/echo/done/[i]")
        self.interrupt()


class Shopper(HttpUser):
    wait_time = between(0.05, 0.1)
    tasks = {Browse: 2, Checkout: 1}

    def on_start(self):
        login(self)


class Poller(HttpUser):
    wait_time = constant_pacing(0.5)

    @task
    def poll(self):
        self.client.get("/health", name="poll")


class Ticker(HttpUser):
    wait_time = constant_throughput(4)
    tasks = [login]

    @task
    def tick(self):
        self.client.get("/delay?ms=5", name="tick")
        if self.client.cookies:
            pass
