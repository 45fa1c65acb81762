"""``c2xc``: the service from a terminal, through its public HTTP API only.

It imports nothing from the service's own packages (``api``, ``worker``,
``store``, ``core``): what it knows about the service is what any client
could know, so it works against a remote service and breaks only when the
documented API does.
"""
