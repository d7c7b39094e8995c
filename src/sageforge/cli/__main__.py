"""`python -m sageforge.cli`."""

from sageforge.cli import main

main()
