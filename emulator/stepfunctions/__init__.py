"""Step Functions on pipemu: definitions with pipeline references, mocked integrations (Step Functions Local's
format), a scenario source that starts executions, and expectations on what the executions did."""
