"""flow.sh: Locust FastHttpUser, the same 2-step flow as bench/scenarios/flow.lua."""
from locust import FastHttpUser, constant, task


class Flow(FastHttpUser):
    wait_time = constant(0)

    @task
    def flow(self):
        login = self.client.post("/api/login", json={"user": "alice", "password": "secret"})
        token = login.json()["token"]
        with self.client.get("/api/items/1", headers={"Authorization": "Bearer " + token},
                             catch_response=True) as item:
            if item.status_code != 200 or '"id":1' not in item.text:
                item.failure("check failed")
