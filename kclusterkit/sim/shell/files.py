"""A container's file system as the shell sees it: its own layer, volumes mounted over it."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping


class MountedFiles(MutableMapping[str, str]):
    """A container's files: its own layer, with volumes mounted over some directories.

    A path under a mount lives in that volume's dict (keyed relative to the mount), so a
    volume shared by containers, or a claim that outlives its pod, keeps what was written.
    """

    def __init__(self, own: dict[str, str], mounts: list[tuple[str, dict[str, str]]]) -> None:
        self.own = own
        # Longest mount path first so nested mounts win.
        self.mounts = sorted(((m.rstrip("/") or "/", d) for m, d in mounts),
                             key=lambda m: -len(m[0]))

    def _route(self, path: str) -> tuple[dict[str, str], str]:
        for mount, store in self.mounts:
            if path.startswith(mount + "/"):
                return store, path[len(mount):]
        return self.own, path

    def __getitem__(self, path: str) -> str:
        store, key = self._route(path)
        return store[key]

    def __setitem__(self, path: str, value: str) -> None:
        store, key = self._route(path)
        store[key] = value

    def __delitem__(self, path: str) -> None:
        store, key = self._route(path)
        del store[key]

    def __iter__(self) -> Iterator[str]:
        for path in list(self.own):
            if self._route(path)[0] is self.own:
                yield path
        for mount, store in self.mounts:
            for key in list(store):
                yield mount + key

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, str):
            return False
        store, key = self._route(path)
        return key in store
