"""``python -m unified_ats.cli``: the same as the ``unified-ats`` console script."""

from unified_ats.cli import main

main()
