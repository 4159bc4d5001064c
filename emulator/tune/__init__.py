"""`pipemu tune`: which mapping settings meet a latency budget at the lowest cost (``grid`` the combinations,
``sweep`` the replays, Pareto front and recommendation, ``timing`` the ``aws_timing`` latency model)."""
