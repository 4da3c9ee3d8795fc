import sys

from hipdrive.cli import main

sys.exit(main())
