# Locust scenarios of the bench: the old harness's 200/200 user and a bare HTTP user.
