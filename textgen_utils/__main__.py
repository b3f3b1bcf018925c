import sys

from textgen_utils.cli import main

sys.exit(main())
