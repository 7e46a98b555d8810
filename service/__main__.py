"""`python -m service`: the same as the `cloudfront-facade` command."""

import sys

from service.cli import main

sys.exit(main())
