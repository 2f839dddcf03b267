"""`python -m backprop_cli` runs the command line."""

from backprop_cli.kernels.stopping import exit_on_signals

exit_on_signals()  # first: a Ctrl-C during the imports below ends quietly too
from backprop_cli.cli import main  # noqa: E402

main()
