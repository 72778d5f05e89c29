"""Reading a source's files in reader processes while the scanning process records them.

Reading, parsing and hashing a file is Python work (about 0.35 ms a file), and so is
recording it (about 0.3 ms): in one process they take turns under one interpreter
lock. A scan of many files therefore starts readers (`python -m store.read_child ROOT
MODE`, one per core, at the scanning process's priority): each
gets batches of files (pickled `Seen` lists) on stdin and answers each with the batch
read (pickled `Indexed` lists) on stdout, in order. The scanning process takes the
answers in the files' order and records them while the readers read ahead; pipes
bound how far ahead (a batch of files to copy holds their bytes).

A scan the app starts (store/scan_child.py) sets `IN_BACKGROUND`: its readers then run
only on a core nothing else wants (Linux's SCHED_IDLE; elsewhere at the lowest nice),
so an open gallery keeps its speed while they read; the recording process stays at its
own priority (it holds the database's write lock while it records, which the app may
be waiting for).

Own processes rather than multiprocessing: a spawned multiprocessing child imports the
program's main script again, which a user's unguarded script would not survive.
"""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Iterator

MAX_READERS = 3  # readers: one per core (the recording process needs less than a reader), at most this
IN_BACKGROUND = False  # readers yield the processor to every other process (see above)


def yield_to_others() -> None:
    """This process from now on runs only when a core would otherwise be idle (or at nice 19 where the
    system has no such policy, or refuses it)."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        return
    except (AttributeError, OSError):
        pass
    try:
        os.nice(19 - os.nice(0))
    except OSError:
        pass


def main(argv: list[str]) -> int:
    from .sources import read_batch

    root, mode, *priority = argv
    if priority == ["background"]:
        yield_to_others()
    source, answer = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            part = pickle.load(source)
        except EOFError:
            return 0
        pickle.dump(read_batch(root, part, mode), answer, protocol=pickle.HIGHEST_PROTOCOL)
        answer.flush()


def read_apart(root: Path, parts: list, mode: str) -> Iterator[list]:
    """The batches in `parts` read by reader processes, in order. Should a reader fail to start or
    die, the batches from there on are read here (by `read_batch`), so nothing is left out."""
    from .sources import read_batch

    count = max(1, min(os.cpu_count() or 1, MAX_READERS, len(parts)))
    readers: list[subprocess.Popen[bytes]] = []
    answers: list[IO[bytes]] = []  # each reader's stdout
    feeders: list[threading.Thread] = []
    done = 0
    try:
        try:
            for n in range(count):
                reader = subprocess.Popen([sys.executable, "-m", "store.read_child", str(root), mode]
                                          + (["background"] if IN_BACKGROUND else []),
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                          cwd=str(Path(__file__).resolve().parent.parent))
                readers.append(reader)
                assert reader.stdin is not None and reader.stdout is not None  # both made by PIPE
                answers.append(reader.stdout)
                feeder = threading.Thread(target=_feed, args=(reader.stdin, parts[n::count]), daemon=True,
                                          name="read-child-feeder")
                feeder.start()
                feeders.append(feeder)
            for index in range(len(parts)):
                batch = pickle.load(answers[index % count])
                done = index + 1
                yield batch
        except (OSError, EOFError, pickle.UnpicklingError):
            pass  # a reader could not start, or died: the rest is read here
    finally:  # done, failed, or cancelled (the generator closed): no reader is left behind
        for reader in readers:
            if reader.poll() is None:
                reader.kill()
            reader.wait()
            for pipe in (reader.stdin, reader.stdout):
                try:
                    if pipe is not None:
                        pipe.close()
                except OSError:
                    pass
        for feeder in feeders:
            feeder.join()
    for part in parts[done:]:
        yield read_batch(str(root), part, mode)


def _feed(pipe: IO[bytes], parts: list) -> None:
    """Write a reader's parts to its stdin, one after another."""
    try:
        for part in parts:
            pickle.dump(part, pipe, protocol=pickle.HIGHEST_PROTOCOL)
            pipe.flush()  # the reader starts on it now; a full pipe waits for the reader
        pipe.close()
    except (OSError, ValueError):
        pass  # the reader is gone (cancelled or died): what it did not answer is read by the scan


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
