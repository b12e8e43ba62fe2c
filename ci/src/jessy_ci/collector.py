"""The garbage collector's schedule for a jessy-ci process started from the command line (not for a library user).

Loading jessy-ci allocates many objects and frees almost none, so collections while it loads are wasted work, and at
exit the interpreter scans every object that is still alive once more before it ends. A command therefore pauses the
collector while it loads, freezes what it loaded (the collector never scans it again) and resumes before its steps
run, and freezes everything again on its way out: about 70 ms of a short run (measured with
scripts/bench_overhead.py; the run's own garbage is collected as usual).
"""

from __future__ import annotations

import gc

_paused: list[bool] = []  # non-empty while pause() holds the collector


def pause() -> None:
    """No collections until resume(): called first thing by the console entry point."""
    if gc.isenabled():
        gc.disable()
        _paused.append(True)


def resume() -> None:
    """Freeze what is loaded and collect again from here on (a no-op unless pause() held the collector)."""
    if _paused:
        _paused.clear()
        gc.freeze()
        gc.enable()


def before_exit() -> None:
    """Everything still alive is frozen: the interpreter's last collection does not scan it again."""
    gc.freeze()
