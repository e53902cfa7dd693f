import sys

from klinika_auth.cli import main

sys.exit(main())
