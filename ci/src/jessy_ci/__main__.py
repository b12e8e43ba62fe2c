import sys

from jessy_ci.cli import main

sys.exit(main())
