from __future__ import annotations

import pytest

from billfold.domain.errors import Conflict
from billfold.domain.jobs import JobStatus, can_move, check_move


def test_the_documented_state_machine() -> None:
    assert can_move(JobStatus.QUEUED, JobStatus.RUNNING)
    assert can_move(JobStatus.RUNNING, JobStatus.WAITING_FOR_ANSWER)
    assert can_move(JobStatus.WAITING_FOR_ANSWER, JobStatus.RUNNING)
    assert can_move(JobStatus.WAITING_FOR_ANSWER, JobStatus.EXPIRED)
    for terminal in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.EXPIRED, JobStatus.CANCELLED):
        assert terminal.is_terminal
        assert not any(can_move(terminal, other) for other in JobStatus)


def test_illegal_moves_raise_conflict() -> None:
    with pytest.raises(Conflict):
        check_move(JobStatus.QUEUED, JobStatus.SUCCEEDED)
