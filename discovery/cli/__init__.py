"""The ``discovery`` command line: thin subcommands, one library call each."""
