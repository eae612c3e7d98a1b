import threading


def work(tid, rounds):  # @work
    ready.wait()  # all four are inside work() at once, however the threads are scheduled
    acc = 0
    for i in range(rounds):
        acc += step(i)
    results[tid] = acc
    return acc


def step(i):  # @step
    return i % 7


results = {}
ready = threading.Barrier(4)
threads = [threading.Thread(target=work, args=(t, 3000)) for t in range(4)]
for th in threads:
    th.start()
for th in threads:
    th.join()
print(sorted(results.items()))
