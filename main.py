#!/usr/bin/env python
"""Entry point of the cdktf app (``cdktf.json`` runs it): ``make synth`` or ``cdktf synth``.

Set DIGITAL_BOOKING_STAGES=dev (or ``make synth STAGE=dev``) to synthesize one stage only.
"""

import sys

from environments import StageConfigError
from stacks.app import build_app, selected_stages


def main() -> int:
    try:
        app = build_app(stages=selected_stages())
    except StageConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
