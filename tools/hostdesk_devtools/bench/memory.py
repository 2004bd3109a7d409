"""Peak resident memory of each service: every process sampled every half second for the whole run."""

from __future__ import annotations

import threading

import psutil

INTERVAL_SECONDS = 0.5


class PeakMemory:
    """A thread that keeps, per name, the highest resident set size seen (a process and its children)."""

    def __init__(self, *, interval: float = INTERVAL_SECONDS) -> None:
        self._interval = interval
        self._watched: dict[str, psutil.Process] = {}
        self._peaks: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peak-memory", daemon=True)

    def watch(self, name: str, pid: int) -> None:
        with self._lock:
            self._watched[name] = psutil.Process(pid)
        self.sample()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(5)
        self.sample()

    def peaks_mb(self) -> dict[str, float]:
        with self._lock:
            return {name: rss / 2**20 for name, rss in self._peaks.items()}

    def sample(self) -> None:
        with self._lock:
            watched = list(self._watched.items())
        for name, process in watched:
            try:
                rss = process.memory_info().rss + sum(child.memory_info().rss for child in process.children(True))
            except psutil.Error:  # gone, or going: its peak so far stands
                continue
            with self._lock:
                self._peaks[name] = max(rss, self._peaks.get(name, 0))

    def _run(self) -> None:
        while not self._stopping.wait(self._interval):
            self.sample()
