"""xdist's work stealing, with the modules that start a server per module kept whole.

The tests under tests/serve/ share one `llmwb serve` (or `web`), one simulator and one data
dir per module (tests/serve/conftest.py): ~1 s of CPU to start each. Work stealing hands
out tests one by one, so a module split between workers started its server in each of
them: 15 servers' homes for the 5 modules in one run of `-n 4 -m "not tui"`. Here, the
first hand-out and every steal stop at a module's edge instead of inside such a module;
every other test is handed out as xdist does. A steal takes the tail of a worker's queue,
so these modules are dealt first: a module kept whole is never what is left to share out at
the end.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdist.scheduler.worksteal import MIN_PENDING, WorkStealingScheduling

WHOLE_MODULE_DIRS = ("tests/serve/",)


class WholeModuleWorkStealing(WorkStealingScheduling):
    def _same_server(self, first: int, second: int) -> bool:
        """Whether two tests (collection indices) are in one of the modules kept whole."""
        assert self.collection is not None
        module = self.collection[first].split("::", 1)[0]
        return module.startswith(WHOLE_MODULE_DIRS) and self.collection[second].split("::", 1)[0] == module

    _dealt = False

    def _send_tests(self, node, num: int) -> None:  # type: ignore[no-untyped-def]
        if not self._dealt:  # the first hand-out, to every worker at once
            self._dealt = True
            self.pending[:] = self._one_module_at_each_head(len(self.node2pending))
        while 0 < num < len(self.pending) and self._same_server(self.pending[num - 1], self.pending[num]):
            num += 1  # the rest of the module goes with it
        super()._send_tests(node, num)

    def _one_module_at_each_head(self, workers: int) -> list[int]:
        """The pending tests reordered so that each worker's first share starts with its
        own modules kept whole, dealt out in turn (one worker running every server's
        tests would be the run's longest path); the rest keeps its order."""
        assert self.collection is not None
        modules: dict[str, list[int]] = {}
        rest: list[int] = []
        for index in self.pending:
            module = self.collection[index].split("::", 1)[0]
            (modules.setdefault(module, []) if module.startswith(WHOLE_MODULE_DIRS) else rest).append(index)
        heads: list[list[int]] = [[] for _ in range(workers)]
        for turn, tests in enumerate(modules.values()):
            heads[turn % workers].extend(tests)
        dealt: list[int] = []
        left = len(self.pending)
        for worker, head in enumerate(heads):
            share = left // (workers - worker)  # as check_schedule will ask for it
            take = max(0, share - len(head))
            dealt += head + rest[:take]
            del rest[:take]
            left -= len(head) + take
        return dealt + rest

    def add_node(self, node) -> None:  # type: ignore[no-untyped-def]
        super().add_node(node)
        send_steal = node.send_steal

        def send_whole_module_steal(indices: Sequence[int]) -> None:
            send_steal(self._steal_at_an_edge(self.node2pending[node], list(indices)))

        node.send_steal = send_whole_module_steal

    def _steal_at_an_edge(self, queue: list[int], asked: list[int]) -> list[int]:
        """The tail of `queue` to steal: `asked` (its last half), moved to the next module
        edge after it, or else the one before it; as asked if the queue is one module."""
        start = len(queue) - len(asked)
        if start <= 0 or queue[start:] != asked:
            return asked
        later = start
        while later < len(queue) and self._same_server(queue[later - 1], queue[later]):
            later += 1
        if later < len(queue):
            return queue[later:]
        earlier = start
        while earlier > MIN_PENDING and self._same_server(queue[earlier - 1], queue[earlier]):
            earlier -= 1
        return queue[earlier:] if not self._same_server(queue[earlier - 1], queue[earlier]) else asked
