"""What the command line shows: the live progress of a run and the tables it prints (rich)."""
