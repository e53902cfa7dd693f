"""Exit codes of the ``workstation`` command (documented in the README)."""

OK = 0
#: The command ran, but some items failed (e.g. files rejected on import).
PARTIAL = 1
#: Bad command line (argparse's own code).
USAGE = 2
#: ``archive check`` found damage.
DAMAGED = 3
#: A named study, file or node does not exist.
NOT_FOUND = 4
#: A remote peer refused or could not be reached.
PEER_ERROR = 5
#: A settings file or value is invalid.
CONFIG = 6
#: Not permitted for this user or role.
FORBIDDEN = 7
#: The desktop app cannot open a window here (no display); ``start --headless`` can run.
NO_DISPLAY = 8
#: Interrupted by the user.
CANCELLED = 130
