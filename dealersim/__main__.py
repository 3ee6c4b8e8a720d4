"""``python -m dealersim``: the command line."""

from dealersim.cli import main

raise SystemExit(main())
