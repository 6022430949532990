# The old Locust harness reproduced: Fixed200200User posts the 200/200 chat workload; RampShape ramps users.
"""The workload the team ran before Metronome, kept so `make bench` can stand the two side by side.

Payload: the prompt from configs/prompts/prompt_200.txt, max_tokens 200, temperature 0, stream true
and ignore_eos (every answer is exactly 200 tokens, as Metronome's `--ignore-eos` asks). The response
is read to its last byte before Locust stops the clock, so Locust's "response time" is the whole
completion measured from the moment the request left — a closed-loop service time.

Ramp shape (only when the locustfile is loaded with USE_RAMP_SHAPE=1): users go from LOCUST_MIN_USERS
to LOCUST_MAX_USERS over LOCUST_RAMP_SEC seconds, spawned at LOCUST_SPAWN_RATE users/s, then hold
LOCUST_MAX_USERS until --run-time ends. Locust ignores --run-time once a shape is loaded unless the
shape reads it, so this one does and ends the run then.
"""
import json
import os
from pathlib import Path

from locust import HttpUser, LoadTestShape, constant, task

REPO_ROOT = Path(__file__).resolve().parents[3]
PROMPT_FILE = Path(os.environ.get("PROMPT_FILE", REPO_ROOT / "configs" / "prompts" / "prompt_200.txt"))
MODEL = os.environ.get("LOCUST_MODEL", "llmsim")
MAX_TOKENS = int(os.environ.get("LOCUST_MAX_TOKENS", "200"))
# The old harness gave no think time: each user sends its next request as soon as one completes.
WAIT_SEC = float(os.environ.get("LOCUST_WAIT_SEC", "0"))


def build_payload(prompt: str) -> dict:
    """The 200/200 request body, identical in meaning to what `metronome run --ignore-eos` sends."""
    return {
        "model": MODEL,
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": MAX_TOKENS,
        "min_tokens": MAX_TOKENS,
        "temperature": 0,
        "stream": True,
        "ignore_eos": True,
    }


PAYLOAD_BYTES = json.dumps(build_payload(PROMPT_FILE.read_text(encoding="utf-8").strip())).encode()


class Fixed200200User(HttpUser):
    wait_time = constant(WAIT_SEC)

    @task
    def chat_completion_200_200(self):
        with self.client.post(
            "/v1/chat/completions",
            data=PAYLOAD_BYTES,
            headers={"Content-Type": "application/json"},
            name="/v1/chat/completions",
            catch_response=True,
        ) as response:
            # requests reads the whole streamed body here, so the time covers the last token.
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            elif b"data: [DONE]" not in response.content:
                response.failure("stream ended without [DONE]")
            else:
                response.success()


class RampShape(LoadTestShape):
    """LOCUST_MIN_USERS -> LOCUST_MAX_USERS over LOCUST_RAMP_SEC, then hold (until --run-time)."""

    ramp_sec = float(os.environ.get("LOCUST_RAMP_SEC", "60"))
    min_users = int(os.environ.get("LOCUST_MIN_USERS", "2"))
    max_users = int(os.environ.get("LOCUST_MAX_USERS", "20"))
    spawn_rate = float(os.environ.get("LOCUST_SPAWN_RATE", "2"))

    def tick(self):
        elapsed = self.get_run_time()
        # Without this the run never ends: Locust leaves stopping to the shape once one is loaded.
        options = self.runner.environment.parsed_options if self.runner else None
        run_time_sec = getattr(options, "run_time", None)
        if run_time_sec and elapsed >= run_time_sec:
            return None
        if elapsed >= self.ramp_sec:
            return self.max_users, self.spawn_rate
        users = self.min_users + (self.max_users - self.min_users) * elapsed / self.ramp_sec
        return max(self.min_users, round(users)), self.spawn_rate
