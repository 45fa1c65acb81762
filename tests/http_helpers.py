"""Reading an in-process app's answers in tests."""


def ok(reply, status=200):
    """The JSON of a reply that must have ``status``; the body is shown when it has not."""
    assert reply.status_code == status, reply.get_data(as_text=True)[:600]
    return reply.get_json()
