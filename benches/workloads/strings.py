"""String and dict processing with big containers in the frame (value encoding limits)."""

import sys

TEXT = " ".join(f"word{i % 97} tag{i % 13}" for i in range(2_000))


def word_counts(text):
    counts = {}
    for word in text.split():
        counts[word] = counts.get(word, 0) + 1
    return counts


def render(counts):
    lines = [f"{k}={v}" for k, v in sorted(counts.items())]
    return ";".join(lines).upper()


def main(scale):
    out = []
    for _ in range(scale):
        counts = word_counts(TEXT)
        out.append(len(render(counts)))
    return sum(out)


if __name__ == "__main__":
    main(int(sys.argv[1]))
