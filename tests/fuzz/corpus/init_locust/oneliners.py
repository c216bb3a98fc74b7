class A(TaskSet):
    @task(2)
    def t(self): self.client.get(f"/x/{self.id}", name="x")
if x: y
