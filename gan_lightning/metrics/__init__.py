"""Evaluation: feature extractors, cached real statistics, FID/KID/class consistency, toy-data coverage."""
