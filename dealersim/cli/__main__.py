"""``python -m dealersim.cli``."""

from dealersim.cli.main import main

raise SystemExit(main())
