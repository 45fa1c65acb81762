import pytest

from store.status import rollup_batch_status


@pytest.mark.parametrize("counts, expected", [
    ({"queued": 3}, "queued"),
    ({"queued": 2, "canceled": 1}, "queued"),
    ({"queued": 2, "running": 1}, "running"),
    ({"queued": 1, "completed": 2}, "running"),
    ({"queued": 1, "failed": 1}, "running"),
    ({"running": 1, "canceled": 2}, "running"),
    ({"completed": 3}, "completed"),
    ({"completed": 2, "failed": 1}, "failed"),
    ({"completed": 1, "failed": 1, "canceled": 1}, "failed"),
    ({"completed": 2, "canceled": 1}, "canceled"),
    ({"canceled": 3}, "canceled"),
    ({"failed": 3}, "failed"),
])
def test_batch_status_rolls_up_from_its_runs(counts, expected):
    assert rollup_batch_status(counts) == expected
