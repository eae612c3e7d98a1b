"""``python -m codetracer_python_recorder [options] script.py [args...]``."""

from codetracer_python_recorder.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
