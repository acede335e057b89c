"""`python -m llif`: the command line.

Guarded because ingest reads big tables in spawned worker processes, which import the parent's
main module: without the guard each worker would run the command again.
"""

import sys

from llif.cli import main

if __name__ == "__main__":
    sys.exit(main())
