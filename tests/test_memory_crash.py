"""A SIGKILL inside a learn job's commit, or just after it (SPEC 12; issue 30 item 10).

The bank is exactly before (nothing of the job is visible; reconcile puts it
back in the queue and it is learned once) or exactly after (the job is
completed with its delta; nothing is learned twice). A real child process is
killed; its learner embeds through the fake OpenAI-compatible server.
"""
import signal
import subprocess
import sys
import time

import pytest

from store import learn_jobs
from tests.agent_fixtures import SECRET
from tests.memory_helpers import CU_MO, learner, normal_run_with_feedback, work_learn_jobs
from tests.processes import REPO, wait_until


def _bank(conn) -> tuple[int, int, int]:
    return tuple(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                 for t in ("memory_items", "memory_vectors", "memory_deltas"))


def _kill_child_at(where, database_target, fake_llm, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    marker = tmp_path / "stopped"
    child = subprocess.Popen([sys.executable, "-m", "tests.learn_child", str(database_target),
                              fake_llm.base_url, str(marker), where], cwd=REPO)
    try:
        wait_until(lambda: marker.exists() or child.poll() is not None, 60, message="the child to stop")
        assert child.poll() is None, "the child ended before its stopping point"
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()


@pytest.mark.parametrize("where", ["inside", "after"])
def test_sigkill_inside_or_after_the_commit_leaves_the_bank_before_or_after_and_learns_once(
        where, conn, database_target, fake_llm, tmp_path, monkeypatch):
    run_id = normal_run_with_feedback(conn, CU_MO, 9, {"C2H4": 1})
    _kill_child_at(where, database_target, fake_llm, tmp_path, monkeypatch)

    [job] = learn_jobs.jobs_of_run(conn, run_id)
    if where == "inside":
        assert _bank(conn) == (0, 0, 0) and job.status == "running"  # exactly before
        moved = learn_jobs.requeue_orphaned(conn, reconciler_id="w-test", is_gone=lambda _: True,
                                            now=time.time())
        assert moved == [job.job_id]
        [outcome] = work_learn_jobs(conn, learner(fake_llm))
        assert outcome.status == "completed"
    else:
        assert job.status == "completed" and job.delta_id  # exactly after
        assert learn_jobs.requeue_orphaned(conn, reconciler_id="w-test", is_gone=lambda _: True,
                                           now=time.time()) == []
        assert work_learn_jobs(conn, learner(fake_llm)) == []
    assert _bank(conn) == (1, 1, 1)  # one lab result, its vector, one delta: learned once
