import sys

from payerpolicy.cli.main import main

sys.exit(main())
