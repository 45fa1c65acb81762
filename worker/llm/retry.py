"""Which endpoint failures are worth retrying, and how long to wait.

Exponential back-off with full jitter (so workers never retry in lock-step),
honouring a server's ``Retry-After`` when it sends one, capped.
"""
from __future__ import annotations

import random

import openai

RETRYABLE = (openai.RateLimitError, openai.APITimeoutError, openai.APIConnectionError,
             openai.InternalServerError)
BASE_DELAY_S, MAX_DELAY_S = 1.0, 30.0


def backoff_delay(attempt: int, error: Exception, rng=random.random,
                  base_s: float = BASE_DELAY_S) -> float:
    response = getattr(error, "response", None)
    retry_after = response.headers.get("retry-after") if response is not None else None
    if retry_after:
        try:
            return min(max(float(retry_after), 0.0), MAX_DELAY_S)
        except ValueError:
            pass
    return min(base_s * (2 ** attempt), MAX_DELAY_S) * rng()


def describe(error: Exception) -> str:
    status = getattr(error, "status_code", None)
    return f"{type(error).__name__}{f' (HTTP {status})' if status else ''}: {error}"
