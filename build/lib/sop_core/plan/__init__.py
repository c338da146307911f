"""The plan: levers, then the reference method from demand to supply, finance and disagreements."""
