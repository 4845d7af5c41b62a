"""``python -m clinicflow`` = the ``clinicflow`` command."""

from .cli.app import main

main()
