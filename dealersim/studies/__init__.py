"""Many runs on one engine: compare, blame, catalogue, validation, sweeps, analysis."""
