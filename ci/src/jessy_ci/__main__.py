"""The ``jessy-ci`` command (and ``python -m jessy_ci``): the command line with the collector paused while it loads
(``jessy_ci.collector``)."""

import sys


def main() -> int:
    from jessy_ci import collector

    collector.pause()
    try:
        from jessy_ci.cli import main as command_line

        return command_line()
    finally:
        collector.resume()
        collector.before_exit()


if __name__ == "__main__":
    sys.exit(main())
