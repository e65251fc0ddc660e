import sys

from messenger_server.bench.cli import main

sys.exit(main())
