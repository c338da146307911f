"""Forecasts: the statistical baseline, the track record of each source, the consensus."""
