import threading
from concurrent.futures import ThreadPoolExecutor

# 64 recorded thread lifetimes in which finished threads' ids come back, with no event of the
# main thread in between: 32 threads started and joined one after the other by code the
# filters skip (a `<spawner>` string), then 32 tasks on 4 pool workers (each task's `body` is
# a lifetime of its own: its worker's recorded stack empties in between).
SPAWNER = """
for n in range(32):
    th = threading.Thread(target=body, args=(n,))
    th.start()
    th.join()
"""


def work(n):  # @work
    return step(n) + 1


def step(n):  # @step
    return n * 2


results = []
idents = []


def body(n):
    idents.append(threading.get_ident())
    results.append(work(n))


exec(compile(SPAWNER, "<spawner>", "exec"), {"threading": threading, "body": body})
with ThreadPoolExecutor(max_workers=4) as pool:
    list(pool.map(body, range(32, 64)))
print(sum(results), len(idents), len(set(idents)) < len(idents))
