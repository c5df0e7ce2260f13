"""Replay a run: the terminal viewer (`tui`), the HTML report (`html`), both over `data`."""
