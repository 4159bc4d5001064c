"""Security of a deployed pipeline: encryption at rest, execution roles and their policies, and the IAM model
that authorises (``iam: enforce``) or audits (``iam: report``) each function's calls on the embedded backend."""
