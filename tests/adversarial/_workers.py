"""Worker-process faults for the crash and hang tests (imported by the worker processes too).

Each wraps the real job function and misbehaves only for one marked
argument, so the same worker pool also runs ordinary jobs around it.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from stele.actors.coprocessor._session import guest_step
from stele.tel._job import tel_job

CRASH = 666
HANG = 777
#: guest inputs that make the guest job misbehave
CRASH_INPUT = b"crash!"
HANG_INPUT = b"hang!"


def tel_job_with_faults(*job: Any) -> Any:
    """``tel_job``, except that it dies (``os._exit``) or hangs for the marked first argument."""
    args = job[3]
    if args and args[0] == CRASH:
        os._exit(3)  # like a segfault: no exception, no reply
    if args and args[0] == HANG:
        threading.Event().wait()  # never reaches a fuel check
    return tel_job(*job)


def guest_step_with_faults(*step: Any) -> Any:
    """``guest_step``, except that it dies or hangs for the marked inputs."""
    if step[1] == CRASH_INPUT:
        os._exit(3)
    if step[1] == HANG_INPUT:
        threading.Event().wait()
    return guest_step(*step)
