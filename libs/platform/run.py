"""``python -m libs.platform.run <service>``: run a declared service's process (what each
``python -m services.<name>`` does, for tools that know services only by declaration)."""

from __future__ import annotations

import argparse

from libs.platform.service import definitions


def main(argv: list[str] | None = None) -> None:
    declared = definitions()
    parser = argparse.ArgumentParser(prog="python -m libs.platform.run", description=__doc__)
    parser.add_argument("service", choices=sorted(declared))
    args = parser.parse_args(argv)
    declared[args.service].build().run()


if __name__ == "__main__":
    main()
