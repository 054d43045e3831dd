"""The series core: points, steps, rollups, frames, the stores and the series API."""
