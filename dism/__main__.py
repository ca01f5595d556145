"""`python -m dism`: the dismapi command line (see dism.cli)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m dism"))
