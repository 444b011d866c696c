"""gunicorn's gthread worker, letting go of the listening sockets as soon as it starts draining."""

from __future__ import annotations

from gunicorn.workers.gthread import ThreadWorker


class DrainingThreadWorker(ThreadWorker):  # type: ignore[misc]
    """On SIGTERM the master closes its listeners, but each worker still holds a copy while it
    drains, so the kernel keeps accepting connections nobody will answer and later resets them.
    Closing the worker's copies too makes new connections fail fast (refused) instead."""

    def set_accept_enabled(self, enabled: bool) -> None:
        super().set_accept_enabled(enabled)
        if not enabled and not self.alive:
            for listener in self.sockets:
                listener.close()
            self.sockets.clear()
