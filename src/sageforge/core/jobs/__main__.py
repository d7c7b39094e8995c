"""`python -m sageforge.core.jobs <job folder>`: the process every job runs in."""

import sys

from sageforge.core.jobs.runner import main

sys.exit(main(sys.argv[1:]))
