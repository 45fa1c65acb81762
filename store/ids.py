"""Opaque public identifiers (``batch_<hex>``, ``run_<hex>`` …).

128 random bits: unguessable, collision-free in practice, and carrying no
meaning a client could start to depend on.
"""
import secrets


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(16)}"
