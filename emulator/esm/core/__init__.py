"""What every source shares: the mapping configuration and control plane, the manager and the source registry,
invocation, responses, statistics, on-failure destinations and filter patterns."""
