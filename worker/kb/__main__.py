"""``python -m worker.kb`` is ``c2xc-kb``."""
import sys

from worker.kb.cli import main

sys.exit(main())
