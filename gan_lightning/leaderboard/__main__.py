"""``python -m gan_lightning.leaderboard models=[gan,dcgan] budget.steps=3000 seeds=3 data=fashion_mnist``
(see the package, and ``tool_conf/leaderboard.yaml`` for the keys)."""

from __future__ import annotations

import logging
import sys

from gan_lightning.errors import exit_on_user_error
from gan_lightning.leaderboard import run_leaderboard


def main(argv: list[str] | None = None) -> int:
    """Run the command on ``argv`` (default: the command line); its exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if any(a in ("-h", "--help") for a in argv):
        import gan_lightning.leaderboard as package

        print(package.__doc__)
        return 0
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s][%(name)s][%(levelname)s] - %(message)s")
    logging.getLogger("tensorboard").setLevel(logging.WARNING)  # its reader's notes on every event file
    return exit_on_user_error(run_leaderboard, argv)


if __name__ == "__main__":
    sys.exit(main())
