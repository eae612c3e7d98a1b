"""Exceptions: raised, caught, re-raised, finally, and an uncaught one at the end.

Run with an argument to end cleanly: python exceptions.py ok
"""

import sys


class InsufficientFundsError(Exception):
    pass


def withdraw(balance: int, amount: int) -> int:
    if amount > balance:
        raise InsufficientFundsError(f"need {amount}, have {balance}")
    return balance - amount


def safe_withdraw(balance: int, amount: int) -> int:
    try:
        return withdraw(balance, amount)
    except InsufficientFundsError as exc:
        print("refused:", exc)
        return balance
    finally:
        print("audit:", balance, amount)


def main() -> None:
    balance = safe_withdraw(100, 30)
    balance = safe_withdraw(balance, 500)
    if len(sys.argv) < 2:
        withdraw(balance, 1000)  # uncaught: recorded as an Error event, exit status 1


if __name__ == "__main__":
    main()
