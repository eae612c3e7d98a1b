"""Threads: a few workers sharing a queue; each thread has its own call stack in the trace."""

import queue
import threading


def worker(name: str, jobs: "queue.Queue[int]", results: list[int], lock: threading.Lock) -> None:
    while True:
        try:
            job = jobs.get_nowait()
        except queue.Empty:
            return
        square = job * job
        with lock:
            results.append(square)


def main() -> None:
    jobs: queue.Queue[int] = queue.Queue()
    for i in range(20):
        jobs.put(i)
    results: list[int] = []
    lock = threading.Lock()
    threads = [
        threading.Thread(target=worker, args=(f"w{i}", jobs, results, lock)) for i in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(sorted(results)[:5], len(results))


if __name__ == "__main__":
    main()
