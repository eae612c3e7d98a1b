"""Classes: instances, methods, inheritance, properties and __slots__."""

from dataclasses import dataclass


class Account:
    def __init__(self, owner: str, balance: float = 0.0) -> None:
        self.owner = owner
        self.balance = balance
        self.history: list[float] = []

    def deposit(self, amount: float) -> float:
        self.balance += amount
        self.history.append(amount)
        return self.balance

    @property
    def overdrawn(self) -> bool:
        return self.balance < 0


class SavingsAccount(Account):
    rate = 0.02

    def add_interest(self) -> float:
        interest = round(self.balance * self.rate, 2)
        return self.deposit(interest)


class Point:
    __slots__ = ("x", "y")

    def __init__(self, x: int, y: int) -> None:
        self.x = x
        self.y = y


@dataclass
class Order:
    item: str
    quantity: int


def main() -> None:
    acc = SavingsAccount("ada", 100.0)
    acc.deposit(50.0)
    total = acc.add_interest()
    origin = Point(0, 0)
    order = Order("book", 2)
    print(acc.owner, total, acc.overdrawn, origin.x, order)


if __name__ == "__main__":
    main()
