"""`simkit reproduce`: a paper's headline experiment as one command.

`recipe.py` (what a recipe is; plugins ship theirs in `recipes.py`), `plan.py` (recipe +
flags -> grid points; the instrument pinning check), `run.py` (run the points, resumable,
parallel, or from a record), `compare.py` (simkit's numbers beside the published ones:
table, CSV, PNG), `record.py` (recorded runs and their replay), `cli.py` (the command).
"""
