"""Utilities every layer may use (no dealersim imports): atomic files, statistics."""
