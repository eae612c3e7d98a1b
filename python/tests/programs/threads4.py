import threading


def work(tid, rounds):  # @work
    acc = 0
    for i in range(rounds):
        acc += step(i)
    results[tid] = acc
    return acc


def step(i):  # @step
    return i % 7


results = {}
threads = [threading.Thread(target=work, args=(t, 3000)) for t in range(4)]
for th in threads:
    th.start()
for th in threads:
    th.join()
print(sorted(results.items()))
