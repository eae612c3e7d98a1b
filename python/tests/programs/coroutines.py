import asyncio


async def producer(n):  # @producer
    await asyncio.sleep(0)
    return n * 2


async def consumer():  # @consumer
    a = await producer(1)
    b = await producer(2)
    return a + b


async def main():  # @main
    x, y = await asyncio.gather(consumer(), producer(10))
    return x + y


print("result", asyncio.run(main()))
