"""``python -m lakehouse_glue <job> [options]``: a Glue job on local Spark.

The shared entry's local edge (``lakehouse_glue.entry.main``); ``--help`` lists the jobs.
"""

import sys

from lakehouse_glue.entry import main

sys.exit(main())
