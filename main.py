#!/usr/bin/env python
"""Entry point of the cdktf app (``cdktf.json`` runs it): ``make synth`` or ``cdktf synth``.

Set DIGITAL_BOOKING_STAGES=dev (or ``make synth STAGE=dev``) to synthesize one stage only.
"""

import os
import sys

# jsii prints a Node.js end-of-life banner on Node 20 at every start; under `npx cdktf` each of
# its lines shows up as an [ERROR]. Set here, before the first import starts jsii, so every way
# of running the app (make, cdktf synth/diff/deploy, python main.py) is quiet.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from environments import StageConfigError  # noqa: E402
from stacks.app import build_app, selected_stages  # noqa: E402


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
