"""Object simulation: a frame whose variables hold 40 small objects, visible at every step.

The shape that costs most per step in small programs: ``particles`` is a list of a few dozen
instances, each with a few scalar attributes and small nested objects (a ``Vec`` position and
velocity, a ``tags`` list, a ``meta`` dict), and it stays visible in ``main`` and ``step``
while every line runs. Each of the S x 20 ticks moves every particle (attribute writes on
nested objects), so values change between steps as they do in a real simulation.
"""

import sys


class Vec:
    def __init__(self, x, y):
        self.x = x
        self.y = y


class Particle:
    def __init__(self, i):
        self.id = i
        self.name = f"p{i}"
        self.pos = Vec(float(i), float(i % 7))
        self.vel = Vec(1.0 + i % 3, -0.5 * (i % 2))
        self.mass = 1.0 + i % 5
        self.tags = ["active", "small" if i % 2 else "large"]
        self.meta = {"born": i, "kind": i % 4}


def step(particles, dt):
    energy = 0.0
    for p in particles:
        p.pos.x += p.vel.x * dt
        p.pos.y += p.vel.y * dt
        if p.pos.y < 0:
            p.vel.y = -p.vel.y
        energy += 0.5 * p.mass * (p.vel.x * p.vel.x + p.vel.y * p.vel.y)
    return energy


def main(scale):
    particles = [Particle(i) for i in range(40)]
    total = 0.0
    for tick in range(scale * 20):
        total += step(particles, 0.01)
        if tick % 10 == 0:
            particles[tick % 40].meta["kind"] = tick
    return total


if __name__ == "__main__":
    main(int(sys.argv[1]))
