"""A module imported from an extra sys.path folder (neither stdlib nor site-packages)."""


def shout(word):
    loud = word.upper() + "!"
    return loud
