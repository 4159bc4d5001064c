"""pipemu's benchmark suite: ``python -m bench`` prints every figure next to its target and the baseline
measured in the same run, and writes ``bench-results.json``. Not part of the test suite: nothing here asserts a
timing; the table says which targets hold on this machine.
"""
